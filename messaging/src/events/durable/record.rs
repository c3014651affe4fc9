//! The durable bus's records: what each log record's payload holds.
//!
//! Every payload opens with a kind byte, from the range the queue's
//! records leave to the bus (`0x10..=0x1f`):
//!
//! ```text
//! kind  record   log        body (little-endian)
//! 0x10  Append   partition  partition u32, seq u64, timestamp (u64 seconds, u32 nanoseconds
//!                           since the Unix epoch), size u64, flags u8 (bit 0: key follows,
//!                           bit 1: properties follow), [key], [properties], payload (the codec's)
//! 0x11  Commit   meta       group, topic (each u32 length, UTF-8), partition u32, offset u64
//! 0x12  Topic    meta       name (u32 length, UTF-8), partitions u32
//! ```
//!
//! Properties are laid out as in the queue's publish records. Decoding
//! never panics: a payload it cannot read is an error naming what is
//! wrong.

use crate::Properties;
use crate::queue::durable::record::{Reader, put_properties, put_str, put_u32};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const APPEND: u8 = 0x10;
const COMMIT: u8 = 0x11;
const TOPIC: u8 = 0x12;

const HAS_KEY: u8 = 1;
const HAS_PROPERTIES: u8 = 2;

/// What an append record says before its payload: all the index needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AppendHead {
    pub(crate) partition: u32,
    pub(crate) seq: u64,
    pub(crate) timestamp: SystemTime,
    pub(crate) size: u64,
}

/// An append record read whole, the payload still as bytes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct AppendBody<'a> {
    pub(crate) head: AppendHead,
    pub(crate) key: Option<&'a str>,
    pub(crate) properties: Option<Properties>,
    pub(crate) payload: &'a [u8],
}

/// A record of the meta log.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Meta<'a> {
    Commit {
        group: &'a str,
        topic: &'a str,
        partition: u32,
        offset: u64,
    },
    Topic {
        name: &'a str,
        partitions: u32,
    },
}

/// Appends an append record's head, key and properties to `out`; the
/// codec appends the payload after it.
pub(crate) fn append_header(
    head: &AppendHead,
    key: Option<&str>,
    properties: Option<&Properties>,
    out: &mut Vec<u8>,
) {
    out.push(APPEND);
    put_u32(out, head.partition);
    out.extend_from_slice(&head.seq.to_le_bytes());
    // A time before the epoch is kept as the epoch.
    let at = head.timestamp.duration_since(UNIX_EPOCH).unwrap_or_default();
    out.extend_from_slice(&at.as_secs().to_le_bytes());
    put_u32(out, at.subsec_nanos());
    out.extend_from_slice(&head.size.to_le_bytes());
    let flags =
        if key.is_some() { HAS_KEY } else { 0 } | if properties.is_some() { HAS_PROPERTIES } else { 0 };
    out.push(flags);
    if let Some(key) = key {
        put_str(out, key);
    }
    if let Some(props) = properties {
        put_properties(props, out);
    }
}

/// A commit record.
pub(crate) fn commit(group: &str, topic: &str, partition: u32, offset: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(21 + group.len() + topic.len());
    out.push(COMMIT);
    put_str(&mut out, group);
    put_str(&mut out, topic);
    put_u32(&mut out, partition);
    out.extend_from_slice(&offset.to_le_bytes());
    out
}

/// A topic record.
pub(crate) fn topic(name: &str, partitions: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 + name.len());
    out.push(TOPIC);
    put_str(&mut out, name);
    put_u32(&mut out, partitions);
    out
}

/// Reads an append record's head only (what an open indexes).
///
/// # Errors
///
/// What is wrong with it.
pub(crate) fn append_head(payload: &[u8]) -> Result<AppendHead, &'static str> {
    let mut r = Reader(payload);
    head(&mut r)
}

/// Reads an append record whole.
///
/// # Errors
///
/// What is wrong with it.
pub(crate) fn append(payload: &[u8]) -> Result<AppendBody<'_>, &'static str> {
    let mut r = Reader(payload);
    let head = head(&mut r)?;
    let flags = r.u8()?;
    if flags & !(HAS_KEY | HAS_PROPERTIES) != 0 {
        return Err("bad append flags");
    }
    let key = if flags & HAS_KEY != 0 {
        Some(r.str()?)
    } else {
        None
    };
    let properties = if flags & HAS_PROPERTIES != 0 {
        Some(r.properties()?)
    } else {
        None
    };
    Ok(AppendBody {
        head,
        key,
        properties,
        payload: r.0,
    })
}

fn head(r: &mut Reader<'_>) -> Result<AppendHead, &'static str> {
    if r.u8()? != APPEND {
        return Err("not an append record");
    }
    let partition = r.u32()?;
    let seq = r.u64()?;
    let secs = r.u64()?;
    let nanos = r.u32()?;
    if nanos >= 1_000_000_000 {
        return Err("bad nanoseconds");
    }
    let timestamp = UNIX_EPOCH
        .checked_add(Duration::new(secs, nanos))
        .ok_or("timestamp out of range")?;
    let size = r.u64()?;
    Ok(AppendHead {
        partition,
        seq,
        timestamp,
        size,
    })
}

/// Reads a meta log record.
///
/// # Errors
///
/// What is wrong with it.
pub(crate) fn meta(payload: &[u8]) -> Result<Meta<'_>, &'static str> {
    let mut r = Reader(payload);
    let meta = match r.u8()? {
        COMMIT => Meta::Commit {
            group: r.str()?,
            topic: r.str()?,
            partition: r.u32()?,
            offset: r.u64()?,
        },
        TOPIC => Meta::Topic {
            name: r.str()?,
            partitions: r.u32()?,
        },
        _ => return Err("unknown record kind"),
    };
    if !r.0.is_empty() {
        return Err("bytes after the record's end");
    }
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let head = AppendHead {
            partition: 3,
            seq: 9,
            timestamp: UNIX_EPOCH + Duration::new(5, 7),
            size: 11,
        };
        let props = Properties::new().with_id("m-1").with_header("a", "b");
        let mut out = Vec::new();
        append_header(&head, Some("user-7"), Some(&props), &mut out);
        out.extend_from_slice(b"payload");
        let body = append(&out).unwrap();
        assert_eq!(body.head, head);
        assert_eq!(body.key, Some("user-7"));
        assert_eq!(
            body.properties.as_ref().map(|p| p.id().as_str().to_owned()),
            Some("m-1".into())
        );
        assert_eq!(body.payload, b"payload");
        assert_eq!(append_head(&out).unwrap(), head);
        let commit = commit("billing", "orders", 2, 40);
        assert_eq!(
            meta(&commit).unwrap(),
            Meta::Commit {
                group: "billing",
                topic: "orders",
                partition: 2,
                offset: 40
            }
        );
        assert_eq!(
            meta(&topic("orders", 4)).unwrap(),
            Meta::Topic {
                name: "orders",
                partitions: 4
            }
        );
    }

    #[test]
    fn decoding_never_panics_on_any_prefix_or_flipped_byte() {
        let mut out = Vec::new();
        let head = AppendHead {
            partition: 0,
            seq: 1,
            timestamp: UNIX_EPOCH,
            size: 1,
        };
        append_header(&head, Some("k"), Some(&Properties::new().with_id("x")), &mut out);
        out.push(1);
        let records = [out, commit("g", "t", 0, 1), topic("t", 1)];
        for record in &records {
            for cut in 0..record.len() {
                let _ = (append(&record[..cut]), meta(&record[..cut]));
            }
            for at in 0..record.len() {
                let mut flipped = record.clone();
                flipped[at] ^= 0xff;
                let _ = (append(&flipped), meta(&flipped));
            }
        }
    }
}
