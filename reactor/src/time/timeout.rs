//! `timeout`: a future with a deadline.

use super::{Instant, Sleep};
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Runs `future` for at most `duration`: its output as `Ok`, or
/// `Err(Elapsed)` if the time ran out first (the future is then dropped
/// when the `Timeout` is).
///
/// The future is polled before the deadline is checked, so a future that is
/// ready at once succeeds even with a zero duration. The `duration` counts
/// from the first poll that finds the future pending: `timeout(d, f).await`
/// gives `f` a span of `d` to finish in, and a future that is ready at once
/// costs no clock reading and never touches the timer wheel. (tokio fixes
/// the deadline when `timeout` is called; with `.await` straight after, the
/// two are the same.) For a deadline fixed now, use
/// [`timeout_at`]`(Instant::now() + d, f)`. A `duration` up to
/// `Duration::MAX` saturates.
///
/// # Examples
///
/// ```
/// # use weft_reactor as weft;
/// # let driver = weft_reactor::Driver::new_paused().unwrap();
/// # let _enter = driver.handle().enter();
/// # let waker = std::task::Waker::noop();
/// # let mut cx = std::task::Context::from_waker(&waker);
/// use std::future::{Future, pending, ready};
/// use std::time::Duration;
/// use weft::time::timeout;
///
/// let mut quick = std::pin::pin!(timeout(Duration::from_secs(1), ready(7)));
/// assert_eq!(quick.as_mut().poll(&mut cx), std::task::Poll::Ready(Ok(7)));
///
/// let mut stuck = std::pin::pin!(timeout(Duration::from_secs(1), pending::<()>()));
/// # while stuck.as_mut().poll(&mut cx).is_pending() { driver.park_idle(None); }
/// // awaited: `stuck.await` is `Err(Elapsed)` after one (paused) second.
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future,
        span: duration,
        sleep: None,
    }
}

/// Runs `future` until `deadline` at the latest; see [`timeout`]. A
/// deadline in the past still lets a future that is ready at once succeed.
///
/// # Examples
///
/// ```
/// # use weft_reactor as weft;
/// # let driver = weft_reactor::Driver::new_paused().unwrap();
/// # let _enter = driver.handle().enter();
/// use std::future::pending;
/// use std::time::Duration;
/// use weft::time::{Instant, timeout_at};
///
/// let deadline = Instant::now() + Duration::from_secs(5);
/// let stuck = std::pin::pin!(timeout_at(deadline, pending::<()>()));
/// assert_eq!(stuck.deadline(), Some(deadline));
/// ```
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        future,
        span: Duration::ZERO,
        sleep: Some(super::sleep_until(deadline)),
    }
}

pin_project_lite::pin_project! {
    /// The future [`timeout`] and [`timeout_at`] return.
    #[must_use = "futures do nothing unless awaited"]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        // The span of a `timeout` (zero, unused, for a `timeout_at`).
        span: Duration,
        // Made at the first pending poll of a `timeout`; at once by
        // `timeout_at`.
        sleep: Option<Sleep>,
    }
}

impl<F> Timeout<F> {
    /// The wrapped future.
    pub fn get_ref(&self) -> &F {
        &self.future
    }

    /// The wrapped future, mutably.
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.future
    }

    /// Drops the deadline and returns the future.
    pub fn into_inner(self) -> F {
        self.future
    }

    /// The deadline: `None` for a [`timeout`] whose future has not yet
    /// been found pending, since its span starts then.
    pub fn deadline(&self) -> Option<Instant> {
        self.sleep.as_ref().map(Sleep::deadline)
    }
}

// ANCHOR: timeout-poll
impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        let span = *this.span;
        let sleep = this.sleep.get_or_insert_with(|| Sleep::armed_now(span));
        match sleep.poll_elapsed(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}
// ANCHOR_END: timeout-poll

impl<F: fmt::Debug> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("future", &self.future)
            .field("span", &self.span)
            .field("sleep", &self.sleep)
            .finish()
    }
}

/// The error of a [`Timeout`] whose deadline passed first.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for Elapsed {}

impl From<Elapsed> for io::Error {
    fn from(elapsed: Elapsed) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, elapsed)
    }
}
