//! Diagnostics through [`tracing`](https://docs.rs/tracing), when the
//! crate's `tracing` feature is on.
//!
//! The crate calls the helpers below, one per event; each is a call of
//! [`event!`], which takes a level's name and then `tracing::event!`'s own
//! arguments, target first. Without the feature it expands to nothing:
//! the default build holds no `tracing` and pays nothing. Arguments are not
//! evaluated then, so a call site computes what it reports inside the call.
//! The events (target, level, fields) are listed in one table, in the
//! book's chapter "Running a service on weft".

/// Emits a `tracing` event: `event!(WARN, target: "weft::…", field = value, "message")`.
#[cfg(feature = "tracing")]
macro_rules! event {
    ($level:ident, target: $target:expr, $($rest:tt)+) => {
        ::tracing::event!(target: $target, ::tracing::Level::$level, $($rest)+)
    };
}

/// Emits nothing: the `tracing` feature is off.
#[cfg(not(feature = "tracing"))]
macro_rules! event {
    ($level:ident, target: $target:expr, $($rest:tt)+) => {};
}

use std::io;

/// Waiting for readiness (`epoll_wait`) failed with something other than
/// an interruption: `ERROR` on `weft::reactor`. The driver parks again and
/// meets the error once more if it lasts; nobody else sees it.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn poll_failed(error: &io::Error) {
    event!(ERROR, target: "weft::reactor", error = %error, "polling for readiness failed");
}

/// Removing a source from the poller failed (dropping a socket): `DEBUG`
/// on `weft::reactor`. Expected after shutdown, when the poller is gone;
/// closing the descriptor removes it anyway.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn deregister_failed(error: &io::Error) {
    event!(DEBUG, target: "weft::reactor", error = %error, "deregistering a source failed");
}
