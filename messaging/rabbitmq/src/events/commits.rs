//! Consumer groups' committed offsets, in the broker: the last commit
//! message in the stream `weft.commits.<group>.<topic>.<partition>`.
//!
//! Why a stream: it keeps its newest message through any retention
//! (retention removes whole segments, never the one being written), is
//! durable and replicated like the topic, and is read without taking
//! anything from it, so a reader never races another reader or a
//! committer. A queue holding "the last commit" must be consumed to be
//! read, and a commit racing a read could leave an older commit at its
//! head.
//!
//! Reading the last commit: a consumer attached at `first` reads every
//! retained commit, up to a marker appended after it attached; the last
//! commit before the marker is the answer. Commit streams have 16 KiB
//! segments and a 64 KiB limit, so that is a few hundred small messages at
//! most.

use super::amqp::{self, Unconfirmed, append_marker, durable, is_not_found};
use super::backend::instance;
use super::record::{self, Kind};
use crate::Connection;
use lapin::Channel;
use lapin::options::QueueDeclareOptions;
use lapin::types::{AMQPValue, FieldTable};
use std::io;
use weft_messaging::StoreError;
use weft_messaging::events::Offset;

/// The stream holding `group`'s commits on `topic`'s `partition`.
pub(crate) fn commit_stream(group: &str, topic: &str, partition: u32) -> String {
    format!("weft.commits.{group}.{topic}.{partition}")
}

/// The arguments of a commit stream: small segments, so that what it
/// retains (and a reader reads through) stays a few hundred commits.
fn commit_arguments() -> FieldTable {
    let mut arguments = FieldTable::default();
    arguments.insert("x-queue-type".into(), AMQPValue::LongString("stream".into()));
    arguments.insert("x-max-length-bytes".into(), AMQPValue::LongLongInt(64 * 1024));
    arguments.insert(
        "x-stream-max-segment-size-bytes".into(),
        AMQPValue::LongLongInt(16 * 1024),
    );
    arguments
}

/// Stores `offset` as the last commit in `stream`.
pub(crate) async fn commit(
    conn: Connection,
    publisher: Channel,
    stream: String,
    offset: Offset,
) -> Result<(), StoreError<Offset>> {
    let not_stored = |error| StoreError::NotStored { value: offset, error };
    let name = record::short(&stream, "commit stream name").map_err(not_stored)?;
    let channel = conn
        .channel()
        .await
        .map_err(|e| not_stored(io::Error::other(e)))?;
    channel
        .queue_declare(name.clone(), durable(), commit_arguments())
        .await
        .map_err(|e| not_stored(amqp::io_error(e)))?;
    let _ = channel.close(200, "declared".into()).await;
    let properties = record::commit_properties(offset);
    match amqp::publish(publisher, name, Vec::new(), properties).await {
        Ok(()) => Ok(()),
        Err(Unconfirmed::NotStored(error)) => Err(not_stored(error)),
        Err(Unconfirmed::Unknown(error)) => Err(StoreError::Unknown { error }),
    }
}

/// The last commit in `stream`, if it has one; see the [module docs](self).
pub(crate) async fn committed(
    conn: Connection,
    publisher: Channel,
    stream: String,
) -> io::Result<Option<Offset>> {
    let name = record::short(&stream, "commit stream name")?;
    let channel = conn.channel().await.map_err(io::Error::other)?;
    let passive = QueueDeclareOptions {
        passive: true,
        ..QueueDeclareOptions::default()
    };
    match channel
        .queue_declare(name.clone(), passive, FieldTable::default())
        .await
    {
        Ok(_) => {}
        // Never committed.
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(amqp::io_error(e)),
    }
    let _ = channel.close(200, "found".into()).await;
    let first = AMQPValue::LongString("first".into());
    let (channel, mut consumer) = amqp::attach(conn, name.clone(), 256, first)
        .await
        .map_err(amqp::io_error)?;
    let instance = instance();
    append_marker(&publisher, &name, record::marker_properties(&instance)).await?;
    let mut last = None;
    loop {
        let delivery = amqp::next_delivery(&channel, &mut consumer)
            .await
            .ok_or_else(|| io::Error::other("the broker cancelled the commit reader"))?
            .map_err(amqp::io_error)?;
        match record::kind(&delivery.properties) {
            Kind::Commit(offset) => last = Some(offset),
            Kind::Marker { tag } if tag == instance => break,
            Kind::Marker { .. } | Kind::Event { .. } => {}
        }
    }
    let _ = channel.close(200, "read the commit".into()).await;
    Ok(last)
}
