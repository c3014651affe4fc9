//! The log's shared state and its transitions.
//!
//! # The protocol
//!
//! One `Mutex<State>` guards everything: the segments (the last is the
//! active one, the only one written), the active file's handle, `synced`
//! (every offset below it is on disk), `poisoned` and the waiters.
//!
//! - **Appends** write their frame to the active file while holding the
//!   lock, so records land in offset order and a segment's byte count is
//!   always the end of its last whole record.
//! - **Syncs** run without the lock: the syncer (or, under
//!   [`SyncPolicy::Always`](super::SyncPolicy::Always), an appender) takes
//!   the sync token (`syncing`), notes a [`SyncPoint`] and clones the active
//!   file's handle under the lock, releases it, calls `fdatasync`, and
//!   relocks to apply the outcome and hand the token back. A sync that
//!   started after an append was written covers it. A roll syncs the old
//!   segment in full (under the lock, once no token is out) before the next
//!   one exists, so a sync of the active file covers every record below its
//!   noted end.
//! - **One sync at a time, its outcome applied before the next starts.**
//!   Two syncs of one file in flight could end with the second succeeding
//!   only because the first took the error (Linux reports a writeback
//!   error once per open file) and confirming the very pages the failure
//!   dropped. With the token, every sync after a failure finds the log
//!   poisoned first.
//! - **`synced` only grows, and never after a failure.** A failed sync sets
//!   `poisoned` ([`State::poison`]) and from then on `synced` stays where it
//!   was, even if a later (or concurrent) sync succeeds: after a failed
//!   `fdatasync` Linux marks the dirty pages clean, so a later success
//!   says nothing about them.
//! - **A poison cuts the active segment back to its synced length.** The
//!   pages a failed sync dropped leave a hole on disk, and a write that
//!   raced the failure may land behind it; left there, the next open would
//!   find a bad record with a valid one after it and call it corruption.
//!   The cut bytes were never confirmed. (Each segment notes how much of it
//!   a sync covered, from the [`SyncPoint`] the sync started with.)
//! - **Waiters** (`poll_sync` wakers) are woken after the lock is released:
//!   the transitions hand them back to the caller ([`Woken`]).

use super::segment::Segment;
use crate::fs::SegmentFile;
use std::io;
use std::sync::Arc;
use std::task::Waker;
use std::time::Instant;

#[derive(Debug)]
pub(crate) struct State {
    /// In offset order; never empty; the last is the active segment.
    pub(crate) segments: Vec<Segment>,
    /// The active segment's file.
    pub(crate) active: Arc<dyn SegmentFile>,
    /// Every offset below this is on disk.
    pub(crate) synced: u64,
    /// The failed sync that stopped the log.
    pub(crate) poisoned: Option<Arc<io::Error>>,
    /// `poll_sync` callers: the offset each waits for, and its waker.
    pub(crate) waiters: Vec<(u64, Waker)>,
    /// A sync of the active file is in progress (the sync token): no other
    /// may start until its outcome is applied.
    pub(crate) syncing: bool,
    /// When the oldest append not yet handed to a sync was written.
    pub(crate) pending_since: Option<Instant>,
    /// The log is being dropped: the syncer syncs what is left and stops.
    pub(crate) shutdown: bool,
}

/// What a sync started from covers: every record below `upto`, which ends
/// `bytes` into the segment starting at `base`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SyncPoint {
    upto: u64,
    base: u64,
    bytes: u64,
}

/// Wakers a transition released, to wake once the lock is dropped.
#[must_use = "wake these once the lock is released"]
#[derive(Debug, Default)]
pub(crate) struct Woken(Vec<Waker>);

impl Woken {
    pub(crate) fn extend(&mut self, other: Woken) {
        self.0.extend(other.0);
    }

    pub(crate) fn wake(self) {
        for waker in self.0 {
            waker.wake();
        }
    }
}

impl State {
    /// The offset the next append gets.
    pub(crate) fn end(&self) -> u64 {
        self.segments.last().map_or(0, Segment::end)
    }

    /// The first offset still in the log.
    pub(crate) fn start(&self) -> u64 {
        self.segments.first().map_or(0, |segment| segment.base)
    }

    /// Where a sync of the active file, started now, would reach.
    pub(crate) fn sync_point(&self) -> SyncPoint {
        let active = self.segments.last();
        SyncPoint {
            upto: self.end(),
            base: active.map_or(0, |segment| segment.base),
            bytes: active.map_or(0, |segment| segment.bytes),
        }
    }

    pub(crate) fn active_segment(&mut self) -> &mut Segment {
        let last = self.segments.len() - 1;
        &mut self.segments[last]
    }

    /// A sync started at `point` succeeded. Ignored once poisoned: the log
    /// confirms nothing after a failure.
    pub(crate) fn mark_synced(&mut self, point: SyncPoint) -> Woken {
        if self.poisoned.is_some() {
            return Woken::default();
        }
        if let Some(segment) = self
            .segments
            .iter_mut()
            .find(|segment| segment.base == point.base)
        {
            segment.synced_bytes = segment.synced_bytes.max(point.bytes);
            segment.synced_records = segment.synced_records.max(point.upto - point.base);
        }
        if point.upto <= self.synced {
            return Woken::default();
        }
        self.synced = point.upto;
        let synced = self.synced;
        let mut woken = Vec::new();
        self.waiters.retain(|(offset, waker)| {
            let done = *offset < synced;
            if done {
                woken.push(waker.clone());
            }
            !done
        });
        Woken(woken)
    }

    // ANCHOR: poison
    /// A sync failed: stop the log (the first error is kept), cut the
    /// active segment back to what a sync covered, and release every
    /// waiter, to find the log poisoned.
    pub(crate) fn poison(&mut self, error: io::Error) -> Woken {
        if self.poisoned.is_none() {
            self.poisoned = Some(Arc::new(error));
            let active = Arc::clone(&self.active);
            let segment = self.active_segment();
            if segment.bytes > segment.synced_bytes {
                // Best effort: the log is stopped either way, and if the cut
                // does not reach the disk the next open meets what it would
                // have met without it.
                let _ = active.set_len(segment.synced_bytes);
                let _ = active.sync_data();
                segment.bytes = segment.synced_bytes;
                segment.records = segment.synced_records;
            }
        }
        Woken(self.waiters.drain(..).map(|(_, waker)| waker).collect())
    }
    // ANCHOR_END: poison

    /// Registers `waker` to be woken once `offset` is synced, replacing an
    /// earlier registration of the same task.
    pub(crate) fn register(&mut self, offset: u64, waker: &Waker) {
        match self.waiters.iter_mut().find(|(_, known)| known.will_wake(waker)) {
            Some((known_offset, _)) => *known_offset = (*known_offset).min(offset),
            None => self.waiters.push((offset, waker.clone())),
        }
    }
}
