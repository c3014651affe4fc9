//! The task's state word: eight flags, the task's registry slot and a
//! reference count in one 64-bit atomic.
//!
//! ```text
//!  bit  63 ..... 36   35 ...... 8   7       6               5           4            3               2          1          0
//!      [ ref count  | owner slot  | LOCAL | FUTURE_LEAKED | CANCELLED | JOIN_WAKER | JOIN_INTEREST | NOTIFIED | COMPLETE | RUNNING ]
//! ```
//!
//! * `RUNNING`: someone holds the future exclusively: a worker polling it, or
//!   code cancelling it. Only the holder of `RUNNING` touches the stage while
//!   `COMPLETE` is unset.
//! * `COMPLETE`: the future is gone and the output (if any) has been written.
//!   Set once, never cleared.
//! * `NOTIFIED`: a `Notified` for the task exists (it sits in a run queue), or
//!   the task was woken while running and must be polled again.
//! * `JOIN_INTEREST`: the `JoinHandle` is alive; once `COMPLETE` is set it owns
//!   the output.
//! * `JOIN_WAKER`: the join-waker slot holds the `JoinHandle`'s waker and the
//!   task side may read it. While unset, the `JoinHandle` owns the slot.
//! * `CANCELLED`: `abort` or shutdown asked for the future to be dropped.
//! * `FUTURE_LEAKED`: set with `COMPLETE` when a `spawn_local` future had to
//!   be leaked (its runtime was dropped on another thread, where it must not
//!   be dropped). The stage still holds the future, never the output; the
//!   `JoinHandle` reports a cancellation instead of reading it, and the task
//!   is never freed (a pinned future's memory must outlive it).
//! * `LOCAL` and the **owner slot**: where the registry keeps the task (see
//!   `registry.rs`), and whether it was spawned with `spawn_local`. Written
//!   once, when the registry records the task and before anyone else can
//!   reach it; never changed afterwards. They live here rather than in a
//!   header field of their own so that the header stays five words: the
//!   reference count has no use for 57 bits, and 28 (268 million
//!   references) are ample.
//!
//! Every transition is a named method returning an outcome that says what the
//! caller must do next; no compare-and-swap loop appears outside this file.

use crate::loom::atomic::{AtomicU64, Ordering};
use std::fmt;

// ANCHOR: state-bits
const RUNNING: u64 = 1 << 0;
const COMPLETE: u64 = 1 << 1;
const NOTIFIED: u64 = 1 << 2;
const JOIN_INTEREST: u64 = 1 << 3;
const JOIN_WAKER: u64 = 1 << 4;
const CANCELLED: u64 = 1 << 5;
const FUTURE_LEAKED: u64 = 1 << 6;
const LOCAL: u64 = 1 << 7;

const OWNER_SHIFT: u32 = 8;
/// Bits of the registry slot: a shard holds at most `2^28` tasks.
pub(crate) const OWNER_BITS: u32 = 28;
const OWNER_MASK: u64 = ((1 << OWNER_BITS) - 1) << OWNER_SHIFT;

const REF_SHIFT: u32 = OWNER_SHIFT + OWNER_BITS;
const REF_ONE: u64 = 1 << REF_SHIFT;

/// A new task has three references: the registry's, the first `Notified`'s and
/// the `JoinHandle`'s. It is notified (its first poll is queued) and joinable.
const INITIAL: u64 = (REF_ONE * 3) | JOIN_INTEREST | NOTIFIED;
// ANCHOR_END: state-bits

/// The atomic state word of one task.
pub(crate) struct State {
    val: AtomicU64,
}

/// A copy of the state word taken at one instant.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot(u64);

/// What the holder of a `Notified` does after trying to take `RUNNING`.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToRunning {
    /// Poll the future.
    Success,
    /// The task was aborted: drop the future instead of polling it.
    Cancelled,
    /// The task is complete or held by someone else; the `Notified`'s
    /// reference was released.
    Failed,
    /// As `Failed`, and that was the last reference: deallocate.
    Dealloc,
}

/// What the poller does after the future returned `Pending`.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToIdle {
    /// The task is idle; the poller's reference was released.
    Ok,
    /// The task was woken during the poll: the poller's reference becomes a
    /// new `Notified`, which must be scheduled.
    OkNotified,
    /// The task is idle and the poller held the last reference: deallocate.
    OkDealloc,
    /// The task was aborted during the poll; `RUNNING` is still held: cancel it.
    Cancelled,
}

/// What a `wake` (by value) asks of the waker.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToNotifiedByVal {
    /// Nothing more: the reference was released or handed to the poller.
    DoNothing,
    /// The waker's reference became a `Notified`: schedule it.
    Submit,
    /// The waker held the last reference: deallocate.
    Dealloc,
}

/// What a `wake_by_ref` asks of the waker.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToNotifiedByRef {
    /// Nothing more.
    DoNothing,
    /// A new reference was taken for a `Notified`: schedule it.
    Submit,
}

/// What `abort` asks of its caller.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToNotifiedAndCancel {
    /// Nothing more: the task was already cancelled or complete, or the
    /// poller (or whoever pops its queued `Notified`) sees the flag.
    DoNothing,
    /// The task was idle: a new reference was taken for a `Notified`, which
    /// must be scheduled so that the future is dropped on a runtime thread.
    Submit,
}

/// What shutdown asks of its caller.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToShutdown {
    /// The task was idle and the caller now holds `RUNNING`: cancel the
    /// future and complete the task.
    Cancel,
    /// The task is complete or running elsewhere (its poller sees
    /// `CANCELLED` when the poll ends): leave the future alone.
    DoNothing,
}

/// What the fast path of dropping a `JoinHandle` achieved.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DropJoinHandleFast {
    /// The interest and the handle's reference are gone: nothing more.
    Done,
    /// Nothing changed (the task is complete, or a join waker is stored):
    /// take the slow path.
    TakeSlowPath,
}

/// What releasing references leaves the caller to do.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Released {
    /// Other references remain: nothing more.
    Alive,
    /// That was the last reference: deallocate.
    Dealloc,
}

impl Released {
    /// `Dealloc` if `last` (the released references were the last ones).
    fn last_if(last: bool) -> Released {
        if last { Released::Dealloc } else { Released::Alive }
    }
}

/// What dropping the `JoinHandle` leaves the handle to clean up.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct JoinHandleDropped {
    /// The task was complete: the handle owns the output and must drop it.
    pub(crate) drop_output: bool,
    /// The handle owns the join-waker slot and may clear it.
    pub(crate) drop_waker: bool,
}

impl State {
    pub(crate) fn new() -> State {
        State {
            val: AtomicU64::new(INITIAL),
        }
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.val.load(Ordering::Acquire))
    }

    /// Applies `f` until the compare-and-swap succeeds. `f` returns the
    /// outcome and, if the word must change, its next value.
    fn fetch_update<T>(&self, mut f: impl FnMut(Snapshot) -> (T, Option<Snapshot>)) -> T {
        let mut curr = self.load();
        loop {
            let (output, next) = f(curr);
            let Some(next) = next else { return output };
            match self
                .val
                .compare_exchange(curr.0, next.0, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return output,
                Err(actual) => curr = Snapshot(actual),
            }
        }
    }

    // ANCHOR: state-to-running
    /// Called by the holder of a `Notified` (which carries one reference).
    pub(crate) fn transition_to_running(&self) -> TransitionToRunning {
        self.fetch_update(|mut s| {
            if s.is_running() || s.is_complete() {
                // Shutdown or an abort got there first; give the reference back.
                s.ref_dec();
                let outcome = if s.ref_count() == 0 {
                    TransitionToRunning::Dealloc
                } else {
                    TransitionToRunning::Failed
                };
                return (outcome, Some(s));
            }
            debug_assert!(s.is_notified(), "a queued task must be notified");
            s.0 = (s.0 & !NOTIFIED) | RUNNING;
            let outcome = if s.is_cancelled() {
                TransitionToRunning::Cancelled
            } else {
                TransitionToRunning::Success
            };
            (outcome, Some(s))
        })
    }
    // ANCHOR_END: state-to-running

    // ANCHOR: state-to-idle
    /// Called by the poller when the future returned `Pending`.
    pub(crate) fn transition_to_idle(&self) -> TransitionToIdle {
        self.fetch_update(|mut s| {
            debug_assert!(s.is_running());
            if s.is_cancelled() {
                return (TransitionToIdle::Cancelled, None);
            }
            s.0 &= !RUNNING;
            if s.is_notified() {
                // The poller's reference now backs the new `Notified`.
                return (TransitionToIdle::OkNotified, Some(s));
            }
            s.ref_dec();
            let outcome = if s.ref_count() == 0 {
                TransitionToIdle::OkDealloc
            } else {
                TransitionToIdle::Ok
            };
            (outcome, Some(s))
        })
    }
    // ANCHOR_END: state-to-idle

    /// Clears `RUNNING` and sets `COMPLETE` in one step; the output is written.
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        let prev = Snapshot(self.val.fetch_xor(RUNNING | COMPLETE, Ordering::AcqRel));
        debug_assert!(prev.is_running() && !prev.is_complete());
        Snapshot(prev.0 ^ (RUNNING | COMPLETE))
    }

    /// Completes a task whose future is being leaked: clears `RUNNING`, sets
    /// `COMPLETE` and `FUTURE_LEAKED`. No output is written.
    pub(crate) fn transition_to_complete_leaked(&self) -> Snapshot {
        let prev = Snapshot(
            self.val
                .fetch_xor(RUNNING | COMPLETE | FUTURE_LEAKED, Ordering::AcqRel),
        );
        debug_assert!(prev.is_running() && !prev.is_complete());
        Snapshot(prev.0 ^ (RUNNING | COMPLETE | FUTURE_LEAKED))
    }

    /// Releases `count` references after completion.
    pub(crate) fn transition_to_terminal(&self, count: usize) -> Released {
        let prev = Snapshot(self.val.fetch_sub(count as u64 * REF_ONE, Ordering::AcqRel));
        debug_assert!(prev.ref_count() >= count, "reference count underflow");
        Released::last_if(prev.ref_count() == count)
    }

    // ANCHOR: state-wake-by-val
    /// `Waker::wake`: consumes the waker's reference.
    pub(crate) fn transition_to_notified_by_val(&self) -> TransitionToNotifiedByVal {
        self.fetch_update(|mut s| {
            if s.is_running() {
                // The poller reschedules after the poll; it holds a reference,
                // so this decrement never reaches zero.
                s.0 |= NOTIFIED;
                s.ref_dec();
                debug_assert!(s.ref_count() > 0);
                (TransitionToNotifiedByVal::DoNothing, Some(s))
            } else if s.is_complete() || s.is_notified() {
                s.ref_dec();
                let outcome = if s.ref_count() == 0 {
                    TransitionToNotifiedByVal::Dealloc
                } else {
                    TransitionToNotifiedByVal::DoNothing
                };
                (outcome, Some(s))
            } else {
                // The waker's reference is handed to the new `Notified`.
                s.0 |= NOTIFIED;
                (TransitionToNotifiedByVal::Submit, Some(s))
            }
        })
    }
    // ANCHOR_END: state-wake-by-val

    /// `Waker::wake_by_ref`.
    pub(crate) fn transition_to_notified_by_ref(&self) -> TransitionToNotifiedByRef {
        self.fetch_update(|mut s| {
            if s.is_complete() || s.is_notified() {
                (TransitionToNotifiedByRef::DoNothing, None)
            } else if s.is_running() {
                s.0 |= NOTIFIED;
                (TransitionToNotifiedByRef::DoNothing, Some(s))
            } else {
                s.0 |= NOTIFIED;
                s.ref_inc();
                (TransitionToNotifiedByRef::Submit, Some(s))
            }
        })
    }

    // ANCHOR: state-abort
    /// `abort`: marks the task cancelled. If it was idle, takes a new
    /// reference for a `Notified` that the caller must schedule, so that the
    /// future is dropped by the scheduler, on a thread of the runtime.
    pub(crate) fn transition_to_notified_and_cancel(&self) -> TransitionToNotifiedAndCancel {
        self.fetch_update(|mut s| {
            if s.is_cancelled() || s.is_complete() {
                (TransitionToNotifiedAndCancel::DoNothing, None)
            } else if s.is_running() || s.is_notified() {
                // The poller, or whoever pops the queued `Notified`, sees the flag.
                s.0 |= CANCELLED;
                (TransitionToNotifiedAndCancel::DoNothing, Some(s))
            } else {
                s.0 |= CANCELLED | NOTIFIED;
                s.ref_inc();
                (TransitionToNotifiedAndCancel::Submit, Some(s))
            }
        })
    }
    // ANCHOR_END: state-abort

    /// Shutdown: marks the task cancelled and, if it is idle, takes `RUNNING`
    /// for the caller, who then holds the future and must cancel it.
    pub(crate) fn transition_to_shutdown(&self) -> TransitionToShutdown {
        self.fetch_update(|mut s| {
            s.0 |= CANCELLED;
            if s.is_running() || s.is_complete() {
                return (TransitionToShutdown::DoNothing, Some(s));
            }
            s.0 |= RUNNING;
            (TransitionToShutdown::Cancel, Some(s))
        })
    }

    /// The fast path of dropping a `JoinHandle`: when the task is not complete
    /// and no join waker is stored, clearing the interest and releasing the
    /// handle's reference is all there is to do. The task is incomplete, so the
    /// registry still holds a reference and this never frees the task.
    pub(crate) fn drop_join_handle_fast(&self) -> DropJoinHandleFast {
        self.fetch_update(|mut s| {
            debug_assert!(s.is_join_interested());
            if s.is_complete() || s.is_join_waker_set() || s.ref_count() < 2 {
                return (DropJoinHandleFast::TakeSlowPath, None);
            }
            s.0 &= !JOIN_INTEREST;
            s.ref_dec();
            (DropJoinHandleFast::Done, Some(s))
        })
    }

    /// The slow path of dropping a `JoinHandle`: clears `JOIN_INTEREST`, and
    /// `JOIN_WAKER` too while the task is incomplete (taking back the slot).
    /// The handle's reference is released separately, after cleaning up.
    pub(crate) fn transition_to_join_handle_dropped(&self) -> JoinHandleDropped {
        self.fetch_update(|mut s| {
            debug_assert!(s.is_join_interested());
            let complete = s.is_complete();
            s.0 &= !JOIN_INTEREST;
            if !complete {
                s.0 &= !JOIN_WAKER;
            }
            let outcome = JoinHandleDropped {
                drop_output: complete,
                drop_waker: !s.is_join_waker_set(),
            };
            (outcome, Some(s))
        })
    }

    /// Drops a `JoinHandle` that has read the output: the task is complete,
    /// so clearing the interest and releasing the handle's reference are one
    /// step. A join waker left in the slot is cleared by whoever frees the
    /// task (or by the completing side, if it still holds the slot and now
    /// sees no interest).
    pub(crate) fn drop_join_handle_after_output(&self) -> Released {
        let prev = Snapshot(self.val.fetch_sub(JOIN_INTEREST + REF_ONE, Ordering::AcqRel));
        debug_assert!(prev.is_complete() && prev.is_join_interested());
        Released::last_if(prev.ref_count() == 1)
    }

    /// Publishes the join waker the `JoinHandle` just wrote. Fails, handing
    /// the slot back, if the task completed meanwhile.
    pub(crate) fn set_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update(|mut s| {
            debug_assert!(s.is_join_interested() && !s.is_join_waker_set());
            if s.is_complete() {
                return (Err(s), None);
            }
            s.0 |= JOIN_WAKER;
            (Ok(s), Some(s))
        })
    }

    /// Takes the join-waker slot back so the `JoinHandle` can replace the
    /// waker. Fails if the task completed (the slot is being read).
    pub(crate) fn unset_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update(|mut s| {
            debug_assert!(s.is_join_interested() && s.is_join_waker_set());
            if s.is_complete() {
                return (Err(s), None);
            }
            s.0 &= !JOIN_WAKER;
            (Ok(s), Some(s))
        })
    }

    /// After completion the task side has read the join waker; it gives the
    /// slot back to the `JoinHandle`, and returns the new snapshot so the
    /// caller can see whether the handle has meanwhile gone.
    pub(crate) fn unset_join_waker_after_complete(&self) -> Snapshot {
        let prev = Snapshot(self.val.fetch_and(!JOIN_WAKER, Ordering::AcqRel));
        debug_assert!(prev.is_complete() && prev.is_join_waker_set());
        Snapshot(prev.0 & !JOIN_WAKER)
    }

    /// Takes one more reference (a waker clone, an abort handle).
    pub(crate) fn ref_inc(&self) {
        // Relaxed suffices: a new reference is made from an existing one,
        // which already orders every access it needs (as in `Arc::clone`).
        let prev = self.val.fetch_add(REF_ONE, Ordering::Relaxed);
        if prev > i64::MAX as u64 {
            // 134 million references (leaked wakers): the count is half
            // way to wrapping; abort, as `Arc::clone` does, long before it
            // could reach zero by overflow.
            std::process::abort();
        }
    }

    /// Records where the registry keeps the task, and whether it is local.
    /// Called once, by the registry, before the task is shared: the slot
    /// bits are still zero, so or-ing them in leaves the rest intact.
    pub(crate) fn set_owner(&self, slot: usize, local: bool) {
        let slot = slot as u64;
        debug_assert!(slot < 1 << OWNER_BITS, "registry slot out of range");
        let bits = (slot << OWNER_SHIFT) | if local { LOCAL } else { 0 };
        // Relaxed: the task is not shared yet; whoever reads the slot later
        // (the completing side, shutdown) reaches the task through a queue
        // or the registry's lock, which order this write before the read.
        let prev = self.val.fetch_or(bits, Ordering::Relaxed);
        debug_assert_eq!(prev & (OWNER_MASK | LOCAL), 0, "the owner is set once");
    }

    /// Releases one reference.
    pub(crate) fn ref_dec(&self) -> Released {
        let prev = Snapshot(self.val.fetch_sub(REF_ONE, Ordering::AcqRel));
        debug_assert!(prev.ref_count() >= 1, "reference count underflow");
        Released::last_if(prev.ref_count() == 1)
    }
}

impl Snapshot {
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }

    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }

    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }

    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }

    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }

    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }

    pub(crate) fn is_future_leaked(self) -> bool {
        self.0 & FUTURE_LEAKED != 0
    }

    pub(crate) fn ref_count(self) -> usize {
        // At most 28 bits: fits a `usize` on every supported target.
        (self.0 >> REF_SHIFT) as usize
    }

    /// The registry slot written by [`State::set_owner`] (0 before).
    pub(crate) fn owner_slot(self) -> usize {
        ((self.0 & OWNER_MASK) >> OWNER_SHIFT) as usize
    }

    /// Spawned with `spawn_local` (set with the owner slot).
    pub(crate) fn is_local(self) -> bool {
        self.0 & LOCAL != 0
    }

    fn ref_dec(&mut self) {
        debug_assert!(self.ref_count() > 0);
        self.0 -= REF_ONE;
    }

    fn ref_inc(&mut self) {
        self.0 += REF_ONE;
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.load().fmt(f)
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("notified", &self.is_notified())
            .field("join_interest", &self.is_join_interested())
            .field("join_waker", &self.is_join_waker_set())
            .field("cancelled", &self.is_cancelled())
            .field("future_leaked", &self.is_future_leaked())
            .field("local", &self.is_local())
            .field("owner_slot", &self.owner_slot())
            .field("refs", &self.ref_count())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
