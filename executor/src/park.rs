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
//! own condvar. Each worker's `Parker` records where it sleeps, so waking a
//! particular worker takes the right road:
//!
//! ```text
//!          park               (no driver free)                 unpark
//!   EMPTY ──────> PARKING ────────────────────> PARKED_CONDVAR ───────> NOTIFIED ─┐
//!     ^              │  (took the driver)                                          │ park
//!     │              └────────────────────────> PARKED_DRIVER  ───────> NOTIFIED   │ returns
//!     └────────────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! `unpark` swaps in `NOTIFIED` and, if the worker slept, signals its condvar
//! or interrupts the driver. A notification that arrives before `park` is
//! kept, so `park` then returns at once: no wakeup is lost.
//!
//! `PARKING` is the stretch between a worker ceasing to count as busy and
//! its falling asleep. An `unpark` that finds it there counts the worker
//! busy again, as it does for a sleeping one: otherwise a preempted worker,
//! notified but not yet asleep, would leave the runtime looking idle while
//! it is about to run a task, and a paused clock would jump ahead of it.

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
    ///
    /// A driver that wakes wakers on the calling thread (it dispatches
    /// readiness or fires timers from inside `park`) must return without
    /// blocking again once it has: a wake on the thread that holds the
    /// scheduler only queues the task, or marks the `block_on` future
    /// woken, and calls no [`unpark`](Park::unpark), since that thread
    /// looks at its queue as soon as `park` returns.
    fn park(&self, timeout: Option<Duration>);

    /// Makes the current `park` return soon, or the next one if none is in
    /// progress. Callable from any thread.
    fn unpark(&self);

    /// Like [`park`](Park::park), called when the whole runtime is idle:
    /// every worker waits and no blocking task or `block_on` caller is busy.
    /// A driver whose clock is paused may then jump the clock to its next
    /// timer deadline instead of waiting — if `still_idle` says so at that
    /// moment: a task may have been woken (from another thread) since the
    /// runtime judged itself idle, and must run before time moves. By
    /// default, plain `park`.
    fn park_idle(&self, timeout: Option<Duration>, still_idle: &dyn Fn() -> bool) {
        let _ = still_idle;
        self.park(timeout);
    }

    /// Whether the driver wants to hear when the runtime becomes idle while
    /// some worker already waits in it: the runtime then calls
    /// [`unpark`](Park::unpark), and that worker parks again through
    /// [`park_idle`](Park::park_idle). False by default; a driver with a
    /// paused clock answers true, since only an idle runtime may move it.
    fn wants_idle_notice(&self) -> bool {
        false
    }
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
///
/// It also counts the runtime's *busy* threads — workers not parked, blocking
/// tasks queued or running, `block_on` callers polling — so a parking worker
/// can tell the driver when nothing at all is running (see
/// [`Park::park_idle`]).
pub(crate) struct DriverSlot {
    driver: Option<Arc<dyn Park>>,
    busy: AtomicBool,
    active: AtomicUsize,
}

/// The right to wait in the driver; released on drop.
pub(crate) struct DriverGuard<'a> {
    slot: &'a DriverSlot,
    driver: &'a dyn Park,
}

impl DriverSlot {
    /// A slot for `driver`, with `active` threads counted busy to begin with.
    pub(crate) fn new(driver: Option<Arc<dyn Park>>, active: usize) -> DriverSlot {
        DriverSlot {
            driver,
            busy: AtomicBool::new(false),
            active: AtomicUsize::new(active),
        }
    }

    /// One more thing runs (a blocking task, a `block_on` caller waking).
    pub(crate) fn begin_activity(&self) {
        self.active.fetch_add(1, Ordering::SeqCst);
    }

    /// One thing stopped running. If it was the last, tells a driver that
    /// asked to know.
    pub(crate) fn end_activity(&self) {
        if self.end_activity_quietly() {
            self.notify_idle();
        }
    }

    /// Like `end_activity`, for a caller that is about to park and will see
    /// the idleness itself if it takes the driver. Returns true if nothing
    /// runs any more.
    fn end_activity_quietly(&self) -> bool {
        self.active.fetch_sub(1, Ordering::SeqCst) == 1
    }

    /// How many threads count as busy.
    #[cfg(all(test, loom))]
    pub(crate) fn active(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }

    /// True if nothing runs: every worker parked, no blocking work.
    fn is_idle(&self) -> bool {
        self.active.load(Ordering::SeqCst) == 0
    }

    /// Interrupts the driver's waiter, so it parks again knowing the runtime
    /// is idle, if the driver wants to hear of it.
    fn notify_idle(&self) {
        if let Some(driver) = &self.driver
            && driver.wants_idle_notice()
        {
            driver.unpark();
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
    /// it (whoever is will dispatch it). Returns true if this call did.
    ///
    /// While it does, a worker going to sleep finds the driver taken and
    /// sleeps on its condvar instead. A worker calling this runs on and
    /// parks (in the driver) later, but another caller must make sure that
    /// someone waits in the driver afterwards.
    pub(crate) fn poll_ready(&self) -> bool {
        match self.try_acquire() {
            Some(guard) => {
                guard.driver.park(Some(Duration::ZERO));
                true
            }
            None => false,
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
/// No longer counted busy, not yet asleep.
const PARKING: usize = 4;

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
    ///
    /// The caller counts as busy in `driver` (see [`DriverSlot`]) except
    /// while it sleeps here. Whoever wakes a sleeping worker counts it busy
    /// again *before* waking it, so the runtime never looks idle between a
    /// wake and the woken worker's start.
    pub(crate) fn park(&self, driver: &DriverSlot, timeout: Option<Duration>) {
        // From here on, an unpark counts us busy again.
        if self
            .state
            .compare_exchange(EMPTY, PARKING, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            // A pending notification: consume it and return.
            self.state.store(EMPTY, Ordering::SeqCst);
            return;
        }
        let last_busy = driver.end_activity_quietly();
        match driver.try_acquire() {
            Some(guard) => {
                if !self.park_driver(&guard, timeout) {
                    // Busy again before anyone else can take the driver and
                    // judge the runtime idle.
                    driver.begin_activity();
                }
            }
            None => {
                if last_busy {
                    // Whoever waits in the driver must learn that all is idle.
                    driver.notify_idle();
                }
                if !self.park_condvar(timeout) {
                    driver.begin_activity();
                }
            }
        }
    }

    /// True if a notification is pending; consumes it.
    pub(crate) fn take_notification(&self) -> bool {
        self.state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// Moves `PARKING` to `parked` (`PARKED_DRIVER` or `PARKED_CONDVAR`).
    /// Returns true, back in `EMPTY`, if a notification came on our way
    /// instead: the notifier found us parking and counted us busy, so the
    /// caller returns without waiting.
    #[must_use = "a notified parker must not wait"]
    fn notified_while_parking(&self, parked: usize) -> bool {
        let Err(actual) = self
            .state
            .compare_exchange(PARKING, parked, Ordering::SeqCst, Ordering::SeqCst)
        else {
            return false;
        };
        debug_assert_eq!(actual, NOTIFIED, "only this thread parks");
        self.state.store(EMPTY, Ordering::SeqCst);
        true
    }

    /// Waits in the driver. Returns true if an `unpark` woke us (and so
    /// already counted us busy).
    fn park_driver(&self, guard: &DriverGuard<'_>, timeout: Option<Duration>) -> bool {
        if self.notified_while_parking(PARKED_DRIVER) {
            return true;
        }
        if guard.slot.is_idle() {
            guard.driver.park_idle(timeout, &|| guard.slot.is_idle());
        } else {
            guard.driver.park(timeout);
        }
        // Whether unparked, timed out or woken by events: back to EMPTY.
        let prev = self.state.swap(EMPTY, Ordering::SeqCst);
        debug_assert!(prev == NOTIFIED || prev == PARKED_DRIVER);
        prev == NOTIFIED
    }

    /// Waits on the condvar. Returns true if an `unpark` woke us (and so
    /// already counted us busy).
    fn park_condvar(&self, timeout: Option<Duration>) -> bool {
        // The move to PARKED_CONDVAR happens under the mutex, which
        // `unpark` takes before it signals (see there).
        let mut guard = lock(&self.mutex);
        if self.notified_while_parking(PARKED_CONDVAR) {
            return true;
        }
        loop {
            guard = match timeout {
                None => self.condvar.wait(guard).unwrap_or_else(|p| p.into_inner()),
                Some(d) => wait_timeout(&self.condvar, guard, d),
            };
            if self.take_notification() {
                return true;
            }
            if timeout.is_some() {
                // Timed out (or spurious, which a timed park may treat alike).
                match self.state.swap(EMPTY, Ordering::SeqCst) {
                    NOTIFIED => return true,
                    PARKED_CONDVAR => return false,
                    actual => unreachable!("parker in state {actual} while parked"),
                }
            }
        }
    }

    /// [`unpark`](Self::unpark) for a wake that comes from the parking
    /// thread itself: from a task it polls, or from a waker the driver it
    /// waits in is dispatching. That thread is not blocked (a driver's park
    /// returns once it has dispatched), so the notification is recorded and
    /// counted busy as `unpark` does, but the driver is not interrupted: no
    /// eventfd write, and no spurious return from the next `epoll_wait`.
    pub(crate) fn unpark_from_own_thread(&self, driver: &DriverSlot) {
        let prev = self.state.swap(NOTIFIED, Ordering::SeqCst);
        // A thread asleep on its condvar runs nothing: the caller erred, and
        // the full road is taken.
        debug_assert_ne!(
            prev, PARKED_CONDVAR,
            "called from a thread that is not the parker"
        );
        self.notified_from(prev, driver, prev != PARKED_DRIVER);
    }

    // ANCHOR: parker-unpark
    /// Wakes the worker if it sleeps (counting it busy), or makes its next
    /// `park` return.
    pub(crate) fn unpark(&self, driver: &DriverSlot) {
        let prev = self.state.swap(NOTIFIED, Ordering::SeqCst);
        self.notified_from(prev, driver, true);
    }

    /// What a notification that found the parker in state `prev` must do;
    /// `interrupt` is false only for a driver wait the notifier's own
    /// thread is in.
    fn notified_from(&self, prev: usize, driver: &DriverSlot, interrupt: bool) {
        match prev {
            EMPTY | NOTIFIED => {}
            // Between ceasing to count as busy and sleeping: it will see
            // the notification before it sleeps, and must count as busy.
            PARKING => driver.begin_activity(),
            PARKED_CONDVAR => {
                driver.begin_activity();
                // Taking the lock waits until the parker is inside `wait`, so
                // the signal cannot fall between its check and its sleep.
                drop(lock(&self.mutex));
                self.condvar.notify_one();
            }
            PARKED_DRIVER => {
                driver.begin_activity();
                if interrupt {
                    driver.unpark();
                }
            }
            actual => unreachable!("parker in unknown state {actual}"),
        }
    }
    // ANCHOR_END: parker-unpark
}

impl fmt::Debug for Parker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state.load(Ordering::Relaxed) {
            EMPTY => "empty",
            PARKING => "parking",
            PARKED_CONDVAR => "parked on condvar",
            PARKED_DRIVER => "parked in driver",
            _ => "notified",
        };
        f.debug_struct("Parker").field("state", &state).finish()
    }
}
