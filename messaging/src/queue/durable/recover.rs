//! Replay on open: the log's records, read in order, rebuild which
//! messages are still in the queue, how often each was delivered, and
//! which are dead-lettered.

use super::OpenDurableError;
use super::record::{self, Ended, Entry};
use crate::Properties;
use crate::codec::Codec;
use crate::queue::DeadReason;
use std::collections::{BTreeMap, VecDeque};
use weft_disk::Log;

/// A message found in the log, still in the queue.
pub(super) struct Found<T> {
    /// The offset of the record holding it: its publish, or the latest
    /// copy compaction made of it.
    pub(super) carrier: u64,
    pub(super) message: T,
    pub(super) properties: Option<Box<Properties>>,
    pub(super) deliveries: u32,
    /// Dead-lettered by the record at this offset, for this reason.
    pub(super) dead: Option<(u64, DeadReason)>,
}

/// What the replay found.
pub(super) struct Replay<T> {
    /// By sequence number.
    pub(super) live: BTreeMap<u64, Found<T>>,
    /// Each record's offset and size on disk.
    pub(super) sizes: VecDeque<(u64, u64)>,
    pub(super) used: u64,
}

/// Records read per call: the log reads each segment whole per call.
const BATCH: usize = 1 << 16;

/// Reads every record of `log` from its start.
///
/// # Errors
///
/// [`OpenDurableError::Read`] if reading failed;
/// [`OpenDurableError::Record`] for a record that is not one of the
/// queue's, or a message `codec` cannot read.
pub(super) fn replay<T: 'static>(log: &Log, codec: &dyn Codec<T>) -> Result<Replay<T>, OpenDurableError> {
    let mut replay = Replay {
        live: BTreeMap::new(),
        sizes: VecDeque::new(),
        used: 0,
    };
    let mut from = log.start();
    while from < log.end() {
        let records = log.read(from, BATCH).map_err(OpenDurableError::Read)?;
        let Some(last) = records.last() else {
            break;
        };
        from = last.offset + 1;
        for found in &records {
            let size = (weft_disk::frame::HEADER_LEN + found.payload.len()) as u64;
            replay.sizes.push_back((found.offset, size));
            replay.used += size;
            let bad = |what: String| OpenDurableError::Record {
                offset: found.offset,
                what,
            };
            let entry = record::decode(&found.payload).map_err(|what| bad(what.to_owned()))?;
            apply(&mut replay.live, found.offset, entry, codec).map_err(bad)?;
        }
    }
    Ok(replay)
}

/// Applies one record. Records about a message no longer in the log (its
/// segment deleted) are skipped.
fn apply<T: 'static>(
    live: &mut BTreeMap<u64, Found<T>>,
    offset: u64,
    entry: Entry<'_>,
    codec: &dyn Codec<T>,
) -> Result<(), String> {
    match entry {
        Entry::Publish { properties, message } => {
            let message = codec
                .decode(message)
                .map_err(|error| format!("the codec cannot read the message: {error}"))?;
            live.insert(
                offset,
                Found {
                    carrier: offset,
                    message,
                    properties,
                    deliveries: 0,
                    dead: None,
                },
            );
        }
        Entry::Delivered(seqs) => {
            for seq in seqs {
                if let Some(found) = live.get_mut(&seq) {
                    found.deliveries = found.deliveries.saturating_add(1);
                }
            }
        }
        Entry::Verdict(seq, Ended::Ack) | Entry::Left(seq, _) => {
            live.remove(&seq);
        }
        Entry::Verdict(..) => {}
        Entry::Dead(seq, reason) => {
            if let Some(found) = live.get_mut(&seq) {
                found.dead = Some((offset, reason));
            }
        }
        Entry::Redriven(seq) => {
            if let Some(found) = live.get_mut(&seq) {
                found.dead = None;
                found.deliveries = 0;
            }
        }
        // ANCHOR: moved
        // A copy made by compaction. It was written while the message was
        // live and before any record ending it, so finding it means the
        // message is live here. If its older record is still in the log
        // too (the power was cut after the copy was synced and before the
        // old segment was deleted), the message is already here, with the
        // state the records between them gave it: keep that one message and
        // note where it lives now. Otherwise the copy is all there is of it.
        Entry::Moved {
            seq,
            deliveries,
            dead,
            properties,
            message,
        } => match live.get_mut(&seq) {
            Some(found) => found.carrier = offset,
            None => {
                let message = codec
                    .decode(message)
                    .map_err(|error| format!("the codec cannot read the message: {error}"))?;
                live.insert(
                    seq,
                    Found {
                        carrier: offset,
                        message,
                        properties,
                        deliveries,
                        dead: dead.map(|reason| (offset, reason)),
                    },
                );
            }
        },
        // ANCHOR_END: moved
    }
    Ok(())
}
