//! `WeftIo`: between the futures-io traits and hyper's I/O traits.

use futures_io::{AsyncRead, AsyncWrite};
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

/// How much one read asks of the wrapped stream at most, in bytes. hyper
/// reads into uninitialized memory, which safe code cannot hand to a
/// futures-io reader, so a read goes through a scratch buffer this big on
/// the stack and is copied into hyper's.
const SCRATCH: usize = 16 * 1024;

pin_project_lite::pin_project! {
    /// A stream seen through the other family of I/O traits: wraps a weft
    /// socket ([`TcpStream`](crate::net::TcpStream),
    /// [`UnixStream`](crate::net::UnixStream), a split half) or any
    /// [`futures_io::AsyncRead`] / [`futures_io::AsyncWrite`] type to give
    /// hyper its [`hyper::rt::Read`] / [`hyper::rt::Write`]; and, the
    /// other way, wraps a hyper stream (an upgraded connection) to give it
    /// the futures-io traits.
    ///
    /// Writes are not vectored ([`hyper::rt::Write::is_write_vectored`] is
    /// false): hyper gathers a response's head and a small body into one
    /// buffer and writes it with one call. Reads copy once, through a
    /// buffer on the stack, where hyper-util's `TokioIo` reads straight into
    /// hyper's buffer: weft's facade holds no `unsafe` code.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::compat::hyper::WeftIo;
    /// use weft::net::{TcpListener, TcpStream};
    ///
    /// weft::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = TcpStream::connect(listener.local_addr()?).await?;
    ///     let io = WeftIo::new(stream); // hyper::rt::Read + hyper::rt::Write
    ///     assert!(io.inner().peer_addr().is_ok());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[derive(Debug)]
    pub struct WeftIo<T> {
        #[pin]
        inner: T,
    }
}

impl<T> WeftIo<T> {
    /// Wraps `inner`.
    ///
    /// # Examples
    ///
    /// ```
    /// // Any futures-io reader, here a byte slice.
    /// let io = weft::compat::hyper::WeftIo::new(&b"GET / HTTP/1.1\r\n\r\n"[..]);
    /// assert_eq!(io.inner().len(), 18);
    /// ```
    pub fn new(inner: T) -> WeftIo<T> {
        WeftIo { inner }
    }

    /// The wrapped stream.
    ///
    /// # Examples
    ///
    /// ```
    /// let io = weft::compat::hyper::WeftIo::new(5);
    /// assert_eq!(*io.inner(), 5);
    /// ```
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut io = weft::compat::hyper::WeftIo::new(5);
    /// *io.inner_mut() += 1;
    /// assert_eq!(io.into_inner(), 6);
    /// ```
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    ///
    /// # Examples
    ///
    /// ```
    /// let io = weft::compat::hyper::WeftIo::new(5);
    /// assert_eq!(io.into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsyncRead> hyper::rt::Read for WeftIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let want = buf.remaining().min(SCRATCH);
        if want == 0 {
            // An empty read would look like the end of the stream.
            return Poll::Ready(Ok(()));
        }
        let mut scratch = [0; SCRATCH];
        let n = ready!(self.project().inner.poll_read(cx, &mut scratch[..want]))?;
        // `min`: a reader that claims more than it was given is not trusted
        // to index with.
        buf.put_slice(&scratch[..n.min(want)]);
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite> hyper::rt::Write for WeftIo<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_close(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }
}

impl<T: hyper::rt::Read> AsyncRead for WeftIo<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let mut read = hyper::rt::ReadBuf::new(buf);
        ready!(self.project().inner.poll_read(cx, read.unfilled()))?;
        Poll::Ready(Ok(read.filled().len()))
    }
}

impl<T: hyper::rt::Write> AsyncWrite for WeftIo<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
}
