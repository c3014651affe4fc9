//! A hierarchical timing wheel with millisecond ticks, used by the timer driver.
//!
//! Time is a `u64` count of ticks (milliseconds since the driver started). The wheel remembers
//! `elapsed`, the last tick it has processed; every pending entry has a deadline after it.
//!
//! # Layout
//!
//! There are [`LEVELS`] levels of [`SLOTS`] slots each. A slot on level `L` covers `64^L` ticks, so
//! a whole level covers `64^(L+1)` ticks and the wheel covers `64^6 = 2^36` ticks (about 2.2 years).
//! A deadline `d` goes on the level of the highest 6-bit digit in which it differs from `elapsed`,
//! in the slot named by that digit of `d`. So level 0 holds deadlines in the same 64-tick block as
//! `elapsed`, one exact tick per slot; level 1 holds later 64-tick blocks of the same 4096-tick
//! block; and so on. On every level below the top, occupied slots therefore lie strictly after the
//! slot `elapsed` is in, and everything on a level comes before everything on the levels above it.
//!
//! Each slot is an intrusive doubly-linked list threaded through the entries' `u32` indices, and
//! each level keeps a `u64` bitmask of its non-empty slots, so the next occupied slot is one
//! `trailing_zeros` away. Entries live in a `Vec` with a free list: insert and remove are O(1) and
//! nothing is allocated once the `Vec` has grown to the peak number of live timers.
//!
//! # Cascade
//!
//! When `elapsed` reaches the start of an occupied slot above level 0, that slot's entries are
//! moved down: each is re-filed relative to the new `elapsed`, which puts it on a lower level (or in
//! the ready list when its deadline is that very tick). A level-0 slot is simply due: all of its
//! entries share that exact deadline and go to the ready list, from which `process` hands them out.
//!
//! # Horizon
//!
//! The top level is a ring: its slot `s` stands for the next time after the current top-level slot
//! that the top digit is `s`, which may be in the next 2^36-tick block. A deadline 2^36 or more
//! ticks ahead (up to `u64::MAX`) is filed there by its top digit like any other, so its slot comes
//! due before the deadline, never after. Whenever the top level comes due, all of it is re-filed at
//! once relative to the earliest of its deadlines (or `now`, if sooner), so a jump of any length
//! costs one re-file per far-away deadline it reaches, not one per top-level slot it passes.
//!
//! # Ordering
//!
//! `process` always works on the earliest due slot, and a level-0 slot is a single tick, so every
//! waker it hands out, within one call and across calls, comes in non-decreasing deadline order.
//! Entries sharing a deadline come out in no particular order.

use std::fmt;
use std::task::{Poll, Waker};

// ANCHOR: wheel-consts
/// Number of levels.
const LEVELS: usize = 6;
/// Bits of the deadline a level's slot index takes.
const SLOT_BITS: u32 = 6;
/// Slots per level.
const SLOTS: usize = 1 << SLOT_BITS;
/// Mask of the slot digit.
const SLOT_MASK: u64 = SLOTS as u64 - 1;
// ANCHOR_END: wheel-consts
/// List index of the ready list; lists `0..READY` are `level * SLOTS + slot`.
const READY: usize = LEVELS * SLOTS;
/// Null entry index in links and list heads.
const NONE: u32 = u32::MAX;

/// Handle to a timer in a [`Wheel`].
///
/// The fields are private: the caller stores the key as an opaque, `Copy` token and hands it back
/// to [`Wheel::poll`], [`Wheel::reset`] and [`Wheel::remove`] (`Option<TimerKey>` serves as "no
/// timer"). The generation makes a key to a removed (and possibly reused) entry stale, which those
/// methods detect; it is a wrapping `u32`, so only a key kept across 2^32 reuses of one entry
/// could alias.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct TimerKey {
    /// Index into the entry `Vec`.
    index: u32,
    /// Generation of the entry when the key was issued.
    generation: u32,
}

/// Where an entry is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// On the free list; `next` links the free list.
    Free,
    /// Linked into the list with this index (a slot, or [`READY`]).
    Pending(u16),
    /// Fired (its waker, if any, was handed out), not linked, until removed.
    Fired,
}

/// One timer.
#[derive(Debug)]
struct Entry {
    /// The tick the timer fires at.
    deadline: u64,
    /// Woken when the timer fires.
    waker: Option<Waker>,
    /// Bumped when the entry is freed, so older keys stop matching.
    generation: u32,
    /// Free, pending or fired.
    state: State,
    /// Previous entry in the list, or [`NONE`].
    prev: u32,
    /// Next entry in the list (or in the free list), or [`NONE`].
    next: u32,
}

// ANCHOR: wheel-struct
/// A hierarchical timing wheel; see the [module docs](self).
pub(crate) struct Wheel {
    /// The tick processed up to, inclusive.
    elapsed: u64,
    /// Number of pending entries.
    pending: usize,
    /// The slab of entries.
    entries: Vec<Entry>,
    /// Head of the free list, or [`NONE`].
    free: u32,
    /// Heads of the slot lists (`level * SLOTS + slot`) and of the ready list ([`READY`]).
    heads: [u32; READY + 1],
    /// Per level, bit `s` is set when slot `s` is non-empty.
    occupied: [u64; LEVELS],
}
// ANCHOR_END: wheel-struct

impl fmt::Debug for Wheel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wheel")
            .field("elapsed", &self.elapsed)
            .field("len", &self.pending)
            .finish_non_exhaustive()
    }
}

impl Wheel {
    /// An empty wheel at tick 0.
    pub(crate) fn new() -> Wheel {
        Wheel {
            elapsed: 0,
            pending: 0,
            entries: Vec::new(),
            free: NONE,
            heads: [NONE; READY + 1],
            occupied: [0; LEVELS],
        }
    }

    /// The tick the wheel has processed up to, inclusive.
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Number of pending entries (not fired, not removed).
    pub(crate) fn len(&self) -> usize {
        self.pending
    }

    /// Registers a timer firing at tick `deadline`, to wake `waker`.
    ///
    /// Returns `None`, inserting nothing, when `deadline <= elapsed()`: the timer is already due.
    ///
    /// # Panics
    ///
    /// If `u32::MAX` entries are already allocated.
    pub(crate) fn insert(&mut self, deadline: u64, waker: Waker) -> Option<TimerKey> {
        if deadline <= self.elapsed {
            return None;
        }
        let index = if self.free == NONE {
            let index = u32::try_from(self.entries.len()).ok().filter(|&i| i != NONE);
            let index = index.expect("timing wheel: too many timers");
            self.entries.push(Entry {
                deadline,
                waker: Some(waker),
                generation: 0,
                state: State::Fired,
                prev: NONE,
                next: NONE,
            });
            index
        } else {
            let index = self.free;
            let entry = &mut self.entries[index as usize];
            self.free = entry.next;
            entry.deadline = deadline;
            entry.waker = Some(waker);
            index
        };
        self.pending += 1;
        self.link(index);
        Some(TimerKey {
            index,
            generation: self.entries[index as usize].generation,
        })
    }

    /// `Ready` if the timer fired (or `key` is stale); otherwise stores `waker` to be woken when
    /// it fires (unless the stored one already wakes the same task) and returns `Pending`.
    pub(crate) fn poll(&mut self, key: TimerKey, waker: &Waker) -> Poll<()> {
        let Some(entry) = self.lookup(key).map(|i| &mut self.entries[i as usize]) else {
            return Poll::Ready(());
        };
        if entry.state == State::Fired {
            return Poll::Ready(());
        }
        if !entry.waker.as_ref().is_some_and(|stored| stored.will_wake(waker)) {
            entry.waker = Some(waker.clone());
        }
        Poll::Pending
    }

    /// Frees the timer, unlinking it if it is still pending. A stale key is ignored.
    pub(crate) fn remove(&mut self, key: TimerKey) {
        let Some(index) = self.lookup(key) else { return };
        if let State::Pending(_) = self.entries[index as usize].state {
            self.unlink(index);
            self.pending -= 1;
        }
        let entry = &mut self.entries[index as usize];
        entry.waker = None;
        entry.state = State::Free;
        entry.generation = entry.generation.wrapping_add(1);
        entry.next = self.free;
        self.free = index;
    }

    /// Moves a live timer (pending or fired) to `deadline`, making it pending again with its waker.
    ///
    /// If `deadline <= elapsed()` the timer is marked fired instead and its waker, if it had one, is
    /// returned for the caller to wake. A stale key returns `None` and changes nothing.
    pub(crate) fn reset(&mut self, key: TimerKey, deadline: u64) -> Option<Waker> {
        let index = self.lookup(key)?;
        if let State::Pending(_) = self.entries[index as usize].state {
            self.unlink(index);
            self.pending -= 1;
        }
        let entry = &mut self.entries[index as usize];
        entry.deadline = deadline;
        if deadline <= self.elapsed {
            entry.state = State::Fired;
            return entry.waker.take();
        }
        self.pending += 1;
        self.link(index);
        None
    }

    /// The earliest tick at which [`process`](Self::process) may have work: the exact deadline of
    /// the earliest timer, or the start of an earlier higher-level slot that must cascade first.
    /// Never later than the earliest deadline; `None` when no timer is pending.
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        if self.heads[READY] != NONE {
            return Some(self.elapsed);
        }
        self.next_due().map(|(_, tick)| tick)
    }

    /// Advances `elapsed()` towards `now`, firing every timer with a deadline `<= now`: it is marked
    /// fired and its waker, if any, is pushed onto `out`, in non-decreasing deadline order.
    ///
    /// Returns `true` once everything due by `now` is handled (then `elapsed() == now`). Returns
    /// `false`, with the wheel in a consistent state, when it stopped early because
    /// `out.len() >= max`; call again (after waking the batch) to go on. At least one waker is
    /// pushed per call when any is due, so `max == 0` cannot livelock. `now < elapsed()` does
    /// nothing and returns `true`. Cost: O(levels) per occupied slot reached, O(1) per entry
    /// moved down or fired; empty stretches of time are skipped, never walked tick by tick.
    // ANCHOR: wheel-process
    pub(crate) fn process(&mut self, now: u64, out: &mut Vec<Waker>, max: usize) -> bool {
        if now < self.elapsed {
            return true;
        }
        let limit = max.max(out.len() + 1);
        loop {
            // Ready entries have `deadline == elapsed`, earlier than anything still in a slot.
            while self.heads[READY] != NONE {
                if out.len() >= limit {
                    return false;
                }
                let index = self.heads[READY];
                self.unlink(index);
                self.pending -= 1;
                let entry = &mut self.entries[index as usize];
                entry.state = State::Fired;
                out.extend(entry.waker.take());
            }
            let Some((list, tick)) = self.next_due().filter(|&(_, tick)| tick <= now) else {
                self.elapsed = now;
                return true;
            };
            if out.len() >= limit {
                return false;
            }
            if list / SLOTS == LEVELS - 1 {
                self.refile_top(now);
            } else {
                // All lower levels are empty, so moving `elapsed` to the slot's start skips nothing.
                self.elapsed = tick;
                let head = self.take_list(list);
                self.link_chain(head);
            }
        }
    }
    // ANCHOR_END: wheel-process

    /// Index of the entry `key` names, if it is live (pending or fired) and of the same generation.
    fn lookup(&self, key: TimerKey) -> Option<u32> {
        let entry = self.entries.get(key.index as usize)?;
        (entry.generation == key.generation && entry.state != State::Free).then_some(key.index)
    }

    // ANCHOR: wheel-next-due
    /// The earliest non-empty slot: its list index and the tick it comes due.
    fn next_due(&self) -> Option<(usize, u64)> {
        // The lowest non-empty level holds the earliest slot (see the module docs).
        let level = self.occupied.iter().position(|&bits| bits != 0)?;
        let shift = SLOT_BITS * level as u32;
        // Slots after the one `elapsed` is in come first; on the top level the ring wraps round.
        let after = ((self.elapsed >> shift) & SLOT_MASK) + 1;
        let skip = u64::from(self.occupied[level].rotate_right(after as u32).trailing_zeros());
        let offset = after + skip; // slots from the start of the current level block
        debug_assert!(offset < SLOTS as u64 || level == LEVELS - 1);
        let block_start = self.elapsed & !((1 << (shift + SLOT_BITS)) - 1);
        let tick = block_start.saturating_add(offset << shift);
        Some((level * SLOTS + (offset & SLOT_MASK) as usize, tick))
    }
    // ANCHOR_END: wheel-next-due

    // ANCHOR: wheel-link
    /// Links the entry at the head of the list its deadline belongs in relative to `elapsed`.
    fn link(&mut self, index: u32) {
        let deadline = self.entries[index as usize].deadline;
        let list = if deadline <= self.elapsed {
            READY
        } else {
            // The highest differing digit; beyond the horizon, the top level's ring (module docs).
            let significant = ((self.elapsed ^ deadline) | SLOT_MASK).ilog2();
            let level = ((significant / SLOT_BITS) as usize).min(LEVELS - 1);
            let slot = ((deadline >> (SLOT_BITS * level as u32)) & SLOT_MASK) as usize;
            self.occupied[level] |= 1 << slot;
            level * SLOTS + slot
        };
        let head = self.heads[list];
        if head != NONE {
            self.entries[head as usize].prev = index;
        }
        let entry = &mut self.entries[index as usize];
        entry.state = State::Pending(list as u16);
        entry.prev = NONE;
        entry.next = head;
        self.heads[list] = index;
    }
    // ANCHOR_END: wheel-link

    /// Unlinks a pending entry from its list (its state is left for the caller to set).
    fn unlink(&mut self, index: u32) {
        let Entry {
            state, prev, next, ..
        } = self.entries[index as usize];
        let State::Pending(list) = state else {
            unreachable!("unlinking an entry that is not pending")
        };
        let list = usize::from(list);
        if next != NONE {
            self.entries[next as usize].prev = prev;
        }
        if prev == NONE {
            self.heads[list] = next;
            if next == NONE && list != READY {
                self.occupied[list / SLOTS] &= !(1 << (list % SLOTS));
            }
        } else {
            self.entries[prev as usize].next = next;
        }
    }

    /// Detaches a whole slot list, returning its head; the entries keep their `next` links.
    fn take_list(&mut self, list: usize) -> u32 {
        self.occupied[list / SLOTS] &= !(1 << (list % SLOTS));
        std::mem::replace(&mut self.heads[list], NONE)
    }

    /// Re-files every entry of a detached chain (linked through `next`) relative to `elapsed`.
    fn link_chain(&mut self, mut index: u32) {
        while index != NONE {
            let next = self.entries[index as usize].next;
            self.link(index);
            index = next;
        }
    }

    /// The top level came due (all lower levels are empty): re-file all of it relative to its
    /// earliest deadline, or `now` if that is sooner, so a huge jump never walks the ring.
    /// O(top-level entries); in steady running at most once per top-level slot (2^30 ticks).
    fn refile_top(&mut self, now: u64) {
        let mut chain = NONE;
        let mut earliest = u64::MAX;
        for list in (LEVELS - 1) * SLOTS..READY {
            let mut index = self.take_list(list);
            while index != NONE {
                let entry = &mut self.entries[index as usize];
                earliest = earliest.min(entry.deadline);
                (index, entry.next, chain) = (entry.next, chain, index);
            }
        }
        debug_assert!(earliest > self.elapsed);
        self.elapsed = earliest.min(now);
        self.link_chain(chain);
    }
}

#[cfg(test)]
mod tests;
