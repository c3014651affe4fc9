//! How to open a log: [`Options`], the [`SyncPolicy`] among them, and
//! what opening gives back ([`Opened`]).

use super::{Log, Recovery};
use crate::error::OpenError;
use crate::frame;
use crate::fs::{FileSystem, StdFs};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

// ANCHOR: sync_policy
/// When the log calls `fdatasync`, and so what a crash can lose.
///
/// Whatever the policy, a crash never leaves a half-written record in the
/// log: recovery cuts a torn tail off. The policies differ in what a
/// *power cut* (or a kernel crash) loses; a killed process (`kill -9`)
/// loses nothing that [`Log::append`] returned, since the kernel still
/// writes what it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPolicy {
    /// `append` writes the record and syncs before it returns, in the
    /// caller's thread. Loses nothing `append` returned `Ok` for; costs a
    /// sync per record, except that appends arriving while another's sync
    /// is in flight wait for it, and share the next one.
    Always,
    /// `append` returns once the record is written; a background thread
    /// syncs at most `max_delay` after the first record not yet synced,
    /// covering every record written by then, and
    /// [`poll_sync`](Log::poll_sync) completes once that sync has. Loses
    /// records whose sync had not completed: never one that `poll_sync` /
    /// `blocking_sync` confirmed. `Duration::ZERO` syncs as soon as the
    /// previous sync is done, so the batch is whatever arrived meanwhile.
    GroupCommit {
        /// How long the syncer waits for more records before it syncs.
        max_delay: Duration,
    },
    /// Never syncs (not even the directory): `poll_sync` completes at once
    /// and confirms nothing. Survives a killed process; a power cut may lose
    /// anything, segments included, and leave the log unopenable. For tests.
    Never,
}
// ANCHOR_END: sync_policy

impl Default for SyncPolicy {
    /// Group commit without delay.
    fn default() -> SyncPolicy {
        SyncPolicy::GroupCommit {
            max_delay: Duration::ZERO,
        }
    }
}

/// How to open a log: segment size, record size limit, sync policy.
///
/// # Examples
///
/// ```
/// use std::path::Path;
/// use weft_disk::fs::SimFs;
/// use weft_disk::{Options, SyncPolicy};
///
/// let opened = Options::new()
///     .segment_bytes(1 << 20)
///     .max_record(64 << 10)
///     .sync(SyncPolicy::Always)
///     .open_in(SimFs::new(), Path::new("/queue"))?;
/// let offset = opened.log.append(b"job 1")?;
/// assert_eq!(offset, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    pub(super) segment_bytes: u64,
    pub(super) max_record: u32,
    pub(super) sync: SyncPolicy,
}

impl Default for Options {
    fn default() -> Options {
        Options::new()
    }
}

impl Options {
    /// 64 MiB segments, records up to 16 MiB, group commit without delay.
    pub fn new() -> Options {
        Options {
            segment_bytes: 64 << 20,
            max_record: 16 << 20,
            sync: SyncPolicy::default(),
        }
    }

    /// A segment rolls when the next record would take it past `bytes`; a
    /// record longer than that gets a segment of its own (so 0 puts each
    /// record in its own segment).
    pub fn segment_bytes(mut self, bytes: u64) -> Options {
        self.segment_bytes = bytes;
        self
    }

    /// The longest payload [`Log::append`] takes; longer appends fail with
    /// [`LogError::TooLong`](crate::LogError::TooLong). At most
    /// [`frame::MAX_PAYLOAD`]. Records already on disk are read whatever
    /// their length, so the limit can be lowered between runs.
    pub fn max_record(mut self, bytes: u32) -> Options {
        self.max_record = bytes.min(frame::MAX_PAYLOAD);
        self
    }

    /// When to sync; see [`SyncPolicy`].
    pub fn sync(mut self, policy: SyncPolicy) -> Options {
        self.sync = policy;
        self
    }

    /// Opens (or creates) the log in `dir` on the real file system.
    ///
    /// # Errors
    ///
    /// As [`open_in`](Options::open_in).
    pub fn open(self, dir: impl AsRef<Path>) -> Result<Opened, OpenError> {
        self.open_in(StdFs, dir)
    }

    /// Opens (or creates) the log in `dir` on `fs`: takes the directory's
    /// lock file, scans every segment, cuts a torn tail off the last one
    /// (reported in [`Opened::recovery`]), and syncs what it found.
    ///
    /// # Errors
    ///
    /// [`OpenError::Locked`] if another log holds `dir`;
    /// [`OpenError::Corrupt`] for a bad record that is not a torn tail
    /// (nothing is changed on disk); [`OpenError::Gap`] if a segment is
    /// missing; [`OpenError::Io`] if the file system fails.
    pub fn open_in(self, fs: impl FileSystem, dir: impl AsRef<Path>) -> Result<Opened, OpenError> {
        Log::open_with(Arc::new(fs), dir.as_ref(), self)
    }
}

/// An opened log and what its recovery found.
#[derive(Debug)]
pub struct Opened {
    /// The log.
    pub log: Log,
    /// What opening it found and repaired.
    pub recovery: Recovery,
}
