//! Parking: how an idle worker waits, and how it is woken.
//!
//! The executor knows nothing of I/O. What it knows is the [`Park`] trait: a
//! *driver* that can block the calling thread until there is something to do
//! (`park`) and be interrupted from any thread (`unpark`). The facade hands
//! the reactor's driver in, so an idle worker waits in `epoll_wait` with the
//! next timer deadline as its timeout. Without a driver, workers park on
//! condition variables.
//!
//! At most one worker waits in the driver at a time; the others park on their
//! own condvar. Each worker's [`Parker`] records where it sleeps, so waking a
//! particular worker takes the right road:
//!
//! ```text
//!            park (no driver free)               unpark
//!   EMPTY ───────────────────────> PARKED_CONDVAR ───────> NOTIFIED ─┐
//!     │  park (took the driver)                                       │ park
//!     └──────────────────────────> PARKED_DRIVER  ───────> NOTIFIED   │ returns
//!     ^                                                               │
//!     └───────────────────────────────────────────────────────────────┘
//! ```
//!
//! `unpark` swaps in `NOTIFIED` and, if the worker slept, signals its condvar
//! or interrupts the driver. A notification that arrives before `park` is
//! kept, so `park` then returns at once: no wakeup is lost.

use crate::loom::atomic::{AtomicBool, AtomicUsize, Ordering};
use crate::loom::{Condvar, Mutex, lock};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// How an idle worker blocks until there is work, and how it is woken.
///
/// The runtime calls `park` only when it has nothing to run, and from one
/// thread at a time. `unpark` may be called from any thread, any number of
/// times, before or during a `park`.
///
/// The reactor implements this for its I/O driver: `park` waits for readiness
/// events (and timers) and dispatches their wakers, and `unpark` interrupts
/// that wait. [`CondvarPark`] is the implementation without I/O.
///
/// # Examples
///
/// A runtime whose idle workers report each time they wake:
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::time::Duration;
/// use weft_executor::park::{CondvarPark, Park};
/// use weft_executor::Runtime;
///
/// struct Counting { inner: CondvarPark, parks: AtomicUsize }
///
/// impl Park for Counting {
///     fn park(&self, timeout: Option<Duration>) {
///         self.parks.fetch_add(1, Ordering::Relaxed);
///         self.inner.park(timeout);
///     }
///     fn unpark(&self) {
///         self.inner.unpark();
///     }
/// }
///
/// let driver = Arc::new(Counting { inner: CondvarPark::new(), parks: AtomicUsize::new(0) });
/// let rt = Runtime::builder().current_thread().driver(driver.clone()).build().unwrap();
/// let value = rt.block_on(async {
///     // Finished on a pool thread while the runtime waits in the driver.
///     let (tx, rx) = std::sync::mpsc::channel();
///     let task = weft_executor::task::spawn_blocking(move || rx.recv().unwrap());
///     std::thread::spawn(move || tx.send(7).unwrap());
///     task.await.unwrap()
/// });
/// assert_eq!(value, 7);
/// // Whether the runtime had to wait at all depends on the threads' timing.
/// println!("parked {} times", driver.parks.load(Ordering::Relaxed));
/// ```
pub trait Park: Send + Sync + 'static {
    /// Blocks the calling thread until [`unpark`](Park::unpark) is called,
    /// `timeout` elapses, or the driver has dispatched events. `None` waits
    /// without a limit; `Some(Duration::ZERO)` dispatches what is ready and
    /// returns at once. Returning early for no reason is allowed.
    fn park(&self, timeout: Option<Duration>);

    /// Makes the current `park` return soon, or the next one if none is in
    /// progress. Callable from any thread.
    fn unpark(&self);
}

/// A [`Park`] without I/O: a mutex, a condition variable and a flag.
#[derive(Default)]
pub struct CondvarPark {
    notified: Mutex<bool>,
    condvar: Condvar,
}

impl CondvarPark {
    /// A driver that nothing has unparked yet.
    pub fn new() -> CondvarPark {
        CondvarPark::default()
    }
}

impl Park for CondvarPark {
    fn park(&self, timeout: Option<Duration>) {
        let mut notified = lock(&self.notified);
        if !*notified {
            notified = match timeout {
                None => self.condvar.wait(notified).unwrap_or_else(|p| p.into_inner()),
                Some(d) if d.is_zero() => notified,
                Some(d) => wait_timeout(&self.condvar, notified, d),
            };
        }
        *notified = false;
    }

    fn unpark(&self) {
        *lock(&self.notified) = true;
        self.condvar.notify_one();
    }
}

impl fmt::Debug for CondvarPark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CondvarPark")
            .field("notified", &*lock(&self.notified))
            .finish()
    }
}

#[cfg(not(all(test, loom)))]
fn wait_timeout<'a, T>(
    condvar: &Condvar,
    guard: crate::loom::MutexGuard<'a, T>,
    timeout: Duration,
) -> crate::loom::MutexGuard<'a, T> {
    match condvar.wait_timeout(guard, timeout) {
        Ok((guard, _)) => guard,
        Err(poisoned) => poisoned.into_inner().0,
    }
}

#[cfg(all(test, loom))]
fn wait_timeout<'a, T>(
    condvar: &Condvar,
    guard: crate::loom::MutexGuard<'a, T>,
    _timeout: Duration,
) -> crate::loom::MutexGuard<'a, T> {
    // loom has no time: a timed wait is modelled as a spurious return.
    let _ = condvar;
    guard
}

/// The driver of a runtime, shared by its workers: at most one of them
/// waits in it at a time.
pub(crate) struct DriverSlot {
    driver: Option<Arc<dyn Park>>,
    busy: AtomicBool,
}

/// The right to wait in the driver; released on drop.
pub(crate) struct DriverGuard<'a> {
    slot: &'a DriverSlot,
    driver: &'a dyn Park,
}

impl DriverSlot {
    pub(crate) fn new(driver: Option<Arc<dyn Park>>) -> DriverSlot {
        DriverSlot {
            driver,
            busy: AtomicBool::new(false),
        }
    }

    /// Takes the driver if there is one and nobody holds it.
    pub(crate) fn try_acquire(&self) -> Option<DriverGuard<'_>> {
        let driver = self.driver.as_deref()?;
        if self.busy.swap(true, Ordering::Acquire) {
            return None;
        }
        Some(DriverGuard { slot: self, driver })
    }

    /// Interrupts whoever waits in the driver.
    fn unpark(&self) {
        if let Some(driver) = &self.driver {
            driver.unpark();
        }
    }

    /// Lets the driver dispatch whatever is ready, if nobody is waiting in
    /// it (whoever is will dispatch it).
    pub(crate) fn poll_ready(&self) {
        if let Some(guard) = self.try_acquire() {
            guard.driver.park(Some(Duration::ZERO));
        }
    }
}

impl Drop for DriverGuard<'_> {
    fn drop(&mut self) {
        self.slot.busy.store(false, Ordering::Release);
    }
}

impl fmt::Debug for DriverSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DriverSlot")
            .field("has_driver", &self.driver.is_some())
            .field("busy", &self.busy.load(Ordering::Relaxed))
            .finish()
    }
}

const EMPTY: usize = 0;
const PARKED_CONDVAR: usize = 1;
const PARKED_DRIVER: usize = 2;
const NOTIFIED: usize = 3;

/// One worker's place to sleep (see the module docs for its states).
pub(crate) struct Parker {
    state: AtomicUsize,
    mutex: Mutex<()>,
    condvar: Condvar,
}

impl Parker {
    pub(crate) fn new() -> Parker {
        Parker {
            state: AtomicUsize::new(EMPTY),
            mutex: Mutex::new(()),
            condvar: Condvar::new(),
        }
    }

    /// Blocks until `unpark` (or, in the driver, until events), returning at
    /// once if a notification is pending.
    pub(crate) fn park(&self, driver: &DriverSlot, timeout: Option<Duration>) {
        if self.take_notification() {
            return;
        }
        match driver.try_acquire() {
            Some(guard) => self.park_driver(&guard, timeout),
            None => self.park_condvar(timeout),
        }
    }

    /// True if a notification is pending; consumes it.
    pub(crate) fn take_notification(&self) -> bool {
        self.state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    fn park_driver(&self, guard: &DriverGuard<'_>, timeout: Option<Duration>) {
        if let Err(actual) =
            self.state
                .compare_exchange(EMPTY, PARKED_DRIVER, Ordering::SeqCst, Ordering::SeqCst)
        {
            debug_assert_eq!(actual, NOTIFIED, "only this thread parks");
            self.state.store(EMPTY, Ordering::SeqCst);
            return;
        }
        guard.driver.park(timeout);
        // Whether unparked, timed out or woken by events: back to EMPTY.
        let prev = self.state.swap(EMPTY, Ordering::SeqCst);
        debug_assert!(prev == NOTIFIED || prev == PARKED_DRIVER);
    }

    fn park_condvar(&self, timeout: Option<Duration>) {
        let mut guard = lock(&self.mutex);
        if let Err(actual) =
            self.state
                .compare_exchange(EMPTY, PARKED_CONDVAR, Ordering::SeqCst, Ordering::SeqCst)
        {
            debug_assert_eq!(actual, NOTIFIED, "only this thread parks");
            self.state.store(EMPTY, Ordering::SeqCst);
            return;
        }
        loop {
            guard = match timeout {
                None => self.condvar.wait(guard).unwrap_or_else(|p| p.into_inner()),
                Some(d) => wait_timeout(&self.condvar, guard, d),
            };
            if self.take_notification() {
                return;
            }
            if timeout.is_some() {
                // Timed out (or spurious, which a timed park may treat alike).
                match self.state.swap(EMPTY, Ordering::SeqCst) {
                    NOTIFIED | PARKED_CONDVAR => return,
                    actual => unreachable!("parker in state {actual} while parked"),
                }
            }
        }
    }

    /// Wakes the worker if it sleeps, or makes its next `park` return.
    pub(crate) fn unpark(&self, driver: &DriverSlot) {
        match self.state.swap(NOTIFIED, Ordering::SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED_CONDVAR => {
                // Taking the lock waits until the parker is inside `wait`, so
                // the signal cannot fall between its check and its sleep.
                drop(lock(&self.mutex));
                self.condvar.notify_one();
            }
            PARKED_DRIVER => driver.unpark(),
            actual => unreachable!("parker in unknown state {actual}"),
        }
    }
}

impl fmt::Debug for Parker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state.load(Ordering::Relaxed) {
            EMPTY => "empty",
            PARKED_CONDVAR => "parked on condvar",
            PARKED_DRIVER => "parked in driver",
            _ => "notified",
        };
        f.debug_struct("Parker").field("state", &state).finish()
    }
}
