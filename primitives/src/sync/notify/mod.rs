// Over ~600 lines because of its docs: 373 lines of code, one concept (the
// queue and the futures that wait in it share one protocol, stated below).
//! Wake one task or all of them, without data.
//!
//! # Protocol
//!
//! One atomic word holds the `Notify`'s state and a count of
//! `notify_waiters` calls: `generation << 2 | tag`, the tag being `EMPTY`,
//! `NOTIFIED` (a permit is stored) or `WAITING` (the queue holds a waiter).
//! A lock guards the queue of registered waiters.
//!
//! - `WAITING` is set and cleared only under the lock, and is set exactly
//!   while the queue is not empty; while it is set nobody writes the word
//!   without the lock.
//! - `EMPTY ⇄ NOTIFIED` moves with a compare-and-swap, with or without the
//!   lock: `notify_one` with nobody waiting stores the permit, and a
//!   `Notified` takes it, neither touching the lock. A `Notified` that must
//!   wait takes the lock and swaps `EMPTY` for `WAITING` before queueing,
//!   so a permit stored meanwhile is seen, never stranded beside a waiter.
//! - The count changes only under the lock. A `Notified` remembers it when
//!   it is created: a `notify_waiters` after that completes it even if it
//!   had not yet been polled.
//!
//! The queue is a ring of tickets, taken in registration order, with each
//! waiter's waker (a no-op waker for one only [`enable`]d so far):
//! `notify_one` pops the front, `notify_last` the back, `notify_waiters`
//! takes them all, a waiter appends at the back. A waiter that leaves before its
//! turn leaves a hole, trimmed as soon as it reaches either end and
//! compacted away when holes outnumber waiters. No neighbour's links are
//! rewritten, so a notifier and a registering waiter touch opposite ends.
//!
//! A woken waiter learns of its `notify_one` without the lock:
//! `notify_one` publishes the ticket it granted in `granted`, and grants
//! go in ticket order, so a waiter whose ticket is at most `granted`, with
//! the `notify_waiters` count unchanged since it registered, was granted.
//! When the count has moved, the waiter takes the lock: `notify_waiters`
//! notes the tickets it woke (each removed by its owner), so a waiter
//! whose ticket is neither queued nor noted was granted. A waiter granted
//! a `notify_one` but dropped before it saw it passes the notification on,
//! so cancelling never loses a wakeup.
//!
//! `notify_last` grants out of ticket order, so it leaves `granted` alone:
//! its waiter, not queued, finds out under the lock. It notes the ticket
//! (as `notify_waiters` does), so that the waiter, if dropped unseen,
//! passes the notification on to the last waiter rather than the first,
//! and counts the notes in `unseen_last`: a waiter that a later
//! `notify_one` lets through without the lock checks the count and, if it
//! is not zero, takes the lock to clear its note. So one notify, wake and register
//! cycle takes the lock twice, and a `notify_one` with nobody waiting
//! never.
//!
//! [`enable`]: Notified::enable

use crate::loom::atomic::{AtomicU64, AtomicUsize, Ordering::AcqRel, Ordering::Acquire, Ordering::Release};
use crate::loom::{Mutex, MutexGuard, lock};
use crate::util::Wakers;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};

/// No permit, nobody waiting.
const EMPTY: u64 = 0;
/// The queue holds at least one waiter.
const WAITING: u64 = 1;
/// A `notify_one` is stored for the next `Notified`.
const NOTIFIED: u64 = 2;
const TAG: u64 = 3;
/// One `notify_waiters` call, in the state word.
const GENERATION: u64 = 4;

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
/// use weft::sync::Notify;
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
    /// `generation << 2 | tag`: see the module docs.
    state: AtomicU64,
    queue: Mutex<Queue>,
    /// The ticket of the last waiter `notify_one` granted; changed only
    /// under the lock, read without it by a woken waiter.
    granted: AtomicU64,
    /// How many tickets `Queue::granted_last` holds; changed only under
    /// the lock, read without it by a woken waiter.
    unseen_last: AtomicUsize,
}

/// The registered waiters, under the `Notify`'s lock.
struct Queue {
    /// Tickets in increasing order with their wakers; `None` is a hole left
    /// by a waiter that went away. Both ends are always waiters.
    ring: VecDeque<(u64, Option<Waker>)>,
    /// How many entries of `ring` are waiters, not holes.
    waiting: usize,
    /// Tickets `notify_waiters` took from the ring whose owners have not
    /// looked since, in increasing order.
    woken_by_all: Vec<u64>,
    /// Tickets `notify_last` granted whose owners have not looked since.
    granted_last: Vec<u64>,
    /// The ticket the next waiter takes; tickets start at 1.
    next_ticket: u64,
}

impl Queue {
    const fn new() -> Queue {
        Queue {
            ring: VecDeque::new(),
            waiting: 0,
            woken_by_all: Vec::new(),
            granted_last: Vec::new(),
            next_ticket: 1,
        }
    }

    fn is_empty(&self) -> bool {
        self.waiting == 0
    }

    /// Appends a waiter; returns its ticket.
    fn push_back(&mut self, waker: &Waker) -> u64 {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.ring.push_back((ticket, Some(waker.clone())));
        self.waiting += 1;
        ticket
    }

    /// Takes the first waiter out: its ticket and waker.
    fn pop_front(&mut self) -> Option<(u64, Waker)> {
        let (ticket, waker) = self.ring.pop_front()?;
        self.waiting -= 1;
        // Only the front can have become a hole: the back, which the
        // registering waiters are writing, is left alone.
        self.trim_front();
        Some((ticket, waker.expect("the front is a waiter")))
    }

    /// Takes the last waiter out: its ticket and waker.
    fn pop_back(&mut self) -> Option<(u64, Waker)> {
        let (ticket, waker) = self.ring.pop_back()?;
        self.waiting -= 1;
        while self.ring.back().is_some_and(|entry| entry.1.is_none()) {
            self.ring.pop_back();
        }
        Some((ticket, waker.expect("the back is a waiter")))
    }

    /// Where the waiter of `ticket` is, if it is queued.
    fn find(&self, ticket: u64) -> Option<usize> {
        self.ring.binary_search_by_key(&ticket, |entry| entry.0).ok()
    }

    /// Keeps `waker` for the queued waiter at `index`, cloning only if it
    /// would wake another task; returns the waker it displaced, to drop
    /// once the lock is released.
    #[must_use = "drop the displaced waker after releasing the lock"]
    fn set_waker(&mut self, index: usize, waker: &Waker) -> Option<Waker> {
        crate::util::replace_waker(&mut self.ring[index].1, waker)
    }

    /// Takes the waiter of `ticket` out of the ring and returns its waker,
    /// to drop once the lock is released; `None` if it was not queued.
    #[must_use = "drop the waker after releasing the lock"]
    fn remove(&mut self, ticket: u64) -> Option<Waker> {
        let index = self.find(ticket)?;
        let waker = self.ring[index].1.take();
        self.waiting -= 1;
        self.trim();
        if self.ring.len() > 2 * self.waiting + 8 {
            self.ring.retain(|entry| entry.1.is_some());
        }
        waker
    }

    /// Drops the holes at both ends.
    fn trim(&mut self) {
        self.trim_front();
        while self.ring.back().is_some_and(|entry| entry.1.is_none()) {
            self.ring.pop_back();
        }
    }

    fn trim_front(&mut self) {
        while self.ring.front().is_some_and(|entry| entry.1.is_none()) {
            self.ring.pop_front();
        }
    }

    /// Takes every waiter out for `notify_waiters`, noting their tickets.
    fn drain(&mut self, wakers: &mut Wakers) {
        for (ticket, waker) in self.ring.drain(..) {
            if let Some(waker) = waker {
                self.woken_by_all.push(ticket);
                wakers.push(waker);
            }
        }
        self.waiting = 0;
    }

    /// True, forgetting it, if `notify_waiters` took `ticket` out.
    fn take_woken_by_all(&mut self, ticket: u64) -> bool {
        match self.woken_by_all.binary_search(&ticket) {
            Ok(index) => {
                self.woken_by_all.remove(index);
                true
            }
            Err(_) => false,
        }
    }

    /// True, forgetting it, if `notify_last` granted `ticket`.
    fn take_granted_last(&mut self, ticket: u64) -> bool {
        match self.granted_last.iter().position(|&t| t == ticket) {
            Some(index) => {
                self.granted_last.swap_remove(index);
                true
            }
            None => false,
        }
    }
}

/// Which waiter a notification goes to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    /// The first registered: `notify_one`.
    First,
    /// The last registered: `notify_last`.
    Last,
}

impl Notify {
    /// A `Notify` with no stored permit.
    pub fn new() -> Notify {
        Notify {
            state: AtomicU64::new(EMPTY),
            queue: Mutex::new(Queue::new()),
            granted: AtomicU64::new(0),
            unseen_last: AtomicUsize::new(0),
        }
    }

    /// `const` constructor, for statics.
    #[cfg(not(all(test, loom)))]
    pub const fn const_new() -> Notify {
        Notify {
            state: AtomicU64::new(EMPTY),
            queue: Mutex::new(Queue::new()),
            granted: AtomicU64::new(0),
            unseen_last: AtomicUsize::new(0),
        }
    }

    /// A future that completes on the next notification: a `notify_one`
    /// (possibly one stored before), or a `notify_waiters` called after
    /// this call.
    pub fn notified(&self) -> Notified<'_> {
        let generation = self.state.load(Acquire) & !TAG;
        Notified {
            notify: self,
            generation,
            ticket: None,
            done: false,
        }
    }

    /// Wakes the first waiter; with none, stores a permit (at most one)
    /// that the next [`notified`](Notify::notified) consumes at once.
    pub fn notify_one(&self) {
        self.notify(End::First);
    }

    /// Wakes the most recently registered waiter; with none, stores a
    /// permit, as [`notify_one`](Notify::notify_one) does. A waiter it woke
    /// that is dropped before seeing it passes it on to the (new) last
    /// waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::Notify;
    ///
    /// # weft::block_on(async {
    /// let notify = Notify::new();
    /// let mut first = Box::pin(notify.notified());
    /// let mut last = Box::pin(notify.notified());
    /// // Registered in this order, without waiting.
    /// first.as_mut().enable();
    /// last.as_mut().enable();
    /// notify.notify_last();
    /// last.await;
    /// assert!(!first.as_mut().enable(), "the first one still waits");
    /// # });
    /// ```
    pub fn notify_last(&self) {
        self.notify(End::Last);
    }

    /// `notify_one` or `notify_last`: a permit, lock-free, if nobody
    /// waits; otherwise the lock and the queue.
    fn notify(&self, end: End) {
        let mut state = self.state.load(Acquire);
        loop {
            state = match state & TAG {
                NOTIFIED => return,
                EMPTY => match self
                    .state
                    .compare_exchange(state, state | NOTIFIED, AcqRel, Acquire)
                {
                    Ok(_) => return,
                    Err(now) => now,
                },
                _ => break,
            };
        }
        self.hand_on(lock(&self.queue), end);
    }

    /// Gives one notification to the waiter at `end`, or stores it as the
    /// permit; called with the lock held.
    fn hand_on(&self, mut queue: MutexGuard<'_, Queue>, end: End) {
        let mut state = self.state.load(Acquire);
        if state & TAG == WAITING {
            let (ticket, waker) = match end {
                End::First => queue.pop_front(),
                End::Last => queue.pop_back(),
            }
            .expect("WAITING means a queued waiter");
            if end == End::First {
                self.granted.store(ticket, Release);
            } else {
                // Out of ticket order: noted, for the locked path.
                queue.granted_last.push(ticket);
                self.unseen_last.fetch_add(1, AcqRel);
            }
            if queue.is_empty() {
                // Nobody writes the word while WAITING is set.
                self.state.store(state & !TAG, Release);
            }
            drop(queue);
            waker.wake();
            return;
        }
        // EMPTY or NOTIFIED; WAITING cannot appear while the lock is held.
        while state & TAG == EMPTY {
            match self
                .state
                .compare_exchange(state, state | NOTIFIED, AcqRel, Acquire)
            {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
    }

    /// Wakes every waiter registered now, and every `Notified` created
    /// before this call. Stores no permit.
    pub fn notify_waiters(&self) {
        let mut queue = lock(&self.queue);
        let state = self.state.load(Acquire);
        let mut wakers = Wakers::new();
        if state & TAG == WAITING {
            queue.drain(&mut wakers);
            self.state.store((state & !TAG) + GENERATION, Release);
        } else {
            // Keeps the tag, which may be moving between EMPTY and NOTIFIED.
            self.state.fetch_add(GENERATION, AcqRel);
        }
        drop(queue);
        wakers.wake_all();
    }
}

impl Default for Notify {
    fn default() -> Notify {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let waiters = lock(&self.queue).waiting;
        f.debug_struct("Notify")
            .field("permit", &(self.state.load(Acquire) & TAG == NOTIFIED))
            .field("waiters", &waiters)
            .finish()
    }
}

/// The future of [`Notify::notified`].
#[must_use = "futures do nothing unless polled"]
pub struct Notified<'a> {
    notify: &'a Notify,
    /// The state word's count of `notify_waiters` calls (tag bits clear)
    /// when this future was created.
    generation: u64,
    /// Registered: the ticket it waits with.
    ticket: Option<u64>,
    done: bool,
}

impl Notified<'_> {
    /// Without the lock: true if `notify_one` granted this registered
    /// waiter. `granted` is read first: a grant it shows was published
    /// after any `notify_waiters` before it, so a moved count is then seen.
    fn granted_unlocked(&self, ticket: u64) -> bool {
        self.notify.granted.load(Acquire) >= ticket
            && self.notify.state.load(Acquire) & !TAG == self.generation
    }

    /// Takes the stored permit, or, with the lock held (`queue`), swaps
    /// `EMPTY` for `WAITING`. Returns true if this future is done: a permit
    /// was taken or `notify_waiters` was called since it was created.
    fn take_permit_or_wait(&self, queue: Option<&MutexGuard<'_, Queue>>) -> bool {
        let notify = self.notify;
        let mut state = notify.state.load(Acquire);
        loop {
            if state & !TAG != self.generation {
                return true;
            }
            let next = match state & TAG {
                NOTIFIED => state & !TAG,
                EMPTY if queue.is_some() => state | WAITING,
                _ => return false,
            };
            match notify.state.compare_exchange(state, next, AcqRel, Acquire) {
                Ok(_) => return next & TAG == EMPTY,
                Err(now) => state = now,
            }
        }
    }
}

impl Notified<'_> {
    /// Registers this future as a waiter without polling it, so that a
    /// later [`notify_one`](Notify::notify_one) or
    /// [`notify_last`](Notify::notify_last) may pick it (rather than store
    /// a permit); returns true if it is already notified, taking a stored
    /// permit if there is one. Polling registers too: this is for
    /// registering before the first poll. A `notify_waiters` reaches every
    /// `Notified` created before it, enabled or not.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::Notify;
    ///
    /// # weft::block_on(async {
    /// let notify = Notify::new();
    /// let mut notified = Box::pin(notify.notified());
    /// assert!(!notified.as_mut().enable());
    /// // Goes to the enabled waiter; no permit is stored.
    /// notify.notify_one();
    /// assert!(notified.as_mut().enable());
    /// notified.await;
    /// # });
    /// ```
    pub fn enable(self: Pin<&mut Self>) -> bool {
        self.get_mut().poll_notified(None)
    }

    /// Polls for a notification, with `waker` to store if it must wait (a
    /// no-op waker when enabled without one); true once notified.
    fn poll_notified(&mut self, waker: Option<&Waker>) -> bool {
        if self.done {
            return true;
        }
        let notify = self.notify;
        let ready = match self.ticket {
            None => {
                if self.take_permit_or_wait(None) {
                    true
                } else {
                    let mut queue = lock(&notify.queue);
                    if self.take_permit_or_wait(Some(&queue)) {
                        true
                    } else {
                        self.ticket = Some(queue.push_back(waker.unwrap_or(Waker::noop())));
                        false
                    }
                }
            }
            // Granted by `notify_one` (or by `notify_last` before a later
            // grant), and out of the queue.
            Some(ticket) if self.granted_unlocked(ticket) => {
                if notify.unseen_last.load(Acquire) != 0 {
                    notify.take_granted_last(&mut lock(&notify.queue), ticket);
                }
                true
            }
            Some(ticket) => {
                let mut queue = lock(&notify.queue);
                match queue.find(ticket) {
                    Some(index) => {
                        if let Some(waker) = waker {
                            let displaced = queue.set_waker(index, waker);
                            crate::util::unlock_then_drop(queue, displaced);
                        }
                        false
                    }
                    None => {
                        // Granted by `notify_one` or `notify_last`, or woken
                        // by `notify_waiters`.
                        if !queue.take_woken_by_all(ticket) {
                            notify.take_granted_last(&mut queue, ticket);
                        }
                        true
                    }
                }
            }
        };
        if ready {
            self.ticket = None;
            self.done = true;
        }
        ready
    }
}

impl Notify {
    /// True, forgetting it, if `notify_last` granted `ticket`; `queue` is
    /// this `Notify`'s, locked.
    fn take_granted_last(&self, queue: &mut Queue, ticket: u64) -> bool {
        let taken = queue.take_granted_last(ticket);
        if taken {
            self.unseen_last.fetch_sub(1, AcqRel);
        }
        taken
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(());
        }
        // With the budget spent, nothing is taken: a stored permit stays
        // stored, a grant stays this future's (its drop passes it on).
        let coop = ready!(crate::coop::poll_proceed(cx));
        if this.poll_notified(Some(cx.waker())) {
            coop.made_progress();
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        let Some(ticket) = self.ticket.take() else {
            return;
        };
        let notify = self.notify;
        let mut queue = lock(&notify.queue);
        if let Some(waker) = queue.remove(ticket) {
            if queue.is_empty() {
                // Nobody writes the word while WAITING is set.
                let state = notify.state.load(Acquire);
                notify.state.store(state & !TAG, Release);
            }
            crate::util::unlock_then_drop(queue, Some(waker));
        } else if queue.take_woken_by_all(ticket) {
            // `notify_waiters` owes nobody else anything.
        } else if notify.take_granted_last(&mut queue, ticket) {
            // Granted by `notify_last` but never seen: pass it on.
            notify.hand_on(queue, End::Last);
        } else {
            // Granted by `notify_one` but never seen: pass it on.
            notify.hand_on(queue, End::First);
        }
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("waiting", &self.ticket.is_some())
            .field("done", &self.done)
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
