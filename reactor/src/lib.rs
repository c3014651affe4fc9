//! weft's reactor: the I/O driver, timers and sockets.
//!
//! The reactor turns operating-system readiness into wakeups. A [`Driver`]
//! owns one `mio::Poll` and a timer wheel; whoever drives it — an executor's
//! idle worker, or any hand-written loop — calls [`Driver::park`], which
//! waits in `epoll_wait` until a socket is ready, a timer is due or another
//! thread calls [`Driver::unpark`], and wakes the tasks concerned.
//!
//! The reactor knows nothing of executors: its futures only register
//! wakers. The `weft` facade joins it to weft's executor; the crate's tests
//! drive it with a ten-line `block_on` loop as well.
//!
//! * [`Driver`], [`Handle`], [`EnterGuard`]: the driver, a cloneable
//!   reference to it, and the guard that keeps it entered on a thread.
//! * [`net`]: TCP, UDP and Unix sockets, with async methods, `poll_*`
//!   methods and the `futures-io` traits.
//! * [`time`]: [`sleep`](time::sleep), [`timeout`](time::timeout),
//!   [`interval`](time::interval), and a clock tests can pause.
//!
//! Resources and timers register with the driver *entered* on the thread
//! that creates or first polls them ([`Handle::enter`]); weft's runtime
//! enters its driver on every thread it runs tasks on.
// Unsafe code lives in `sys` alone (one libc call), which allows it.
#![deny(unsafe_code)]
// The facade re-exports `net` and `time` whole, and users read their docs
// there, so their examples say `weft::net` / `weft::time`. This crate cannot
// depend on the facade, so each such example opens with the hidden line
// `# use weft_reactor as weft;`: the visible paths name the very items the
// facade re-exports, and every example still compiles and runs here. The
// driver that runs an example stays hidden (`# let driver = ...`).
#![doc(test(attr(deny(warnings))))]

mod diag;
mod driver;
mod io;
pub mod net;
mod sys;
pub mod time;

pub use self::driver::{Driver, EnterGuard, Handle};
