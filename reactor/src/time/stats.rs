//! What the timer driver did, counted for the tests that keep its costs down
//! (test builds only: counting on every path would be a cost itself).

// Plain std atomics: counters read after the fact, not a protocol that loom
// would need to see.
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts of the timer driver's costly steps.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    /// Wheel lock acquisitions.
    pub(crate) wheel_locks: AtomicUsize,
    /// Precise clock readings.
    pub(crate) clock_reads: AtomicUsize,
    /// Registrations that interrupted a thread waiting in the driver.
    pub(crate) interrupts: AtomicUsize,
    /// Checks whether a deadline has passed (a coarse clock reading, and a
    /// precise one when that is not enough).
    pub(crate) due_checks: AtomicUsize,
}

/// A copy of the counts at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) wheel_locks: usize,
    pub(crate) clock_reads: usize,
    pub(crate) interrupts: usize,
    pub(crate) due_checks: usize,
}

impl Stats {
    /// The counts now.
    pub(crate) fn get(&self) -> Counts {
        Counts {
            wheel_locks: self.wheel_locks.load(Ordering::Relaxed),
            clock_reads: self.clock_reads.load(Ordering::Relaxed),
            interrupts: self.interrupts.load(Ordering::Relaxed),
            due_checks: self.due_checks.load(Ordering::Relaxed),
        }
    }
}

impl std::ops::Sub for Counts {
    type Output = Counts;

    fn sub(self, earlier: Counts) -> Counts {
        Counts {
            wheel_locks: self.wheel_locks - earlier.wheel_locks,
            clock_reads: self.clock_reads - earlier.clock_reads,
            interrupts: self.interrupts - earlier.interrupts,
            due_checks: self.due_checks - earlier.due_checks,
        }
    }
}
