// Over ~600 lines because of its docs: about 480 lines of code, one concept
// (the atomic word and the wait queue; the permits are in permit.rs, the
// clock and the bound in fairness.rs).
//! An eventually fair counting semaphore; the ground `Mutex` and `RwLock`
//! stand on.
//!
//! # Protocol
//!
//! The free permits and three flags share one atomic word: `QUEUED`
//! (someone waits), `WOKEN` (the front waiter was woken to look again and
//! has not yet) and `CLOSED`. A lock guards the FIFO [`WaitList`] of
//! acquirers and the hand-off state.
//!
//! **Barging.** Free permits in the word belong to whoever takes them
//! first: an acquire or `try_acquire` takes them with one compare-and-swap
//! even while others wait. A release while nobody waits, or while a wake is
//! already in flight (`QUEUED | WOKEN`), adds its permits to the word with
//! one compare-and-swap. A release that finds `QUEUED` without `WOKEN`
//! takes the lock; if the front waiter now fits in the word, it sets
//! `WOKEN` and wakes that waiter, which stays in the queue. Polled, the
//! front waiter clears `WOKEN` and tries to take its permits in the same
//! swap: it leaves the queue with them, or stays, keeping its place. So
//! the running task that unlocks can lock again at once, and the lock is
//! never idle waiting for a woken task to be scheduled.
//!
//! The invariant that makes this lose no wakeup: while `QUEUED` is set and
//! `WOKEN` is not, the word holds too few permits for the front waiter.
//! Permits reach the word without the lock only while `WOKEN` is set (or
//! nobody waits); whoever clears `WOKEN`, or changes the front waiter,
//! holds the lock and checks the new front at once (waking it if it fits).
//! `QUEUED` is set under the lock in the same compare-and-swap that found
//! too few permits: a release between the look and the mark fails that
//! swap, so an acquirer never queues past permits that arrived.
//!
//! **Hand-off.** Each waiter has a deadline: when it queued plus the
//! semaphore's fairness bound ([`fairness`]). Once the front waiter's has
//! passed (seen by a release that takes the lock, or by the waiter itself
//! when it finds its permits taken), the semaphore switches to hand-off:
//! the free permits leave the word for `reserved`, under the lock; `WOKEN`
//! is cleared, so every release takes the lock; and released permits go to
//! `reserved`, and from there to the waiters in order, as long as the
//! front one's deadline has passed. With the word empty, nobody can barge.
//! When the queue empties or its front is a waiter still within its bound,
//! what is left in `reserved` goes back to the word.
//!
//! A waiter takes a ticket when it queues. A hand-off grant counts its
//! permits out to it, frees its node and publishes its ticket in
//! `granted`; grants go in ticket order (always to the front), so a woken
//! waiter whose ticket is at most `granted` has its permits without taking
//! the lock (`close` grants nothing, it only unlinks, leaving the nodes for
//! their futures to free). If its future is dropped before it sees them,
//! the drop gives them back.
//!
//! Every acquire that completes spends one unit of the task's cooperative
//! budget ([`crate::coop`]); Mutex and RwLock inherit this. With the budget
//! spent, a poll returns `Pending` before looking at anything: a waiter
//! granted meanwhile keeps its permits until its next poll or its drop, and
//! a woken one keeps `WOKEN` set.

use crate::loom::atomic::{AtomicU64, AtomicUsize, Ordering};
use crate::loom::{Mutex, MutexGuard, lock};
use crate::util::wait_list::wake_all;
use crate::util::wait_list::{Key, WaitList};
use crate::util::{Wakers, unlock_then_drop};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

mod fairness;
mod permit;
#[cfg(all(test, not(loom)))]
mod tests;

pub(crate) use self::fairness::DEFAULT_BOUND;
use self::fairness::LazyNow;
pub use self::permit::{OwnedSemaphorePermit, SemaphorePermit};

/// An async counting semaphore, eventually fair.
///
/// Tasks [`acquire`](Semaphore::acquire) permits and give them back by
/// dropping the [`SemaphorePermit`]. Waiters queue in the order they
/// started waiting, and released permits are free for whoever comes first
/// (a task that releases and acquires again in a loop keeps going), until
/// the first waiter has waited longer than the *fairness bound* (0.5 ms
/// unless built [`with_fairness_bound`](Semaphore::with_fairness_bound)):
/// from then on, released permits go straight to the waiters in order.
/// Unlike tokio's semaphore, which is strictly first-in, first-out, weft's
/// lets others overtake a waiter for up to the bound; a bound of zero makes
/// it strict as tokio's.
///
/// # Cancel safety
///
/// Dropping a pending `acquire` future gives back any permits already
/// assigned to it and leaves its place in the queue: nothing leaks, and the
/// waiters behind it move up.
///
/// # Examples
///
/// ```
/// use weft::sync::Semaphore;
///
/// # weft::block_on(async {
/// let sem = Semaphore::new(2);
/// let a = sem.acquire().await.unwrap();
/// let _b = sem.acquire().await.unwrap();
/// assert!(sem.try_acquire().is_err());
/// drop(a);
/// assert_eq!(sem.available_permits(), 1);
/// # });
/// ```
pub struct Semaphore {
    /// The free permits shifted left by [`SHIFT`], with [`QUEUED`],
    /// [`WOKEN`] and [`CLOSED`].
    word: AtomicUsize,
    queue: Mutex<Queue>,
    /// How long a waiter may be overtaken before it is handed permits.
    bound: Duration,
    /// The ticket the next waiter takes (from 1); written under the lock.
    next_ticket: AtomicU64,
    /// The ticket of the last waiter granted; written under the lock, read
    /// without it by a woken waiter.
    granted: AtomicU64,
}

/// Someone waits: a release must take the lock, unless `WOKEN` is set too.
const QUEUED: usize = 0b001;
/// The semaphore is closed.
const CLOSED: usize = 0b010;
/// The front waiter was woken to look again and has not polled yet: a
/// release may add its permits to the word without the lock.
const WOKEN: usize = 0b100;
/// Where the permit count starts in the word (`MAX_PERMITS << SHIFT` fits).
const SHIFT: u32 = 3;

/// The free permits a word holds.
const fn permits_of(word: usize) -> usize {
    word >> SHIFT
}

/// `word` with `n` more permits, saturating at `MAX_PERMITS`.
fn with_more(word: usize, n: usize) -> usize {
    permits_of(word).saturating_add(n).min(Semaphore::MAX_PERMITS) << SHIFT | word & (QUEUED | CLOSED | WOKEN)
}

/// What the lock guards: the waiters, and the hand-off state.
struct Queue {
    waiters: WaitList<Request>,
    /// The front waiter's deadline passed: released permits are set aside
    /// in `reserved` and granted in order, and the word stays empty.
    handoff: bool,
    /// Permits set aside for the front waiter while in hand-off.
    reserved: usize,
}

/// What a waiter asks for, its ticket (its place in the queue), and when it
/// stops letting others barge (`None`: never).
struct Request {
    permits: usize,
    ticket: u64,
    deadline: Option<Instant>,
}

/// The semaphore was closed; no permit will ever be handed out again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquireError(());

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl std::error::Error for AcquireError {}

/// Why [`Semaphore::try_acquire`] gave no permit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore was closed.
    Closed,
    /// Not enough permits are free (released permits may be set aside for
    /// a waiter that has waited past the fairness bound).
    NoPermits,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::Closed => f.write_str("semaphore closed"),
            TryAcquireError::NoPermits => f.write_str("no permits available"),
        }
    }
}

impl std::error::Error for TryAcquireError {}

impl Semaphore {
    /// The most permits a semaphore can hold. Unlike tokio, which panics,
    /// [`new`](Semaphore::new) and [`add_permits`] past it saturate: the
    /// permits beyond it are dropped.
    ///
    /// [`add_permits`]: Semaphore::add_permits
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    /// A semaphore with `permits` free permits (at most
    /// [`MAX_PERMITS`](Semaphore::MAX_PERMITS); more saturate) and the
    /// default fairness bound, 0.5 ms.
    pub fn new(permits: usize) -> Semaphore {
        Semaphore::with_fairness_bound(permits, DEFAULT_BOUND)
    }

    /// A semaphore with `permits` free permits whose waiters may be
    /// overtaken for `bound` before released permits go to them in order.
    ///
    /// `Duration::ZERO` makes it strictly first-in, first-out, as tokio's
    /// semaphore is: a release with anyone waiting hands its permits to the
    /// first waiter, and nobody takes permits ahead of the queue.
    /// `Duration::MAX` never hands off. A longer bound gives more
    /// throughput under contention; a shorter one, a tighter bound on how
    /// long a waiter waits while others go ahead. The bound is measured on
    /// std's monotonic clock, not on a runtime's: pausing weft's clock
    /// (`weft::time::pause`) does not pause it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::sync::Semaphore;
    ///
    /// # weft::block_on(async {
    /// let sem = Semaphore::with_fairness_bound(1, Duration::ZERO);
    /// let held = sem.acquire().await.unwrap();
    /// let mut waiter = Box::pin(sem.acquire());
    /// // Queue the waiter: one poll, which finds no permit.
    /// assert!(poll_once(&mut waiter).is_pending());
    /// drop(held);
    /// // Strict: the permit went to the waiter, not to whoever asks next.
    /// assert!(sem.try_acquire().is_err());
    /// assert_eq!(waiter.await.unwrap().num_permits(), 1);
    /// # });
    /// # fn poll_once<F: std::future::Future + Unpin>(f: &mut F) -> std::task::Poll<F::Output> {
    /// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// #     std::future::Future::poll(std::pin::Pin::new(f), &mut cx)
    /// # }
    /// ```
    pub fn with_fairness_bound(permits: usize, bound: Duration) -> Semaphore {
        Semaphore {
            word: AtomicUsize::new(permits.min(Self::MAX_PERMITS) << SHIFT),
            queue: Mutex::new(Queue::new()),
            bound,
            next_ticket: AtomicU64::new(1),
            granted: AtomicU64::new(0),
        }
    }

    /// `const` constructor, for statics, with the default fairness bound.
    #[cfg(not(all(test, loom)))]
    pub const fn const_new(permits: usize) -> Semaphore {
        let permits = if permits > Self::MAX_PERMITS {
            Self::MAX_PERMITS
        } else {
            permits
        };
        Semaphore {
            word: AtomicUsize::new(permits << SHIFT),
            queue: Mutex::new(Queue::new()),
            bound: DEFAULT_BOUND,
            next_ticket: AtomicU64::new(1),
            granted: AtomicU64::new(0),
        }
    }

    /// The permits free right now (not counting permits set aside for a
    /// waiter that has waited past the fairness bound).
    pub fn available_permits(&self) -> usize {
        permits_of(self.word.load(Ordering::Acquire))
    }

    /// Adds `n` permits: to the first waiter, if it has waited past the
    /// fairness bound; otherwise free, waking the first waiter.
    pub fn add_permits(&self, n: usize) {
        self.release(n);
    }

    /// Removes up to `n` free permits for good, and returns how many it
    /// removed: fewer than `n` if fewer were free. Permits held elsewhere
    /// (or set aside for a waiter) are not touched, and waiters keep their
    /// place.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(5);
    /// let held = sem.try_acquire_many(2).unwrap();
    /// // Three are free: only those can go.
    /// assert_eq!(sem.forget_permits(4), 3);
    /// assert_eq!(sem.available_permits(), 0);
    /// drop(held);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    pub fn forget_permits(&self, n: usize) -> usize {
        let _queue = lock(&self.queue);
        let forgotten = std::cell::Cell::new(0);
        self.update(|word| {
            let k = permits_of(word).min(n);
            forgotten.set(k);
            Some(word - (k << SHIFT))
        });
        forgotten.get()
    }

    /// Closes the semaphore: every waiter and every later acquire gets an
    /// [`AcquireError`]. Permits already held stay valid.
    pub fn close(&self) {
        let mut queue = lock(&self.queue);
        // Every waiter leaves, ungranted; permits set aside come back.
        let reserved = queue.leave_handoff();
        self.update(|word| Some(with_more(word | CLOSED, reserved) & !(QUEUED | WOKEN)));
        wake_all(queue, |queue| &mut queue.waiters);
    }

    /// True once [`close`](Semaphore::close) was called.
    pub fn is_closed(&self) -> bool {
        self.word.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Waits for one permit.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed before a permit arrives.
    pub fn acquire(&self) -> Acquire<'_> {
        self.acquire_many(1)
    }

    /// Waits for `n` permits at once. `n == 0` is ready at once, even
    /// with others waiting.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed before they arrive.
    pub fn acquire_many(&self, n: u32) -> Acquire<'_> {
        Acquire {
            semaphore: self,
            waiter: Waiter::new(n as usize),
        }
    }

    /// Takes one permit if one is free.
    ///
    /// It may take a permit ahead of queued waiters, unless one of them has
    /// waited past the fairness bound (then released permits are set aside
    /// for it). tokio's fails whenever anyone waits.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::NoPermits`] or [`TryAcquireError::Closed`].
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free (see
    /// [`try_acquire`](Semaphore::try_acquire)).
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::NoPermits`] or [`TryAcquireError::Closed`].
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_take(n as usize).map(|permits| SemaphorePermit {
            semaphore: self,
            permits,
        })
    }
    /// Like [`acquire`](Semaphore::acquire), for a semaphore in an `Arc`:
    /// the permit owns a reference and can move into a spawned task.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed first.
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// Like [`acquire_many`](Semaphore::acquire_many), owned.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed first.
    pub async fn acquire_many_owned(self: Arc<Self>, n: u32) -> Result<OwnedSemaphorePermit, AcquireError> {
        let permits = self.acquire_many(n).await?.detach();
        Ok(OwnedSemaphorePermit {
            semaphore: self,
            permits,
        })
    }

    /// Like [`try_acquire`](Semaphore::try_acquire), owned.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::NoPermits`] or [`TryAcquireError::Closed`].
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// Like [`try_acquire_many`](Semaphore::try_acquire_many), owned.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::NoPermits`] or [`TryAcquireError::Closed`].
    pub fn try_acquire_many_owned(self: Arc<Self>, n: u32) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        let permits = self.try_take(n as usize)?;
        Ok(OwnedSemaphorePermit {
            semaphore: self,
            permits,
        })
    }

    /// Takes `n` permits from the word, without the lock, if it holds
    /// enough (barging: queued waiters do not stop it).
    #[inline]
    fn try_take(&self, n: usize) -> Result<usize, TryAcquireError> {
        let mut word = self.word.load(Ordering::Acquire);
        loop {
            if word & CLOSED != 0 {
                return Err(TryAcquireError::Closed);
            }
            if permits_of(word) < n {
                return Err(TryAcquireError::NoPermits);
            }
            match self.word.compare_exchange_weak(
                word,
                word - (n << SHIFT),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(n),
                Err(now) => word = now,
            }
        }
    }

    /// Without the lock: adds `n` permits to the word, unless someone waits
    /// and no wake is in flight (then the lock must decide who gets them).
    #[inline]
    fn try_give(&self, n: usize) -> bool {
        let mut word = self.word.load(Ordering::Acquire);
        loop {
            if word & (QUEUED | WOKEN) == QUEUED {
                return false;
            }
            let new = with_more(word, n);
            match self
                .word
                .compare_exchange_weak(word, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return true,
                Err(now) => word = now,
            }
        }
    }

    /// Changes the word with `f`, or leaves it if `f` says `None`; returns
    /// the word it wrote. Called under the lock, but the lock-free paths
    /// may race it, hence the compare-and-swap loop.
    fn update(&self, f: impl Fn(usize) -> Option<usize>) -> Option<usize> {
        let mut word = self.word.load(Ordering::Acquire);
        loop {
            let new = f(word)?;
            match self
                .word
                .compare_exchange_weak(word, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Some(new),
                Err(now) => word = now,
            }
        }
    }

    /// Gives `n` permits back. Inlined into the guards' `drop`: while
    /// nobody waits, or a wake is in flight, this is one compare-and-swap,
    /// and the lock path stays out of line.
    #[inline]
    pub(crate) fn release(&self, n: usize) {
        if n == 0 || self.try_give(n) {
            return;
        }
        self.release_to_waiters(n);
    }

    /// Someone waits and nobody was woken: the permits go through the lock.
    #[inline(never)]
    fn release_to_waiters(&self, n: usize) {
        let mut queue = lock(&self.queue);
        self.give_locked(&mut queue, n);
        self.serve_and_wake(queue, LazyNow::default());
    }

    /// Under the lock: `n` permits come back, set aside for the front
    /// waiter in hand-off, or into the word.
    fn give_locked(&self, queue: &mut Queue, n: usize) {
        if queue.handoff {
            queue.reserved = queue.reserved.saturating_add(n).min(Self::MAX_PERMITS);
        } else {
            self.update(|word| Some(with_more(word, n)));
        }
    }

    /// Polls a waiter for its permits, spending a unit of the task's
    /// cooperative budget when it completes. Inlined into the callers'
    /// futures: the first poll of an acquire that finds enough permits free
    /// is the budget check and one compare-and-swap; everything else is out
    /// of line.
    ///
    /// With the budget spent it returns `Pending` before looking: a waiter
    /// granted meanwhile keeps its permits, and its drop gives them back.
    #[inline]
    pub(crate) fn poll_acquire(
        &self,
        waiter: &mut Waiter,
        cx: &mut Context<'_>,
    ) -> Poll<Result<usize, AcquireError>> {
        let coop = ready!(crate::coop::poll_proceed(cx));
        let poll = self.poll_acquire_unbudgeted(waiter, cx);
        if poll.is_ready() {
            coop.made_progress();
        }
        poll
    }

    /// [`poll_acquire`](Self::poll_acquire) once the budget allowed it.
    #[inline]
    fn poll_acquire_unbudgeted(
        &self,
        waiter: &mut Waiter,
        cx: &mut Context<'_>,
    ) -> Poll<Result<usize, AcquireError>> {
        if waiter.key.is_none() {
            match self.try_take(waiter.permits) {
                Ok(n) => return Poll::Ready(Ok(n)),
                Err(TryAcquireError::Closed) => return Poll::Ready(Err(AcquireError(()))),
                Err(TryAcquireError::NoPermits) => {}
            }
        }
        self.poll_acquire_slow(waiter, cx)
    }

    /// [`poll_acquire_unbudgeted`](Self::poll_acquire_unbudgeted) past the
    /// fast path: a queued waiter, or a first poll that found too few
    /// permits.
    #[inline(never)]
    fn poll_acquire_slow(
        &self,
        waiter: &mut Waiter,
        cx: &mut Context<'_>,
    ) -> Poll<Result<usize, AcquireError>> {
        let n = waiter.permits;
        if let Some((_, ticket)) = waiter.key
            && self.granted.load(Ordering::Acquire) >= ticket
        {
            // Granted in ticket order: its node is freed already.
            waiter.key = None;
            return Poll::Ready(Ok(n));
        }
        let mut queue = lock(&self.queue);
        match waiter.key.take() {
            None => self.enqueue(queue, waiter, cx),
            Some((key, ticket)) if queue.waiters.holds(&key, |request| request.ticket == ticket) => {
                if !queue.waiters.is_linked(&key) {
                    // Unlinked and still there: `close` let it go (and took
                    // its waker).
                    let removed = queue.waiters.remove(key);
                    unlock_then_drop(queue, removed.waker);
                    return Poll::Ready(Err(AcquireError(())));
                }
                if queue.waiters.is_front(&key) && !queue.handoff {
                    // Woken (or not): look again, clearing `WOKEN` in the
                    // same swap (see the protocol).
                    let took = std::cell::Cell::new(false);
                    self.update(|word| {
                        let word = word & !WOKEN;
                        took.set(word & CLOSED == 0 && permits_of(word) >= n);
                        Some(if took.get() { word - (n << SHIFT) } else { word })
                    });
                    if took.get() {
                        let removed = queue.waiters.remove(key);
                        self.serve_and_wake(queue, LazyNow::default());
                        drop(removed);
                        return Poll::Ready(Ok(n));
                    }
                }
                let displaced = queue.waiters.set_waker(&key, cx.waker());
                waiter.key = Some((key, ticket));
                // Overtaken: if its deadline passed, hand-off starts now.
                self.serve_and_wake(queue, LazyNow::default());
                drop(displaced);
                Poll::Pending
            }
            // Its node was freed: it was granted.
            Some(_) => Poll::Ready(Ok(n)),
        }
    }

    /// A first poll that found too few permits: under the lock, takes them
    /// if they arrived meanwhile, or queues at the back with a deadline.
    fn enqueue(
        &self,
        mut queue: MutexGuard<'_, Queue>,
        waiter: &mut Waiter,
        cx: &mut Context<'_>,
    ) -> Poll<Result<usize, AcquireError>> {
        let n = waiter.permits;
        let mut word = self.word.load(Ordering::Acquire);
        loop {
            if word & CLOSED != 0 {
                return Poll::Ready(Err(AcquireError(())));
            }
            let (new, taken) = if permits_of(word) >= n {
                (word - (n << SHIFT), true)
            } else {
                // Mark the queue in the same swap that saw too few permits
                // (see the protocol).
                (word | QUEUED, false)
            };
            match self
                .word
                .compare_exchange_weak(word, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) if taken => return Poll::Ready(Ok(n)),
                Ok(_) => break,
                Err(now) => word = now,
            }
        }
        // Only the lock holder writes the counter.
        let ticket = self.next_ticket.load(Ordering::Relaxed);
        self.next_ticket.store(ticket + 1, Ordering::Relaxed);
        let now = fairness::now();
        let deadline = fairness::deadline(now, self.bound);
        let request = Request {
            permits: n,
            ticket,
            deadline,
        };
        let key = queue.waiters.push_back(cx.waker(), request);
        waiter.key = Some((key, ticket));
        // A waiter first in line with a zero bound is due at once: hand-off
        // starts before anyone can barge.
        self.serve_and_wake(queue, LazyNow::at(now));
        Poll::Pending
    }

    /// Cancels a waiter: leaves the queue, or gives back what it was given.
    /// Inlined: a waiter that never queued (the usual case) has nothing to
    /// do.
    #[inline]
    pub(crate) fn cancel(&self, waiter: &mut Waiter) {
        if let Some(queued) = waiter.key.take() {
            self.cancel_queued(waiter.permits, queued);
        }
    }

    #[inline(never)]
    fn cancel_queued(&self, permits: usize, (key, ticket): (Key, u64)) {
        let mut queue = lock(&self.queue);
        let mut displaced = None;
        if queue.waiters.holds(&key, |request| request.ticket == ticket) {
            let was_front = queue.waiters.is_front(&key);
            displaced = queue.waiters.remove(key).waker;
            if !was_front {
                // Leaving from behind the head (or after `close`) changes
                // nothing for the others.
                unlock_then_drop(queue, displaced);
                return;
            }
            // `WOKEN`, if set, was this waiter's: the next front may need
            // a wake of its own.
            self.word.fetch_and(!WOKEN, Ordering::AcqRel);
        } else {
            // Granted, but never seen: give the permits back.
            self.give_locked(&mut queue, permits);
        }
        self.serve_and_wake(queue, LazyNow::default());
        drop(displaced);
    }

    /// Settles the queue after a change (see [`serve`](Self::serve)), then
    /// wakes whom it chose with the lock released.
    fn serve_and_wake(&self, mut queue: MutexGuard<'_, Queue>, mut now: LazyNow) {
        let mut wakers = Wakers::new();
        self.serve(&mut queue, &mut wakers, &mut now);
        drop(queue);
        wakers.wake_all();
    }

    /// Under the lock, after permits came back, the front changed or a
    /// waiter was overtaken: switches to hand-off if the front waiter's
    /// deadline passed (or back, once a front is within its bound), grants
    /// in hand-off while the reserved permits suffice, and otherwise wakes
    /// the front waiter if the word now holds enough for it and no wake is
    /// in flight. Clears the flags when nobody is left waiting.
    fn serve(&self, queue: &mut Queue, wakers: &mut Wakers, now: &mut LazyNow) {
        loop {
            let Some(&mut Request {
                permits: needed,
                deadline,
                ..
            }) = queue.waiters.front_mut()
            else {
                let reserved = queue.leave_handoff();
                self.update(|word| Some(with_more(word, reserved) & !(QUEUED | WOKEN)));
                return;
            };
            let due = now.is_due(deadline);
            if queue.handoff && !due {
                let reserved = queue.leave_handoff();
                self.update(|word| Some(with_more(word, reserved)));
            } else if !queue.handoff && due {
                // The free permits leave the word, and with `WOKEN` gone
                // every release takes the lock: nobody barges any more. A
                // woken front finds its grant, or queues on.
                let before = self.word.fetch_and(QUEUED | CLOSED, Ordering::AcqRel);
                queue.handoff = true;
                queue.reserved = permits_of(before);
            }
            if !queue.handoff {
                let word = self.word.load(Ordering::Acquire);
                if word & WOKEN == 0 && permits_of(word) >= needed {
                    self.word.fetch_or(WOKEN, Ordering::AcqRel);
                    if let Some(waker) = queue.waiters.take_front_waker() {
                        wakers.push(waker);
                    }
                }
                return;
            }
            if queue.reserved < needed {
                return;
            }
            queue.reserved -= needed;
            let Some((waker, request)) = queue.waiters.pop_front_free() else {
                return;
            };
            self.granted.store(request.ticket, Ordering::Release);
            if let Some(waker) = waker {
                wakers.push(waker);
            }
        }
    }
}

impl Queue {
    const fn new() -> Queue {
        Queue {
            waiters: WaitList::new(),
            handoff: false,
            reserved: 0,
        }
    }

    /// Ends hand-off, returning the permits set aside (for the word).
    fn leave_handoff(&mut self) -> usize {
        self.handoff = false;
        std::mem::take(&mut self.reserved)
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = self.word.load(Ordering::Acquire);
        f.debug_struct("Semaphore")
            .field("permits", &permits_of(word))
            .field("closed", &(word & CLOSED != 0))
            .field("fairness_bound", &self.bound)
            .field("waiters", &lock(&self.queue).waiters)
            .finish()
    }
}

/// One acquirer's place: how many permits it wants and its queue key.
#[derive(Debug)]
pub(crate) struct Waiter {
    permits: usize,
    /// Its node and ticket, while it is queued.
    key: Option<(Key, u64)>,
}

impl Waiter {
    pub(crate) const fn new(permits: usize) -> Waiter {
        Waiter { permits, key: None }
    }
}

/// The future of [`Semaphore::acquire`] and [`Semaphore::acquire_many`].
#[must_use = "futures do nothing unless polled"]
pub struct Acquire<'a> {
    semaphore: &'a Semaphore,
    waiter: Waiter,
}

impl<'a> Future for Acquire<'a> {
    type Output = Result<SemaphorePermit<'a>, AcquireError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let semaphore = this.semaphore;
        semaphore
            .poll_acquire(&mut this.waiter, cx)
            .map_ok(|permits| SemaphorePermit { semaphore, permits })
    }
}

impl Drop for Acquire<'_> {
    #[inline]
    fn drop(&mut self) {
        self.semaphore.cancel(&mut self.waiter);
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("permits", &self.waiter.permits)
            .field("queued", &self.waiter.key.is_some())
            .finish()
    }
}
