//! The one error shape a backend uses for "the disk or the network failed".

use std::error::Error;
use std::fmt;
use std::io;

/// A backend could not store (publish, append, settle, commit) what it was
/// given: the disk or the network failed.
///
/// The two variants say what the caller may assume. [`NotStored`] hands the
/// value back: it is certainly not stored, and sending it again cannot
/// duplicate it. [`Unknown`] means the outcome is not known — a broker took
/// the message, then the connection died before it confirmed — so a retry
/// may store it twice, and a consumer may see a duplicate (flagged as
/// redelivered where the backend can tell). Shared by the queue and the
/// event bus.
///
/// [`NotStored`]: StoreError::NotStored
/// [`Unknown`]: StoreError::Unknown
///
/// # Examples
///
/// ```
/// use std::io;
/// use weft::queue::StoreError;
///
/// let failed: StoreError<&str> = StoreError::NotStored {
///     value: "job 7",
///     error: io::Error::other("disk full"),
/// };
/// assert!(!failed.is_unknown());
/// assert_eq!(failed.to_string(), "not stored: disk full");
/// assert_eq!(failed.into_value(), Some("job 7"));
///
/// let lost: StoreError<&str> = StoreError::Unknown { error: io::ErrorKind::ConnectionReset.into() };
/// assert!(lost.is_unknown());
/// assert_eq!(lost.into_value(), None);
/// ```
pub enum StoreError<T> {
    /// Certainly not stored: here is the value back.
    NotStored {
        /// The value the backend was given.
        value: T,
        /// Why it could not be stored.
        error: io::Error,
    },
    /// Perhaps stored, perhaps not: the backend cannot tell.
    Unknown {
        /// Why the outcome is unknown.
        error: io::Error,
    },
}

impl<T> StoreError<T> {
    /// True if the value may have been stored after all.
    pub fn is_unknown(&self) -> bool {
        matches!(self, StoreError::Unknown { .. })
    }

    /// The value back, if it is certainly not stored.
    pub fn into_value(self) -> Option<T> {
        match self {
            StoreError::NotStored { value, .. } => Some(value),
            StoreError::Unknown { .. } => None,
        }
    }

    /// The I/O error behind it.
    pub fn io_error(&self) -> &io::Error {
        match self {
            StoreError::NotStored { error, .. } | StoreError::Unknown { error } => error,
        }
    }

    /// The I/O error behind it, dropping the value.
    pub fn into_io_error(self) -> io::Error {
        match self {
            StoreError::NotStored { error, .. } | StoreError::Unknown { error } => error,
        }
    }

    /// The same error with the value changed by `f` (say, a message taken
    /// out of an envelope).
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> StoreError<U> {
        match self {
            StoreError::NotStored { value, error } => StoreError::NotStored {
                value: f(value),
                error,
            },
            StoreError::Unknown { error } => StoreError::Unknown { error },
        }
    }
}

impl<T> fmt::Debug for StoreError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::NotStored { error, .. } => f
                .debug_struct("NotStored")
                .field("error", error)
                .finish_non_exhaustive(),
            StoreError::Unknown { error } => f.debug_struct("Unknown").field("error", error).finish(),
        }
    }
}

impl<T> fmt::Display for StoreError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::NotStored { error, .. } => write!(f, "not stored: {error}"),
            StoreError::Unknown { error } => write!(f, "outcome unknown: {error}"),
        }
    }
}

impl<T> Error for StoreError<T> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(self.io_error())
    }
}

impl<T> From<StoreError<T>> for io::Error {
    fn from(error: StoreError<T>) -> io::Error {
        error.into_io_error()
    }
}
