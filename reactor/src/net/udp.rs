//! The UDP socket.
//!
//! Its length is docs, not code (about 280 lines of code): STYLE.md counts
//! code lines only, and every public method is a one-line call into the
//! shared core, written out with its own documentation and runnable
//! example, so that go-to-definition and the docs find each one here.

use crate::io::Direction;
use crate::net::datagram::Datagram;
use crate::net::{Interest, Ready, each_addr, first_addr, to_u32, to_usize};
use socket2::SockRef;
use std::future::poll_fn;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::task::{Context, Poll};

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
/// ```
/// # use weft_reactor as weft;
/// # fn main() -> std::io::Result<()> {
/// # let driver = weft_reactor::Driver::new()?;
/// # let _enter = driver.handle().enter();
/// # #[allow(unused_variables, unused_mut)]
/// # let mut task = std::pin::pin!(async {
/// use weft::net::UdpSocket;
///
/// let server = UdpSocket::bind("127.0.0.1:0").await?;
/// let client = UdpSocket::bind("127.0.0.1:0").await?;
///
/// client.send_to(b"ping", server.local_addr()?).await?;
/// let mut buf = [0; 64];
/// let (n, from) = server.recv_from(&mut buf).await?;
/// assert_eq!(&buf[..n], b"ping");
/// assert_eq!(from, client.local_addr()?);
/// server.send_to(b"pong", from).await?;
/// let n = client.recv(&mut buf).await?;
/// assert_eq!(&buf[..n], b"pong");
/// # Ok::<_, std::io::Error>(()) });
/// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
/// # }
/// ```
#[derive(Debug)]
pub struct UdpSocket {
    inner: Datagram<mio::net::UdpSocket>,
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
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// let socket = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// assert_ne!(socket.local_addr()?.port(), 0);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
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
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// use weft::net::UdpSocket;
    ///
    /// let a = UdpSocket::bind("127.0.0.1:0").await?;
    /// let b = UdpSocket::bind("127.0.0.1:0").await?;
    /// a.connect(b.local_addr()?).await?;
    /// assert_eq!(a.peer_addr()?, b.local_addr()?);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        each_addr(addr, |addr| async move { self.inner.get_ref().connect(addr) }).await
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
    /// # let a = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # let b = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # a.connect(b.local_addr()?).await?;
    /// # b.connect(a.local_addr()?).await?;
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
    /// # let a = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # let b = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # a.connect(b.local_addr()?).await?;
    /// # b.connect(a.local_addr()?).await?;
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
    /// # let a = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # let b = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # a.connect(b.local_addr()?).await?;
    /// # b.connect(a.local_addr()?).await?;
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
    /// # let a = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # let b = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # a.connect(b.local_addr()?).await?;
    /// # b.connect(a.local_addr()?).await?;
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
    /// # let a = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # let b = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # a.connect(b.local_addr()?).await?;
    /// # b.connect(a.local_addr()?).await?;
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
    /// # let a = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # let b = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # a.connect(b.local_addr()?).await?;
    /// # b.connect(a.local_addr()?).await?;
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
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// use weft::net::UdpSocket;
    ///
    /// let a = UdpSocket::bind("127.0.0.1:0").await?;
    /// let b = UdpSocket::bind("127.0.0.1:0").await?;
    /// let n = a.send_to(b"hi", b.local_addr()?).await?;
    /// assert_eq!(n, 2);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
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
        self.inner
            .poll_io(cx, Direction::Write, |io| io.send_to(buf, target))
    }

    /// Sends `buf` to `target` without waiting; an error of kind
    /// `WouldBlock` if there is no room.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, as above; otherwise as
    /// [`send_to`](UdpSocket::send_to).
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.inner.try_io(Direction::Write, |io| io.send_to(buf, target))
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
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let a = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # let b = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # a.connect(b.local_addr()?).await?;
    /// # b.connect(a.local_addr()?).await?;
    /// b.send(b"hi").await?;
    /// let mut buf = [0; 16];
    /// let (n, from) = a.peek_from(&mut buf).await?;
    /// assert_eq!(from, b.local_addr()?);
    /// assert_eq!(a.recv(&mut buf).await?, n); // still there
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
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
        self.inner.poll_io(cx, Direction::Read, |io| io.peek_from(buf))
    }

    /// Peeks at a datagram without waiting; an error of kind `WouldBlock`
    /// if none has arrived.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, as above; otherwise as [`recv`](UdpSocket::recv).
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.try_io(Direction::Read, |io| io.peek_from(buf))
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
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let a = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # let b = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # a.connect(b.local_addr()?).await?;
    /// # b.connect(a.local_addr()?).await?;
    /// b.send(b"hi").await?;
    /// assert_eq!(a.peek_sender().await?, b.local_addr()?);
    /// let mut buf = [0; 16];
    /// assert_eq!(a.recv(&mut buf).await?, 2); // still there
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
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
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let a = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # let b = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # a.connect(b.local_addr()?).await?;
    /// # b.connect(a.local_addr()?).await?;
    /// b.send(b"hi").await?;
    /// let from = std::future::poll_fn(|cx| a.poll_peek_sender(cx)).await?;
    /// assert_eq!(from, b.local_addr()?);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn poll_peek_sender(&self, cx: &mut Context<'_>) -> Poll<io::Result<SocketAddr>> {
        self.inner.poll_io(cx, Direction::Read, peek_sender)
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
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let a = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # let b = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # a.connect(b.local_addr()?).await?;
    /// # b.connect(a.local_addr()?).await?;
    /// let error = a.try_peek_sender().unwrap_err();
    /// assert_eq!(error.kind(), std::io::ErrorKind::WouldBlock);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn try_peek_sender(&self) -> io::Result<SocketAddr> {
        self.inner.try_io(Direction::Read, peek_sender)
    }

    /// The socket, for the options mio does not offer.
    fn socket(&self) -> SockRef<'_> {
        SockRef::from(self.inner.get_ref())
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
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let a = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # let b = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # a.connect(b.local_addr()?).await?;
    /// # b.connect(a.local_addr()?).await?;
    /// a.set_send_buffer_size(64 * 1024)?;
    /// assert!(a.send_buffer_size()? >= 64 * 1024);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.socket().set_send_buffer_size(to_usize(size))
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
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let a = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # let b = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # a.connect(b.local_addr()?).await?;
    /// # b.connect(a.local_addr()?).await?;
    /// assert!(a.send_buffer_size()? > 0);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        self.socket().send_buffer_size().map(to_u32)
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
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let a = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # let b = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # a.connect(b.local_addr()?).await?;
    /// # b.connect(a.local_addr()?).await?;
    /// a.set_recv_buffer_size(256 * 1024)?;
    /// assert!(a.recv_buffer_size()? >= 256 * 1024);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.socket().set_recv_buffer_size(to_usize(size))
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
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let a = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # let b = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # a.connect(b.local_addr()?).await?;
    /// # b.connect(a.local_addr()?).await?;
    /// assert!(a.recv_buffer_size()? > 0);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        self.socket().recv_buffer_size().map(to_u32)
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
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let a = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # let b = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # a.connect(b.local_addr()?).await?;
    /// # b.connect(a.local_addr()?).await?;
    /// a.set_tos_v4(0x10)?;
    /// assert_eq!(a.tos_v4()?, 0x10);
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

    /// `IP_TOS`; see [`set_tos_v4`](UdpSocket::set_tos_v4).
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
    /// # let a = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # let b = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # a.connect(b.local_addr()?).await?;
    /// # b.connect(a.local_addr()?).await?;
    /// assert_eq!(a.tos_v4()?, 0);
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

    /// [`set_tos_v4`](UdpSocket::set_tos_v4) under its older tokio name,
    /// which tokio keeps, deprecated; weft keeps it plain.
    ///
    /// # Errors
    ///
    /// As [`set_tos_v4`](UdpSocket::set_tos_v4).
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
    /// # let a = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # let b = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # a.connect(b.local_addr()?).await?;
    /// # b.connect(a.local_addr()?).await?;
    /// a.set_tos(0x10)?;
    /// assert_eq!(a.tos()?, 0x10);
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
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// # let a = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # let b = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # a.connect(b.local_addr()?).await?;
    /// # b.connect(a.local_addr()?).await?;
    /// assert_eq!(a.tos()?, 0);
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
    /// ```
    /// # use weft_reactor as weft;
    /// # fn main() -> std::io::Result<()> {
    /// # let driver = weft_reactor::Driver::new()?;
    /// # let _enter = driver.handle().enter();
    /// # #[allow(unused_variables, unused_mut)]
    /// # let mut task = std::pin::pin!(async {
    /// // Where the system has IPv6 on loopback:
    /// if let Ok(socket) = weft::net::UdpSocket::bind("[::1]:0").await {
    ///     socket.set_tclass_v6(0x10)?;
    ///     assert_eq!(socket.tclass_v6()?, 0x10);
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

    /// `IPV6_TCLASS`; see [`set_tclass_v6`](UdpSocket::set_tclass_v6).
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
    /// if let Ok(socket) = weft::net::UdpSocket::bind("[::1]:0").await {
    ///     assert_eq!(socket.tclass_v6()?, 0);
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

    /// Sets `SO_BROADCAST`: whether the socket may send to a broadcast
    /// address.
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
    /// # let a = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # let b = weft::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # a.connect(b.local_addr()?).await?;
    /// # b.connect(a.local_addr()?).await?;
    /// a.set_broadcast(true)?;
    /// assert!(a.broadcast()?);
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.inner.get_ref().set_broadcast(on)
    }

    /// Whether `SO_BROADCAST` is set.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.inner.get_ref().broadcast()
    }

    /// Sets the `IP_TTL` option: the time-to-live of the packets sent.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.inner.get_ref().set_ttl(ttl)
    }

    /// The `IP_TTL` option.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn ttl(&self) -> io::Result<u32> {
        self.inner.get_ref().ttl()
    }

    /// Sets `IP_MULTICAST_LOOP`: whether multicast datagrams sent come back
    /// to the local sockets.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.inner.get_ref().set_multicast_loop_v4(on)
    }

    /// Whether `IP_MULTICAST_LOOP` is set.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.inner.get_ref().multicast_loop_v4()
    }

    /// Sets `IP_MULTICAST_TTL`: the time-to-live of multicast datagrams.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.inner.get_ref().set_multicast_ttl_v4(ttl)
    }

    /// The `IP_MULTICAST_TTL` option.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.inner.get_ref().multicast_ttl_v4()
    }

    /// Sets `IPV6_MULTICAST_LOOP`.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.inner.get_ref().set_multicast_loop_v6(on)
    }

    /// Whether `IPV6_MULTICAST_LOOP` is set.
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.inner.get_ref().multicast_loop_v6()
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface with
    /// address `interface` (`Ipv4Addr::UNSPECIFIED` lets the system choose).
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.inner.get_ref().join_multicast_v4(&multiaddr, &interface)
    }

    /// Leaves an IPv4 multicast group; see
    /// [`join_multicast_v4`](UdpSocket::join_multicast_v4).
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.inner.get_ref().leave_multicast_v4(&multiaddr, &interface)
    }

    /// Joins the IPv6 multicast group `multiaddr` on the interface with
    /// index `interface` (0 lets the system choose).
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.inner.get_ref().join_multicast_v6(multiaddr, interface)
    }

    /// Leaves an IPv6 multicast group; see
    /// [`join_multicast_v6`](UdpSocket::join_multicast_v6).
    ///
    /// # Errors
    ///
    /// What the operating system says.
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.inner.get_ref().leave_multicast_v6(multiaddr, interface)
    }
}

/// The sender of the datagram at the head of the queue, left there.
fn peek_sender(io: &mio::net::UdpSocket) -> io::Result<SocketAddr> {
    SockRef::from(io)
        .peek_sender()?
        .as_socket()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not an IP socket address"))
}

impl UdpSocket {
    /// Registers `socket` with the current driver.
    pub(crate) fn from_mio(socket: mio::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            inner: Datagram::new(socket)?,
        })
    }

    /// Registers a [`std::net::UdpSocket`] with the current driver, after putting
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
    /// use weft::net::UdpSocket;
    ///
    /// let std_socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// let socket = UdpSocket::from_std(std_socket)?;
    /// let std_socket = socket.into_std()?;
    /// std_socket.set_nonblocking(false)?;
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        UdpSocket::from_mio(mio::net::UdpSocket::from_std(socket))
    }

    /// Deregisters the socket and returns it as a [`std::net::UdpSocket`], still in
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
    /// use weft::net::UdpSocket;
    ///
    /// let std_socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// let socket = UdpSocket::from_std(std_socket)?;
    /// let std_socket = socket.into_std()?;
    /// std_socket.set_nonblocking(false)?;
    /// # Ok::<_, std::io::Error>(()) });
    /// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    /// # loop { if let std::task::Poll::Ready(result) = task.as_mut().poll(&mut cx) { return result; } driver.park(None); }
    /// # }
    /// ```
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        Ok(self.inner.into_inner().into())
    }
}

impl TryFrom<std::net::UdpSocket> for UdpSocket {
    type Error = io::Error;

    /// As [`UdpSocket::from_std`].
    fn try_from(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        UdpSocket::from_std(socket)
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for UdpSocket {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(self.inner.get_ref())
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(self.inner.get_ref())
    }
}
