//! The errors of promises.

use std::any::Any;
use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// A failure the promise machinery detects itself, turned into a rejection
/// reason through `E: From<PromiseError>`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PromiseError {
    /// An executor, a handler, a spawned future or a thenable's `then`
    /// panicked before settling; the panic's message.
    Panicked(String),
    /// The promise was resolved with itself, or with a promise that
    /// (through others) follows it: it could never settle.
    Cycle,
    /// Every resolver of a pending promise was dropped uncalled (an
    /// executor that forgot to settle, a `done` callback never called, a
    /// spawned future dropped unfinished).
    Abandoned,
}

impl PromiseError {
    /// The error for a caught panic, with its message when it has one.
    pub(crate) fn from_panic(panic: Box<dyn Any + Send>) -> PromiseError {
        PromiseError::Panicked(crate::util::panic_message(panic))
    }
}

impl fmt::Display for PromiseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PromiseError::Panicked(message) => write!(f, "a promise handler panicked: {message}"),
            PromiseError::Cycle => {
                f.write_str("a promise was resolved with itself (a cycle that could never settle)")
            }
            PromiseError::Abandoned => {
                f.write_str("every resolver of a pending promise was dropped without settling it")
            }
        }
    }
}

impl Error for PromiseError {}

impl From<PromiseError> for String {
    fn from(error: PromiseError) -> String {
        error.to_string()
    }
}

impl From<PromiseError> for Arc<dyn Error + Send + Sync> {
    fn from(error: PromiseError) -> Arc<dyn Error + Send + Sync> {
        Arc::new(error)
    }
}

impl From<PromiseError> for std::io::Error {
    fn from(error: PromiseError) -> std::io::Error {
        std::io::Error::other(error)
    }
}

/// Every promise given to [`Promise::any`](super::Promise::any) was
/// rejected: the reasons, in input order (JavaScript's `AggregateError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateError<E> {
    /// One reason per input promise, in input order; empty for empty input.
    pub errors: Vec<E>,
}

impl<E> fmt::Display for AggregateError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "all {} promises were rejected", self.errors.len())
    }
}

impl<E: fmt::Debug> Error for AggregateError<E> {}

/// A handler of an `any` result that panics (or a cycle) rejects with an
/// aggregate of that one reason.
impl<E: From<PromiseError>> From<PromiseError> for AggregateError<E> {
    fn from(error: PromiseError) -> AggregateError<E> {
        AggregateError {
            errors: vec![E::from(error)],
        }
    }
}

/// The promise was already decided: a second `resolve`, `reject`, `settle`
/// or `adopt`. Holds the value that was not used.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AlreadyResolved<V>(pub V);

impl<V> fmt::Debug for AlreadyResolved<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AlreadyResolved").finish_non_exhaustive()
    }
}

impl<V> fmt::Display for AlreadyResolved<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the promise was already resolved")
    }
}

impl<V> Error for AlreadyResolved<V> {}
