//! The TCP listener.

use super::socket::TcpSocket;
use super::stream::TcpStream;
use crate::io::{Direction, IoSource};
use crate::net::{each_addr, uninterrupted};
use std::future::poll_fn;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::task::{Context, Poll, ready};

/// A TCP socket listening for connections.
///
/// Bind it with [`bind`](TcpListener::bind), then [`accept`](TcpListener::accept)
/// connections. Dropping it closes the socket.
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
/// let mut client = TcpStream::connect(addr).await?;
/// let (mut server, peer) = listener.accept().await?;
/// assert_eq!(peer, client.local_addr()?);
///
/// server.write_all(b"welcome").await?;
/// let mut buf = [0; 7];
/// client.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"welcome");
/// # Ok::<_, std::io::Error>(()) });
/// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
/// # }
/// ```
#[derive(Debug)]
pub struct TcpListener {
    io: IoSource<mio::net::TcpListener>,
}

/// The backlog of [`TcpListener::bind`]: std's and mio's 128 leave a burst
/// of connections in SYN retries, seconds long, while the accept loop
/// catches up.
const BACKLOG: u32 = 1024;

impl TcpListener {
    /// Binds a listener to `addr`, trying each address it resolves to until
    /// one works. Port 0 asks the system for a free port; see
    /// [`local_addr`](TcpListener::local_addr). On Unix the socket has
    /// `SO_REUSEADDR` set, and a backlog of 1024 (where the system allows
    /// as many: Linux caps it at `net.core.somaxconn`). For other options,
    /// or another backlog, build the listener with a
    /// [`TcpSocket`](crate::net::TcpSocket).
    ///
    /// # Errors
    ///
    /// An error of kind `Other` if no driver is entered on this thread;
    /// otherwise the error of the last address tried (`AddrInUse`,
    /// `AddrNotAvailable`, `PermissionDenied`, ...), or `InvalidInput` if
    /// `addr` resolves to no address.
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
    /// use weft::net::TcpListener;
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0").await?;
    /// assert_ne!(listener.local_addr()?.port(), 0);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        each_addr(addr, |addr| async move {
            let socket = match addr {
                SocketAddr::V4(_) => TcpSocket::new_v4()?,
                SocketAddr::V6(_) => TcpSocket::new_v6()?,
            };
            // On Windows SO_REUSEADDR would let another socket take the
            // port from under a live listener, so it stays off there.
            #[cfg(not(windows))]
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            socket.listen(BACKLOG)
        })
        .await
    }

    /// Waits for a connection and accepts it: the connected stream,
    /// registered with the current driver, and the peer's address.
    /// Cancel-safe: no connection is lost if the future is dropped.
    ///
    /// One task at a time should accept on a listener: only the waker of
    /// the last one to wait is woken.
    ///
    /// # Errors
    ///
    /// What the operating system says (out of file descriptors, for
    /// example: the connection stays queued and the next `accept` tries
    /// again), or an error if the driver has shut down.
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
    /// let client = TcpStream::connect(listener.local_addr()?).await?;
    /// let (server, peer) = listener.accept().await?;
    /// assert_eq!(server.peer_addr()?, peer);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls to accept a connection: the [`accept`](TcpListener::accept) of
    /// a hand-written future.
    ///
    /// # Errors
    ///
    /// As [`accept`](TcpListener::accept).
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
    /// let client = TcpStream::connect(listener.local_addr()?).await?;
    /// let (server, _) = std::future::poll_fn(|cx| listener.poll_accept(cx)).await?;
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    // ANCHOR: tcp-poll-accept
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (stream, addr) = ready!(
            self.io
                .poll_io(cx, Direction::Read, |l| uninterrupted(|| l.accept()))
        )?;
        Poll::Ready(TcpStream::from_mio(stream).map(|stream| (stream, addr)))
    }
    // ANCHOR_END: tcp-poll-accept

    /// The address the listener is bound to.
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
    /// let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// assert!(listener.local_addr()?.ip().is_loopback());
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The `IP_TTL` option: the time-to-live of the packets sent from the
    /// accepted sockets.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets the `IP_TTL` option; see [`ttl`](TcpListener::ttl).
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
    /// let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    /// listener.set_ttl(100)?;
    /// assert_eq!(listener.ttl()?, 100);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// Takes the pending `SO_ERROR` of the socket, if any.
    ///
    /// # Errors
    ///
    /// What the operating system says when asked.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl TcpListener {
    /// Registers `socket` with the current driver.
    pub(crate) fn from_mio(socket: mio::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: IoSource::new(socket)?,
        })
    }

    /// Registers a [`std::net::TcpListener`] with the current driver, after putting
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
    /// use weft::net::TcpListener;
    ///
    /// let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let listener = TcpListener::from_std(std_listener)?;
    /// let std_listener = listener.into_std()?;
    /// std_listener.set_nonblocking(false)?;
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn from_std(socket: std::net::TcpListener) -> io::Result<TcpListener> {
        socket.set_nonblocking(true)?;
        TcpListener::from_mio(mio::net::TcpListener::from_std(socket))
    }

    /// Deregisters the socket and returns it as a [`std::net::TcpListener`], still
    /// in non-blocking mode: call `set_nonblocking(false)` to use it with blocking
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
    /// use weft::net::TcpListener;
    ///
    /// let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let listener = TcpListener::from_std(std_listener)?;
    /// let std_listener = listener.into_std()?;
    /// std_listener.set_nonblocking(false)?;
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        Ok(self.io.into_inner().into())
    }
}

impl TryFrom<std::net::TcpListener> for TcpListener {
    type Error = io::Error;

    /// As [`TcpListener::from_std`].
    fn try_from(socket: std::net::TcpListener) -> io::Result<TcpListener> {
        TcpListener::from_std(socket)
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for TcpListener {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(self.io.get_ref())
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(self.io.get_ref())
    }
}
