//! The TCP stream.
//!
//! Every method is a call into the stream core shared with Unix streams,
//! [`Stream`](crate::net::stream); the halves live in `split.rs` (borrowed)
//! and `split_owned.rs` (owned).
//!
//! Its length is docs, not code (about 230 lines of code): STYLE.md counts
//! code lines only, and every public method is a one-line call into the
//! shared core, written out with its own documentation and runnable
//! example, so that go-to-definition and the docs find each one here.

use super::split::{ReadHalf, WriteHalf};
use super::split_owned::{self, OwnedReadHalf, OwnedWriteHalf};
use crate::net::stream::Stream;
use crate::net::{Interest, Ready, each_addr, to_u32, to_usize};
use socket2::SockRef;
use std::io::{self, IoSlice};
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// A TCP connection.
///
/// Make one with [`connect`](TcpStream::connect), or accept one from a
/// [`TcpListener`](crate::net::TcpListener). Reading and writing take
/// `&mut self`; to do both at once, [`split`](TcpStream::split) it (within
/// one task) or [`into_split`](TcpStream::into_split) it (across tasks). It
/// implements [`futures_io::AsyncRead`] and [`futures_io::AsyncWrite`].
/// Dropping it closes the connection.
///
/// # Examples
///
/// ```
/// # use weft_reactor as weft;
/// # fn main() -> std::io::Result<()> {
/// # let driver = weft_reactor::Driver::new()?;
/// # let _enter = driver.handle().enter();
/// # #[allow(unused_variables, unused_mut)]
/// # let mut task = std::pin::pin!(async {
/// use weft::net::{TcpListener, TcpStream};
///
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let mut stream = TcpStream::connect(listener.local_addr()?).await?;
/// let (mut peer, _) = listener.accept().await?;
///
/// stream.write_all(b"ping").await?;
/// let mut buf = [0; 4];
/// peer.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"ping");
///
/// // The peer closes: reads see the end of the stream.
/// drop(peer);
/// assert_eq!(stream.read(&mut buf).await?, 0);
/// # Ok::<_, std::io::Error>(()) });
/// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
/// # }
/// ```
#[derive(Debug)]
pub struct TcpStream {
    inner: Stream<mio::net::TcpStream>,
}

impl TcpStream {
    /// Connects to `addr`, trying each address it resolves to until one
    /// accepts. The connection is made without blocking the thread: the
    /// future waits for the handshake to finish.
    ///
    /// # Errors
    ///
    /// An error of kind `Other` if no driver is entered on this thread;
    /// otherwise the error of the last address tried: `ConnectionRefused`
    /// if nothing listens there, `TimedOut`, `HostUnreachable`, ... — or
    /// `InvalidInput` if `addr` resolves to no address.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// use weft::net::{TcpListener, TcpStream};
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0").await?;
    /// let addr = listener.local_addr()?;
    /// let stream = TcpStream::connect(addr).await?;
    /// assert_eq!(stream.peer_addr()?, addr);
    ///
    /// // Nothing listens on that port any more.
    /// drop((stream, listener));
    /// let error = TcpStream::connect(addr).await.unwrap_err();
    /// assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    // ANCHOR: tcp-connect
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        each_addr(addr, |addr| async move {
            TcpStream::connected(mio::net::TcpStream::connect(addr)?).await
        })
        .await
    }

    /// Registers `stream`, whose non-blocking connect is under way, and
    /// waits for the connection to be made.
    pub(super) async fn connected(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        let stream = TcpStream::from_mio(stream)?;
        stream.inner.finish_connect().await?;
        Ok(stream)
    }
    // ANCHOR_END: tcp-connect

    /// The stream of a pair of halves put back together.
    pub(super) fn from_core(inner: Stream<mio::net::TcpStream>) -> TcpStream {
        TcpStream { inner }
    }

    /// Waits until the stream is readable: data has arrived, the peer has
    /// closed its side, or an error is pending. Pair with
    /// [`try_read`](Self::try_read), which clears the readiness when it
    /// would block.
    ///
    /// # Errors
    ///
    /// An error if the driver has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future loses nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut a = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// b.write_all(b"hi").await?;
    /// let mut buf = [0; 16];
    /// let n = loop {
    ///     a.readable().await?;
    ///     match a.try_read(&mut buf) {
    ///         Ok(n) => break n,
    ///         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
    ///         Err(e) => return Err(e),
    ///     }
    /// };
    /// assert_eq!(&buf[..n], b"hi");
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.inner.readable().await
    }

    /// Polls for read readiness, as [`readable`](Self::readable) waits
    /// for it. Only the waker of the last call is woken.
    ///
    /// # Errors
    ///
    /// An error if the driver has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut a = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// b.write_all(b"hi").await?;
    /// std::future::poll_fn(|cx| a.poll_read_ready(cx)).await?;
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.poll_read_ready(cx)
    }

    /// Reads what has arrived into `buf`, without waiting: the number
    /// of bytes read, `Ok(0)` at the end of the stream (or for an empty
    /// `buf`), and an error of kind `WouldBlock` if nothing has arrived.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, as above; `ConnectionReset` if the peer reset the
    /// connection; an error if the driver has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut a = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// let mut buf = [0; 16];
    /// let error = a.try_read(&mut buf).unwrap_err();
    /// assert_eq!(error.kind(), std::io::ErrorKind::WouldBlock);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.try_read(buf)
    }

    /// Polls to read into `buf`: the [`read`](Self::read) of a
    /// hand-written future.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut a = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// b.write_all(b"hi").await?;
    /// let mut buf = [0; 16];
    /// let n = std::future::poll_fn(|cx| a.poll_read(cx, &mut buf)).await?;
    /// assert_eq!(&buf[..n], b"hi");
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.inner.poll_read(cx, buf)
    }

    /// Reads into `buf` once some data has arrived: the number of bytes
    /// read, at least one, or `Ok(0)` at the end of the stream (the
    /// peer closed its write side) or for an empty `buf`.
    ///
    /// # Errors
    ///
    /// `ConnectionReset` if the peer reset the connection; an error if
    /// the driver has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropped before it completes, the future has read
    /// nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut a = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// b.write_all(b"hi").await?;
    /// let mut buf = [0; 16];
    /// let n = a.read(&mut buf).await?;
    /// assert_eq!(&buf[..n], b"hi");
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).await
    }

    /// Reads until `buf` is full, and returns its length.
    ///
    /// # Errors
    ///
    /// `UnexpectedEof` if the stream ends first; otherwise as
    /// [`read`](Self::read).
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: dropped half-way, part of the data is in `buf`
    /// and gone from the stream.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut a = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// b.write_all(b"hello").await?;
    /// let mut buf = [0; 5];
    /// a.read_exact(&mut buf).await?;
    /// assert_eq!(&buf, b"hello");
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read_exact(buf).await
    }

    /// Reads into `buf` what has arrived, once something has, without
    /// taking it from the stream: the next read sees it again. Returns
    /// the number of bytes copied, or `Ok(0)` at the end of the stream
    /// or for an empty `buf`.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future loses nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut a = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// b.write_all(b"hello").await?;
    /// let mut buf = [0; 5];
    /// let n = a.peek(&mut buf).await?;
    /// assert_eq!(&buf[..n], &b"hello"[..n]);
    /// a.read_exact(&mut buf).await?; // still there
    /// assert_eq!(&buf, b"hello");
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub async fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.peek(buf).await
    }

    /// Polls to peek into `buf`: the [`peek`](Self::peek) of a
    /// hand-written future.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut a = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// b.write_all(b"hi").await?;
    /// let mut buf = [0; 2];
    /// let n = std::future::poll_fn(|cx| a.poll_peek(cx, &mut buf)).await?;
    /// assert_eq!(&buf[..n], &b"hi"[..n]);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn poll_peek(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.inner.poll_peek(cx, buf)
    }

    /// Waits until the stream is writable: there is room in the send
    /// buffer, or an error is pending. Pair with
    /// [`try_write`](Self::try_write).
    ///
    /// # Errors
    ///
    /// An error if the driver has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future loses nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut a = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// let n = loop {
    ///     a.writable().await?;
    ///     match a.try_write(b"hi") {
    ///         Ok(n) => break n,
    ///         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
    ///         Err(e) => return Err(e),
    ///     }
    /// };
    /// assert_eq!(n, 2);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.inner.writable().await
    }

    /// Polls for write readiness, as [`writable`](Self::writable) waits
    /// for it. Only the waker of the last call is woken.
    ///
    /// # Errors
    ///
    /// An error if the driver has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut a = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// std::future::poll_fn(|cx| a.poll_write_ready(cx)).await?;
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.poll_write_ready(cx)
    }

    /// Writes from `buf` what fits in the send buffer, without waiting:
    /// the number of bytes written (`Ok(0)` for an empty `buf`), and an
    /// error of kind `WouldBlock` if nothing fits.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, as above; `BrokenPipe` or `ConnectionReset` if the
    /// peer has gone; an error if the driver has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut a = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// a.writable().await?;
    /// let n = a.try_write(b"hi")?;
    /// assert_eq!(n, 2);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.try_write(buf)
    }

    /// Polls to write from `buf`: the [`write`](Self::write) of a
    /// hand-written future.
    ///
    /// # Errors
    ///
    /// As [`write`](Self::write).
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut a = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// let n = std::future::poll_fn(|cx| a.poll_write(cx, b"hi")).await?;
    /// assert_eq!(n, 2);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.inner.poll_write(cx, buf)
    }

    /// Writes from `buf` once there is room: the number of bytes
    /// written, at least one (`Ok(0)` for an empty `buf`), possibly
    /// fewer than `buf` holds.
    ///
    /// # Errors
    ///
    /// `BrokenPipe` or `ConnectionReset` if the peer has gone; an error
    /// if the driver has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropped before it completes, the future has written
    /// nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut a = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// let n = a.write(b"hello").await?;
    /// let mut buf = [0; 5];
    /// b.read_exact(&mut buf[..n]).await?;
    /// assert_eq!(&buf[..n], &b"hello"[..n]);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf).await
    }

    /// Writes all of `buf`, waiting for room as often as needed.
    ///
    /// # Errors
    ///
    /// `WriteZero` if the stream accepts no more bytes; otherwise as
    /// [`write`](Self::write), after which an unknown part of `buf` has
    /// been written.
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: dropped half-way, an unknown part of `buf` has
    /// been written.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut a = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// a.write_all(b"hello").await?;
    /// let mut buf = [0; 5];
    /// b.read_exact(&mut buf).await?;
    /// assert_eq!(&buf, b"hello");
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.inner.write_all(buf).await
    }

    /// Waits until the stream is ready in one of the directions of
    /// `interest`, and says which: readable, writable, a side closed, an
    /// error pending. Pair it with the `try_` methods (`try_read`, `try_write`): when one
    /// says `WouldBlock`, the readiness it relied on is forgotten, and the
    /// next `ready` waits for a new edge. Several tasks may wait at once;
    /// all are woken.
    ///
    /// # Errors
    ///
    /// An error if the driver has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future loses nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// use weft::net::Interest;
    ///
    /// b.write_all(b"ping").await?;
    /// let mut buf = [0; 16];
    /// let mut sent = false;
    /// let mut got = 0;
    /// while !sent || got == 0 {
    ///     // Ask only for what is still to do: a stream is writable nearly always.
    ///     let interest = if sent {
    ///         Interest::READABLE
    ///     } else {
    ///         Interest::READABLE | Interest::WRITABLE
    ///     };
    ///     let ready = s.ready(interest).await?;
    ///     if ready.is_readable() {
    ///         match s.try_read(&mut buf) {
    ///             Ok(n) => got += n,
    ///             Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
    ///             Err(e) => return Err(e),
    ///         }
    ///     }
    ///     if ready.is_writable() && !sent {
    ///         match s.try_write(b"pong") {
    ///             Ok(_) => sent = true,
    ///             Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
    ///             Err(e) => return Err(e),
    ///         }
    ///     }
    /// }
    /// assert_eq!(&buf[..got], b"ping");
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.inner.ready(interest).await
    }

    /// Shuts down the read side, the write side or both, at once
    /// (`shutdown(2)` never blocks). After `Shutdown::Write` the
    /// peer reads to the end of the stream once it has what was
    /// written before; writing again gives `BrokenPipe`. After
    /// `Shutdown::Read` reads return `Ok(0)`.
    ///
    /// # Errors
    ///
    /// `NotConnected` if the connection is gone (after a reset, for
    /// example).
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// s.write_all(b"last words").await?;
    /// s.shutdown(std::net::Shutdown::Write)?;
    /// let mut buf = [0; 16];
    /// let mut got = 0;
    /// loop {
    ///     match b.read(&mut buf[got..]).await? {
    ///         0 => break, // end of stream
    ///         n => got += n,
    ///     }
    /// }
    /// assert_eq!(&buf[..got], b"last words");
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.shutdown(how)
    }

    /// Splits the stream into an owned read half and an owned write
    /// half, which can move to different tasks. They share the
    /// socket; [`OwnedReadHalf::reunite`] puts them back together.
    /// Dropping the write half shuts down the write side.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// let (mut read, mut write) = s.into_split();
    /// write.write_all(b"ping").await?;
    /// let mut buf = [0; 4];
    /// b.read_exact(&mut buf).await?;
    /// b.write_all(&buf).await?;
    /// read.read_exact(&mut buf).await?;
    /// assert_eq!(&buf, b"ping");
    /// let s = read.reunite(write).unwrap();
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split_owned::new_pair(self.inner)
    }

    /// Splits the stream into a borrowed read half and a borrowed
    /// write half, for reading and writing at the same time within
    /// one task (joined futures) without an `Arc`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// let (mut read, mut write) = s.split();
    /// write.write_all(b"ping").await?;
    /// b.write_all(b"pong").await?;
    /// let mut buf = [0; 4];
    /// read.read_exact(&mut buf).await?;
    /// assert_eq!(&buf, b"pong");
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        (ReadHalf { inner: &self.inner }, WriteHalf { inner: &self.inner })
    }

    /// The local address of the stream.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// The address of the stream's peer.
    ///
    /// # Errors
    ///
    /// `NotConnected` if the connection is gone.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// Sets `TCP_NODELAY`: with `true`, small writes go out at once instead
    /// of waiting to be merged (Nagle's algorithm off).
    ///
    /// # Errors
    ///
    /// What the operating system says.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// s.set_nodelay(true)?;
    /// assert!(s.nodelay()?);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set; see
    /// [`set_nodelay`](TcpStream::set_nodelay).
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.get_ref().nodelay()
    }

    /// Sets the `IP_TTL` option: the time-to-live of the packets sent.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// s.set_ttl(64)?;
    /// assert_eq!(s.ttl()?, 64);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.inner.get_ref().set_ttl(ttl)
    }

    /// The `IP_TTL` option; see [`set_ttl`](TcpStream::set_ttl).
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn ttl(&self) -> io::Result<u32> {
        self.inner.get_ref().ttl()
    }

    /// Takes the pending `SO_ERROR` of the socket, if any.
    ///
    /// # Errors
    ///
    /// What the operating system says when asked.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.get_ref().take_error()
    }

    /// The socket, for the options mio does not offer.
    fn socket(&self) -> SockRef<'_> {
        SockRef::from(self.inner.get_ref())
    }

    /// Sets `SO_LINGER`: what dropping the stream does with data not yet
    /// sent. `None` (the default) closes at once and lets the kernel send
    /// it in the background; `Some(Duration::ZERO)` drops it and resets the
    /// connection; any other duration makes the drop wait, blocking the
    /// thread, until the data is sent or the time is up. Unlike tokio,
    /// weft does not deprecate this method: it documents the blocking drop
    /// instead.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// use std::time::Duration;
    ///
    /// s.set_linger(Some(Duration::ZERO))?;
    /// assert_eq!(s.linger()?, Some(Duration::ZERO));
    /// drop(s); // resets the connection
    /// let mut buf = [0; 1];
    /// let error = b.read(&mut buf).await.unwrap_err();
    /// assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.socket().set_linger(linger)
    }

    /// `SO_LINGER`; see [`set_linger`](TcpStream::set_linger).
    ///
    /// # Errors
    ///
    /// What the operating system says.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// assert_eq!(s.linger()?, None);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.socket().linger()
    }

    /// Sets `SO_SNDBUF`, the size of the kernel's send buffer, in bytes.
    /// The system may round or bound it (Linux doubles it). tokio offers
    /// this on its `TcpSocket` only.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// s.set_send_buffer_size(64 * 1024)?;
    /// assert!(s.send_buffer_size()? >= 64 * 1024);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.socket().set_send_buffer_size(to_usize(size))
    }

    /// `SO_SNDBUF`; see
    /// [`set_send_buffer_size`](TcpStream::set_send_buffer_size).
    ///
    /// # Errors
    ///
    /// What the operating system says.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// assert!(s.send_buffer_size()? > 0);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        self.socket().send_buffer_size().map(to_u32)
    }

    /// Sets `SO_RCVBUF`, the size of the kernel's receive buffer, in bytes.
    /// The system may round or bound it (Linux doubles it); on a connected
    /// stream it no longer widens the window the handshake announced, so
    /// set it on a [`TcpSocket`](crate::net::TcpSocket) before connecting
    /// for that. tokio offers this on its `TcpSocket` only.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// s.set_recv_buffer_size(64 * 1024)?;
    /// assert!(s.recv_buffer_size()? >= 64 * 1024);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.socket().set_recv_buffer_size(to_usize(size))
    }

    /// `SO_RCVBUF`; see
    /// [`set_recv_buffer_size`](TcpStream::set_recv_buffer_size).
    ///
    /// # Errors
    ///
    /// What the operating system says.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// assert!(s.recv_buffer_size()? > 0);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        self.socket().recv_buffer_size().map(to_u32)
    }

    /// Sets `IP_TOS`, the type-of-service byte of the IPv4 packets sent
    /// (DSCP and ECN bits). IPv4 streams only. tokio offers this on its
    /// `TcpSocket` only.
    ///
    /// # Errors
    ///
    /// What the operating system says (an error on an IPv6 stream).
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// s.set_tos_v4(0x10)?;
    /// assert_eq!(s.tos_v4()?, 0x10);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    #[cfg(not(any(
        target_os = "fuchsia",
        target_os = "redox",
        target_os = "solaris",
        target_os = "illumos",
        target_os = "haiku",
        target_os = "wasi"
    )))]
    pub fn set_tos_v4(&self, tos: u32) -> io::Result<()> {
        self.socket().set_tos_v4(tos)
    }

    /// `IP_TOS`; see [`set_tos_v4`](TcpStream::set_tos_v4).
    ///
    /// # Errors
    ///
    /// What the operating system says.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// assert_eq!(s.tos_v4()?, 0);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    #[cfg(not(any(
        target_os = "fuchsia",
        target_os = "redox",
        target_os = "solaris",
        target_os = "illumos",
        target_os = "haiku",
        target_os = "wasi"
    )))]
    pub fn tos_v4(&self) -> io::Result<u32> {
        self.socket().tos_v4()
    }

    /// Sets `IPV6_TCLASS`, the traffic class of the IPv6 packets sent (the
    /// IPv6 counterpart of [`set_tos_v4`](TcpStream::set_tos_v4)). IPv6
    /// streams only. tokio offers this on its `TcpSocket` only.
    ///
    /// # Errors
    ///
    /// What the operating system says (an error on an IPv4 stream).
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// use weft::net::{TcpListener, TcpStream};
    ///
    /// // Where the system has IPv6 on loopback:
    /// if let Ok(listener) = TcpListener::bind("[::1]:0").await {
    ///     let s = TcpStream::connect(listener.local_addr()?).await?;
    ///     s.set_tclass_v6(0x10)?;
    ///     assert_eq!(s.tclass_v6()?, 0x10);
    /// }
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    #[cfg(any(
        target_os = "android",
        target_os = "dragonfly",
        target_os = "freebsd",
        target_os = "fuchsia",
        target_os = "linux",
        target_os = "macos",
        target_os = "netbsd",
        target_os = "openbsd"
    ))]
    pub fn set_tclass_v6(&self, tclass: u32) -> io::Result<()> {
        self.socket().set_tclass_v6(tclass)
    }

    /// `IPV6_TCLASS`; see [`set_tclass_v6`](TcpStream::set_tclass_v6).
    ///
    /// # Errors
    ///
    /// What the operating system says.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// use weft::net::{TcpListener, TcpStream};
    ///
    /// if let Ok(listener) = TcpListener::bind("[::1]:0").await {
    ///     let s = TcpStream::connect(listener.local_addr()?).await?;
    ///     assert_eq!(s.tclass_v6()?, 0);
    /// }
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    #[cfg(any(
        target_os = "android",
        target_os = "dragonfly",
        target_os = "freebsd",
        target_os = "fuchsia",
        target_os = "linux",
        target_os = "macos",
        target_os = "netbsd",
        target_os = "openbsd"
    ))]
    pub fn tclass_v6(&self) -> io::Result<u32> {
        self.socket().tclass_v6()
    }
}

impl TcpStream {
    /// Registers `socket` with the current driver.
    pub(crate) fn from_mio(socket: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            inner: Stream::new(socket)?,
        })
    }

    /// Registers a [`std::net::TcpStream`] with the current driver, after putting
    /// it in non-blocking mode.
    ///
    /// # Errors
    ///
    /// An error of kind `Other` if no driver is entered on this
    /// thread, or what the operating system says when it refuses to
    /// change the mode or register the socket. The socket is closed
    /// then.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// use weft::net::TcpStream;
    ///
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let std_stream = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// let stream = TcpStream::from_std(std_stream)?;
    /// let std_stream = stream.into_std()?;
    /// std_stream.set_nonblocking(false)?;
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn from_std(socket: std::net::TcpStream) -> io::Result<TcpStream> {
        socket.set_nonblocking(true)?;
        TcpStream::from_mio(mio::net::TcpStream::from_std(socket))
    }

    /// Deregisters the socket and returns it as a [`std::net::TcpStream`], still in
    /// non-blocking mode: call `set_nonblocking(false)` to use it with blocking
    /// calls.
    ///
    /// # Errors
    ///
    /// None at present; the `Result` leaves room for platforms where
    /// the conversion can fail.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// use weft::net::TcpStream;
    ///
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let std_stream = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// let stream = TcpStream::from_std(std_stream)?;
    /// let std_stream = stream.into_std()?;
    /// std_stream.set_nonblocking(false)?;
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        Ok(self.inner.into_inner().into())
    }
}

impl TryFrom<std::net::TcpStream> for TcpStream {
    type Error = io::Error;

    /// As [`TcpStream::from_std`].
    fn try_from(socket: std::net::TcpStream) -> io::Result<TcpStream> {
        TcpStream::from_std(socket)
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for TcpStream {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(self.inner.get_ref())
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(self.inner.get_ref())
    }
}

impl futures_io::AsyncRead for TcpStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.inner.poll_read(cx, buf)
    }
}

/// Flushing has nothing to do (writes go straight to the socket); closing
/// shuts down the write side, at once.
impl futures_io::AsyncWrite for TcpStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.poll_flush()
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.poll_close()
    }
}
