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
//!   [`SyncPolicy::Always`](super::SyncPolicy::Always), the appender) notes
//!   the end offset and clones the active file's handle under the lock,
//!   releases it, calls `fdatasync`, and relocks to apply the outcome. A
//!   sync that started after an append was written covers it. A roll syncs
//!   the old segment in full (under the lock) before the next one exists,
//!   so a sync of the active file covers every record below its noted end.
//! - **`synced` only grows, and never after a failure.** A failed sync sets
//!   `poisoned` ([`State::poison`]) and from then on `synced` stays where it
//!   was, even if a later (or concurrent) sync succeeds: after a failed
//!   `fdatasync` Linux marks the dirty pages clean, so a later success
//!   says nothing about them.
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
    /// When the oldest append not yet handed to a sync was written.
    pub(crate) pending_since: Option<Instant>,
    /// The log is being dropped: the syncer syncs what is left and stops.
    pub(crate) shutdown: bool,
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

    pub(crate) fn active_segment(&mut self) -> &mut Segment {
        let last = self.segments.len() - 1;
        &mut self.segments[last]
    }

    /// A sync that covered every offset below `upto` succeeded. Ignored
    /// once poisoned: the log confirms nothing after a failure.
    pub(crate) fn mark_synced(&mut self, upto: u64) -> Woken {
        if self.poisoned.is_some() || upto <= self.synced {
            return Woken::default();
        }
        self.synced = upto;
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

    /// A sync failed: stop the log (the first error is kept) and release
    /// every waiter, to find the log poisoned.
    pub(crate) fn poison(&mut self, error: io::Error) -> Woken {
        if self.poisoned.is_none() {
            self.poisoned = Some(Arc::new(error));
        }
        Woken(self.waiters.drain(..).map(|(_, waker)| waker).collect())
    }

    /// Registers `waker` to be woken once `offset` is synced, replacing an
    /// earlier registration of the same task.
    pub(crate) fn register(&mut self, offset: u64, waker: &Waker) {
        match self.waiters.iter_mut().find(|(_, known)| known.will_wake(waker)) {
            Some((known_offset, _)) => *known_offset = (*known_offset).min(offset),
            None => self.waiters.push((offset, waker.clone())),
        }
    }
}
