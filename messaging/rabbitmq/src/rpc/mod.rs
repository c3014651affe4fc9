//! Request / reply on RabbitMQ: the broker's version of weft's in-memory
//! [`Requester`](weft_messaging::queue::Requester), on RabbitMQ's
//! [direct reply-to] with correlation ids.
//!
//! - [`requester`] sends requests to a quorum queue and waits for their
//!   replies; [`Requester::request`] is one call, one reply or an error.
//! - [`responder`] takes the requests from that queue, as any consumer of
//!   weft's [`queue`](crate::queue()) does, and answers each with
//!   [`Request::reply`].
//!
//! Both take the same [`QueueOptions`]: the requester declares the request
//! queue exactly as [`queue`](crate::queue()) does, so either side may
//! start first and a plain queue of that name finds the same queue.
//!
//! # Protocol
//!
//! | who | what | where |
//! | --- | --- | --- |
//! | requester | `basic.consume` of `amq.rabbitmq.reply-to`, `no_ack` | its reply channel, once per channel |
//! | requester | `basic.publish` of the request (persistent, mandatory, confirmed), `reply_to = amq.rabbitmq.reply-to`, `correlation_id` = `message_id` = a fresh [`MessageId`] | the same channel, to the default exchange, routing key = the queue |
//! | responder | `basic.consume` with acks, prefetch, deadlines, dead letters | a consumer of weft's queue |
//! | responder | `basic.publish` of the reply (confirmed, not mandatory), `correlation_id` = the request's | a confirm channel of its own, to the default exchange, routing key = the request's `reply_to` |
//! | responder | `basic.ack` of the request, after the reply's confirm | the request's channel |
//!
//! **The channel rule of direct reply-to**: the broker rewrites
//! `amq.rabbitmq.reply-to` into a name bound to the channel that consumes
//! it, so the requester publishes its requests on the very channel that
//! consumes its replies; no queue is declared for replies, and nothing of
//! them is stored. One channel serves every caller of a requester and its
//! clones; a task of the requester reads it and routes each reply by its
//! correlation id to the caller waiting for it.
//!
//! weft's headers [`CORRELATION_ID`] and [`REPLY_TO`] travel as AMQP's
//! `correlation_id` and `reply_to` properties (not in the headers table),
//! on requests, replies and any queue's messages alike.
//!
//! # Delivery guarantees
//!
//! - **Requests are at-least-once**, as any message of the queue: a
//!   responder acks a request only after its reply is confirmed, so one
//!   that fails (drops the [`Request`], nacks it, misses its ack
//!   deadline) or dies leaves it to be delivered again, by the queue's
//!   rules (delivery limit, dead letters). A request may be handled twice.
//! - **Replies are at-most-once**: direct reply-to stores nothing. A reply
//!   whose requester is gone (its channel closed, its connection lost,
//!   the process ended) is dropped by the broker, and the responder
//!   cannot tell: its publish is confirmed all the same, so
//!   [`Request::reply`] succeeds and the request is acked.
//! - **A caller gets at most one reply**: the first with its correlation
//!   id. Any other (a second answer to a redelivered request, a reply
//!   after its caller timed out or was dropped) is dropped and counted in
//!   [`Requester::late_replies`], never given to another caller:
//!   correlation ids are never reused.
//!
//! # Connection loss
//!
//! The requester's reply channel dies with its connection, and with it
//! every reply still to come on it. Its callers then fail at once with
//! [`RequestError::Publish`]`(`[`PublishError::Store`]`(`[`StoreError::Unknown`]`))`,
//! an error of kind `ConnectionAborted`: the request may be handled (it
//! is in the queue), but its reply cannot arrive. The next request opens
//! a new channel on the new connection (once the [`Connection`] has
//! recovered) and consumes `amq.rabbitmq.reply-to` on it again. A request
//! whose publish was not confirmed when its channel died is sent again on
//! the new channel, marked republished (a duplicate is possible, and
//! flagged as redelivered to its responder), and its caller goes on
//! waiting. The responder recovers as weft's queue does; a reply whose
//! publish was not confirmed is sent again (a second copy is a late
//! reply).
//!
//! [direct reply-to]: https://www.rabbitmq.com/docs/direct-reply-to

mod respond;
mod slots;

pub use self::respond::{Request, Responder, responder};

use self::slots::{Registered, Routed, Slots};
use crate::channels::{Live, MAX_ROUNDS, Round, Sending, close_now, open, publish_once};
use crate::queue::amqp::{short, to_amqp};
use crate::queue::topology::quorum;
use crate::{Connection, Error, QueueOptions};
use futures_core::Stream;
use lapin::Channel;
use lapin::options::{BasicConsumeOptions, ConfirmSelectOptions, QueueDeclareOptions};
use lapin::types::{FieldTable, ShortString};
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::Poll;
use std::time::Duration;
use weft_messaging::queue::{CORRELATION_ID, Codec, PublishError, RequestError};
use weft_messaging::{MessageId, Properties, StoreError};
use weft_primitives::spawner::Spawner;

/// The header in which a request carries where its reply goes (AMQP's
/// `reply_to` property): `amq.rabbitmq.reply-to` on the way in, the name
/// the broker gave it by the time a responder reads it.
pub const REPLY_TO: &str = "reply-to";

/// The pseudo-queue of RabbitMQ's direct reply-to.
pub const DIRECT_REPLY_TO: &str = "amq.rabbitmq.reply-to";

/// Sends requests to a queue on RabbitMQ and waits for their replies; see
/// the [module docs](self) for the protocol. From [`requester`].
///
/// Cheap to clone: clones share one reply channel, and the callers of all
/// of them may wait at once.
pub struct Requester<Req: 'static, Rep: 'static> {
    shared: Arc<Shared<Req, Rep>>,
}

struct Shared<Req: 'static, Rep: 'static> {
    conn: Connection,
    name: ShortString,
    dead: ShortString,
    arguments: FieldTable,
    /// The queue has a length limit that refuses publishes: a refusal
    /// means it is full.
    limited: bool,
    requests: Box<dyn Codec<Req>>,
    replies: Box<dyn Codec<Rep>>,
    spawner: Spawner,
    /// The reply channel of the newest generation, behind an async mutex
    /// so that one caller re-opens it while the others wait.
    channel: weft_primitives::sync::Mutex<Option<ReplyChannel>>,
    /// The next reply channel's epoch (see [`slots`]).
    epochs: AtomicU64,
    slots: Mutex<Slots<Rep>>,
}

/// A reply channel: its epoch, and the channel with its generation.
#[derive(Clone)]
struct ReplyChannel {
    epoch: u64,
    live: Live,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A requester for the quorum queue `name` of the broker behind `conn`:
/// requests are turned into bytes by `requests`, replies read by `replies`.
///
/// Declares (or finds, with the same arguments) the queue and its
/// dead-letter queue as [`queue`](crate::queue()) does with `options`, and
/// opens the reply channel: it consumes `amq.rabbitmq.reply-to` and, in
/// confirm mode, publishes the requests. Only the spawner of `options`
/// matters besides what it declares: its clock times requests out.
///
/// # Errors
///
/// As [`queue`](crate::queue()): [`Error::Amqp`] when the broker refuses
/// a declaration (a queue of that name with other arguments), [`Error::Io`]
/// when the connection fails or no spawner is given or current.
///
/// # Cancel safety
///
/// Dropping the future may leave the queues declared and a channel open
/// until the connection closes.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use weft_messaging::queue::Utf8;
/// use weft_rabbitmq::{Connection, QueueOptions};
/// let uri = String::from("amqp://guest:guest@127.0.0.1:5672/%2f");
///
/// let rt = weft::Runtime::new().unwrap();
/// rt.block_on(async {
///     let conn = Connection::connect_with_runtime(&uri, weft::compat::async_rs::current())
///         .await
///         .unwrap();
///     let options = QueueOptions::new();
///     let mut responder = weft_rabbitmq::responder(&conn, "shout", &options, Utf8, Utf8)
///         .await
///         .unwrap();
///     weft::spawn(async move {
///         while let Ok(request) = responder.recv().await {
///             let loud = request.to_uppercase();
///             let _ = request.reply(loud).await;
///         }
///     });
///     let requester = weft_rabbitmq::requester(&conn, "shout", &options, Utf8, Utf8)
///         .await
///         .unwrap();
///     let reply = requester.request("hello".to_string(), Duration::from_secs(5)).await;
///     assert_eq!(reply.unwrap(), "HELLO");
/// });
/// ```
pub async fn requester<Req, Rep, CReq, CRep>(
    conn: &Connection,
    name: &str,
    options: &QueueOptions,
    requests: CReq,
    replies: CRep,
) -> Result<Requester<Req, Rep>, Error>
where
    Req: Send + 'static,
    Rep: Send + 'static,
    CReq: Codec<Req>,
    CRep: Codec<Rep>,
{
    let spawner = crate::queue::spawner(options)?;
    let dead = format!("{name}.dead");
    let shared = Arc::new(Shared {
        conn: conn.clone(),
        name: short(name, "queue name")?,
        dead: short(&dead, "dead-letter queue name")?,
        arguments: crate::queue::topology::arguments(options, &dead),
        limited: crate::queue::refusals(options) == crate::channels::Refusals::Full,
        requests: Box::new(requests),
        replies: Box::new(replies),
        spawner,
        channel: weft_primitives::sync::Mutex::new(None),
        epochs: AtomicU64::new(1),
        slots: Mutex::new(Slots::new()),
    });
    Shared::channel(&shared).await?;
    Ok(Requester { shared })
}

impl<Req: Send + 'static, Rep: Send + 'static> Requester<Req, Rep> {
    /// Publishes `message` as a request to the queue and waits for its
    /// reply, `timeout` at most from this call on the requester's clock
    /// (the spawner of its options): publishing, which may wait for the
    /// connection to recover, counts against it.
    ///
    /// # Errors
    ///
    /// - [`RequestError::TimedOut`] if no reply came in time. The request
    ///   may still be handled; its reply will be dropped as late.
    /// - [`RequestError::Publish`] with [`PublishError::Full`] and the
    ///   message when the queue has a [`capacity`](crate::QueueOptions::capacity)
    ///   that refuses publishes and is full (the requester does not wait
    ///   for room, whatever the overflow policy);
    /// - [`RequestError::Publish`] with [`PublishError::Store`]:
    ///   [`StoreError::NotStored`], with the message back, when the
    ///   request was certainly not stored (the codec or the broker refused
    ///   it, no queue took it, the connection gave up before it was
    ///   sent); [`StoreError::Unknown`] when it may have been but no reply
    ///   can come: its reply channel was lost with its connection (kind
    ///   `ConnectionAborted`), the reply could not be decoded (kind
    ///   `InvalidData`), or the connection gave up after it was sent.
    ///
    /// # Cancel safety
    ///
    /// Dropped while it waits for the reply, the request stays published
    /// and its reply is dropped as late; dropped while it publishes, the
    /// request may or may not be published.
    pub async fn request(&self, message: Req, timeout: Duration) -> Result<Rep, RequestError<Req>> {
        let shared = &self.shared;
        let id = MessageId::generate();
        let _gone = SlotGuard { shared, id: &id };
        let mut timer = shared
            .spawner
            .now()
            .checked_add(timeout)
            .map(|at| shared.spawner.sleep_until(at));
        let mut timed_out = move |cx: &mut std::task::Context<'_>| {
            timer
                .as_mut()
                .is_some_and(|timer| timer.as_mut().poll(cx).is_ready())
        };
        let mut sending = pin!(self.send(message, &id));
        let sent = poll_fn(|cx| match sending.as_mut().poll(cx) {
            Poll::Ready(sent) => Poll::Ready(Some(sent)),
            Poll::Pending if timed_out(cx) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        })
        .await;
        match sent {
            None => return Err(RequestError::TimedOut),
            Some(Err(e)) => return Err(RequestError::Publish(e)),
            Some(Ok(())) => {}
        }
        poll_fn(|cx| {
            let taken = lock(&shared.slots).take(&id, cx.waker());
            match taken {
                Ok(Ok(reply)) => Poll::Ready(Ok(reply)),
                Ok(Err(error)) => Poll::Ready(Err(RequestError::Publish(PublishError::Store(
                    StoreError::Unknown { error },
                )))),
                Err(displaced) => {
                    drop(displaced);
                    if timed_out(cx) {
                        Poll::Ready(Err(RequestError::TimedOut))
                    } else {
                        Poll::Pending
                    }
                }
            }
        })
        .await
    }

    /// Replies that came for no waiting caller (it timed out, was
    /// dropped, or was answered already), dropped.
    pub fn late_replies(&self) -> u64 {
        lock(&self.shared.slots).late()
    }

    /// The name of the request queue.
    pub fn queue_name(&self) -> &str {
        self.shared.name.as_str()
    }

    /// Publishes the request `message` with correlation id `id` on the
    /// reply channel and waits for its confirm, the caller registered to
    /// wait on that channel first.
    async fn send(&self, message: Req, id: &MessageId) -> Result<(), PublishError<Req>> {
        let shared = &self.shared;
        let not_stored = |value, error| Err(PublishError::Store(StoreError::NotStored { value, error }));
        let unknown = |error| Err(PublishError::Store(StoreError::Unknown { error }));
        let mut bytes = Vec::new();
        if let Err(e) = shared.requests.encode(&message, &mut bytes) {
            return not_stored(message, io::Error::new(io::ErrorKind::InvalidInput, e));
        }
        let props = Properties::new()
            .with_id(id.clone())
            .with_header(CORRELATION_ID, id.as_str())
            .with_header(REPLY_TO, DIRECT_REPLY_TO);
        let amqp = match to_amqp(Some(&props)) {
            Ok(amqp) => amqp,
            Err(error) => return not_stored(message, error),
        };
        // True once a frame of the request may have reached the broker.
        let mut sent = false;
        for _ in 0..MAX_ROUNDS {
            let channel = match Shared::channel(shared).await {
                Ok(channel) => channel,
                Err(e) if sent => return unknown(io::Error::other(e)),
                Err(e) => return not_stored(message, io::Error::other(e)),
            };
            if lock(&shared.slots).register(id, channel.epoch) == Registered::EpochEnded {
                continue;
            }
            let again = sent;
            sent = true;
            let live = &channel.live;
            let send = Sending {
                mandatory: true,
                republished: again,
            };
            match publish_once(live, &shared.conn, &shared.name, &bytes, &amqp, send).await {
                Round::Confirmed => return Ok(()),
                Round::Unroutable => {
                    let error = io::Error::new(io::ErrorKind::NotFound, "no queue took the request");
                    return not_stored(message, error);
                }
                Round::Refused => {
                    let error = io::Error::other("the broker did not store the request");
                    // Refused a republish, the broker may hold the first copy.
                    return if again {
                        unknown(error)
                    } else if shared.limited {
                        // A length-limited queue refuses for want of room.
                        Err(PublishError::Full(message))
                    } else {
                        not_stored(message, error)
                    };
                }
                Round::Lost => {}
                Round::Failed(error) => return unknown(error),
            }
        }
        unknown(io::Error::other(
            "the connection kept failing: gave up sending the request",
        ))
    }
}

impl<Req: Send + 'static, Rep: Send + 'static> Shared<Req, Rep> {
    /// The reply channel: the open one, or a new one on the current
    /// connection (waiting for recovery), the queues declared, the
    /// reply-to consumed and its reader task started.
    async fn channel(this: &Arc<Self>) -> Result<ReplyChannel, Error> {
        let mut slot = this.channel.lock().await;
        let (generation, _) = this.conn.link().current().await?;
        if let Some(open) = &*slot
            && open.live.generation == generation
            && !open.live.is_lost()
            && !lock(&this.slots).has_ended(open.epoch)
        {
            return Ok(open.clone());
        }
        if let Some(old) = slot.take() {
            close_now(&old.live.channel, "the reply channel is replaced");
        }
        let (live, consumer) = open(&this.conn, |channel: Channel| this.set_up(channel)).await?;
        let channel = ReplyChannel {
            epoch: this.epochs.fetch_add(1, Ordering::Relaxed),
            live,
        };
        this.spawner
            .spawn(read(Arc::downgrade(this), channel.clone(), consumer));
        *slot = Some(channel.clone());
        Ok(channel)
    }

    /// Declares the queues as [`queue`](crate::queue()) does, consumes the
    /// reply-to and turns confirms on, on a new reply channel.
    fn set_up(
        &self,
        channel: Channel,
    ) -> impl Future<Output = Result<lapin::Consumer, lapin::Error>> + use<Req, Rep> {
        let (main, dead, arguments) = (self.name.clone(), self.dead.clone(), self.arguments.clone());
        async move {
            let durable = QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            };
            channel.queue_declare(dead, durable, quorum()).await?;
            channel.queue_declare(main, durable, arguments).await?;
            let no_ack = BasicConsumeOptions {
                no_ack: true,
                ..BasicConsumeOptions::default()
            };
            let consumer = channel
                .basic_consume(DIRECT_REPLY_TO.into(), "".into(), no_ack, FieldTable::default())
                .await?;
            channel.confirm_select(ConfirmSelectOptions::default()).await?;
            Ok(consumer)
        }
    }

    /// Routes a reply to its caller, or counts it late.
    fn route(&self, delivery: &lapin::message::Delivery) {
        let id = delivery
            .properties
            .correlation_id()
            .as_ref()
            .map(|id| MessageId::from(id.as_str()));
        let reply = self.replies.decode(&delivery.data).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the reply could not be decoded: {e}"),
            )
        });
        let routed = lock(&self.slots).deliver(id, reply);
        if let Routed::Delivered(Some(waker)) = routed {
            waker.wake();
        }
    }
}

/// The reader of a reply channel: routes each reply until the channel's
/// consumer ends (the channel or its connection died, or the requester
/// closed it), then ends its epoch, failing the callers still waiting on
/// it. Holds the requester weakly: dropping the last handle closes the
/// channel, which ends this task.
async fn read<Req: Send + 'static, Rep: Send + 'static>(
    shared: Weak<Shared<Req, Rep>>,
    channel: ReplyChannel,
    mut consumer: lapin::Consumer,
) {
    let mut error = None;
    while let Some(next) = poll_fn(|cx| Pin::new(&mut consumer).poll_next(cx)).await {
        let Some(shared) = shared.upgrade() else { return };
        match next {
            Ok(delivery) => shared.route(&delivery),
            Err(err) => {
                error = Some(err);
                break;
            }
        }
    }
    let Some(shared) = shared.upgrade() else { return };
    if let Some(err) = error
        && channel.live.is_loss(&err)
    {
        channel.live.lost(&shared.conn, err);
    }
    let wakers = lock(&shared.slots).end(channel.epoch);
    wakers.into_iter().for_each(|waker| waker.wake());
}

impl<Req: 'static, Rep: 'static> Drop for Shared<Req, Rep> {
    /// The reply channel closes now (see [`close_now`]), which ends its
    /// reader task.
    fn drop(&mut self) {
        if let Some(open) = self.channel.get_mut() {
            close_now(&open.live.channel, "the requester is dropped");
        }
    }
}

/// Removes a caller's slot when its request ends, however it ends.
struct SlotGuard<'a, Req: 'static, Rep: 'static> {
    shared: &'a Shared<Req, Rep>,
    id: &'a MessageId,
}

impl<Req: 'static, Rep: 'static> Drop for SlotGuard<'_, Req, Rep> {
    fn drop(&mut self) {
        let waker = lock(&self.shared.slots).remove(self.id);
        // Dropped with the lock released.
        drop(waker);
    }
}

impl<Req: 'static, Rep: 'static> Clone for Requester<Req, Rep> {
    fn clone(&self) -> Self {
        Requester {
            shared: self.shared.clone(),
        }
    }
}

impl<Req: 'static, Rep: 'static> fmt::Debug for Requester<Req, Rep> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slots = lock(&self.shared.slots);
        f.debug_struct("Requester")
            .field("queue", &self.shared.name.as_str())
            .field("waiting", &slots.waiting())
            .field("late_replies", &slots.late())
            .finish_non_exhaustive()
    }
}
