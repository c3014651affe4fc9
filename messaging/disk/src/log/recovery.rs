//! The scan on open: read every segment, check every record, cut a torn
//! tail, refuse corruption anywhere else.
//!
//! ```text
//!  segment 0 (full, synced at roll)   segment 1000 (active at the crash)
//!  [rec][rec]...[rec]                 [rec][rec][rec][re~~~~]
//!   every record must be valid         valid prefix   ^ bad record:
//!   (a bad one: OpenError::Corrupt)                   a valid record after it?
//!                                                     yes: OpenError::Corrupt
//!                                                     no:  torn tail, cut here
//! ```
//!
//! Only the last segment may end in a torn record: a segment is synced in
//! full before the next one is created, so a bad record anywhere else is
//! damage, not a crash. In the last segment a bad record is a torn tail
//! only if no valid record follows it ([`frame::resync`], which trusts a
//! length only when its header checks out); the tail is then
//! truncated, synced, and reported in [`Recovery`].

use super::segment::{self, Segment};
use crate::error::OpenError;
use crate::frame::{self, FrameError, Frames};
use crate::fs::FileSystem;
use std::fmt;
use std::path::{Path, PathBuf};

/// What opening the log found and repaired.
///
/// # Examples
///
/// A crash in the middle of an append leaves part of a record; the next
/// open cuts it off and says so:
///
/// ```
/// use std::path::Path;
/// use weft_disk::fs::{FileSystem, SimFs};
/// use weft_disk::{Options, frame};
///
/// let fs = SimFs::new();
/// let log = Options::new().open_in(fs.clone(), "/log")?.log;
/// log.blocking_append(b"kept")?; // a 16-byte frame
/// drop(log);
///
/// // What a crash halfway through the next append leaves.
/// let mut next = Vec::new();
/// frame::encode(b"cut short", &mut next)?;
/// let segment = fs.open(Path::new("/log/00000000000000000000.log"), false)?;
/// segment.append(&next[..10])?;
///
/// let opened = Options::new().open_in(fs, "/log")?;
/// let torn = opened.recovery.torn.expect("a torn tail");
/// assert_eq!((torn.position, torn.bytes), (16, 10));
/// assert!(torn.error.is_truncated());
/// assert_eq!(opened.log.end(), 1);
/// // One line for the operator's log:
/// assert_eq!(
///     torn.to_string(),
///     "cut a torn tail of 10 bytes off /log/00000000000000000000.log at byte 16: \
///      record cut short: 10 of 12 bytes",
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Segments found (after the scan; at least one).
    pub segments: usize,
    /// Valid records found, in all.
    pub records: u64,
    /// The torn tail cut off the last segment, if there was one.
    pub torn: Option<TornTail>,
}

/// A torn tail cut off the last segment when the log was opened: the end
/// of an append that a crash interrupted, never confirmed as synced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The segment file.
    pub segment: PathBuf,
    /// Where the cut is: the end of its last valid record.
    pub position: u64,
    /// How many bytes were cut.
    pub bytes: u64,
    /// What was wrong with the first bad record.
    pub error: FrameError,
}

impl fmt::Display for TornTail {
    /// One line, for a log: what was cut, from where, and why.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cut a torn tail of {} bytes off {} at byte {}: {}",
            self.bytes,
            self.segment.display(),
            self.position,
            self.error
        )
    }
}

/// Scans `dir`'s segments, truncating a torn tail. Returns the segments in
/// order (none if the directory holds none) and the report.
///
/// Records are checked against [`frame::MAX_PAYLOAD`], not the configured
/// limit: a limit lowered since they were written must not make them damage.
pub(crate) fn recover(fs: &dyn FileSystem, dir: &Path) -> Result<(Vec<Segment>, Recovery), OpenError> {
    let max_record = frame::MAX_PAYLOAD;
    let mut bases: Vec<u64> = fs
        .list(dir)?
        .iter()
        .filter_map(|name| segment::parse(name))
        .collect();
    bases.sort_unstable();
    let mut segments = Vec::with_capacity(bases.len());
    let mut torn = None;
    let last = bases.len().saturating_sub(1);
    for (index, &base) in bases.iter().enumerate() {
        let mut segment = Segment::new(dir, base);
        if let Some(previous) = segments.last().map(Segment::end)
            && previous != base
        {
            return Err(OpenError::Gap {
                segment: segment.path,
                expected: previous,
            });
        }
        let bytes = fs.read(&segment.path)?;
        let mut frames = Frames::new(&bytes, max_record);
        let mut bad = None;
        for item in frames.by_ref() {
            match item {
                Ok(_) => segment.records += 1,
                Err(found) => bad = Some(found),
            }
        }
        segment.bytes = frames.valid_len() as u64;
        // ANCHOR: torn_or_corrupt
        if let Some((position, error)) = bad {
            let corrupt = || OpenError::Corrupt {
                segment: segment.path.clone(),
                position: position as u64,
                error,
            };
            if index != last || frame::resync(&bytes, position, &error, max_record).is_some() {
                return Err(corrupt());
            }
            // A torn tail: cut it, and make the cut durable before anything
            // is appended after it.
            let file = fs.open(&segment.path, false)?;
            file.set_len(segment.bytes)?;
            file.sync_data()?;
            torn = Some(TornTail {
                segment: segment.path.clone(),
                position: segment.bytes,
                bytes: (bytes.len() - position) as u64,
                error,
            });
        }
        // ANCHOR_END: torn_or_corrupt
        segments.push(segment);
    }
    let recovery = Recovery {
        segments: segments.len(),
        records: segments.iter().map(|segment| segment.records).sum(),
        torn,
    };
    Ok((segments, recovery))
}
