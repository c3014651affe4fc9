//! The stream core shared by TCP and Unix streams.
//!
//! [`Stream`] holds the registered mio socket and does every operation a
//! stream type and its halves offer, through `&self`. The public types —
//! [`TcpStream`](super::TcpStream), [`UnixStream`](super::UnixStream) and
//! their halves (`tcp/split.rs`, `tcp/split_owned.rs` and the same under
//! `unix/`) — each hold one (`inner`: the stream itself, an `Arc` of it for
//! an owned half, a reference for a borrowed one) and write every public
//! method as a one-line call into it. They add the rules: reads and writes
//! take `&mut self`, as a byte stream read from two places at once makes no
//! sense; splitting hands out one read half and one write half.
//!
//! [`OwnedWrite`], [`split_owned`] and [`reunite`] hold the rules of the
//! owned halves for both protocols: the write side shut down when the write
//! half is dropped, and the stream given back whole.

use super::{Interest, Ready, poll_ready, ready, uninterrupted};
use crate::io::{Direction, IoSource};
use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice, Read, Write};
use std::net::Shutdown;
use std::ops::Deref;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Reading and writing through a shared reference, as both mio streams
/// allow (`impl Read for &mio::net::TcpStream`, ...): what lets [`Stream`]
/// work through `&self`. Written once, for every such type.
pub(crate) trait SharedIo {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize>;
    fn write(&self, buf: &[u8]) -> io::Result<usize>;
    fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
}

impl<T> SharedIo for T
where
    for<'a> &'a T: Read + Write,
{
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        Read::read(&mut &*self, buf)
    }

    fn write(&self, buf: &[u8]) -> io::Result<usize> {
        Write::write(&mut &*self, buf)
    }

    fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        Write::write_vectored(&mut &*self, bufs)
    }
}

/// A connected mio stream socket: what [`Stream`] needs of one.
pub(crate) trait StreamSource: mio::event::Source + fmt::Debug + SharedIo {
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;
    /// After a non-blocking connect and a writable edge: `Ok` once
    /// connected, the connection's error if it failed, `NotConnected` while
    /// it is still in progress.
    fn connect_result(&self) -> io::Result<()>;
}

impl StreamSource for mio::net::TcpStream {
    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        mio::net::TcpStream::shutdown(self, how)
    }

    fn connect_result(&self) -> io::Result<()> {
        connect_result(self.take_error(), || self.peer_addr().map(drop))
    }
}

#[cfg(unix)]
impl StreamSource for mio::net::UnixStream {
    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        mio::net::UnixStream::shutdown(self, how)
    }

    fn connect_result(&self) -> io::Result<()> {
        connect_result(self.take_error(), || self.peer_addr().map(drop))
    }
}

/// The socket's pending error if it has one; otherwise whether it has a
/// peer (`NotConnected` while the connection is under way).
fn connect_result(
    pending: io::Result<Option<io::Error>>,
    peer: impl FnOnce() -> io::Result<()>,
) -> io::Result<()> {
    match pending? {
        Some(e) => Err(e),
        None => peer(),
    }
}

/// A registered stream socket and every operation on it.
#[derive(Debug)]
pub(crate) struct Stream<E: StreamSource> {
    io: IoSource<E>,
}

impl<E: StreamSource> Stream<E> {
    /// Registers `io` with the current driver.
    pub(crate) fn new(io: E) -> io::Result<Stream<E>> {
        Ok(Stream {
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

    // ANCHOR: finish-connect
    /// Waits for a non-blocking connect to finish: `Ok` once connected, the
    /// connection's error (`ConnectionRefused`, ...) if it failed.
    pub(crate) async fn finish_connect(&self) -> io::Result<()> {
        poll_fn(|cx| {
            // A writable edge before the connection is made is spurious:
            // wait for the next. Twice in one poll means the readiness
            // cannot be cleared (error or hang-up bits, which stay): the
            // connection is dead, and spinning on it would never end.
            let mut spurious = false;
            self.io
                .poll_io(cx, Direction::Write, |io| match io.connect_result() {
                    Err(e) if e.kind() == io::ErrorKind::NotConnected && !spurious => {
                        spurious = true;
                        Err(io::ErrorKind::WouldBlock.into())
                    }
                    result => result,
                })
        })
        .await
    }
    // ANCHOR_END: finish-connect

    pub(crate) fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_ready(&self.io, cx, Direction::Read)
    }

    pub(crate) fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_ready(&self.io, cx, Direction::Write)
    }

    pub(crate) async fn readable(&self) -> io::Result<()> {
        ready(&self.io, Direction::Read).await
    }

    pub(crate) async fn writable(&self) -> io::Result<()> {
        ready(&self.io, Direction::Write).await
    }

    /// Waits until a direction of `interest` may proceed.
    pub(crate) async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        super::readiness::ready(&self.io, interest).await
    }

    // ANCHOR: stream-poll-read
    pub(crate) fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let len = buf.len();
        self.io
            .poll_transfer(cx, Direction::Read, len, |io| uninterrupted(|| io.read(buf)))
    }
    // ANCHOR_END: stream-poll-read

    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.io
            .try_io(Direction::Read, |io| uninterrupted(|| io.read(buf)))
    }

    pub(crate) async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read(cx, buf)).await
    }

    pub(crate) async fn read_exact(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.read(&mut buf[filled..]).await? {
                0 => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "early end of stream",
                    ));
                }
                n => filled += n,
            }
        }
        Ok(filled)
    }

    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.io.poll_transfer(cx, Direction::Write, buf.len(), |io| {
            uninterrupted(|| io.write(buf))
        })
    }

    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if bufs.iter().all(|buf| buf.is_empty()) {
            return Poll::Ready(Ok(0));
        }
        self.io.poll_io(cx, Direction::Write, |io| {
            uninterrupted(|| io.write_vectored(bufs))
        })
    }

    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.io
            .try_io(Direction::Write, |io| uninterrupted(|| io.write(buf)))
    }

    pub(crate) async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write(cx, buf)).await
    }

    pub(crate) async fn write_all(&self, buf: &[u8]) -> io::Result<()> {
        let mut written = 0;
        while written < buf.len() {
            match self.write(&buf[written..]).await? {
                0 => {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "the stream accepted no bytes",
                    ));
                }
                n => written += n,
            }
        }
        Ok(())
    }

    /// `futures_io::AsyncWrite::poll_flush`: nothing to do, writes go
    /// straight to the socket.
    pub(crate) fn poll_flush(&self) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// `futures_io::AsyncWrite::poll_close`: shuts down the write side, at
    /// once.
    pub(crate) fn poll_close(&self) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown(Shutdown::Write))
    }

    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.get_ref().shutdown(how)
    }
}

impl Stream<mio::net::TcpStream> {
    /// Waits until readable, then copies what has arrived into `buf`
    /// without taking it from the socket.
    pub(crate) fn poll_peek(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.io
            .poll_io(cx, Direction::Read, |io| uninterrupted(|| io.peek(buf)))
    }

    pub(crate) async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_peek(cx, buf)).await
    }
}

/// The core as an owned write half holds it: dropping it shuts down the
/// write side of the stream, even while the read half lives on, unless
/// [`forget`](OwnedWrite::forget) or a reunion disarmed it first.
#[derive(Debug)]
pub(crate) struct OwnedWrite<E: StreamSource> {
    stream: Arc<Stream<E>>,
    shutdown_on_drop: bool,
}

impl<E: StreamSource> OwnedWrite<E> {
    /// Drops the write half without shutting down the write side.
    pub(crate) fn forget(mut self) {
        self.shutdown_on_drop = false;
    }
}

impl<E: StreamSource> Deref for OwnedWrite<E> {
    type Target = Stream<E>;

    fn deref(&self) -> &Stream<E> {
        &self.stream
    }
}

impl<E: StreamSource> Drop for OwnedWrite<E> {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // Nothing to report it to; the connection may be gone.
            let _ = self.stream.shutdown(Shutdown::Write);
        }
    }
}

/// The cores of an owned read half and an owned write half.
pub(crate) type OwnedHalves<E> = (Arc<Stream<E>>, OwnedWrite<E>);

/// Splits `stream` into the cores of an owned read half and an owned write
/// half.
pub(crate) fn split_owned<E: StreamSource>(stream: Stream<E>) -> OwnedHalves<E> {
    let stream = Arc::new(stream);
    let write = OwnedWrite {
        stream: Arc::clone(&stream),
        shutdown_on_drop: true,
    };
    (stream, write)
}

/// Puts the cores of an owned read half and an owned write half back
/// together: the stream, or both back if they come from different streams.
pub(crate) fn reunite<E: StreamSource>(
    read: Arc<Stream<E>>,
    write: OwnedWrite<E>,
) -> Result<Stream<E>, OwnedHalves<E>> {
    if !Arc::ptr_eq(&read, &write.stream) {
        return Err((read, write));
    }
    write.forget();
    match Arc::try_unwrap(read) {
        Ok(stream) => Ok(stream),
        // Only the two halves hold the core, and the write half is gone.
        Err(_) => unreachable!("a stream's halves are the only owners of its core"),
    }
}
