//! The Unix datagram socket.

use super::SocketAddr;
use super::addr::Target;
use crate::io::{Direction, IoSource};
use crate::net::{Interest, Ready, check_reactor, uninterrupted};
use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::path::Path;
use std::task::{Context, Poll};

/// The hidden start of the examples: `a` and `b`, a connected pair.
macro_rules! unix_datagram_setup {
    () => {
        "# let (a, b) = weft_reactor::net::UnixDatagram::pair()?;\n"
    };
}

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
#[doc = example!(r#"
use weft_reactor::net::UnixDatagram;

let dir = std::env::temp_dir();
let server_path = dir.join(format!("weft-doc-{}-dgram-server.sock", std::process::id()));
let _ = std::fs::remove_file(&server_path);
let server = UnixDatagram::bind(&server_path)?;
let client = UnixDatagram::unbound()?;

client.send_to(b"ping", &server_path).await?;
let mut buf = [0; 64];
let (n, from) = server.recv_from(&mut buf).await?;
assert_eq!(&buf[..n], b"ping");
assert!(from.is_unnamed()); // an unbound sender cannot be answered
std::fs::remove_file(&server_path)?;"#)]
#[derive(Debug)]
pub struct UnixDatagram {
    io: IoSource<mio::net::UnixDatagram>,
}

impl UnixDatagram {
    /// Creates a socket file at `path` and binds a datagram socket to it.
    /// On Linux and Android a `path` that starts with a null byte
    /// (`"\0name"`) is an abstract name: no file is created (see
    /// [the module](super::unix#abstract-names)).
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
    #[doc = example!(r#"
use weft_reactor::net::UnixDatagram;

let path = std::env::temp_dir().join(format!("weft-doc-{}-dgram-bind.sock", std::process::id()));
let _ = std::fs::remove_file(&path);
let socket = UnixDatagram::bind(&path)?;
assert_eq!(socket.local_addr()?.as_pathname(), Some(path.as_path()));
std::fs::remove_file(&path)?;"#)]
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
    #[doc = example!(r#"
let socket = weft_reactor::net::UnixDatagram::unbound()?;
assert!(socket.local_addr()?.is_unnamed());"#)]
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
    #[doc = example!(r#"
use weft_reactor::net::UnixDatagram;

let (a, b) = UnixDatagram::pair()?;
a.send(b"hi").await?;
let mut buf = [0; 16];
let n = b.recv(&mut buf).await?;
assert_eq!(&buf[..n], b"hi");"#)]
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
    #[doc = example!(r#"
use weft_reactor::net::UnixDatagram;

let path = std::env::temp_dir().join(format!("weft-doc-{}-dgram-connect.sock", std::process::id()));
let _ = std::fs::remove_file(&path);
let server = UnixDatagram::bind(&path)?;
let client = UnixDatagram::unbound()?;
client.connect(&path)?;
client.send(b"hi").await?;
let mut buf = [0; 16];
assert_eq!(server.recv(&mut buf).await?, 2);
std::fs::remove_file(&path)?;"#)]
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        match Target::of(path.as_ref()) {
            Target::Path(path) => self.io.get_ref().connect(path),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Target::Abstract(name) => {
                let addr = super::addr::abstract_sock_addr(name)?;
                socket2::SockRef::from(self.io.get_ref()).connect(&addr)
            }
        }
    }

    datagram_methods!(SocketAddr, unix_datagram_setup!());

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
    #[doc = example!(unix_datagram_setup!(), r#"
use weft_reactor::net::Interest;

let ready = a.ready(Interest::READABLE | Interest::WRITABLE).await?;
assert!(ready.is_writable());
a.try_send(b"ping")?;
let mut buf = [0; 16];
let n = loop {
    b.ready(Interest::READABLE).await?;
    match b.try_recv(&mut buf) {
        Ok(n) => break n,
        // The readiness was stale: it is forgotten, the next ready waits.
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
        Err(e) => return Err(e),
    }
};
assert_eq!(&buf[..n], b"ping");"#)]
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        crate::net::readiness::ready(&self.io, interest).await
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
    #[doc = example!(r#"
use weft_reactor::net::UnixDatagram;

let path = std::env::temp_dir().join(format!("weft-doc-{}-dgram-send-to.sock", std::process::id()));
let _ = std::fs::remove_file(&path);
let server = UnixDatagram::bind(&path)?;
let client = UnixDatagram::unbound()?;
assert_eq!(client.send_to(b"hi", &path).await?, 2);
std::fs::remove_file(&path)?;"#)]
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
        self.io
            .poll_io(cx, Direction::Write, |io| uninterrupted(|| dest.send_to(io, buf)))
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
        self.io
            .try_io(Direction::Write, |io| uninterrupted(|| dest.send_to(io, buf)))
    }

    /// Shuts down the read side, the write side or both: receiving then
    /// returns `Ok(0)` at once, sending fails with `BrokenPipe`.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
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

std_conversions!(
    UnixDatagram { io: IoSource },
    std::os::unix::net::UnixDatagram,
    mio::net::UnixDatagram,
    r#"
use weft_reactor::net::UnixDatagram;

let (std_socket, _peer) = std::os::unix::net::UnixDatagram::pair()?;
let socket = UnixDatagram::from_std(std_socket)?;
let std_socket = socket.into_std()?;
std_socket.set_nonblocking(false)?;"#
);
