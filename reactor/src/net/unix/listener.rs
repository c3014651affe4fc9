//! The Unix stream listener.

use super::SocketAddr;
use super::addr::Target;
use super::stream::UnixStream;
use crate::io::{Direction, IoSource};
use crate::net::{check_reactor, uninterrupted};
use std::future::poll_fn;
use std::io;
use std::path::Path;
use std::task::{Context, Poll, ready};

/// A Unix stream socket listening for connections at a path.
///
/// Dropping it closes the socket but leaves the socket file in place: remove
/// it with [`std::fs::remove_file`] before binding the same path again.
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
/// let path = std::env::temp_dir().join(format!("weft-doc-{}-listener.sock", std::process::id()));
/// let _ = std::fs::remove_file(&path);
/// let listener = UnixListener::bind(&path)?;
/// let mut client = UnixStream::connect(&path).await?;
/// let (mut server, _) = listener.accept().await?;
///
/// server.write_all(b"welcome").await?;
/// let mut buf = [0; 7];
/// client.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"welcome");
/// std::fs::remove_file(&path)?;
/// # Ok::<_, std::io::Error>(()) });
/// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
/// # }
/// ```
#[derive(Debug)]
pub struct UnixListener {
    io: IoSource<mio::net::UnixListener>,
}

impl UnixListener {
    /// Creates a socket file at `path` and listens there. Binding never
    /// waits, so this is not `async`. On Linux and Android a `path` that
    /// starts with a null byte (`"\0name"`) is an abstract name: no file is
    /// created (see [the module](crate::net::unix#abstract-names)).
    ///
    /// # Errors
    ///
    /// An error of kind `Other` if no driver is entered on this thread;
    /// `AddrInUse` if `path` exists (a socket file left by an earlier
    /// listener, for example) or the abstract name is bound; `InvalidInput`
    /// if the path is too long for a socket address; otherwise what the
    /// operating system says (`PermissionDenied`, `NotFound`, ...).
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
    /// use weft::net::UnixListener;
    ///
    /// let path = std::env::temp_dir().join(format!("weft-doc-{}-bind.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let listener = UnixListener::bind(&path)?;
    /// assert_eq!(listener.local_addr()?.as_pathname(), Some(path.as_path()));
    /// std::fs::remove_file(&path)?;
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        check_reactor()?;
        let listener = match Target::of(path.as_ref()) {
            Target::Path(path) => mio::net::UnixListener::bind(path)?,
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Target::Abstract(name) => mio::net::UnixListener::bind_addr(&super::addr::abstract_addr(name)?)?,
        };
        UnixListener::from_mio(listener)
    }

    /// Waits for a connection and accepts it: the connected stream,
    /// registered with the current driver, and the peer's address (usually
    /// unnamed). Cancel-safe: no connection is lost if the future is dropped.
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
    /// use weft::net::{UnixListener, UnixStream};
    ///
    /// let path = std::env::temp_dir().join(format!("weft-doc-{}-accept.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let listener = UnixListener::bind(&path)?;
    /// let client = UnixStream::connect(&path).await?;
    /// let (server, peer) = listener.accept().await?;
    /// assert!(peer.is_unnamed());
    /// std::fs::remove_file(&path)?;
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls to accept a connection: the [`accept`](UnixListener::accept)
    /// of a hand-written future.
    ///
    /// # Errors
    ///
    /// As [`accept`](UnixListener::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let (stream, addr) = ready!(
            self.io
                .poll_io(cx, Direction::Read, |l| uninterrupted(|| l.accept()))
        )?;
        Poll::Ready(UnixStream::from_mio(stream).map(|stream| (stream, addr)))
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
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

impl UnixListener {
    /// Registers `socket` with the current driver.
    pub(crate) fn from_mio(socket: mio::net::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener {
            io: IoSource::new(socket)?,
        })
    }

    /// Registers a [`std::os::unix::net::UnixListener`] with the current driver,
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
    /// use weft::net::UnixListener;
    ///
    /// let path = std::env::temp_dir().join(format!("weft-doc-{}-listener-std.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let std_listener = std::os::unix::net::UnixListener::bind(&path)?;
    /// let listener = UnixListener::from_std(std_listener)?;
    /// let std_listener = listener.into_std()?;
    /// std_listener.set_nonblocking(false)?;
    /// std::fs::remove_file(&path)?;
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn from_std(socket: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        socket.set_nonblocking(true)?;
        UnixListener::from_mio(mio::net::UnixListener::from_std(socket))
    }

    /// Deregisters the socket and returns it as a
    /// [`std::os::unix::net::UnixListener`], still in non-blocking mode: call
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
    /// use weft::net::UnixListener;
    ///
    /// let path = std::env::temp_dir().join(format!("weft-doc-{}-listener-into-std.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let std_listener = std::os::unix::net::UnixListener::bind(&path)?;
    /// let listener = UnixListener::from_std(std_listener)?;
    /// let std_listener = listener.into_std()?;
    /// std_listener.set_nonblocking(false)?;
    /// std::fs::remove_file(&path)?;
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        Ok(self.io.into_inner().into())
    }
}

impl TryFrom<std::os::unix::net::UnixListener> for UnixListener {
    type Error = io::Error;

    /// As [`UnixListener::from_std`].
    fn try_from(socket: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        UnixListener::from_std(socket)
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for UnixListener {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(self.io.get_ref())
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(self.io.get_ref())
    }
}
