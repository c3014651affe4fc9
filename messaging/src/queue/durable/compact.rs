//! Compaction of the durable queue's log: deleting the segments nothing
//! live is left in, and copying the live messages of a mostly-dead oldest
//! segment forward so that it can be deleted too.
//!
//! # Protocol
//!
//! The log deletes whole segments, oldest first ([`Log::remove_before`](weft_disk::Log::remove_before)),
//! so the oldest record still holding a live message (its *carrier*: its
//! publish, or its latest copy) decides how much can go. Copy-forward
//! moves carriers out of the oldest segment:
//!
//! 1. Pick the oldest segment if it is sealed (not the active one), it
//!    existed when this compaction began, and the carriers in it of
//!    messages with no ending record written (`book.leaving`) take at most
//!    `copy_at` percent of its bytes. Read it (sealed: it no longer
//!    changes, so no lock is needed).
//! 2. Under `order`, append a `Moved` record for each of those messages,
//!    in sequence order, holding its sequence number, its publish body and
//!    the delivery count and dead-letter state the book mirrors from the
//!    records before it. `order` is what every record ending a message is
//!    journaled under, and [`Inner::mirror`] puts such a message in
//!    `leaving` before `order` is released, so no copy follows a record
//!    ending its message: replay never brings back a message that left.
//! 3. Without locks, wait until the copies are synced.
//! 4. Only then point the book at the copies (`relocate`), so that the next
//!    [`Inner::remove_dead_prefix`] deletes the old segment and syncs the
//!    directory.
//!
//! A crash before step 3 completes loses only unsynced copies: the
//! originals are still in the log. A crash between 3 and the deletion
//! leaves both; replay keeps the message once (see `recover`). A message
//! acked while its copy is being made gets its ack record after the copy,
//! which ends it on replay as it would have ended the original.
//!
//! Only one compaction copies at a time (`book.copying`); one that finds
//! another copying deletes what it can and leaves the copying to it.

use super::{Book, Inner, record};
use crate::loom::lock;
use crate::queue::DeadReason;
use std::task::Waker;
use weft_disk::SegmentInfo;

/// A message to copy forward: its carrier's offset, its sequence number,
/// and the state its copy carries.
type Movable = (u64, u64, u32, Option<DeadReason>);

impl<T: Clone + Send + 'static> Inner<T> {
    /// Deletes the segments older than the oldest live message, copying
    /// the live messages of a mostly-dead oldest segment forward first
    /// (see the module docs), and wakes publishes waiting for disk room if
    /// that made some.
    pub(super) fn compact(&self) {
        let mut freed = self.remove_dead_prefix();
        // Only the segments there now: the copies land in new ones, which
        // this call does not copy again.
        let limit = self.log.end();
        for _ in 0..self.log.segments().len() {
            if !self.copy_forward(limit) {
                break;
            }
            freed |= self.remove_dead_prefix();
        }
        if freed {
            let wake: Vec<Waker> = lock(&self.book).room.drain(..).map(|(_, waker)| waker).collect();
            wake.into_iter().for_each(Waker::wake);
        }
    }

    /// Forgets the messages whose leaving record is synced, deletes the
    /// segments that end before the oldest carrier and before any publish
    /// being appended, and says whether it deleted any.
    fn remove_dead_prefix(&self) -> bool {
        let before = {
            // Read under the lock, so that a publish that has not yet
            // noted its floor appends at or after `end`.
            let mut book = lock(&self.book);
            let synced = if self.syncs { self.log.synced() } else { u64::MAX };
            let gone: Vec<u64> = book
                .leaving
                .iter()
                .filter(|&&(offset, _)| offset < synced)
                .map(|&(_, seq)| seq)
                .collect();
            book.leaving.retain(|&(offset, _)| offset >= synced);
            for seq in gone {
                book.forget(seq);
            }
            let end = self.log.end();
            let live = book.carriers.keys().next().copied().unwrap_or(end);
            let writing = book.writing.iter().copied().min().unwrap_or(end);
            live.min(writing).min(end)
        };
        match self.log.remove_before(before) {
            Ok(0) | Err(_) => return false,
            Ok(_) => {}
        }
        let start = self.log.start();
        let mut book = lock(&self.book);
        while let Some(&(offset, size)) = book.sizes.front() {
            if offset >= start {
                break;
            }
            book.sizes.pop_front();
            book.used -= size;
        }
        true
    }

    /// Copies the live messages of the oldest segment forward if it is
    /// sealed, older than `limit` and mostly garbage; says whether it
    /// copied (and synced) any.
    fn copy_forward(&self, limit: u64) -> bool {
        if self.copy_at == 0 {
            return false;
        }
        let Some(head) = self.log.segments().first().copied() else {
            return false;
        };
        if head.active || head.end > limit || head.bytes == 0 {
            return false;
        }
        {
            let mut book = lock(&self.book);
            if book.copying {
                return false;
            }
            let live: u64 = book
                .movable(&head)
                .iter()
                .map(|&(carrier, ..)| book.size_of(carrier))
                .sum();
            if live == 0 || live.saturating_mul(100) > u64::from(self.copy_at) * head.bytes {
                return false;
            }
            book.copying = true;
        }
        let moved = self.copy_segment(&head);
        let mut book = lock(&self.book);
        book.copying = false;
        let Some(moved) = moved else {
            return false;
        };
        book.copied += moved.len() as u64;
        for (seq, carrier) in moved {
            book.relocate(seq, carrier);
        }
        true
    }

    /// Steps 1 to 3 of the protocol for `head`: the sequence numbers copied
    /// and where their copies are, once synced; `None` if none was.
    fn copy_segment(&self, head: &SegmentInfo) -> Option<Vec<(u64, u64)>> {
        let count = usize::try_from(head.end - head.base).ok()?;
        let records = self.log.read(head.base, count).ok()?;
        let mut moved = Vec::new();
        {
            let _order = lock(&self.order);
            let mut movable = lock(&self.book).movable(head);
            movable.sort_unstable_by_key(|&(_, seq, ..)| seq);
            for (carrier, seq, deliveries, dead) in movable {
                let Some(found) = records
                    .get(usize::try_from(carrier - head.base).ok()?)
                    .filter(|found| found.offset == carrier)
                else {
                    continue;
                };
                // A carrier that is not a publish would be a bug; its
                // segment then stays until the message leaves.
                let Ok(payload) = record::moved(seq, deliveries, dead, &found.payload) else {
                    continue;
                };
                // A failed append (a full disk): the originals stay, and
                // the copies made so far are harmless (replay keeps one).
                let Ok(offset) = self.append(&payload) else {
                    break;
                };
                moved.push((seq, offset));
            }
        }
        let &(_, last) = moved.last()?;
        if self.syncs {
            self.log.blocking_sync(last).ok()?;
        }
        Some(moved)
    }
}

impl<T> Book<T> {
    /// The messages in `segment` that copy-forward would move: live, with
    /// no record ending them written.
    fn movable(&self, segment: &SegmentInfo) -> Vec<Movable> {
        self.carriers
            .range(segment.base..segment.end)
            .filter(|&(_, seq)| !self.leaving.iter().any(|&(_, gone)| gone == *seq))
            .filter_map(|(&carrier, &seq)| {
                let live = self.live.get(&seq)?;
                Some((carrier, seq, live.deliveries, live.dead))
            })
            .collect()
    }

    /// The size on disk of the record at `offset` (0 if not counted).
    fn size_of(&self, offset: u64) -> u64 {
        match self.sizes.binary_search_by_key(&offset, |&(at, _)| at) {
            Ok(at) => self.sizes[at].1,
            Err(_) => 0,
        }
    }
}
