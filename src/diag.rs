//! Diagnostics through [`tracing`](https://docs.rs/tracing), when the
//! facade's `tracing` feature is on (it turns on the feature of every weft
//! crate that emits, too).
//!
//! The facade's callback API calls the helpers below, one per event; each
//! is a call of [`event!`], which takes a level's name and then
//! `tracing::event!`'s own arguments, target first. Without the feature it
//! expands to nothing: the default build holds no `tracing` and pays
//! nothing. The events of every crate (target, level, fields) are listed
//! in one table, in the book's chapter "Running a service on weft".

use std::any::Any;
use std::io;

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

/// A callback of the callback TCP API panicked; the panic was caught so
/// that the task serving the socket goes on (the panic hook has reported
/// it already): `ERROR` on `weft::callback`.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn callback_panicked(callback: &'static str, panic: &(dyn Any + Send)) {
    event!(
        ERROR,
        target: "weft::callback",
        callback,
        panic = panic_text(panic),
        "a callback panicked"
    );
}

/// Accepting a connection failed in [`callback::tcp::listen`]'s loop: `WARN`
/// on `weft::callback`. The error goes to `on_connection` too, and the
/// loop waits 10 ms before accepting again.
///
/// [`callback::tcp::listen`]: crate::callback::tcp::listen
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn accept_failed(error: &io::Error) {
    event!(WARN, target: "weft::callback", error = %error, "accepting a connection failed");
}

/// The text of a panic's payload, when it has one.
#[cfg(feature = "tracing")]
fn panic_text(panic: &(dyn Any + Send)) -> &str {
    match (
        panic.downcast_ref::<String>(),
        panic.downcast_ref::<&'static str>(),
    ) {
        (Some(s), _) => s,
        (None, Some(s)) => s,
        (None, None) => "a panic with a non-string payload",
    }
}
