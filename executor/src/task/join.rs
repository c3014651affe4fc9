//! `JoinHandle`: awaiting a spawned task's output.

use super::Id;
use super::abort::AbortHandle;
use super::error::JoinError;
use super::raw::{Output, RawTask};
use super::state::TransitionToNotifiedAndCancel;
use crate::coop;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

/// An owned permission to await a spawned task's output.
///
/// `JoinHandle<T>` is a future resolving to `Result<T, JoinError>`: `Ok` with
/// the task's value, or `Err` if the task was cancelled or panicked.
///
/// Dropping a `JoinHandle` *detaches* the task: it keeps running, and its
/// output is dropped when it completes. To stop the task, call
/// [`abort`](JoinHandle::abort).
///
/// # Cancel safety
///
/// Awaiting a `JoinHandle` is cancel safe: if the `.await` is dropped before
/// it completes, nothing is lost, and the handle can be awaited again later.
///
/// # Panics
///
/// Polling a `JoinHandle` again after it returned `Ready` panics, as for any
/// future polled after completion.
///
/// # Examples
///
/// ```
/// # use weft_executor as weft;
/// use weft::Runtime;
///
/// let rt = Runtime::new().unwrap();
/// let sum = rt.block_on(async {
///     let handle = weft::spawn(async { 1 + 2 });
///     handle.await.unwrap()
/// });
/// assert_eq!(sum, 3);
/// ```
pub struct JoinHandle<T> {
    raw: RawTask,
    /// The output was moved out: the handle is spent.
    output_taken: bool,
    _output: PhantomData<T>,
}

// `JoinHandle<T>` is `Send` when `T: Send`, through `PhantomData<T>` (the
// raw pointer's part is `Send` already). It is also `Sync` when `T: Send`:
// the methods taking `&self` touch only the atomic state word, never `T`.
// SAFETY: as just argued, `&JoinHandle<T>` gives no access to a `T`.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// Takes over the reference the caller owns.
    pub(super) fn new(raw: RawTask) -> JoinHandle<T> {
        JoinHandle {
            raw,
            output_taken: false,
            _output: PhantomData,
        }
    }

    /// Cancels the task.
    ///
    /// If the task is idle, its future is dropped the next time the scheduler
    /// reaches it, on a thread of the runtime; if it is being polled right
    /// now, it is dropped as soon as that poll ends. Awaiting the handle then
    /// gives a [`JoinError`] for which `is_cancelled()` is true — unless the
    /// task completed first, in which case its value is returned as usual.
    /// Aborting a finished task does nothing.
    ///
    /// A task started by `spawn_blocking` cannot be stopped once it runs;
    /// aborting it before it starts cancels it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_executor as weft;
    /// use std::future::pending;
    /// use weft::Runtime;
    ///
    /// let rt = Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = weft::spawn(pending::<()>());
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        abort_raw(self.raw);
    }

    /// Returns true once the task has finished: completed, panicked or been
    /// cancelled. Does not wait.
    pub fn is_finished(&self) -> bool {
        self.raw.state().load().is_complete()
    }

    /// The task's [`Id`]: the value [`task::id`](crate::task::id) returns
    /// inside it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_executor as weft;
    /// use weft::{task, Runtime};
    ///
    /// let rt = Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let a = weft::spawn(async { task::id() });
    ///     let b = weft::spawn(async {});
    ///     assert_ne!(a.id(), b.id());
    ///     let id = a.id();
    ///     assert_eq!(a.await.unwrap(), id);
    /// });
    /// ```
    pub fn id(&self) -> Id {
        self.raw.header().id()
    }

    /// Returns a handle that can abort the task without owning its output.
    pub fn abort_handle(&self) -> AbortHandle {
        self.raw.state().ref_inc();
        AbortHandle::new(self.raw)
    }
}

// ANCHOR: join-abort
/// Cancels the task behind `raw` (shared by `JoinHandle` and `AbortHandle`).
pub(super) fn abort_raw(raw: RawTask) {
    if raw.state().transition_to_notified_and_cancel() == TransitionToNotifiedAndCancel::Submit {
        // The state took a reference for the `Notified`; the scheduler drops
        // the future on one of its threads.
        raw.schedule();
    }
}
// ANCHOR_END: join-abort

// ANCHOR: join-poll
impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(
            !this.output_taken,
            "`JoinHandle` polled after it returned `Ready`"
        );
        std::task::ready!(coop::poll_budget(cx));
        let mut out: Poll<Output<T>> = Poll::Pending;
        // SAFETY: `out` is a `Poll<Output<T>>` for this task's `T`, and we are
        // its `JoinHandle`.
        unsafe {
            this.raw
                .try_read_output(NonNull::from(&mut out).cast(), cx.waker())
        };
        match out {
            Poll::Pending => Poll::Pending,
            Poll::Ready(output) => {
                this.output_taken = true;
                coop::consume_one();
                let id = this.raw.header().id();
                Poll::Ready(output.map_err(|failure| JoinError::new(id, failure)))
            }
        }
    }
}
// ANCHOR_END: join-poll

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        // SAFETY: we are the task's `JoinHandle`, dropping it once.
        unsafe { self.raw.drop_join_handle(self.output_taken) };
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .field("output_taken", &self.output_taken)
            .finish()
    }
}
