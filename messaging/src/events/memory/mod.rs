//! The in-process backend, [`Memory`], and its topic log.
//!
//! # The log's protocol
//!
//! A partition's log is a run of *chunks*: rows of slots, each written once,
//! in offset order, and never changed after. The log's lock guards the
//! bookkeeping only — where the retained window starts and ends, which
//! chunks hold it, the waiting readers, the bytes retained:
//!
//! - **Append.** The bus builds the event (stamped, keyed, sized) before it
//!   calls in, so under the lock an append only fills the slot at `end`,
//!   moves `end` on (opening a chunk when the last one is full, once per
//!   [`CHUNK`] events), applies retention and takes the waiting readers'
//!   wakers, which it wakes after releasing the lock.
//! - **Read.** A reader takes the lock to learn the window and to clone
//!   the `Arc` of the chunk that holds the offset it asks for (one count
//!   for up to a chunk of events), or to leave its waker if there is
//!   nothing to read. It copies the events out *after* releasing the lock.
//!   That is sound because every slot below the `end` it saw was filled
//!   before the lock that published that `end` was released, and a filled
//!   slot is never written again: the lock orders the fill before the read.
//!   So a slot is a plain cell with no synchronisation of its own (the
//!   crate's one piece of unsafe code, in `row.rs`, checked by loom's
//!   models and by miri).
//! - **Retention** moves `start` on. A chunk leaves the log once all its
//!   slots are before `start`; its events are dropped when the last reader
//!   still copying from it lets go, never under the lock (a payload's drop
//!   is user code, which may publish again).
//!
//! So the lock is held for a few words of bookkeeping per append and per
//! read, whatever the size of an event and however many a reader copies.

use self::row::Row;
use super::backend::{
    Append, Backend, Read, ReaderId, Record, Retention, TopicLog, close_readers, register, unregister,
};
use super::{Offset, PublishError, Timestamp};
use crate::loom::{Mutex, lock};
use crate::{Properties, StoreError};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::SystemTime;

mod row;

/// How many events a chunk holds (fewer in a log that retains fewer).
const CHUNK: usize = 64;

/// The in-process backend: logs in memory, lost with the process.
///
/// Clones share their data, so a bus dropped and built again on a clone
/// finds its topics and its groups' committed offsets (this is how the
/// tests restart a bus). One bus at a time should serve a backend.
///
/// A log keeps its events in rows of up to 64, and frees a row once all
/// its events are past retention, so up to 63 events beyond the retained
/// window may stay in memory (never readable) until then.
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
                lock(&log.state).closed = false;
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
    state: Mutex<LogState<T>>,
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
            self.chunks.push_back(Arc::new(Row::new(self.end, self.chunk)));
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
        MemoryLog {
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
        }
    }
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
        Poll::Ready(Ok(Offset::new(offset)))
    }
    // ANCHOR_END: memory-append

    // ANCHOR: memory-read
    fn poll_read(
        &self,
        reader: ReaderId,
        from: Offset,
        max: usize,
        out: &mut VecDeque<Record<T>>,
        waker: Option<&Waker>,
    ) -> Poll<io::Result<Read>> {
        // Declared before the guard, so dropped after it.
        let mut _displaced = None;
        // Under the lock: the window, and the chunk to copy from.
        let (chunk, first, count, read) = {
            let mut state = lock(&self.state);
            let skipped = state.start.saturating_sub(from.get());
            let first = from.get().max(state.start);
            let mut count = state.end.saturating_sub(first).min(max as u64);
            let mut chunk = None;
            if count > 0 {
                let holder = state.chunk_of(first).clone();
                // One chunk per read: the next read goes on from its end.
                count = count.min(holder.end() - first);
                chunk = Some(holder);
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
            (chunk, first, count, read)
        };
        // Outside the lock: the slots below the end seen under it are
        // filled and never written again.
        if let Some(chunk) = chunk {
            // A `T::clone` that panics part-way must leave `out` as it was,
            // so the reader reads the same offsets again rather than
            // holding half a batch twice.
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
                // SAFETY: `offset` is below the end read under the lock
                // above, with `chunk` retained then.
                unsafe { chunk.with(offset, record) }
            }));
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
            gone
        };
        // Dropped outside the lock, as in `append`.
        drop(gone);
    }

    fn forget(&self, reader: ReaderId) {
        let _gone = unregister(&mut lock(&self.state).waiters, reader);
    }

    fn close(&self) {
        close_readers(&self.state, |state| (&mut state.closed, &mut state.waiters));
    }
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
