//! The two broker operations a queue sends and waits on: a confirmed
//! publish, which survives connection losses by sending again (and, on a
//! full queue under [`Overflow::Wait`](weft_messaging::queue::Overflow::Wait),
//! tries again until there is room), and a verdict on a delivery's own
//! channel.

use super::topology::{Live, Topology};
use crate::channels::{Unconfirmed, publish_confirmed};
use lapin::BasicProperties;
use lapin::options::{BasicAckOptions, BasicNackOptions, BasicRejectOptions};
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use weft_messaging::StoreError;
use weft_messaging::queue::{AckError, PublishError, Verdict};
use weft_primitives::spawner::Spawner;

pub(crate) use crate::channels::io_error;

/// The first pause of a publish waiting for room; each refusal doubles
/// it, up to [`WAIT_MAX`].
pub(crate) const WAIT_FIRST: Duration = Duration::from_millis(5);

/// The longest pause between two tries of a publish waiting for room.
pub(crate) const WAIT_MAX: Duration = Duration::from_millis(200);

/// How a publish refused for want of room waits and tries again
/// ([`Overflow::Wait`](weft_messaging::queue::Overflow::Wait)): on the
/// queue's clock, until the queue is closed.
pub(crate) struct Wait {
    pub(crate) spawner: Spawner,
    pub(crate) closed: Arc<AtomicBool>,
}

/// Publishes `bytes` to the queue and waits for the confirm, across
/// connection losses ([`publish_confirmed`], which the event bus shares):
/// a publish whose frame may have reached the broker is sent again on the
/// new connection, marked republished (a possible duplicate, flagged as
/// redelivered at its receiver), until the broker confirms it or the
/// connection gives up (then `Unknown`).
///
/// A publish the full queue refused is `Full`, or, with `wait`, sent
/// again after a pause ([`WAIT_FIRST`] doubling to [`WAIT_MAX`]) until
/// the broker takes it or the queue is closed (then `Closed`). Dropped
/// while it pauses, it is not published.
pub(crate) async fn publish<T>(
    topology: Arc<Topology>,
    bytes: Vec<u8>,
    properties: BasicProperties,
    message: T,
    published: Arc<AtomicU64>,
    wait: Option<Wait>,
) -> Result<(), PublishError<T>> {
    let mut pause = WAIT_FIRST;
    loop {
        let publisher = topology.publishing();
        let confirmed = publish_confirmed(publisher, &topology.name, &bytes, &properties).await;
        match confirmed {
            Ok(()) => {
                published.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            Err(Unconfirmed::NotStored(error)) => {
                return Err(PublishError::Store(StoreError::NotStored {
                    value: message,
                    error,
                }));
            }
            Err(Unconfirmed::Unknown(error)) => {
                return Err(PublishError::Store(StoreError::Unknown { error }));
            }
            Err(Unconfirmed::Refused(_)) => {}
        }
        // ANCHOR: wait
        // Refused for want of room: the broker does not say when there
        // is some, so wait by polling.
        let Some(wait) = &wait else {
            return Err(PublishError::Full(message));
        };
        if let Some(at) = wait.spawner.now().checked_add(pause) {
            wait.spawner.sleep_until(at).await;
        }
        if wait.closed.load(Ordering::Acquire) {
            return Err(PublishError::Closed(message));
        }
        pause = (pause * 2).min(WAIT_MAX);
        // ANCHOR_END: wait
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
