//! TCP: the halves of a split [`TcpStream`](super::TcpStream).
//!
//! [`TcpStream::into_split`](super::TcpStream::into_split) gives an
//! [`OwnedReadHalf`] and an [`OwnedWriteHalf`], which can move to different
//! tasks; [`TcpStream::split`](super::TcpStream::split) gives a borrowed
//! [`ReadHalf`] and [`WriteHalf`], for reading and writing at once within one
//! task.

pub(super) mod listener;
pub(super) mod socket;
mod split;
mod split_owned;
pub(super) mod stream;

pub use self::split::{ReadHalf, WriteHalf};
pub use self::split_owned::{OwnedReadHalf, OwnedWriteHalf, ReuniteError};
