//! Diagnostics through [`tracing`](https://docs.rs/tracing), when the
//! facade's `tracing` feature is on (it turns on the feature of every weft
//! crate that emits, too).
//!
//! The facade's callback API calls the helpers below, one per event, each
//! under `#[cfg(feature = "tracing")]` as weft-primitives' `diag.rs`
//! describes: without the feature the default build holds no `tracing`
//! and pays nothing. The events of every crate (target, level, fields)
//! are listed in one table, in the book's chapter "Running a service on
//! weft".

use std::io;

/// A callback of the callback TCP API panicked; the panic was caught so
/// that the task serving the socket goes on (the panic hook has reported
/// it already): `ERROR` on `weft::callback`. The same event as a panicked
/// callback of weft-primitives, so its helper, emitted under
/// weft-primitives' `tracing` feature (which the facade's turns on).
pub(crate) use weft_primitives::__private::callback_panicked;

/// Accepting a connection failed in [`callback::tcp::listen`]'s loop: `WARN`
/// on `weft::callback`. The error goes to `on_connection` too, and the
/// loop waits 10 ms before accepting again.
///
/// [`callback::tcp::listen`]: crate::callback::tcp::listen
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn accept_failed(error: &io::Error) {
    #[cfg(feature = "tracing")]
    tracing::warn!(target: "weft::callback", error = %error, "accepting a connection failed");
}
