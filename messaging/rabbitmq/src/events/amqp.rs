//! The few AMQP operations the event bus is made of: a confirmed publish,
//! a stream consumer attached at an `x-stream-offset`, and its next
//! delivery, acked at once.

use crate::{Connection, Error};
use futures_core::Stream;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, QueueDeclareOptions,
};
use lapin::protocol::{AMQPErrorKind, AMQPSoftError};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Confirmation};
use std::future::poll_fn;
use std::io;
use std::pin::Pin;

/// lapin's error as an I/O error (its own kind kept where it has one).
pub(crate) fn io_error(err: lapin::Error) -> io::Error {
    match Error::from(err) {
        Error::Io(io) => io,
        other => io::Error::other(other),
    }
}

/// Why a confirmed publish did not succeed: `NotStored` when the broker
/// said it did not store the message, else unknown.
pub(crate) enum Unconfirmed {
    NotStored(io::Error),
    Unknown(io::Error),
}

/// Publishes `bytes` with `properties` to `stream` on `channel` (in
/// confirm mode) and waits for the confirm.
pub(crate) async fn publish(
    channel: Channel,
    stream: ShortString,
    bytes: Vec<u8>,
    properties: BasicProperties,
) -> Result<(), Unconfirmed> {
    let options = BasicPublishOptions {
        mandatory: true,
        ..BasicPublishOptions::default()
    };
    let confirm = channel
        .basic_publish("".into(), stream, options, &bytes, properties)
        .await
        .map_err(|e| Unconfirmed::Unknown(io_error(e)))?;
    match confirm.await {
        Ok(Confirmation::Ack(None)) => Ok(()),
        Ok(Confirmation::Ack(Some(_))) => Err(Unconfirmed::NotStored(io::Error::new(
            io::ErrorKind::NotFound,
            "no stream took the message",
        ))),
        Ok(Confirmation::Nack(_)) => Err(Unconfirmed::NotStored(io::Error::other(
            "the broker did not store the message",
        ))),
        Ok(Confirmation::NotRequested) => Err(Unconfirmed::Unknown(io::Error::other(
            "publisher confirms are off",
        ))),
        Err(e) => Err(Unconfirmed::Unknown(io_error(e))),
    }
}

/// Opens a channel with `prefetch` credits and consumes `stream` from
/// `at` (an `x-stream-offset` value).
pub(crate) async fn attach(
    conn: Connection,
    stream: ShortString,
    prefetch: u16,
    at: AMQPValue,
) -> Result<(Channel, lapin::Consumer), lapin::Error> {
    let channel = conn.as_lapin().create_channel().await?;
    channel.basic_qos(prefetch, BasicQosOptions::default()).await?;
    let mut arguments = FieldTable::default();
    arguments.insert("x-stream-offset".into(), at);
    let consumer = channel
        .basic_consume(stream, "".into(), BasicConsumeOptions::default(), arguments)
        .await?;
    Ok((channel, consumer))
}

/// The next delivery of `consumer`, acked at once (a stream consumer's
/// ack only gives back a credit); `None` when it ended.
pub(crate) async fn next_delivery(
    channel: &Channel,
    consumer: &mut lapin::Consumer,
) -> Option<Result<lapin::message::Delivery, lapin::Error>> {
    let delivery = poll_fn(|cx| Pin::new(&mut *consumer).poll_next(cx)).await?;
    if let Ok(delivery) = &delivery {
        let _ = channel
            .basic_ack(delivery.delivery_tag, BasicAckOptions::default())
            .await;
    }
    Some(delivery)
}

/// Whether `err` is the broker's `NOT_FOUND` (a passive declare of a
/// queue that does not exist).
pub(crate) fn is_not_found(err: &lapin::Error) -> bool {
    matches!(err.kind(), lapin::ErrorKind::ProtocolError(amqp)
        if matches!(amqp.kind(), AMQPErrorKind::Soft(AMQPSoftError::NOTFOUND)))
}

/// Declares a durable queue.
pub(crate) fn durable() -> QueueDeclareOptions {
    QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    }
}

/// Appends a marker with `properties` to `stream` and waits for the confirm.
pub(crate) async fn append_marker(
    publisher: &Channel,
    stream: &ShortString,
    marker: lapin::BasicProperties,
) -> io::Result<()> {
    publish(publisher.clone(), stream.clone(), Vec::new(), marker)
        .await
        .map_err(|(Unconfirmed::NotStored(e) | Unconfirmed::Unknown(e))| e)
}
