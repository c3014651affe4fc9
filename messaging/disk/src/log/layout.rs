//! The log's layout: which segment files it has, and what each holds, for
//! a backend that decides what to compact (the durable queue copies the
//! live records of a mostly-dead oldest segment forward).

use super::Log;
use crate::sync::lock;

/// One segment file of a log: the offsets it holds and its length.
///
/// # Examples
///
/// ```
/// use std::path::Path;
/// use weft_disk::fs::SimFs;
/// use weft_disk::Options;
///
/// let log = Options::new().segment_bytes(0).open_in(SimFs::new(), Path::new("/l"))?.log;
/// log.blocking_append(b"a")?;
/// log.blocking_append(b"b")?; // a segment of its own
/// let segments = log.segments();
/// assert_eq!(segments.len(), 2);
/// assert_eq!((segments[0].base, segments[0].end, segments[0].active), (0, 1, false));
/// assert!(segments[1].active);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SegmentInfo {
    /// The offset of its first record (its name).
    pub base: u64,
    /// The offset after its last record.
    pub end: u64,
    /// Its length in bytes.
    pub bytes: u64,
    /// Whether it is the active segment, the one appends go to. Every other
    /// segment is sealed: it never changes again, except by removal.
    pub active: bool,
}

impl Log {
    /// The log's segments, oldest first; the last is the active one. A
    /// snapshot: appends and removals may change it as soon as it returns.
    ///
    /// # Examples
    ///
    /// See [`SegmentInfo`].
    pub fn segments(&self) -> Vec<SegmentInfo> {
        let state = lock(&self.shared.state);
        let last = state.segments.len().saturating_sub(1);
        state
            .segments
            .iter()
            .enumerate()
            .map(|(at, segment)| SegmentInfo {
                base: segment.base,
                end: segment.end(),
                bytes: segment.bytes,
                active: at == last,
            })
            .collect()
    }
}
