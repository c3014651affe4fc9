//! Where the bus keeps its events: the [`Backend`] trait, and [`Memory`],
//! the in-process backend.
//!
//! The bus itself holds no events. It asks its backend for one
//! [`TopicLog`] per topic (an append-only log with a retained window) and
//! stores consumer groups' committed offsets through it. The in-memory
//! backend keeps both in process. Planned, not built yet: a durable
//! backend keeping them in files, and a broker backend in RabbitMQ streams
//! (whose offsets, retention and consumer offset tracking are this same
//! model). Subscribers, patterns,
//! groups and handlers are the bus's work and are the same whatever the
//! backend.

use super::Offset;
use crate::loom::{Mutex, lock};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io;
use std::sync::Arc;
use std::task::Waker;

// ANCHOR: record
/// An event as a log stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<T> {
    /// Its place in the topic.
    pub offset: Offset,
    /// The bus-wide publication sequence number, which orders events of
    /// different topics for a pattern subscriber.
    pub seq: u64,
    /// The event.
    pub payload: T,
}
// ANCHOR_END: record

/// What [`TopicLog::read`] did.
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

// ANCHOR: topic-log
/// One topic's log: append-only, numbered from offset 0, keeping a window
/// of the most recent events.
///
/// Implementations are shared between the publishers and readers of a
/// topic, so every method takes `&self`.
pub trait TopicLog<T>: Send + Sync + 'static {
    /// Appends `payload` with bus sequence number `seq` and returns its
    /// offset; wakes the readers waiting for it.
    ///
    /// # Errors
    ///
    /// `Err(Ok(payload))` if the log is closed; `Err(Err(e))` if the
    /// storage failed.
    fn append(&self, seq: u64, payload: T) -> Result<Offset, Result<T, io::Error>>;

    /// Copies up to `max` records starting at `from` to the back of `out`.
    /// If none is there yet and the log is open, `waker` (when given) is
    /// woken at the next append or at close.
    fn read(&self, from: Offset, max: usize, out: &mut VecDeque<Record<T>>, waker: Option<&Waker>) -> Read;

    /// The oldest retained offset.
    fn start(&self) -> Offset;

    /// The offset the next append will get.
    fn end(&self) -> Offset;

    /// Keeps at most `retention` events (at least one).
    fn set_retention(&self, retention: usize);

    /// Refuses appends from now on and wakes every reader; readers drain
    /// what is there and then see `closed`.
    fn close(&self);
}
// ANCHOR_END: topic-log

// ANCHOR: backend
/// Storage for an [`EventBus`](super::EventBus): topic logs and consumer
/// group offsets.
pub trait Backend<T>: Send + Sync + 'static {
    /// The log of `topic`, created with `retention` if new. A log closed
    /// by an earlier bus is opened again.
    ///
    /// # Errors
    ///
    /// A storage failure.
    fn open(&self, topic: &str, retention: usize) -> io::Result<Arc<dyn TopicLog<T>>>;

    /// The topics that already exist, so a bus started on stored data can
    /// match them against patterns.
    fn topics(&self) -> Vec<String>;

    /// Records that `group` has handled every event of `topic` before
    /// `offset`.
    ///
    /// # Errors
    ///
    /// A storage failure.
    fn commit(&self, group: &str, topic: &str, offset: Offset) -> io::Result<()>;

    /// The offset `group` last committed on `topic`.
    ///
    /// # Errors
    ///
    /// A storage failure.
    fn committed(&self, group: &str, topic: &str) -> io::Result<Option<Offset>>;
}
// ANCHOR_END: backend

/// The in-process backend: logs in memory, lost with the process.
///
/// Clones share their data, so a bus dropped and built again on a clone
/// finds its topics and its groups' committed offsets (this is how the
/// tests restart a bus). One bus at a time should serve a backend.
///
/// # Examples
///
/// ```
/// use weft::events::{EventBus, StartAt, Memory};
///
/// let memory = Memory::new();
/// let bus = EventBus::builder().build_with(memory.clone());
/// bus.publish("audit", "logged in").unwrap();
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
    topics: Mutex<HashMap<String, Arc<MemoryLog<T>>>>,
    commits: Mutex<HashMap<(String, String), Offset>>,
}

impl<T: Clone + Send + 'static> Memory<T> {
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

impl<T: Clone + Send + 'static> Default for Memory<T> {
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

impl<T: Clone + Send + 'static> Backend<T> for Memory<T> {
    fn open(&self, topic: &str, retention: usize) -> io::Result<Arc<dyn TopicLog<T>>> {
        let mut topics = lock(&self.shared.topics);
        let log = topics
            .entry(topic.to_owned())
            .or_insert_with(|| Arc::new(MemoryLog::new(retention)))
            .clone();
        lock(&log.state).closed = false;
        Ok(log)
    }

    fn topics(&self) -> Vec<String> {
        lock(&self.shared.topics).keys().cloned().collect()
    }

    fn commit(&self, group: &str, topic: &str, offset: Offset) -> io::Result<()> {
        lock(&self.shared.commits).insert((group.to_owned(), topic.to_owned()), offset);
        Ok(())
    }

    fn committed(&self, group: &str, topic: &str) -> io::Result<Option<Offset>> {
        let commits = lock(&self.shared.commits);
        Ok(commits.get(&(group.to_owned(), topic.to_owned())).copied())
    }
}

/// A topic log in memory: a ring of the retained events.
struct MemoryLog<T> {
    state: Mutex<LogState<T>>,
}

struct LogState<T> {
    /// Offset of `events[0]`.
    start: u64,
    /// (seq, payload), oldest first.
    events: VecDeque<(u64, T)>,
    retention: usize,
    waiters: Vec<Waker>,
    closed: bool,
}

impl<T> MemoryLog<T> {
    fn new(retention: usize) -> MemoryLog<T> {
        MemoryLog {
            state: Mutex::new(LogState {
                start: 0,
                events: VecDeque::new(),
                retention: retention.max(1),
                waiters: Vec::new(),
                closed: false,
            }),
        }
    }
}

impl<T: Clone + Send + 'static> TopicLog<T> for MemoryLog<T> {
    // ANCHOR: memory-append
    fn append(&self, seq: u64, payload: T) -> Result<Offset, Result<T, io::Error>> {
        // The event pushed out of the window is dropped after the lock is
        // released: its drop is user code that may publish again.
        let (offset, waiters, _evicted) = {
            let mut state = lock(&self.state);
            if state.closed {
                return Err(Ok(payload));
            }
            let offset = state.start + state.events.len() as u64;
            // Make room first, so the ring never grows past retention.
            let mut evicted = None;
            if state.events.len() >= state.retention {
                evicted = state.events.pop_front();
                state.start += 1;
            }
            state.events.push_back((seq, payload));
            let waiters = if state.waiters.is_empty() {
                Vec::new()
            } else {
                std::mem::take(&mut state.waiters)
            };
            (offset, waiters, evicted)
        };
        waiters.into_iter().for_each(Waker::wake);
        Ok(Offset(offset))
    }
    // ANCHOR_END: memory-append

    // ANCHOR: memory-read
    fn read(&self, from: Offset, max: usize, out: &mut VecDeque<Record<T>>, waker: Option<&Waker>) -> Read {
        let mut state = lock(&self.state);
        let end = state.start + state.events.len() as u64;
        let skipped = state.start.saturating_sub(from.0);
        let first = from.0.max(state.start);
        let count = end.saturating_sub(first).min(max as u64);
        if count > 0 {
            let index = (first - state.start) as usize;
            let events = state.events.range(index..index + count as usize);
            // A `T::clone` that panics part-way must leave `out` as it was,
            // so the reader reads the same offsets again rather than
            // holding half a batch twice.
            let out = UndoOnUnwind::new(out);
            out.0
                .extend(events.zip(first..).map(|((seq, payload), offset)| Record {
                    offset: Offset(offset),
                    seq: *seq,
                    payload: payload.clone(),
                }));
        }
        let next = first + count;
        let caught_up = next >= end;
        if count == 0
            && caught_up
            && !state.closed
            && let Some(waker) = waker
        {
            crate::util::add_waker(&mut state.waiters, waker);
        }
        Read {
            next: Offset(next),
            skipped,
            closed: state.closed && caught_up,
        }
    }
    // ANCHOR_END: memory-read

    fn start(&self) -> Offset {
        Offset(lock(&self.state).start)
    }

    fn end(&self) -> Offset {
        let state = lock(&self.state);
        Offset(state.start + state.events.len() as u64)
    }

    fn set_retention(&self, retention: usize) {
        let evicted: Vec<_> = {
            let mut state = lock(&self.state);
            state.retention = retention.max(1);
            let excess = state.events.len().saturating_sub(state.retention);
            state.start += excess as u64;
            state.events.drain(..excess).collect()
        };
        // Dropped outside the lock, as in `append`.
        drop(evicted);
    }

    fn close(&self) {
        let waiters = {
            let mut state = lock(&self.state);
            state.closed = true;
            std::mem::take(&mut state.waiters)
        };
        waiters.into_iter().for_each(Waker::wake);
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
mod tests {
    use super::*;
    use std::panic::{AssertUnwindSafe, catch_unwind};

    /// Panics when cloned if it holds `true`.
    #[derive(Debug)]
    struct Fragile(bool);

    impl Clone for Fragile {
        fn clone(&self) -> Fragile {
            assert!(!self.0, "this payload cannot be cloned");
            Fragile(false)
        }
    }

    #[test]
    fn a_clone_that_panics_mid_batch_leaves_the_reader_untouched() {
        let log = MemoryLog::new(8);
        for (seq, fragile) in [false, false, true].into_iter().enumerate() {
            log.append(seq as u64, Fragile(fragile)).unwrap();
        }
        let mut out = VecDeque::new();
        let read = catch_unwind(AssertUnwindSafe(|| log.read(Offset(0), 8, &mut out, None)));
        assert!(read.is_err());
        assert!(out.is_empty(), "no half batch: the same offsets are read again");
        // The log is still usable.
        let read = log.read(Offset(0), 2, &mut out, None);
        assert_eq!((out.len(), read.next), (2, Offset(2)));
    }
}
