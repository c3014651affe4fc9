//! `Job`: a broker operation spawned on the runtime, whose outcome a
//! poll-style method picks up later.
//!
//! The backend's poll methods may be polled without a waker that anyone
//! will wake again (`EventBus::topic`, an ack's commit): a lapin future
//! parked in the backend would then never be polled to its end. So each
//! operation runs as a task of its own, and leaves its outcome in the
//! job's slot, waking the latest waker the poller left.
//!
//! Protocol: the slot is one mutex, held only to store or take the
//! outcome or the waker; the waker is woken after the lock is released.
//!
//! Beside it, the crate's poison-tolerant `lock` and `wake_slots`, which
//! wakes waiters the same way when a log or a queue closes.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};
use weft_primitives::spawner::Spawner;

/// An operation under way; see the [module docs](self).
pub(crate) struct Job<R> {
    slot: Arc<Mutex<Slot<R>>>,
}

struct Slot<R> {
    outcome: Option<R>,
    waker: Option<Waker>,
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Wakes whoever waits on `slots` (a closed log's readers, a closed
/// queue's consumers): takes each slot's waker with `waker` under that
/// slot's lock, and wakes it once the lock is released.
pub(crate) fn wake_slots<S>(slots: Vec<Arc<Mutex<S>>>, waker: impl Fn(&mut S) -> Option<Waker>) {
    for slot in slots {
        let taken = waker(&mut lock(&slot));
        if let Some(taken) = taken {
            taken.wake();
        }
    }
}

impl<R: Send + 'static> Job<R> {
    /// Starts `operation` on `spawner`.
    pub(crate) fn spawn(spawner: &Spawner, operation: impl Future<Output = R> + Send + 'static) -> Job<R> {
        let slot = Arc::new(Mutex::new(Slot {
            outcome: None,
            waker: None,
        }));
        let theirs = slot.clone();
        spawner.spawn(async move {
            let outcome = operation.await;
            let waker = {
                let mut slot = lock(&theirs);
                slot.outcome = Some(outcome);
                slot.waker.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        });
        Job { slot }
    }

    /// The outcome, once there is one (taken: a job answers once);
    /// `waker`, if given, is woken when it comes.
    pub(crate) fn poll(&self, waker: Option<&Waker>) -> Poll<R> {
        let mut slot = lock(&self.slot);
        if let Some(outcome) = slot.outcome.take() {
            return Poll::Ready(outcome);
        }
        if let Some(waker) = waker {
            let displaced = slot.waker.replace(waker.clone());
            drop(slot);
            drop(displaced);
        }
        Poll::Pending
    }
}
