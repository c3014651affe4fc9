//! The durable queue's records: what each log record's payload holds.
//!
//! Every payload opens with a kind byte. A message is named by its
//! *sequence number*, the log offset of its publish record, so a record
//! about a message can only follow the message's own.
//!
//! ```text
//! kind  record      body (little-endian)
//! 0x01  Publish     flags u8 (bit 0: properties follow), [properties], message bytes (the codec's)
//! 0x02  Delivered   count u32, seq u64 × count    (a batch handed out; counts deliveries)
//! 0x03  Verdict     seq u64, verdict u8           (ack, nack, reject, dropped, deadline expiry)
//! 0x04  Dead        seq u64, reason u8            (dead-lettered: rejected, max deliveries, TTL, overflow)
//! 0x05  Left        seq u64, why u8               (left the queue: dead letter taken, purged, duplicate, withdrawn)
//! 0x06  Redriven    seq u64                       (a dead letter back in the queue)
//! 0x07  Moved       seq u64, deliveries u32, dead u8 (0xff: not dead), then a publish's body
//!                                                 (a live message copied forward by compaction)
//! 0x10..0x1f        reserved for the event bus (append, group commit)
//! ```
//!
//! Properties: id (u32 length, UTF-8), timestamp (u8 flag, u64 seconds,
//! u32 nanoseconds since the Unix epoch), priority (u8, 0xff unset), TTL
//! (u8 flag, u64 seconds, u32 nanoseconds), headers (u32 count, then name
//! and value, each u32 length and UTF-8).
//!
//! A `Moved` record is a message's publish copied forward, keeping its
//! sequence number (its identity), its delivery count and whether it is
//! dead-lettered: the records that said so may be in the segment that
//! compaction deletes. It is written only while the message is live and no
//! record ending it (an ack, a `Left`) has been written, so replay never
//! brings back a message that left; and if replay finds the message live
//! already (the power was cut after the copy was synced but before the old
//! segment was deleted), it keeps the one message and notes the copy as
//! where it now lives.
//!
//! Decoding never panics: a payload it cannot read is an error naming
//! what is wrong.

use crate::Properties;
use crate::queue::DeadReason;
use std::time::{Duration, UNIX_EPOCH};

const PUBLISH: u8 = 0x01;
const DELIVERED: u8 = 0x02;
const VERDICT: u8 = 0x03;
const DEAD: u8 = 0x04;
const LEFT: u8 = 0x05;
const REDRIVEN: u8 = 0x06;
const MOVED: u8 = 0x07;
/// A `Moved` record's fields before the publish body: kind, seq,
/// deliveries, dead.
const MOVED_HEAD: usize = 1 + 8 + 4 + 1;

/// How a delivery ended, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    Ack,
    Nack,
    Reject,
    Dropped,
    DeadlineExpired,
}

/// Why a message left the queue without an ack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Why {
    /// Taken from the dead-letter queue.
    DeadTaken,
    Purged,
    /// Dropped as a duplicate within the deduplication window.
    Duplicate,
    /// Its publish was refused or given up after its record was written.
    Withdrawn,
}

/// A decoded record, the publish's message still as bytes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Entry<'a> {
    Publish {
        properties: Option<Box<Properties>>,
        message: &'a [u8],
    },
    Delivered(Vec<u64>),
    Verdict(u64, Ended),
    Dead(u64, DeadReason),
    Left(u64, Why),
    Redriven(u64),
    Moved {
        seq: u64,
        deliveries: u32,
        dead: Option<DeadReason>,
        properties: Option<Box<Properties>>,
        message: &'a [u8],
    },
}

/// Appends a publish record's header (kind, properties) to `out`; the
/// codec appends the message after it.
pub(crate) fn publish_header(properties: Option<&Properties>, out: &mut Vec<u8>) {
    out.push(PUBLISH);
    let Some(props) = properties else {
        out.push(0);
        return;
    };
    out.push(1);
    put_properties(props, out);
}

/// Appends `props` as the module docs lay them out (the event bus's
/// records hold them the same way).
pub(crate) fn put_properties(props: &Properties, out: &mut Vec<u8>) {
    put_str(out, props.id().as_str());
    match props.timestamp().and_then(|t| t.duration_since(UNIX_EPOCH).ok()) {
        Some(at) => put_duration(out, at),
        None => out.push(0),
    }
    out.push(props.priority_set().unwrap_or(0xff));
    match props.ttl() {
        Some(ttl) => put_duration(out, ttl),
        None => out.push(0),
    }
    put_u32(out, props.headers().len() as u32);
    for (name, value) in props.headers() {
        put_str(out, name);
        put_str(out, value);
    }
}

/// A `Delivered` record for `seqs`.
pub(crate) fn delivered(seqs: &[u64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + 8 * seqs.len());
    out.push(DELIVERED);
    put_u32(&mut out, seqs.len() as u32);
    for seq in seqs {
        out.extend_from_slice(&seq.to_le_bytes());
    }
    out
}

/// A `Verdict` record.
pub(crate) fn verdict(seq: u64, ended: Ended) -> Vec<u8> {
    let code = match ended {
        Ended::Ack => 0,
        Ended::Nack => 1,
        Ended::Reject => 2,
        Ended::Dropped => 3,
        Ended::DeadlineExpired => 4,
    };
    about(VERDICT, seq, Some(code))
}

/// A `Dead` record.
pub(crate) fn dead(seq: u64, reason: DeadReason) -> Vec<u8> {
    about(DEAD, seq, Some(dead_code(reason)))
}

fn dead_code(reason: DeadReason) -> u8 {
    match reason {
        DeadReason::Rejected => 0,
        DeadReason::MaxDeliveries => 1,
        DeadReason::Expired => 2,
        DeadReason::Overflowed => 3,
    }
}

fn dead_reason(code: u8) -> Result<DeadReason, &'static str> {
    Ok(match code {
        0 => DeadReason::Rejected,
        1 => DeadReason::MaxDeliveries,
        2 => DeadReason::Expired,
        3 => DeadReason::Overflowed,
        _ => return Err("unknown dead-letter reason"),
    })
}

/// A `Moved` record for message `seq`, whose publish (or an earlier
/// `Moved` record of it) is `carrier`: its body copied as it is.
///
/// # Errors
///
/// If `carrier` is neither a publish nor a `Moved` record.
pub(crate) fn moved(
    seq: u64,
    deliveries: u32,
    dead: Option<DeadReason>,
    carrier: &[u8],
) -> Result<Vec<u8>, &'static str> {
    let body = match carrier.first() {
        Some(&PUBLISH) => &carrier[1..],
        Some(&MOVED) => carrier.get(MOVED_HEAD..).ok_or("record cut short")?,
        _ => return Err("not a publish"),
    };
    let mut out = Vec::with_capacity(MOVED_HEAD + body.len());
    out.push(MOVED);
    out.extend_from_slice(&seq.to_le_bytes());
    put_u32(&mut out, deliveries);
    out.push(dead.map_or(0xff, dead_code));
    out.extend_from_slice(body);
    Ok(out)
}

/// A `Left` record.
pub(crate) fn left(seq: u64, why: Why) -> Vec<u8> {
    let code = match why {
        Why::DeadTaken => 0,
        Why::Purged => 1,
        Why::Duplicate => 2,
        Why::Withdrawn => 3,
    };
    about(LEFT, seq, Some(code))
}

/// A `Redriven` record.
pub(crate) fn redriven(seq: u64) -> Vec<u8> {
    about(REDRIVEN, seq, None)
}

fn about(kind: u8, seq: u64, code: Option<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(10);
    out.push(kind);
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend(code);
    out
}

/// Reads a record's payload.
///
/// # Errors
///
/// What is wrong with it, for an error that names the record's offset.
pub(crate) fn decode(payload: &[u8]) -> Result<Entry<'_>, &'static str> {
    let mut r = Reader(payload);
    let kind = r.u8()?;
    let entry = match kind {
        PUBLISH => {
            let properties = r.flagged_properties()?;
            return Ok(Entry::Publish {
                properties,
                message: r.0,
            });
        }
        DELIVERED => {
            let count = r.u32()? as usize;
            if count > r.0.len() / 8 {
                return Err("delivered count past the record's end");
            }
            Entry::Delivered((0..count).map(|_| r.u64()).collect::<Result<_, _>>()?)
        }
        VERDICT => {
            let seq = r.u64()?;
            let ended = match r.u8()? {
                0 => Ended::Ack,
                1 => Ended::Nack,
                2 => Ended::Reject,
                3 => Ended::Dropped,
                4 => Ended::DeadlineExpired,
                _ => return Err("unknown verdict"),
            };
            Entry::Verdict(seq, ended)
        }
        DEAD => {
            let seq = r.u64()?;
            Entry::Dead(seq, dead_reason(r.u8()?)?)
        }
        LEFT => {
            let seq = r.u64()?;
            let why = match r.u8()? {
                0 => Why::DeadTaken,
                1 => Why::Purged,
                2 => Why::Duplicate,
                3 => Why::Withdrawn,
                _ => return Err("unknown reason for leaving"),
            };
            Entry::Left(seq, why)
        }
        REDRIVEN => Entry::Redriven(r.u64()?),
        MOVED => {
            let seq = r.u64()?;
            let deliveries = r.u32()?;
            let dead = match r.u8()? {
                0xff => None,
                code => Some(dead_reason(code)?),
            };
            let properties = r.flagged_properties()?;
            return Ok(Entry::Moved {
                seq,
                deliveries,
                dead,
                properties,
                message: r.0,
            });
        }
        _ => return Err("unknown record kind"),
    };
    if !r.0.is_empty() {
        return Err("bytes after the record's end");
    }
    Ok(entry)
}

pub(crate) fn put_u32(out: &mut Vec<u8>, n: u32) {
    out.extend_from_slice(&n.to_le_bytes());
}

pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u32(out, s.len() as u32);
    out.extend_from_slice(s.as_bytes());
}

pub(crate) fn put_duration(out: &mut Vec<u8>, d: Duration) {
    out.push(1);
    out.extend_from_slice(&d.as_secs().to_le_bytes());
    put_u32(out, d.subsec_nanos());
}

/// Reads a record's fields in order; `.0` is what is left.
pub(crate) struct Reader<'a>(pub(crate) &'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        if self.0.len() < n {
            return Err("record cut short");
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, &'static str> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u32(&mut self) -> Result<u32, &'static str> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, &'static str> {
        let mut word = [0; 8];
        word.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(word))
    }

    pub(crate) fn str(&mut self) -> Result<&'a str, &'static str> {
        let len = self.u32()? as usize;
        std::str::from_utf8(self.take(len)?).map_err(|_| "text not UTF-8")
    }

    pub(crate) fn duration(&mut self) -> Result<Option<Duration>, &'static str> {
        match self.u8()? {
            0 => Ok(None),
            1 => {
                let secs = self.u64()?;
                let nanos = self.u32()?;
                if nanos >= 1_000_000_000 {
                    return Err("bad nanoseconds");
                }
                Ok(Some(Duration::new(secs, nanos)))
            }
            _ => Err("bad duration flag"),
        }
    }

    /// Reads the flag byte `publish_header` writes (0: none, 1: properties
    /// follow) and the properties it announces.
    pub(crate) fn flagged_properties(&mut self) -> Result<Option<Box<Properties>>, &'static str> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(Box::new(self.properties()?))),
            _ => Err("bad publish flags"),
        }
    }

    pub(crate) fn properties(&mut self) -> Result<Properties, &'static str> {
        let mut props = Properties::new().with_id(self.str()?);
        if let Some(at) = self.duration()? {
            props = props.with_timestamp(UNIX_EPOCH.checked_add(at).ok_or("timestamp out of range")?);
        }
        match self.u8()? {
            0xff => {}
            priority @ 0..=9 => props = props.with_priority(priority),
            _ => return Err("bad priority"),
        }
        if let Some(ttl) = self.duration()? {
            props = props.with_ttl(ttl);
        }
        let count = self.u32()?;
        if count as usize > self.0.len() / 8 {
            return Err("header count past the record's end");
        }
        for _ in 0..count {
            let name = self.str()?;
            let value = self.str()?;
            props = props.with_header(name, value);
        }
        Ok(props)
    }
}

#[cfg(test)]
mod tests;
