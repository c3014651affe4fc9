//! Diagnostics through [`tracing`](https://docs.rs/tracing), when the
//! crate's `tracing` feature is on.
//!
//! The crate calls the helpers below, one per event. Each emits with a
//! `tracing` macro under `#[cfg(feature = "tracing")]`: without the
//! feature the statement is gone, so the default build holds no `tracing`
//! and pays nothing, and the arguments are not evaluated. (weft-primitives'
//! `diag.rs` states why each crate writes its helpers this way rather than
//! sharing a macro.) The events (target, level, fields) are listed in one
//! table, in the book's chapter "Running a service on weft".

use std::io;

/// Waiting for readiness (`epoll_wait`) failed with something other than
/// an interruption: `ERROR` on `weft::reactor`. The driver parks again and
/// meets the error once more if it lasts; nobody else sees it.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn poll_failed(error: &io::Error) {
    #[cfg(feature = "tracing")]
    tracing::error!(target: "weft::reactor", error = %error, "polling for readiness failed");
}

/// Removing a source from the poller failed (dropping a socket): `DEBUG`
/// on `weft::reactor`. Expected after shutdown, when the poller is gone;
/// closing the descriptor removes it anyway.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn deregister_failed(error: &io::Error) {
    #[cfg(feature = "tracing")]
    tracing::debug!(target: "weft::reactor", error = %error, "deregistering a source failed");
}
