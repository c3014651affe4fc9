//! The write path: an append under the lock, the roll to a new segment,
//! and a sync of the active segment with the sync token.

use super::segment::Segment;
use super::state::{State, Woken};
use super::{Location, Shared, SyncPolicy};
use crate::error::LogError;
use crate::sync::{MutexGuard, lock, wait};
use std::io;
use std::sync::Arc;
use std::time::Instant;

impl Shared {
    /// The body of `append`: roll if needed, write, and sync or hand the
    /// sync to the syncer, as the policy says.
    pub(super) fn append_locked(&self, bytes: &[u8], woken: &mut Woken) -> Result<Location, LogError> {
        let mut state = lock(&self.state);
        loop {
            if let Some(error) = &state.poisoned {
                return Err(LogError::Poisoned(Arc::clone(error)));
            }
            let active_bytes = state.active_segment().bytes;
            let full = active_bytes > 0
                && active_bytes.saturating_add(bytes.len() as u64) > self.options.segment_bytes;
            if !full {
                break;
            }
            if state.syncing {
                // A roll syncs the old segment itself: wait for the sync in
                // flight to be applied first, then look again.
                state = wait(&self.synced_changed, state);
                continue;
            }
            self.roll(&mut state, woken)?;
            break;
        }
        if let Err(error) = state.active.append(bytes) {
            // Cut a partial write back out, or the next record would land
            // behind garbage: corruption mid-segment on the next open.
            let length = state.active_segment().bytes;
            if let Err(cut) = state.active.set_len(length) {
                woken.extend(state.poison(cut));
            }
            return Err(LogError::Io(Arc::new(error)));
        }
        let segment = state.active_segment();
        let location = Location {
            offset: segment.end(),
            segment: segment.base,
            position: segment.bytes,
            len: bytes.len() as u64,
        };
        segment.records += 1;
        segment.bytes += bytes.len() as u64;
        let offset = location.offset;
        match self.options.sync {
            SyncPolicy::Never => Ok(location),
            SyncPolicy::GroupCommit { .. } => {
                state.pending_since.get_or_insert_with(Instant::now);
                self.work.notify_one();
                Ok(location)
            }
            SyncPolicy::Always => loop {
                // A sync that another appender started after this write
                // covers it; otherwise take the token and sync.
                if offset < state.synced {
                    return Ok(location);
                }
                if let Some(error) = &state.poisoned {
                    return Err(LogError::Poisoned(Arc::clone(error)));
                }
                if state.syncing {
                    state = wait(&self.synced_changed, state);
                    continue;
                }
                state = self.sync_active(state, woken);
                self.synced_changed.notify_all();
            },
        }
    }

    // ANCHOR: sync_active
    /// Syncs the active file with the sync token (which must be free),
    /// without the lock, and applies the outcome; the caller wakes `woken`
    /// and notifies `synced_changed` once it drops the lock.
    pub(super) fn sync_active<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
        woken: &mut Woken,
    ) -> MutexGuard<'a, State> {
        state.syncing = true;
        let point = state.sync_point();
        let file = Arc::clone(&state.active);
        drop(state);
        let result = file.sync_data();
        let mut state = lock(&self.state);
        state.syncing = false;
        woken.extend(match result {
            Ok(()) => state.mark_synced(point),
            Err(error) => state.poison(error),
        });
        state
    }
    // ANCHOR_END: sync_active

    // ANCHOR: roll
    /// Closes the active segment and opens the next: syncs the old one in
    /// full (so every record below the new base is on disk), creates the
    /// new file and syncs the directory so the file survives a power cut.
    pub(super) fn roll(&self, state: &mut State, woken: &mut Woken) -> Result<(), LogError> {
        let durable = self.options.sync != SyncPolicy::Never;
        let base = state.end();
        if durable {
            let point = state.sync_point();
            if let Err(error) = state.active.sync_data() {
                woken.extend(state.poison(error));
                return Err(self.poisoned_error(state));
            }
            woken.extend(state.mark_synced(point));
        }
        let segment = Segment::new(&self.dir, base);
        let file = self
            .fs
            .open(&segment.path, true)
            .map_err(|error| LogError::Io(Arc::new(error)))?;
        if durable && let Err(error) = self.fs.sync_dir(&self.dir) {
            woken.extend(state.poison(error));
            return Err(self.poisoned_error(state));
        }
        state.segments.push(segment);
        state.active = Arc::from(file);
        Ok(())
    }
    // ANCHOR_END: roll

    pub(super) fn poisoned_error(&self, state: &State) -> LogError {
        let error = state
            .poisoned
            .clone()
            .unwrap_or_else(|| Arc::new(io::Error::other("log poisoned")));
        LogError::Poisoned(error)
    }
}
