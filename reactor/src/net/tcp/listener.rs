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
#[doc = example!(r#"
use weft_reactor::net::{TcpListener, TcpStream};

let listener = TcpListener::bind("127.0.0.1:0").await?;
let addr = listener.local_addr()?;
let mut client = TcpStream::connect(addr).await?;
let (mut server, peer) = listener.accept().await?;
assert_eq!(peer, client.local_addr()?);

server.write_all(b"welcome").await?;
let mut buf = [0; 7];
client.read_exact(&mut buf).await?;
assert_eq!(&buf, b"welcome");"#)]
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
    /// [`TcpSocket`](super::TcpSocket).
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
    #[doc = example!(r#"
use weft_reactor::net::TcpListener;

let listener = TcpListener::bind("127.0.0.1:0").await?;
assert_ne!(listener.local_addr()?.port(), 0);"#)]
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
    #[doc = example!(r#"
use weft_reactor::net::{TcpListener, TcpStream};

let listener = TcpListener::bind("127.0.0.1:0").await?;
let client = TcpStream::connect(listener.local_addr()?).await?;
let (server, peer) = listener.accept().await?;
assert_eq!(server.peer_addr()?, peer);"#)]
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
    #[doc = example!(r#"
use weft_reactor::net::{TcpListener, TcpStream};

let listener = TcpListener::bind("127.0.0.1:0").await?;
let client = TcpStream::connect(listener.local_addr()?).await?;
let (server, _) = std::future::poll_fn(|cx| listener.poll_accept(cx)).await?;"#)]
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
    #[doc = example!(r#"
let listener = weft_reactor::net::TcpListener::bind("127.0.0.1:0").await?;
assert!(listener.local_addr()?.ip().is_loopback());"#)]
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
    #[doc = example!(r#"
let listener = weft_reactor::net::TcpListener::bind("127.0.0.1:0").await?;
listener.set_ttl(100)?;
assert_eq!(listener.ttl()?, 100);"#)]
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

std_conversions!(
    TcpListener { io: IoSource },
    std::net::TcpListener,
    mio::net::TcpListener,
    r#"
use weft_reactor::net::TcpListener;

let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
let listener = TcpListener::from_std(std_listener)?;
let std_listener = listener.into_std()?;
std_listener.set_nonblocking(false)?;"#
);
