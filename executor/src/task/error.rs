//! `JoinError`: why a task produced no value.

use std::any::Any;
use std::fmt;
use std::io;
use std::sync::Mutex;

/// The error a [`JoinHandle`](crate::task::JoinHandle) gives when its task
/// produced no value: it was cancelled, or it panicked.
///
/// A cancelled task was aborted ([`JoinHandle::abort`](crate::task::JoinHandle::abort),
/// [`AbortHandle::abort`](crate::task::AbortHandle::abort)) or its runtime shut
/// down before it finished. A panicked task panicked while being polled or
/// while its future was being dropped; the panic was caught, the worker went
/// on, and the payload is kept here for [`into_panic`](JoinError::into_panic).
///
/// # Examples
///
/// ```
/// use weft_executor::Runtime;
///
/// let rt = Runtime::builder().current_thread().build().unwrap();
/// let err = rt.block_on(async {
///     weft_executor::spawn(async { panic!("boom") }).await.unwrap_err()
/// });
/// assert!(err.is_panic());
/// assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "boom");
/// ```
// ANCHOR: join-error-repr
pub struct JoinError {
    /// `None` means cancelled. A panic payload sits behind one more box so
    /// that this type is one pointer wide, which keeps a task's output slot
    /// small; the mutex makes the payload (only `Send`) shareable, as errors
    /// are expected to be `Sync`.
    panic: Option<Box<Mutex<Box<dyn Any + Send + 'static>>>>,
}
// ANCHOR_END: join-error-repr

impl JoinError {
    pub(crate) fn cancelled() -> JoinError {
        JoinError { panic: None }
    }

    pub(crate) fn panic(payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            panic: Some(Box::new(Mutex::new(payload))),
        }
    }

    /// Returns true if the task was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.panic.is_none()
    }

    /// Returns true if the task panicked.
    pub fn is_panic(&self) -> bool {
        self.panic.is_some()
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
        match self.panic {
            Some(payload) => Ok(payload.into_inner().unwrap_or_else(|p| p.into_inner())),
            None => Err(self),
        }
    }

    /// The panic message, when the payload is a string (as `panic!` makes it).
    fn panic_message(&self) -> Option<String> {
        let payload = self.panic.as_ref()?;
        let payload = payload.lock().unwrap_or_else(|p| p.into_inner());
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
        let c = JoinError::cancelled();
        assert!(c.is_cancelled() && !c.is_panic());
        assert_eq!(c.to_string(), "task was cancelled");
        assert!(c.try_into_panic().is_err());

        let p = JoinError::panic(Box::new("boom"));
        assert!(p.is_panic() && !p.is_cancelled());
        assert_eq!(p.to_string(), "task panicked with message \"boom\"");
        assert_eq!(format!("{p:?}"), "JoinError::Panic(\"boom\")");
        assert_eq!(*p.into_panic().downcast::<&str>().unwrap(), "boom");

        let p = JoinError::panic(Box::new(String::from("owned")));
        assert_eq!(p.to_string(), "task panicked with message \"owned\"");
        let p = JoinError::panic(Box::new(42_u32));
        assert_eq!(p.to_string(), "task panicked");
    }

    #[test]
    fn is_one_pointer_and_send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<JoinError>();
        assert_eq!(std::mem::size_of::<JoinError>(), std::mem::size_of::<usize>());
    }
}
