//! The few AMQP operations the event bus is made of, on the recovering
//! channels of [`crate::channels`] (the queue's): a confirmed publish, a
//! stream consumer attached at an `x-stream-offset` on the current
//! connection, and its next delivery, acked at once.

use crate::Error;
use crate::channels::{Live, Publisher, open_on, publish_confirmed};
use futures_core::Stream;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions, QueueDeclareOptions};
use lapin::protocol::{AMQPErrorKind, AMQPSoftError};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel};
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::Arc;

pub(crate) use crate::channels::{Unconfirmed, io_error};

/// Publishes `bytes` with `properties` to `stream` and waits for the
/// confirm, sent again (marked republished) across connection losses.
pub(crate) async fn publish(
    publisher: Arc<Publisher>,
    stream: ShortString,
    bytes: Vec<u8>,
    properties: BasicProperties,
) -> Result<(), Unconfirmed> {
    publish_confirmed(&publisher, &stream, &bytes, &properties).await
}

/// Opens a channel with `prefetch` credits and consumes `stream` from
/// `at` (an `x-stream-offset` value), on the current connection, after
/// the publisher declared the bus's streams on it (waiting for recovery,
/// and attaching again if the connection dies meanwhile).
pub(crate) async fn attach(
    publisher: Arc<Publisher>,
    stream: ShortString,
    prefetch: u16,
    at: AMQPValue,
) -> Result<(Live, lapin::Consumer), Error> {
    let ready = || async {
        let live = publisher.live().await?;
        Ok((live.generation, live.conn))
    };
    open_on(publisher.connection(), ready, |channel: Channel| {
        let (stream, at) = (stream.clone(), at.clone());
        async move {
            channel.basic_qos(prefetch, BasicQosOptions::default()).await?;
            let mut arguments = FieldTable::default();
            arguments.insert("x-stream-offset".into(), at);
            channel
                .basic_consume(stream, "".into(), BasicConsumeOptions::default(), arguments)
                .await
        }
    })
    .await
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
    publisher: &Arc<Publisher>,
    stream: &ShortString,
    marker: lapin::BasicProperties,
) -> io::Result<()> {
    publish(publisher.clone(), stream.clone(), Vec::new(), marker)
        .await
        .map_err(|(Unconfirmed::NotStored(e) | Unconfirmed::Refused(e) | Unconfirmed::Unknown(e))| e)
}
