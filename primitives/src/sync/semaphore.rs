//! A fair counting semaphore; the ground `Mutex` and `RwLock` stand on.
//!
//! # Protocol
//!
//! One lock guards the count of free permits, the closed flag and the FIFO
//! [`WaitList`] of acquirers. Fairness is strict: while anyone waits, a new
//! acquirer queues behind them (even `try_acquire` fails), and released
//! permits go to the front waiter once there are enough for it, so a large
//! request is never starved by a stream of small ones. A granted waiter is
//! unlinked with its permits already counted out to it; if its future is
//! dropped before it sees them, the drop gives them back.

use crate::loom::{Mutex, MutexGuard, lock};
use crate::util::Wakers;
use crate::util::wait_list::wake_all;
use crate::util::wait_list::{Key, WaitList};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

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
/// use weft_primitives::sync::Semaphore;
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
    state: Mutex<State>,
}

struct State {
    permits: usize,
    closed: bool,
    waiters: WaitList<Request>,
}

/// What a waiter asks for, and whether it got it.
struct Request {
    permits: usize,
    granted: bool,
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
            state: Mutex::new(State {
                permits: permits.min(Self::MAX_PERMITS),
                closed: false,
                waiters: WaitList::new(),
            }),
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
            state: Mutex::new(State {
                permits,
                closed: false,
                waiters: WaitList::new(),
            }),
        }
    }

    /// The permits free right now.
    pub fn available_permits(&self) -> usize {
        lock(&self.state).permits
    }

    /// Adds `n` permits, serving waiters first, in order.
    pub fn add_permits(&self, n: usize) {
        self.release(n);
    }

    /// Closes the semaphore: every waiter and every later acquire gets an
    /// [`AcquireError`]. Permits already held stay valid.
    pub fn close(&self) {
        let mut state = lock(&self.state);
        state.closed = true;
        wake_all(state, |state| &mut state.waiters);
    }

    /// True once [`close`](Semaphore::close) was called.
    pub fn is_closed(&self) -> bool {
        lock(&self.state).closed
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

    fn try_take(&self, n: usize) -> Result<usize, TryAcquireError> {
        let mut state = lock(&self.state);
        if state.closed {
            Err(TryAcquireError::Closed)
        } else if state.waiters.is_empty() && state.permits >= n {
            state.permits -= n;
            Ok(n)
        } else {
            Err(TryAcquireError::NoPermits)
        }
    }

    /// Gives `n` permits back and hands them on to waiters, in order.
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut state = lock(&self.state);
        state.permits = state.permits.saturating_add(n).min(Self::MAX_PERMITS);
        serve_and_wake(state);
    }

    /// Polls a waiter for its permits.
    pub(crate) fn poll_acquire(
        &self,
        waiter: &mut Waiter,
        cx: &mut Context<'_>,
    ) -> Poll<Result<usize, AcquireError>> {
        let mut state = lock(&self.state);
        match waiter.key.take() {
            None => {
                if state.closed {
                    return Poll::Ready(Err(AcquireError(())));
                }
                let n = waiter.permits;
                // Zero permits need no turn in the queue.
                if n == 0 || (state.waiters.is_empty() && state.permits >= n) {
                    state.permits -= n;
                    return Poll::Ready(Ok(n));
                }
                let request = Request {
                    permits: n,
                    granted: false,
                };
                waiter.key = Some(state.waiters.push_back(cx.waker(), request));
                Poll::Pending
            }
            Some(key) => {
                if state.waiters.is_linked(&key) {
                    state.waiters.set_waker(&key, cx.waker());
                    waiter.key = Some(key);
                    return Poll::Pending;
                }
                let (_, request) = state.waiters.remove(key);
                if request.granted {
                    Poll::Ready(Ok(request.permits))
                } else {
                    Poll::Ready(Err(AcquireError(())))
                }
            }
        }
    }

    /// Cancels a waiter: leaves the queue, or gives back what it was given.
    pub(crate) fn cancel(&self, waiter: &mut Waiter) {
        let Some(key) = waiter.key.take() else {
            return;
        };
        let mut state = lock(&self.state);
        let was_front = state.waiters.is_front(&key);
        let (_, request) = state.waiters.remove(key);
        if request.granted {
            state.permits = state
                .permits
                .saturating_add(request.permits)
                .min(Self::MAX_PERMITS);
        } else if !was_front {
            // Leaving from behind the head changes nothing for the others.
            return;
        }
        // Permits came back, or the head left and the next waiter may need
        // fewer than it did.
        serve_and_wake(state);
    }
}

/// Serves waiters while there are permits for the front one, then wakes
/// them with the lock released.
fn serve_and_wake(mut state: MutexGuard<'_, State>) {
    let mut wakers = Wakers::new();
    while let Some(waker) = serve(&mut state) {
        wakers.push(waker);
    }
    drop(state);
    wakers.wake_all();
}

/// Grants the front waiter if there are enough permits for it.
fn serve(state: &mut State) -> Option<Waker> {
    let needed = state.waiters.front_mut()?.permits;
    if state.permits < needed {
        return None;
    }
    state.permits -= needed;
    state.waiters.pop_front(|request| request.granted = true)
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Semaphore")
            .field("permits", &state.permits)
            .field("closed", &state.closed)
            .field("waiters", &state.waiters)
            .finish()
    }
}

/// One acquirer's place: how many permits it wants and its queue key.
#[derive(Debug)]
pub(crate) struct Waiter {
    permits: usize,
    key: Option<Key>,
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

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let semaphore = this.semaphore;
        semaphore
            .poll_acquire(&mut this.waiter, cx)
            .map_ok(|permits| SemaphorePermit { semaphore, permits })
    }
}

impl Drop for Acquire<'_> {
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

/// Permits taken from a [`Semaphore`]; dropping it gives them back.
#[must_use = "dropping the permit gives it back at once"]
pub struct SemaphorePermit<'a> {
    semaphore: &'a Semaphore,
    permits: usize,
}

impl SemaphorePermit<'_> {
    /// Keeps the permits out of the semaphore for good.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Merges `other`'s permits into this one.
    ///
    /// # Panics
    ///
    /// Panics if the two come from different semaphores.
    pub fn merge(&mut self, mut other: SemaphorePermit<'_>) {
        assert!(
            std::ptr::eq(self.semaphore, other.semaphore),
            "merged permits must come from the same semaphore"
        );
        self.permits += std::mem::take(&mut other.permits);
    }

    fn detach(mut self) -> usize {
        std::mem::take(&mut self.permits)
    }

    /// Takes the permits out of the guard, for models that hand them back
    /// through `add_permits` on another thread.
    #[cfg(all(test, loom))]
    pub(crate) fn detach_for_test(self) -> usize {
        self.detach()
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.semaphore.release(self.permits);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

/// Permits taken from a [`Semaphore`] in an `Arc`; dropping it gives them
/// back.
#[must_use = "dropping the permit gives it back at once"]
pub struct OwnedSemaphorePermit {
    semaphore: Arc<Semaphore>,
    permits: usize,
}

impl OwnedSemaphorePermit {
    /// Keeps the permits out of the semaphore for good.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// The semaphore the permits came from.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.semaphore
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.semaphore.release(self.permits);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}
