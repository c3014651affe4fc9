//! The log's errors: [`OpenError`] for opening, [`LogError`] for the rest.

use crate::frame::FrameError;
use std::error::Error;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Opening a log failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum OpenError {
    /// The file system failed.
    Io(io::Error),
    /// Another log (in this process or another) holds the directory's lock
    /// file.
    Locked {
        /// The directory.
        dir: PathBuf,
    },
    /// A record in the middle of a segment is bad: valid records follow it,
    /// or it is not in the last segment, so it is not a torn tail. Nothing
    /// was changed on disk.
    Corrupt {
        /// The segment file.
        segment: PathBuf,
        /// The bad record's byte position in it.
        position: u64,
        /// What is wrong with it.
        error: FrameError,
    },
    /// A segment does not start where the one before it ends: a segment is
    /// missing.
    Gap {
        /// The segment file that starts at the wrong offset.
        segment: PathBuf,
        /// Where the segment before it ends.
        expected: u64,
    },
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Io(error) => write!(f, "could not open the log: {error}"),
            OpenError::Locked { dir } => {
                write!(f, "log directory {} is in use by another log", dir.display())
            }
            OpenError::Corrupt {
                segment,
                position,
                error,
            } => corrupt(f, segment, *position, error),
            OpenError::Gap { segment, expected } => write!(
                f,
                "segment {} does not start at offset {expected}: a segment is missing",
                segment.display()
            ),
        }
    }
}

impl Error for OpenError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            OpenError::Io(error) => Some(error),
            OpenError::Corrupt { error, .. } => Some(error),
            OpenError::Locked { .. } | OpenError::Gap { .. } => None,
        }
    }
}

impl From<io::Error> for OpenError {
    fn from(error: io::Error) -> OpenError {
        OpenError::Io(error)
    }
}

/// An operation on an open log failed.
///
/// What each variant promises about the record: after [`Io`] and
/// [`TooLong`] it is certainly not in the log (a durable queue hands it
/// back as `StoreError::NotStored`); after [`Poisoned`] nobody can say
/// whether it is on disk (`StoreError::Unknown`): the log may have been
/// stopped before the append, or the append's own sync (under
/// [`SyncPolicy::Always`](crate::SyncPolicy::Always)) or the sync it waited
/// for may have failed after the record was written.
///
/// [`Io`]: LogError::Io
/// [`TooLong`]: LogError::TooLong
/// [`Poisoned`]: LogError::Poisoned
///
/// # Examples
///
/// A sync that fails stops the log, and a retry does not revive it:
///
/// ```
/// use weft_disk::fs::SimFs;
/// use weft_disk::Options;
///
/// let fs = SimFs::new();
/// let log = Options::new().open_in(fs.clone(), "/log")?.log;
/// log.blocking_append(b"on disk")?;
///
/// fs.fail_syncs(1); // the next fdatasync reports EIO
/// let offset = log.append(b"written, never confirmed")?;
/// let error = log.blocking_sync(offset).unwrap_err();
/// assert!(error.is_poisoned());
/// assert!(log.append(b"refused").unwrap_err().is_poisoned());
/// assert_eq!(log.synced(), 1); // only the first record is confirmed
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum LogError {
    /// Writing the record failed (say `StorageFull`), and it was cut back
    /// out: the log is as before and still usable.
    Io(Arc<io::Error>),
    /// A sync failed earlier, so the log takes no more writes and confirms
    /// nothing it had not confirmed before: the kernel may have dropped the
    /// data it could not write, and a later sync would succeed without it.
    /// Reopen the log (after fixing the disk) to go on from what is on disk.
    Poisoned(Arc<io::Error>),
    /// The record is longer than the log's limit.
    TooLong {
        /// The record's length.
        len: u64,
        /// The limit.
        max: u32,
    },
    /// The offset is not in the log: removed, or not appended yet.
    OutOfRange {
        /// The offset asked for.
        offset: u64,
        /// The first offset the log holds.
        start: u64,
        /// The offset the next append gets.
        end: u64,
    },
    /// A record read back is bad (the disk changed under the log).
    Corrupt {
        /// The segment file.
        segment: PathBuf,
        /// The bad record's byte position in it.
        position: u64,
        /// What is wrong with it.
        error: FrameError,
    },
}

impl LogError {
    /// True for [`LogError::Poisoned`]: the log takes no more writes.
    pub fn is_poisoned(&self) -> bool {
        matches!(self, LogError::Poisoned(_))
    }
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogError::Io(error) => write!(f, "could not write the record: {error}"),
            LogError::Poisoned(error) => write!(f, "log stopped by a failed sync: {error}"),
            LogError::TooLong { len, max } => {
                write!(f, "record of {len} bytes over the limit of {max}")
            }
            LogError::OutOfRange { offset, start, end } => {
                write!(f, "offset {offset} not in the log ({start}..{end})")
            }
            LogError::Corrupt {
                segment,
                position,
                error,
            } => corrupt(f, segment, *position, error),
        }
    }
}

impl Error for LogError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            LogError::Io(error) | LogError::Poisoned(error) => Some(&**error),
            LogError::Corrupt { error, .. } => Some(error),
            LogError::TooLong { .. } | LogError::OutOfRange { .. } => None,
        }
    }
}

impl From<LogError> for io::Error {
    fn from(error: LogError) -> io::Error {
        let kind = match &error {
            LogError::Io(inner) => inner.kind(),
            LogError::Poisoned(_) => io::ErrorKind::Other,
            LogError::TooLong { .. } | LogError::OutOfRange { .. } => io::ErrorKind::InvalidInput,
            LogError::Corrupt { .. } => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, error)
    }
}

/// The text of a bad record, the same whether opening or reading met it.
fn corrupt(f: &mut fmt::Formatter<'_>, segment: &Path, position: u64, error: &FrameError) -> fmt::Result {
    write!(
        f,
        "corrupt record in {} at byte {position}: {error}",
        segment.display()
    )
}
