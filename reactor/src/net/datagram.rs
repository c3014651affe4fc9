//! The datagram core shared by UDP and Unix datagram sockets.
//!
//! [`Datagram`] holds the registered mio socket and does the operations
//! both socket types offer under the same names (`send`, `recv`,
//! `recv_from`, the readiness waits), differing only in their address
//! type. [`UdpSocket`](super::UdpSocket) and
//! [`UnixDatagram`](super::UnixDatagram) each hold one and write every
//! public method as a one-line call into it. Sending to an address, which
//! differs (a socket address against a path), stays with each type, built
//! on [`Datagram::poll_io`] and [`Datagram::try_io`].

use super::{Interest, Ready, poll_ready, ready, uninterrupted};
use crate::io::{Direction, IoSource};
use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};

/// A mio datagram socket: what [`Datagram`] needs of one.
pub(crate) trait DatagramSource: mio::event::Source {
    /// Where a datagram comes from.
    type Addr;

    fn send(&self, buf: &[u8]) -> io::Result<usize>;
    fn recv(&self, buf: &mut [u8]) -> io::Result<usize>;
    fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, Self::Addr)>;
}

impl DatagramSource for mio::net::UdpSocket {
    type Addr = std::net::SocketAddr;

    fn send(&self, buf: &[u8]) -> io::Result<usize> {
        mio::net::UdpSocket::send(self, buf)
    }

    fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        mio::net::UdpSocket::recv(self, buf)
    }

    fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, Self::Addr)> {
        mio::net::UdpSocket::recv_from(self, buf)
    }
}

#[cfg(unix)]
impl DatagramSource for mio::net::UnixDatagram {
    type Addr = std::os::unix::net::SocketAddr;

    fn send(&self, buf: &[u8]) -> io::Result<usize> {
        mio::net::UnixDatagram::send(self, buf)
    }

    fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        mio::net::UnixDatagram::recv(self, buf)
    }

    fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, Self::Addr)> {
        mio::net::UnixDatagram::recv_from(self, buf)
    }
}

/// A registered datagram socket and the operations both types share.
#[derive(Debug)]
pub(crate) struct Datagram<E: DatagramSource> {
    io: IoSource<E>,
}

impl<E: DatagramSource> Datagram<E> {
    /// Registers `io` with the current driver.
    pub(crate) fn new(io: E) -> io::Result<Datagram<E>> {
        Ok(Datagram {
            io: IoSource::new(io)?,
        })
    }

    pub(crate) fn get_ref(&self) -> &E {
        self.io.get_ref()
    }

    /// Deregisters the socket and returns it.
    pub(crate) fn into_inner(self) -> E {
        self.io.into_inner()
    }

    /// Waits until `direction` may proceed, then runs `op`, retrying it
    /// when a signal interrupts it.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.io.poll_io(cx, direction, |io| uninterrupted(|| op(io)))
    }

    /// Runs `op` once if `direction` may proceed; `WouldBlock` otherwise.
    pub(crate) fn try_io<R>(
        &self,
        direction: Direction,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.try_io(direction, |io| uninterrupted(|| op(io)))
    }

    pub(crate) async fn readable(&self) -> io::Result<()> {
        ready(&self.io, Direction::Read).await
    }

    pub(crate) fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_ready(&self.io, cx, Direction::Read)
    }

    pub(crate) async fn writable(&self) -> io::Result<()> {
        ready(&self.io, Direction::Write).await
    }

    pub(crate) fn poll_send_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_ready(&self.io, cx, Direction::Write)
    }

    /// Waits until a direction of `interest` may proceed.
    pub(crate) async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        super::readiness::ready(&self.io, interest).await
    }

    pub(crate) async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_send(cx, buf)).await
    }

    pub(crate) fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_io(cx, Direction::Write, |io| io.send(buf))
    }

    pub(crate) fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.try_io(Direction::Write, |io| io.send(buf))
    }

    pub(crate) async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_recv(cx, buf)).await
    }

    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_io(cx, Direction::Read, |io| io.recv(buf))
    }

    pub(crate) fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.try_io(Direction::Read, |io| io.recv(buf))
    }

    pub(crate) async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, E::Addr)> {
        poll_fn(|cx| self.poll_recv_from(cx, buf)).await
    }

    pub(crate) fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, E::Addr)>> {
        self.poll_io(cx, Direction::Read, |io| io.recv_from(buf))
    }

    pub(crate) fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, E::Addr)> {
        self.try_io(Direction::Read, |io| io.recv_from(buf))
    }
}
