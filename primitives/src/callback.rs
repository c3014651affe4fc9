//! Callbacks: timers, task completion, and bridges between callbacks and
//! futures, both ways.
//!
//! Every callback here runs on a runtime thread — as a job on the current
//! [spawner](crate::spawner)'s event loop, or at the end of the task it
//! waits for — and never inside the call that registered it. A callback that
//! panics is caught (the panic hook has already printed it); the loop, the
//! worker and the other callbacks go on.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use weft::callback::{from_callback, set_timeout};
//!
//! weft::block_on(async {
//!     // A callback-style API, turned into a future.
//!     let fired = from_callback(|done| {
//!         set_timeout(Duration::from_millis(5), move || done("ding"));
//!     });
//!     assert_eq!(fired.await, Ok("ding"));
//! });
//! ```

use crate::event_loop::TimerId;
use crate::spawner::Spawner;
use crate::sync::oneshot;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// A callback timer set by [`set_timeout`]; cancel it with
/// [`cancel`](TimerHandle::cancel).
///
/// Dropping the handle does not cancel the timer (as in JavaScript, where
/// `clearTimeout` is the only way): it fires anyway. It is dropped unrun if
/// the runtime shuts down first.
#[derive(Clone)]
pub struct TimerHandle {
    spawner: Spawner,
    id: TimerId,
}

/// A repeating callback timer set by [`set_interval`]; stop it with
/// [`cancel`](IntervalHandle::cancel).
///
/// Dropping the handle does not stop the interval: it ticks until
/// cancelled (from anywhere, its own callback included) or until the
/// runtime shuts down.
#[derive(Clone)]
pub struct IntervalHandle {
    spawner: Spawner,
    id: TimerId,
}

impl TimerHandle {
    pub(crate) fn new(spawner: Spawner, id: TimerId) -> TimerHandle {
        TimerHandle { spawner, id }
    }

    /// Cancels the timer; true if it had not fired (its callback will not
    /// run), false if it already had.
    pub fn cancel(&self) -> bool {
        self.spawner.event_loop().cancel_timer(self.id)
    }

    /// True while the timer has yet to fire.
    pub fn is_pending(&self) -> bool {
        self.spawner.event_loop().timer_is_pending(self.id)
    }
}

impl IntervalHandle {
    pub(crate) fn new(spawner: Spawner, id: TimerId) -> IntervalHandle {
        IntervalHandle { spawner, id }
    }

    /// Stops the interval; true if it was running. Called from the
    /// interval's own callback, the current tick finishes and no other runs.
    pub fn cancel(&self) -> bool {
        self.spawner.event_loop().cancel_timer(self.id)
    }

    /// True until the interval is cancelled.
    pub fn is_active(&self) -> bool {
        self.spawner.event_loop().timer_is_pending(self.id)
    }
}

impl fmt::Debug for TimerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerHandle")
            .field("pending", &self.is_pending())
            .finish()
    }
}

impl fmt::Debug for IntervalHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntervalHandle")
            .field("active", &self.is_active())
            .finish()
    }
}

/// Runs `callback` once, `delay` from now (JavaScript's `setTimeout`), as a
/// job on the current spawner's event loop. Timers fire in deadline order,
/// those with equal deadlines in the order they were set; the jobs a
/// callback queues run before the next timer fires.
///
/// A zero delay fires on the loop's next turn, never inside this call. A
/// delay too large for the clock saturates. Dropping the [`TimerHandle`]
/// does not cancel the timer.
///
/// # Panics
///
/// Panics where no spawner is current (outside a weft runtime with no
/// [`Spawner::enter`] guard); [`Spawner::set_timeout`] names one.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft::callback::set_timeout;
/// use weft::sync::oneshot;
///
/// weft::block_on(async {
///     let (tx, rx) = oneshot::channel();
///     let timer = set_timeout(Duration::from_millis(10), move || {
///         let _ = tx.send("fired");
///     });
///     assert!(timer.is_pending());
///     assert_eq!(rx.await, Ok("fired"));
///     assert!(!timer.cancel()); // too late: it fired
/// });
/// ```
#[track_caller]
pub fn set_timeout(delay: Duration, callback: impl FnOnce() + Send + 'static) -> TimerHandle {
    Spawner::current().set_timeout(delay, callback)
}

/// Runs `callback` every `period` (JavaScript's `setInterval`), the first
/// time `period` from now. A tick counts from the end of the previous one,
/// so a slow callback delays the next tick instead of bunching them.
///
/// # Panics
///
/// Panics where no spawner is current; [`Spawner::set_interval`] names one.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft::callback::set_interval;
/// use weft::sync::mpsc;
///
/// weft::block_on(async {
///     let (tx, mut rx) = mpsc::unbounded_channel();
///     let mut n = 0;
///     let ticker = set_interval(Duration::from_millis(1), move || {
///         n += 1;
///         let _ = tx.send(n);
///     });
///     assert_eq!(rx.recv().await, Some(1));
///     assert_eq!(rx.recv().await, Some(2));
///     assert!(ticker.cancel());
/// });
/// ```
#[track_caller]
pub fn set_interval(period: Duration, callback: impl FnMut() + Send + 'static) -> IntervalHandle {
    Spawner::current().set_interval(period, callback)
}

/// Starts `future` as a task and runs `callback` with its output when it
/// completes, on the task's thread. If the future panics, the callback does
/// not run (the panic is reported by the panic hook); if the callback
/// panics, the panic is caught there and the worker goes on.
///
/// # Panics
///
/// Panics where no spawner is current.
///
/// # Examples
///
/// ```
/// use weft::callback::on_complete;
/// use weft::sync::oneshot;
///
/// weft::block_on(async {
///     let (tx, rx) = oneshot::channel();
///     on_complete(async { 6 * 7 }, move |answer| {
///         let _ = tx.send(answer);
///     });
///     assert_eq!(rx.await, Ok(42));
/// });
/// ```
// ANCHOR: on-complete
#[track_caller]
pub fn on_complete<F>(future: F, callback: impl FnOnce(F::Output) + Send + 'static)
where
    F: Future + Send + 'static,
{
    Spawner::current().spawn(async move {
        let output = future.await;
        if let Err(panic) = catch_unwind(AssertUnwindSafe(move || callback(output))) {
            crate::diag::callback_panicked("on_complete", &*panic);
        }
    });
}
// ANCHOR_END: on-complete

/// Turns a fallible future into an error-first callback API, as Node's
/// `util.callbackify`: the future runs as a task, and `callback` gets its
/// `Result`. The same machinery as [`on_complete`].
///
/// # Panics
///
/// Panics where no spawner is current.
///
/// # Examples
///
/// ```
/// use weft::callback::into_callback;
///
/// fn fetch_user(id: u32, callback: impl FnOnce(Result<String, String>) + Send + 'static) {
///     into_callback(async move { Ok(format!("user {id}")) }, callback);
/// }
///
/// weft::block_on(async {
///     let (tx, rx) = weft::sync::oneshot::channel();
///     fetch_user(7, move |user| drop(tx.send(user)));
///     assert_eq!(rx.await.unwrap().as_deref(), Ok("user 7"));
/// });
/// ```
#[track_caller]
pub fn into_callback<T, E, F>(future: F, callback: impl FnOnce(Result<T, E>) + Send + 'static)
where
    F: Future<Output = Result<T, E>> + Send + 'static,
{
    on_complete(future, callback);
}

// ANCHOR: from-callback
/// The callback [`from_callback`] hands out: call it once with the value.
pub type Done<T> = Box<dyn FnOnce(T) + Send + 'static>;

/// Turns a callback-style API into a future: `register` runs at once with a
/// [`Done`] callback, and the future completes with the value `done` is
/// called with. If `done` is dropped uncalled (the API lost it, or
/// `register` panicked), the future completes with [`CallbackDropped`]
/// instead of hanging.
///
/// Runtime-agnostic: the future can be awaited anywhere.
///
/// # Examples
///
/// ```
/// use weft::callback::{CallbackDropped, from_callback};
///
/// fn legacy(n: u32, on_done: impl FnOnce(u32) + Send + 'static) {
///     std::thread::spawn(move || on_done(n * 2));
/// }
///
/// weft::block_on(async {
///     assert_eq!(from_callback(|done| legacy(21, done)).await, Ok(42));
///     let lost = from_callback::<u32>(|done| drop(done));
///     assert_eq!(lost.await, Err(CallbackDropped));
/// });
/// ```
pub fn from_callback<T: Send + 'static>(register: impl FnOnce(Done<T>)) -> FromCallback<T> {
    let (tx, rx) = oneshot::channel();
    let done: Done<T> = Box::new(move |value| {
        let _ = tx.send(value);
    });
    // A panic drops `done`, which the future reports as CallbackDropped.
    let _ = catch_unwind(AssertUnwindSafe(move || register(done)));
    FromCallback { rx }
}

/// The future of [`from_callback`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct FromCallback<T> {
    rx: oneshot::Receiver<T>,
}

impl<T> Future for FromCallback<T> {
    type Output = Result<T, CallbackDropped>;

    /// Cancel-safe: a value sent after the future is dropped is dropped.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|r| r.map_err(|_| CallbackDropped))
    }
}
// ANCHOR_END: from-callback

/// The `done` callback of [`from_callback`] was dropped without being
/// called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackDropped;

impl fmt::Display for CallbackDropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the completion callback was dropped without being called")
    }
}

impl std::error::Error for CallbackDropped {}
