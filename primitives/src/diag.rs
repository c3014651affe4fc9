//! Diagnostics through [`tracing`](https://docs.rs/tracing), when the
//! crate's `tracing` feature is on.
//!
//! The crate calls the helpers below, one per event. Each emits with a
//! `tracing` macro under `#[cfg(feature = "tracing")]`: without the
//! feature the statement is gone, so the default build holds no `tracing`
//! and pays nothing, and the arguments are not evaluated (a call site
//! computes what it reports inside the call). Every weft crate that emits
//! writes its helpers this way, each under its own feature, rather than
//! sharing a macro: the cfg is then the emitting crate's own, and the
//! reactor needs no other weft crate. The events (target, level, fields)
//! are listed in one table, in the book's chapter "Running a service on
//! weft".

use std::any::Any;
use std::fmt;

/// A callback panicked and the panic was caught so that what runs it goes
/// on (the panic hook has reported it already): `ERROR` on
/// `weft::callback`. `callback` names what ran it. The facade's callback
/// TCP API reports its callbacks' panics through this helper too.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub fn callback_panicked(callback: &'static str, panic: &(dyn Any + Send)) {
    #[cfg(feature = "tracing")]
    tracing::error!(
        target: "weft::callback",
        callback,
        panic = crate::util::panic_text(panic),
        "a callback panicked"
    );
}

/// Reports an unhandled rejection as an `ERROR` event on `weft::promise`
/// if a subscriber is installed for this thread, and says whether it did
/// (never, without the feature): the default report falls back to stderr.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn unhandled_rejection(reason: &dyn fmt::Display, type_name: &str) -> bool {
    #[cfg(feature = "tracing")]
    if tracing::dispatcher::get_default(|d| !d.is::<tracing::subscriber::NoSubscriber>()) {
        tracing::error!(
            target: "weft::promise",
            reason = %reason,
            type_name,
            "a rejected promise was dropped unhandled"
        );
        return true;
    }
    false
}
