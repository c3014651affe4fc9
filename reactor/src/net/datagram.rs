//! The surface UDP and Unix datagram sockets share.
//!
//! Both wrap an `IoSource` of a mio socket with the same method names
//! (`send`, `recv`, `recv_from`, ...), differing only in their address type;
//! `datagram_methods!` writes the shared async, `poll_` and `try_` forms
//! once. Sending to an address, which differs (a socket address against a
//! path), stays with each type.

/// The methods of a datagram socket: a type with an `io: IoSource<_>` field.
/// `$addr` is its address type; `$setup` is the hidden beginning of each
/// example, defining `a`, the socket documented, and `b`, a socket
/// connected to it (and it to `b`).
macro_rules! datagram_methods {
    ($addr:ty, $setup:expr) => {
        /// Waits until the socket is readable: a datagram has arrived or an
        /// error is pending. Pair with [`try_recv`](Self::try_recv) or
        /// [`try_recv_from`](Self::try_recv_from), which clear the readiness
        /// when they would block. Cancel-safe.
        ///
        /// # Errors
        ///
        /// An error if the driver has shut down.
        ///
        /// # Examples
        ///
        #[doc = example!($setup, r#"
b.send(b"hi").await?;
let mut buf = [0; 16];
let n = loop {
    a.readable().await?;
    match a.try_recv(&mut buf) {
        Ok(n) => break n,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
        Err(e) => return Err(e),
    }
};
assert_eq!(&buf[..n], b"hi");"#)]
        pub async fn readable(&self) -> ::std::io::Result<()> {
            $crate::net::ready(&self.io, $crate::io::Direction::Read).await
        }

        /// Polls for read readiness, as [`readable`](Self::readable) waits
        /// for it. Only the waker of the last call is woken.
        ///
        /// # Errors
        ///
        /// An error if the driver has shut down.
        pub fn poll_recv_ready(
            &self,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<::std::io::Result<()>> {
            $crate::net::poll_ready(&self.io, cx, $crate::io::Direction::Read)
        }

        /// Waits until the socket is writable. Pair with
        /// [`try_send`](Self::try_send). Cancel-safe.
        ///
        /// # Errors
        ///
        /// An error if the driver has shut down.
        ///
        /// # Examples
        ///
        #[doc = example!($setup, r#"
a.writable().await?;
a.try_send(b"hi")?;"#)]
        pub async fn writable(&self) -> ::std::io::Result<()> {
            $crate::net::ready(&self.io, $crate::io::Direction::Write).await
        }

        /// Polls for write readiness, as [`writable`](Self::writable) waits
        /// for it. Only the waker of the last call is woken.
        ///
        /// # Errors
        ///
        /// An error if the driver has shut down.
        pub fn poll_send_ready(
            &self,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<::std::io::Result<()>> {
            $crate::net::poll_ready(&self.io, cx, $crate::io::Direction::Write)
        }

        /// Sends `buf` as one datagram to the connected peer, once there is
        /// room: the number of bytes sent. An empty `buf` sends an empty
        /// datagram. Cancel-safe.
        ///
        /// # Errors
        ///
        /// `NotConnected` if the socket is not connected; an error if the
        /// datagram is too long for the socket (`EMSGSIZE`), if an earlier
        /// datagram was refused (`ConnectionRefused`), or if the driver has
        /// shut down.
        ///
        /// # Examples
        ///
        #[doc = example!($setup, r#"
a.send(b"hi").await?;
let mut buf = [0; 16];
let n = b.recv(&mut buf).await?;
assert_eq!(&buf[..n], b"hi");"#)]
        pub async fn send(&self, buf: &[u8]) -> ::std::io::Result<usize> {
            ::std::future::poll_fn(|cx| self.poll_send(cx, buf)).await
        }

        /// Polls to send `buf` to the connected peer: the
        /// [`send`](Self::send) of a hand-written future.
        ///
        /// # Errors
        ///
        /// As [`send`](Self::send).
        pub fn poll_send(
            &self,
            cx: &mut ::std::task::Context<'_>,
            buf: &[u8],
        ) -> ::std::task::Poll<::std::io::Result<usize>> {
            self.io.poll_io(cx, $crate::io::Direction::Write, |io| {
                $crate::net::uninterrupted(|| io.send(buf))
            })
        }

        /// Sends `buf` to the connected peer without waiting; an error of
        /// kind `WouldBlock` if there is no room.
        ///
        /// # Errors
        ///
        /// `WouldBlock`, as above; otherwise as [`send`](Self::send).
        pub fn try_send(&self, buf: &[u8]) -> ::std::io::Result<usize> {
            self.io.try_io($crate::io::Direction::Write, |io| {
                $crate::net::uninterrupted(|| io.send(buf))
            })
        }

        /// Receives a datagram from the connected peer into `buf`, once one
        /// has arrived: its length, or `buf.len()` if it was longer and
        /// has been cut. Cancel-safe.
        ///
        /// # Errors
        ///
        /// `ConnectionRefused` if an earlier datagram was refused (on UDP,
        /// when nothing listens at the peer's port); an error if the driver
        /// has shut down.
        ///
        /// # Examples
        ///
        #[doc = example!($setup, r#"
b.send(b"hi").await?;
let mut buf = [0; 16];
let n = a.recv(&mut buf).await?;
assert_eq!(&buf[..n], b"hi");"#)]
        pub async fn recv(&self, buf: &mut [u8]) -> ::std::io::Result<usize> {
            ::std::future::poll_fn(|cx| self.poll_recv(cx, buf)).await
        }

        /// Polls to receive a datagram into `buf`: the
        /// [`recv`](Self::recv) of a hand-written future.
        ///
        /// # Errors
        ///
        /// As [`recv`](Self::recv).
        pub fn poll_recv(
            &self,
            cx: &mut ::std::task::Context<'_>,
            buf: &mut [u8],
        ) -> ::std::task::Poll<::std::io::Result<usize>> {
            self.io.poll_io(cx, $crate::io::Direction::Read, |io| {
                $crate::net::uninterrupted(|| io.recv(buf))
            })
        }

        /// Receives a datagram into `buf` without waiting; an error of kind
        /// `WouldBlock` if none has arrived.
        ///
        /// # Errors
        ///
        /// `WouldBlock`, as above; otherwise as [`recv`](Self::recv).
        pub fn try_recv(&self, buf: &mut [u8]) -> ::std::io::Result<usize> {
            self.io.try_io($crate::io::Direction::Read, |io| {
                $crate::net::uninterrupted(|| io.recv(buf))
            })
        }

        /// Receives a datagram into `buf`, once one has arrived: its length
        /// (cut to `buf.len()`) and the address it came from. Cancel-safe.
        ///
        /// # Errors
        ///
        /// As [`recv`](Self::recv).
        ///
        /// # Examples
        ///
        #[doc = example!($setup, r#"
b.send(b"hi").await?;
let mut buf = [0; 16];
let (n, from) = a.recv_from(&mut buf).await?;
assert_eq!(&buf[..n], b"hi");"#)]
        pub async fn recv_from(&self, buf: &mut [u8]) -> ::std::io::Result<(usize, $addr)> {
            ::std::future::poll_fn(|cx| self.poll_recv_from(cx, buf)).await
        }

        /// Polls to receive a datagram and its origin: the
        /// [`recv_from`](Self::recv_from) of a hand-written future.
        ///
        /// # Errors
        ///
        /// As [`recv`](Self::recv).
        pub fn poll_recv_from(
            &self,
            cx: &mut ::std::task::Context<'_>,
            buf: &mut [u8],
        ) -> ::std::task::Poll<::std::io::Result<(usize, $addr)>> {
            self.io.poll_io(cx, $crate::io::Direction::Read, |io| {
                $crate::net::uninterrupted(|| io.recv_from(buf))
            })
        }

        /// Receives a datagram and its origin without waiting; an error of
        /// kind `WouldBlock` if none has arrived.
        ///
        /// # Errors
        ///
        /// `WouldBlock`, as above; otherwise as [`recv`](Self::recv).
        pub fn try_recv_from(&self, buf: &mut [u8]) -> ::std::io::Result<(usize, $addr)> {
            self.io.try_io($crate::io::Direction::Read, |io| {
                $crate::net::uninterrupted(|| io.recv_from(buf))
            })
        }

        /// The address the socket is bound to.
        ///
        /// # Errors
        ///
        /// What the operating system says.
        pub fn local_addr(&self) -> ::std::io::Result<$addr> {
            self.io.get_ref().local_addr()
        }

        /// The address of the connected peer.
        ///
        /// # Errors
        ///
        /// `NotConnected` if the socket is not connected.
        pub fn peer_addr(&self) -> ::std::io::Result<$addr> {
            self.io.get_ref().peer_addr()
        }

        /// Takes the pending `SO_ERROR` of the socket, if any.
        ///
        /// # Errors
        ///
        /// What the operating system says when asked.
        pub fn take_error(&self) -> ::std::io::Result<Option<::std::io::Error>> {
            self.io.get_ref().take_error()
        }
    };
}
