//! The Unix stream and its halves.

use super::SocketAddr;
use super::addr::Target;
use crate::net::stream::Stream;
use crate::net::{Interest, Ready, check_reactor};
use std::io;
use std::path::Path;

/// The hidden start of the examples: `s` and `b`, a connected pair.
macro_rules! unix_setup {
    () => {
        "# let (mut s, mut b) = weft_reactor::net::UnixStream::pair()?;\n"
    };
}

/// A Unix stream connection.
///
/// Make one with [`connect`](UnixStream::connect) or
/// [`pair`](UnixStream::pair), or accept one from a
/// [`UnixListener`](super::super::UnixListener). Reading and writing take
/// `&mut self`; to do both at once, [`split`](UnixStream::split) it (within
/// one task) or [`into_split`](UnixStream::into_split) it (across tasks). It
/// implements [`futures_io::AsyncRead`] and [`futures_io::AsyncWrite`].
/// Dropping it closes the connection.
///
/// # Examples
///
#[doc = example!(r#"
use weft_reactor::net::UnixStream;

let (mut a, mut b) = UnixStream::pair()?;
a.write_all(b"ping").await?;
let mut buf = [0; 4];
b.read_exact(&mut buf).await?;
assert_eq!(&buf, b"ping");

// The peer closes: reads see the end of the stream.
drop(b);
assert_eq!(a.read(&mut buf).await?, 0);"#)]
#[derive(Debug)]
pub struct UnixStream {
    core: Stream<mio::net::UnixStream>,
}

stream_type! {
    stream: UnixStream,
    mio: mio::net::UnixStream,
    addr: SocketAddr,
    setup: unix_setup!(),
}

impl UnixStream {
    /// Connects to the listener at `path`. On Linux and Android a `path`
    /// that starts with a null byte (`"\0name"`) is an abstract name (see
    /// [the module](super::unix#abstract-names)).
    ///
    /// # Errors
    ///
    /// An error of kind `Other` if no driver is entered on this thread;
    /// `NotFound` if nothing is at `path`; `ConnectionRefused` if no one
    /// listens there; `WouldBlock` if the listener's backlog is full (a
    /// Unix connection cannot be waited for: try again later);
    /// `InvalidInput` if the path is too long for a socket address.
    ///
    /// # Examples
    ///
    #[doc = example!(r#"
use weft_reactor::net::{UnixListener, UnixStream};

let path = std::env::temp_dir().join(format!("weft-doc-{}-connect.sock", std::process::id()));
let _ = std::fs::remove_file(&path);
let listener = UnixListener::bind(&path)?;
let stream = UnixStream::connect(&path).await?;
assert_eq!(stream.peer_addr()?.as_pathname(), Some(path.as_path()));
std::fs::remove_file(&path)?;"#)]
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        check_reactor()?;
        let stream = match Target::of(path.as_ref()) {
            Target::Path(path) => mio::net::UnixStream::connect(path)?,
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Target::Abstract(name) => mio::net::UnixStream::connect_addr(&super::addr::abstract_addr(name)?)?,
        };
        let stream = UnixStream::from_mio(stream)?;
        stream.core.finish_connect().await?;
        Ok(stream)
    }

    /// Creates a pair of connected, unnamed streams.
    ///
    /// # Errors
    ///
    /// An error of kind `Other` if no driver is entered on this thread, or
    /// what the operating system says (out of file descriptors, ...).
    ///
    /// # Examples
    ///
    #[doc = example!(r#"
use weft_reactor::net::UnixStream;

let (mut a, mut b) = UnixStream::pair()?;
b.write_all(b"hi").await?;
let mut buf = [0; 2];
a.read_exact(&mut buf).await?;
assert_eq!(&buf, b"hi");"#)]
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        check_reactor()?;
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((UnixStream::from_mio(a)?, UnixStream::from_mio(b)?))
    }

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
    #[doc = example!(unix_setup!(), r#"
use weft_reactor::net::Interest;

b.write_all(b"ping").await?;
let ready = s.ready(Interest::READABLE | Interest::WRITABLE).await?;
assert!(ready.is_writable());
let mut buf = [0; 16];
let n = loop {
    s.ready(Interest::READABLE).await?;
    match s.try_read(&mut buf) {
        Ok(n) => break n,
        // The readiness was stale: it is forgotten, the next ready waits.
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
        Err(e) => return Err(e),
    }
};
assert_eq!(&buf[..n], b"ping");"#)]
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.core.ready_interest(interest).await
    }

    /// Takes the pending `SO_ERROR` of the socket, if any.
    ///
    /// # Errors
    ///
    /// What the operating system says when asked.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.core.get_ref().take_error()
    }
}

std_conversions!(
    UnixStream { core: Stream },
    std::os::unix::net::UnixStream,
    mio::net::UnixStream,
    r#"
use weft_reactor::net::UnixStream;

let (std_stream, _peer) = std::os::unix::net::UnixStream::pair()?;
let stream = UnixStream::from_std(std_stream)?;
let std_stream = stream.into_std()?;
std_stream.set_nonblocking(false)?;"#
);
