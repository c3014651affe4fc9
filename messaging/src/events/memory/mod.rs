//! The in-process backend, [`Memory`], and its topic log.
//!
//! # The log's protocol
//!
//! A partition's log is a run of *chunks*: rows of slots, each written once,
//! in offset order, and never changed after. The log's lock serialises the
//! appends and guards the bookkeeping — where the retained window starts
//! and ends, which chunks hold it, the readers that wait under it, the
//! bytes retained — and the log publishes the window and its close in
//! atomics, so that a reader seldom needs the lock:
//!
//! - **Append.** The bus builds the event (stamped, keyed, sized) before it
//!   calls in, so under the lock an append only fills the slot at `end`,
//!   moves `end` on (opening a chunk when the last one is full, once per
//!   [`CHUNK`] events, and linking it from the one before), applies
//!   retention, publishes the new window (the end stored with release
//!   ordering, after the fill) and takes the wakers of the readers waiting
//!   under the lock. After releasing it, it wakes those, and the readers
//!   that wait in waker slots (`waiting.rs`).
//! - **Read.** A reader keeps, in its [`ReadPlace`], the chunk its last read
//!   ended in. If the offset it asks for is below the published end and in
//!   that chunk or the next, it copies the events out with no lock at all:
//!   every slot below the end it loaded (acquire) was filled before that end
//!   was stored, and a filled slot is never written again. So a slot is a
//!   plain cell with no synchronisation of its own (the crate's one piece
//!   of unsafe code, in `row.rs`, checked by loom's models and by miri).
//!   Otherwise (a first read, a seek, events gone past retention) it takes
//!   the lock to learn the window and the chunk, and still copies after
//!   releasing it.
//! - **Wait.** A reader with nothing to read leaves its waker in its waker
//!   slot and looks at the end once more (`waiting.rs` says why no append
//!   can slip between). Only a reader without a slot takes the lock to
//!   wait. This matters for the fan-out: sixteen readers close behind one
//!   publisher, each taking the lock to wait, made the lock a convoy (37 000
//!   `futex` calls a second, `benches/RESULTS.md`).
//! - **Retention** moves `start` on. A chunk leaves the log once all its
//!   slots are before `start`; its events are dropped when the last reader
//!   that keeps it moves on, never under the lock (a payload's drop is user
//!   code, which may publish again).
//!
//! So the lock is held for a few words of bookkeeping per append, and a
//! reader that keeps up takes it only for its first read.

use self::row::Row;
use self::waiting::{Slot, Waiting};
use super::backend::{
    Append, Backend, Read, ReadPlace, ReaderId, Record, Retention, TopicLog, close_readers, register,
    unregister,
};
use super::{Offset, PublishError, Timestamp};
use crate::loom::atomic::{AtomicBool, AtomicU64, Ordering};
use crate::loom::{Mutex, lock};
use crate::{Properties, StoreError};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::SystemTime;

mod row;
mod waiting;

/// How many events a chunk holds (fewer in a log that retains fewer).
const CHUNK: usize = 64;

/// The in-process backend: logs in memory, lost with the process.
///
/// Clones share their data, so a bus dropped and built again on a clone
/// finds its topics and its groups' committed offsets (this is how the
/// tests restart a bus). One bus at a time should serve a backend.
///
/// A log keeps its events in rows of up to 64, and frees a row once all
/// its events are past retention and no reader still reads from it: up to
/// 63 events beyond the retained window may stay in memory (never
/// readable) until then, and a reader that stopped reading keeps the row
/// of its last read (at most 64 events) until it reads on or is dropped.
///
/// # Examples
///
/// ```
/// use weft::events::{EventBus, Memory, StartAt};
///
/// let memory = Memory::new();
/// let bus = EventBus::builder().build_with(memory.clone());
/// bus.try_publish("audit", "logged in").unwrap();
/// drop(bus);
///
/// let bus: EventBus<&str> = EventBus::builder().build_with(memory);
/// let mut replay = bus.subscribe("audit", StartAt::Start).unwrap();
/// assert_eq!(*replay.try_recv().unwrap().unwrap(), "logged in");
/// ```
pub struct Memory<T> {
    shared: Arc<MemoryShared<T>>,
}

struct MemoryShared<T> {
    /// Each topic's partitions.
    topics: Mutex<HashMap<String, Vec<Arc<MemoryLog<T>>>>>,
    /// By (group, topic, partition).
    commits: Mutex<HashMap<(String, String, u32), Offset>>,
}

impl<T: Clone + Send + Sync + 'static> Memory<T> {
    /// An empty store.
    pub fn new() -> Memory<T> {
        Memory {
            shared: Arc::new(MemoryShared {
                topics: Mutex::new(HashMap::new()),
                commits: Mutex::new(HashMap::new()),
            }),
        }
    }
}

impl<T: Clone + Send + Sync + 'static> Default for Memory<T> {
    fn default() -> Self {
        Memory::new()
    }
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
        f.debug_struct("Memory")
            .field("topics", &lock(&self.shared.topics).len())
            .finish_non_exhaustive()
    }
}

impl<T: Clone + Send + Sync + 'static> Backend<T> for Memory<T> {
    fn poll_open(
        &self,
        _: &mut Context<'_>,
        topic: &str,
        partitions: u32,
        retention: Retention,
    ) -> Poll<io::Result<Vec<Arc<dyn TopicLog<T>>>>> {
        let mut topics = lock(&self.shared.topics);
        let logs = topics.entry(topic.to_owned()).or_insert_with(|| {
            (0..partitions.max(1))
                .map(|_| Arc::new(MemoryLog::new(retention)))
                .collect()
        });
        let logs = logs
            .iter()
            .map(|log| {
                let mut state = lock(&log.state);
                state.closed = false;
                log.publish(&state);
                log.clone() as Arc<dyn TopicLog<T>>
            })
            .collect();
        Poll::Ready(Ok(logs))
    }

    fn topics(&self) -> Vec<String> {
        lock(&self.shared.topics).keys().cloned().collect()
    }

    fn poll_commit(
        &self,
        _: &mut Context<'_>,
        group: &str,
        topic: &str,
        partition: u32,
        offset: Offset,
    ) -> Poll<Result<(), StoreError<Offset>>> {
        let key = (group.to_owned(), topic.to_owned(), partition);
        lock(&self.shared.commits).insert(key, offset);
        Poll::Ready(Ok(()))
    }

    fn poll_committed(
        &self,
        _: &mut Context<'_>,
        group: &str,
        topic: &str,
        partition: u32,
    ) -> Poll<io::Result<Option<Offset>>> {
        let commits = lock(&self.shared.commits);
        let key = (group.to_owned(), topic.to_owned(), partition);
        Poll::Ready(Ok(commits.get(&key).copied()))
    }
}

/// An event as the memory log keeps it.
struct Entry<T> {
    seq: u64,
    size: usize,
    timestamp: Timestamp,
    properties: Option<Arc<Properties>>,
    key: Option<Arc<str>>,
    payload: T,
}

/// A topic log in memory.
struct MemoryLog<T> {
    /// Its number, which the places of its readers carry.
    id: u64,
    state: Mutex<LogState<T>>,
    /// The slots where up to 64 readers wait without the lock.
    waiting: Arc<Waiting>,
    /// The window and the close, published for reads without the lock:
    /// each stored (release) under the lock when `state`'s copy changes,
    /// the end after the slot below it is filled.
    published: Published,
}

/// What a reader may learn of a log without its lock.
struct Published {
    start: AtomicU64,
    end: AtomicU64,
    closed: AtomicBool,
}

struct LogState<T> {
    /// The oldest retained offset.
    start: u64,
    /// The offset the next append gets.
    end: u64,
    /// Holding `start..end`, oldest first; each `chunk` slots long.
    chunks: VecDeque<Arc<Row<T>>>,
    /// The length of a chunk, fixed when the log is made.
    chunk: usize,
    retention: Retention,
    /// The sizes of the retained events, summed.
    bytes: u64,
    /// One waker per waiting reader.
    waiters: Vec<(ReaderId, Waker)>,
    closed: bool,
}

impl<T> LogState<T> {
    /// How many events are retained.
    fn len(&self) -> u64 {
        self.end - self.start
    }

    /// The chunk holding `offset` (retained: `start <= offset < end`).
    fn chunk_of(&self, offset: u64) -> &Arc<Row<T>> {
        let first = self.chunks.front().map_or(offset, |chunk| chunk.base());
        &self.chunks[((offset - first) / self.chunk as u64) as usize]
    }

    /// What `f` reads of the retained event at `offset`.
    fn read<R>(&self, offset: u64, f: impl FnOnce(&Entry<T>) -> R) -> R {
        debug_assert!((self.start..self.end).contains(&offset), "a retained offset");
        // SAFETY: a `LogState` is reached only through the log's lock, which
        // the caller holds, and `offset` is below the end it guards.
        unsafe { self.chunk_of(offset).with(offset, f) }
    }

    /// Fills the slot at `end` and moves `end` on.
    fn push(&mut self, entry: Entry<T>) {
        if self.chunks.back().is_none_or(|last| self.end >= last.end()) {
            let row = Arc::new(Row::new(self.end, self.chunk));
            if let Some(last) = self.chunks.back() {
                last.link(&row);
            }
            self.chunks.push_back(row);
        }
        let last = self
            .chunks
            .back()
            .expect("a chunk was just made if none had room");
        // SAFETY: the caller holds the log's lock (a `LogState` is reached
        // only through it), and the slot is the end's, which no reader
        // reads until the end moves past it below, under the same lock.
        unsafe { last.fill(self.end, entry) };
        self.end += 1;
    }

    /// Removes the oldest event (there is one); returns its chunk if that
    /// holds nothing retained any more, for the caller to drop once it has
    /// released the lock.
    fn pop(&mut self) -> Option<Arc<Row<T>>> {
        self.bytes -= self.read(self.start, |entry| entry.size) as u64;
        self.start += 1;
        let front = self.chunks.front()?;
        (front.end() <= self.start)
            .then(|| self.chunks.pop_front())
            .flatten()
    }

    /// Whether the oldest event must go by age or bytes, the newest being
    /// stamped `newest` (which always stays).
    fn past_limits(&self, newest: Timestamp) -> bool {
        if self.len() <= 1 {
            return false;
        }
        let too_old = self.retention.max_age.is_some_and(|age| {
            let oldest = self.read(self.start, |entry| entry.timestamp);
            // Nanoseconds past `u64::MAX` saturate, as a timestamp does.
            let age = u64::try_from(age.as_nanos()).unwrap_or(u64::MAX);
            newest.as_nanos().saturating_sub(oldest.as_nanos()) > age
        });
        let too_big = self.retention.max_bytes.is_some_and(|max| self.bytes > max);
        too_old || too_big
    }
}

impl<T> MemoryLog<T> {
    fn new(retention: Retention) -> MemoryLog<T> {
        let events = retention.events.max(1);
        // A counter only, ordering nothing: loom need not see it.
        static LOGS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let id = LOGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        MemoryLog {
            id,
            state: Mutex::new(LogState {
                start: 0,
                end: 0,
                chunks: VecDeque::new(),
                chunk: events.min(CHUNK),
                retention: Retention { events, ..retention },
                bytes: 0,
                waiters: Vec::new(),
                closed: false,
            }),
            waiting: Arc::new(Waiting::new()),
            published: Published {
                start: AtomicU64::new(0),
                end: AtomicU64::new(0),
                closed: AtomicBool::new(false),
            },
        }
    }

    /// Publishes `state`'s window and close (the caller holds the lock that
    /// `state` was reached through).
    fn publish(&self, state: &LogState<T>) {
        self.published.start.store(state.start, Ordering::Release);
        self.published.end.store(state.end, Ordering::Release);
        self.published.closed.store(state.closed, Ordering::Release);
    }
}

impl<T: Clone + Send + Sync + 'static> MemoryLog<T> {
    /// This log's own state in `place`, made afresh if the place holds
    /// none (a new reader) or another log's.
    fn place<'p>(&self, place: &'p mut ReadPlace) -> &'p mut Place<T> {
        if place.get_mut::<Place<T>>().is_none_or(|kept| kept.log != self.id) {
            place.insert(Place::<T> {
                log: self.id,
                row: None,
                slot: None,
            });
        }
        place.get_mut().expect("a place of this log is there")
    }

    /// A read that takes no lock: events below the published end, from the
    /// row `place` keeps or the one after it. `None` if it cannot tell
    /// without the lock: nothing to read, events gone to count, or no row
    /// kept for `from`.
    #[inline]
    fn read_unlocked(
        &self,
        place: &mut Place<T>,
        from: u64,
        max: usize,
        out: &mut VecDeque<Record<T>>,
    ) -> Option<Read> {
        // The close first: once it is seen, the end loaded after it is at
        // least the last end before the close (both are published under the
        // lock). Only a reopen by another bus can move it on after that,
        // and this reader's bus was closed.
        let closed = self.published.closed.load(Ordering::Acquire);
        let end = self.published.end.load(Ordering::Acquire);
        // `max == 0` is no progress: the locked path says so (`Pending`).
        if max == 0 || from >= end || from < self.published.start.load(Ordering::Acquire) {
            return None;
        }
        let kept = place.row.as_ref()?;
        if from == kept.end() {
            // Read to the end of its row: on to the next, which the log
            // opened before its end moved past `from`.
            place.row = Some(kept.next()?);
        } else if !(kept.base()..kept.end()).contains(&from) {
            return None;
        }
        let row = place.row.as_ref()?;
        let count = (end.min(row.end()) - from).min(max as u64);
        // SAFETY: `from..from + count` is below `end`, loaded (acquire) from
        // the end the log stores after each fill, in `row`, which the place
        // keeps alive.
        unsafe { copy_out(row, from, count, out) };
        let next = from + count;
        Some(Read {
            next: Offset::new(next),
            skipped: 0,
            closed: closed && next >= end,
        })
    }

    /// Whether a reader at `from` has everything there is, and the log is
    /// open (the close first, as in `read_unlocked`).
    fn caught_up(&self, from: u64) -> bool {
        !self.published.closed.load(Ordering::Acquire) && from >= self.published.end.load(Ordering::Acquire)
    }
}

/// What the memory log keeps in a reader's [`ReadPlace`].
struct Place<T> {
    /// The log's number: a place is never taken for another log's.
    log: u64,
    /// The row the last read ended in.
    row: Option<Arc<Row<T>>>,
    /// Where a reader waiting from this place leaves its waker without the
    /// lock (none if the log's 64 are taken); lent to one reader at a time
    /// (see `waiting`).
    slot: Option<Slot>,
}

impl<T: Clone + Send + Sync + 'static> TopicLog<T> for MemoryLog<T> {
    // ANCHOR: memory-append
    fn poll_append(
        &self,
        _: &mut Context<'_>,
        append: &mut Append<T>,
    ) -> Poll<Result<Offset, PublishError<T>>> {
        let Some(payload) = append.take() else {
            let error = io::Error::other("an append polled after it completed");
            return Poll::Ready(Err(PublishError::Store(StoreError::Unknown { error })));
        };
        // Built before the lock is taken: under it, the event is only moved
        // into its slot.
        let entry = Entry {
            seq: append.seq(),
            size: append.size(),
            timestamp: Timestamp::from(append.timestamp()),
            properties: append.take_properties(),
            key: append.take_key(),
            payload,
        };
        // Chunks that retention empties are dropped after the lock is
        // released: their events' drops are user code that may publish again.
        let (offset, waiters, _gone) = {
            let mut state = lock(&self.state);
            if state.closed {
                return Poll::Ready(Err(PublishError::Closed(entry.payload)));
            }
            let mut gone = Vec::new();
            let start = state.start;
            // Make room first, so the window never grows past retention.
            if state.len() >= state.retention.events as u64 {
                gone.extend(state.pop());
            }
            let offset = state.end;
            let newest = entry.timestamp;
            state.bytes += entry.size as u64;
            state.push(entry);
            // Age and bytes, in the rare case they bite.
            if state.retention.max_age.is_some() || state.retention.max_bytes.is_some() {
                while state.past_limits(newest) {
                    gone.extend(state.pop());
                }
            }
            // Only what an append changes: the end, and the start if
            // retention moved it (the close cannot change here).
            if state.start != start {
                self.published.start.store(state.start, Ordering::Release);
            }
            self.published.end.store(state.end, Ordering::Release);
            // The readers woken will wait again: leave them room for as
            // many wakers, one allocation instead of a `Vec` growing anew.
            let waiters = if state.waiters.is_empty() {
                Vec::new()
            } else {
                let room = Vec::with_capacity(state.waiters.len());
                std::mem::replace(&mut state.waiters, room)
            };
            (offset, waiters, gone)
        };
        waiters.into_iter().for_each(|(_, waker)| waker.wake());
        self.waiting.wake();
        Poll::Ready(Ok(Offset::new(offset)))
    }
    // ANCHOR_END: memory-append

    // ANCHOR: memory-read
    fn poll_read(
        &self,
        reader: ReaderId,
        place: &mut ReadPlace,
        from: Offset,
        max: usize,
        out: &mut VecDeque<Record<T>>,
        waker: Option<&Waker>,
    ) -> Poll<io::Result<Read>> {
        let from = from.get();
        let place = self.place(place);
        if let Some(read) = self.read_unlocked(place, from, max, out) {
            return Poll::Ready(Ok(read));
        }
        // Caught up: leave the waker in the reader's slot, then look again.
        if let Some(waker) = waker
            && self.caught_up(from)
        {
            if place.slot.is_none() {
                place.slot = Slot::take(&self.waiting);
            }
            if let Some(slot) = place.slot.as_ref().filter(|slot| slot.lent_to(reader)) {
                slot.leave(waker);
                if self.caught_up(from) {
                    return Poll::Pending;
                }
                if let Some(read) = self.read_unlocked(place, from, max, out) {
                    return Poll::Ready(Ok(read));
                }
            }
        }
        // Declared before the guard, so dropped after it: the row the place
        // kept before, and a displaced waker.
        let mut _previous = None;
        let mut _displaced = None;
        // Under the lock: the window, and the row to copy from, which the
        // place keeps for the next read.
        let (first, count, read) = {
            let mut state = lock(&self.state);
            let skipped = state.start.saturating_sub(from);
            let first = from.max(state.start);
            let mut count = state.end.saturating_sub(first).min(max as u64);
            if count > 0 {
                let row = state.chunk_of(first);
                // One row per read: the next read goes on from its end.
                count = count.min(row.end() - first);
                _previous = place.row.replace(row.clone());
            }
            let next = first + count;
            let closed = state.closed && next >= state.end;
            if count == 0 && skipped == 0 && !closed {
                // Nothing to report: wait for the next append or the close.
                if let Some(waker) = waker {
                    _displaced = register(&mut state.waiters, reader, waker);
                }
                return Poll::Pending;
            }
            let read = Read {
                next: Offset::new(next),
                skipped,
                closed,
            };
            (first, count, read)
        };
        if let Some(row) = place.row.as_ref().filter(|_| count > 0) {
            // SAFETY: `first..first + count` is below the end read under the
            // lock above, in `row`, which the place keeps alive.
            unsafe { copy_out(row, first, count, out) };
        }
        Poll::Ready(Ok(read))
    }
    // ANCHOR_END: memory-read

    fn start(&self) -> Offset {
        Offset::new(lock(&self.state).start)
    }

    fn end(&self) -> Offset {
        Offset::new(lock(&self.state).end)
    }

    fn offset_at(&self, time: SystemTime) -> Offset {
        let state = lock(&self.state);
        // Publisher-set times need not grow with the offset: look at each.
        let time = Timestamp::from(time);
        let at = (state.start..state.end).find(|&offset| state.read(offset, |entry| entry.timestamp) >= time);
        Offset::new(at.unwrap_or(state.end))
    }

    fn set_retention(&self, retention: Retention) {
        let gone: Vec<_> = {
            let mut state = lock(&self.state);
            state.retention = Retention {
                events: retention.events.max(1),
                ..retention
            };
            let mut gone = Vec::new();
            while state.len() > state.retention.events as u64 {
                gone.extend(state.pop());
            }
            if state.len() > 0 {
                let newest = state.read(state.end - 1, |entry| entry.timestamp);
                while state.past_limits(newest) {
                    gone.extend(state.pop());
                }
            }
            self.publish(&state);
            gone
        };
        // Dropped outside the lock, as in `append`.
        drop(gone);
    }

    fn forget(&self, reader: ReaderId) {
        self.waiting.forget(reader);
        let _gone = unregister(&mut lock(&self.state).waiters, reader);
    }

    fn close(&self) {
        // Published under the lock, so a reopen (`poll_open`) cannot slip
        // between the close and its publication and leave an open log
        // published as closed.
        close_readers(&self.state, |state| {
            state.closed = true;
            self.publish(state);
            (&mut state.closed, &mut state.waiters)
        });
        self.waiting.wake();
    }
}

/// Copies the events at `first..first + count` in `row` to the back of
/// `out`, as records.
///
/// # Safety
///
/// As [`Row::with`]: every offset copied is below an end read under the
/// log's lock or loaded from its published end.
unsafe fn copy_out<T: Clone>(row: &Row<T>, first: u64, count: u64, out: &mut VecDeque<Record<T>>) {
    // A `T::clone` that panics part-way must leave `out` as it was, so the
    // reader reads the same offsets again rather than holding half a batch
    // twice.
    let out = UndoOnUnwind::new(out);
    out.0.extend((first..first + count).map(|offset| {
        let record = |entry: &Entry<T>| Record {
            offset: Offset::new(offset),
            seq: entry.seq,
            properties: entry.properties.clone(),
            key: entry.key.clone(),
            timestamp: entry.timestamp,
            payload: entry.payload.clone(),
        };
        // SAFETY: the caller's obligation.
        unsafe { row.with(offset, record) }
    }));
}

/// Truncates a reader's buffer back to its length at creation if dropped
/// during a panic.
struct UndoOnUnwind<'a, T>(&'a mut VecDeque<Record<T>>, usize);

impl<'a, T> UndoOnUnwind<'a, T> {
    fn new(out: &'a mut VecDeque<Record<T>>) -> Self {
        let len = out.len();
        UndoOnUnwind(out, len)
    }
}

impl<T> Drop for UndoOnUnwind<'_, T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.truncate(self.1);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
