//! The Unix datagram socket.
//!
//! Its length is docs, not code (about 170 lines of code): STYLE.md counts
//! code lines only, and every public method is a one-line call into the
//! shared core, written out with its own documentation and runnable
//! example, so that go-to-definition and the docs find each one here.

use super::SocketAddr;
use super::addr::Target;
use crate::io::Direction;
use crate::net::datagram::Datagram;
use crate::net::{Interest, Ready, check_reactor};
use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::path::Path;
use std::task::{Context, Poll};

/// A Unix datagram socket.
///
/// [`bind`](UnixDatagram::bind) it to a path (or make it
/// [`unbound`](UnixDatagram::unbound)), then exchange datagrams with any
/// socket path ([`send_to`](UnixDatagram::send_to),
/// [`recv_from`](UnixDatagram::recv_from)); or
/// [`connect`](UnixDatagram::connect) it to one peer, or make a connected
/// [`pair`](UnixDatagram::pair), and use [`send`](UnixDatagram::send) and
/// [`recv`](UnixDatagram::recv). All methods take `&self`. Dropping it
/// closes the socket but leaves its socket file in place.
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
/// use weft::net::UnixDatagram;
///
/// let dir = std::env::temp_dir();
/// let server_path = dir.join(format!("weft-doc-{}-dgram-server.sock", std::process::id()));
/// let _ = std::fs::remove_file(&server_path);
/// let server = UnixDatagram::bind(&server_path)?;
/// let client = UnixDatagram::unbound()?;
///
/// client.send_to(b"ping", &server_path).await?;
/// let mut buf = [0; 64];
/// let (n, from) = server.recv_from(&mut buf).await?;
/// assert_eq!(&buf[..n], b"ping");
/// assert!(from.is_unnamed()); // an unbound sender cannot be answered
/// std::fs::remove_file(&server_path)?;
/// # Ok::<_, std::io::Error>(()) });
/// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
/// # }
/// ```
#[derive(Debug)]
pub struct UnixDatagram {
    inner: Datagram<mio::net::UnixDatagram>,
}

impl UnixDatagram {
    /// Creates a socket file at `path` and binds a datagram socket to it.
    /// On Linux and Android a `path` that starts with a null byte
    /// (`"\0name"`) is an abstract name: no file is created (see
    /// [the module](crate::net::unix#abstract-names)).
    ///
    /// # Errors
    ///
    /// An error of kind `Other` if no driver is entered on this thread;
    /// `AddrInUse` if `path` exists or the abstract name is bound;
    /// `InvalidInput` if the path is too long for a socket address;
    /// otherwise what the operating system says.
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
    /// use weft::net::UnixDatagram;
    ///
    /// let path = std::env::temp_dir().join(format!("weft-doc-{}-dgram-bind.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let socket = UnixDatagram::bind(&path)?;
    /// assert_eq!(socket.local_addr()?.as_pathname(), Some(path.as_path()));
    /// std::fs::remove_file(&path)?;
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        check_reactor()?;
        let socket = match Target::of(path.as_ref()) {
            Target::Path(path) => mio::net::UnixDatagram::bind(path)?,
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Target::Abstract(name) => mio::net::UnixDatagram::bind_addr(&super::addr::abstract_addr(name)?)?,
        };
        UnixDatagram::from_mio(socket)
    }

    /// Creates a socket bound to no path: it can send, and receive answers
    /// only once connected.
    ///
    /// # Errors
    ///
    /// An error of kind `Other` if no driver is entered on this thread, or
    /// what the operating system says.
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
    /// let socket = weft::net::UnixDatagram::unbound()?;
    /// assert!(socket.local_addr()?.is_unnamed());
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn unbound() -> io::Result<UnixDatagram> {
        check_reactor()?;
        UnixDatagram::from_mio(mio::net::UnixDatagram::unbound()?)
    }

    /// Creates a pair of connected, unnamed sockets.
    ///
    /// # Errors
    ///
    /// An error of kind `Other` if no driver is entered on this thread, or
    /// what the operating system says.
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
    /// use weft::net::UnixDatagram;
    ///
    /// let (a, b) = UnixDatagram::pair()?;
    /// a.send(b"hi").await?;
    /// let mut buf = [0; 16];
    /// let n = b.recv(&mut buf).await?;
    /// assert_eq!(&buf[..n], b"hi");
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        check_reactor()?;
        let (a, b) = mio::net::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_mio(a)?, UnixDatagram::from_mio(b)?))
    }

    /// Connects the socket to the socket at `path`:
    /// [`send`](UnixDatagram::send) then sends there, and only datagrams
    /// from there are received. Connecting never waits, so this is not
    /// `async`. A `path` that starts with a null byte is an abstract name,
    /// as for [`bind`](UnixDatagram::bind).
    ///
    /// # Errors
    ///
    /// `NotFound` if nothing is at `path`; `ConnectionRefused` if no socket
    /// is bound there; `InvalidInput` if the path is too long for a socket
    /// address; otherwise what the operating system says.
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
    /// use weft::net::UnixDatagram;
    ///
    /// let path = std::env::temp_dir().join(format!("weft-doc-{}-dgram-connect.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let server = UnixDatagram::bind(&path)?;
    /// let client = UnixDatagram::unbound()?;
    /// client.connect(&path)?;
    /// client.send(b"hi").await?;
    /// let mut buf = [0; 16];
    /// assert_eq!(server.recv(&mut buf).await?, 2);
    /// std::fs::remove_file(&path)?;
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        match Target::of(path.as_ref()) {
            Target::Path(path) => self.inner.get_ref().connect(path),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Target::Abstract(name) => {
                let addr = super::addr::abstract_sock_addr(name)?;
                socket2::SockRef::from(self.inner.get_ref()).connect(&addr)
            }
        }
    }

    /// Waits until the socket is readable: a datagram has arrived or an
    /// error is pending. Pair with [`try_recv`](Self::try_recv) or
    /// [`try_recv_from`](Self::try_recv_from), which clear the readiness
    /// when they would block.
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
    /// # let (a, b) = weft::net::UnixDatagram::pair()?;
    /// b.send(b"hi").await?;
    /// let mut buf = [0; 16];
    /// let n = loop {
    ///     a.readable().await?;
    ///     match a.try_recv(&mut buf) {
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
    pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.poll_recv_ready(cx)
    }

    /// Waits until the socket is writable. Pair with
    /// [`try_send`](Self::try_send).
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
    /// # let (a, b) = weft::net::UnixDatagram::pair()?;
    /// a.writable().await?;
    /// a.try_send(b"hi")?;
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
    pub fn poll_send_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.poll_send_ready(cx)
    }

    /// Sends `buf` as one datagram to the connected peer, once there is
    /// room: the number of bytes sent. An empty `buf` sends an empty
    /// datagram.
    ///
    /// # Errors
    ///
    /// `NotConnected` if the socket is not connected; an error if the
    /// datagram is too long for the socket (`EMSGSIZE`), if an earlier
    /// datagram was refused (`ConnectionRefused`), or if the driver has
    /// shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropped before it completes, the future has sent
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
    /// # let (a, b) = weft::net::UnixDatagram::pair()?;
    /// a.send(b"hi").await?;
    /// let mut buf = [0; 16];
    /// let n = b.recv(&mut buf).await?;
    /// assert_eq!(&buf[..n], b"hi");
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.send(buf).await
    }

    /// Polls to send `buf` to the connected peer: the
    /// [`send`](Self::send) of a hand-written future.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.inner.poll_send(cx, buf)
    }

    /// Sends `buf` to the connected peer without waiting; an error of
    /// kind `WouldBlock` if there is no room.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, as above; otherwise as [`send`](Self::send).
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.try_send(buf)
    }

    /// Receives a datagram from the connected peer into `buf`, once one
    /// has arrived: its length, or `buf.len()` if it was longer and
    /// has been cut.
    ///
    /// # Errors
    ///
    /// `ConnectionRefused` if an earlier datagram was refused (on UDP,
    /// when nothing listens at the peer's port); an error if the driver
    /// has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropped before it completes, the future has taken
    /// no datagram.
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
    /// # let (a, b) = weft::net::UnixDatagram::pair()?;
    /// b.send(b"hi").await?;
    /// let mut buf = [0; 16];
    /// let n = a.recv(&mut buf).await?;
    /// assert_eq!(&buf[..n], b"hi");
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.recv(buf).await
    }

    /// Polls to receive a datagram into `buf`: the
    /// [`recv`](Self::recv) of a hand-written future.
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv).
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.inner.poll_recv(cx, buf)
    }

    /// Receives a datagram into `buf` without waiting; an error of kind
    /// `WouldBlock` if none has arrived.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, as above; otherwise as [`recv`](Self::recv).
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.try_recv(buf)
    }

    /// Receives a datagram into `buf`, once one has arrived: its length
    /// (cut to `buf.len()`) and the address it came from.
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropped before it completes, the future has taken
    /// no datagram.
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
    /// # let (a, b) = weft::net::UnixDatagram::pair()?;
    /// b.send(b"hi").await?;
    /// let mut buf = [0; 16];
    /// let (n, from) = a.recv_from(&mut buf).await?;
    /// assert_eq!(&buf[..n], b"hi");
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.recv_from(buf).await
    }

    /// Polls to receive a datagram and its origin: the
    /// [`recv_from`](Self::recv_from) of a hand-written future.
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv).
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.inner.poll_recv_from(cx, buf)
    }

    /// Receives a datagram and its origin without waiting; an error of
    /// kind `WouldBlock` if none has arrived.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, as above; otherwise as [`recv`](Self::recv).
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.try_recv_from(buf)
    }

    /// The address the socket is bound to.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// The address of the connected peer.
    ///
    /// # Errors
    ///
    /// `NotConnected` if the socket is not connected.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// Takes the pending `SO_ERROR` of the socket, if any.
    ///
    /// # Errors
    ///
    /// What the operating system says when asked.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.get_ref().take_error()
    }

    /// Waits until the socket is ready in one of the directions of
    /// `interest`, and says which: readable, writable, a side closed, an
    /// error pending. Pair it with the `try_` methods (`try_recv`, `try_send`, ...): when one
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
    /// # let (a, b) = weft::net::UnixDatagram::pair()?;
    /// use weft::net::Interest;
    ///
    /// let ready = a.ready(Interest::READABLE | Interest::WRITABLE).await?;
    /// assert!(ready.is_writable());
    /// a.try_send(b"ping")?;
    /// let mut buf = [0; 16];
    /// let n = loop {
    ///     b.ready(Interest::READABLE).await?;
    ///     match b.try_recv(&mut buf) {
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

    /// Sends `buf` as one datagram to the socket at `path`, once there is
    /// room: the number of bytes sent. A `path` that starts with a null byte
    /// is an abstract name, as for [`bind`](UnixDatagram::bind).
    /// Cancel-safe.
    ///
    /// # Errors
    ///
    /// `NotFound` if nothing is at `path`; `ConnectionRefused` if no socket
    /// is bound there; `InvalidInput` if the path is too long for a socket
    /// address; an error if the datagram is too long, or if the driver has
    /// shut down.
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
    /// use weft::net::UnixDatagram;
    ///
    /// let path = std::env::temp_dir().join(format!("weft-doc-{}-dgram-send-to.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let server = UnixDatagram::bind(&path)?;
    /// let client = UnixDatagram::unbound()?;
    /// assert_eq!(client.send_to(b"hi", &path).await?, 2);
    /// std::fs::remove_file(&path)?;
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        poll_fn(|cx| self.poll_send_to(cx, buf, path)).await
    }

    /// Polls to send `buf` to the socket at `path`: the
    /// [`send_to`](UnixDatagram::send_to) of a hand-written future.
    ///
    /// # Errors
    ///
    /// As [`send_to`](UnixDatagram::send_to).
    pub fn poll_send_to(&self, cx: &mut Context<'_>, buf: &[u8], path: &Path) -> Poll<io::Result<usize>> {
        let dest = match Dest::of(path) {
            Ok(dest) => dest,
            Err(e) => return Poll::Ready(Err(e)),
        };
        self.inner
            .poll_io(cx, Direction::Write, |io| dest.send_to(io, buf))
    }

    /// Sends `buf` to the socket at `path` without waiting; an error of
    /// kind `WouldBlock` if there is no room.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, as above; otherwise as
    /// [`send_to`](UnixDatagram::send_to).
    pub fn try_send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let dest = Dest::of(path.as_ref())?;
        self.inner.try_io(Direction::Write, |io| dest.send_to(io, buf))
    }

    /// Shuts down the read side, the write side or both: receiving then
    /// returns `Ok(0)` at once, sending fails with `BrokenPipe`.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.get_ref().shutdown(how)
    }
}

/// Where `send_to` sends: a path, which mio takes, or an abstract address,
/// which it does not, for socket2.
enum Dest<'a> {
    Path(&'a Path),
    #[cfg(any(target_os = "linux", target_os = "android"))]
    Abstract(socket2::SockAddr),
}

impl Dest<'_> {
    fn of(path: &Path) -> io::Result<Dest<'_>> {
        Ok(match Target::of(path) {
            Target::Path(path) => Dest::Path(path),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Target::Abstract(name) => Dest::Abstract(super::addr::abstract_sock_addr(name)?),
        })
    }

    fn send_to(&self, io: &mio::net::UnixDatagram, buf: &[u8]) -> io::Result<usize> {
        match self {
            Dest::Path(path) => io.send_to(buf, path),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Dest::Abstract(addr) => socket2::SockRef::from(io).send_to(buf, addr),
        }
    }
}

impl UnixDatagram {
    /// Registers `socket` with the current driver.
    pub(crate) fn from_mio(socket: mio::net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            inner: Datagram::new(socket)?,
        })
    }

    /// Registers a [`std::os::unix::net::UnixDatagram`] with the current driver,
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
    /// use weft::net::UnixDatagram;
    ///
    /// let (std_socket, _peer) = std::os::unix::net::UnixDatagram::pair()?;
    /// let socket = UnixDatagram::from_std(std_socket)?;
    /// let std_socket = socket.into_std()?;
    /// std_socket.set_nonblocking(false)?;
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        UnixDatagram::from_mio(mio::net::UnixDatagram::from_std(socket))
    }

    /// Deregisters the socket and returns it as a
    /// [`std::os::unix::net::UnixDatagram`], still in non-blocking mode: call
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
    /// use weft::net::UnixDatagram;
    ///
    /// let (std_socket, _peer) = std::os::unix::net::UnixDatagram::pair()?;
    /// let socket = UnixDatagram::from_std(std_socket)?;
    /// let std_socket = socket.into_std()?;
    /// std_socket.set_nonblocking(false)?;
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        Ok(self.inner.into_inner().into())
    }
}

impl TryFrom<std::os::unix::net::UnixDatagram> for UnixDatagram {
    type Error = io::Error;

    /// As [`UnixDatagram::from_std`].
    fn try_from(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(socket)
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for UnixDatagram {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(self.inner.get_ref())
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(self.inner.get_ref())
    }
}
