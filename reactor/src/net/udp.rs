//! The UDP socket.

use crate::io::{Direction, IoSource};
use crate::net::{Interest, Ready, each_addr, first_addr, uninterrupted};
use socket2::SockRef;
use std::future::poll_fn;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::task::{Context, Poll};

/// The hidden start of the examples: `a` and `b`, two sockets connected to
/// each other.
macro_rules! udp_setup {
    () => {
        concat!(
            "# let a = weft_reactor::net::UdpSocket::bind(\"127.0.0.1:0\").await?;\n",
            "# let b = weft_reactor::net::UdpSocket::bind(\"127.0.0.1:0\").await?;\n",
            "# a.connect(b.local_addr()?).await?;\n",
            "# b.connect(a.local_addr()?).await?;\n",
        )
    };
}

/// A UDP socket.
///
/// [`bind`](UdpSocket::bind) it, then exchange datagrams with any address
/// ([`send_to`](UdpSocket::send_to), [`recv_from`](UdpSocket::recv_from)),
/// or [`connect`](UdpSocket::connect) it to one peer and use
/// [`send`](UdpSocket::send) and [`recv`](UdpSocket::recv). All methods take
/// `&self`: share it (in an `Arc`) between a task that receives and one that
/// sends. Dropping it closes the socket.
///
/// # Examples
///
#[doc = example!(r#"
use weft_reactor::net::UdpSocket;

let server = UdpSocket::bind("127.0.0.1:0").await?;
let client = UdpSocket::bind("127.0.0.1:0").await?;

client.send_to(b"ping", server.local_addr()?).await?;
let mut buf = [0; 64];
let (n, from) = server.recv_from(&mut buf).await?;
assert_eq!(&buf[..n], b"ping");
assert_eq!(from, client.local_addr()?);
server.send_to(b"pong", from).await?;
let n = client.recv(&mut buf).await?;
assert_eq!(&buf[..n], b"pong");"#)]
#[derive(Debug)]
pub struct UdpSocket {
    io: IoSource<mio::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds a socket to `addr`, trying each address it resolves to until
    /// one works. Port 0 asks the system for a free port; see
    /// [`local_addr`](UdpSocket::local_addr).
    ///
    /// # Errors
    ///
    /// An error of kind `Other` if no driver is entered on this thread;
    /// otherwise the error of the last address tried (`AddrInUse`, ...), or
    /// `InvalidInput` if `addr` resolves to no address.
    ///
    /// # Examples
    ///
    #[doc = example!(r#"
let socket = weft_reactor::net::UdpSocket::bind("127.0.0.1:0").await?;
assert_ne!(socket.local_addr()?.port(), 0);"#)]
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        each_addr(addr, |addr| async move {
            UdpSocket::from_mio(mio::net::UdpSocket::bind(addr)?)
        })
        .await
    }

    /// Connects the socket to `addr`, trying each address it resolves to
    /// until one works: [`send`](UdpSocket::send) then sends there, and only
    /// datagrams from there are received. Connecting again changes the
    /// peer. No packet is sent.
    ///
    /// # Errors
    ///
    /// The error of the last address tried, or `InvalidInput` if `addr`
    /// resolves to no address.
    ///
    /// # Examples
    ///
    #[doc = example!(r#"
use weft_reactor::net::UdpSocket;

let a = UdpSocket::bind("127.0.0.1:0").await?;
let b = UdpSocket::bind("127.0.0.1:0").await?;
a.connect(b.local_addr()?).await?;
assert_eq!(a.peer_addr()?, b.local_addr()?);"#)]
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        each_addr(addr, |addr| async move { self.io.get_ref().connect(addr) }).await
    }

    datagram_methods!(SocketAddr, udp_setup!());

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
    #[doc = example!(udp_setup!(), r#"
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

    /// Sends `buf` as one datagram to `target` (the first address it
    /// resolves to), once there is room: the number of bytes sent.
    /// Cancel-safe.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `target` resolves to no address; an error if the
    /// datagram is too long (`EMSGSIZE`), if the address cannot be reached
    /// from this socket, or if the driver has shut down.
    ///
    /// # Examples
    ///
    #[doc = example!(r#"
use weft_reactor::net::UdpSocket;

let a = UdpSocket::bind("127.0.0.1:0").await?;
let b = UdpSocket::bind("127.0.0.1:0").await?;
let n = a.send_to(b"hi", b.local_addr()?).await?;
assert_eq!(n, 2);"#)]
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = first_addr(target)?;
        poll_fn(|cx| self.poll_send_to(cx, buf, target)).await
    }

    /// Polls to send `buf` to `target`: the
    /// [`send_to`](UdpSocket::send_to) of a hand-written future.
    ///
    /// # Errors
    ///
    /// As [`send_to`](UdpSocket::send_to).
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Write, |io| {
            uninterrupted(|| io.send_to(buf, target))
        })
    }

    /// Sends `buf` to `target` without waiting; an error of kind
    /// `WouldBlock` if there is no room.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, as above; otherwise as
    /// [`send_to`](UdpSocket::send_to).
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io
            .try_io(Direction::Write, |io| uninterrupted(|| io.send_to(buf, target)))
    }

    /// Like [`recv_from`](UdpSocket::recv_from), without taking the datagram
    /// from the socket: the next receive sees it again. Cancel-safe.
    ///
    /// # Errors
    ///
    /// As [`recv`](UdpSocket::recv).
    ///
    /// # Examples
    ///
    #[doc = example!(udp_setup!(), r#"
b.send(b"hi").await?;
let mut buf = [0; 16];
let (n, from) = a.peek_from(&mut buf).await?;
assert_eq!(from, b.local_addr()?);
assert_eq!(a.recv(&mut buf).await?, n); // still there"#)]
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.poll_peek_from(cx, buf)).await
    }

    /// Polls to peek at a datagram: the
    /// [`peek_from`](UdpSocket::peek_from) of a hand-written future.
    ///
    /// # Errors
    ///
    /// As [`recv`](UdpSocket::recv).
    pub fn poll_peek_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io
            .poll_io(cx, Direction::Read, |io| uninterrupted(|| io.peek_from(buf)))
    }

    /// Peeks at a datagram without waiting; an error of kind `WouldBlock`
    /// if none has arrived.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, as above; otherwise as [`recv`](UdpSocket::recv).
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .try_io(Direction::Read, |io| uninterrupted(|| io.peek_from(buf)))
    }

    /// Waits for a datagram and returns the address it came from, leaving
    /// it in the socket: the next receive gets it. Cancel-safe.
    ///
    /// # Errors
    ///
    /// As [`recv`](UdpSocket::recv).
    ///
    /// # Examples
    ///
    #[doc = example!(udp_setup!(), r#"
b.send(b"hi").await?;
assert_eq!(a.peek_sender().await?, b.local_addr()?);
let mut buf = [0; 16];
assert_eq!(a.recv(&mut buf).await?, 2); // still there"#)]
    pub async fn peek_sender(&self) -> io::Result<SocketAddr> {
        poll_fn(|cx| self.poll_peek_sender(cx)).await
    }

    /// Polls for the sender of the next datagram: the
    /// [`peek_sender`](UdpSocket::peek_sender) of a hand-written future.
    ///
    /// # Errors
    ///
    /// As [`recv`](UdpSocket::recv).
    ///
    /// # Examples
    ///
    #[doc = example!(udp_setup!(), r#"
b.send(b"hi").await?;
let from = std::future::poll_fn(|cx| a.poll_peek_sender(cx)).await?;
assert_eq!(from, b.local_addr()?);"#)]
    pub fn poll_peek_sender(&self, cx: &mut Context<'_>) -> Poll<io::Result<SocketAddr>> {
        self.io
            .poll_io(cx, Direction::Read, |io| uninterrupted(|| peek_sender(io)))
    }

    /// The sender of the next datagram, without waiting; an error of kind
    /// `WouldBlock` if none has arrived.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, as above; otherwise as [`recv`](UdpSocket::recv).
    ///
    /// # Examples
    ///
    #[doc = example!(udp_setup!(), r#"
let error = a.try_peek_sender().unwrap_err();
assert_eq!(error.kind(), std::io::ErrorKind::WouldBlock);"#)]
    pub fn try_peek_sender(&self) -> io::Result<SocketAddr> {
        self.io
            .try_io(Direction::Read, |io| uninterrupted(|| peek_sender(io)))
    }

    /// The socket, for the options mio does not offer.
    fn socket(&self) -> SockRef<'_> {
        SockRef::from(self.io.get_ref())
    }

    /// Sets `SO_SNDBUF`, the size of the kernel's send buffer, in bytes.
    /// The system may round or bound it (Linux doubles it). tokio has no
    /// such method on its `UdpSocket`.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    ///
    /// # Examples
    ///
    #[doc = example!(udp_setup!(), r#"
a.set_send_buffer_size(64 * 1024)?;
assert!(a.send_buffer_size()? >= 64 * 1024);"#)]
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.socket()
            .set_send_buffer_size(usize::try_from(size).unwrap_or(usize::MAX))
    }

    /// `SO_SNDBUF`; see
    /// [`set_send_buffer_size`](UdpSocket::set_send_buffer_size).
    ///
    /// # Errors
    ///
    /// What the operating system says.
    ///
    /// # Examples
    ///
    #[doc = example!(udp_setup!(), r#"
assert!(a.send_buffer_size()? > 0);"#)]
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        let size = self.socket().send_buffer_size()?;
        Ok(u32::try_from(size).unwrap_or(u32::MAX))
    }

    /// Sets `SO_RCVBUF`, the size of the kernel's receive buffer, in bytes:
    /// how many datagrams may wait before new ones are dropped. The system
    /// may round or bound it (Linux doubles it). tokio has no such method
    /// on its `UdpSocket`.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    ///
    /// # Examples
    ///
    #[doc = example!(udp_setup!(), r#"
a.set_recv_buffer_size(256 * 1024)?;
assert!(a.recv_buffer_size()? >= 256 * 1024);"#)]
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.socket()
            .set_recv_buffer_size(usize::try_from(size).unwrap_or(usize::MAX))
    }

    /// `SO_RCVBUF`; see
    /// [`set_recv_buffer_size`](UdpSocket::set_recv_buffer_size).
    ///
    /// # Errors
    ///
    /// What the operating system says.
    ///
    /// # Examples
    ///
    #[doc = example!(udp_setup!(), r#"
assert!(a.recv_buffer_size()? > 0);"#)]
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        let size = self.socket().recv_buffer_size()?;
        Ok(u32::try_from(size).unwrap_or(u32::MAX))
    }

    /// Sets `IP_TOS`, the type-of-service byte of the IPv4 datagrams sent
    /// (DSCP and ECN bits). IPv4 sockets only.
    ///
    /// # Errors
    ///
    /// What the operating system says (an error on an IPv6 socket).
    ///
    /// # Examples
    ///
    #[doc = example!(udp_setup!(), r#"
a.set_tos_v4(0x10)?;
assert_eq!(a.tos_v4()?, 0x10);"#)]
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

    /// `IP_TOS`; see [`set_tos_v4`](UdpSocket::set_tos_v4).
    ///
    /// # Errors
    ///
    /// What the operating system says.
    ///
    /// # Examples
    ///
    #[doc = example!(udp_setup!(), r#"
assert_eq!(a.tos_v4()?, 0);"#)]
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

    /// [`set_tos_v4`](UdpSocket::set_tos_v4) under its older tokio name,
    /// which tokio keeps, deprecated; weft keeps it plain.
    ///
    /// # Errors
    ///
    /// As [`set_tos_v4`](UdpSocket::set_tos_v4).
    ///
    /// # Examples
    ///
    #[doc = example!(udp_setup!(), r#"
a.set_tos(0x10)?;
assert_eq!(a.tos()?, 0x10);"#)]
    #[cfg(not(any(
        target_os = "fuchsia",
        target_os = "redox",
        target_os = "solaris",
        target_os = "illumos",
        target_os = "haiku",
        target_os = "wasi"
    )))]
    pub fn set_tos(&self, tos: u32) -> io::Result<()> {
        self.set_tos_v4(tos)
    }

    /// [`tos_v4`](UdpSocket::tos_v4) under its older tokio name, which
    /// tokio keeps, deprecated; weft keeps it plain.
    ///
    /// # Errors
    ///
    /// As [`tos_v4`](UdpSocket::tos_v4).
    ///
    /// # Examples
    ///
    #[doc = example!(udp_setup!(), r#"
assert_eq!(a.tos()?, 0);"#)]
    #[cfg(not(any(
        target_os = "fuchsia",
        target_os = "redox",
        target_os = "solaris",
        target_os = "illumos",
        target_os = "haiku",
        target_os = "wasi"
    )))]
    pub fn tos(&self) -> io::Result<u32> {
        self.tos_v4()
    }

    /// Sets `IPV6_TCLASS`, the traffic class of the IPv6 datagrams sent
    /// (the IPv6 counterpart of [`set_tos_v4`](UdpSocket::set_tos_v4)).
    /// IPv6 sockets only.
    ///
    /// # Errors
    ///
    /// What the operating system says (an error on an IPv4 socket).
    ///
    /// # Examples
    ///
    #[doc = example!(r#"
// Where the system has IPv6 on loopback:
if let Ok(socket) = weft_reactor::net::UdpSocket::bind("[::1]:0").await {
    socket.set_tclass_v6(0x10)?;
    assert_eq!(socket.tclass_v6()?, 0x10);
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

    /// `IPV6_TCLASS`; see [`set_tclass_v6`](UdpSocket::set_tclass_v6).
    ///
    /// # Errors
    ///
    /// What the operating system says.
    ///
    /// # Examples
    ///
    #[doc = example!(r#"
if let Ok(socket) = weft_reactor::net::UdpSocket::bind("[::1]:0").await {
    assert_eq!(socket.tclass_v6()?, 0);
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

    /// Sets `SO_BROADCAST`: whether the socket may send to a broadcast
    /// address.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    ///
    /// # Examples
    ///
    #[doc = example!(udp_setup!(), r#"
a.set_broadcast(true)?;
assert!(a.broadcast()?);"#)]
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// Whether `SO_BROADCAST` is set.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }

    /// Sets the `IP_TTL` option: the time-to-live of the packets sent.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The `IP_TTL` option.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets `IP_MULTICAST_LOOP`: whether multicast datagrams sent come back
    /// to the local sockets.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v4(on)
    }

    /// Whether `IP_MULTICAST_LOOP` is set.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v4()
    }

    /// Sets `IP_MULTICAST_TTL`: the time-to-live of multicast datagrams.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_multicast_ttl_v4(ttl)
    }

    /// The `IP_MULTICAST_TTL` option.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.io.get_ref().multicast_ttl_v4()
    }

    /// Sets `IPV6_MULTICAST_LOOP`.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v6(on)
    }

    /// Whether `IPV6_MULTICAST_LOOP` is set.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v6()
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface with
    /// address `interface` (`Ipv4Addr::UNSPECIFIED` lets the system choose).
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().join_multicast_v4(&multiaddr, &interface)
    }

    /// Leaves an IPv4 multicast group; see
    /// [`join_multicast_v4`](UdpSocket::join_multicast_v4).
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v4(&multiaddr, &interface)
    }

    /// Joins the IPv6 multicast group `multiaddr` on the interface with
    /// index `interface` (0 lets the system choose).
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().join_multicast_v6(multiaddr, interface)
    }

    /// Leaves an IPv6 multicast group; see
    /// [`join_multicast_v6`](UdpSocket::join_multicast_v6).
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v6(multiaddr, interface)
    }
}

/// The sender of the datagram at the head of the queue, left there.
fn peek_sender(io: &mio::net::UdpSocket) -> io::Result<SocketAddr> {
    SockRef::from(io)
        .peek_sender()?
        .as_socket()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not an IP socket address"))
}

std_conversions!(
    UdpSocket { io: IoSource },
    std::net::UdpSocket,
    mio::net::UdpSocket,
    r#"
use weft_reactor::net::UdpSocket;

let std_socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
let socket = UdpSocket::from_std(std_socket)?;
let std_socket = socket.into_std()?;
std_socket.set_nonblocking(false)?;"#
);
