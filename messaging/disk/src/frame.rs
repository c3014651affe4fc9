//! Record framing: how one record sits in a segment file.
//!
//! ```text
//!  0        4        8                 8 + len
//!  +--------+--------+-----------------+
//!  | len    | crc    | payload         |   len, crc: u32 little-endian
//!  +--------+--------+-----------------+
//!  crc = CRC-32C(len's 4 bytes ++ payload)
//! ```
//!
//! The checksum covers the length too, so a flipped length bit is caught
//! as a bad record, not read as a record of another size. Zeros (a file
//! extended but never written) are never a valid record: the CRC of four
//! zero bytes is not zero.
//!
//! [`decode`] never panics, whatever the bytes; it tells a record cut short
//! by the end of the bytes ([`FrameError::Truncated`], what a crash in the
//! middle of a write leaves) from a record whose bytes are all there but
//! wrong ([`FrameError::Checksum`], [`FrameError::TooLong`]). [`Frames`]
//! walks a segment's records with their positions, and [`resync`] looks for
//! a valid record after a bad one: recovery uses it to tell a torn tail
//! (nothing valid follows) from corruption in the middle of a segment.

use crate::crc32c;
use std::error::Error;
use std::fmt;

/// The bytes before a record's payload: its length and its checksum.
pub const HEADER_LEN: usize = 8;

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
    let len_bytes = len.to_le_bytes();
    let crc = crc32c::update(crc32c::update(0, &len_bytes), payload);
    out.reserve(HEADER_LEN + payload.len());
    out.extend_from_slice(&len_bytes);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(payload);
    Ok(())
}

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
    /// header announces (or of the header itself). What a crash in the
    /// middle of an append leaves at the end of a file.
    Truncated {
        /// The bytes there are, from the record's start.
        have: usize,
        /// The bytes the record needs (at least the header's).
        need: u64,
    },
    /// The header announces a payload longer than the limit.
    TooLong {
        /// The announced length.
        len: u64,
        /// The limit.
        max: u32,
    },
    /// The bytes are all there, but their checksum is wrong.
    Checksum {
        /// The checksum in the header.
        stored: u32,
        /// The checksum of the bytes.
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
            FrameError::TooLong { len, max } => {
                write!(f, "record length {len} over the limit of {max}")
            }
            FrameError::Checksum { stored, computed } => {
                write!(
                    f,
                    "record checksum mismatch: stored {stored:#010x}, computed {computed:#010x}"
                )
            }
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
/// bytes[9] ^= 1;
/// assert!(matches!(frame::decode(&bytes, 64), Err(FrameError::Checksum { .. })));
/// # Ok::<(), FrameError>(())
/// ```
pub fn decode(bytes: &[u8], max_len: u32) -> Result<Frame<'_>, FrameError> {
    let Some((header, rest)) = bytes.split_first_chunk::<HEADER_LEN>() else {
        return Err(FrameError::Truncated {
            have: bytes.len(),
            need: HEADER_LEN as u64,
        });
    };
    let len_bytes = [header[0], header[1], header[2], header[3]];
    let len = u32::from_le_bytes(len_bytes);
    let stored = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    if len > max_len.min(MAX_PAYLOAD) {
        return Err(FrameError::TooLong {
            len: u64::from(len),
            max: max_len.min(MAX_PAYLOAD),
        });
    }
    let Some(payload) = rest.get(..len as usize) else {
        return Err(FrameError::Truncated {
            have: bytes.len(),
            need: HEADER_LEN as u64 + u64::from(len),
        });
    };
    let computed = crc32c::update(crc32c::update(0, &len_bytes), payload);
    if computed != stored {
        return Err(FrameError::Checksum { stored, computed });
    }
    Ok(Frame {
        payload,
        len: HEADER_LEN + payload.len(),
    })
}

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
/// assert_eq!(at, 11);
/// assert!(error.is_truncated());
/// assert_eq!(frames.next(), None);
/// assert_eq!(frames.valid_len(), 11);
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

/// The position of the first valid record that starts after `bad` (the
/// start of a bad record) and runs to a valid end of `bytes` or to more
/// valid records, if any: evidence that the bytes at `bad` are corruption
/// in the middle, not a torn tail.
///
/// Every position after `bad` is tried, so a bad length cannot hide the
/// records behind it. A candidate counts only if it decodes and every
/// record after it decodes up to the end of `bytes` or a truncated last
/// record; random bytes pass that with odds of about 2^-32 per candidate.
///
/// # Examples
///
/// ```
/// use weft_disk::frame;
///
/// let mut bytes = Vec::new();
/// for payload in [&b"one"[..], b"two", b"three"] {
///     frame::encode(payload, &mut bytes)?;
/// }
/// bytes[12] ^= 0x40; // the second record's length
/// assert_eq!(frame::resync(&bytes, 11, 1024), Some(22));
/// bytes.truncate(20); // now only its torn remains follow
/// assert_eq!(frame::resync(&bytes, 11, 1024), None);
/// # Ok::<(), frame::FrameError>(())
/// ```
pub fn resync(bytes: &[u8], bad: usize, max_len: u32) -> Option<usize> {
    let start = bad.checked_add(1)?;
    (start..bytes.len().saturating_sub(HEADER_LEN - 1)).find(|&candidate| {
        let mut frames = Frames::new(&bytes[candidate..], max_len);
        let mut any = false;
        for item in &mut frames {
            match item {
                Ok(_) => any = true,
                Err((_, error)) => return any && error.is_truncated(),
            }
        }
        any
    })
}

#[cfg(test)]
mod tests;
