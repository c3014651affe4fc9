//! The stream core shared by TCP and Unix streams, and the macros that build
//! both public surfaces from it.
//!
//! [`Stream`] holds the registered mio socket and does every operation a
//! stream type and its halves offer, through `&self`. The public types add
//! the rules: reads and writes take `&mut self`, as a byte stream read from
//! two places at once makes no sense; splitting
//! hands out one read half and one write half, owned (an `Arc` of the
//! core) or borrowed (a reference to it).
//!
//! `stream_type!` writes a protocol's surface — the read and write methods,
//! `shutdown`, the `futures-io` impls, the four halves, `ReuniteError` —
//! over a struct with a `core: Stream<_>` field; the protocol module adds
//! what is its own (connecting, addresses, socket options).

use super::{Interest, Ready, poll_ready, ready, uninterrupted};
use crate::io::{Direction, IoSource};
use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice, Read, Write};
use std::net::Shutdown;
use std::task::{Context, Poll};

/// A connected mio stream socket: what [`Stream`] needs of one.
pub(crate) trait StreamSource: mio::event::Source + fmt::Debug {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize>;
    fn write(&self, buf: &[u8]) -> io::Result<usize>;
    fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;
    /// After a non-blocking connect and a writable edge: `Ok` once
    /// connected, the connection's error if it failed, `NotConnected` while
    /// it is still in progress.
    fn connect_result(&self) -> io::Result<()>;
}

macro_rules! impl_stream_source {
    ($mio:ty) => {
        impl StreamSource for $mio {
            fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
                (&mut &*self).read(buf)
            }

            fn write(&self, buf: &[u8]) -> io::Result<usize> {
                (&mut &*self).write(buf)
            }

            fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
                (&mut &*self).write_vectored(bufs)
            }

            fn shutdown(&self, how: Shutdown) -> io::Result<()> {
                <$mio>::shutdown(self, how)
            }

            fn connect_result(&self) -> io::Result<()> {
                match self.take_error()? {
                    Some(e) => Err(e),
                    None => self.peer_addr().map(drop),
                }
            }
        }
    };
}

impl_stream_source!(mio::net::TcpStream);
#[cfg(unix)]
impl_stream_source!(mio::net::UnixStream);

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

    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, direction: Direction) -> Poll<io::Result<()>> {
        poll_ready(&self.io, cx, direction)
    }

    pub(crate) async fn ready(&self, direction: Direction) -> io::Result<()> {
        ready(&self.io, direction).await
    }

    /// Waits until a direction of `interest` may proceed.
    pub(crate) async fn ready_interest(&self, interest: Interest) -> io::Result<Ready> {
        super::readiness::ready(&self.io, interest).await
    }

    /// Waits until readable, then runs `op` (a read or a peek).
    pub(crate) fn poll_read_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.io
            .poll_io(cx, Direction::Read, |io| uninterrupted(|| op(io)))
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

    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.get_ref().shutdown(how)
    }
}

/// The read methods of a stream or read half: a type with
/// `fn core(&self) -> &Stream<_>`. `$setup` is the hidden beginning of each
/// example: it defines `a`, the value documented, and `b`, a whole stream
/// connected to it.
macro_rules! read_methods {
    ($setup:expr) => {
        /// Waits until the stream is readable: data has arrived, the peer has
        /// closed its side, or an error is pending. Pair with
        /// [`try_read`](Self::try_read), which clears the readiness when it
        /// would block. Cancel-safe.
        ///
        /// # Errors
        ///
        /// An error if the driver has shut down.
        ///
        /// # Examples
        ///
        #[doc = example!($setup, r#"
b.write_all(b"hi").await?;
let mut buf = [0; 16];
let n = loop {
    a.readable().await?;
    match a.try_read(&mut buf) {
        Ok(n) => break n,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
        Err(e) => return Err(e),
    }
};
assert_eq!(&buf[..n], b"hi");"#)]
        pub async fn readable(&self) -> ::std::io::Result<()> {
            self.core().ready($crate::io::Direction::Read).await
        }

        /// Polls for read readiness, as [`readable`](Self::readable) waits
        /// for it. Only the waker of the last call is woken.
        ///
        /// # Errors
        ///
        /// An error if the driver has shut down.
        ///
        /// # Examples
        ///
        #[doc = example!($setup, r#"
b.write_all(b"hi").await?;
std::future::poll_fn(|cx| a.poll_read_ready(cx)).await?;"#)]
        pub fn poll_read_ready(
            &self,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<::std::io::Result<()>> {
            self.core().poll_ready(cx, $crate::io::Direction::Read)
        }

        /// Reads what has arrived into `buf`, without waiting: the number
        /// of bytes read, `Ok(0)` at the end of the stream (or for an empty
        /// `buf`), and an error of kind `WouldBlock` if nothing has arrived.
        ///
        /// # Errors
        ///
        /// `WouldBlock`, as above; `ConnectionReset` if the peer reset the
        /// connection; an error if the driver has shut down.
        ///
        /// # Examples
        ///
        #[doc = example!($setup, r#"
let mut buf = [0; 16];
let error = a.try_read(&mut buf).unwrap_err();
assert_eq!(error.kind(), std::io::ErrorKind::WouldBlock);"#)]
        pub fn try_read(&self, buf: &mut [u8]) -> ::std::io::Result<usize> {
            self.core().try_read(buf)
        }

        /// Polls to read into `buf`: the [`read`](Self::read) of a
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
let mut buf = [0; 16];
let n = std::future::poll_fn(|cx| a.poll_read(cx, &mut buf)).await?;
assert_eq!(&buf[..n], b"hi");"#)]
        pub fn poll_read(
            &mut self,
            cx: &mut ::std::task::Context<'_>,
            buf: &mut [u8],
        ) -> ::std::task::Poll<::std::io::Result<usize>> {
            self.core().poll_read(cx, buf)
        }

        /// Reads into `buf` once some data has arrived: the number of bytes
        /// read, at least one, or `Ok(0)` at the end of the stream (the
        /// peer closed its write side) or for an empty `buf`. Cancel-safe.
        ///
        /// # Errors
        ///
        /// `ConnectionReset` if the peer reset the connection; an error if
        /// the driver has shut down.
        ///
        /// # Examples
        ///
        #[doc = example!($setup, r#"
b.write_all(b"hi").await?;
let mut buf = [0; 16];
let n = a.read(&mut buf).await?;
assert_eq!(&buf[..n], b"hi");"#)]
        pub async fn read(&mut self, buf: &mut [u8]) -> ::std::io::Result<usize> {
            self.core().read(buf).await
        }

        /// Reads until `buf` is full, and returns its length. Not
        /// cancel-safe: dropped half-way, part of the data is in `buf` and
        /// gone from the stream.
        ///
        /// # Errors
        ///
        /// `UnexpectedEof` if the stream ends first; otherwise as
        /// [`read`](Self::read).
        ///
        /// # Examples
        ///
        #[doc = example!($setup, r#"
b.write_all(b"hello").await?;
let mut buf = [0; 5];
a.read_exact(&mut buf).await?;
assert_eq!(&buf, b"hello");"#)]
        pub async fn read_exact(&mut self, buf: &mut [u8]) -> ::std::io::Result<usize> {
            self.core().read_exact(buf).await
        }
    };
}

/// The write methods of a stream or write half; as `read_methods!`.
macro_rules! write_methods {
    ($setup:expr) => {
        /// Waits until the stream is writable: there is room in the send
        /// buffer, or an error is pending. Pair with
        /// [`try_write`](Self::try_write). Cancel-safe.
        ///
        /// # Errors
        ///
        /// An error if the driver has shut down.
        ///
        /// # Examples
        ///
        #[doc = example!($setup, r#"
let n = loop {
    a.writable().await?;
    match a.try_write(b"hi") {
        Ok(n) => break n,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
        Err(e) => return Err(e),
    }
};
assert_eq!(n, 2);"#)]
        pub async fn writable(&self) -> ::std::io::Result<()> {
            self.core().ready($crate::io::Direction::Write).await
        }

        /// Polls for write readiness, as [`writable`](Self::writable) waits
        /// for it. Only the waker of the last call is woken.
        ///
        /// # Errors
        ///
        /// An error if the driver has shut down.
        ///
        /// # Examples
        ///
        #[doc = example!($setup, r#"
std::future::poll_fn(|cx| a.poll_write_ready(cx)).await?;"#)]
        pub fn poll_write_ready(
            &self,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<::std::io::Result<()>> {
            self.core().poll_ready(cx, $crate::io::Direction::Write)
        }

        /// Writes from `buf` what fits in the send buffer, without waiting:
        /// the number of bytes written (`Ok(0)` for an empty `buf`), and an
        /// error of kind `WouldBlock` if nothing fits.
        ///
        /// # Errors
        ///
        /// `WouldBlock`, as above; `BrokenPipe` or `ConnectionReset` if the
        /// peer has gone; an error if the driver has shut down.
        ///
        /// # Examples
        ///
        #[doc = example!($setup, r#"
a.writable().await?;
let n = a.try_write(b"hi")?;
assert_eq!(n, 2);"#)]
        pub fn try_write(&self, buf: &[u8]) -> ::std::io::Result<usize> {
            self.core().try_write(buf)
        }

        /// Polls to write from `buf`: the [`write`](Self::write) of a
        /// hand-written future.
        ///
        /// # Errors
        ///
        /// As [`write`](Self::write).
        ///
        /// # Examples
        ///
        #[doc = example!($setup, r#"
let n = std::future::poll_fn(|cx| a.poll_write(cx, b"hi")).await?;
assert_eq!(n, 2);"#)]
        pub fn poll_write(
            &mut self,
            cx: &mut ::std::task::Context<'_>,
            buf: &[u8],
        ) -> ::std::task::Poll<::std::io::Result<usize>> {
            self.core().poll_write(cx, buf)
        }

        /// Writes from `buf` once there is room: the number of bytes
        /// written, at least one (`Ok(0)` for an empty `buf`), possibly
        /// fewer than `buf` holds. Cancel-safe.
        ///
        /// # Errors
        ///
        /// `BrokenPipe` or `ConnectionReset` if the peer has gone; an error
        /// if the driver has shut down.
        ///
        /// # Examples
        ///
        #[doc = example!($setup, r#"
let n = a.write(b"hello").await?;
let mut buf = [0; 5];
b.read_exact(&mut buf[..n]).await?;
assert_eq!(&buf[..n], &b"hello"[..n]);"#)]
        pub async fn write(&mut self, buf: &[u8]) -> ::std::io::Result<usize> {
            self.core().write(buf).await
        }

        /// Writes all of `buf`, waiting for room as often as needed. Not
        /// cancel-safe: dropped half-way, an unknown part of `buf` has been
        /// written.
        ///
        /// # Errors
        ///
        /// `WriteZero` if the stream accepts no more bytes; otherwise as
        /// [`write`](Self::write), after which an unknown part of `buf` has
        /// been written.
        ///
        /// # Examples
        ///
        #[doc = example!($setup, r#"
a.write_all(b"hello").await?;
let mut buf = [0; 5];
b.read_exact(&mut buf).await?;
assert_eq!(&buf, b"hello");"#)]
        pub async fn write_all(&mut self, buf: &[u8]) -> ::std::io::Result<()> {
            self.core().write_all(buf).await
        }
    };
}

/// `local_addr` and `peer_addr` of a stream or half: a type with
/// `fn core(&self) -> &Stream<_>`.
macro_rules! addr_methods {
    ($addr:ty) => {
        /// The local address of the stream.
        ///
        /// # Errors
        ///
        /// What the operating system says.
        pub fn local_addr(&self) -> ::std::io::Result<$addr> {
            self.core().get_ref().local_addr()
        }

        /// The address of the stream's peer.
        ///
        /// # Errors
        ///
        /// `NotConnected` if the connection is gone.
        pub fn peer_addr(&self) -> ::std::io::Result<$addr> {
            self.core().get_ref().peer_addr()
        }
    };
}

/// `futures_io::AsyncRead` for a type with `read_methods!`.
macro_rules! impl_async_read {
    ($ty:ty) => {
        impl ::futures_io::AsyncRead for $ty {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                self.core().poll_read(cx, buf)
            }
        }
    };
}

/// `futures_io::AsyncWrite` for a type with `write_methods!`: flushing has
/// nothing to do, closing shuts down the write side.
macro_rules! impl_async_write {
    ($ty:ty) => {
        impl ::futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                self.core().poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                self.core().poll_write_vectored(cx, bufs)
            }

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                _: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: ::std::pin::Pin<&mut Self>,
                _: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(self.core().shutdown(::std::net::Shutdown::Write))
            }
        }
    };
}

/// A stream type's shared surface, written into the protocol's module:
///
/// * on `$stream` (a struct with a `core: Stream<$mio>` field): the read
///   and write methods, `shutdown`, `split` and `into_split`, and the
///   `futures-io` impls;
/// * `OwnedReadHalf`, `OwnedWriteHalf`, `ReadHalf`, `WriteHalf` and
///   `ReuniteError`, with `local_addr` and `peer_addr` returning `$addr`.
///
/// `$setup` is the hidden beginning of each example: it defines `s`, a
/// `$stream`, and `b`, the stream connected to it.
macro_rules! stream_type {
    (stream: $stream:ident, mio: $mio:ty, addr: $addr:ty, setup: $setup:expr $(,)?) => {
        impl $stream {
            fn core(&self) -> &$crate::net::stream::Stream<$mio> {
                &self.core
            }

            read_methods!(concat!($setup, "# let mut a = s;\n"));
            write_methods!(concat!($setup, "# let mut a = s;\n"));
            addr_methods!($addr);

            /// Shuts down the read side, the write side or both, at once
            /// (`shutdown(2)` never blocks). After `Shutdown::Write` the
            /// peer reads to the end of the stream once it has what was
            /// written before; writing again gives `BrokenPipe`. After
            /// `Shutdown::Read` reads return `Ok(0)`.
            ///
            /// # Errors
            ///
            /// `NotConnected` if the connection is gone (after a reset, for
            /// example).
            ///
            /// # Examples
            ///
            #[doc = example!($setup, r#"
s.write_all(b"last words").await?;
s.shutdown(std::net::Shutdown::Write)?;
let mut buf = [0; 16];
let mut got = 0;
loop {
    match b.read(&mut buf[got..]).await? {
        0 => break, // end of stream
        n => got += n,
    }
}
assert_eq!(&buf[..got], b"last words");"#)]
            pub fn shutdown(&self, how: ::std::net::Shutdown) -> ::std::io::Result<()> {
                self.core.shutdown(how)
            }

            /// Splits the stream into an owned read half and an owned write
            /// half, which can move to different tasks. They share the
            /// socket; [`OwnedReadHalf::reunite`] puts them back together.
            /// Dropping the write half shuts down the write side.
            ///
            /// # Examples
            ///
            #[doc = example!($setup, r#"
let (mut read, mut write) = s.into_split();
write.write_all(b"ping").await?;
let mut buf = [0; 4];
b.read_exact(&mut buf).await?;
b.write_all(&buf).await?;
read.read_exact(&mut buf).await?;
assert_eq!(&buf, b"ping");
let s = read.reunite(write).unwrap();"#)]
            pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
                let inner = ::std::sync::Arc::new(self.core);
                let read = OwnedReadHalf {
                    inner: inner.clone(),
                };
                (
                    read,
                    OwnedWriteHalf {
                        inner,
                        shutdown_on_drop: true,
                    },
                )
            }

            /// Splits the stream into a borrowed read half and a borrowed
            /// write half, for reading and writing at the same time within
            /// one task (joined futures) without an `Arc`.
            ///
            /// # Examples
            ///
            #[doc = example!($setup, r#"
let (mut read, mut write) = s.split();
write.write_all(b"ping").await?;
b.write_all(b"pong").await?;
let mut buf = [0; 4];
read.read_exact(&mut buf).await?;
assert_eq!(&buf, b"pong");"#)]
            pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
                (
                    ReadHalf { inner: &self.core },
                    WriteHalf { inner: &self.core },
                )
            }
        }

        #[doc = concat!("The read half of a [`", stringify!($stream), "`], owned:")]
        #[doc = concat!("from [`", stringify!($stream), "::into_split`].")]
        ///
        /// It reads as the whole stream does, and implements
        /// [`futures_io::AsyncRead`].
        #[derive(Debug)]
        pub struct OwnedReadHalf {
            inner: ::std::sync::Arc<$crate::net::stream::Stream<$mio>>,
        }

        #[doc = concat!("The write half of a [`", stringify!($stream), "`], owned:")]
        #[doc = concat!("from [`", stringify!($stream), "::into_split`].")]
        ///
        /// It writes as the whole stream does, and implements
        /// [`futures_io::AsyncWrite`]. Dropping it shuts down the write side
        /// of the stream, even while the read half lives on (so the peer
        /// reads to the end of the stream); [`forget`](Self::forget) drops
        /// it without.
        #[derive(Debug)]
        pub struct OwnedWriteHalf {
            inner: ::std::sync::Arc<$crate::net::stream::Stream<$mio>>,
            shutdown_on_drop: bool,
        }

        #[doc = concat!("The read half of a [`", stringify!($stream), "`], borrowed:")]
        #[doc = concat!("from [`", stringify!($stream), "::split`].")]
        ///
        /// It reads as the whole stream does, and implements
        /// [`futures_io::AsyncRead`].
        #[derive(Debug)]
        pub struct ReadHalf<'a> {
            inner: &'a $crate::net::stream::Stream<$mio>,
        }

        #[doc = concat!("The write half of a [`", stringify!($stream), "`], borrowed:")]
        #[doc = concat!("from [`", stringify!($stream), "::split`].")]
        ///
        /// It writes as the whole stream does, and implements
        /// [`futures_io::AsyncWrite`]. Dropping it does nothing to the
        /// stream.
        #[derive(Debug)]
        pub struct WriteHalf<'a> {
            inner: &'a $crate::net::stream::Stream<$mio>,
        }

        /// The error of `reunite` when the halves come from different
        /// streams: it gives them back.
        #[derive(Debug)]
        pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

        impl ::std::fmt::Display for ReuniteError {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str("tried to reunite halves of two different streams")
            }
        }

        impl ::std::error::Error for ReuniteError {}

        fn reunite(read: OwnedReadHalf, mut write: OwnedWriteHalf) -> Result<$stream, ReuniteError> {
            if !::std::sync::Arc::ptr_eq(&read.inner, &write.inner) {
                return Err(ReuniteError(read, write));
            }
            write.shutdown_on_drop = false;
            drop(write);
            match ::std::sync::Arc::try_unwrap(read.inner) {
                Ok(core) => Ok($stream { core }),
                // Only the two halves hold the core, and the write half is gone.
                Err(_) => unreachable!("a stream's halves are the only owners of its core"),
            }
        }

        impl OwnedReadHalf {
            fn core(&self) -> &$crate::net::stream::Stream<$mio> {
                &self.inner
            }

            read_methods!(concat!($setup, "# let (mut a, _write) = s.into_split();\n"));

            /// Puts the halves back together into the stream they came
            /// from.
            ///
            /// # Errors
            ///
            /// [`ReuniteError`], holding both halves, if they come from
            /// different streams.
            ///
            /// # Examples
            ///
            #[doc = example!($setup, r#"
let (read, write) = s.into_split();
let s = read.reunite(write).expect("halves of one stream");"#)]
            pub fn reunite(self, other: OwnedWriteHalf) -> Result<$stream, ReuniteError> {
                reunite(self, other)
            }

            addr_methods!($addr);
        }

        impl OwnedWriteHalf {
            fn core(&self) -> &$crate::net::stream::Stream<$mio> {
                &self.inner
            }

            write_methods!(concat!($setup, "# let (_read, mut a) = s.into_split();\n"));

            /// Puts the halves back together into the stream they came
            /// from.
            ///
            /// # Errors
            ///
            /// [`ReuniteError`], holding both halves, if they come from
            /// different streams.
            pub fn reunite(self, other: OwnedReadHalf) -> Result<$stream, ReuniteError> {
                reunite(other, self)
            }

            /// Drops the write half without shutting down the write side:
            /// the stream stays open for writing until the read half is
            /// dropped too.
            ///
            /// # Examples
            ///
            #[doc = example!($setup, r#"
let (read, write) = s.into_split();
write.forget();
// The peer has not seen the end of the stream.
let mut buf = [0; 1];
assert_eq!(
    b.try_read(&mut buf).unwrap_err().kind(),
    std::io::ErrorKind::WouldBlock,
);"#)]
            pub fn forget(mut self) {
                self.shutdown_on_drop = false;
            }

            addr_methods!($addr);
        }

        impl Drop for OwnedWriteHalf {
            fn drop(&mut self) {
                if self.shutdown_on_drop {
                    // Nothing to report it to; the connection may be gone.
                    let _ = self.inner.shutdown(::std::net::Shutdown::Write);
                }
            }
        }

        impl ReadHalf<'_> {
            fn core(&self) -> &$crate::net::stream::Stream<$mio> {
                self.inner
            }

            read_methods!(concat!($setup, "# let (mut a, _write) = s.split();\n"));

            addr_methods!($addr);
        }

        impl WriteHalf<'_> {
            fn core(&self) -> &$crate::net::stream::Stream<$mio> {
                self.inner
            }

            write_methods!(concat!($setup, "# let (_read, mut a) = s.split();\n"));

            addr_methods!($addr);
        }

        impl_async_read!($stream);
        impl_async_read!(OwnedReadHalf);
        impl_async_read!(ReadHalf<'_>);
        impl_async_write!($stream);
        impl_async_write!(OwnedWriteHalf);
        impl_async_write!(WriteHalf<'_>);
    };
}
