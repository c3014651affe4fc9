//! The two broker operations a queue sends and waits on: a confirmed
//! publish, which survives connection losses by sending again, and a
//! verdict on a delivery's own channel.

use super::amqp;
use super::topology::{Live, MAX_ROUNDS, Topology};
use crate::Error;
use lapin::options::{BasicAckOptions, BasicNackOptions, BasicPublishOptions, BasicRejectOptions};
use lapin::{BasicProperties, Confirmation};
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use weft_messaging::StoreError;
use weft_messaging::queue::{AckError, PublishError, Verdict};

/// lapin's error as an I/O error (its own kind kept where it has one).
pub(crate) fn io_error(err: lapin::Error) -> io::Error {
    match Error::from(err) {
        Error::Io(io) => io,
        other => io::Error::other(other),
    }
}

/// Publishes `bytes` to the queue and waits for the confirm, across
/// connection losses: a publish whose frame may have reached the broker
/// is sent again on the new connection, marked republished (a possible
/// duplicate, flagged as redelivered at its receiver), until the broker
/// confirms it or the connection gives up (then `Unknown`).
pub(crate) async fn publish<T>(
    topology: Arc<Topology>,
    bytes: Vec<u8>,
    properties: BasicProperties,
    message: T,
    published: Arc<AtomicU64>,
) -> Result<(), PublishError<T>> {
    let not_stored = |message, error| {
        Err(PublishError::Store(StoreError::NotStored {
            value: message,
            error,
        }))
    };
    let unknown = |error| Err(PublishError::Store(StoreError::Unknown { error }));
    let options = BasicPublishOptions {
        mandatory: true,
        ..BasicPublishOptions::default()
    };
    // ANCHOR: republish
    // True once a frame of this message may have reached the broker.
    let mut sent = false;
    for _ in 0..MAX_ROUNDS {
        let live = match topology.publisher().await {
            Ok(live) => live,
            Err(err) if sent => return unknown(io::Error::other(err)),
            Err(err) => return not_stored(message, io::Error::other(err)),
        };
        let properties = if sent {
            amqp::republished(properties.clone())
        } else {
            properties.clone()
        };
        sent = true;
        // ANCHOR_END: republish
        let confirm = match live
            .channel
            .basic_publish("".into(), topology.name.clone(), options, &bytes, properties)
            .await
        {
            Ok(confirm) => confirm,
            Err(err) if live.is_lost() => {
                topology.lost(&live, err);
                continue;
            }
            Err(err) => return unknown(io_error(err)),
        };
        // ANCHOR: confirm
        match confirm.await {
            Ok(Confirmation::Ack(None)) => {
                published.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            Ok(Confirmation::Ack(Some(_))) => {
                return not_stored(
                    message,
                    io::Error::new(io::ErrorKind::NotFound, "no queue took the message"),
                );
            }
            Ok(Confirmation::Nack(_)) if live.is_lost() => {
                // Refused by a dying connection, not by the broker.
                let error = lapin::ErrorKind::InvalidConnectionState(lapin::ConnectionState::Error);
                topology.lost(&live, error.into());
            }
            Ok(Confirmation::Nack(_)) => {
                return not_stored(message, io::Error::other("the broker did not store the message"));
            }
            Ok(Confirmation::NotRequested) => {
                return unknown(io::Error::other("publisher confirms are off"));
            }
            Err(err) if live.is_lost() => topology.lost(&live, err),
            Err(err) => return unknown(io_error(err)),
        }
        // ANCHOR_END: confirm
    }
    unknown(io::Error::other(
        "the connection kept failing: gave up republishing",
    ))
}

/// Sends `verdict` for delivery `tag` on `live`, the channel it came on.
pub(crate) async fn send_verdict(live: Live, tag: u64, verdict: Verdict) -> Result<(), AckError> {
    // Its connection is checked too: lapin marks the connection dead
    // before its channels.
    if live.is_lost() {
        return Err(AckError::Store(StoreError::NotStored {
            value: verdict,
            error: io::Error::new(
                io::ErrorKind::NotConnected,
                "the delivery's channel is closed: the broker gives the message back",
            ),
        }));
    }
    let channel = &live.channel;
    let sent = match verdict {
        Verdict::Ack => channel.basic_ack(tag, BasicAckOptions::default()).await,
        Verdict::Nack { requeue: false } | Verdict::Reject => {
            channel
                .basic_reject(tag, BasicRejectOptions { requeue: false })
                .await
        }
        Verdict::Nack { requeue: true } | Verdict::Dropped | Verdict::NackAfter { .. } => {
            let options = BasicNackOptions {
                requeue: true,
                ..BasicNackOptions::default()
            };
            channel.basic_nack(tag, options).await
        }
    };
    sent.map_err(|err| AckError::Store(StoreError::Unknown { error: io_error(err) }))
}
