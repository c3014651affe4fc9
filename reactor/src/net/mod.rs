//! Sockets: TCP, UDP and Unix.
//!
//! Every socket here is a non-blocking `mio` socket registered with the
//! driver entered on the thread that creates it (see
//! [`Handle::enter`](crate::Handle::enter)). Creating one where no driver is
//! entered fails with an error of kind `Other`; it never panics.
//!
//! # The shape of an operation
//!
//! An operation first waits until the driver has seen the socket become
//! ready in its direction (readable for `read`, `recv` and `accept`;
//! writable for `write` and `send`), then makes the system call straight
//! into or out of the caller's buffer: no copies, no allocation. If the call
//! says `WouldBlock` after all, the readiness is forgotten and the operation
//! waits for the next edge. Each method comes in up to four forms:
//!
//! * `async fn read(..)`, `write`, `accept`, `recv_from`, ...: wait and do it;
//! * `poll_read(cx, ..)`, ...: the same for hand-written futures and the
//!   [`futures_io`] traits;
//! * `try_read(..)`, ...: one attempt now, `WouldBlock` if it would wait;
//! * `readable()` / `writable()` (and `poll_read_ready` / `poll_write_ready`):
//!   wait for readiness only, to pair with the `try_` forms; `ready(interest)`
//!   waits for either direction and says which ([`Interest`], [`Ready`]).
//!
//! Several tasks may wait on one socket in the same direction (two tasks
//! accepting on one listener, say): readiness wakes them all, and those
//! that find nothing to do wait for the next edge. The stream methods that
//! read or write (`read`, `write_all`, `poll_read`, ...) take `&mut self`;
//! to read and write from two tasks, split the stream
//! ([`TcpStream::into_split`], [`TcpStream::split`]). The readiness methods
//! and the `try_` forms take `&self`, as tokio's do, and so do all the
//! methods of datagram sockets and listeners.
//!
//! # Streams
//!
//! [`TcpStream`] and [`UnixStream`] share one implementation (a generic
//! stream over the mio socket): the same read and write methods, the same
//! [`futures_io::AsyncRead`] / [`futures_io::AsyncWrite`] impls, the same
//! owned ([`tcp::OwnedReadHalf`], ...) and borrowed ([`tcp::ReadHalf`], ...)
//! halves. Their conventions:
//!
//! * a zero-length read or write returns `Ok(0)` at once, without a system
//!   call;
//! * a read returns `Ok(0)` once the peer has closed its write side, and
//!   keeps doing so;
//! * a reset connection gives `ConnectionReset` from the next read or write,
//!   and a write after the peer has gone gives `BrokenPipe` or
//!   `ConnectionReset`. On Linux, TCP writes cannot raise `SIGPIPE`: the
//!   standard library sends with `MSG_NOSIGNAL`. It does so for Unix streams
//!   too since mid-2025 (rust-lang/rust#140005); older toolchains, 1.88
//!   among them, write Unix streams with `write(2)`, which raises `SIGPIPE`
//!   on a closed peer — harmless in a Rust program, which ignores `SIGPIPE`
//!   from startup unless it opts out (`-Zon-broken-pipe`, or a C `main`);
//! * `shutdown` is synchronous: `shutdown(2)` never blocks. Closing the
//!   write side through [`futures_io::AsyncWrite::poll_close`] does the same,
//!   and so does dropping an owned write half;
//! * `read`, `write`, `peek` and `readable` / `writable` are cancel-safe:
//!   dropping their future before it completes loses no data.
//!   `read_exact` and `write_all` are not: dropped half-way, an unknown part
//!   of the buffer has been transferred.
//!
//! # Datagrams
//!
//! [`UdpSocket`] and [`UnixDatagram`] send and receive whole datagrams. An
//! empty datagram is a datagram: sending an empty buffer sends one, and
//! receiving into an empty buffer waits for a datagram and discards it. A
//! datagram longer than the buffer is truncated, as with the standard
//! library.
//!
//! # Addresses
//!
//! Constructors that take `impl ToSocketAddrs` (the standard library's
//! trait) try each address in turn and return the last error if none works.
//! Resolving a host name (`"localhost:80"`) asks the system resolver and
//! blocks the thread while it does; socket addresses and IP literals
//! resolve at once.
//!
//! # Leaving the runtime
//!
//! `into_std` deregisters a socket and returns the standard-library socket,
//! still in non-blocking mode; `from_std` (and `TryFrom`) put one in
//! non-blocking mode and register it.
//!
//! # Examples
//!
//! An echo server and its client, in one task:
//!
//! ```
//! # use weft_reactor as weft;
//! # async fn example() -> std::io::Result<()> {
//! use weft::net::{TcpListener, TcpStream};
//!
//! let listener = TcpListener::bind("127.0.0.1:0").await?;
//! let mut client = TcpStream::connect(listener.local_addr()?).await?;
//! let (mut server, _) = listener.accept().await?;
//!
//! client.write_all(b"hello").await?;
//! let mut buf = [0; 5];
//! let n = server.read(&mut buf).await?;
//! server.write_all(&buf[..n]).await?;
//! client.read_exact(&mut buf).await?;
//! assert_eq!(&buf, b"hello");
//! # Ok(())
//! # }
//! # // A minimal executor: poll, and park in the driver while pending.
//! # let driver = weft_reactor::Driver::new().unwrap();
//! # let _enter = driver.handle().enter();
//! # let mut task = std::pin::pin!(example());
//! # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
//! # loop {
//! #     if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) {
//! #         break result.unwrap();
//! #     }
//! #     driver.park(None);
//! # }
//! ```

use crate::io::{Direction, IoSource};
use std::future::{Future, poll_fn};
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::task::{Context, Poll};

mod datagram;
mod readiness;
mod stream;
pub mod tcp;
mod udp;
#[cfg(unix)]
pub mod unix;

pub use self::readiness::{Interest, Ready};
pub use self::tcp::listener::TcpListener;
pub use self::tcp::socket::TcpSocket;
pub use self::tcp::stream::TcpStream;
pub use self::udp::UdpSocket;
#[cfg(unix)]
pub use self::unix::datagram::UnixDatagram;
#[cfg(unix)]
pub use self::unix::listener::UnixListener;
#[cfg(unix)]
pub use self::unix::stream::UnixStream;

/// Waits until `io` may proceed in `direction`.
fn poll_ready<E: mio::event::Source>(
    io: &IoSource<E>,
    cx: &mut Context<'_>,
    direction: Direction,
) -> Poll<io::Result<()>> {
    io.poll_ready(cx, direction).map_ok(|_| ())
}

/// [`poll_ready`] as a future.
async fn ready<E: mio::event::Source>(io: &IoSource<E>, direction: Direction) -> io::Result<()> {
    poll_fn(|cx| poll_ready(io, cx, direction)).await
}

/// Runs `op` again while the system call it makes is interrupted by a
/// signal.
fn uninterrupted<R>(mut op: impl FnMut() -> io::Result<R>) -> io::Result<R> {
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            result => return result,
        }
    }
}

/// Fails fast, before resolving anything, where no driver is entered.
fn check_reactor() -> io::Result<()> {
    crate::Handle::with_current(|handle| handle.map(drop).ok_or_else(crate::driver::no_reactor))
}

/// Tries `op` on each address `addr` resolves to, in turn: the first
/// success, or the last error.
async fn each_addr<A, T, F, Fut>(addr: A, mut op: F) -> io::Result<T>
where
    A: ToSocketAddrs,
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    check_reactor()?;
    let mut last = None;
    for addr in addr.to_socket_addrs()? {
        match op(addr).await {
            Ok(value) => return Ok(value),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(no_addresses))
}

/// The first address `addr` resolves to.
fn first_addr(addr: impl ToSocketAddrs) -> io::Result<SocketAddr> {
    addr.to_socket_addrs()?.next().ok_or_else(no_addresses)
}

fn no_addresses() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "could not resolve to any address")
}

/// A buffer size as the socket gives it, as the `u32` of tokio's methods:
/// saturating.
fn to_u32(size: usize) -> u32 {
    u32::try_from(size).unwrap_or(u32::MAX)
}

/// A `u32` buffer size as the `usize` socket2 takes: saturating.
fn to_usize(size: u32) -> usize {
    usize::try_from(size).unwrap_or(usize::MAX)
}
