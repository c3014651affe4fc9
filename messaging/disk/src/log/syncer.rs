//! The group-commit syncer: one thread per log under
//! [`SyncPolicy::GroupCommit`](super::SyncPolicy::GroupCommit).
//!
//! It sleeps until a record is written and not yet synced, waits up to
//! `max_delay` for more, notes the end offset, and syncs the active file
//! without holding the log's lock, so appends go on meanwhile and the next
//! sync takes all of them at once. Then it wakes the `poll_sync` waiters
//! whose records that sync covered, or, if it failed, poisons the log and
//! wakes them all.

use super::Shared;
use super::state::{State, Woken};
use crate::sync::{MutexGuard, lock, wait};
use std::sync::Arc;
use std::time::{Duration, Instant};

// ANCHOR: syncer
pub(super) fn run(shared: &Arc<Shared>, max_delay: Duration) {
    loop {
        let mut state = lock(&shared.state);
        loop {
            let work = state.poisoned.is_none() && state.end() > state.synced;
            if work && !state.syncing {
                break;
            }
            if !work && state.shutdown {
                return;
            }
            state = wait(&shared.work, state);
        }
        state = gather(shared, state, max_delay);
        if state.syncing {
            // A roll cannot start one while the lock is held, and only the
            // syncer syncs under group commit; check all the same.
            continue;
        }
        state.pending_since = None;
        let mut woken = Woken::default();
        let state = shared.sync_active(state, &mut woken);
        drop(state);
        shared.synced_changed.notify_all();
        woken.wake();
    }
}
// ANCHOR_END: syncer

/// Waits until `max_delay` has passed since the oldest unsynced append (or
/// the log is dropped), to let more appends join this sync.
fn gather<'a>(
    shared: &'a Shared,
    mut state: MutexGuard<'a, State>,
    max_delay: Duration,
) -> MutexGuard<'a, State> {
    if max_delay.is_zero() {
        return state;
    }
    let since = *state.pending_since.get_or_insert_with(Instant::now);
    let deadline = since.checked_add(max_delay);
    while !state.shutdown {
        let Some(deadline) = deadline else {
            // A delay past the end of time: wait for the drop.
            state = wait(&shared.work, state);
            continue;
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        state = match shared.work.wait_timeout(state, left) {
            Ok((guard, _)) => guard,
            Err(poisoned) => poisoned.into_inner().0,
        };
    }
    state
}
