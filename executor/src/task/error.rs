//! `JoinError`: why a task produced no value.

use super::Id;
use std::any::Any;
use std::fmt;
use std::io;
// std's `Arc`, not the loom shim's: the cancellation marker lives in a
// `static`, and these cells order no task memory.
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// The error a [`JoinHandle`](crate::task::JoinHandle) gives when its task
/// produced no value: it was cancelled, or it panicked.
///
/// A cancelled task was aborted ([`JoinHandle::abort`](crate::task::JoinHandle::abort),
/// [`AbortHandle::abort`](crate::task::AbortHandle::abort)) or its runtime shut
/// down before it finished. A panicked task panicked while being polled or
/// while its future was being dropped; the panic was caught, the worker went
/// on, and the payload is kept here for [`into_panic`](JoinError::into_panic).
///
/// The error carries the failed task's [`id`](JoinError::id); unlike tokio's,
/// its `Display` text leaves the id out ("task was cancelled").
///
/// # Examples
///
/// ```
/// # use weft_executor as weft;
/// use weft::Runtime;
///
/// let rt = Runtime::builder().current_thread().build().unwrap();
/// let err = rt.block_on(async {
///     weft::spawn(async { panic!("boom") }).await.unwrap_err()
/// });
/// assert!(err.is_panic());
/// assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "boom");
/// ```
pub struct JoinError {
    id: Id,
    failure: Failure,
}

// ANCHOR: join-error-repr
/// Why a task produced no value, as the task's output slot stores it (the
/// `JoinHandle` adds the task's id when it hands a [`JoinError`] out).
///
/// One non-null pointer wide, so that `Result<T, Failure>` needs no tag of
/// its own and a small task's output slot stays small: a panic's payload
/// sits behind an `Arc` (the mutex makes the payload, only `Send`,
/// shareable, as errors are expected to be `Sync`), and a cancellation is a
/// clone of one shared, empty marker, so cancelling allocates nothing.
pub(crate) struct Failure(Arc<PanicCell>);

type PanicCell = Mutex<Option<Box<dyn Any + Send + 'static>>>;
// ANCHOR_END: join-error-repr

/// The marker every cancellation shares.
fn cancelled_marker() -> &'static Arc<PanicCell> {
    static MARKER: OnceLock<Arc<PanicCell>> = OnceLock::new();
    MARKER.get_or_init(|| Arc::new(Mutex::new(None)))
}

impl Failure {
    pub(crate) fn cancelled() -> Failure {
        Failure(cancelled_marker().clone())
    }

    pub(crate) fn panic(payload: Box<dyn Any + Send + 'static>) -> Failure {
        Failure(Arc::new(Mutex::new(Some(payload))))
    }

    fn is_cancelled(&self) -> bool {
        Arc::ptr_eq(&self.0, cancelled_marker())
    }

    fn lock(&self) -> MutexGuard<'_, Option<Box<dyn Any + Send + 'static>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl JoinError {
    pub(crate) fn new(id: Id, failure: Failure) -> JoinError {
        JoinError { id, failure }
    }

    /// The id of the task that failed.
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
    ///     let id = handle.id();
    ///     handle.abort();
    ///     assert_eq!(handle.await.unwrap_err().id(), id);
    /// });
    /// ```
    pub fn id(&self) -> Id {
        self.id
    }

    /// Returns true if the task was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.failure.is_cancelled()
    }

    /// Returns true if the task panicked.
    pub fn is_panic(&self) -> bool {
        !self.failure.is_cancelled()
    }

    /// Gives back the panic payload, for example to resume the panic with
    /// [`std::panic::resume_unwind`].
    ///
    /// # Panics
    ///
    /// Panics if the task was cancelled rather than panicking; use
    /// [`try_into_panic`](JoinError::try_into_panic) to avoid that.
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("`JoinError::into_panic` called on a cancelled task's error; check `is_panic` first")
    }

    /// Gives back the panic payload, or the error itself if the task was
    /// cancelled.
    ///
    /// # Errors
    ///
    /// Returns `Err(self)` when the task was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        if self.failure.is_cancelled() {
            return Err(self);
        }
        // A panic's cell is never shared, and only this call empties it.
        Ok(self
            .failure
            .lock()
            .take()
            .expect("a panicked task's error holds its payload"))
    }

    /// The panic message, when the payload is a string (as `panic!` makes it).
    fn panic_message(&self) -> Option<String> {
        let payload = self.failure.lock();
        let payload = payload.as_ref()?;
        if let Some(s) = payload.downcast_ref::<&'static str>() {
            Some((*s).to_owned())
        } else {
            payload.downcast_ref::<String>().cloned()
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_cancelled() {
            return f.write_str("task was cancelled");
        }
        match self.panic_message() {
            Some(msg) => write!(f, "task panicked with message {msg:?}"),
            None => f.write_str("task panicked"),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_cancelled() {
            return f.write_str("JoinError::Cancelled");
        }
        match self.panic_message() {
            Some(msg) => write!(f, "JoinError::Panic({msg:?})"),
            None => f.write_str("JoinError::Panic(..)"),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for io::Error {
    fn from(err: JoinError) -> io::Error {
        let kind = if err.is_cancelled() {
            io::ErrorKind::Interrupted
        } else {
            io::ErrorKind::Other
        };
        io::Error::new(kind, err.to_string())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn cancelled_and_panicked_are_told_apart() {
        let id = Id::next();
        let c = JoinError::new(id, Failure::cancelled());
        assert_eq!(c.id(), id);
        assert!(c.is_cancelled() && !c.is_panic());
        assert_eq!(c.to_string(), "task was cancelled");
        assert_eq!(c.try_into_panic().unwrap_err().id(), id);

        let p = JoinError::new(id, Failure::panic(Box::new("boom")));
        assert!(p.is_panic() && !p.is_cancelled());
        assert_eq!(p.to_string(), "task panicked with message \"boom\"");
        assert_eq!(format!("{p:?}"), "JoinError::Panic(\"boom\")");
        assert_eq!(*p.into_panic().downcast::<&str>().unwrap(), "boom");

        let p = JoinError::new(id, Failure::panic(Box::new(String::from("owned"))));
        assert_eq!(p.to_string(), "task panicked with message \"owned\"");
        let p = JoinError::new(id, Failure::panic(Box::new(42_u32)));
        assert_eq!(p.to_string(), "task panicked");
    }

    #[test]
    fn is_one_pointer_and_send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<JoinError>();
        // What a task's output slot holds stays one pointer wide.
        assert_eq!(std::mem::size_of::<Failure>(), std::mem::size_of::<usize>());
    }
}
