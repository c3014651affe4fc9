//! Promises with JavaScript's semantics.
//!
//! A [`Promise<T, E>`] is a value that will be *fulfilled* with a `T` or
//! *rejected* with an `E`, once. It is
//!
//! - **eager**: the work behind it starts when it is made, awaited or not;
//! - **shareable**: `Clone`, with any number of handlers and awaiters, each
//!   seeing the same outcome;
//! - **a future**: `promise.await` gives `Result<T, E>`.
//!
//! Handlers attached with [`then`](Promise::then), [`catch`](Promise::catch)
//! and [`finally`](Promise::finally) return new promises, so work chains as
//! in JavaScript. They take the handle by value, so that they are found
//! before the like-named methods of `futures::FutureExt` (a promise is a
//! future); clone the handle to attach more than one. A handler may return a `Result`, another promise, or any
//! [`Thenable`], which the new promise *adopts* (the Promises/A+ resolution
//! procedure); [`map`](Promise::map) and [`map_err`](Promise::map_err) take
//! handlers that return plain values. Handlers run as jobs on the
//! [spawner](crate::spawner)'s event loop: never inside the call that
//! attached them or the call that settled the promise, each exactly once,
//! after settlement, in the order they were attached.
//!
//! A handler that panics rejects the promise it returned, as a `throw` does
//! in JavaScript. That needs a rejection reason made from the panic, so the
//! promises that can fail this way have an error type `E:
//! From<PromiseError>`; [`PromiseError`] converts into `String`,
//! `std::io::Error`, `Arc<dyn Error + Send + Sync>`, [`AggregateError`]
//! of any of these, `Box<dyn Error + Send + Sync>` (through the standard
//! library's conversion for every error) and itself.
//!
//! # Examples
//!
//! ```
//! use weft::promise::Promise;
//!
//! weft::block_on(async {
//!     let price = Promise::<u32, String>::new(|resolver| {
//!         let _ = resolver.resolve(40);
//!     });
//!     let total = price
//!         .then(|p| if p > 100 { Err("too dear".to_string()) } else { Ok(p + 2) })
//!         .map(|p| format!("total: {p}"));
//!     assert_eq!(total.await.as_deref(), Ok("total: 42"));
//! });
//! ```

// The promise itself: the handle, its constructors, awaiting it.
mod handle;
// Its handlers: then, catch, finally, map, map_err.
mod chain;
// The settling end, and the group of clones that share its one call.
mod resolver;
// The state handles and resolvers share; reactions run as jobs.
mod state;
// What a promise can adopt.
mod thenable;
// all, all_settled, race, any.
mod combinators;
mod error;
// The hook that hears of rejections nobody handled.
mod unhandled;

#[cfg(test)]
mod tests;

pub use self::combinators::Settled;
pub use self::error::{AggregateError, AlreadyResolved, PromiseError};
pub use self::handle::Promise;
pub use self::resolver::Resolver;
pub use self::thenable::Thenable;
pub use self::unhandled::{
    Hook, UnhandledRejection, default_unhandled_rejection_hook, set_unhandled_rejection_hook,
    take_unhandled_rejection_hook,
};
