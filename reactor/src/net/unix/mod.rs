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
//!
//! ```
//! # use weft_reactor as weft;
//! # #[cfg(target_os = "linux")]
//! # fn main() -> std::io::Result<()> {
//! use std::os::linux::net::SocketAddrExt;
//! use weft::net::{UnixDatagram, UnixListener};
//!
//! # let driver = weft_reactor::Driver::new()?;
//! # let _enter = driver.handle().enter();
//! let name = format!("\0weft-doc-{}", std::process::id());
//! let listener = UnixListener::bind(&name)?;
//! let addr = listener.local_addr()?;
//! assert_eq!(addr.as_abstract_name(), Some(&name.as_bytes()[1..]));
//! assert_eq!(addr.as_pathname(), None); // no file
//!
//! // Stream and datagram names are apart: the same name binds again.
//! let socket = UnixDatagram::bind(&name)?;
//! assert_eq!(socket.local_addr()?.as_abstract_name(), Some(&name.as_bytes()[1..]));
//! # Ok(())
//! # }
//! # #[cfg(not(target_os = "linux"))]
//! # fn main() {}
//! ```

mod addr;
pub(super) mod datagram;
pub(super) mod listener;
mod split;
mod split_owned;
pub(super) mod stream;

pub use self::split::{ReadHalf, WriteHalf};
pub use self::split_owned::{OwnedReadHalf, OwnedWriteHalf, ReuniteError};
pub use std::os::unix::net::SocketAddr;
