//!
//! About 400 lines of code and their docs: the permit word and the wait
//! list are one protocol, kept in one file so it can be checked in one read;
//! the permits live in `permit.rs`.
// Over ~600 lines because of its docs: about 400 lines of code, one concept
// (the atomic word and the FIFO queue; the permits are in permit.rs).
//! A fair counting semaphore; the ground `Mutex` and `RwLock` stand on.
//!
//! # Protocol
//!
//! The free permits and two flags share one atomic word: `QUEUED` (someone
//! waits) and `CLOSED`. A lock guards the FIFO [`WaitList`] of acquirers.
//! Fairness is strict: while anyone waits, a new acquirer queues behind
//! them (even `try_acquire` fails), and released permits go to the front
//! waiter once there are enough for it, so a large request is never starved
//! by a stream of small ones.
//!
//! While nobody waits, acquire and release are one compare-and-swap on the
//! word, without the lock. `QUEUED` is set and cleared only under the lock,
//! and set in the same compare-and-swap that found too few permits: a
//! release between the look and the mark fails that swap, so an acquirer
//! never queues past permits that arrived. Once `QUEUED` is set, every
//! acquire and release takes the lock, and there permits go to the waiters
//! in order before anything is left in the word.
//!
//! A waiter takes a ticket when it queues. Granting it counts its permits
//! out to it, frees its node and publishes its ticket in `granted`; grants
//! go in ticket order, so a woken waiter whose ticket is at most `granted`
//! has its permits without taking the lock (`close` grants nothing, it only
//! unlinks, leaving the nodes for their futures to free). If its future is
//! dropped before it sees them, the drop gives them back.
//!
//! Every acquire that completes spends one unit of the task's cooperative
//! budget ([`crate::coop`]); Mutex and RwLock inherit this. With the budget
//! spent, a poll returns `Pending` before looking at anything: a waiter
//! granted meanwhile keeps its permits until its next poll or its drop.

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

mod permit;

pub use self::permit::{OwnedSemaphorePermit, SemaphorePermit};

/// An async counting semaphore with FIFO fairness.
///
/// Tasks [`acquire`](Semaphore::acquire) permits and give them back by
/// dropping the [`SemaphorePermit`]. Waiters are served strictly in the
/// order they started waiting.
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
    /// The free permits shifted left by [`SHIFT`], with [`QUEUED`] and
    /// [`CLOSED`].
    word: AtomicUsize,
    waiters: Mutex<WaitList<Request>>,
    /// The ticket the next waiter takes (from 1); written under the lock.
    next_ticket: AtomicU64,
    /// The ticket of the last waiter granted; written under the lock, read
    /// without it by a woken waiter.
    granted: AtomicU64,
}

/// Someone waits: acquirers and releasers must take the lock.
const QUEUED: usize = 0b01;
/// The semaphore is closed.
const CLOSED: usize = 0b10;
/// Where the permit count starts in the word.
const SHIFT: u32 = 2;

/// The free permits a word holds.
const fn permits_of(word: usize) -> usize {
    word >> SHIFT
}

/// `word` with `n` more permits, saturating at `MAX_PERMITS`.
fn with_more(word: usize, n: usize) -> usize {
    let permits = permits_of(word).saturating_add(n).min(Semaphore::MAX_PERMITS);
    permits << SHIFT | word & (QUEUED | CLOSED)
}

/// What a waiter asks for, and its ticket: its place in the queue.
struct Request {
    permits: usize,
    ticket: u64,
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
    /// Not enough permits are free, or others are already waiting for them.
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
    /// [`MAX_PERMITS`](Semaphore::MAX_PERMITS); more saturate).
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            word: AtomicUsize::new(permits.min(Self::MAX_PERMITS) << SHIFT),
            waiters: Mutex::new(WaitList::new()),
            next_ticket: AtomicU64::new(1),
            granted: AtomicU64::new(0),
        }
    }

    /// `const` constructor, for statics.
    #[cfg(not(all(test, loom)))]
    pub const fn const_new(permits: usize) -> Semaphore {
        let permits = if permits > Self::MAX_PERMITS {
            Self::MAX_PERMITS
        } else {
            permits
        };
        Semaphore {
            word: AtomicUsize::new(permits << SHIFT),
            waiters: Mutex::new(WaitList::new()),
            next_ticket: AtomicU64::new(1),
            granted: AtomicU64::new(0),
        }
    }

    /// The permits free right now.
    pub fn available_permits(&self) -> usize {
        permits_of(self.word.load(Ordering::Acquire))
    }

    /// Adds `n` permits, serving waiters first, in order.
    pub fn add_permits(&self, n: usize) {
        self.release(n);
    }

    /// Removes up to `n` free permits for good, and returns how many it
    /// removed: fewer than `n` if fewer were free. Permits held elsewhere
    /// are not touched, and waiters keep their place.
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
        let waiters = lock(&self.waiters);
        let forgotten = std::cell::Cell::new(0);
        self.update_locked(&waiters, |word| {
            let k = permits_of(word).min(n);
            forgotten.set(k);
            Some(word - (k << SHIFT))
        });
        forgotten.get()
    }

    /// Closes the semaphore: every waiter and every later acquire gets an
    /// [`AcquireError`]. Permits already held stay valid.
    pub fn close(&self) {
        let waiters = lock(&self.waiters);
        self.word.fetch_or(CLOSED, Ordering::AcqRel);
        // Every waiter leaves, ungranted.
        self.word.fetch_and(!QUEUED, Ordering::AcqRel);
        wake_all(waiters, |waiters| waiters);
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

    /// Takes one permit if one is free and nobody is waiting.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::NoPermits`] or [`TryAcquireError::Closed`].
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody is waiting.
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

    /// Takes `n` permits without the lock, if nobody waits and there are
    /// enough.
    #[inline]
    fn try_take(&self, n: usize) -> Result<usize, TryAcquireError> {
        let mut word = self.word.load(Ordering::Acquire);
        loop {
            if word & CLOSED != 0 {
                return Err(TryAcquireError::Closed);
            }
            if word & QUEUED != 0 || permits_of(word) < n {
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

    /// Without the lock: adds `n` permits to the word unless someone waits.
    #[inline]
    fn try_give(&self, n: usize) -> bool {
        let mut word = self.word.load(Ordering::Acquire);
        loop {
            if word & QUEUED != 0 {
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

    /// Under the lock (the guard is the proof): changes the word with `f`,
    /// or leaves it if `f` says `None`. While `QUEUED` is set only the lock
    /// holder writes the word, so a plain store does; otherwise the
    /// lock-free paths may race, and a compare-and-swap loop is needed.
    fn update_locked(&self, _locked: &WaitList<Request>, f: impl Fn(usize) -> Option<usize>) -> bool {
        let mut word = self.word.load(Ordering::Acquire);
        loop {
            let Some(new) = f(word) else {
                return false;
            };
            if word & QUEUED != 0 {
                self.word.store(new, Ordering::Release);
                return true;
            }
            match self
                .word
                .compare_exchange_weak(word, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return true,
                Err(now) => word = now,
            }
        }
    }

    /// Gives `n` permits back and hands them on to waiters, in order.
    /// Inlined into the guards' `drop`: while nobody waits this is one
    /// compare-and-swap, and the lock path stays out of line.
    #[inline]
    pub(crate) fn release(&self, n: usize) {
        if n == 0 || self.try_give(n) {
            return;
        }
        self.release_to_waiters(n);
    }

    /// Someone waits: the permits go through the lock, to them first.
    #[inline(never)]
    fn release_to_waiters(&self, n: usize) {
        let waiters = lock(&self.waiters);
        self.update_locked(&waiters, |word| Some(with_more(word, n)));
        self.serve_and_wake(waiters);
    }

    /// Polls a waiter for its permits, spending a unit of the task's
    /// cooperative budget when it completes. Inlined into the callers'
    /// futures: the first poll of an acquire that finds enough permits free
    /// and nobody waiting is the budget check and one compare-and-swap;
    /// everything else is out of line.
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
            let n = waiter.permits;
            match self.try_take(n) {
                Ok(n) => return Poll::Ready(Ok(n)),
                Err(TryAcquireError::Closed) => return Poll::Ready(Err(AcquireError(()))),
                // Zero permits need no turn in the queue.
                Err(TryAcquireError::NoPermits) if n == 0 => return Poll::Ready(Ok(0)),
                Err(TryAcquireError::NoPermits) => {}
            }
        }
        self.poll_acquire_slow(waiter, cx)
    }

    /// [`poll_acquire_unbudgeted`](Self::poll_acquire_unbudgeted) past the
    /// fast path: a queued waiter, or a first poll that found too few
    /// permits or someone waiting.
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
        let mut waiters = lock(&self.waiters);
        match waiter.key.take() {
            None => {
                let mut word = self.word.load(Ordering::Acquire);
                loop {
                    if word & CLOSED != 0 {
                        return Poll::Ready(Err(AcquireError(())));
                    }
                    let (new, taken) = if word & QUEUED == 0 && permits_of(word) >= n {
                        (word - (n << SHIFT), true)
                    } else {
                        // Mark the queue in the same swap that saw too few
                        // permits (see the protocol).
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
                let key = waiters.push_back(cx.waker(), Request { permits: n, ticket });
                waiter.key = Some((key, ticket));
                Poll::Pending
            }
            Some((key, ticket)) if waiters.holds(&key, |request| request.ticket == ticket) => {
                if waiters.is_linked(&key) {
                    let displaced = waiters.set_waker(&key, cx.waker());
                    unlock_then_drop(waiters, displaced);
                    waiter.key = Some((key, ticket));
                    return Poll::Pending;
                }
                // Unlinked and still there: `close` let it go (and took
                // its waker).
                let removed = waiters.remove(key);
                unlock_then_drop(waiters, removed.waker);
                Poll::Ready(Err(AcquireError(())))
            }
            // Its node was freed: it was granted.
            Some(_) => Poll::Ready(Ok(n)),
        }
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
        let mut waiters = lock(&self.waiters);
        let mut displaced = None;
        if waiters.holds(&key, |request| request.ticket == ticket) {
            let was_front = waiters.is_front(&key);
            displaced = waiters.remove(key).waker;
            if !was_front {
                // Leaving from behind the head (or after `close`) changes
                // nothing for the others.
                unlock_then_drop(waiters, displaced);
                return;
            }
        } else {
            // Granted, but never seen: give the permits back.
            let n = permits;
            self.update_locked(&waiters, |word| Some(with_more(word, n)));
        }
        // Permits came back, or the head left and the next waiter may need
        // fewer than it did (or there is none, and `QUEUED` must go).
        self.serve_and_wake(waiters);
        drop(displaced);
    }

    /// Serves waiters while there are permits for the front one, clears
    /// `QUEUED` if none is left waiting, then wakes them with the lock
    /// released.
    fn serve_and_wake(&self, mut waiters: MutexGuard<'_, WaitList<Request>>) {
        let mut wakers = Wakers::new();
        while self.serve(&mut waiters, &mut wakers) {}
        if waiters.is_empty() {
            self.word.fetch_and(!QUEUED, Ordering::AcqRel);
        }
        drop(waiters);
        wakers.wake_all();
    }

    /// Grants the front waiter if the word holds enough permits for it:
    /// frees its node, publishes its ticket and gathers its waker. With
    /// someone waiting, only the lock holder changes the count.
    fn serve(&self, waiters: &mut WaitList<Request>, wakers: &mut Wakers) -> bool {
        let Some(needed) = waiters.front_mut().map(|request| request.permits) else {
            return false;
        };
        let taken = self.update_locked(waiters, |word| {
            (permits_of(word) >= needed).then(|| word - (needed << SHIFT))
        });
        if !taken {
            return false;
        }
        let Some((waker, request)) = waiters.pop_front_free() else {
            return false;
        };
        self.granted.store(request.ticket, Ordering::Release);
        if let Some(waker) = waker {
            wakers.push(waker);
        }
        true
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = self.word.load(Ordering::Acquire);
        f.debug_struct("Semaphore")
            .field("permits", &permits_of(word))
            .field("closed", &(word & CLOSED != 0))
            .field("waiters", &*lock(&self.waiters))
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
