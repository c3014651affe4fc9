//! weft as an [async-rs] runtime: the way any library written against
//! async-rs's traits (lapin, the RabbitMQ client, and its family) runs on
//! weft's executor, timers and sockets.
//!
//! async-rs describes a runtime as a *kit*: an [`Executor`] (spawn, spawn
//! a blocking job, block on a future) and a [`Reactor`] (sleep, interval,
//! connect a TCP stream, register a socket). [`Weft`] is that kit for a
//! weft [`Handle`], and [`WeftRuntime`] the `async_rs::Runtime` around it,
//! the value such libraries take:
//!
//! | async-rs | weft |
//! | --- | --- |
//! | `Executor::spawn` | [`Handle::spawn`]; the task is a [`WeftTask`] |
//! | `Executor::spawn_blocking` | [`Handle::spawn_blocking`] |
//! | `Executor::block_on` | [`Handle::block_on`] (any thread but a runtime thread) |
//! | `Reactor::sleep`, `interval` | [`crate::time::sleep`], [`crate::time::interval`], on the runtime's clock (paused test clock included) |
//! | `Reactor::tcp_connect` | [`crate::net::TcpStream::connect`] |
//! | `Reactor::register` | std TCP and Unix streams only (see [`Weft`]) |
//!
//! Timers and connects run with the kit's reactor entered, so they work
//! wherever the library polls them, on a runtime thread or not (lapin's
//! I/O loop runs on a thread of its own and calls `block_on` there).
//!
//! Keep the [`Runtime`](crate::Runtime) alive while anything built on the
//! kit is: the kit holds a [`Handle`], which does not keep the runtime's
//! threads running.
//!
//! # Examples
//!
//! ```
//! use async_rs::traits::*;
//! use std::time::Duration;
//!
//! let rt = weft::Runtime::new().unwrap();
//! let kit = weft::compat::async_rs::runtime(rt.handle());
//! // What an async-rs-based library does with the value it was given:
//! let answer = kit.block_on(async {
//!     kit.sleep(Duration::from_millis(1)).await;
//!     kit.spawn(async { 6 * 7 }).await
//! });
//! assert_eq!(answer, 42);
//! ```
//!
//! [async-rs]: https://docs.rs/async-rs
//! [`Executor`]: ::async_rs::traits::Executor
//! [`Reactor`]: ::async_rs::traits::Reactor

mod executor;
mod reactor;

pub use self::executor::WeftTask;
pub use self::reactor::{Interval, Registered, Sleep};

use crate::{Handle, TryCurrentError};

/// The async-rs kit of a weft runtime: async-rs's `Executor` and `Reactor`
/// traits (and so its `RuntimeKit`) implemented on a weft [`Handle`].
///
/// Usually reached through [`WeftRuntime`] ([`runtime`], [`current`]).
///
/// `Reactor::register` accepts `std::net::TcpStream` and
/// `std::os::unix::net::UnixStream` and fails with
/// [`io::ErrorKind::Unsupported`](std::io::ErrorKind::Unsupported) for any
/// other handle, where async-rs's tokio and async-io reactors register
/// any file descriptor.
///
/// # Examples
///
/// ```
/// use async_rs::traits::*;
///
/// let rt = weft::Runtime::new().unwrap();
/// let kit = weft::compat::async_rs::Weft::new(rt.handle().clone());
/// let task = kit.spawn(async { 5 });
/// assert_eq!(kit.block_on(task), 5);
/// ```
#[derive(Clone, Debug)]
pub struct Weft {
    handle: Handle,
}

/// A weft runtime as async-rs's `Runtime` type: what async-rs-based
/// libraries take (lapin's `Connection::connect_with_runtime`, ...).
pub type WeftRuntime = ::async_rs::Runtime<Weft>;

impl Weft {
    /// The kit of the runtime `handle` refers to.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::new().unwrap();
    /// let kit = weft::compat::async_rs::Weft::new(rt.handle().clone());
    /// # let _ = kit;
    /// ```
    pub fn new(handle: Handle) -> Weft {
        Weft { handle }
    }

    /// The weft runtime this kit runs on.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft::Runtime::new().unwrap();
    /// let kit = weft::compat::async_rs::Weft::new(rt.handle().clone());
    /// assert_eq!(kit.handle().num_alive_tasks(), 0);
    /// ```
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl From<Handle> for Weft {
    fn from(handle: Handle) -> Weft {
        Weft::new(handle)
    }
}

impl ::async_rs::traits::RuntimeKit for Weft {}

/// The [`WeftRuntime`] of the runtime `handle` refers to.
///
/// # Examples
///
/// ```
/// use async_rs::traits::*;
///
/// let rt = weft::Runtime::new().unwrap();
/// let kit = weft::compat::async_rs::runtime(rt.handle());
/// let sum = kit.block_on(kit.spawn_blocking(|| 2 + 2));
/// assert_eq!(sum, 4);
/// ```
pub fn runtime(handle: &Handle) -> WeftRuntime {
    ::async_rs::Runtime::new(Weft::new(handle.clone()))
}

/// The [`WeftRuntime`] of the weft runtime running on this thread.
///
/// # Panics
///
/// Panics outside a weft runtime; [`try_current`] returns an error instead.
///
/// # Examples
///
/// ```
/// use async_rs::traits::*;
///
/// weft::block_on(async {
///     let kit = weft::compat::async_rs::current();
///     assert_eq!(kit.spawn(async { 7 }).await, 7);
/// });
/// ```
#[track_caller]
pub fn current() -> WeftRuntime {
    runtime(&Handle::current())
}

/// The [`WeftRuntime`] of the weft runtime running on this thread, or an
/// error outside one.
///
/// # Errors
///
/// [`TryCurrentError`] when no weft runtime runs on this thread.
///
/// # Examples
///
/// ```
/// assert!(weft::compat::async_rs::try_current().is_err());
/// weft::block_on(async {
///     assert!(weft::compat::async_rs::try_current().is_ok());
/// });
/// ```
pub fn try_current() -> Result<WeftRuntime, TryCurrentError> {
    Handle::try_current().map(|handle| runtime(&handle))
}
