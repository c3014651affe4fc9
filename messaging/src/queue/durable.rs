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
//! Compaction ([`compact`]) removes the segments that end before the
//! oldest record holding a message still in the queue (a message that left
//! counts until the record saying so is synced: `book.leaving`), and before
//! any publish being appended (each notes the log's end in `book.writing`
//! before it appends, so a segment that may hold its record is kept); and
//! when the oldest segment is mostly garbage, it copies the live messages
//! in it forward first (a `Moved` record each, keeping the message's
//! sequence number), so that one long-lived message does not pin the whole
//! log behind it.
//!
//! The book mirrors what replay would rebuild from the records written so
//! far (each message's delivery count, whether it is dead-lettered, which
//! record holds it): [`Inner::journal`] applies each record it writes to
//! the book under `order`, so a copy, also made under `order`, carries
//! exactly the state of the records before it.
//!
//! Recovery on open replays the log ([`recover`]): every message published
//! and not acked, taken from the dead-letter queue, purged or withdrawn
//! is put back, dead-lettered if its last record says so, ready
//! otherwise, with its delivery count (so a message in flight at the crash
//! comes back redelivered).

mod compact;
mod options;
mod publish;
pub(crate) mod record;
mod recover;
mod settle;

pub use self::options::{DiskFull, DiskOptions, OpenDurableError, Restored};

use self::record::{Ended, Entry, Why};
use super::backend::{Backend, Handed, PublishOp, Verdict};
use super::memory::{Change, Memory, Observer};
use super::{AckError, ConsumerStats, DeadLetter, DeadReason, Overflow, PublishError, Stats};
use crate::StoreError;
use crate::codec::Codec;
use crate::loom::{Mutex, lock};
use std::collections::{BTreeMap, HashMap, VecDeque};
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
/// queue, purged) and the records saying so are synced. When the oldest
/// segment is mostly garbage (its live messages take at most
/// [`DiskOptions::copy_forward_at`] percent of it, 25 by default), those
/// messages are copied to the end of the log first, keeping their identity,
/// delivery count and properties, and the segment is deleted once the
/// copies are synced. That costs the thread that triggered it (an ack, a
/// dead letter taken, a purge) one `fdatasync`, as a segment roll does.
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
    /// Copy the oldest segment's live messages forward when they take at
    /// most this percentage of its bytes (0: never).
    copy_at: u8,
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
    /// The messages still in the queue, by sequence number.
    live: HashMap<u64, Live>,
    /// The offsets of the records holding them, to their sequence numbers.
    carriers: BTreeMap<u64, u64>,
    /// A compaction is copying messages forward.
    copying: bool,
    /// Messages copied forward so far.
    copied: u64,
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

/// A message still in the queue, as replay would find it from the records
/// written so far.
#[derive(Debug, Clone, Copy)]
struct Live {
    /// The offset of the record holding it: its publish, or its latest copy.
    carrier: u64,
    /// Its `Delivered` records since it was published or redriven.
    deliveries: u32,
    /// Dead-lettered, and why.
    dead: Option<DeadReason>,
}

impl<T> Book<T> {
    /// Message `seq`, held by the record at `carrier`, is in the queue.
    fn admit(&mut self, seq: u64, carrier: u64, deliveries: u32, dead: Option<DeadReason>) {
        if let Some(known) = self.live.get(&seq) {
            self.carriers.remove(&known.carrier);
        }
        self.live.insert(
            seq,
            Live {
                carrier,
                deliveries,
                dead,
            },
        );
        self.carriers.insert(carrier, seq);
    }

    /// Message `seq` has left the queue, for good.
    fn forget(&mut self, seq: u64) {
        if let Some(known) = self.live.remove(&seq) {
            self.carriers.remove(&known.carrier);
        }
    }

    /// Message `seq`, if still here, is now held by the record at `carrier`.
    fn relocate(&mut self, seq: u64, carrier: u64) {
        if let Some(known) = self.live.get_mut(&seq) {
            self.carriers.remove(&known.carrier);
            known.carrier = carrier;
            self.carriers.insert(carrier, seq);
        }
    }
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
        disk: &DiskOptions,
    ) -> Durable<T> {
        Durable {
            inner: Arc::new(Inner {
                memory,
                log,
                codec,
                overflow,
                max_bytes: disk.bound(),
                syncs: disk.syncs(),
                copy_at: disk.copy_at(),
                book: Mutex::new(Book {
                    tags: HashMap::new(),
                    publishes: HashMap::new(),
                    next_ticket: 0,
                    settling: HashMap::new(),
                    live: HashMap::new(),
                    carriers: BTreeMap::new(),
                    copying: false,
                    copied: 0,
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

    /// Messages compaction has copied forward since the queue was opened
    /// (a message copied twice counts twice).
    pub fn copied_forward(&self) -> u64 {
        lock(&self.inner.book).copied
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

    /// Journals the memory queue's notes, then `records`, in order, each
    /// applied to the book as it is written ([`mirror`](Inner::mirror)).
    /// Returns the offset of the last of `records`.
    fn journal(&self, records: &[Vec<u8>]) -> Result<Option<u64>, LogError> {
        let _order = lock(&self.order);
        let notes = std::mem::take(&mut *lock(&self.notes));
        for (seq, change) in notes {
            let payload = match change {
                Change::Dead(reason) => record::dead(seq, reason),
                Change::DeadlineExpired => record::verdict(seq, Ended::DeadlineExpired),
                Change::Purged => record::left(seq, Why::Purged),
                Change::Deduplicated => record::left(seq, Why::Duplicate),
            };
            // A note that cannot be written is lost: after a restart the
            // message is where it was before (delivered again at worst).
            if let Ok(offset) = self.append(&payload) {
                self.mirror(offset, &payload);
            }
        }
        let mut last = None;
        for payload in records {
            let offset = self.append(payload)?;
            self.mirror(offset, payload);
            last = Some(offset);
        }
        Ok(last)
    }

    /// Applies the record just journaled at `offset` to the book, as replay
    /// will apply it: called under `order`, so that the book always holds
    /// what the records written so far say. A message that left counts as
    /// live (`leaving`) until that record is synced.
    fn mirror(&self, offset: u64, payload: &[u8]) {
        let Ok(entry) = record::decode(payload) else {
            return;
        };
        let mut book = lock(&self.book);
        match entry {
            Entry::Delivered(seqs) => {
                for seq in seqs {
                    if let Some(live) = book.live.get_mut(&seq) {
                        live.deliveries = live.deliveries.saturating_add(1);
                    }
                }
            }
            Entry::Verdict(seq, Ended::Ack) | Entry::Left(seq, _) => book.leaving.push((offset, seq)),
            Entry::Dead(seq, reason) => {
                if let Some(live) = book.live.get_mut(&seq) {
                    live.dead = Some(reason);
                }
            }
            Entry::Redriven(seq) => {
                if let Some(live) = book.live.get_mut(&seq) {
                    live.dead = None;
                    live.deliveries = 0;
                }
            }
            Entry::Verdict(..) | Entry::Publish { .. } | Entry::Moved { .. } => {}
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

// The `Backend` trait's signatures, repeated as every backend must (the
// `duplicates` pairs among the memory, durable and RabbitMQ impls, left).
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
        let _ = inner.journal(&[record::left(seq, Why::DeadTaken)]);
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
