//! The TCP stream and its halves.

use crate::net::each_addr;
use crate::net::stream::Stream;
use crate::net::{Interest, Ready};
use socket2::SockRef;
use std::future::poll_fn;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::task::{Context, Poll};
use std::time::Duration;

/// The hidden start of the examples: `s`, a connected stream, and `b`, its
/// peer.
macro_rules! tcp_setup {
    () => {
        concat!(
            "# let listener = weft_reactor::net::TcpListener::bind(\"127.0.0.1:0\").await?;\n",
            "# let mut s = weft_reactor::net::TcpStream::connect(listener.local_addr()?).await?;\n",
            "# let (mut b, _) = listener.accept().await?;\n",
        )
    };
}

/// A TCP connection.
///
/// Make one with [`connect`](TcpStream::connect), or accept one from a
/// [`TcpListener`](super::super::TcpListener). Reading and writing take
/// `&mut self`; to do both at once, [`split`](TcpStream::split) it (within
/// one task) or [`into_split`](TcpStream::into_split) it (across tasks). It
/// implements [`futures_io::AsyncRead`] and [`futures_io::AsyncWrite`].
/// Dropping it closes the connection.
///
/// # Examples
///
#[doc = example!(r#"
use weft_reactor::net::{TcpListener, TcpStream};

let listener = TcpListener::bind("127.0.0.1:0").await?;
let mut stream = TcpStream::connect(listener.local_addr()?).await?;
let (mut peer, _) = listener.accept().await?;

stream.write_all(b"ping").await?;
let mut buf = [0; 4];
peer.read_exact(&mut buf).await?;
assert_eq!(&buf, b"ping");

// The peer closes: reads see the end of the stream.
drop(peer);
assert_eq!(stream.read(&mut buf).await?, 0);"#)]
#[derive(Debug)]
pub struct TcpStream {
    core: Stream<mio::net::TcpStream>,
}

stream_type! {
    stream: TcpStream,
    mio: mio::net::TcpStream,
    addr: SocketAddr,
    setup: tcp_setup!(),
}

/// `peek` and `poll_peek`, on the stream and its read halves.
macro_rules! peek_methods {
    ($setup:expr) => {
        /// Reads into `buf` what has arrived, once something has, without
        /// taking it from the stream: the next read sees it again. Returns
        /// the number of bytes copied, or `Ok(0)` at the end of the stream
        /// or for an empty `buf`. Cancel-safe.
        ///
        /// # Errors
        ///
        /// As [`read`](Self::read).
        ///
        /// # Examples
        ///
        #[doc = example!($setup, r#"
b.write_all(b"hello").await?;
let mut buf = [0; 5];
let n = a.peek(&mut buf).await?;
assert_eq!(&buf[..n], &b"hello"[..n]);
a.read_exact(&mut buf).await?; // still there
assert_eq!(&buf, b"hello");"#)]
        pub async fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            poll_fn(|cx| self.poll_peek(cx, buf)).await
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
        #[doc = example!($setup, r#"
b.write_all(b"hi").await?;
let mut buf = [0; 2];
let n = std::future::poll_fn(|cx| a.poll_peek(cx, &mut buf)).await?;
assert_eq!(&buf[..n], &b"hi"[..n]);"#)]
        pub fn poll_peek(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
            if buf.is_empty() {
                return Poll::Ready(Ok(0));
            }
            self.core().poll_read_with(cx, |io| io.peek(buf))
        }
    };
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
    #[doc = example!(r#"
use weft_reactor::net::{TcpListener, TcpStream};

let listener = TcpListener::bind("127.0.0.1:0").await?;
let addr = listener.local_addr()?;
let stream = TcpStream::connect(addr).await?;
assert_eq!(stream.peer_addr()?, addr);

// Nothing listens on that port any more.
drop((stream, listener));
let error = TcpStream::connect(addr).await.unwrap_err();
assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);"#)]
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
        stream.core.finish_connect().await?;
        Ok(stream)
    }
    // ANCHOR_END: tcp-connect

    peek_methods!(concat!(tcp_setup!(), "# let mut a = s;\n"));

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
    #[doc = example!(tcp_setup!(), r#"
use weft_reactor::net::Interest;

b.write_all(b"ping").await?;
let mut buf = [0; 16];
let mut sent = false;
let mut got = 0;
while !sent || got == 0 {
    // Ask only for what is still to do: a stream is writable nearly always.
    let interest = if sent {
        Interest::READABLE
    } else {
        Interest::READABLE | Interest::WRITABLE
    };
    let ready = s.ready(interest).await?;
    if ready.is_readable() {
        match s.try_read(&mut buf) {
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    if ready.is_writable() && !sent {
        match s.try_write(b"pong") {
            Ok(_) => sent = true,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
}
assert_eq!(&buf[..got], b"ping");"#)]
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.core.ready_interest(interest).await
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
    #[doc = example!(tcp_setup!(), r#"
s.set_nodelay(true)?;
assert!(s.nodelay()?);"#)]
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.core.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set; see
    /// [`set_nodelay`](TcpStream::set_nodelay).
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.core.get_ref().nodelay()
    }

    /// Sets the `IP_TTL` option: the time-to-live of the packets sent.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    ///
    /// # Examples
    ///
    #[doc = example!(tcp_setup!(), r#"
s.set_ttl(64)?;
assert_eq!(s.ttl()?, 64);"#)]
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.core.get_ref().set_ttl(ttl)
    }

    /// The `IP_TTL` option; see [`set_ttl`](TcpStream::set_ttl).
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn ttl(&self) -> io::Result<u32> {
        self.core.get_ref().ttl()
    }

    /// Takes the pending `SO_ERROR` of the socket, if any.
    ///
    /// # Errors
    ///
    /// What the operating system says when asked.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.core.get_ref().take_error()
    }

    /// The socket, for the options mio does not offer.
    fn socket(&self) -> SockRef<'_> {
        SockRef::from(self.core.get_ref())
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
    #[doc = example!(tcp_setup!(), r#"
use std::time::Duration;

s.set_linger(Some(Duration::ZERO))?;
assert_eq!(s.linger()?, Some(Duration::ZERO));
drop(s); // resets the connection
let mut buf = [0; 1];
let error = b.read(&mut buf).await.unwrap_err();
assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset);"#)]
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
    #[doc = example!(tcp_setup!(), r#"
assert_eq!(s.linger()?, None);"#)]
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
    #[doc = example!(tcp_setup!(), r#"
s.set_send_buffer_size(64 * 1024)?;
assert!(s.send_buffer_size()? >= 64 * 1024);"#)]
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.socket()
            .set_send_buffer_size(usize::try_from(size).unwrap_or(usize::MAX))
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
    #[doc = example!(tcp_setup!(), r#"
assert!(s.send_buffer_size()? > 0);"#)]
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        let size = self.socket().send_buffer_size()?;
        Ok(u32::try_from(size).unwrap_or(u32::MAX))
    }

    /// Sets `SO_RCVBUF`, the size of the kernel's receive buffer, in bytes.
    /// The system may round or bound it (Linux doubles it); on a connected
    /// stream it no longer widens the window the handshake announced, so
    /// set it on a [`TcpSocket`](super::super::TcpSocket) before connecting
    /// for that. tokio offers this on its `TcpSocket` only.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    ///
    /// # Examples
    ///
    #[doc = example!(tcp_setup!(), r#"
s.set_recv_buffer_size(64 * 1024)?;
assert!(s.recv_buffer_size()? >= 64 * 1024);"#)]
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.socket()
            .set_recv_buffer_size(usize::try_from(size).unwrap_or(usize::MAX))
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
    #[doc = example!(tcp_setup!(), r#"
assert!(s.recv_buffer_size()? > 0);"#)]
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        let size = self.socket().recv_buffer_size()?;
        Ok(u32::try_from(size).unwrap_or(u32::MAX))
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
    #[doc = example!(tcp_setup!(), r#"
s.set_tos_v4(0x10)?;
assert_eq!(s.tos_v4()?, 0x10);"#)]
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
    #[doc = example!(tcp_setup!(), r#"
assert_eq!(s.tos_v4()?, 0);"#)]
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
    #[doc = example!(r#"
use weft_reactor::net::{TcpListener, TcpStream};

// Where the system has IPv6 on loopback:
if let Ok(listener) = TcpListener::bind("[::1]:0").await {
    let s = TcpStream::connect(listener.local_addr()?).await?;
    s.set_tclass_v6(0x10)?;
    assert_eq!(s.tclass_v6()?, 0x10);
}"#)]
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
    #[doc = example!(r#"
use weft_reactor::net::{TcpListener, TcpStream};

if let Ok(listener) = TcpListener::bind("[::1]:0").await {
    let s = TcpStream::connect(listener.local_addr()?).await?;
    assert_eq!(s.tclass_v6()?, 0);
}"#)]
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

impl OwnedReadHalf {
    peek_methods!(concat!(tcp_setup!(), "# let (mut a, _write) = s.into_split();\n"));
}

impl ReadHalf<'_> {
    peek_methods!(concat!(tcp_setup!(), "# let (mut a, _write) = s.split();\n"));
}

std_conversions!(
    TcpStream { core: Stream },
    std::net::TcpStream,
    mio::net::TcpStream,
    r#"
use weft_reactor::net::TcpStream;

let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
let std_stream = std::net::TcpStream::connect(listener.local_addr()?)?;
let stream = TcpStream::from_std(std_stream)?;
let std_stream = stream.into_std()?;
std_stream.set_nonblocking(false)?;"#
);
