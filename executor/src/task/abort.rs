//! `AbortHandle`: cancelling a task without owning its output.

use super::Id;
use super::join::abort_raw;
use super::raw::RawTask;
use std::fmt;

/// A handle that can cancel a task but not await it.
///
/// Made by [`JoinHandle::abort_handle`](crate::task::JoinHandle::abort_handle)
/// or returned by [`JoinSet::spawn`](crate::task::JoinSet::spawn). It is
/// `Send` and `Sync`, so it can be shared; dropping it does
/// nothing to the task.
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
///     let abort = handle.abort_handle();
///     std::thread::spawn(move || abort.abort()).join().unwrap();
///     assert!(handle.await.unwrap_err().is_cancelled());
/// });
/// ```
pub struct AbortHandle {
    raw: RawTask,
}

impl AbortHandle {
    /// Takes over a reference the caller owns.
    pub(super) fn new(raw: RawTask) -> AbortHandle {
        AbortHandle { raw }
    }

    /// Cancels the task, as [`JoinHandle::abort`](crate::task::JoinHandle::abort) does.
    pub fn abort(&self) {
        abort_raw(self.raw);
    }

    /// Returns true once the task has finished: completed, panicked or been
    /// cancelled. Does not wait.
    pub fn is_finished(&self) -> bool {
        self.raw.state().load().is_complete()
    }

    /// The task's [`Id`], the same as its `JoinHandle`'s.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_executor as weft;
    /// use weft::Runtime;
    ///
    /// let rt = Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = weft::spawn(async {});
    ///     assert_eq!(handle.abort_handle().id(), handle.id());
    /// });
    /// ```
    pub fn id(&self) -> Id {
        self.raw.header().id()
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        self.raw.drop_reference();
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}
