//! Unix domain sockets: the halves of a split
//! [`UnixStream`](super::UnixStream), and the address type.
//!
//! [`UnixStream::into_split`](super::UnixStream::into_split) gives an
//! [`OwnedReadHalf`] and an [`OwnedWriteHalf`], which can move to different
//! tasks; [`UnixStream::split`](super::UnixStream::split) gives a borrowed
//! [`ReadHalf`] and [`WriteHalf`], for reading and writing at once within one
//! task. Addresses are the standard library's [`SocketAddr`]: a path, or
//! unnamed (an unbound socket, either end of a pair).

pub(super) mod datagram;
pub(super) mod listener;
pub(super) mod stream;

pub use self::stream::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use std::os::unix::net::SocketAddr;
