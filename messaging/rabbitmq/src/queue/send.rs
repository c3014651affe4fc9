//! The two broker operations a queue sends and waits on: a confirmed
//! publish, which survives connection losses by sending again, and a
//! verdict on a delivery's own channel.

use super::topology::{Live, Topology};
use crate::channels::{Unconfirmed, publish_confirmed};
use lapin::BasicProperties;
use lapin::options::{BasicAckOptions, BasicNackOptions, BasicRejectOptions};
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use weft_messaging::StoreError;
use weft_messaging::queue::{AckError, PublishError, Verdict};

pub(crate) use crate::channels::io_error;

/// Publishes `bytes` to the queue and waits for the confirm, across
/// connection losses ([`publish_confirmed`], which the event bus shares):
/// a publish whose frame may have reached the broker is sent again on the
/// new connection, marked republished (a possible duplicate, flagged as
/// redelivered at its receiver), until the broker confirms it or the
/// connection gives up (then `Unknown`).
pub(crate) async fn publish<T>(
    topology: Arc<Topology>,
    bytes: Vec<u8>,
    properties: BasicProperties,
    message: T,
    published: Arc<AtomicU64>,
) -> Result<(), PublishError<T>> {
    let confirmed = publish_confirmed(topology.publishing(), topology.name.clone(), &bytes, properties).await;
    match confirmed {
        Ok(()) => {
            published.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        Err(Unconfirmed::NotStored(error)) => Err(PublishError::Store(StoreError::NotStored {
            value: message,
            error,
        })),
        Err(Unconfirmed::Unknown(error)) => Err(PublishError::Store(StoreError::Unknown { error })),
    }
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
