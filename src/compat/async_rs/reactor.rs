//! async-rs's `Reactor` on weft's reactor: timers, TCP connects and socket
//! registration.
//!
//! Every timer and connect made through the kit is created *and polled*
//! with the kit's reactor entered, so it finds its driver and its clock
//! whatever thread polls it; the sockets themselves need nothing entered
//! once registered.

use super::Weft;
use crate::net::{TcpStream, UnixStream};
use ::async_rs::traits::Reactor;
use futures_core::Stream;
use futures_io::{AsyncRead, AsyncWrite};
use std::any::Any;
use std::fmt;
use std::future::Future;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

impl Reactor for Weft {
    type TcpStream = TcpStream;
    type Sleep = Sleep;

    // async-rs names the bound `AsSysFd`, a private alias of these two.
    fn register<H: Read + Write + AsFd + AsRawFd + Send + 'static>(
        &self,
        socket: H,
    ) -> io::Result<impl AsyncRead + AsyncWrite + Send + Unpin + 'static> {
        let _enter = self.handle.reactor().enter();
        let socket: Box<dyn Any> = Box::new(socket);
        let socket = match socket.downcast::<std::net::TcpStream>() {
            Ok(tcp) => return TcpStream::from_std(*tcp).map(Registered::Tcp),
            Err(other) => other,
        };
        match socket.downcast::<std::os::unix::net::UnixStream>() {
            Ok(unix) => UnixStream::from_std(*unix).map(Registered::Unix),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "weft's async-rs reactor registers std tcp and unix streams only",
            )),
        }
    }

    fn sleep(&self, dur: Duration) -> Sleep {
        let reactor = self.handle.reactor().clone();
        let inner = {
            let _enter = reactor.enter();
            crate::time::sleep(dur)
        };
        Sleep { inner, reactor }
    }

    fn interval(&self, dur: Duration) -> impl Stream<Item = Instant> + Send + 'static {
        let reactor = self.handle.reactor().clone();
        let inner = {
            let _enter = reactor.enter();
            crate::time::interval(dur)
        };
        Interval { inner, reactor }
    }

    fn tcp_connect_addr(
        &self,
        addr: SocketAddr,
    ) -> impl Future<Output = io::Result<TcpStream>> + Send + 'static {
        Entered {
            inner: Box::pin(TcpStream::connect(addr)),
            reactor: self.handle.reactor().clone(),
        }
    }
}

/// A future polled with a reactor entered.
struct Entered<F> {
    inner: Pin<Box<F>>,
    reactor: weft_reactor::Handle,
}

impl<F: Future> Future for Entered<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _enter = self.reactor.enter();
        self.inner.as_mut().poll(cx)
    }
}

/// The future of async-rs's `Reactor::sleep` on weft: a
/// [`crate::time::Sleep`] on the kit's runtime clock.
///
/// # Examples
///
/// ```
/// use async_rs::traits::*;
/// use std::time::Duration;
///
/// let rt = weft::Runtime::new().unwrap();
/// let kit = weft::compat::async_rs::runtime(rt.handle());
/// let start = std::time::Instant::now();
/// kit.block_on(kit.sleep(Duration::from_millis(5)));
/// assert!(start.elapsed() >= Duration::from_millis(5));
/// ```
pub struct Sleep {
    inner: crate::time::Sleep,
    reactor: weft_reactor::Handle,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let _enter = self.reactor.enter();
        self.inner.poll_elapsed(cx)
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

/// The stream of async-rs's `Reactor::interval` on weft: a
/// [`crate::time::Interval`] whose first tick is immediate, yielding each
/// tick's deadline.
///
/// # Examples
///
/// ```
/// use async_rs::traits::*;
/// use futures_core::Stream;
/// use std::time::Duration;
///
/// let rt = weft::Runtime::new().unwrap();
/// let kit = weft::compat::async_rs::runtime(rt.handle());
/// let mut ticks = std::pin::pin!(kit.interval(Duration::from_millis(1)));
/// let (first, second) = kit.block_on(async {
///     let first = std::future::poll_fn(|cx| ticks.as_mut().poll_next(cx)).await;
///     let second = std::future::poll_fn(|cx| ticks.as_mut().poll_next(cx)).await;
///     (first.unwrap(), second.unwrap())
/// });
/// assert!(second >= first + Duration::from_millis(1));
/// ```
pub struct Interval {
    inner: crate::time::Interval,
    reactor: weft_reactor::Handle,
}

impl Stream for Interval {
    type Item = Instant;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        let _enter = self.reactor.enter();
        self.inner.poll_tick(cx).map(|tick| Some(tick.into_std()))
    }
}

impl fmt::Debug for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interval")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

/// A socket registered through async-rs's `Reactor::register` on weft: a
/// weft TCP or Unix stream.
///
/// # Examples
///
/// ```
/// use async_rs::traits::*;
/// use futures_io::AsyncWrite;
///
/// let rt = weft::Runtime::new().unwrap();
/// let kit = weft::compat::async_rs::runtime(rt.handle());
/// let (mine, peer) = std::os::unix::net::UnixStream::pair().unwrap();
/// mine.set_nonblocking(true).unwrap();
/// let mut mine = kit.register(mine).unwrap();
/// let n = kit.block_on(std::future::poll_fn(|cx| {
///     std::pin::Pin::new(&mut mine).poll_write(cx, b"hi")
/// }));
/// assert_eq!(n.unwrap(), 2);
/// # drop(peer);
/// ```
#[derive(Debug)]
pub enum Registered {
    /// A `std::net::TcpStream`, registered.
    Tcp(TcpStream),
    /// A `std::os::unix::net::UnixStream`, registered.
    Unix(UnixStream),
}

impl AsyncRead for Registered {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Registered::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Registered::Unix(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Registered {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Registered::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Registered::Unix(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Registered::Tcp(s) => Pin::new(s).poll_flush(cx),
            Registered::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Registered::Tcp(s) => Pin::new(s).poll_close(cx),
            Registered::Unix(s) => Pin::new(s).poll_close(cx),
        }
    }
}
