//! The durable backend of the work queue: the queue on a log on disk
//! ([`weft_disk`]), surviving `kill -9` and, with a syncing policy, power
//! loss.
//!
//! # Protocol
//!
//! [`Durable`] is the in-memory queue ([`Memory`]) with a write-ahead
//! journal. The memory queue decides who gets which message, exactly as it
//! does in process; every change a restart must not undo is a record
//! appended to the log ([`record`] lists them), and the two operations
//! that promise durability complete only once their record is synced:
//!
//! - **publish**: the publish record is appended, then synced (sharing one
//!   `fdatasync` with concurrent publishers under group commit: the op
//!   waits with its waker in the log's list, no thread blocked), and only
//!   then is the message put in the memory queue, where it can be
//!   delivered. A message is named by its sequence number, the offset of
//!   its publish record.
//! - **ack**: the memory queue settles the delivery, then the ack record
//!   is appended. [`Delivery::ack`](super::Delivery::ack) returns once it
//!   is written (it survives `kill -9`);
//!   [`Delivery::ack_confirmed`](super::Delivery::ack_confirmed) also waits
//!   for its sync (it survives a power cut).
//!
//! What the memory queue does on its own (dead-lettering, deadline
//! expiry, purge, deduplication) it reports through an observer called
//! under its lock, which only notes the change; the notes are journaled by
//! the next operation, in order, under `order`. Deliveries, nacks,
//! rejects, dead letters taken and redrives are written without waiting
//! for a sync: a power cut may undo them, which can only deliver a message
//! again (at-least-once), never lose one.
//!
//! Locks: the memory queue's, then `notes` (by the observer); `book`,
//! then the log's own (only to read where the log ends). `book`, `order`
//! and the log's lock are never held while calling into the memory queue,
//! and `book` is never held across I/O.
//!
//! Compaction removes the segments that end before the oldest message
//! still in the queue (a message that left counts until the record saying
//! so is synced: `book.leaving`), and before any publish being appended (each notes
//! the log's end in `book.writing` before it appends, so a segment that
//! may hold its record is kept).
//!
//! Recovery on open replays the log ([`recover`]): every message published
//! and not acked, taken from the dead-letter queue, purged or withdrawn
//! is put back, dead-lettered if its last record says so, ready
//! otherwise, with its delivery count (so a message in flight at the crash
//! comes back redelivered).

mod options;
mod publish;
pub(crate) mod record;
mod recover;
mod settle;

pub use self::options::{DiskFull, DiskOptions, OpenDurableError, Restored};

use self::record::{Ended, Why};
use super::backend::{Backend, Handed, PublishOp, Verdict};
use super::memory::{Change, Memory, Observer};
use super::{AckError, ConsumerStats, DeadLetter, Overflow, PublishError, Stats};
use crate::StoreError;
use crate::codec::Codec;
use crate::loom::{Mutex, lock};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use weft_disk::{Log, LogError};
use weft_primitives::spawner::Spawner;

/// The work queue on a log on disk, surviving `kill -9` and power loss.
/// Made by [`Queue::durable`](super::Queue::durable) or
/// [`Builder::open_durable`](super::Builder::open_durable). Cheap to clone;
/// clones share the queue.
///
/// It is the in-memory queue with a write-ahead journal: every change a
/// restart must not undo is a record in the log. What survives what:
///
/// - A publish that returned `Ok` survives a power cut (its record was
///   synced before it joined the queue; under group commit, concurrent
///   publishers share one `fdatasync`). Under `SyncPolicy::Never`, only
///   `kill -9`.
/// - An ack that [`ack_confirmed`](super::Delivery::ack_confirmed)
///   confirmed survives a power cut; one that [`ack`](super::Delivery::ack)
///   returned `Ok` for survives `kill -9` (it was written), and after a
///   power cut may be undone: the message is delivered again.
/// - Deliveries, nacks, rejects, dead letters taken and redrives are
///   written, not awaited: a power cut may undo them, which can deliver a
///   message again, never lose one.
/// - On open, a message in flight at the crash is ready again with its
///   delivery count raised; dead letters are dead letters again.
///
/// Compaction deletes a segment file once every message published in it
/// and before it has left the queue (acked, taken from the dead-letter
/// queue, purged) and the records saying so are synced.
///
/// Where it differs from [`Memory`]: a publish completes only once its
/// record is synced; a message's delivery history (who, when) is not kept
/// across a restart, and its TTL counts again from the restart.
///
/// # Examples
///
/// ```
/// use weft::disk::fs::SimFs;
/// use weft::queue::{DiskOptions, Queue, Utf8};
///
/// weft::block_on(async {
///     let disk = DiskOptions::new().file_system(SimFs::new());
///     let restored = Queue::builder().open_durable_with("/q", Utf8, &disk).unwrap();
///     let (queue, backend) = (restored.queue, restored.backend);
///     queue.producer().publish("job".to_string()).await.unwrap();
///     assert!(backend.disk_bytes() > 0);
/// });
/// ```
pub struct Durable<T> {
    inner: Arc<Inner<T>>,
}

/// A message in the memory queue, with its sequence number.
#[derive(Clone)]
pub(crate) struct Stamped<T> {
    seq: u64,
    message: T,
}

struct Inner<T> {
    memory: Memory<Stamped<T>>,
    log: Log,
    codec: Box<dyn Codec<T>>,
    overflow: Overflow,
    max_bytes: Option<u64>,
    /// False under `SyncPolicy::Never`, where nothing is ever synced.
    syncs: bool,
    book: Mutex<Book<T>>,
    /// What the memory queue did on its own, not yet journaled.
    notes: Arc<Mutex<Vec<(u64, Change)>>>,
    /// Held while journaling notes and the records that must follow them.
    order: Mutex<()>,
}

/// The durable side's own books.
struct Book<T> {
    /// Delivery tag to sequence number, while in flight.
    tags: HashMap<u64, u64>,
    /// Publishes in progress, by ticket.
    publishes: HashMap<u64, Publishing<T>>,
    next_ticket: u64,
    /// Acks awaiting their sync: tag to the ack record's offset.
    settling: HashMap<u64, u64>,
    /// Sequence numbers of the messages still in the queue.
    live: BTreeSet<u64>,
    /// Messages that left, with the offset of the record saying so: they
    /// leave `live` (so compaction may delete their segment) only once
    /// that record is synced, lest a power cut lose both.
    leaving: Vec<(u64, u64)>,
    /// Each record's offset and size on disk, from the log's start.
    sizes: VecDeque<(u64, u64)>,
    /// Their sum.
    used: u64,
    /// Publishes waiting for disk room, by ticket, in turn.
    room: VecDeque<(u64, Waker)>,
    /// The log's end when each publish now appending began: its record
    /// lands at or after it, so compaction keeps what follows.
    writing: Vec<u64>,
}

/// Where a publish stands.
enum Publishing<T> {
    /// Waits for disk room; the message is still in the caller's op.
    DiskRoom,
    /// Written at `offset`, waiting for the sync.
    Syncing {
        inner: PublishOp<Stamped<T>>,
        offset: u64,
    },
    /// Synced; waiting for room in the memory queue.
    QueueRoom { inner: PublishOp<Stamped<T>> },
    /// Nothing left to do.
    Done,
}

impl<T: Clone + Send + 'static> Durable<T> {
    /// The sequence numbers and sizes replayed from the log, and the
    /// memory queue to fill.
    fn from_parts(
        memory: Memory<Stamped<T>>,
        notes: Arc<Mutex<Vec<(u64, Change)>>>,
        log: Log,
        codec: Box<dyn Codec<T>>,
        overflow: Overflow,
        max_bytes: Option<u64>,
        syncs: bool,
    ) -> Durable<T> {
        Durable {
            inner: Arc::new(Inner {
                memory,
                log,
                codec,
                overflow,
                max_bytes,
                syncs,
                book: Mutex::new(Book {
                    tags: HashMap::new(),
                    publishes: HashMap::new(),
                    next_ticket: 0,
                    settling: HashMap::new(),
                    live: BTreeSet::new(),
                    leaving: Vec::new(),
                    sizes: VecDeque::new(),
                    used: 0,
                    room: VecDeque::new(),
                    writing: Vec::new(),
                }),
                notes,
                order: Mutex::new(()),
            }),
        }
    }

    /// The observer the memory queue calls: it notes the change.
    fn observer(notes: &Arc<Mutex<Vec<(u64, Change)>>>) -> Observer<Stamped<T>> {
        let notes = Arc::clone(notes);
        Arc::new(move |stamped: &Stamped<T>, change| lock(&notes).push((stamped.seq, change)))
    }

    /// Bytes the queue's log holds now (records from the oldest segment
    /// kept on).
    pub fn disk_bytes(&self) -> u64 {
        lock(&self.inner.book).used
    }
}

impl<T: Clone + Send + 'static> Inner<T> {
    /// Notes a record of `len` payload bytes at `offset`.
    fn count(&self, offset: u64, len: usize) {
        let size = (weft_disk::frame::HEADER_LEN + len) as u64;
        let mut book = lock(&self.book);
        // Appenders racing may count out of order: keep `sizes` sorted, so
        // that compaction pops exactly what it removed.
        let at = book.sizes.iter().rev().take_while(|(o, _)| *o > offset).count();
        let at = book.sizes.len() - at;
        book.sizes.insert(at, (offset, size));
        book.used += size;
    }

    /// Appends `payload`, counting its size.
    fn append(&self, payload: &[u8]) -> Result<u64, LogError> {
        let offset = self.log.append(payload)?;
        self.count(offset, payload.len());
        Ok(offset)
    }

    /// Journals the memory queue's notes, then `records`, in order.
    /// Returns the offset of the last of `records`.
    fn journal(&self, records: &[Vec<u8>]) -> Result<Option<u64>, LogError> {
        let _order = lock(&self.order);
        let notes = std::mem::take(&mut *lock(&self.notes));
        for (seq, change) in notes {
            let (payload, leaves) = match change {
                Change::Dead(reason) => (record::dead(seq, reason), false),
                Change::DeadlineExpired => (record::verdict(seq, Ended::DeadlineExpired), false),
                Change::Purged => (record::left(seq, Why::Purged), true),
                Change::Deduplicated => (record::left(seq, Why::Duplicate), true),
            };
            // A note that cannot be written is lost: after a restart the
            // message is where it was before (delivered again at worst).
            if let Ok(offset) = self.append(&payload)
                && leaves
            {
                lock(&self.book).leaving.push((offset, seq));
            }
        }
        let mut last = None;
        for payload in records {
            last = Some(self.append(payload)?);
        }
        Ok(last)
    }

    /// Deletes the segments older than the oldest live message, and wakes
    /// publishes waiting for disk room if that made some.
    fn compact(&self) {
        let before = {
            // Read under the lock, so that a publish that has not yet
            // noted its floor appends at or after `end`.
            let mut book = lock(&self.book);
            let synced = if self.syncs { self.log.synced() } else { u64::MAX };
            let Book { leaving, live, .. } = &mut *book;
            leaving.retain(|&(offset, seq)| {
                let gone = offset < synced;
                if gone {
                    live.remove(&seq);
                }
                !gone
            });
            let end = self.log.end();
            let live = book.live.first().copied().unwrap_or(end);
            let writing = book.writing.iter().copied().min().unwrap_or(end);
            live.min(writing).min(end)
        };
        match self.log.remove_before(before) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let start = self.log.start();
        let mut wake = Vec::new();
        {
            let mut book = lock(&self.book);
            while let Some(&(offset, size)) = book.sizes.front() {
                if offset >= start {
                    break;
                }
                book.sizes.pop_front();
                book.used -= size;
            }
            wake.extend(book.room.drain(..).map(|(_, waker)| waker));
        }
        wake.into_iter().for_each(Waker::wake);
    }

    /// The message `seq` left the queue, as the record at `record` says
    /// (`None`: not written, so it stays, to come back after a restart):
    /// forgotten once that record is synced, and its segment deleted once
    /// nothing older is live.
    fn leave(&self, seq: u64, record: Option<u64>) {
        if let Some(offset) = record {
            lock(&self.book).leaving.push((offset, seq));
        }
    }

    /// A delivery handed out: its tag remembered, the message unwrapped.
    fn handed(book: &mut Book<T>, handed: Handed<Stamped<T>>, seqs: &mut Vec<u64>) -> Handed<T> {
        book.tags.insert(handed.tag, handed.message.seq);
        seqs.push(handed.message.seq);
        Handed {
            tag: handed.tag,
            message: handed.message.message,
            deliveries: handed.deliveries,
            properties: handed.properties,
        }
    }

    /// Journals deliveries (a raised count after a restart); not synced.
    fn delivered(&self, seqs: &[u64]) {
        if !seqs.is_empty() {
            let _ = self.journal(&[record::delivered(seqs)]);
        }
    }
}

impl<T: Clone + Send + 'static> Backend<T> for Durable<T> {
    fn poll_publish(
        &self,
        op: &mut PublishOp<T>,
        cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), PublishError<T>>> {
        self.inner.poll_publish(op, cx)
    }

    fn cancel_publish(&self, op: &mut PublishOp<T>) {
        self.inner.cancel_publish(op);
    }

    fn add_producer(&self) {
        self.inner.memory.add_producer();
    }

    fn remove_producer(&self) {
        self.inner.memory.remove_producer();
    }

    fn add_consumer(&self) -> u64 {
        self.inner.memory.add_consumer()
    }

    fn poll_deliver(
        &self,
        consumer: u64,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Handed<T>>, StoreError<()>>> {
        let inner = &*self.inner;
        let outcome = inner.memory.poll_deliver(consumer, cx);
        let mut seqs = Vec::new();
        let outcome = outcome
            .map_ok(|handed| handed.map(|handed| Inner::handed(&mut lock(&inner.book), handed, &mut seqs)));
        inner.delivered(&seqs);
        if seqs.is_empty() {
            // Expiries noted while looking.
            let _ = inner.journal(&[]);
        }
        outcome
    }

    fn poll_deliver_batch(
        &self,
        consumer: u64,
        max: usize,
        cx: &mut Context<'_>,
        out: &mut dyn FnMut(Handed<T>),
    ) -> Poll<Result<Option<usize>, StoreError<()>>> {
        let inner = &*self.inner;
        let mut handed = Vec::new();
        let outcome = inner
            .memory
            .poll_deliver_batch(consumer, max, cx, &mut |h| handed.push(h));
        let mut seqs = Vec::with_capacity(handed.len());
        {
            let mut book = lock(&inner.book);
            for h in handed {
                out(Inner::handed(&mut book, h, &mut seqs));
            }
        }
        inner.delivered(&seqs);
        if seqs.is_empty() {
            let _ = inner.journal(&[]);
        }
        outcome
    }

    fn cancel_deliver(&self, consumer: u64) {
        self.inner.memory.cancel_deliver(consumer);
    }

    fn remove_consumer(&self, consumer: u64) {
        self.inner.memory.remove_consumer(consumer);
        let _ = self.inner.journal(&[]);
    }

    fn poll_settle(
        &self,
        tag: u64,
        verdict: Verdict,
        cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), AckError>> {
        self.inner.poll_settle(tag, verdict, cx)
    }

    fn poll_extend_deadline(
        &self,
        tag: u64,
        extra: Duration,
        cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), AckError>> {
        self.inner.memory.poll_extend_deadline(tag, extra, cx)
    }

    fn close(&self) {
        self.inner.memory.close();
        let waiting: Vec<_> = lock(&self.inner.book).room.drain(..).collect();
        waiting.into_iter().for_each(|(_, waker)| waker.wake());
    }

    fn is_closed(&self) -> bool {
        self.inner.memory.is_closed()
    }

    fn purge(&self) -> usize {
        let purged = self.inner.memory.purge();
        let _ = self.inner.journal(&[]);
        self.inner.compact();
        purged
    }

    fn redrive(&self, choose: &mut dyn FnMut(&DeadLetter<T>) -> bool) -> usize {
        let mut chosen = Vec::new();
        let moved = self.inner.memory.redrive(&mut |letter: &DeadLetter<Stamped<T>>| {
            let view = DeadLetter {
                message: letter.message.message.clone(),
                reason: letter.reason,
                history: letter.history.clone(),
                properties: letter.properties.clone(),
            };
            let back = choose(&view);
            if back {
                chosen.push(letter.message.seq);
            }
            back
        });
        let records: Vec<_> = chosen.into_iter().map(record::redriven).collect();
        let _ = self.inner.journal(&records);
        moved
    }

    fn stats(&self) -> Stats {
        self.inner.memory.stats()
    }

    fn consumer_stats(&self, consumer: u64) -> ConsumerStats {
        self.inner.memory.consumer_stats(consumer)
    }

    fn poll_dead_letter(&self, cx: Option<&Context<'_>>) -> Poll<Result<DeadLetter<T>, StoreError<()>>> {
        let inner = &*self.inner;
        let letter = std::task::ready!(inner.memory.poll_dead_letter(cx))?;
        let seq = letter.message.seq;
        // Not awaited: after a power cut the letter may be back.
        let written = inner.journal(&[record::left(seq, Why::DeadTaken)]);
        inner.leave(seq, written.ok().flatten());
        inner.compact();
        Poll::Ready(Ok(DeadLetter {
            message: letter.message.message,
            reason: letter.reason,
            history: letter.history,
            properties: letter.properties,
        }))
    }

    fn spawner(&self) -> Option<Spawner> {
        self.inner.memory.spawner()
    }
}

impl<T> Clone for Durable<T> {
    fn clone(&self) -> Self {
        Durable {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T> fmt::Debug for Durable<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Durable")
            .field("log", &self.inner.log)
            .field("max_bytes", &self.inner.max_bytes)
            .finish_non_exhaustive()
    }
}
