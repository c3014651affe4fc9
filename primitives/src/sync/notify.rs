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
//!
//! A woken waiter learns of its `notify_one` without the lock. Each waiter
//! takes a ticket when it registers, in queue order; `notify_one` frees the
//! first waiter's node as it pops it and publishes its ticket in `granted`
//! (an atomic, written under the lock). Grants go in ticket order, so a
//! waiter whose ticket is at most `granted` was granted, unless a
//! `notify_waiters` woke it first and a later waiter was granted since; that
//! is why it also checks that the `notify_waiters` count has not moved.
//! When it has, the waiter takes the lock: a node `notify_waiters` woke is
//! still there, holding the waiter's ticket; a node `notify_one` granted was
//! freed (its slot may hold another waiter by then, with another ticket).
//! So one notify, wake and register cycle takes the lock twice, not three
//! times.

use crate::loom::atomic::{AtomicU64, Ordering::AcqRel, Ordering::Acquire, Ordering::Release};
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
    /// The ticket of the last waiter `notify_one` granted; changed only
    /// under the lock, read without it by a woken waiter.
    granted: AtomicU64,
}

struct State {
    permit: bool,
    /// Each waiter's node holds its ticket.
    waiters: WaitList<u64>,
    /// The ticket the next waiter takes; tickets start at 1.
    next_ticket: u64,
}

impl Notify {
    /// A `Notify` with no stored permit.
    pub fn new() -> Notify {
        Notify {
            state: Mutex::new(State {
                permit: false,
                waiters: WaitList::new(),
                next_ticket: 1,
            }),
            generation: AtomicU64::new(0),
            granted: AtomicU64::new(0),
        }
    }

    /// `const` constructor, for statics.
    #[cfg(not(all(test, loom)))]
    pub const fn const_new() -> Notify {
        Notify {
            state: Mutex::new(State {
                permit: false,
                waiters: WaitList::new(),
                next_ticket: 1,
            }),
            generation: AtomicU64::new(0),
            granted: AtomicU64::new(0),
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
            waiting: None,
            done: false,
        }
    }

    /// Wakes the first waiter; with none, stores a permit (at most one)
    /// that the next [`notified`](Notify::notified) consumes at once.
    pub fn notify_one(&self) {
        self.hand_on(lock(&self.state));
    }

    /// Gives one notification to the first waiter, or stores it as the
    /// permit.
    fn hand_on(&self, mut state: MutexGuard<'_, State>) {
        match state.waiters.pop_front_free() {
            Some((waker, ticket)) => {
                self.granted.store(ticket, Release);
                drop(state);
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
            None => state.permit = true,
        }
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
    /// Registered: its key in the wait list, and its ticket.
    waiting: Option<(Key, u64)>,
    done: bool,
}

impl Notified<'_> {
    /// Without the lock: true if `notify_one` granted this registered
    /// waiter. `granted` is read first: a grant it shows was published
    /// after any `notify_waiters` before it, so a moved count is then seen.
    fn granted_unlocked(&self, ticket: u64) -> bool {
        self.notify.granted.load(Acquire) >= ticket && self.notify.generation.load(Acquire) == self.generation
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(());
        }
        if let Some((_, ticket)) = this.waiting
            && this.granted_unlocked(ticket)
        {
            // `notify_one` freed the node: nothing to clean up.
            this.waiting = None;
            this.done = true;
            return Poll::Ready(());
        }
        let mut state = lock(&this.notify.state);
        let ready = match this.waiting.take() {
            None if this.notify.generation.load(Acquire) != this.generation => true,
            None if state.permit => {
                state.permit = false;
                true
            }
            None => {
                let ticket = state.next_ticket;
                state.next_ticket += 1;
                this.waiting = Some((state.waiters.push_back(cx.waker(), ticket), ticket));
                false
            }
            Some((key, ticket)) if state.waiters.holds(&key, |t| *t == ticket) => {
                if state.waiters.is_linked(&key) {
                    state.waiters.set_waker(&key, cx.waker());
                    this.waiting = Some((key, ticket));
                    false
                } else {
                    // Woken by `notify_waiters`, which leaves the node.
                    state.waiters.remove(key);
                    true
                }
            }
            // The node was freed: `notify_one` granted it.
            Some(_) => true,
        };
        this.done = ready;
        if ready { Poll::Ready(()) } else { Poll::Pending }
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        let Some((key, ticket)) = self.waiting.take() else {
            return;
        };
        let mut state = lock(&self.notify.state);
        if state.waiters.holds(&key, |t| *t == ticket) {
            // Still waiting, or woken by `notify_waiters`: nothing to pass.
            state.waiters.remove(key);
        } else {
            // Granted by `notify_one` but never seen: pass it on.
            self.notify.hand_on(state);
        }
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("waiting", &self.waiting.is_some())
            .field("done", &self.done)
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::util::test_support::{counter, poll, wakes};

    fn nodes(notify: &Notify) -> usize {
        lock(&notify.state).waiters.nodes()
    }

    #[test]
    fn a_granted_waiter_completes_and_leaves_no_node() {
        let notify = Notify::new();
        let (count, waker) = counter();
        let mut waiter = notify.notified();
        assert!(poll(&mut waiter, &waker).is_pending());
        assert_eq!(nodes(&notify), 1);
        notify.notify_one();
        assert_eq!(wakes(&count), 1);
        // `notify_one` freed the node already.
        assert_eq!(nodes(&notify), 0);
        assert!(poll(&mut waiter, &waker).is_ready());
        drop(waiter);
        assert_eq!(nodes(&notify), 0);
    }

    #[test]
    fn a_waiter_woken_by_notify_waiters_frees_its_node_even_after_a_later_grant() {
        let notify = Notify::new();
        let (_, waker) = counter();
        let mut early = notify.notified();
        assert!(poll(&mut early, &waker).is_pending());
        notify.notify_waiters();
        let mut late = notify.notified();
        assert!(poll(&mut late, &waker).is_pending());
        notify.notify_one();
        // `granted` is past `early`'s ticket, but the count moved: `early`
        // takes the locked path and frees the node notify_waiters left.
        assert_eq!(nodes(&notify), 1);
        assert!(poll(&mut early, &waker).is_ready());
        assert_eq!(nodes(&notify), 0);
        assert!(poll(&mut late, &waker).is_ready());
        assert!(!lock(&notify.state).permit);
    }

    #[test]
    fn cancelled_waiters_leave_no_node_whatever_woke_them() {
        let notify = Notify::new();
        let (_, waker) = counter();
        for wake in 0..3 {
            let mut waiter = notify.notified();
            assert!(poll(&mut waiter, &waker).is_pending());
            match wake {
                0 => notify.notify_one(),
                1 => notify.notify_waiters(),
                _ => {}
            }
            drop(waiter);
            assert_eq!(nodes(&notify), 0, "case {wake}");
            // Only a grant is passed on, into the permit.
            assert_eq!(lock(&notify.state).permit, wake == 0, "case {wake}");
            lock(&notify.state).permit = false;
        }
    }
}
