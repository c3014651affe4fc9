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

use std::any::Any;
use std::fmt;

/// A callback panicked and the panic was caught so that what runs it goes
/// on (the panic hook has reported it already): `ERROR` on
/// `weft::callback`. `callback` names what ran it.
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

/// Reports an unhandled rejection as an `ERROR` event on `weft::promise`
/// if a subscriber is installed for this thread, and says whether it did
/// (never, without the feature): the default report falls back to stderr.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn unhandled_rejection(reason: &dyn fmt::Display, type_name: &str) -> bool {
    #[cfg(feature = "tracing")]
    if tracing::dispatcher::get_default(|d| !d.is::<tracing::subscriber::NoSubscriber>()) {
        event!(
            ERROR,
            target: "weft::promise",
            reason = %reason,
            type_name,
            "a rejected promise was dropped unhandled"
        );
        return true;
    }
    false
}
