//! The Unix stream.
//!
//! Every method is a call into the stream core shared with TCP streams,
//! [`Stream`](crate::net::stream); the halves live in `split.rs` (borrowed)
//! and `split_owned.rs` (owned).
//!
//! Its length is docs, not code (about 150 lines of code): STYLE.md counts
//! code lines only, and every public method is a one-line call into the
//! shared core, written out with its own documentation and runnable
//! example, so that go-to-definition and the docs find each one here.

use super::SocketAddr;
use super::addr::Target;
use super::split::{ReadHalf, WriteHalf};
use super::split_owned::{self, OwnedReadHalf, OwnedWriteHalf};
use crate::net::stream::Stream;
use crate::net::{Interest, Ready, check_reactor};
use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A Unix stream connection.
///
/// Make one with [`connect`](UnixStream::connect) or
/// [`pair`](UnixStream::pair), or accept one from a
/// [`UnixListener`](crate::net::UnixListener). Reading and writing take
/// `&mut self`; to do both at once, [`split`](UnixStream::split) it (within
/// one task) or [`into_split`](UnixStream::into_split) it (across tasks). It
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
/// use weft::net::UnixStream;
///
/// let (mut a, mut b) = UnixStream::pair()?;
/// a.write_all(b"ping").await?;
/// let mut buf = [0; 4];
/// b.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"ping");
///
/// // The peer closes: reads see the end of the stream.
/// drop(b);
/// assert_eq!(a.read(&mut buf).await?, 0);
/// # Ok::<_, std::io::Error>(()) });
/// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
/// # }
/// ```
#[derive(Debug)]
pub struct UnixStream {
    inner: Stream<mio::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the listener at `path`. On Linux and Android a `path`
    /// that starts with a null byte (`"\0name"`) is an abstract name (see
    /// [the module](crate::net::unix#abstract-names)).
    ///
    /// # Errors
    ///
    /// An error of kind `Other` if no driver is entered on this thread;
    /// `NotFound` if nothing is at `path`; `ConnectionRefused` if no one
    /// listens there; `WouldBlock` if the listener's backlog is full (a
    /// Unix connection cannot be waited for: try again later);
    /// `InvalidInput` if the path is too long for a socket address.
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
    /// use weft::net::{UnixListener, UnixStream};
    ///
    /// let path = std::env::temp_dir().join(format!("weft-doc-{}-connect.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let listener = UnixListener::bind(&path)?;
    /// let stream = UnixStream::connect(&path).await?;
    /// assert_eq!(stream.peer_addr()?.as_pathname(), Some(path.as_path()));
    /// std::fs::remove_file(&path)?;
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        check_reactor()?;
        let stream = match Target::of(path.as_ref()) {
            Target::Path(path) => mio::net::UnixStream::connect(path)?,
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Target::Abstract(name) => mio::net::UnixStream::connect_addr(&super::addr::abstract_addr(name)?)?,
        };
        let stream = UnixStream::from_mio(stream)?;
        stream.inner.finish_connect().await?;
        Ok(stream)
    }

    /// Creates a pair of connected, unnamed streams.
    ///
    /// # Errors
    ///
    /// An error of kind `Other` if no driver is entered on this thread, or
    /// what the operating system says (out of file descriptors, ...).
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
    /// use weft::net::UnixStream;
    ///
    /// let (mut a, mut b) = UnixStream::pair()?;
    /// b.write_all(b"hi").await?;
    /// let mut buf = [0; 2];
    /// a.read_exact(&mut buf).await?;
    /// assert_eq!(&buf, b"hi");
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        check_reactor()?;
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((UnixStream::from_mio(a)?, UnixStream::from_mio(b)?))
    }

    /// The stream of a pair of halves put back together.
    pub(super) fn from_core(inner: Stream<mio::net::UnixStream>) -> UnixStream {
        UnixStream { inner }
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
    /// # let (mut a, mut b) = weft::net::UnixStream::pair()?;
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
    /// # let (mut a, mut b) = weft::net::UnixStream::pair()?;
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
    /// # let (mut a, mut b) = weft::net::UnixStream::pair()?;
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
    /// # let (mut a, mut b) = weft::net::UnixStream::pair()?;
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
    /// # let (mut a, mut b) = weft::net::UnixStream::pair()?;
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
    /// # let (mut a, mut b) = weft::net::UnixStream::pair()?;
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
    /// # let (mut a, mut b) = weft::net::UnixStream::pair()?;
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
    /// # let (mut a, mut b) = weft::net::UnixStream::pair()?;
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
    /// # let (mut a, mut b) = weft::net::UnixStream::pair()?;
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
    /// # let (mut a, mut b) = weft::net::UnixStream::pair()?;
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
    /// # let (mut a, mut b) = weft::net::UnixStream::pair()?;
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
    /// # let (mut a, mut b) = weft::net::UnixStream::pair()?;
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
    /// # let (mut s, mut b) = weft::net::UnixStream::pair()?;
    /// use weft::net::Interest;
    ///
    /// b.write_all(b"ping").await?;
    /// let ready = s.ready(Interest::READABLE | Interest::WRITABLE).await?;
    /// assert!(ready.is_writable());
    /// let mut buf = [0; 16];
    /// let n = loop {
    ///     s.ready(Interest::READABLE).await?;
    ///     match s.try_read(&mut buf) {
    ///         Ok(n) => break n,
    ///         // The readiness was stale: it is forgotten, the next ready waits.
    ///         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
    ///         Err(e) => return Err(e),
    ///     }
    /// };
    /// assert_eq!(&buf[..n], b"ping");
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.inner.ready(interest).await
    }

    /// Takes the pending `SO_ERROR` of the socket, if any.
    ///
    /// # Errors
    ///
    /// What the operating system says when asked.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.get_ref().take_error()
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
    /// # let (mut s, mut b) = weft::net::UnixStream::pair()?;
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
    /// # let (mut s, mut b) = weft::net::UnixStream::pair()?;
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
    /// # let (mut s, mut b) = weft::net::UnixStream::pair()?;
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
}

impl UnixStream {
    /// Registers `socket` with the current driver.
    pub(crate) fn from_mio(socket: mio::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            inner: Stream::new(socket)?,
        })
    }

    /// Registers a [`std::os::unix::net::UnixStream`] with the current driver,
    /// after putting it in non-blocking mode.
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
    /// use weft::net::UnixStream;
    ///
    /// let (std_stream, _peer) = std::os::unix::net::UnixStream::pair()?;
    /// let stream = UnixStream::from_std(std_stream)?;
    /// let std_stream = stream.into_std()?;
    /// std_stream.set_nonblocking(false)?;
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn from_std(socket: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        socket.set_nonblocking(true)?;
        UnixStream::from_mio(mio::net::UnixStream::from_std(socket))
    }

    /// Deregisters the socket and returns it as a
    /// [`std::os::unix::net::UnixStream`], still in non-blocking mode: call
    /// `set_nonblocking(false)` to use it with blocking calls.
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
    /// use weft::net::UnixStream;
    ///
    /// let (std_stream, _peer) = std::os::unix::net::UnixStream::pair()?;
    /// let stream = UnixStream::from_std(std_stream)?;
    /// let std_stream = stream.into_std()?;
    /// std_stream.set_nonblocking(false)?;
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        Ok(self.inner.into_inner().into())
    }
}

impl TryFrom<std::os::unix::net::UnixStream> for UnixStream {
    type Error = io::Error;

    /// As [`UnixStream::from_std`].
    fn try_from(socket: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        UnixStream::from_std(socket)
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for UnixStream {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(self.inner.get_ref())
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(self.inner.get_ref())
    }
}

impl futures_io::AsyncRead for UnixStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.inner.poll_read(cx, buf)
    }
}

/// Flushing has nothing to do (writes go straight to the socket); closing
/// shuts down the write side, at once.
impl futures_io::AsyncWrite for UnixStream {
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
