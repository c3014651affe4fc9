//! Waker slots: how up to 64 readers of a memory log wait for its next
//! append without taking the log's lock.
//!
//! A reader that has read everything leaves its waker in its own slot and
//! then sets the slot's bit in the log's mask; it then looks at the end
//! once more. An append publishes its end and then takes the mask, waking
//! the waker in every slot whose bit was set. A sequentially consistent
//! fence sits between the two steps of each side (fences rather than
//! sequentially consistent accesses, which loom does not model), so one
//! side always sees the other: either the reader's second look finds the
//! new end, or the append finds the bit (and the waker, stored before the
//! bit was set). A waker taken is always woken (but by `forget`, whose
//! reader is gone), and a woken reader that still finds nothing leaves it
//! again, so a slot freed and reused while an append was waking it costs
//! its new owner a spurious wake-up, never a lost one. A slot given back
//! while its reader still waited (its place dropped, or handed to another
//! log) wakes that reader too.
//!
//! A slot belongs to the place a reader reads from (a subscriber's cursor,
//! a group's partition) and is lent to one reader at a time: the first to
//! wait there, until it goes ([`Waiting::forget`]). Other readers of the
//! same place (members of a group sharing a partition), readers past the
//! 64th of a log, and every reader while it has no slot wait the way they
//! did before: under the log's lock, each with its own waker.

use crate::events::ReaderId;
use crate::loom::atomic::{AtomicU64, Ordering, fence};
use crate::loom::{Mutex, lock};
use std::sync::Arc;
use std::task::Waker;

/// How many readers of one log can wait without its lock.
pub(super) const SLOTS: usize = 64;

/// A log's waker slots.
pub(super) struct Waiting {
    /// Bit `i`: slot `i` holds the waker of a reader waiting for an append.
    mask: AtomicU64,
    /// Bit `i`: slot `i` belongs to no place.
    free: AtomicU64,
    /// Slot `i`'s reader: its id plus one, 0 for none.
    owners: [AtomicU64; SLOTS],
    slots: [Mutex<Option<Waker>>; SLOTS],
}

/// How a reader is written in `owners`.
fn owner(reader: ReaderId) -> u64 {
    reader.get().wrapping_add(1)
}

impl Waiting {
    pub(super) fn new() -> Waiting {
        Waiting {
            mask: AtomicU64::new(0),
            free: AtomicU64::new(u64::MAX),
            owners: std::array::from_fn(|_| AtomicU64::new(0)),
            slots: std::array::from_fn(|_| Mutex::new(None)),
        }
    }

    /// Takes `reader`'s waker out of the slot lent to it, if any, and
    /// lends the slot to the next reader of its place: `reader` is gone.
    pub(super) fn forget(&self, reader: ReaderId) {
        let id = owner(reader);
        for (at, lent) in self.owners.iter().enumerate() {
            if lent.load(Ordering::Acquire) == id {
                self.mask.fetch_and(!(1 << at), Ordering::Relaxed);
                let waker = lock(&self.slots[at]).take();
                // Dropped after the slot's lock: a waker's drop is user code.
                drop(waker);
                // Only if still `reader`'s: never another reader's slot.
                let _ = lent.compare_exchange(id, 0, Ordering::AcqRel, Ordering::Relaxed);
            }
        }
    }

    /// Wakes every reader whose bit is set, clearing the bits. The caller
    /// has just published what they wait for.
    pub(super) fn wake(&self) {
        // Orders the caller's publication before the look at the mask; a
        // waiting reader's fence orders its bit before its look at the end.
        fence(Ordering::SeqCst);
        // A load first: with nobody waiting, an append writes nothing here.
        if self.mask.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut mask = self.mask.swap(0, Ordering::AcqRel);
        while mask != 0 {
            let at = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            let waker = lock(&self.slots[at]).take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

/// One reader's slot; given back when dropped.
pub(super) struct Slot {
    waiting: Arc<Waiting>,
    at: usize,
}

impl Slot {
    /// A free slot of `waiting`, if one is left.
    pub(super) fn take(waiting: &Arc<Waiting>) -> Option<Slot> {
        let mut free = waiting.free.load(Ordering::Acquire);
        loop {
            if free == 0 {
                return None;
            }
            let at = free.trailing_zeros() as usize;
            match waiting.free.compare_exchange_weak(
                free,
                free & !(1 << at),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    return Some(Slot {
                        waiting: waiting.clone(),
                        at,
                    });
                }
                Err(now) => free = now,
            }
        }
    }

    /// Whether `reader` may wait here: the slot is lent to it, or to
    /// nobody and now to it.
    pub(super) fn lent_to(&self, reader: ReaderId) -> bool {
        let lent = &self.waiting.owners[self.at];
        let id = owner(reader);
        match lent.load(Ordering::Acquire) {
            0 => lent
                .compare_exchange(0, id, Ordering::AcqRel, Ordering::Acquire)
                .is_ok(),
            now => now == id,
        }
    }

    /// Leaves `waker` to be woken by the next append, then sets the bit:
    /// the caller must look at the end again afterwards (see the module
    /// docs); the fence that orders that look is here.
    pub(super) fn leave(&self, waker: &Waker) {
        let displaced = {
            let mut slot = lock(&self.waiting.slots[self.at]);
            match &*slot {
                Some(kept) if kept.will_wake(waker) => None,
                _ => slot.replace(waker.clone()),
            }
        };
        // Dropped after the slot's lock: a waker's drop is user code.
        drop(displaced);
        self.waiting.mask.fetch_or(1 << self.at, Ordering::Release);
        fence(Ordering::SeqCst);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let bit = 1 << self.at;
        let waited = self.waiting.mask.fetch_and(!bit, Ordering::Relaxed) & bit != 0;
        let waker = lock(&self.waiting.slots[self.at]).take();
        // A reader still waiting here (its place dropped or given to
        // another log while it waited) is woken: its wait is over.
        if let (true, Some(waker)) = (waited, waker) {
            waker.wake();
        }
        self.waiting.owners[self.at].store(0, Ordering::Relaxed);
        self.waiting.free.fetch_or(1 << self.at, Ordering::AcqRel);
    }
}
