//! Where the bus keeps its events: the [`Backend`] trait, and [`Memory`],
//! the in-process backend.
//!
//! The bus itself holds no events. It asks its backend for one
//! [`TopicLog`] per topic (an append-only log with a retained window) and
//! stores consumer groups' committed offsets through it. The in-memory
//! backend keeps both in process; the durable one (the `disk` feature) in
//! files. Planned, not built yet: a broker backend in RabbitMQ streams
//! (whose offsets, retention and consumer offset tracking are this same
//! model). Subscribers, patterns,
//! groups and handlers are the bus's work and are the same whatever the
//! backend.
//!
//! [`Backend`]'s docs state the contract an implementation keeps.

use super::error::PublishError;
use super::{Offset, Timestamp};
use crate::loom::{Mutex, lock};
use crate::{Properties, StoreError};
use std::any::Any;
use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

/// Who waits on a log: each subscriber cursor and each group member has
/// its own, so a log keeps one waker per reader (the latest) and forgets
/// it when the reader goes.
///
/// # Examples
///
/// ```
/// use weft::events::ReaderId;
///
/// assert_ne!(ReaderId::new(), ReaderId::new());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReaderId(u64);

impl ReaderId {
    /// A reader id unique in this process.
    pub fn new() -> ReaderId {
        // A counter only, ordering nothing: loom need not see it.
        static NEXT: AtomicU64 = AtomicU64::new(0);
        ReaderId(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// Its number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl Default for ReaderId {
    fn default() -> ReaderId {
        ReaderId::new()
    }
}

/// What a log keeps for one reading position between its reads: the
/// memory log keeps the row of events the last read ended in and a slot
/// for the reader's waker, so that the next read finds its events, or
/// leaves its waker, without taking the log's lock. The bus keeps one per
/// subscriber cursor and per group partition and hands it to every
/// [`TopicLog::poll_read`] from that position; a log that has no use for
/// it leaves it empty.
///
/// A fresh (empty) place is always correct, only perhaps slower: a log
/// checks that what it finds there is its own, and looks again otherwise.
/// Dropping a place, or giving it to another log, wakes the wait it held,
/// if any, so no wake-up is lost; a log that wraps another must pass the
/// place on untouched and keep its own state elsewhere.
///
/// # Examples
///
/// ```
/// use weft::events::ReadPlace;
///
/// let mut place = ReadPlace::new();
/// assert!(place.get_mut::<u64>().is_none());
/// place.insert(7_u64);
/// *place.get_mut::<u64>().unwrap() += 1;
/// assert_eq!(place.get_mut::<u64>(), Some(&mut 8));
/// assert!(place.get_mut::<String>().is_none());
/// place.clear();
/// assert!(place.get_mut::<u64>().is_none());
/// ```
#[derive(Default)]
pub struct ReadPlace(Option<Box<dyn Any + Send + Sync>>);

impl ReadPlace {
    /// An empty place.
    pub fn new() -> ReadPlace {
        ReadPlace(None)
    }

    /// What the log left here, if it is a `P`.
    #[inline]
    pub fn get_mut<P: Any>(&mut self) -> Option<&mut P> {
        self.0.as_deref_mut()?.downcast_mut()
    }

    /// Leaves `value` here for the next reads, in place of what was here;
    /// returns it.
    pub fn insert<P: Any + Send + Sync>(&mut self, value: P) -> &mut P {
        self.0 = Some(Box::new(value));
        self.get_mut().expect("just inserted")
    }

    /// Empties it.
    pub fn clear(&mut self) {
        self.0 = None;
    }
}

impl fmt::Debug for ReadPlace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadPlace")
            .field("kept", &self.0.is_some())
            .finish()
    }
}

/// Keeps `waker` as `reader`'s one waker among `waiters`; returns the one
/// it displaced, for the caller to drop once it has released its lock (a
/// waker's drop is user code that may call back in).
#[must_use = "drop the displaced waker after releasing the lock"]
pub(crate) fn register(
    waiters: &mut Vec<(ReaderId, Waker)>,
    reader: ReaderId,
    waker: &Waker,
) -> Option<Waker> {
    match waiters.iter_mut().find(|(id, _)| *id == reader) {
        Some((_, slot)) if slot.will_wake(waker) => None,
        Some((_, slot)) => Some(std::mem::replace(slot, waker.clone())),
        None => {
            waiters.push((reader, waker.clone()));
            None
        }
    }
}

/// Removes `reader`'s waker from `waiters`, returning it for the caller to
/// drop once it has released its lock.
#[must_use = "drop the removed waker after releasing the lock"]
pub(crate) fn unregister(waiters: &mut Vec<(ReaderId, Waker)>, reader: ReaderId) -> Option<Waker> {
    let at = waiters.iter().position(|(id, _)| *id == reader)?;
    Some(waiters.swap_remove(at).1)
}

/// Closes a log's readers: under `state`'s lock, sets the flag `parts`
/// finds and takes the waiters, then wakes them once the lock is released
/// (a wake is user code that may call back in).
pub(crate) fn close_readers<S>(
    state: &Mutex<S>,
    parts: impl FnOnce(&mut S) -> (&mut bool, &mut Vec<(ReaderId, Waker)>),
) {
    let waiters = {
        let mut state = lock(state);
        let (closed, waiters) = parts(&mut state);
        *closed = true;
        std::mem::take(waiters)
    };
    waiters.into_iter().for_each(|(_, waker)| waker.wake());
}

// ANCHOR: record
/// An event as a log stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<T> {
    /// Its place in the topic.
    pub offset: Offset,
    /// The bus-wide publication sequence number, which orders events of
    /// different topics for a pattern subscriber.
    pub seq: u64,
    /// Its properties, if it was published with some.
    pub properties: Option<Arc<Properties>>,
    /// Its key, if it was published with one.
    pub key: Option<Arc<str>>,
    /// When it was published: the bus's clock when the bus handed it to
    /// the backend, or the time its publisher set in its properties
    /// (clamped to what a [`Timestamp`] spans).
    pub timestamp: Timestamp,
    /// The event.
    pub payload: T,
}
// ANCHOR_END: record

/// What [`TopicLog::poll_read`] did: it always made progress (records
/// added, events skipped, or the end reached), else it would have
/// returned `Pending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    /// Where the next read should start.
    pub next: Offset,
    /// Events that were asked for but are gone (older than the retained
    /// window). The records read start after them.
    pub skipped: u64,
    /// The log is closed and the reader has everything: nothing more will
    /// come.
    pub closed: bool,
}

/// One event on its way into a log: what the bus passes to every poll of
/// [`TopicLog::poll_append`] for that event, until the append is `Ready`.
///
/// The log [`take`](Append::take)s the payload when it accepts it. Until
/// then the event is still the publisher's: a publisher that gives up
/// gets it back, and nothing was stored. Once taken, the append is the
/// log's to finish; [`note`](Append::note) keeps what it needs to find it
/// again (a delivery tag, a sequence number awaiting confirmation).
///
/// # Examples
///
/// ```
/// use weft::events::Append;
///
/// let mut append = Append::new(7, "order placed");
/// assert_eq!(append.seq(), 7);
/// assert_eq!(append.take(), Some("order placed"));
/// assert!(append.is_taken());
/// append.set_note(42);
/// assert_eq!(append.note(), 42);
/// ```
pub struct Append<T> {
    seq: u64,
    payload: Option<T>,
    properties: Option<Arc<Properties>>,
    key: Option<Arc<str>>,
    timestamp: SystemTime,
    size: usize,
    note: u64,
}

impl<T> Append<T> {
    /// An append of `payload` with bus sequence number `seq`, stamped
    /// with the Unix epoch until [`with_timestamp`](Append::with_timestamp)
    /// says otherwise (the bus always does).
    pub fn new(seq: u64, payload: T) -> Append<T> {
        Append::stamped(seq, payload, SystemTime::UNIX_EPOCH, 0)
    }

    /// An append stamped `timestamp`, of `size` bytes: the bus's own
    /// constructor, every field written once (building it field by field
    /// through the `with_` methods made each publish wait on a
    /// store-forwarding stall).
    pub(crate) fn stamped(seq: u64, payload: T, timestamp: SystemTime, size: usize) -> Append<T> {
        Append {
            seq,
            payload: Some(payload),
            properties: None,
            key: None,
            timestamp,
            size,
            note: 0,
        }
    }

    /// The same, counting `bytes` towards its log's
    /// [`max_bytes`](Retention::max_bytes).
    pub fn with_size(mut self, bytes: usize) -> Append<T> {
        self.size = bytes;
        self
    }

    /// Its size, as the bus's size function (or `size_of::<T>()`) gave it.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The same, stamped `at`.
    pub fn with_timestamp(mut self, at: SystemTime) -> Append<T> {
        self.timestamp = at;
        self
    }

    /// The time to store with it.
    pub fn timestamp(&self) -> SystemTime {
        self.timestamp
    }

    /// The same, carrying `key` (which chose its partition).
    pub fn with_key(mut self, key: Arc<str>) -> Append<T> {
        self.key = Some(key);
        self
    }

    /// The key to store with it, if any.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// Takes the key, to store it with the payload.
    pub fn take_key(&mut self) -> Option<Arc<str>> {
        self.key.take()
    }

    /// The same, carrying `properties` (stamped already).
    pub fn with_properties(mut self, properties: Arc<Properties>) -> Append<T> {
        self.properties = Some(properties);
        self
    }

    /// The properties to store with it, if any.
    pub fn properties(&self) -> Option<&Properties> {
        self.properties.as_deref()
    }

    /// Takes the properties, to store them with the payload.
    pub fn take_properties(&mut self) -> Option<Arc<Properties>> {
        self.properties.take()
    }

    /// The bus-wide publication sequence number to store with it.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Takes the payload: the log has accepted it. `None` if taken before.
    pub fn take(&mut self) -> Option<T> {
        self.payload.take()
    }

    /// The payload, if not taken yet.
    pub fn payload(&self) -> Option<&T> {
        self.payload.as_ref()
    }

    /// Whether the log has taken the payload.
    pub fn is_taken(&self) -> bool {
        self.payload.is_none()
    }

    /// The log's note on this append (0 until it sets one).
    pub fn note(&self) -> u64 {
        self.note
    }

    /// Keeps `note` with this append, for the log's next poll of it.
    pub fn set_note(&mut self, note: u64) {
        self.note = note;
    }
}

impl<T> fmt::Debug for Append<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Append")
            .field("seq", &self.seq)
            .field("taken", &self.is_taken())
            .field("note", &self.note)
            .finish()
    }
}

// ANCHOR: topic-log
/// One topic's log: append-only, numbered from offset 0, keeping a window
/// of the most recent events.
///
/// Implementations are shared between the publishers and readers of a
/// topic, so every method takes `&self`. [`Backend`]'s docs state what
/// `Pending` and each error promise.
pub trait TopicLog<T>: Send + Sync + 'static {
    /// Appends the event in `append` and returns its offset; wakes the
    /// readers waiting for it.
    ///
    /// `Pending` before the payload is taken: the log cannot accept it yet
    /// and wakes `cx` when it may. `Pending` after: the append is under
    /// way (awaiting a confirmation) and `cx` is woken when it is done.
    ///
    /// # Errors
    ///
    /// [`PublishError::Closed`] with the payload if the log is closed;
    /// [`PublishError::Store`] if the storage failed. No other variant.
    fn poll_append(
        &self,
        cx: &mut Context<'_>,
        append: &mut Append<T>,
    ) -> Poll<Result<Offset, PublishError<T>>>;

    /// Copies up to `max` records starting at `from` to the back of `out`,
    /// for `reader`, reading from `place` (what this log left there at the
    /// last read from this position, if anything; see [`ReadPlace`]).
    ///
    /// `Ready(Ok(_))` once there is something to report: records, skipped
    /// events or the end of a closed log. `Pending` if there is nothing
    /// yet: `waker`, when given, is woken at the next append, at close,
    /// or when a read under way completes. It replaces any waker `reader`
    /// left before (a log may keep the old one until its next append or
    /// close, which then wakes both: a spurious wake-up, never a lost one).
    ///
    /// `place` must be the one this position always reads from: a log
    /// keeps a pending wait there, so dropping the place, or replacing
    /// what a log left in it, ends the wait with a (spurious) wake-up. A
    /// log that wraps another passes the place on untouched.
    ///
    /// # Errors
    ///
    /// An I/O error if the storage could not be read; nothing was added
    /// to `out`.
    fn poll_read(
        &self,
        reader: ReaderId,
        place: &mut ReadPlace,
        from: Offset,
        max: usize,
        out: &mut VecDeque<Record<T>>,
        waker: Option<&Waker>,
    ) -> Poll<io::Result<Read>>;

    /// Drops the waker `reader` left, if any: it stopped waiting (its
    /// subscriber or member was dropped).
    fn forget(&self, reader: ReaderId);

    /// The oldest retained offset.
    fn start(&self) -> Offset;

    /// The offset the next append will get.
    fn end(&self) -> Offset;

    /// The first retained offset whose event's timestamp is at or after
    /// `time`; [`end`](TopicLog::end) if there is none yet.
    fn offset_at(&self, time: SystemTime) -> Offset;

    /// Keeps to `retention` from now on, removing what is already past
    /// it (at least one event is always kept).
    fn set_retention(&self, retention: Retention);

    /// Refuses appends from now on and wakes every reader; readers drain
    /// what is there and then see `closed`.
    fn close(&self);
}
// ANCHOR_END: topic-log

// ANCHOR: retention
/// How much of a topic a log keeps: at most `events` events, none older
/// than `max_age`, at most `max_bytes` bytes in all; whichever limit bites
/// first removes the oldest events. The newest event is always kept, even
/// if it alone is too old or too big. A reader behind what is kept gets
/// [`RecvError::Lagged`](super::RecvError::Lagged) with the exact count.
///
/// Age is measured against the newest event's timestamp, at each append:
/// a topic nobody publishes to keeps its last events.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft::events::Retention;
///
/// let week = Retention::from(10_000).max_age(Duration::from_secs(7 * 24 * 3600)).max_bytes(1 << 20);
/// assert_eq!(week.events, 10_000);
/// assert_eq!(Retention::default().max_age, None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// At most this many events (0 is taken as 1; default
    /// [`DEFAULT_RETENTION`](super::DEFAULT_RETENTION)).
    pub events: usize,
    /// Nothing older than this, by timestamp, than the newest event.
    pub max_age: Option<Duration>,
    /// At most this many bytes, as the bus's size function counts them
    /// (see [`Builder::build_sized`](super::Builder::build_sized)).
    pub max_bytes: Option<u64>,
}

impl Retention {
    /// The same, keeping nothing older than `age`.
    pub fn max_age(mut self, age: Duration) -> Retention {
        self.max_age = Some(age);
        self
    }

    /// The same, keeping at most `bytes` bytes.
    pub fn max_bytes(mut self, bytes: u64) -> Retention {
        self.max_bytes = Some(bytes);
        self
    }
}

impl Default for Retention {
    fn default() -> Retention {
        Retention::from(super::DEFAULT_RETENTION)
    }
}

/// A count limit only.
impl From<usize> for Retention {
    fn from(events: usize) -> Retention {
        Retention {
            events,
            max_age: None,
            max_bytes: None,
        }
    }
}
// ANCHOR_END: retention

// ANCHOR: topic-options
/// How a topic is made: [`EventBus::create_topic`](super::EventBus::create_topic)
/// takes one, and a [`Backend`] opens a topic with one.
///
/// # Examples
///
/// ```
/// use weft::events::{EventBus, TopicOptions};
///
/// let bus = EventBus::<u32>::new();
/// let options = TopicOptions { partitions: 4, ..TopicOptions::default() };
/// let orders = bus.create_topic("order.placed", options).unwrap();
/// assert_eq!(orders.partitions(), 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopicOptions {
    /// How many partitions (default 1; 0 is taken as 1). Fixed when the
    /// topic is made: a topic that exists keeps its count.
    pub partitions: u32,
    /// What each partition keeps (default: the bus's, set by
    /// [`Builder::retention`](super::Builder::retention) and its
    /// neighbours).
    pub retention: Option<Retention>,
}

impl Default for TopicOptions {
    fn default() -> TopicOptions {
        TopicOptions {
            partitions: 1,
            retention: None,
        }
    }
}
// ANCHOR_END: topic-options

// ANCHOR: backend
/// Storage for an [`EventBus`](super::EventBus): topic logs and consumer
/// group offsets.
///
/// # Implementing a backend
///
/// Every operation that a disk or a broker performs — opening a topic,
/// appending, reading, storing and loading a group's offset — is
/// poll-style, as [`Future::poll`](std::future::Future::poll) is:
///
/// - **`Poll::Pending`** means "not done yet, and I have arranged to wake
///   the waker I was given when it is worth polling again" (a confirmed
///   append is a round trip; a read may wait for the disk). The backend,
///   not the bus, does that waking: from its I/O thread, its reactor
///   registration, or the append that brings the awaited record. A
///   `Pending` that wakes nobody strands the reader or publisher. Where
///   the caller passes no waker ([`TopicLog::poll_read`] with `None`, for
///   a `try_recv`), `Pending` only says "nothing now".
/// - A log keeps at most one waker per [`ReaderId`] (the latest), and drops
///   it when told to [`forget`](TopicLog::forget) the reader: a reader that
///   stopped waiting must not keep its task alive in the log.
/// - The caller polls again with the same arguments (for an append, the
///   same [`Append`]) until it gets `Ready`, or gives up and drops what it
///   held: a cancelled publisher or reader. A backend must not rely on
///   being polled again, and must not hold a waker it was given longer than
///   it needs to (it may keep the latest one per waiter).
/// - **An error promises exactly what it says.** A [`StoreError::NotStored`]
///   hands the value back: it is not stored and will not be, so sending it
///   again cannot duplicate it. [`StoreError::Unknown`] says the backend
///   cannot tell (the connection died before the broker confirmed). A read
///   error (`io::Error`) leaves the reader where it was: nothing was added
///   to its buffer, and the same read may be tried again.
/// - Where the bus waits today: `publish` (opening the topic and the
///   append) and reads. Calls that cannot wait (`EventBus::topic`,
///   `subscribe`, `join`, `committed`, and the commit inside
///   `GroupEvent::ack`) poll once and report `Pending` as an I/O error of
///   kind `WouldBlock`; an ack's commit is tried again at the next ack.
/// - The in-memory backend is never pending (except a read with nothing to
///   read) and never fails.
pub trait Backend<T>: Send + Sync + 'static {
    /// The logs of `topic`'s partitions, partition 0 first: created with
    /// `partitions` partitions each keeping to `retention` if the
    /// topic is new. A topic that exists keeps the partition count it was
    /// made with (the length of the answer says it). A log closed by an
    /// earlier bus is opened again. Polling again after `Pending` (or
    /// opening a topic twice) must not make two logs for one partition.
    ///
    /// # Errors
    ///
    /// A storage failure.
    fn poll_open(
        &self,
        cx: &mut Context<'_>,
        topic: &str,
        partitions: u32,
        retention: Retention,
    ) -> Poll<io::Result<Vec<Arc<dyn TopicLog<T>>>>>;

    /// The topics that already exist, so a bus started on stored data can
    /// match them against patterns. A backend that must ask a broker
    /// answers from what it learned when it connected.
    fn topics(&self) -> Vec<String>;

    /// Stores that `group` has handled every event of `topic`'s partition
    /// `partition` before `offset`. After `Pending`, the caller polls again with the same or
    /// a later offset.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotStored`] with the offset if the group's stored
    /// offset is unchanged; [`StoreError::Unknown`] if it may or may not
    /// have moved.
    fn poll_commit(
        &self,
        cx: &mut Context<'_>,
        group: &str,
        topic: &str,
        partition: u32,
        offset: Offset,
    ) -> Poll<Result<(), StoreError<Offset>>>;

    /// The offset `group` last committed on `topic`'s partition
    /// `partition`.
    ///
    /// # Errors
    ///
    /// A storage failure.
    fn poll_committed(
        &self,
        cx: &mut Context<'_>,
        group: &str,
        topic: &str,
        partition: u32,
    ) -> Poll<io::Result<Option<Offset>>>;
}
// ANCHOR_END: backend
