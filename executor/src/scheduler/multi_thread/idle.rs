//! Which workers sleep, and how many are searching for work.
//!
//! A worker with nothing local to do *searches*: it steals from the others and
//! checks the injection queue. To avoid a thundering herd, a new task wakes a
//! sleeping worker only when nobody is searching already, and at most half the
//! workers search at once. When a searcher finds work it stops searching, and
//! if it was the last one it wakes another worker to carry on — so work
//! spreads one wake-up at a time, as fast as there is work to give.
//!
//! The counts share one atomic word: `unparked << 16 | searching`. The list
//! of sleeping workers sits behind a mutex, taken only to park or to wake.
//!
//! No task is left behind: a producer pushes, then reads the word with a
//! read-modify-write; the last searcher to park writes the word, then checks
//! every queue. The two read-modify-writes are ordered one way or the other,
//! and either way one side sees the other (the producer wakes someone, or the
//! parking searcher finds the task).

use crate::loom::atomic::{AtomicUsize, Ordering};
use crate::loom::{Mutex, lock};
use std::fmt;

const UNPARKED_SHIFT: usize = 16;
const SEARCHING_MASK: usize = (1 << UNPARKED_SHIFT) - 1;
const UNPARKED_ONE: usize = 1 << UNPARKED_SHIFT;

pub(super) struct Idle {
    state: AtomicUsize,
    num_workers: usize,
    sleepers: Mutex<Vec<usize>>,
}

impl Idle {
    /// All workers start awake and not searching.
    pub(super) fn new(num_workers: usize) -> Idle {
        Idle {
            state: AtomicUsize::new(num_workers << UNPARKED_SHIFT),
            num_workers,
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
        }
    }

    // ANCHOR: idle-notify
    /// Picks a sleeping worker to wake for new work, counting it as unparked
    /// and searching; `None` if someone is searching or nobody sleeps.
    pub(super) fn worker_to_notify(&self) -> Option<usize> {
        if !self.should_wake_one() {
            return None;
        }
        let mut sleepers = lock(&self.sleepers);
        if !self.should_wake_one() {
            return None;
        }
        self.state.fetch_add(UNPARKED_ONE | 1, Ordering::SeqCst);
        let worker = sleepers.pop();
        debug_assert!(worker.is_some(), "fewer unparked than workers, yet none sleeps");
        worker
    }

    fn should_wake_one(&self) -> bool {
        // A read-modify-write, not a load: it reads the latest value and
        // orders the caller's push before a parking searcher's check.
        let state = self.state.fetch_add(0, Ordering::SeqCst);
        searching(state) == 0 && unparked(state) < self.num_workers
    }
    // ANCHOR_END: idle-notify

    /// Records that `worker` goes to sleep. Returns true if it was the last
    /// searcher, in which case the caller must check the queues once more.
    pub(super) fn transition_worker_to_parked(&self, worker: usize, is_searching: bool) -> bool {
        let mut sleepers = lock(&self.sleepers);
        let dec = if is_searching {
            UNPARKED_ONE | 1
        } else {
            UNPARKED_ONE
        };
        let prev = self.state.fetch_sub(dec, Ordering::SeqCst);
        sleepers.push(worker);
        is_searching && searching(prev) == 1
    }

    /// Lets an awake worker start searching, unless half the workers already do.
    pub(super) fn transition_worker_to_searching(&self) -> bool {
        let state = self.state.load(Ordering::SeqCst);
        if 2 * searching(state) >= self.num_workers {
            return false;
        }
        self.state.fetch_add(1, Ordering::SeqCst);
        true
    }

    /// A searcher found work. Returns true if it was the last searcher.
    pub(super) fn transition_worker_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(1, Ordering::SeqCst);
        searching(prev) == 1
    }

    /// A worker woke without being picked (events in the driver, shutdown):
    /// takes it off the sleeper list as awake and not searching. Returns
    /// false if someone had already picked it, as searching.
    pub(super) fn unpark_worker_by_id(&self, worker: usize) -> bool {
        let mut sleepers = lock(&self.sleepers);
        match sleepers.iter().position(|&w| w == worker) {
            Some(at) => {
                sleepers.swap_remove(at);
                self.state.fetch_add(UNPARKED_ONE, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// True while `worker` is on the sleeper list.
    pub(super) fn is_parked(&self, worker: usize) -> bool {
        lock(&self.sleepers).contains(&worker)
    }
}

fn searching(state: usize) -> usize {
    state & SEARCHING_MASK
}

fn unparked(state: usize) -> usize {
    state >> UNPARKED_SHIFT
}

impl fmt::Debug for Idle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Ordering::Relaxed);
        f.debug_struct("Idle")
            .field("workers", &self.num_workers)
            .field("unparked", &unparked(state))
            .field("searching", &searching(state))
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn wakes_one_worker_at_a_time() {
        let idle = Idle::new(4);
        for w in 0..4 {
            assert!(!idle.transition_worker_to_parked(w, false));
        }
        let first = idle.worker_to_notify();
        assert!(first.is_some());
        // Someone searches now: no second wake.
        assert_eq!(idle.worker_to_notify(), None);
        assert!(idle.transition_worker_from_searching());
        assert!(idle.worker_to_notify().is_some());
    }

    #[test]
    fn at_most_half_search() {
        let idle = Idle::new(4);
        assert!(idle.transition_worker_to_searching());
        assert!(idle.transition_worker_to_searching());
        assert!(!idle.transition_worker_to_searching());
    }

    #[test]
    fn the_last_searcher_to_park_is_told() {
        let idle = Idle::new(2);
        assert!(idle.transition_worker_to_searching());
        assert!(idle.transition_worker_to_parked(0, true));
        assert!(!idle.transition_worker_to_parked(1, false));
        assert!(idle.is_parked(0) && idle.is_parked(1));
        assert!(idle.unpark_worker_by_id(1));
        assert!(!idle.unpark_worker_by_id(1));
    }
}
