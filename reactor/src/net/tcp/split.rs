//! The borrowed halves of a [`TcpStream`](crate::net::TcpStream), from
//! [`TcpStream::split`](crate::net::TcpStream::split).
//!
//! Its length is docs, not code (about 90 lines of code): STYLE.md counts
//! code lines only, and every public method is a one-line call into the
//! shared core, written out with its own documentation and runnable
//! example, so that go-to-definition and the docs find each one here.

use crate::net::stream::Stream;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The read half of a [`TcpStream`](crate::net::TcpStream), borrowed: from
/// [`TcpStream::split`](crate::net::TcpStream::split).
///
/// It reads as the whole stream does, and implements
/// [`futures_io::AsyncRead`].
#[derive(Debug)]
pub struct ReadHalf<'a> {
    pub(super) inner: &'a Stream<mio::net::TcpStream>,
}

/// The write half of a [`TcpStream`](crate::net::TcpStream), borrowed: from
/// [`TcpStream::split`](crate::net::TcpStream::split).
///
/// It writes as the whole stream does, and implements
/// [`futures_io::AsyncWrite`]. Dropping it does nothing to the
/// stream.
#[derive(Debug)]
pub struct WriteHalf<'a> {
    pub(super) inner: &'a Stream<mio::net::TcpStream>,
}

impl ReadHalf<'_> {
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
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// # let (mut a, _write) = s.split();
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
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// # let (mut a, _write) = s.split();
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
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// # let (mut a, _write) = s.split();
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
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// # let (mut a, _write) = s.split();
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
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// # let (mut a, _write) = s.split();
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
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// # let (mut a, _write) = s.split();
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
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// # let (mut a, _write) = s.split();
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
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// # let (mut a, _write) = s.split();
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
}

impl WriteHalf<'_> {
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
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// # let (_read, mut a) = s.split();
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
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// # let (_read, mut a) = s.split();
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
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// # let (_read, mut a) = s.split();
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
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// # let (_read, mut a) = s.split();
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
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// # let (_read, mut a) = s.split();
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
    /// # let mut s = weft::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut b, _) = listener.accept().await?;
    /// # let (_read, mut a) = s.split();
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
}

impl futures_io::AsyncRead for ReadHalf<'_> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.inner.poll_read(cx, buf)
    }
}

/// Flushing has nothing to do (writes go straight to the socket); closing
/// shuts down the write side of the stream, at once.
impl futures_io::AsyncWrite for WriteHalf<'_> {
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
