//! Channels that outlive a connection loss, shared by the queue and the
//! event bus: a [`Live`] channel (a channel and the connection generation
//! it is on), [`open_on`] (a channel on an up generation, made again when
//! the connection dies under it), the [`Publisher`] (the confirm-mode
//! channel of the newest generation, its topology declared once per
//! generation) and [`publish_confirmed`] (a publish sent again, marked,
//! until the broker confirms it).
//!
//! # Protocol
//!
//! The connection's generation (see [`crate::recovery`]) is the only
//! shared clock. Whoever sees an operation fail on a `Live` whose
//! connection is no longer open reports it with [`Live::lost`]; the link
//! starts recovery once per generation, and the next [`open_on`] or
//! [`Publisher::live`] waits for the new generation. A failure on a
//! channel whose connection is still open is the broker's answer (a
//! refused declaration, a missing queue) and is returned as it is, except
//! that the publisher re-opens a closed channel of an open connection on
//! its next use.
//!
//! The publisher's slot sits behind an async mutex, so that after a loss
//! one task declares the topology and opens the new channel while the
//! other publishes wait for it.
//!
//! # Closing channels
//!
//! A queue's channels are closed by [`close_now`] before their last clone
//! drops, never left to lapin's close-on-drop: that close runs later, on a
//! task of lapin's, and when [`Connection::close`] has marked the
//! connection closing by then, it fails and lapin reports its failure as
//! the *connection's* error, failing the user's close
//! (`InvalidChannelState(Closing, "channel.close")`). A channel that is
//! already closing is not closed again.

use crate::recovery::BoxFut;
use crate::{Connection, Error};
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::protocol::{AMQPErrorKind, AMQPSoftError};
use lapin::types::{AMQPValue, ShortString};
use lapin::{BasicProperties, Channel, Confirmation};
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Waker};
use std::time::Duration;
use weft_primitives::sync::Mutex;

/// Re-makes of a channel one operation may try before giving up: each
/// waits for a new connection, so only a connection that keeps dying
/// right after each reconnect uses them up.
pub(crate) const MAX_ROUNDS: u32 = 16;

/// The header a publish sent again after a connection loss carries: the
/// broker may hold it twice (its first copy reached the broker, the
/// confirm did not reach the client), so its readers can tell.
pub(crate) const REPUBLISHED: &str = "x-weft-republished";

/// `amqp` marked as sent again after a connection loss.
pub(crate) fn republished(amqp: BasicProperties) -> BasicProperties {
    let mut headers = amqp.headers().clone().unwrap_or_default();
    headers.insert(REPUBLISHED.into(), AMQPValue::Boolean(true));
    amqp.with_headers(headers)
}

/// lapin's error as an I/O error (its own kind kept where it has one).
pub(crate) fn io_error(err: lapin::Error) -> io::Error {
    match Error::from(err) {
        Error::Io(io) => io,
        other => io::Error::other(other),
    }
}

/// How long [`open_on`] waits, in all, for a queue or stream whose
/// member on the broker is not up yet (see [`is_unavailable`]).
const UNAVAILABLE_FOR: Duration = Duration::from_secs(60);

/// Whether `err` is the broker's `NOT_FOUND` for a durable queue or
/// stream whose home node is "down or inaccessible": what RabbitMQ
/// answers for a while after it restarts, until the queue's replica is
/// up again. Worth waiting for, unlike a queue that does not exist.
pub(crate) fn is_unavailable(err: &lapin::Error) -> bool {
    match err.kind() {
        lapin::ErrorKind::ProtocolError(amqp) => {
            matches!(amqp.kind(), AMQPErrorKind::Soft(AMQPSoftError::NOTFOUND))
                && amqp.get_message().as_str().contains("down or inaccessible")
        }
        _ => false,
    }
}

/// Whether `err` says the connection's socket died (reset, a missed
/// heartbeat, a connection lapin already took down). lapin can fail an
/// operation with it before it marks the connection closed, so it is a
/// loss even while the connection still reads as connected.
pub(crate) fn socket_died(err: &lapin::Error) -> bool {
    matches!(
        err.kind(),
        lapin::ErrorKind::IOError(_)
            | lapin::ErrorKind::MissingHeartbeatError
            | lapin::ErrorKind::InvalidConnectionState(_)
    )
}

/// True while `conn` recovers from a loss (neither up nor ended): an
/// operation that failed meanwhile may be tried again.
pub(crate) fn recovering(conn: &Connection) -> bool {
    let status = conn.status();
    !status.is_connected() && !status.is_ended()
}

/// A channel, and the generation of the connection it is on.
#[derive(Clone)]
pub(crate) struct Live {
    pub(crate) generation: u64,
    pub(crate) conn: Arc<lapin::Connection>,
    pub(crate) channel: Channel,
}

impl Live {
    /// True if the channel or its connection died: an error on it is a
    /// loss, to recover from, not the broker's answer.
    pub(crate) fn is_lost(&self) -> bool {
        !self.channel.status().connected() || !self.conn.status().connected()
    }

    /// True if `err`, met on this channel, is a loss: the channel or its
    /// connection died, or the error says the socket did.
    pub(crate) fn is_loss(&self, err: &lapin::Error) -> bool {
        self.is_lost() || socket_died(err)
    }

    /// Reports that this channel died of `error`: `link` recovers if its
    /// connection died and recovery did not start already.
    pub(crate) fn lost(&self, link: &Connection, error: lapin::Error) {
        if !self.conn.status().connected() || socket_died(&error) {
            link.link().lost(self.generation, Error::from(error));
        }
    }
}

impl fmt::Debug for Live {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Live")
            .field("generation", &self.generation)
            .field("lost", &self.is_lost())
            .finish_non_exhaustive()
    }
}

/// Opens a channel on the generation `ready` gives (which waits for
/// recovery, and may declare the topology first) and runs `setup` on it.
/// When that fails because the connection died meanwhile, reports the
/// loss and tries again on the next generation, [`MAX_ROUNDS`] times at
/// most. A queue or stream the broker has not brought up yet after a
/// restart ([`is_unavailable`]) is waited for, with back-off, up to a
/// minute.
///
/// # Errors
///
/// What `ready` returns (the connection gave up or was closed), or the
/// failure of `setup` while the connection stayed up.
pub(crate) async fn open_on<X, R, RF, S, SF>(
    conn: &Connection,
    mut ready: R,
    mut setup: S,
) -> Result<(Live, X), Error>
where
    R: FnMut() -> RF,
    RF: Future<Output = Result<(u64, Arc<lapin::Connection>), Error>>,
    S: FnMut(Channel) -> SF,
    SF: Future<Output = Result<X, lapin::Error>>,
{
    let mut rounds = 0;
    let (mut waited, mut delay) = (Duration::ZERO, Duration::from_millis(50));
    loop {
        let (generation, lapin_conn) = ready().await?;
        let attempt = async {
            let channel = lapin_conn.create_channel().await?;
            let made = setup(channel.clone()).await?;
            Ok::<_, lapin::Error>((channel, made))
        }
        .await;
        match attempt {
            Ok((channel, made)) => {
                let live = Live {
                    generation,
                    conn: lapin_conn,
                    channel,
                };
                return Ok((live, made));
            }
            Err(err) if is_unavailable(&err) && waited < UNAVAILABLE_FOR => {
                conn.link().sleep(delay).await;
                waited += delay;
                delay = (delay * 2).min(Duration::from_secs(1));
            }
            Err(err) if (lapin_conn.status().connected() && !socket_died(&err)) || rounds >= MAX_ROUNDS => {
                return Err(err.into());
            }
            Err(err) => {
                rounds += 1;
                conn.link().lost(generation, Error::from(err));
            }
        }
    }
}

/// [`open_on`] the current generation, whatever is declared on it.
pub(crate) async fn open<X, S, SF>(conn: &Connection, setup: S) -> Result<(Live, X), Error>
where
    S: FnMut(Channel) -> SF,
    SF: Future<Output = Result<X, lapin::Error>>,
{
    let link = conn.link().clone();
    open_on(
        conn,
        move || {
            let link = link.clone();
            async move { link.current().await }
        },
        setup,
    )
    .await
}

/// What a publisher declares on each new channel, before confirm mode.
pub(crate) type Declare = Box<dyn Fn(Channel) -> BoxFut<Result<(), lapin::Error>> + Send + Sync>;

/// The confirm-mode channel every publish of a queue or a bus goes out
/// on, re-opened on each new generation with the topology declared first;
/// see the [module docs](self).
pub(crate) struct Publisher {
    conn: Connection,
    declare: Declare,
    /// The channel of the newest generation, if opened.
    slot: Mutex<Option<(u64, Channel)>>,
    /// What a refusal (`basic.nack`) means; see [`Refusals`].
    refusals: Refusals,
    /// Refusals in a row on a length-limited queue, reset by a confirm.
    refused_in_a_row: AtomicU32,
}

/// What a publisher makes of the broker refusing a publish (`basic.nack`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusals {
    /// Rare: a quorum queue in a leader election. The channel is closed
    /// (the next publish opens a new one) and the publish is not stored.
    Rare,
    /// Routine: the queue has a length limit with `x-overflow =
    /// reject-publish`, so a refusal means it is full
    /// ([`Unconfirmed::Refused`]). The channel stays open; only after
    /// [`RENEW_AFTER`] refusals in a row is it replaced, in case it is the
    /// channel an election left refusing everything.
    Full,
}

/// Refusals in a row after which a length-limited queue's publisher
/// replaces its channel (see [`Refusals::Full`]).
pub(crate) const RENEW_AFTER: u32 = 256;

impl Drop for Publisher {
    fn drop(&mut self) {
        if let Some((_, channel)) = self.slot.get_mut() {
            close_now(channel, "the publisher is dropped");
        }
    }
}

/// Closes `channel` at once, for `reason`, if it is open: the first poll
/// of lapin's close queues `channel.close` and marks the channel closing,
/// which is all that is needed (see [Closing channels](self#closing-channels));
/// the broker's `close-ok` is then awaited by no one.
pub(crate) fn close_now(channel: &Channel, reason: &str) {
    if !channel.status().connected() {
        return;
    }
    let close = pin!(channel.close(200, reason.into()));
    let _ = close.poll(&mut Context::from_waker(Waker::noop()));
}

impl fmt::Debug for Publisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publisher")
            .field("conn", &self.conn)
            .finish_non_exhaustive()
    }
}

impl Publisher {
    /// A publisher on `conn` that runs `declare` on each new channel.
    pub(crate) fn new(conn: Connection, declare: Declare) -> Publisher {
        Publisher::with_refusals(conn, declare, Refusals::Rare)
    }

    /// A publisher whose refusals mean `refusals`.
    pub(crate) fn with_refusals(conn: Connection, declare: Declare, refusals: Refusals) -> Publisher {
        Publisher {
            conn,
            declare,
            slot: Mutex::new(None),
            refusals,
            refused_in_a_row: AtomicU32::new(0),
        }
    }

    /// Counts a refusal on a length-limited queue: true when the channel
    /// should be replaced ([`RENEW_AFTER`] in a row).
    fn refused(&self) -> bool {
        let in_a_row = self
            .refused_in_a_row
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1);
        in_a_row.is_multiple_of(RENEW_AFTER)
    }

    /// The connection published on.
    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The publishing channel: the open one, or a new one on the current
    /// connection (waiting for recovery), the topology declared anew.
    ///
    /// # Errors
    ///
    /// The connection gave up or was closed, or the broker refused a
    /// declaration while the connection stayed up.
    pub(crate) async fn live(&self) -> Result<Live, Error> {
        let mut slot = self.slot.lock().await;
        let (generation, conn) = self.conn.link().current().await?;
        if let Some((g, channel)) = &*slot
            && *g == generation
            && channel.status().connected()
        {
            return Ok(Live {
                generation,
                conn,
                channel: channel.clone(),
            });
        }
        let declare = &self.declare;
        let (live, ()) = open(&self.conn, |channel: Channel| {
            let declaring = declare(channel.clone());
            async move {
                declaring.await?;
                channel.confirm_select(ConfirmSelectOptions::default()).await
            }
        })
        .await?;
        *slot = Some((live.generation, live.channel.clone()));
        Ok(live)
    }

    /// The channel now open, if any and if no task is re-opening it.
    pub(crate) fn channel_now(&self) -> Option<Channel> {
        let slot = self.slot.try_lock().ok()?;
        slot.as_ref().map(|(_, channel)| channel.clone())
    }
}

/// Why a confirmed publish did not succeed.
pub(crate) enum Unconfirmed {
    /// No frame of it reached the broker, or the broker said it did not
    /// store it: it is not stored.
    NotStored(io::Error),
    /// A length-limited queue ([`Refusals::Full`]) refused it, for want
    /// of room: it is not stored. Never for a republish (then `Unknown`).
    Refused(io::Error),
    /// It may be stored.
    Unknown(io::Error),
}

/// What one publish on one channel came to ([`publish_once`]).
pub(crate) enum Round {
    /// The broker confirmed it.
    Confirmed,
    /// No queue took it (`basic.return`): not stored.
    Unroutable,
    /// The broker refused it (`basic.nack`) on a connection that is up.
    Refused,
    /// The connection died under it, and recovery was told: send again on
    /// the next one.
    Lost,
    /// Failed otherwise: it may be stored.
    Failed(io::Error),
}

/// How [`publish_once`] sends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sending {
    /// Returned if no queue takes it ([`Round::Unroutable`]).
    pub(crate) mandatory: bool,
    /// Marked [`republished`]: an earlier frame of it may be stored.
    pub(crate) republished: bool,
}

/// Publishes `bytes` with `properties` to `routing_key` on `live` (the
/// default exchange: a queue or stream of that name) once, as `send`
/// says, and waits for the confirm. A loss is reported to `conn`'s
/// recovery. The one round that [`publish_confirmed`], the requester's
/// publish and the responder's replies (`crate::rpc`) repeat, each with
/// its own reading of a refusal.
pub(crate) async fn publish_once(
    live: &Live,
    conn: &Connection,
    routing_key: &ShortString,
    bytes: &[u8],
    properties: &BasicProperties,
    send: Sending,
) -> Round {
    let options = BasicPublishOptions {
        mandatory: send.mandatory,
        ..BasicPublishOptions::default()
    };
    let properties = if send.republished {
        republished(properties.clone())
    } else {
        properties.clone()
    };
    let confirm = match live
        .channel
        .basic_publish("".into(), routing_key.clone(), options, bytes, properties)
        .await
    {
        Ok(confirm) => confirm,
        Err(err) if live.is_loss(&err) => {
            live.lost(conn, err);
            return Round::Lost;
        }
        Err(err) => return Round::Failed(io_error(err)),
    };
    // ANCHOR: confirm
    match confirm.await {
        Ok(Confirmation::Ack(None)) => Round::Confirmed,
        Ok(Confirmation::Ack(Some(_))) => Round::Unroutable,
        Ok(Confirmation::Nack(_)) if live.is_lost() => {
            // Refused by a dying connection, not by the broker.
            let error = lapin::ErrorKind::InvalidConnectionState(lapin::ConnectionState::Error);
            live.lost(conn, error.into());
            Round::Lost
        }
        Ok(Confirmation::Nack(_)) => Round::Refused,
        Ok(Confirmation::NotRequested) => Round::Failed(io::Error::other("publisher confirms are off")),
        Err(err) if live.is_loss(&err) => {
            live.lost(conn, err);
            Round::Lost
        }
        Err(err) => Round::Failed(io_error(err)),
    }
    // ANCHOR_END: confirm
}

/// Publishes `bytes` with `properties` to `routing_key` (on the default
/// exchange: a queue or stream of that name), mandatory, and waits for the
/// confirm, across connection losses: a publish whose frame may have
/// reached the broker is sent again on the new connection, marked
/// [`republished`], until the broker confirms it or the connection gives
/// up (then `Unknown`). A refusal (`basic.nack`) is read as the
/// publisher's [`Refusals`] say: `NotStored` and a new channel, or, on a
/// length-limited queue, `Refused` on the same channel.
pub(crate) async fn publish_confirmed(
    publisher: &Publisher,
    routing_key: &ShortString,
    bytes: &[u8],
    properties: &BasicProperties,
) -> Result<(), Unconfirmed> {
    let conn = publisher.connection();
    // ANCHOR: republish
    // True once a frame of this message may have reached the broker.
    let mut sent = false;
    for _ in 0..MAX_ROUNDS {
        let live = match publisher.live().await {
            Ok(live) => live,
            Err(err) if sent => return Err(Unconfirmed::Unknown(io::Error::other(err))),
            Err(err) => return Err(Unconfirmed::NotStored(io::Error::other(err))),
        };
        // A republish: an earlier frame of this message may be stored.
        let again = sent;
        sent = true;
        let send = Sending {
            mandatory: true,
            republished: again,
        };
        let round = publish_once(&live, conn, routing_key, bytes, properties, send).await;
        // ANCHOR_END: republish
        match round {
            Round::Confirmed => {
                publisher.refused_in_a_row.store(0, Ordering::Relaxed);
                return Ok(());
            }
            Round::Unroutable => {
                let error = io::Error::new(io::ErrorKind::NotFound, "no queue took the message");
                return Err(Unconfirmed::NotStored(error));
            }
            Round::Refused if publisher.refusals == Refusals::Full => {
                // Full: `x-overflow = reject-publish`. The channel stays,
                // unless it refused too long (it may be an election's).
                if publisher.refused() {
                    close_now(&live.channel, "the broker refused every publish on this channel");
                }
                // A refused republish: the copy sent before the loss may
                // be stored.
                return Err(if again {
                    Unconfirmed::Unknown(io::Error::other("the broker refused a republished copy"))
                } else {
                    Unconfirmed::Refused(io::Error::other("the queue is full"))
                });
            }
            Round::Refused => {
                // A quorum queue that lost its leader can go on refusing
                // every publish of a channel opened during the election
                // (RabbitMQ 3.10), while a new channel's are stored: the
                // next publish opens a new one. (A length-limited queue
                // refuses for room: `Refusals::Full`, above.)
                close_now(&live.channel, "the broker refused a publish on this channel");
                let error = io::Error::other("the broker did not store the message");
                // Refused a republish, the broker may still hold the copy
                // sent before the loss.
                return Err(if again {
                    Unconfirmed::Unknown(error)
                } else {
                    Unconfirmed::NotStored(error)
                });
            }
            Round::Lost => {}
            Round::Failed(error) => return Err(Unconfirmed::Unknown(error)),
        }
    }
    Err(Unconfirmed::Unknown(io::Error::other(
        "the connection kept failing: gave up republishing",
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapin::protocol::AMQPError;

    fn refusal(kind: AMQPSoftError, message: &str) -> lapin::Error {
        let amqp = AMQPError::new(AMQPErrorKind::Soft(kind), message.into());
        lapin::ErrorKind::ProtocolError(amqp).into()
    }

    #[test]
    fn a_queue_not_up_yet_after_a_restart_is_worth_waiting_for() {
        let down = "NOT_FOUND - home node 'rabbit@host' of durable queue 'orders.0' in vhost '/' is down or inaccessible";
        assert!(is_unavailable(&refusal(AMQPSoftError::NOTFOUND, down)));
        // A queue that does not exist is the answer, not a wait.
        let missing = "NOT_FOUND - no queue 'orders.9' in vhost '/'";
        assert!(!is_unavailable(&refusal(AMQPSoftError::NOTFOUND, missing)));
        assert!(!is_unavailable(&refusal(AMQPSoftError::PRECONDITIONFAILED, down)));
    }

    #[test]
    fn a_republished_copy_keeps_its_headers_and_is_marked() {
        let mut headers = lapin::types::FieldTable::default();
        headers.insert("x-weft-key".into(), AMQPValue::LongString("user-1".into()));
        let copy = republished(BasicProperties::default().with_headers(headers));
        let headers = copy.headers().as_ref().unwrap().inner();
        assert_eq!(headers.get(REPUBLISHED), Some(&AMQPValue::Boolean(true)));
        assert!(headers.contains_key("x-weft-key"));
    }
}
