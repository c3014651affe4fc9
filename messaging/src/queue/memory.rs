//! The in-process backend of the work queue: every message in memory,
//! deadlines, delays and TTLs on the spawner's clock.
//!
//! # Protocol
//!
//! All state sits in one [`State`] behind one mutex. A message is in
//! exactly one place: `ready` (by priority), `in_flight` (by delivery tag;
//! a delivery set aside for a waiting consumer is also in `handed` until
//! its `recv` takes it), `delayed` (given back with a delay, until its
//! timer moves it to `ready`), or `dead`; or it has left (acked, purged).
//! Every change that can let a message move ends with `dispatch`, which
//! pairs waiting consumers with ready messages and wakes one waiting
//! producer per free slot. Wakers are collected under the lock and woken,
//! and displaced wakers dropped, after it is released.
//!
//! # Files
//!
//! This file holds the state (`State`, an `Envelope`, an `InFlight`
//! record) and makes the queue; the rest is one concern per file:
//!
//! - `backend.rs`: [`Backend`](super::Backend) for [`Memory`], the entry
//!   point of every call from the front;
//! - `dispatch.rs`: `dispatch`, pairing waiting consumers with ready
//!   messages and putting deliveries in flight;
//! - `publish.rs`: room, the overflow policy, waiting producers, dedup;
//! - `batch.rs`: `recv_batch`'s deliveries;
//! - `settle.rs`: verdicts, ack deadlines, delays and back-off;
//! - `expiry.rs`: TTLs;
//! - `ready.rs`: the ready lanes, by priority;
//! - `tags.rs`: the hasher of the maps keyed by queue-made numbers.

mod backend;
mod batch;
mod dispatch;
mod expiry;
mod publish;
mod ready;
mod settle;
mod tags;

use self::ready::Ready;
use self::settle::Deadline;
use self::tags::TagMap;
use super::backend::Handed;
use super::{Attempt, Builder, DeadLetter, DeadReason};
use crate::loom::{Mutex, lock};
use crate::util::Wakers;
use crate::{MessageId, Properties};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};
use weft_primitives::callback::TimerHandle;
use weft_primitives::spawner::Spawner;

/// The in-process queue: what [`Builder::build`] makes. Cheap to clone;
/// clones share the queue.
pub struct Memory<T> {
    shared: Arc<Shared<T>>,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    config: Builder,
    spawner: Spawner,
}

// ANCHOR: envelope
struct Envelope<T> {
    message: T,
    /// Its properties, if it was published with some (boxed, so that a
    /// message without costs one word).
    properties: Option<Box<Properties>>,
    /// 0 to 9, from its properties.
    priority: u8,
    /// When it expires if still undelivered: its own TTL or the queue's,
    /// whichever comes first. Read from the clock only when there is a TTL.
    expires_at: Option<Instant>,
    deliveries: u32,
    history: Vec<Attempt>,
}

struct InFlight<T> {
    envelope: Envelope<T>,
    consumer: u64,
    delivered_at: Instant,
    /// Ends it at its ack deadline, if the queue has one.
    timer: Option<Deadline>,
}
// ANCHOR_END: envelope

#[derive(Default)]
struct ConsumerState {
    unacked: usize,
    acked: u64,
    nacked: u64,
    rejected: u64,
    /// In the `waiting` list.
    waiting: bool,
    /// Waiting in `recv`, with this waker.
    waker: Option<Waker>,
}

// ANCHOR: state
struct State<T> {
    ready: Ready<T>,
    in_flight: TagMap<InFlight<T>>,
    /// Given back with a delay; each has a timer that moves it to `ready`.
    delayed: TagMap<Envelope<T>>,
    dead: VecDeque<DeadLetter<T>>,
    dead_waiters: Vec<Waker>,
    consumers: TagMap<ConsumerState>,
    /// Consumers waiting in `recv`, in the order they began to wait.
    waiting: VecDeque<u64>,
    /// Deliveries handed to a waiting consumer, not yet taken by its `recv`.
    handed: TagMap<Handed<T>>,
    /// Producers waiting for room, by ticket, in the order they began to
    /// wait. A producer woken for room leaves the list; if it then gives
    /// up (`cancel_publish`), it passes the wakeup on.
    room_waiters: VecDeque<(u64, Waker)>,
    next_ticket: u64,
    /// The TTL timer set for the earliest expiry among ready messages:
    /// when it fires, and its handle.
    expiry: Option<(Instant, TimerHandle)>,
    /// Message ids seen within the deduplication window, oldest first.
    seen: VecDeque<(Instant, MessageId)>,
    seen_ids: HashMap<MessageId, Instant>,
    /// Live producers, counted for `end_when_producers_gone`.
    producers: usize,
    closed: bool,
    next_tag: u64,
    next_consumer: u64,
    next_delayed: u64,
    published: u64,
    acked: u64,
    purged: u64,
    deduplicated: u64,
    /// Told of every message that leaves `ready` / `in_flight` on the
    /// queue's own initiative (the durable backend journals it).
    observer: Option<Observer<T>>,
}
// ANCHOR_END: state

/// What the in-memory queue did to a message on its own, for a backend
/// built on it that must journal it (the durable backend).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// Moved to the dead-letter queue.
    Dead(DeadReason),
    /// Removed by a purge.
    Purged,
    /// Dropped as a duplicate on publish.
    Deduplicated,
    /// Its ack deadline passed: ready again (or dead-lettered, reported
    /// apart).
    DeadlineExpired,
}

/// Called under the queue's lock: it must only note the change.
pub(crate) type Observer<T> = Arc<dyn Fn(&T, Change) + Send + Sync>;

impl<T: Clone + Send + 'static> Memory<T> {
    /// An empty queue with `config`'s settings.
    ///
    /// # Panics
    ///
    /// Panics if `config` names no spawner and none is current.
    #[track_caller]
    pub fn new(config: &Builder) -> Memory<T> {
        Memory::observed(config, None)
    }

    /// As [`new`](Memory::new), telling `observer` of the changes the
    /// queue makes on its own.
    #[track_caller]
    pub(crate) fn observed(config: &Builder, observer: Option<Observer<T>>) -> Memory<T> {
        let spawner = config.spawner.clone().unwrap_or_else(Spawner::current);
        Memory {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    ready: Ready::new(),
                    in_flight: TagMap::default(),
                    delayed: TagMap::default(),
                    dead: VecDeque::new(),
                    dead_waiters: Vec::new(),
                    consumers: TagMap::default(),
                    waiting: VecDeque::new(),
                    handed: TagMap::default(),
                    room_waiters: VecDeque::new(),
                    next_ticket: 0,
                    expiry: None,
                    seen: VecDeque::new(),
                    seen_ids: HashMap::new(),
                    producers: 0,
                    closed: false,
                    next_tag: 0,
                    next_consumer: 0,
                    next_delayed: 0,
                    published: 0,
                    acked: 0,
                    purged: 0,
                    deduplicated: 0,
                    observer,
                }),
                config: config.clone(),
                spawner,
            }),
        }
    }
}

impl<T: Clone + Send + 'static> Memory<T> {
    /// Puts back a message found in a store at start-up: ready with
    /// `deliveries` made, or dead-lettered for `dead`. Its history is not
    /// kept.
    // Only the durable backend (the `disk` feature) calls it.
    #[cfg_attr(not(feature = "disk"), allow(dead_code))]
    pub(crate) fn restore(
        &self,
        message: T,
        properties: Option<Box<Properties>>,
        deliveries: u32,
        dead: Option<DeadReason>,
    ) {
        let shared = &self.shared;
        let mut wakers = Wakers::new();
        {
            let mut state = lock(&shared.state);
            match dead {
                Some(reason) => {
                    state.dead.push_back(DeadLetter {
                        message,
                        reason,
                        history: Vec::new(),
                        properties: properties.map(|p| *p),
                    });
                }
                None => {
                    let envelope = shared.envelope(message, properties, None);
                    state.ready.push_back(Envelope {
                        deliveries,
                        ..envelope
                    });
                    shared.dispatch(&mut state, &mut wakers);
                    shared.arm_expiry(&mut state, None);
                }
            }
        }
        wakers.wake_all();
    }
}

impl<T> State<T> {
    /// Tells the observer, if there is one, of `change` to `message`.
    fn observe(&self, message: &T, change: Change) {
        if let Some(observer) = &self.observer {
            observer(message, change);
        }
    }

    /// Closed, and nothing left to hand out or to settle: consumers see the
    /// end.
    fn is_drained(&self) -> bool {
        self.closed && self.ready.is_empty() && self.in_flight.is_empty() && self.delayed.is_empty()
    }

    /// Wakes every waiting consumer (to see a close or new work).
    fn wake_consumers(&mut self, wakers: &mut Wakers) {
        for consumer in self.consumers.values_mut() {
            if let Some(waker) = consumer.waker.take() {
                wakers.push(waker);
            }
        }
    }

    fn dead_letter(&mut self, envelope: Envelope<T>, reason: DeadReason, wakers: &mut Wakers) {
        self.observe(&envelope.message, Change::Dead(reason));
        crate::diag::dead_lettered(reason, envelope.deliveries, envelope.properties.as_deref());
        self.dead.push_back(DeadLetter {
            message: envelope.message,
            reason,
            history: envelope.history,
            properties: envelope.properties.map(|p| *p),
        });
        self.dead_waiters.drain(..).for_each(|w| wakers.push(w));
    }
}

impl<T: Clone + Send + 'static> Shared<T> {
    /// A new envelope for `message`, expiring by its own TTL or the
    /// queue's; `now` is read only if there is a TTL.
    #[inline]
    fn envelope(&self, message: T, properties: Option<Box<Properties>>, now: Option<Instant>) -> Envelope<T> {
        let own_ttl = properties.as_ref().and_then(|p| p.ttl());
        let ttl = match (self.config.ttl, own_ttl) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let expires_at = ttl.map(|ttl| {
            let now = now.unwrap_or_else(|| self.spawner.now());
            now.checked_add(ttl)
                .unwrap_or(now + Duration::from_secs(100 * 365 * 24 * 3600))
        });
        Envelope {
            priority: properties.as_ref().map_or(0, |p| p.priority()),
            message,
            properties,
            expires_at,
            deliveries: 0,
            history: Vec::new(),
        }
    }
}

/// How a delivery ends, as the in-memory queue sees it: the consumer's
/// verdicts, and the deadline.
#[derive(Debug, Clone, Copy)]
enum Ending {
    Ack,
    Nack { requeue: bool },
    NackAfter(Duration),
    Reject,
    Expire,
    Drop,
}

impl<T> Clone for Memory<T> {
    fn clone(&self) -> Self {
        Memory {
            shared: self.shared.clone(),
        }
    }
}

impl<T> fmt::Debug for Memory<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.shared.state);
        f.debug_struct("Memory")
            .field("ready", &state.ready.len())
            .field("in_flight", &state.in_flight.len())
            .field("delayed", &state.delayed.len())
            .field("dead_lettered", &state.dead.len())
            .field("closed", &state.closed)
            .finish()
    }
}
