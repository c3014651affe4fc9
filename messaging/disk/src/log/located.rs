//! Reading by position: where each record sits ([`Location`]), learned
//! once by a scan or at append, then read back without walking its
//! segment from the start. For a backend that keeps an index of its
//! records in memory (the event bus's).

use super::segment::Segment;
use super::{Log, Record};
use crate::error::LogError;
use crate::frame::{self, FrameError, Frames};
use crate::sync::lock;
use std::sync::Arc;

/// Where a record sits on disk: its offset, the segment holding it (named
/// by that segment's first offset), its byte position in that file and
/// its framed length (header included).
///
/// # Examples
///
/// ```
/// use std::path::Path;
/// use weft_disk::fs::SimFs;
/// use weft_disk::{Options, frame};
///
/// let log = Options::new().open_in(SimFs::new(), Path::new("/l"))?.log;
/// let first = log.append_located(b"one")?;
/// let second = log.append_located(b"two")?;
/// assert_eq!((first.offset, first.segment, first.position), (0, 0, 0));
/// assert_eq!(second.position, (frame::HEADER_LEN + 3) as u64);
/// assert_eq!(log.read_located(first, second)?, [b"one".to_vec(), b"two".to_vec()]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Location {
    /// The record's offset.
    pub offset: u64,
    /// The first offset of the segment holding it.
    pub segment: u64,
    /// Its byte position in that segment's file.
    pub position: u64,
    /// Its length in the file, header included.
    pub len: u64,
}

impl Log {
    /// [`append`](Log::append), saying where the record went, for a
    /// caller that reads it back with [`read_located`](Log::read_located).
    ///
    /// # Errors
    ///
    /// As [`append`](Log::append).
    ///
    /// # Examples
    ///
    /// See [`Location`].
    pub fn append_located(&self, payload: &[u8]) -> Result<Location, LogError> {
        self.append_framed(payload)
    }

    /// Up to `max` records from `from` on, in order, with where each
    /// sits; empty at the end. Reads each segment it touches whole, as
    /// [`read`](Log::read) does: for building an index on open.
    ///
    /// # Errors
    ///
    /// As [`read`](Log::read).
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
    /// let found = log.scan(0, 10)?;
    /// assert_eq!((found[1].0.segment, found[1].0.position), (1, 0));
    /// assert_eq!(found[1].1, b"b");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn scan(&self, from: u64, max: usize) -> Result<Vec<(Location, Vec<u8>)>, LogError> {
        let segments: Vec<Segment> = {
            let state = lock(&self.shared.state);
            let (start, end) = (state.start(), state.end());
            if from < start || from > end {
                return Err(LogError::OutOfRange {
                    offset: from,
                    start,
                    end,
                });
            }
            state
                .segments
                .iter()
                .filter(|segment| segment.end() > from)
                .cloned()
                .collect()
        };
        let mut records = Vec::new();
        for segment in segments {
            if records.len() >= max {
                break;
            }
            let bytes = self
                .shared
                .fs
                .read(&segment.path)
                .map_err(|error| LogError::Io(Arc::new(error)))?;
            // Records appended after the segments were noted are left for
            // the next read; a file shorter than noted has lost records.
            let Some(written) = usize::try_from(segment.bytes)
                .ok()
                .and_then(|len| bytes.get(..len))
            else {
                return Err(self.short(&segment, bytes.len() as u64));
            };
            let mut offset = segment.base;
            for item in Frames::new(written, frame::MAX_PAYLOAD) {
                let (position, payload) = item.map_err(|(position, error)| LogError::Corrupt {
                    segment: segment.path.clone(),
                    position: position as u64,
                    error,
                })?;
                if offset >= from && records.len() < max {
                    let location = Location {
                        offset,
                        segment: segment.base,
                        position: position as u64,
                        len: (frame::HEADER_LEN + payload.len()) as u64,
                    };
                    records.push((location, payload.to_vec()));
                }
                offset += 1;
                if offset >= segment.end() {
                    break;
                }
            }
        }
        Ok(records)
    }

    /// The payloads of the records from `first` to `last` (of one segment,
    /// `first.offset <= last.offset`), read in one positioned read of just
    /// their bytes.
    ///
    /// # Errors
    ///
    /// [`LogError::OutOfRange`] if their segment was removed, or they do
    /// not lie in one segment of the log; [`LogError::Io`] if reading
    /// failed; [`LogError::Corrupt`] if what was read is not those records;
    /// [`LogError::Poisoned`] if a poison cut them.
    ///
    /// # Examples
    ///
    /// See [`Location`].
    pub fn read_located(&self, first: Location, last: Location) -> Result<Vec<Vec<u8>>, LogError> {
        let segment = {
            let state = lock(&self.shared.state);
            let found = state
                .segments
                .iter()
                .find(|segment| segment.base == first.segment)
                .filter(|segment| {
                    first.segment == last.segment
                        && first.offset <= last.offset
                        && last.offset < segment.end()
                        && last.position + last.len <= segment.bytes
                });
            match found {
                Some(segment) => segment.clone(),
                None => {
                    return Err(LogError::OutOfRange {
                        offset: first.offset,
                        start: state.start(),
                        end: state.end(),
                    });
                }
            }
        };
        let span = (last.position + last.len).saturating_sub(first.position);
        let span = usize::try_from(span).map_err(|_| LogError::TooLong {
            len: span,
            max: frame::MAX_PAYLOAD,
        })?;
        let bytes = self
            .shared
            .fs
            .read_at(&segment.path, first.position, span)
            .map_err(|error| LogError::Io(Arc::new(error)))?;
        if bytes.len() < span {
            return Err(self.short(&segment, first.position + bytes.len() as u64));
        }
        let wanted = (last.offset - first.offset + 1) as usize;
        let mut payloads = Vec::with_capacity(wanted);
        for item in Frames::new(&bytes, frame::MAX_PAYLOAD) {
            let (_, payload) = item.map_err(|(position, error)| LogError::Corrupt {
                segment: segment.path.clone(),
                position: first.position + position as u64,
                error,
            })?;
            payloads.push(payload.to_vec());
        }
        if payloads.len() != wanted {
            return Err(LogError::Corrupt {
                segment: segment.path.clone(),
                position: first.position,
                error: FrameError::Truncated {
                    have: bytes.len(),
                    need: span as u64,
                },
            });
        }
        Ok(payloads)
    }

    /// The error for a segment file shorter than noted: a poison cut its
    /// unsynced tail, or the disk changed under the log.
    fn short(&self, segment: &Segment, have: u64) -> LogError {
        if let Some(error) = &lock(&self.shared.state).poisoned {
            return LogError::Poisoned(Arc::clone(error));
        }
        LogError::Corrupt {
            segment: segment.path.clone(),
            position: have,
            error: FrameError::Truncated {
                have: have as usize,
                need: segment.bytes,
            },
        }
    }

    /// [`read`](Log::read)'s body: [`scan`](Log::scan), less the locations.
    pub(super) fn read_records(&self, from: u64, max: usize) -> Result<Vec<Record>, LogError> {
        Ok(self
            .scan(from, max)?
            .into_iter()
            .map(|(location, payload)| Record {
                offset: location.offset,
                payload,
            })
            .collect())
    }
}
