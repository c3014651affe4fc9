//! Record framing: how one record sits in a segment file.
//!
//! ```text
//!  0        4        8        12                12 + len
//!  +--------+--------+--------+-----------------+
//!  | len    | crc    | hcrc   | payload         |   all u32 little-endian
//!  +--------+--------+--------+-----------------+
//!  crc  = CRC-32C(payload)
//!  hcrc = CRC-32C(bytes 0..8: len and crc)
//! ```
//!
//! The header has its own checksum, so a length is trusted only when its
//! header checks out. That is what lets recovery tell a torn tail from
//! damage without guessing: a record whose valid header announces more
//! bytes than the file holds is an append a crash cut short (whatever its
//! partial payload contains, even bytes that look like records); a record
//! whose valid header is followed by a bad payload is damage if a valid
//! record starts right after it; only a bad header leaves the length
//! unknown, and then [`resync`] looks for a valid header at every later
//! byte. Zeros (a file extended but never written) are never a valid
//! header: the CRC of eight zero bytes is not zero.
//!
//! [`decode`] never panics, whatever the bytes; its [`FrameError`] says
//! which of those cases it met. [`Frames`] walks a segment's records with
//! their positions.

use crate::crc32c;
use std::error::Error;
use std::fmt;

/// The bytes before a record's payload: its length, the payload's checksum
/// and the header's checksum.
pub const HEADER_LEN: usize = 12;

/// A record's payload is at most this long, whatever the configuration.
pub const MAX_PAYLOAD: u32 = u32::MAX - HEADER_LEN as u32;

/// Appends the frame of `payload` to `out`.
///
/// # Errors
///
/// [`FrameError::TooLong`] if `payload` is longer than [`MAX_PAYLOAD`];
/// `out` is left as it was.
///
/// # Examples
///
/// ```
/// use weft_disk::frame;
///
/// let mut segment = Vec::new();
/// frame::encode(b"hello", &mut segment)?;
/// let record = frame::decode(&segment, frame::MAX_PAYLOAD)?;
/// assert_eq!(record.payload, b"hello");
/// assert_eq!(record.len, frame::HEADER_LEN + 5);
/// # Ok::<(), frame::FrameError>(())
/// ```
// ANCHOR: encode
pub fn encode(payload: &[u8], out: &mut Vec<u8>) -> Result<(), FrameError> {
    let len = match u32::try_from(payload.len()) {
        Ok(len) if len <= MAX_PAYLOAD => len,
        _ => {
            return Err(FrameError::TooLong {
                len: payload.len() as u64,
                max: MAX_PAYLOAD,
            });
        }
    };
    let mut header = [0u8; HEADER_LEN];
    header[..4].copy_from_slice(&len.to_le_bytes());
    header[4..8].copy_from_slice(&crc32c::checksum(payload).to_le_bytes());
    let header_crc = crc32c::checksum(&header[..8]);
    header[8..].copy_from_slice(&header_crc.to_le_bytes());
    out.reserve(HEADER_LEN + payload.len());
    out.extend_from_slice(&header);
    out.extend_from_slice(payload);
    Ok(())
}
// ANCHOR_END: encode

/// A record decoded from the front of some bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The record's payload.
    pub payload: &'a [u8],
    /// How many bytes the whole frame took (header and payload).
    pub len: usize,
}

/// Why the bytes at some position are not a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    /// The bytes end inside the record: `have` bytes of the `need` its
    /// (valid) header announces, or of the header itself. What a crash in
    /// the middle of an append leaves at the end of a file.
    Truncated {
        /// The bytes there are, from the record's start.
        have: usize,
        /// The bytes the record needs (at least the header's).
        need: u64,
    },
    /// The header's checksum is wrong: its length cannot be trusted.
    Header {
        /// The checksum in the header.
        stored: u32,
        /// The checksum of the header's bytes.
        computed: u32,
    },
    /// The (valid) header announces a payload longer than the limit.
    TooLong {
        /// The announced length.
        len: u64,
        /// The limit.
        max: u32,
    },
    /// The header is valid and the payload all there, but its checksum is
    /// wrong.
    Checksum {
        /// The payload's length, from the valid header.
        len: u32,
        /// The checksum in the header.
        stored: u32,
        /// The checksum of the payload.
        computed: u32,
    },
}

impl FrameError {
    /// True for [`Truncated`](FrameError::Truncated): the bytes end too
    /// soon, rather than being wrong.
    pub fn is_truncated(&self) -> bool {
        matches!(self, FrameError::Truncated { .. })
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Truncated { have, need } => {
                write!(f, "record cut short: {have} of {need} bytes")
            }
            FrameError::Header { stored, computed } => write!(
                f,
                "record header checksum mismatch: stored {stored:#010x}, computed {computed:#010x}"
            ),
            FrameError::TooLong { len, max } => {
                write!(f, "record length {len} over the limit of {max}")
            }
            FrameError::Checksum { stored, computed, .. } => write!(
                f,
                "record checksum mismatch: stored {stored:#010x}, computed {computed:#010x}"
            ),
        }
    }
}

impl Error for FrameError {}

/// Decodes the record at the front of `bytes`, whose payload may be at
/// most `max_len` bytes long. Never panics.
///
/// # Errors
///
/// [`FrameError::Truncated`] if `bytes` end inside the record;
/// [`FrameError::TooLong`] if its header announces more than `max_len`
/// (checked before the bytes are, so a bad length cannot pass for a torn
/// record); [`FrameError::Checksum`] if the bytes are wrong.
///
/// # Examples
///
/// ```
/// use weft_disk::frame::{self, FrameError};
///
/// let mut bytes = Vec::new();
/// frame::encode(b"abc", &mut bytes)?;
/// assert!(frame::decode(&bytes[..5], 64).unwrap_err().is_truncated());
/// bytes[13] ^= 1; // in the payload
/// assert!(matches!(frame::decode(&bytes, 64), Err(FrameError::Checksum { len: 3, .. })));
/// bytes[1] ^= 1; // in the length
/// assert!(matches!(frame::decode(&bytes, 64), Err(FrameError::Header { .. })));
/// # Ok::<(), FrameError>(())
/// ```
// ANCHOR: decode
pub fn decode(bytes: &[u8], max_len: u32) -> Result<Frame<'_>, FrameError> {
    let Some((header, rest)) = bytes.split_first_chunk::<HEADER_LEN>() else {
        return Err(FrameError::Truncated {
            have: bytes.len(),
            need: HEADER_LEN as u64,
        });
    };
    let word = |at: usize| u32::from_le_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]]);
    let (len, stored, header_stored) = (word(0), word(4), word(8));
    let header_computed = crc32c::checksum(&header[..8]);
    if header_computed != header_stored {
        return Err(FrameError::Header {
            stored: header_stored,
            computed: header_computed,
        });
    }
    let max = max_len.min(MAX_PAYLOAD);
    if len > max {
        return Err(FrameError::TooLong {
            len: u64::from(len),
            max,
        });
    }
    let Some(payload) = rest.get(..len as usize) else {
        return Err(FrameError::Truncated {
            have: bytes.len(),
            need: HEADER_LEN as u64 + u64::from(len),
        });
    };
    let computed = crc32c::checksum(payload);
    if computed != stored {
        return Err(FrameError::Checksum {
            len,
            stored,
            computed,
        });
    }
    Ok(Frame {
        payload,
        len: HEADER_LEN + payload.len(),
    })
}
// ANCHOR_END: decode

/// The records of a segment's bytes, in order, each with its position;
/// after the first bad record it yields that error (with its position) and
/// then nothing.
///
/// # Examples
///
/// ```
/// use weft_disk::frame::{self, Frames};
///
/// let mut bytes = Vec::new();
/// frame::encode(b"one", &mut bytes)?;
/// frame::encode(b"two", &mut bytes)?;
/// bytes.truncate(bytes.len() - 1); // a torn tail
///
/// let mut frames = Frames::new(&bytes, 1024);
/// assert_eq!(frames.next(), Some(Ok((0, &b"one"[..]))));
/// let (at, error) = frames.next().unwrap().unwrap_err();
/// assert_eq!(at, 15);
/// assert!(error.is_truncated());
/// assert_eq!(frames.next(), None);
/// assert_eq!(frames.valid_len(), 15);
/// # Ok::<(), frame::FrameError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Frames<'a> {
    bytes: &'a [u8],
    max_len: u32,
    position: usize,
    done: bool,
}

impl<'a> Frames<'a> {
    /// Walks `bytes` from the start, with payloads of at most `max_len`.
    pub fn new(bytes: &'a [u8], max_len: u32) -> Frames<'a> {
        Frames {
            bytes,
            max_len,
            position: 0,
            done: false,
        }
    }

    /// Where the records yielded so far end: the length of the valid
    /// prefix once the walk has stopped.
    pub fn valid_len(&self) -> usize {
        self.position
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<(usize, &'a [u8]), (usize, FrameError)>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.bytes.get(self.position..).filter(|rest| !rest.is_empty());
        let rest = match rest {
            Some(rest) if !self.done => rest,
            _ => {
                self.done = true;
                return None;
            }
        };
        match decode(rest, self.max_len) {
            Ok(frame) => {
                let at = self.position;
                self.position += frame.len;
                Some(Ok((at, frame.payload)))
            }
            Err(error) => {
                self.done = true;
                Some(Err((self.position, error)))
            }
        }
    }
}

/// Where the first valid record after the bad one at `bad` starts, if
/// any: evidence that the bad record is damage in the middle of the bytes,
/// not a torn tail. `error` is what [`decode`] said about it.
///
/// - [`Truncated`](FrameError::Truncated): `None`. The header was valid (or
///   incomplete), so the record runs past the end: a torn append, whatever
///   its partial payload holds.
/// - [`Checksum`](FrameError::Checksum): the header's length is trusted,
///   so only the position right after the record is tried.
/// - [`Header`](FrameError::Header) or [`TooLong`](FrameError::TooLong):
///   the length is unknown, so every later position is tried; a candidate
///   needs a valid header (odds of about 2^-32 for random bytes) and a
///   valid payload.
///
/// Never panics; a `bad` outside `bytes` gives `None`.
///
/// # Examples
///
/// ```
/// use weft_disk::frame::{self, Frames};
///
/// let mut bytes = Vec::new();
/// for payload in [&b"one"[..], b"two", b"three"] {
///     frame::encode(payload, &mut bytes)?;
/// }
/// bytes[16] ^= 0x40; // the second record's length: its header is bad
/// let (bad, error) = Frames::new(&bytes, 1024).find_map(Result::err).unwrap();
/// assert_eq!(bad, 15);
/// assert_eq!(frame::resync(&bytes, bad, &error, 1024), Some(30));
///
/// bytes.truncate(28); // now only the torn remains of the second follow
/// assert_eq!(frame::resync(&bytes, bad, &error, 1024), None);
/// # Ok::<(), frame::FrameError>(())
/// ```
// ANCHOR: resync
pub fn resync(bytes: &[u8], bad: usize, error: &FrameError, max_len: u32) -> Option<usize> {
    let valid_at = |at: usize| bytes.get(at..).is_some_and(|rest| decode(rest, max_len).is_ok());
    match *error {
        FrameError::Truncated { .. } => None,
        FrameError::Checksum { len, .. } => {
            let next = bad.checked_add(HEADER_LEN)?.checked_add(len as usize)?;
            valid_at(next).then_some(next)
        }
        FrameError::Header { .. } | FrameError::TooLong { .. } => {
            let start = bad.checked_add(1)?;
            (start..bytes.len().saturating_sub(HEADER_LEN - 1)).find(|&at| valid_at(at))
        }
    }
}
// ANCHOR_END: resync

#[cfg(test)]
mod tests;
