//! weft's durable log: records on disk that survive `kill -9` and power
//! loss. The foundation of the durable queue and event bus (issue 23); it
//! knows nothing of either, and no async runtime: its poll-style
//! [`Log::poll_sync`] only keeps wakers.
//!
//! - [`Log`] ([`log`]): records appended to segment files, each with an
//!   offset; a [`SyncPolicy`] says when they are `fdatasync`ed (group
//!   commit: concurrent appenders share one sync); a failed sync stops the
//!   log for good ([`LogError::Poisoned`]); opening it scans every record
//!   and cuts off a torn tail ([`Recovery`]), and refuses corruption
//!   anywhere else ([`OpenError::Corrupt`]); a lock file keeps a second log
//!   out of the directory.
//! - [`frame`]: how a record sits in a file (length, CRC-32C, payload),
//!   and a decoder that never panics.
//! - [`fs`]: the file system the log is written against: the real one and
//!   a simulated one that injects faults and power cuts, for tests.
//!
//! # What is durable, and when
//!
//! A record the log confirmed ([`Log::poll_sync`] ready with `Ok`, or
//! [`Log::blocking_append`] / [`Log::append`] under
//! [`SyncPolicy::Always`] returning `Ok`) survives a power cut: its bytes
//! were `fdatasync`ed, and its segment file's directory entry was synced
//! when the segment was created. A record that was only written survives
//! `kill -9` but maybe not a power cut; after one, the last record may be
//! torn, and opening the log cuts it off and reports it.
#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

mod crc32c;
mod error;
pub mod frame;
pub mod fs;
pub mod log;
mod sync;

pub use self::crc32c::checksum as crc32c;
pub use self::error::{LogError, OpenError};
pub use self::log::{Location, Log, Opened, Options, Record, Recovery, SegmentInfo, SyncPolicy, TornTail};
