//! `block_on`: run one future to completion on the calling thread.
//!
//! The thread sleeps in `std::thread::park` while the future is pending, and
//! the future's waker unparks it. The waker is made once per thread and
//! cached, so a `block_on` call allocates nothing, and neither does a poll.

use crate::context;
use crate::coop;
use crate::park::DriverSlot;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
// Real thread parking, which loom does not model; `block_on` is exercised by
// ordinary tests instead.
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

/// Runs `future` to completion on the current thread, blocking it while the
/// future is pending, and returns its output.
///
/// This drives only the one future: it does not start a runtime, so futures
/// that need one (spawning tasks, timers, sockets) belong inside
/// [`Runtime::block_on`](crate::Runtime::block_on) instead.
///
/// # Panics
///
/// Panics if called from a thread that is already driving asynchronous work —
/// a runtime worker, or inside another `block_on` — since blocking there
/// would stall every task that thread runs. Use `.await`, or move the
/// blocking code to [`spawn_blocking`](crate::task::spawn_blocking).
///
/// # Examples
///
/// ```
/// let answer = weft_executor::block_on(async { 6 * 7 });
/// assert_eq!(answer, 42);
/// ```
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    let Some(_driving) = context::try_enter_driving() else {
        panic!("{}", context::NESTED_BLOCK_ON);
    };
    run_until_ready(future, None)
}

/// Polls `future` until ready, parking the thread in between. With a
/// runtime's `driver`, the thread counts as busy there except while parked.
pub(crate) fn run_until_ready<F: Future>(future: F, driver: Option<&DriverSlot>) -> F::Output {
    /// Ends the activity however `block_on` leaves, a panic included.
    struct Busy<'a>(Option<&'a DriverSlot>);
    impl Drop for Busy<'_> {
        fn drop(&mut self) {
            if let Some(driver) = self.0 {
                driver.end_activity();
            }
        }
    }
    let mut future = pin!(future);
    let parker = CachedParker::get();
    let waker = parker.waker();
    let mut cx = Context::from_waker(&waker);
    if let Some(driver) = driver {
        driver.begin_activity();
    }
    let _busy = Busy(driver);
    loop {
        if let Poll::Ready(output) = coop::with_budget(|| future.as_mut().poll(&mut cx)) {
            return output;
        }
        if let Some(driver) = driver {
            driver.end_activity();
            parker.park();
            driver.begin_activity();
        } else {
            parker.park();
        }
    }
}

/// A thread's parking spot, made once per thread.
pub(crate) struct CachedParker {
    inner: Arc<ThreadParker>,
}

struct ThreadParker {
    thread: Thread,
    notified: AtomicBool,
}

std::thread_local! {
    static PARKER: Arc<ThreadParker> = Arc::new(ThreadParker {
        thread: thread::current(),
        notified: AtomicBool::new(false),
    });
}

impl CachedParker {
    pub(crate) fn get() -> CachedParker {
        let inner = PARKER.try_with(Arc::clone).unwrap_or_else(|_| {
            // Thread-locals are being torn down: use a one-off parker.
            Arc::new(ThreadParker {
                thread: thread::current(),
                notified: AtomicBool::new(false),
            })
        });
        CachedParker { inner }
    }

    /// A waker that unparks this thread; cloning it allocates nothing.
    pub(crate) fn waker(&self) -> Waker {
        Waker::from(self.inner.clone())
    }

    /// Sleeps until the waker is woken (returns at once if it already was).
    pub(crate) fn park(&self) {
        while !self.inner.notified.swap(false, Ordering::Acquire) {
            thread::park();
        }
    }
}

impl Wake for ThreadParker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.notified.swap(true, Ordering::Release) {
            self.thread.unpark();
        }
    }
}
