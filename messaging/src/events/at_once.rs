//! Calls that cannot wait: polling a backend operation once, for the
//! `try_` and plain (non-`async`) methods, with `Pending` reported as a
//! `WouldBlock` error.

use super::error::EventsError;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// The error of a backend that did not complete at once for a caller that
/// cannot wait.
pub(super) fn would_block() -> io::Error {
    io::Error::new(
        io::ErrorKind::WouldBlock,
        "the event bus backend did not complete at once",
    )
}

/// Polls `future` once, for a caller that cannot wait: `Pending` becomes a
/// [`would_block`] error (and the future is dropped).
pub(super) fn now_or_would_block<R>(
    future: impl Future<Output = Result<R, EventsError>>,
) -> Result<R, EventsError> {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(EventsError::Backend(would_block())),
    }
}

/// Polls `poll` once, for a caller that cannot wait: `Pending` becomes a
/// [`would_block`] error.
pub(super) fn at_once_or_would_block<R>(
    poll: impl FnOnce(&mut Context<'_>) -> Poll<Result<R, EventsError>>,
) -> Result<R, EventsError> {
    match poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(EventsError::Backend(would_block())),
    }
}

/// Polls a backend operation once, for a caller that cannot wait: `Pending`
/// becomes a [`would_block`] error.
pub(super) fn at_once<R>(poll: impl FnOnce(&mut Context<'_>) -> Poll<io::Result<R>>) -> io::Result<R> {
    match poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(would_block()),
    }
}
