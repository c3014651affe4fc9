//! Request / reply over the queue: RabbitMQ's RPC pattern, in process.
//!
//! A [`Requester`] publishes each request to its request queue with a
//! fresh message id, the *correlation id*, and waits for the reply that
//! carries it. [`Responder`]s compete for the requests like any consumers
//! and answer each with [`Request::reply`], which publishes the reply to
//! the requester's reply queue with the request's id in the
//! [`CORRELATION_ID`] header, then acks the request.
//!
//! # Protocol
//!
//! Replies come back on one reply queue, shared by every caller of the
//! requester. There is no task to read it: whichever caller is waiting
//! *pumps* it (takes every reply ready, under the `pump` lock) and routes
//! each reply by its correlation id to the caller's slot in `slots`,
//! waking that caller. The reply queue's consumer is polled with a waker
//! that wakes every waiting caller, so whoever pumped last may stop
//! waiting without leaving the others deaf. A reply whose caller is gone
//! (timed out, or its future dropped) is acked, dropped, and counted in
//! [`Requester::late_replies`]: it is never given to another caller,
//! because correlation ids are never reused. Locks: `pump` may be held
//! while `slots` is taken, never the other way round, and no waker is
//! woken under either.
//!
//! Requests are ordinary messages: a responder that fails (drops the
//! [`Request`] without a reply, or nacks it) or dies leaves the request to
//! be delivered again, by the request queue's rules (deadline, delivery
//! limit, dead letters), so a caller may be answered twice; the second
//! answer is a late reply.

use super::{AckError, Builder, Consumer, Delivery, Producer, PublishError, Queue, RecvError};
use crate::loom::{Mutex, lock};
use crate::{MessageId, Properties};
use std::collections::HashMap;
use std::error::Error;
use std::fmt;
use std::future::poll_fn;
use std::ops::Deref;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;
use weft_primitives::spawner::Spawner;

/// The header in which a reply carries its request's id (RabbitMQ's
/// `correlation_id` property).
pub const CORRELATION_ID: &str = "correlation-id";

/// Sends requests and waits for their replies: RabbitMQ's RPC pattern.
///
/// Each request is published to the request queue with a fresh message
/// id, its *correlation id*; [`Responder`]s compete for requests and
/// answer with [`Request::reply`], which publishes the reply to this
/// requester's reply queue with the id in the [`CORRELATION_ID`] header.
/// A reply whose caller gave up is dropped and counted
/// ([`late_replies`](Requester::late_replies)), never given to another
/// caller. A request is an ordinary message: one whose responder fails or
/// dies is delivered again, by the request queue's rules.
///
/// Cheap to clone: clones share the queues, and one reply queue serves
/// every caller.
pub struct Requester<Req: 'static, Rep: 'static> {
    requests: Queue<Req>,
    producer: Producer<Req>,
    replies: Queue<Rep>,
    router: Arc<Router<Rep>>,
    spawner: Spawner,
}

/// Answers requests; from [`Requester::responder`]. Responders compete
/// for requests as consumers do.
pub struct Responder<Req: 'static, Rep: 'static> {
    consumer: Consumer<Req>,
    replies: Producer<Rep>,
}

/// A request in a responder's hands. Dereferences to the request message;
/// answer it with [`reply`](Request::reply). Dropped without a reply, the
/// request is delivered again, as a [`Delivery`] dropped without a verdict
/// is.
pub struct Request<Req: 'static, Rep: 'static> {
    delivery: Delivery<Req>,
    replies: Producer<Rep>,
}

/// Why [`Requester::request`] returned no reply.
pub enum RequestError<T> {
    /// The request could not be published; the error holds it.
    Publish(PublishError<T>),
    /// No reply came in time. The request may still be handled; its reply
    /// will be dropped as late.
    TimedOut,
}

/// Why [`Request::reply`] failed.
pub enum ReplyError<Rep> {
    /// The reply could not be published; the request was not acked and
    /// will be delivered again.
    Publish(PublishError<Rep>),
    /// The reply was published, but the request could not be acked (its
    /// ack deadline passed): it may be handled, and answered, again.
    Ack(AckError),
}

struct Router<Rep: 'static> {
    /// The reply queue's consumer, and the waker it is polled with.
    pump: Mutex<Pump<Rep>>,
    slots: Arc<Slots<Rep>>,
}

struct Pump<Rep: 'static> {
    consumer: Consumer<Rep>,
    waker: Waker,
}

/// Callers waiting for replies, by correlation id.
struct Slots<Rep> {
    state: Mutex<SlotState<Rep>>,
}

struct SlotState<Rep> {
    waiting: HashMap<MessageId, Slot<Rep>>,
    late: u64,
}

struct Slot<Rep> {
    reply: Option<Rep>,
    waker: Option<Waker>,
}

impl<Req: Clone + Send + 'static, Rep: Clone + Send + 'static> Requester<Req, Rep> {
    /// A requester with a request queue built from `requests` (its
    /// capacity, deadlines, delivery limit and dead letters apply to
    /// requests) and a reply queue of its own on the same clock.
    ///
    /// # Panics
    ///
    /// Panics if `requests` names no spawner and none is current.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::queue::{Queue, Requester};
    ///
    /// weft::block_on(async {
    ///     let requester: Requester<u32, u32> = Requester::new(&Queue::builder());
    ///     let mut responder = requester.responder();
    ///     weft::spawn(async move {
    ///         while let Ok(request) = responder.recv().await {
    ///             let square = *request * *request;
    ///             request.reply(square).await.unwrap();
    ///         }
    ///     });
    ///     let reply = requester.request(7, Duration::from_secs(5)).await;
    ///     assert_eq!(reply.ok(), Some(49));
    /// });
    /// ```
    #[track_caller]
    pub fn new(requests: &Builder) -> Requester<Req, Rep> {
        let spawner = requests.spawner.clone().unwrap_or_else(Spawner::current);
        let (capacity, requests) = (requests.capacity, requests.clone().spawner(&spawner).build());
        // As many replies as there can be requests waiting.
        let replies = Queue::builder().capacity(capacity).spawner(&spawner).build();
        let slots = Arc::new(Slots {
            state: Mutex::new(SlotState {
                waiting: HashMap::new(),
                late: 0,
            }),
        });
        let router = Arc::new(Router {
            pump: Mutex::new(Pump {
                consumer: replies.consumer(),
                waker: Waker::from(slots.clone()),
            }),
            slots,
        });
        Requester {
            producer: requests.producer(),
            requests,
            replies,
            router,
            spawner,
        }
    }

    /// A new responder, competing with the others for requests.
    pub fn responder(&self) -> Responder<Req, Rep> {
        Responder {
            consumer: self.requests.consumer(),
            replies: self.replies.producer(),
        }
    }

    /// The request queue: its stats, its dead letters, and `close` (after
    /// which responders see the end once it is drained).
    pub fn requests(&self) -> &Queue<Req> {
        &self.requests
    }

    /// Replies that came after their caller gave up, dropped.
    pub fn late_replies(&self) -> u64 {
        lock(&self.router.slots.state).late
    }

    /// Publishes `message` as a request and waits up to `timeout` (on the
    /// queue's clock, from when the request is published) for its reply.
    /// Publishing waits for room as [`Producer::publish`] does.
    ///
    /// # Errors
    ///
    /// [`RequestError::Publish`] with the message if it could not be
    /// published; [`RequestError::TimedOut`] if no reply came in time.
    ///
    /// # Cancel safety
    ///
    /// Dropped while it waits for the reply, the request stays published
    /// and its reply is dropped as late; dropped while it publishes, as
    /// [`Producer::publish`].
    pub async fn request(&self, message: Req, timeout: Duration) -> Result<Rep, RequestError<Req>> {
        let id = MessageId::generate();
        let slots = &self.router.slots;
        lock(&slots.state).waiting.insert(
            id.clone(),
            Slot {
                reply: None,
                waker: None,
            },
        );
        let _gone = SlotGuard { slots, id: &id };
        let props = Properties::new().with_id(id.clone());
        self.producer
            .publish_with(message, props)
            .await
            .map_err(RequestError::Publish)?;
        let mut timer = self
            .spawner
            .now()
            .checked_add(timeout)
            .map(|at| self.spawner.sleep_until(at));
        poll_fn(|cx| {
            if let Some(reply) = slots.take(&id, cx.waker()) {
                return Poll::Ready(Ok(reply));
            }
            self.router.pump();
            if let Some(reply) = slots.take(&id, cx.waker()) {
                return Poll::Ready(Ok(reply));
            }
            match timer.as_mut().map(|timer| timer.as_mut().poll(cx)) {
                Some(Poll::Ready(())) => Poll::Ready(Err(RequestError::TimedOut)),
                _ => Poll::Pending,
            }
        })
        .await
    }
}

/// Removes a caller's slot when its request ends, however it ends.
struct SlotGuard<'a, Rep> {
    slots: &'a Slots<Rep>,
    id: &'a MessageId,
}

impl<Rep> Drop for SlotGuard<'_, Rep> {
    fn drop(&mut self) {
        let gone = lock(&self.slots.state).waiting.remove(self.id);
        // The waker (and any reply) drop with the lock released.
        drop(gone);
    }
}

impl<Rep> Slots<Rep> {
    /// The caller's reply, if it came; otherwise registers `waker`.
    fn take(&self, id: &MessageId, waker: &Waker) -> Option<Rep> {
        let mut state = lock(&self.state);
        let slot = state.waiting.get_mut(id)?;
        if let Some(reply) = slot.reply.take() {
            return Some(reply);
        }
        let _displaced = crate::util::replace_waker(&mut slot.waker, waker);
        drop(state);
        None
    }
}

impl<Rep: Send + 'static> Wake for Slots<Rep> {
    /// A reply came: every waiting caller may pump.
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let wakers: Vec<Waker> = {
            let mut state = lock(&self.state);
            state
                .waiting
                .values_mut()
                .filter_map(|s| s.waker.take())
                .collect()
        };
        wakers.into_iter().for_each(Waker::wake);
    }
}

impl<Rep: Clone + Send + 'static> Router<Rep> {
    /// Takes every reply ready and routes it to its caller.
    fn pump(&self) {
        let mut pump = lock(&self.pump);
        let waker = pump.waker.clone();
        let mut cx = Context::from_waker(&waker);
        // A store error ends this pump; the next request or reply pumps again.
        while let Poll::Ready(Ok(reply)) = pump.consumer.poll_recv(&mut cx) {
            let id = reply
                .properties()
                .and_then(|p| p.header(CORRELATION_ID))
                .map(MessageId::from);
            let woken = {
                let mut state = lock(&self.slots.state);
                match id.and_then(|id| state.waiting.get_mut(&id)) {
                    Some(slot) if slot.reply.is_none() => {
                        slot.reply = Some(reply.message().clone());
                        slot.waker.take()
                    }
                    // Its caller gave up (or was answered already).
                    _ => {
                        state.late += 1;
                        None
                    }
                }
            };
            // Routed (or dropped): it leaves the reply queue.
            let _ = reply.ack();
            if let Some(waker) = woken {
                waker.wake();
            }
        }
    }
}

impl<Req: Clone + Send + 'static, Rep: Clone + Send + 'static> Responder<Req, Rep> {
    /// The next request.
    ///
    /// # Errors
    ///
    /// As [`Consumer::recv`]: [`RecvError::Closed`] once the request queue
    /// is closed and drained.
    ///
    /// # Cancel safety
    ///
    /// As [`Consumer::recv`].
    pub async fn recv(&mut self) -> Result<Request<Req, Rep>, RecvError> {
        let delivery = self.consumer.recv().await?;
        Ok(Request {
            delivery,
            replies: self.replies.clone(),
        })
    }
}

impl<Req: Clone + Send + 'static, Rep: Clone + Send + 'static> Request<Req, Rep> {
    /// The request's correlation id, if it came from a [`Requester`].
    pub fn correlation_id(&self) -> Option<&MessageId> {
        self.delivery.properties().map(Properties::id)
    }

    /// Publishes `reply` to the requester, then acks the request.
    ///
    /// # Errors
    ///
    /// [`ReplyError::Publish`] if the reply could not be published (the
    /// request goes back to be handled again); [`ReplyError::Ack`] if the
    /// request's ack deadline passed first (it may be handled again, and
    /// its caller will take the first answer).
    ///
    /// # Cancel safety
    ///
    /// Dropped before the reply is published, the request is delivered
    /// again.
    pub async fn reply(self, reply: Rep) -> Result<(), ReplyError<Rep>> {
        let mut props = Properties::new();
        if let Some(id) = self.correlation_id() {
            props.set_header(CORRELATION_ID, id.as_str());
        }
        self.replies
            .publish_with(reply, props)
            .await
            .map_err(ReplyError::Publish)?;
        self.delivery.ack().map_err(ReplyError::Ack)
    }

    /// The delivery of the request, to settle it without a reply
    /// ([`nack`](Delivery::nack), [`reject`](Delivery::reject)).
    pub fn into_delivery(self) -> Delivery<Req> {
        self.delivery
    }
}

impl<Req: 'static, Rep: 'static> Deref for Request<Req, Rep> {
    type Target = Req;

    fn deref(&self) -> &Req {
        &self.delivery
    }
}

impl<Req: 'static, Rep: 'static> Clone for Requester<Req, Rep> {
    fn clone(&self) -> Self {
        Requester {
            requests: self.requests.clone(),
            producer: self.producer.clone(),
            replies: self.replies.clone(),
            router: self.router.clone(),
            spawner: self.spawner.clone(),
        }
    }
}

impl<Req: 'static, Rep: 'static> fmt::Debug for Requester<Req, Rep> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.router.slots.state);
        f.debug_struct("Requester")
            .field("waiting", &state.waiting.len())
            .field("late_replies", &state.late)
            .finish_non_exhaustive()
    }
}

impl<Req: 'static, Rep: 'static> fmt::Debug for Responder<Req, Rep> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Responder")
            .field("consumer", &self.consumer)
            .finish_non_exhaustive()
    }
}

impl<Req: fmt::Debug + 'static, Rep: 'static> fmt::Debug for Request<Req, Rep> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("delivery", &self.delivery)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for RequestError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::Publish(e) => f.debug_tuple("Publish").field(e).finish(),
            RequestError::TimedOut => f.write_str("TimedOut"),
        }
    }
}

impl<T> fmt::Display for RequestError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::Publish(e) => write!(f, "the request was not published: {e}"),
            RequestError::TimedOut => f.write_str("no reply came in time"),
        }
    }
}

impl<Rep> fmt::Display for ReplyError<Rep> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyError::Publish(e) => write!(f, "the reply was not published: {e}"),
            ReplyError::Ack(e) => write!(f, "the reply was published but the request not acked: {e}"),
        }
    }
}

impl<T: 'static> Error for RequestError<T> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            RequestError::Publish(e) => Some(e),
            RequestError::TimedOut => None,
        }
    }
}

impl<Rep> fmt::Debug for ReplyError<Rep> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyError::Publish(e) => f.debug_tuple("Publish").field(e).finish(),
            ReplyError::Ack(e) => f.debug_tuple("Ack").field(e).finish(),
        }
    }
}

impl<Rep: 'static> Error for ReplyError<Rep> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            ReplyError::Publish(e) => Some(e),
            ReplyError::Ack(e) => Some(e),
        }
    }
}
