//! The event loop's callback timers: a min-heap of deadlines over a slab of
//! callbacks, with generations so that a stale id names nothing.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

/// The callback of a timer.
pub(crate) enum TimerCallback {
    Once(Box<dyn FnOnce() + Send>),
    Repeat(Box<dyn FnMut() + Send>),
}

/// Names a timer: its slot and the slot's generation when it was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TimerId {
    index: usize,
    generation: u64,
}

/// Callback timers: a min-heap of deadlines over a slab of callbacks.
/// Cancelling empties the slot; its heap entry is skipped when it surfaces.
#[derive(Default)]
pub(super) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, u64, TimerId)>>,
    slots: Vec<Slot>,
    free: Vec<usize>,
    /// Orders timers with equal deadlines by when they were set.
    sequence: u64,
    pub(super) live: usize,
}

struct Slot {
    generation: u64,
    state: SlotState,
}

enum SlotState {
    Free,
    Armed {
        callback: TimerCallback,
        period: Option<Duration>,
    },
    /// Its callback is running on the loop right now.
    Firing {
        period: Option<Duration>,
        cancelled: bool,
    },
}

impl Timers {
    pub(super) fn insert(
        &mut self,
        deadline: Instant,
        period: Option<Duration>,
        callback: TimerCallback,
    ) -> TimerId {
        let state = SlotState::Armed { callback, period };
        let index = match self.free.pop() {
            Some(index) => {
                self.slots[index].state = state;
                index
            }
            None => {
                self.slots.push(Slot { generation: 0, state });
                self.slots.len() - 1
            }
        };
        self.live += 1;
        let id = TimerId {
            index,
            generation: self.slots[index].generation,
        };
        self.push(deadline, id);
        id
    }

    fn push(&mut self, deadline: Instant, id: TimerId) {
        self.sequence += 1;
        self.heap.push(Reverse((deadline, self.sequence, id)));
    }

    fn slot(&mut self, id: TimerId) -> Option<&mut Slot> {
        self.slots
            .get_mut(id.index)
            .filter(|slot| slot.generation == id.generation)
    }

    pub(super) fn is_live(&self, id: TimerId) -> bool {
        self.slots.get(id.index).is_some_and(|slot| {
            slot.generation == id.generation
                && match slot.state {
                    SlotState::Free => false,
                    SlotState::Armed { .. } => true,
                    SlotState::Firing { cancelled, period } => !cancelled && period.is_some(),
                }
        })
    }

    /// Cancels `id`. Returns whether it was live (see `is_live`), and its
    /// callback, to drop outside the lock, if it was armed.
    pub(super) fn cancel(&mut self, id: TimerId) -> (bool, Option<TimerCallback>) {
        let was_live = self.is_live(id);
        let Some(slot) = self.slot(id) else {
            return (false, None);
        };
        match std::mem::replace(&mut slot.state, SlotState::Free) {
            SlotState::Armed { callback, .. } => {
                self.release(id.index);
                (was_live, Some(callback))
            }
            SlotState::Firing { period, .. } => {
                // An interval cancelled from its own callback: the loop
                // frees the slot when the callback returns.
                slot.state = SlotState::Firing {
                    period,
                    cancelled: true,
                };
                (was_live, None)
            }
            SlotState::Free => (false, None),
        }
    }

    fn release(&mut self, index: usize) {
        let slot = &mut self.slots[index];
        slot.state = SlotState::Free;
        slot.generation += 1;
        self.free.push(index);
        self.live -= 1;
        if self.live == 0 {
            // Only skipped entries are left.
            self.heap.clear();
        }
    }

    /// The earliest deadline of a live timer, dropping cancelled entries.
    pub(super) fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(Reverse((deadline, _, id))) = self.heap.peek() {
            // A cancelled timer's slot may be free, or reused by a newer
            // timer (another generation): either way the entry is stale.
            let slot = &self.slots[id.index];
            if slot.generation == id.generation && matches!(slot.state, SlotState::Armed { .. }) {
                return Some(*deadline);
            }
            self.heap.pop();
        }
        None
    }

    /// Takes the next timer due at `now`, marking it firing.
    pub(super) fn pop_due(&mut self, now: Instant) -> Option<(usize, TimerCallback)> {
        let deadline = self.next_deadline()?;
        if deadline > now {
            return None;
        }
        let Reverse((_, _, TimerId { index, .. })) = self.heap.pop()?;
        let slot = &mut self.slots[index];
        let SlotState::Armed { callback, period } = std::mem::replace(&mut slot.state, SlotState::Free)
        else {
            unreachable!("next_deadline surfaced an armed timer");
        };
        slot.state = SlotState::Firing {
            period,
            cancelled: false,
        };
        Some((index, callback))
    }

    /// After a callback ran: re-arm an interval (its callback given back),
    /// or free the slot. Returns a callback to drop outside the lock.
    pub(super) fn fired(
        &mut self,
        index: usize,
        callback: Option<Box<dyn FnMut() + Send>>,
        now: Instant,
    ) -> Option<Box<dyn FnMut() + Send>> {
        let slot = &mut self.slots[index];
        match (&slot.state, callback) {
            (
                SlotState::Firing {
                    period: Some(period),
                    cancelled: false,
                },
                Some(callback),
            ) => {
                let period = *period;
                slot.state = SlotState::Armed {
                    callback: TimerCallback::Repeat(callback),
                    period: Some(period),
                };
                let id = TimerId {
                    index,
                    generation: slot.generation,
                };
                // The next tick counts from now: a slow callback delays the
                // interval rather than bursting to catch up.
                self.push(now.checked_add(period).unwrap_or(now), id);
                None
            }
            (_, callback) => {
                self.release(index);
                callback
            }
        }
    }
}
