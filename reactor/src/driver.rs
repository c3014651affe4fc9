//! The driver: one `mio::Poll`, the resources registered with it, the timer
//! wheel and the clock.
//!
//! [`Driver`] is the side that waits: whoever owns it (an executor's idle
//! worker, or a hand-written `block_on` loop) calls [`Driver::park`], which
//! sleeps in `epoll_wait` until a resource is ready, the next timer is due,
//! or [`Driver::unpark`] is called from another thread. It then sets the
//! readiness of the resources the events name, fires the timers that are
//! due, and wakes their tasks.
//!
//! [`Handle`] is the side that registers: sockets and timers find the
//! current one in a thread-local set by [`Handle::enter`].

use crate::io::ScheduledIo;
use crate::time::{Clock, TimeDriver};
use std::cell::RefCell;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;
use std::time::Duration;

/// The token of the `mio::Waker` that interrupts a park.
const WAKE_TOKEN: mio::Token = mio::Token(usize::MAX);

/// How many readiness events one `epoll_wait` returns at most.
const EVENTS_CAPACITY: usize = 1024;

/// How many wakers are collected before they are woken, outside every lock.
pub(crate) const WAKE_BATCH: usize = 64;

// ANCHOR: token-bits
/// Resource tokens: the slab key in the low half, a generation in the high
/// (32 bits each on a 64-bit target, 16 on a 32-bit one). The key is kept
/// below `KEY_MASK`, so no token is ever `WAKE_TOKEN`.
const KEY_BITS: u32 = usize::BITS / 2;
const KEY_MASK: usize = (1 << KEY_BITS) - 1;
// ANCHOR_END: token-bits

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The reactor: waits for I/O readiness and timers, and wakes the tasks
/// that wait on them.
///
/// One driver serves one runtime. It knows nothing of executors: any
/// executor that calls [`park`](Driver::park) when it has nothing to run,
/// and [`unpark`](Driver::unpark) when it gets work from another thread, can
/// drive weft's sockets and timers. Dropping the driver shuts it down: every
/// pending I/O operation fails and every timer fires.
///
/// # Examples
///
/// A minimal executor: poll one future, park in the driver while it is
/// pending.
///
/// ```
/// use std::future::Future;
/// use std::pin::pin;
/// use std::sync::Arc;
/// use std::task::{Context, Wake, Waker};
/// use std::time::Duration;
/// use weft_reactor::Driver;
///
/// struct Unpark(weft_reactor::Handle);
/// impl Wake for Unpark {
///     fn wake(self: Arc<Self>) {
///         self.0.unpark();
///     }
/// }
///
/// let driver = Driver::new().unwrap();
/// let _enter = driver.handle().enter();
/// let waker = Waker::from(Arc::new(Unpark(driver.handle())));
/// let mut cx = Context::from_waker(&waker);
/// let mut sleep = pin!(weft_reactor::time::sleep(Duration::from_millis(5)));
/// while sleep.as_mut().poll(&mut cx).is_pending() {
///     driver.park(None);
/// }
/// ```
pub struct Driver {
    handle: Handle,
}

/// A reference to a [`Driver`]: registers resources and timers with it,
/// and interrupts its park. Cheap to clone.
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: Arc<Inner>,
}

// ANCHOR: driver-inner
pub(crate) struct Inner {
    /// Registers sources; a clone of the poll's registry.
    registry: mio::Registry,
    waker: mio::Waker,
    /// The registered resources, by the key in their token.
    resources: Mutex<Resources>,
    /// How many resources are registered: written under the `resources`
    /// lock, read without it by a park that need not wait (see `park`).
    live: AtomicUsize,
    /// What only the parking thread touches; `None` once shut down.
    core: Mutex<Option<Core>>,
    pub(crate) time: TimeDriver,
    shutdown: AtomicBool,
}

struct Resources {
    slab: slab::Slab<Arc<ScheduledIo>>,
    generation: u32,
}

impl Resources {
    /// The resource an event for `token` is meant for: `None` if its slot
    /// was freed, or freed and reused by another resource (whose token has
    /// another generation), since the event was queued.
    fn owner(&self, token: mio::Token) -> Option<&Arc<ScheduledIo>> {
        self.slab.get(token.0 & KEY_MASK).filter(|io| io.token() == token)
    }
}

struct Core {
    poll: mio::Poll,
    events: mio::Events,
    wakers: Vec<Waker>,
}
// ANCHOR_END: driver-inner

thread_local! {
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
}

/// The error for work that needs a reactor where none is entered.
pub(crate) fn no_reactor() -> io::Error {
    io::Error::other(
        "no weft reactor is running on this thread: use weft's sockets inside a weft runtime \
         (`weft::Runtime::block_on`, `weft::block_on` or a task), or enter a driver's handle",
    )
}

/// The error for I/O on a resource whose driver has shut down.
pub(crate) fn shut_down() -> io::Error {
    io::Error::other("the weft reactor this resource was registered with has shut down")
}

impl Driver {
    /// Creates a driver: an epoll instance, an eventfd to interrupt it, and
    /// an empty timer wheel.
    ///
    /// # Errors
    ///
    /// Whatever the operating system says when it refuses to create them
    /// (the process is out of file descriptors, for example).
    pub fn new() -> io::Result<Driver> {
        Driver::with_clock(Clock::new(false))
    }

    /// A driver whose clock starts paused (see [`crate::time::pause`]).
    ///
    /// # Errors
    ///
    /// As [`Driver::new`].
    pub fn new_paused() -> io::Result<Driver> {
        Driver::with_clock(Clock::new(true))
    }

    // ANCHOR: driver-new
    fn with_clock(clock: Clock) -> io::Result<Driver> {
        let poll = mio::Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = mio::Waker::new(poll.registry(), WAKE_TOKEN)?;
        let inner = Inner {
            registry,
            waker,
            resources: Mutex::new(Resources {
                slab: slab::Slab::new(),
                generation: 0,
            }),
            core: Mutex::new(Some(Core {
                poll,
                events: mio::Events::with_capacity(EVENTS_CAPACITY),
                wakers: Vec::with_capacity(WAKE_BATCH),
            })),
            time: TimeDriver::new(clock),
            live: AtomicUsize::new(0),
            shutdown: AtomicBool::new(false),
        };
        Ok(Driver {
            handle: Handle {
                inner: Arc::new(inner),
            },
        })
    }
    // ANCHOR_END: driver-new

    /// A handle to register resources and timers with this driver.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Waits until a resource is ready, a timer is due, `timeout` elapses or
    /// [`unpark`](Driver::unpark) is called; then wakes the tasks waiting on
    /// what happened. `None` waits without a limit (but never past the next
    /// timer); `Some(Duration::ZERO)` only collects what is ready now.
    ///
    /// Meant to be called from one thread at a time; a second concurrent
    /// caller returns at once.
    pub fn park(&self, timeout: Option<Duration>) {
        self.handle.inner.park(timeout, None);
    }

    /// Like [`park`](Driver::park), for an executor that knows nothing at
    /// all is running: with a paused clock, instead of waiting for a timer
    /// that would never come, the clock jumps to the next timer deadline.
    pub fn park_idle(&self, timeout: Option<Duration>) {
        self.handle.inner.park(timeout, Some(&|| true));
    }

    /// Like [`park_idle`](Driver::park_idle), asking `still_idle` right
    /// before the clock jumps: if a task was woken meanwhile (the runtime is
    /// busy again), time stays put and the park returns.
    pub fn park_idle_checked(&self, timeout: Option<Duration>, still_idle: &dyn Fn() -> bool) {
        self.handle.inner.park(timeout, Some(still_idle));
    }

    /// Interrupts the current (or next) [`park`](Driver::park). Callable from
    /// any thread.
    pub fn unpark(&self) {
        self.handle.unpark();
    }

    /// True while the clock is paused: the executor should then report when
    /// it becomes idle, by parking through [`park_idle`](Driver::park_idle).
    pub fn wants_idle_notice(&self) -> bool {
        self.handle.inner.time.clock.is_paused()
    }

    /// Shuts the driver down: pending and future I/O on its resources fails
    /// with an error, every timer fires, and the epoll instance is closed.
    /// Dropping the driver does the same.
    pub fn shutdown(&self) {
        self.handle.inner.shutdown();
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Inner {
    /// Waits for events or the next timer. `idle` is `Some` when the
    /// executor judged the runtime idle: with a paused clock, the clock may
    /// then jump to the next deadline, if `idle` still says so at that
    /// moment.
    // ANCHOR: driver-park
    fn park(&self, timeout: Option<Duration>, idle: Option<&dyn Fn() -> bool>) {
        let Ok(mut guard) = self.core.try_lock() else {
            // Someone else waits in the driver: they will dispatch.
            return;
        };
        let Some(core) = guard.as_mut() else {
            return;
        };
        let time = &self.time;
        if timeout == Some(Duration::ZERO) && idle.is_none() {
            // A look, not a wait: fire what is due (one lock when nothing
            // is), collect readiness if any resource could have some, and
            // announce no wait. No second look at the timers: one falling
            // due meanwhile fires at the next turn.
            time.process_due(&mut core.wakers);
            if self.live.load(Ordering::Acquire) != 0 {
                self.poll_events(core, timeout);
            }
            return;
        }
        // Timers already due need no wait.
        let paused = time.clock.is_paused();
        let (fired, next_timer) = time.process_and_begin_wait(&mut core.wakers, !paused);
        // With a paused clock, real time does not bring timers closer: only
        // an idle runtime moves the clock, straight to the next deadline.
        let advance = paused && idle.is_some() && next_timer.is_some();
        let wait = if fired || advance {
            Some(Duration::ZERO)
        } else if paused {
            timeout
        } else {
            match (timeout, next_timer) {
                (Some(t), Some(n)) => Some(t.min(n)),
                (t, n) => t.or(n),
            }
        };
        // A turn that must not wait, with no resource registered, has no
        // readiness to collect: it is a look at the timers, and spares the
        // system call. (An unpark written meanwhile stays in the eventfd
        // and cuts the next real wait short, which is harmless.) Tasks that
        // yield or spend their budget in a loop take such turns often.
        let woken = if wait == Some(Duration::ZERO) && !advance && self.live.load(Ordering::Acquire) == 0 {
            false
        } else {
            self.poll_events(core, wait)
        };
        time.end_wait();
        let advanced = advance && !woken && !fired && idle.is_some_and(|still_idle| still_idle());
        if advanced {
            // Nothing was ready, nobody called, and no task was woken since
            // the runtime judged itself idle: move time on.
            time.auto_advance();
        }
        if advanced || wait != Some(Duration::ZERO) {
            // Time moved while we waited (or jumped): fire what came due.
            time.process(&mut core.wakers);
        }
    }
    // ANCHOR_END: driver-park

    /// One `epoll_wait`, then readiness dispatch. Returns true if anything
    /// happened: an unpark or a ready resource.
    // ANCHOR: dispatch
    fn poll_events(&self, core: &mut Core, wait: Option<Duration>) -> bool {
        match core.poll.poll(&mut core.events, wait) {
            Ok(()) => {}
            // A signal: return early, as `park` may.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return true,
            // Nothing sensible to do with it here but not spin: callers
            // park again and will see the error once more if it persists.
            Err(e) => {
                crate::diag::poll_failed(&e);
                return true;
            }
        }
        if core.events.is_empty() {
            // A timeout: no resource to look up.
            return false;
        }
        let mut resources = lock(&self.resources);
        for event in core.events.iter() {
            let token = event.token();
            if token == WAKE_TOKEN {
                continue;
            }
            let Some(io) = resources.owner(token) else {
                continue;
            };
            io.set_readiness(event, &mut core.wakers);
            if core.wakers.len() >= WAKE_BATCH {
                drop(resources);
                wake_all(&mut core.wakers);
                resources = lock(&self.resources);
            }
        }
        drop(resources);
        wake_all(&mut core.wakers);
        true
    }
    // ANCHOR_END: dispatch

    fn shutdown(&self) {
        if self.shutdown.swap(true, Ordering::SeqCst) {
            return;
        }
        // Wait for a parked thread to leave, then close the epoll instance.
        let _ = self.waker.wake();
        let core = lock(&self.core).take();
        drop(core);
        let resources: Vec<_> = lock(&self.resources)
            .slab
            .iter()
            .map(|(_, io)| io.clone())
            .collect();
        let mut wakers = Vec::new();
        for io in resources {
            io.shut_down(&mut wakers);
        }
        wake_all(&mut wakers);
        self.time.shutdown();
    }
}

pub(crate) fn wake_all(wakers: &mut Vec<Waker>) {
    for waker in wakers.drain(..) {
        waker.wake();
    }
}

impl Handle {
    /// The handle entered on this thread.
    ///
    /// # Errors
    ///
    /// An error of kind `Other` if no driver is entered here (outside any
    /// weft runtime).
    pub fn try_current() -> io::Result<Handle> {
        CURRENT
            .try_with(|current| current.borrow().clone())
            .ok()
            .flatten()
            .ok_or_else(no_reactor)
    }

    /// The handle entered on this thread.
    ///
    /// # Panics
    ///
    /// Panics if no driver is entered here; [`Handle::try_current`] returns
    /// an error instead.
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Ok(handle) => handle,
            Err(e) => panic!("{e}"),
        }
    }

    /// Runs `f` with the current handle, if there is one, without cloning it.
    pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Handle>) -> R) -> R {
        let mut f = Some(f);
        CURRENT
            .try_with(|current| (f.take().expect("called once"))(current.borrow().as_ref()))
            .unwrap_or_else(|_| (f.take().expect("called once"))(None))
    }

    /// Makes this handle the current one on this thread until the guard is
    /// dropped, which restores the previous one. Sockets and timers created
    /// meanwhile register with this driver.
    pub fn enter(&self) -> EnterGuard {
        let previous = CURRENT
            .try_with(|current| current.replace(Some(self.clone())))
            .ok()
            .flatten();
        EnterGuard {
            previous,
            _not_send: std::marker::PhantomData,
        }
    }

    /// Interrupts the driver's current (or next) park. Callable from any
    /// thread.
    pub fn unpark(&self) {
        // Fails only if the eventfd is gone, which shutdown handles.
        let _ = self.inner.waker.wake();
    }

    /// The time on this driver's clock: the paused test clock's time while
    /// it is paused, from any thread.
    pub fn now(&self) -> crate::time::Instant {
        self.clock().now().into()
    }

    /// True once the driver has shut down.
    pub fn is_shutdown(&self) -> bool {
        self.inner.shutdown.load(Ordering::Acquire)
    }

    // ANCHOR: register
    /// Registers `source` for `interest`, returning its shared readiness.
    pub(crate) fn register(
        &self,
        source: &mut impl mio::event::Source,
        interest: mio::Interest,
    ) -> io::Result<Arc<ScheduledIo>> {
        if self.is_shutdown() {
            return Err(shut_down());
        }
        let io = {
            let mut resources = lock(&self.inner.resources);
            let entry = resources.slab.vacant_entry();
            let key = entry.key();
            if key >= KEY_MASK {
                return Err(io::Error::other("too many resources registered with one driver"));
            }
            resources.generation = resources.generation.wrapping_add(1);
            // On a 32-bit target the shift drops the generation's high half.
            let generation = resources.generation as usize;
            let token = mio::Token(key | (generation << KEY_BITS));
            let io = Arc::new(ScheduledIo::new(token));
            resources.slab.insert(io.clone());
            self.inner.live.store(resources.slab.len(), Ordering::Release);
            io
        };
        if let Err(e) = self.inner.registry.register(source, io.token(), interest) {
            self.release(&io);
            return Err(e);
        }
        Ok(io)
    }
    // ANCHOR_END: register

    /// Deregisters `source` and frees its slot.
    pub(crate) fn deregister(&self, source: &mut impl mio::event::Source, io: &Arc<ScheduledIo>) {
        // After shutdown the epoll instance may be gone; closing the fd
        // removes it from epoll anyway.
        if let Err(e) = self.inner.registry.deregister(source) {
            crate::diag::deregister_failed(&e);
        }
        self.release(io);
    }

    // ANCHOR: release
    fn release(&self, io: &Arc<ScheduledIo>) {
        let mut resources = lock(&self.inner.resources);
        let key = io.token().0 & KEY_MASK;
        if resources.slab.get(key).is_some_and(|held| Arc::ptr_eq(held, io)) {
            resources.slab.remove(key);
            self.inner.live.store(resources.slab.len(), Ordering::Release);
        }
    }
    // ANCHOR_END: release

    /// How many resources are registered.
    pub(crate) fn num_resources(&self) -> usize {
        lock(&self.inner.resources).slab.len()
    }

    /// The driver's clock.
    pub(crate) fn clock(&self) -> &Clock {
        &self.inner.time.clock
    }
}

// Alike to weft-primitives' spawner `EnterGuard` (a `duplicates` pair,
// left): each restores its own crate's thread-local; neither knows the other.
/// Restores the previously entered handle when dropped.
pub struct EnterGuard {
    previous: Option<Handle>,
    /// Thread-local state: the guard must be dropped where it was made.
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = CURRENT.try_with(|current| *current.borrow_mut() = previous);
    }
}

impl fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver").field("handle", &self.handle).finish()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("resources", &self.num_resources())
            .field("time", &self.inner.time)
            .field("shutdown", &self.is_shutdown())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_for_a_freed_and_reused_slot_finds_no_owner() {
        let driver = Driver::new().unwrap();
        let handle = driver.handle();
        let mut first = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let first_io = handle.register(&mut first, mio::Interest::READABLE).unwrap();
        let stale = first_io.token();
        handle.deregister(&mut first, &first_io);
        assert!(lock(&handle.inner.resources).owner(stale).is_none(), "freed");

        let mut second = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let second_io = handle.register(&mut second, mio::Interest::READABLE).unwrap();
        let fresh = second_io.token();
        assert_eq!(fresh.0 & KEY_MASK, stale.0 & KEY_MASK, "the slab reused the slot");
        assert_ne!(fresh, stale);
        let resources = lock(&handle.inner.resources);
        assert!(resources.owner(stale).is_none(), "reused by another resource");
        assert!(
            resources
                .owner(fresh)
                .is_some_and(|io| Arc::ptr_eq(io, &second_io))
        );
        drop(resources);
        handle.deregister(&mut second, &second_io);
    }
}
