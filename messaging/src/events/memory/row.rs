//! A row of write-once slots: the memory log's one piece of unsafe code.
//!
//! A [`Row`] holds the events of consecutive offsets. The log fills each
//! slot once, under its lock, at the offset it is about to publish as its
//! new end; after that the slot is only read, by any thread, with or
//! without the lock. So a slot needs no synchronisation of its own: the
//! fill comes before the end that covers it is published (under the lock,
//! and in an atomic stored with release ordering), and every read is of an
//! offset below an end the reader read under the lock or loaded with
//! acquire ordering.
//!
//! A `OnceLock` per slot said the same in safe code, and cost the fan-out
//! (one publisher, sixteen readers close behind it) a fifth of its time:
//! its two atomic read-modify-writes per fill, on the cache lines the
//! readers were reading, and its check per read (`benches/RESULTS.md`).
//! Under `cfg(loom)` the cells are loom's, which checks in every model
//! that no read of a slot races with its fill.

use super::Entry;
use crate::loom::UnsafeCell;
use std::sync::{Arc, OnceLock, Weak};

/// Slots for the offsets `base..base + len`, each filled at most once.
pub(super) struct Row<T> {
    base: u64,
    slots: Box<[UnsafeCell<Option<Entry<T>>>]>,
    /// The row after it, once the log opens one: weak, so that a reader
    /// that keeps this row keeps no later row alive. Not through the loom
    /// shim: it is set before the end moves into the next row, and readers
    /// look only once they have seen that end (a release / acquire pair
    /// loom does see).
    next: OnceLock<Weak<Row<T>>>,
}

// A row shared between threads lets each read its entries (so the entry
// must be `Sync`) and the last to let go drop them (so `Send`; `Send` for
// the row itself comes with the cells).
// SAFETY: the bound checks both; the cells are written only under the
// owning log's lock and never while readable (`fill`'s and `with`'s rules).
unsafe impl<T> Sync for Row<T> where Option<Entry<T>>: Send + Sync {}

impl<T> Row<T> {
    /// An empty row of `len` slots from offset `base`.
    pub(super) fn new(base: u64, len: usize) -> Row<T> {
        Row {
            base,
            slots: (0..len).map(|_| UnsafeCell::new(None)).collect(),
            next: OnceLock::new(),
        }
    }

    /// Links `next` as the row after this one.
    pub(super) fn link(&self, next: &Arc<Row<T>>) {
        let linked = self.next.set(Arc::downgrade(next));
        debug_assert!(linked.is_ok(), "a row is followed by one row");
    }

    /// The row after this one, if the log opened it and still keeps it or
    /// a reader does.
    pub(super) fn next(&self) -> Option<Arc<Row<T>>> {
        self.next.get()?.upgrade()
    }

    /// Its first offset.
    pub(super) fn base(&self) -> u64 {
        self.base
    }

    /// The offset after its last slot.
    pub(super) fn end(&self) -> u64 {
        self.base + self.slots.len() as u64
    }

    /// Fills the slot of `offset` with `entry`.
    ///
    /// # Safety
    ///
    /// The caller holds the lock of the log this row belongs to, and
    /// `offset` is that log's end (not yet published): so no other thread
    /// fills it, and none reads it until the caller publishes an end past
    /// it under the same lock.
    ///
    /// # Panics
    ///
    /// If `offset` is not in this row.
    pub(super) unsafe fn fill(&self, offset: u64, entry: Entry<T>) {
        let slot = &self.slots[(offset - self.base) as usize];
        // SAFETY: the caller's obligation: nobody else touches this slot now.
        slot.with_mut(|slot| unsafe { *slot = Some(entry) });
    }

    /// Runs `f` on the event at `offset`.
    ///
    /// # Safety
    ///
    /// `offset` is below an end the caller read under the log's lock, or
    /// loaded (acquire) from the end the log publishes outside it (stored,
    /// release, after the fill): either way its slot was filled before that
    /// end was published, and it is never written again.
    ///
    /// # Panics
    ///
    /// If `offset` is not in this row.
    pub(super) unsafe fn with<R>(&self, offset: u64, f: impl FnOnce(&Entry<T>) -> R) -> R {
        let slot = &self.slots[(offset - self.base) as usize];
        slot.with(|slot| {
            // SAFETY: the caller's obligation: the slot is filled and only
            // read from now on, so a shared reference to it is sound.
            let entry = unsafe { &*slot };
            f(entry.as_ref().expect("every slot below the end is filled"))
        })
    }
}
