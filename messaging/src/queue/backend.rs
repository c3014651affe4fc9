//! What a queue's storage does: the [`Backend`] trait.
//!
//! [`Queue`](super::Queue), [`Producer`](super::Producer),
//! [`Consumer`](super::Consumer) and [`Delivery`](super::Delivery) are a
//! front over a backend, which holds the messages and decides who gets
//! which. Three are built: [`Memory`](super::Memory), in process;
//! `Durable` (the `disk` feature: `Queue::durable`), which appends each
//! accepted message to a log on disk and syncs it before a publish
//! completes; and the RabbitMQ backend of crate weft-rabbitmq
//! (`weft::rabbitmq::queue`), where publish is a confirmed
//! `basic.publish`, `poll_deliver` a `basic.consume` with `basic.qos`
//! prefetch, and a verdict a `basic.ack` / `basic.nack` / `basic.reject`.
//! The trait is the queue's state machine: a message is published, handed
//! to one consumer, and ends with a verdict (or a deadline, or a TTL, which
//! the backend enforces itself); what does not end in an ack is delivered
//! again or dead-lettered.
//!
//! The contract for implementors is on [`Backend`].

use super::{AckError, ConsumerStats, DeadLetter, PublishError, Stats};
use crate::{Properties, StoreError};
use std::fmt;
use std::task::{Context, Poll};
use std::time::Duration;
use weft_primitives::spawner::Spawner;

/// A message handed to a consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handed<T> {
    /// Names this delivery in [`Backend::poll_settle`]; unique within the
    /// queue.
    pub tag: u64,
    /// The message.
    pub message: T,
    /// How many times it has been delivered, this time included.
    pub deliveries: u32,
    /// Its properties, if it was published with some.
    pub properties: Option<Box<Properties>>,
}

/// A publish in progress: the message (until the backend takes it) and the
/// backend's ticket for it. The caller keeps it between polls of
/// [`Backend::poll_publish`], and hands it to
/// [`Backend::cancel_publish`] if it gives up while a ticket is set.
pub struct PublishOp<T> {
    /// The message and its properties, until the backend takes them.
    pub message: Option<(T, Option<Box<Properties>>)>,
    /// Set by the backend while the op waits (for room, for a confirm);
    /// cleared when it completes.
    pub ticket: Option<u64>,
}

impl<T> PublishOp<T> {
    /// A publish of `message` that has not been polled yet.
    pub fn new(message: T, properties: Option<Box<Properties>>) -> PublishOp<T> {
        PublishOp {
            message: Some((message, properties)),
            ticket: None,
        }
    }
}

impl<T> fmt::Debug for PublishOp<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublishOp")
            .field("holds_message", &self.message.is_some())
            .field("ticket", &self.ticket)
            .finish()
    }
}

// ANCHOR: verdict
/// How a consumer ended a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Done: the message leaves the queue.
    Ack,
    /// Give it back: delivered again if `requeue` (within the delivery
    /// limit), dead-lettered otherwise.
    Nack {
        /// Whether to deliver it again.
        requeue: bool,
    },
    /// Give it back to be delivered again once `delay` has passed (within
    /// the delivery limit); dead-lettered if it used up its deliveries.
    NackAfter {
        /// How long it waits before it is ready again.
        delay: Duration,
    },
    /// Dead-letter it.
    Reject,
    /// The delivery was dropped without a verdict: as `Nack { requeue:
    /// true }`, recorded as dropped.
    Dropped,
}
// ANCHOR_END: verdict

// Every backend's impl repeats these signatures (the `duplicates` pairs
// with the memory, durable and RabbitMQ backends, left: a trait's shape).
// ANCHOR: backend
/// Storage and dispatch for a work queue: [`Memory`](super::Memory) in
/// process, and a store of your own through
/// [`Queue::with_backend`](super::Queue::with_backend).
///
/// Every method takes `&self`: one backend is shared by every handle of
/// its queue.
///
/// # The contract, for implementors
///
/// - **Poll-style.** Every operation that a disk or a broker performs
///   ([`poll_publish`](Backend::poll_publish),
///   [`poll_settle`](Backend::poll_settle),
///   [`poll_extend_deadline`](Backend::poll_extend_deadline),
///   [`poll_deliver`](Backend::poll_deliver),
///   [`poll_deliver_batch`](Backend::poll_deliver_batch),
///   [`poll_dead_letter`](Backend::poll_dead_letter)) may return `Pending`.
///   Given a `Context`, it must first register the context's waker, and
///   **the backend wakes it** when polling again may make progress (room
///   made, a confirm arrived, a message came). Without one (`None`: the
///   caller will not poll again), it must not wait for room or messages;
///   `Pending` then means "sent, and the outcome will not be reported".
/// - **Operations in progress have an identity**: a publish is a
///   [`PublishOp`] that the caller keeps between polls (the backend may
///   take the message out of it once sent, and keeps its own state under
///   the op's ticket); a settle or a deadline extension is named by its
///   delivery tag. When the caller gives up on a pending publish or receive
///   it calls [`cancel_publish`](Backend::cancel_publish) or
///   [`cancel_deliver`](Backend::cancel_deliver), and the backend must pass
///   on any wakeup it had spent on that caller, and give back a message it
///   had set aside for it, so that nobody else waits while work is
///   possible.
/// - **Errors.** A failure of the store comes as a
///   [`StoreError`](crate::StoreError): `NotStored` hands the value back and
///   promises it is not stored (retrying cannot duplicate it); `Unknown`
///   says the outcome cannot be known (a retry may duplicate). A failed
///   settle leaves the delivery in flight; the front then gives it back
///   at once with [`Verdict::Dropped`] (for a broker: as a closed
///   channel's unacked messages are requeued), and if that fails too, its
///   deadline brings the message back, so at-least-once delivery holds.
///   `poll_deliver`, `poll_deliver_batch` and `poll_dead_letter` fail
///   with a `StoreError<()>`: there is no value to hand back, and
///   `NotStored` promises nothing moved.
/// - **Never block**: a method returns quickly and never waits on a lock
///   held across I/O. It wakes wakers only after releasing its own locks.
///
/// The in-memory backend never fails and is never pending once it can
/// go on: publishes, settles and extensions complete on their first poll,
/// and a batch is handed under one lock, with one clock read and one
/// deadline timer.
pub trait Backend<T>: Send + Sync + 'static {
    /// Publishes the message in `op`. `Ready(Ok(()))` once it is stored
    /// (for a broker: confirmed). When the queue is full under
    /// [`Overflow::Wait`](super::Overflow::Wait) and `cx` is given, sets a
    /// ticket in `op`, registers the waker and returns `Pending`; without
    /// `cx`, fails with `Full` instead.
    ///
    /// # Errors
    ///
    /// `Closed` or `Full` with the message; `Store` if storing it failed.
    fn poll_publish(
        &self,
        op: &mut PublishOp<T>,
        cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), PublishError<T>>>;

    /// The caller of a pending `op` gives up. The backend forgets the
    /// ticket and, if it had woken this caller for room it will not use,
    /// wakes another waiting producer. A message already sent may still be
    /// stored (for a broker: unconfirmed).
    fn cancel_publish(&self, op: &mut PublishOp<T>);

    /// A producer was made. Backends that end the queue when every
    /// producer is gone count them; the default ignores it.
    fn add_producer(&self) {}

    /// A producer was dropped; see `add_producer`.
    fn remove_producer(&self) {}

    /// Registers a new consumer and returns its id.
    fn add_consumer(&self) -> u64;

    /// The next message for `consumer`; `Ready(Ok(None))` once the queue
    /// is closed and nothing can come back. Consumers waiting at once are
    /// served in turn.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] if the store could not hand a message over (a disk
    /// read or the broker's consume failed). `NotStored` promises that no
    /// message was marked delivered to `consumer`; `Unknown` says one may
    /// have been, and is then in flight until its ack deadline (or, for a
    /// broker, until the channel closes) brings it back. Either way the
    /// consumer has left the line of waiting consumers: a later call
    /// starts afresh.
    fn poll_deliver(
        &self,
        consumer: u64,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Handed<T>>, StoreError<()>>>;

    /// Up to `max` messages for `consumer` at once, within its prefetch,
    /// each passed to `out` in delivery order: waits (as `poll_deliver`
    /// does) only for the first, then hands what else is ready.
    /// `Ready(Ok(Some(n)))` with `n >= 1` handed; `Ready(Ok(None))` once
    /// the queue has ended. `out` must not call back into the backend.
    /// The front never asks for none: `max` is at least 1.
    ///
    /// A backend should pay its per-call costs (a lock, a clock read, a
    /// round trip, a deadline timer) once per batch, not once per message.
    /// The default hands one message through `poll_deliver`.
    ///
    /// # Errors
    ///
    /// As `poll_deliver`; messages already passed to `out` before a
    /// failure stay delivered.
    fn poll_deliver_batch(
        &self,
        consumer: u64,
        max: usize,
        cx: &mut Context<'_>,
        out: &mut dyn FnMut(Handed<T>),
    ) -> Poll<Result<Option<usize>, StoreError<()>>> {
        let _ = max;
        self.poll_deliver(consumer, cx).map_ok(|handed| {
            handed.map(|handed| {
                out(handed);
                1
            })
        })
    }

    /// `consumer` stopped waiting (its receive was cancelled): it leaves
    /// the line, and a message set aside for it goes back to the front of
    /// the queue, not counted as delivered.
    fn cancel_deliver(&self, consumer: u64);

    /// Forgets `consumer`, as `cancel_deliver` does for a message set aside.
    fn remove_consumer(&self, consumer: u64);

    /// Ends delivery `tag` with `verdict`. With `cx`, `Pending` means the
    /// verdict was sent and its confirmation is awaited (poll again with
    /// the same tag and verdict); without, that it was sent.
    ///
    /// # Errors
    ///
    /// [`AckError::NotInFlight`] if it already ended (settled before, or
    /// its ack deadline passed); [`AckError::Store`] if the store failed
    /// (the delivery is still in flight).
    fn poll_settle(
        &self,
        tag: u64,
        verdict: Verdict,
        cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), AckError>>;

    /// Moves delivery `tag`'s ack deadline to `extra` from now; `Pending`
    /// as for `poll_settle`.
    ///
    /// # Errors
    ///
    /// As `poll_settle`.
    fn poll_extend_deadline(
        &self,
        tag: u64,
        extra: Duration,
        cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), AckError>>;

    /// Refuses publishes from now on and wakes every waiter.
    fn close(&self);

    /// Whether `close` was called.
    fn is_closed(&self) -> bool;

    /// Removes every message waiting to be delivered (ready or delayed;
    /// not those in flight) and returns how many.
    fn purge(&self) -> usize;

    /// Moves the dead letters `choose` picks back into the queue (to be
    /// delivered afresh, their histories kept) and returns how many; none
    /// once the queue is closed. `choose` is user code: call it with no
    /// lock held.
    fn redrive(&self, choose: &mut dyn FnMut(&DeadLetter<T>) -> bool) -> usize;

    /// The queue's counters.
    fn stats(&self) -> Stats;

    /// The counters of one consumer.
    fn consumer_stats(&self, consumer: u64) -> ConsumerStats;

    /// Takes the oldest dead letter; when there is none, registers `cx`
    /// (if given) to be woken when one comes.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] if the store could not take it: `NotStored`
    /// promises the letter is still in the dead-letter queue (a retry gets
    /// it); `Unknown` says it may have been removed.
    fn poll_dead_letter(&self, cx: Option<&Context<'_>>) -> Poll<Result<DeadLetter<T>, StoreError<()>>>;

    /// The runtime whose clock the queue runs on, for the front's own
    /// timers (`recv_batch`'s wait). The default is none: the front then
    /// uses the current spawner.
    fn spawner(&self) -> Option<Spawner> {
        None
    }
}
// ANCHOR_END: backend
