//! Wake one task or all of them, without data.
//!
//! # Protocol
//!
//! One lock guards a stored permit and the FIFO [`WaitList`] of registered
//! waiters; a count of `notify_waiters` calls is an atomic, changed under
//! the lock and read without it when a `Notified` is created. A `Notified` future
//! remembers the count when it is created: a `notify_waiters` after that
//! completes it even if it had not yet been polled. `notify_one` hands the
//! notification to the first waiter, or stores the permit when nobody
//! waits. A waiter that was handed a `notify_one` but is dropped before it
//! saw it passes the notification on, so cancelling never loses a wakeup.

use crate::loom::atomic::{AtomicU64, Ordering::AcqRel, Ordering::Acquire};
use crate::loom::{Mutex, MutexGuard, lock};
use crate::util::wait_list::wake_all;
use crate::util::wait_list::{Key, WaitList};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Notifies tasks of an event: [`notify_one`] wakes one waiter (or lets the
/// next one through at once), [`notify_waiters`] wakes all current ones.
///
/// [`notify_one`]: Notify::notify_one
/// [`notify_waiters`]: Notify::notify_waiters
///
/// # Cancel safety
///
/// Dropping a pending [`Notified`] leaves the queue; a `notify_one` it had
/// already received goes to the next waiter, or back into the stored permit.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use weft_primitives::sync::Notify;
///
/// # weft::block_on(async {
/// let notify = Arc::new(Notify::new());
/// let waiter = {
///     let notify = Arc::clone(&notify);
///     weft::spawn(async move { notify.notified().await })
/// };
/// notify.notify_one();
/// waiter.await.unwrap();
/// # });
/// ```
pub struct Notify {
    state: Mutex<State>,
    /// How many `notify_waiters` calls there were; changed only under the
    /// lock, read without it when a `Notified` is created.
    generation: AtomicU64,
}

struct State {
    permit: bool,
    waiters: WaitList<bool>,
}

impl Notify {
    /// A `Notify` with no stored permit.
    pub fn new() -> Notify {
        Notify {
            state: Mutex::new(State {
                permit: false,
                waiters: WaitList::new(),
            }),
            generation: AtomicU64::new(0),
        }
    }

    /// `const` constructor, for statics.
    #[cfg(not(all(test, loom)))]
    pub const fn const_new() -> Notify {
        Notify {
            state: Mutex::new(State {
                permit: false,
                waiters: WaitList::new(),
            }),
            generation: AtomicU64::new(0),
        }
    }

    /// A future that completes on the next notification: a `notify_one`
    /// (possibly one stored before), or a `notify_waiters` called after
    /// this call.
    pub fn notified(&self) -> Notified<'_> {
        let generation = self.generation.load(Acquire);
        Notified {
            notify: self,
            generation,
            key: None,
            done: false,
        }
    }

    /// Wakes the first waiter; with none, stores a permit (at most one)
    /// that the next [`notified`](Notify::notified) consumes at once.
    pub fn notify_one(&self) {
        hand_on(lock(&self.state));
    }

    /// Wakes every waiter registered now, and every `Notified` created
    /// before this call. Stores no permit.
    pub fn notify_waiters(&self) {
        let state = lock(&self.state);
        self.generation.fetch_add(1, AcqRel);
        // Those waiters complete through the generation, not a permit.
        wake_all(state, |state| &mut state.waiters);
    }
}

/// Gives one notification to the first waiter, or stores it as the permit.
fn hand_on(mut state: MutexGuard<'_, State>) {
    match state.waiters.pop_front(|notified| *notified = true) {
        Some(waker) => {
            drop(state);
            waker.wake();
        }
        None => state.permit = true,
    }
}

impl Default for Notify {
    fn default() -> Notify {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Notify")
            .field("permit", &state.permit)
            .field("waiters", &state.waiters)
            .finish()
    }
}

/// The future of [`Notify::notified`].
#[must_use = "futures do nothing unless polled"]
pub struct Notified<'a> {
    notify: &'a Notify,
    generation: u64,
    key: Option<Key>,
    done: bool,
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(());
        }
        let mut state = lock(&this.notify.state);
        let ready = match this.key.take() {
            None if this.notify.generation.load(Acquire) != this.generation => true,
            None if state.permit => {
                state.permit = false;
                true
            }
            None => {
                this.key = Some(state.waiters.push_back(cx.waker(), false));
                false
            }
            Some(key) if state.waiters.is_linked(&key) => {
                state.waiters.set_waker(&key, cx.waker());
                this.key = Some(key);
                false
            }
            // Unlinked: by notify_one or by notify_waiters.
            Some(key) => {
                state.waiters.remove(key);
                true
            }
        };
        this.done = ready;
        if ready { Poll::Ready(()) } else { Poll::Pending }
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let mut state = lock(&self.notify.state);
        let (_, by_notify_one) = state.waiters.remove(key);
        if by_notify_one {
            // Received but never seen: pass it on.
            hand_on(state);
        }
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("waiting", &self.key.is_some())
            .field("done", &self.done)
            .finish()
    }
}
