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
use crate::channels::{MAX_ROUNDS, Publisher, open};
use lapin::Channel;
use lapin::options::QueueDeclareOptions;
use lapin::types::{AMQPValue, FieldTable, ShortString};
use std::io;
use std::sync::Arc;
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

/// Stores `offset` as the last commit in `stream`, across connection
/// losses: the declaration is made again on the new connection, and the
/// commit is sent again until confirmed (a second copy of the same
/// offset changes nothing). The backend runs one commit of a key at a
/// time, so a commit never lands after a later one.
pub(crate) async fn commit(
    publisher: Arc<Publisher>,
    stream: String,
    offset: Offset,
) -> Result<(), StoreError<Offset>> {
    let not_stored = |error| StoreError::NotStored { value: offset, error };
    let name = record::short(&stream, "commit stream name").map_err(not_stored)?;
    let declaring = open(publisher.connection(), |channel: Channel| {
        let name = name.clone();
        async move {
            channel.queue_declare(name, durable(), commit_arguments()).await?;
            let _ = channel.close(200, "declared".into()).await;
            Ok(())
        }
    });
    declaring.await.map_err(|e| not_stored(io::Error::other(e)))?;
    let properties = record::commit_properties(offset);
    match amqp::publish(publisher, name, Vec::new(), properties).await {
        Ok(()) => Ok(()),
        Err(Unconfirmed::NotStored(error) | Unconfirmed::Refused(error)) => Err(not_stored(error)),
        Err(Unconfirmed::Unknown(error)) => Err(StoreError::Unknown { error }),
    }
}

/// The last commit in `stream`, if it has one; see the [module docs](self).
/// Read again from the start when the connection dies under the read.
pub(crate) async fn committed(publisher: Arc<Publisher>, stream: String) -> io::Result<Option<Offset>> {
    let name = record::short(&stream, "commit stream name")?;
    let mut rounds = 0;
    loop {
        match read_last(&publisher, &name).await {
            // The connection died under the read: read again on the next.
            Err((_, true)) if rounds < MAX_ROUNDS => rounds += 1,
            Err((error, _)) => return Err(error),
            Ok(last) => return Ok(last),
        }
    }
}

/// One read of the last commit in `name`; the error says whether it was
/// a connection loss (worth reading again).
async fn read_last(
    publisher: &Arc<Publisher>,
    name: &ShortString,
) -> Result<Option<Offset>, (io::Error, bool)> {
    let passive = QueueDeclareOptions {
        passive: true,
        ..QueueDeclareOptions::default()
    };
    let finding = open(publisher.connection(), |channel: Channel| {
        let name = name.clone();
        async move {
            match channel.queue_declare(name, passive, FieldTable::default()).await {
                Ok(_) => {
                    let _ = channel.close(200, "found".into()).await;
                    Ok(true)
                }
                // Never committed (the refusal closed the channel).
                Err(e) if is_not_found(&e) => Ok(false),
                Err(e) => Err(e),
            }
        }
    });
    match finding.await {
        Ok((_, true)) => {}
        Ok((_, false)) => return Ok(None),
        Err(e) => return Err((io::Error::other(e), false)),
    }
    let first = AMQPValue::LongString("first".into());
    let (live, mut consumer) = amqp::attach(publisher.clone(), name.clone(), 256, first)
        .await
        .map_err(|e| (io::Error::other(e), false))?;
    let instance = instance();
    let lost = |error: io::Error| {
        let lost = live.is_lost();
        (error, lost)
    };
    append_marker(publisher, name, record::marker_properties(&instance))
        .await
        .map_err(lost)?;
    let mut last = None;
    loop {
        let delivery = amqp::next_delivery(&live.channel, &mut consumer)
            .await
            .ok_or_else(|| lost(io::Error::other("the broker cancelled the commit reader")))?
            .map_err(|e| lost(amqp::io_error(e)))?;
        match record::kind(&delivery.properties) {
            Kind::Commit(offset) => last = Some(offset),
            Kind::Marker { tag } if tag == instance => break,
            Kind::Marker { .. } | Kind::Event { .. } => {}
        }
    }
    let _ = live.channel.close(200, "read the commit".into()).await;
    Ok(last)
}
