//! `Sleep`: a future that completes at a deadline.

use super::Instant;
use super::wheel::TimerKey;
use crate::driver::Handle;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Waits until `duration` has passed.
///
/// The deadline is fixed when `sleep` is called. A `duration` up to
/// `Duration::MAX` saturates about thirty years ahead instead of
/// overflowing; a zero duration completes on the first poll.
///
/// # Panics
///
/// The returned future panics when first polled if it is pending and no weft
/// runtime (or entered reactor) is on the polling thread.
///
/// # Examples
///
/// ```
/// # use weft_reactor as weft;
/// # let driver = weft_reactor::Driver::new().unwrap();
/// # let _enter = driver.handle().enter();
/// # let waker = std::task::Waker::noop();
/// # let mut cx = std::task::Context::from_waker(&waker);
/// use std::time::Duration;
/// use weft::time::{Instant, sleep};
///
/// let start = Instant::now();
/// let mut nap = std::pin::pin!(sleep(Duration::from_millis(10)));
/// // In a task: `nap.await`. By hand, with the driver:
/// while nap.as_mut().poll(&mut cx).is_pending() {
///     driver.park(None);
/// }
/// assert!(start.elapsed() >= Duration::from_millis(10));
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    Sleep::new(Instant::now().saturating_add(duration))
}

/// Waits until `deadline`. A deadline in the past completes on the first
/// poll.
///
/// # Panics
///
/// As [`sleep`].
///
/// # Examples
///
/// ```
/// # use weft_reactor as weft;
/// # let driver = weft_reactor::Driver::new().unwrap();
/// # let _enter = driver.handle().enter();
/// # let waker = std::task::Waker::noop();
/// # let mut cx = std::task::Context::from_waker(&waker);
/// use std::time::Duration;
/// use weft::time::{Instant, sleep_until};
///
/// let past = Instant::now() - Duration::from_secs(5);
/// let mut late = std::pin::pin!(sleep_until(past));
/// assert!(late.as_mut().poll(&mut cx).is_ready());
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline)
}

/// The future [`sleep`] and [`sleep_until`] return.
///
/// A `Sleep` takes a place in its driver's timer wheel only once it has been
/// polled and found pending, and gives it back when dropped: creating and
/// dropping sleeps costs no memory that stays. It is `Unpin`.
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    entry: Option<Entry>,
    elapsed: bool,
    /// The deadline is a tick or more after a clock reading taken just
    /// before the first poll: that poll need not ask whether it has passed.
    ahead: bool,
}

/// A registered timer: its driver and its place in the wheel.
struct Entry {
    handle: Handle,
    key: TimerKey,
}

impl Sleep {
    pub(crate) fn new(deadline: Instant) -> Sleep {
        Sleep {
            deadline,
            entry: None,
            elapsed: false,
            ahead: false,
        }
    }

    // ANCHOR: sleep-armed-now
    /// A sleep of `span` from now that is polled at once: a `timeout`'s,
    /// made by the first poll that finds its future pending. With a span of
    /// a tick or more, the deadline cannot have passed by then, so that poll
    /// goes straight to the wheel without asking the clock. (A thread
    /// descheduled for longer than the span in between only makes the
    /// timer fire at the driver's next turn: late by a turn, never early.)
    pub(crate) fn armed_now(span: Duration) -> Sleep {
        let mut sleep = sleep(span);
        sleep.ahead = span >= Duration::from_millis(1);
        sleep
    }
    // ANCHOR_END: sleep-armed-now

    /// The instant this sleep completes at.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// True once the sleep has completed.
    pub fn is_elapsed(&self) -> bool {
        self.elapsed
    }

    /// Moves the deadline, earlier or later, whether or not the sleep has
    /// completed: it is pending again until the new deadline. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # let driver = weft_reactor::Driver::new_paused().unwrap();
    /// # let _enter = driver.handle().enter();
    /// # let waker = std::task::Waker::noop();
    /// # let mut cx = std::task::Context::from_waker(&waker);
    /// use std::future::Future;
    /// use std::time::Duration;
    /// use weft::time::{Instant, sleep};
    ///
    /// let mut nap = sleep(Duration::from_secs(60));
    /// assert!(std::pin::Pin::new(&mut nap).poll(&mut cx).is_pending());
    /// nap.reset(Instant::now());
    /// assert!(std::pin::Pin::new(&mut nap).poll(&mut cx).is_ready());
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        self.elapsed = false;
        self.ahead = false;
        if let Some(entry) = &self.entry {
            entry.handle.reset_timer(entry.key, deadline.into_std());
        }
    }

    /// Polls the sleep; the same as `Future::poll` on an `Unpin` value.
    pub fn poll_elapsed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.elapsed {
            return Poll::Ready(());
        }
        let result = match &self.entry {
            Some(entry) => {
                let time = &entry.handle.inner.time;
                time.poll(entry.key, self.deadline.into_std(), cx.waker())
            }
            None => self.register(cx),
        };
        if result.is_ready() {
            self.elapsed = true;
        }
        result
    }

    // ANCHOR: sleep-register
    /// First pending poll: take a place in the current driver's wheel.
    fn register(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = self.deadline.into_std();
        Handle::with_current(|handle| {
            let Some(handle) = handle else {
                panic!(
                    "`weft::time::Sleep` polled outside a weft runtime: timers need one on the polling thread"
                );
            };
            match handle.register_timer(deadline, cx.waker(), self.ahead) {
                Some(key) => {
                    self.entry = Some(Entry {
                        handle: handle.clone(),
                        key,
                    });
                    Poll::Pending
                }
                // Due already, or the driver has shut down.
                None => Poll::Ready(()),
            }
        })
    }
    // ANCHOR_END: sleep-register
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().poll_elapsed(cx)
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(entry) = self.entry.take() {
            entry.handle.inner.time.remove(entry.key);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("registered", &self.entry.is_some())
            .field("elapsed", &self.elapsed)
            .finish_non_exhaustive()
    }
}
