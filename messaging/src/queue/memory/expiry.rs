//! TTLs: one timer for the earliest expiry among the ready messages.

use super::{Shared, State};
use crate::loom::lock;
use crate::queue::DeadReason;
use crate::util::Wakers;
use std::sync::Arc;
use std::time::Instant;

impl<T: Clone + Send + 'static> Shared<T> {
    // ANCHOR: expiry
    /// Dead-letters the ready messages that reached their TTL, so that they
    /// leave the queue, and its room, on time even when no consumer asks
    /// for work.
    pub(super) fn expire_due(&self, state: &mut State<T>, now: Instant, wakers: &mut Wakers) {
        let mut expired = Vec::new();
        state.ready.take_expired(now, &mut expired);
        for envelope in expired {
            state.dead_letter(envelope, DeadReason::Expired, wakers);
        }
    }

    /// Keeps one timer set for the earliest expiry among the ready
    /// messages (a queue whose messages have no TTL sets none); a message
    /// that expires earlier than the timer set (given back, or with a
    /// shorter TTL of its own) sets it again, earlier. `now` is the time if
    /// the caller has read it; else, if a timer is to be set, it is read
    /// here.
    pub(super) fn arm_expiry(self: &Arc<Self>, state: &mut State<T>, now: Option<Instant>) {
        let Some(due) = state.ready.next_expiry() else {
            return;
        };
        if let Some((armed, timer)) = &state.expiry {
            if *armed <= due {
                return;
            }
            timer.cancel();
        }
        let now = now.unwrap_or_else(|| self.spawner.now());
        let weak = Arc::downgrade(self);
        let timer = self
            .spawner
            .set_timeout(due.saturating_duration_since(now), move || {
                if let Some(shared) = weak.upgrade() {
                    shared.on_expiry(due);
                }
            });
        state.expiry = Some((due, timer));
    }

    /// The TTL timer set for `due` fired: expire what is due, let
    /// producers and consumers move, and set the timer for the next.
    pub(super) fn on_expiry(self: &Arc<Self>, due: Instant) {
        let mut wakers = Wakers::new();
        {
            let mut state = lock(&self.state);
            if state.expiry.as_ref().is_some_and(|(armed, _)| *armed == due) {
                state.expiry = None;
            }
            let now = self.spawner.now();
            self.after_change(&mut state, Some(now), &mut wakers);
        }
        wakers.wake_all();
    }
    // ANCHOR_END: expiry
}
