//! Unix domain sockets: the halves of a split
//! [`UnixStream`](super::UnixStream), and the address type.
//!
//! [`UnixStream::into_split`](super::UnixStream::into_split) gives an
//! [`OwnedReadHalf`] and an [`OwnedWriteHalf`], which can move to different
//! tasks; [`UnixStream::split`](super::UnixStream::split) gives a borrowed
//! [`ReadHalf`] and [`WriteHalf`], for reading and writing at once within one
//! task. Addresses are the standard library's [`SocketAddr`]: a path, or
//! unnamed (an unbound socket, either end of a pair).
//!
//! # Abstract names
//!
//! On Linux and Android, a path whose first byte is a null byte
//! (`"\0name"`) names a socket in the abstract namespace: no file is
//! created, and the name is free again once the last socket bound to it
//! closes. Every method that takes a path reads it so; `local_addr` and
//! `peer_addr` then give an address whose `as_abstract_name` (from
//! `std::os::linux::net::SocketAddrExt`) is the name without the null byte.

mod addr;
pub(super) mod datagram;
pub(super) mod listener;
pub(super) mod stream;

pub use self::stream::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use std::os::unix::net::SocketAddr;
