//! Publishing: room, the overflow policy, producers waiting by ticket,
//! and the deduplication window.

use super::{Shared, State};
use crate::MessageId;
use crate::loom::lock;
use crate::queue::DeadReason;
use crate::queue::backend::PublishOp;
use crate::queue::{Overflow, PublishError};
use crate::util::Wakers;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

impl<T: Clone + Send + 'static> Shared<T> {
    /// True if message `id` was accepted within the deduplication window.
    /// Forgets ids older than the window.
    pub(super) fn duplicate(&self, state: &mut State<T>, id: &MessageId, now: Instant) -> bool {
        let Some(window) = self.config.dedup_window else {
            return false;
        };
        while let Some((at, _)) = state.seen.front()
            && now.saturating_duration_since(*at) >= window
        {
            let (at, old) = state.seen.pop_front().expect("the front exists");
            if state.seen_ids.get(&old) == Some(&at) {
                state.seen_ids.remove(&old);
            }
        }
        state.seen_ids.contains_key(id)
    }

    /// Records message `id` as accepted, for the deduplication window.
    pub(super) fn remember(&self, state: &mut State<T>, id: &MessageId, now: Instant) {
        if self.config.dedup_window.is_some() {
            state.seen_ids.insert(id.clone(), now);
            state.seen.push_back((now, id.clone()));
        }
    }

    /// Accepts the message in `op` if there is room (or the policy makes
    /// room); waits for room under [`Overflow::Wait`] when given `cx`.
    pub(super) fn poll_publish(
        self: &Arc<Self>,
        op: &mut PublishOp<T>,
        cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), PublishError<T>>> {
        let Some((message, properties)) = op.message.take() else {
            // Completed before; nothing to publish.
            return Poll::Ready(Ok(()));
        };
        let mut wakers = Wakers::new();
        // Dropped after the lock is released: a waker's drop may call back
        // into the queue.
        let mut _displaced = None;
        let result = {
            let mut state = lock(&self.state);
            if state.closed {
                _displaced = Self::forget_ticket(&mut state, op);
                return Poll::Ready(Err(PublishError::Closed(message)));
            }
            // The clock is read only for a queue with a TTL, messages that
            // expire, or deduplication.
            let needs_clock = self.config.ttl.is_some()
                || state.ready.next_expiry().is_some()
                || properties
                    .as_ref()
                    .is_some_and(|p| p.ttl().is_some() || self.config.dedup_window.is_some());
            let now = needs_clock.then(|| self.spawner.now());
            if let (Some(props), Some(now)) = (&properties, now)
                && self.duplicate(&mut state, props.id(), now)
            {
                // Dropped, and answered with success, as SQS does. It takes
                // no room: a wakeup it was given for room goes on.
                state.deduplicated += 1;
                state.observe(&message, super::Change::Deduplicated);
                _displaced = Self::forget_ticket(&mut state, op);
                self.wake_producers(&mut state, &mut wakers);
                drop(state);
                wakers.wake_all();
                return Poll::Ready(Ok(()));
            }
            if let (Some(now), true) = (now, state.ready.len() >= self.config.capacity) {
                // Expired messages make room before any policy applies.
                self.expire_due(&mut state, now, &mut wakers);
            }
            // ANCHOR: full
            if state.ready.len() >= self.config.capacity {
                match (self.config.overflow, cx) {
                    (Overflow::DropOldest, _) => {
                        if let Some(oldest) = state.ready.pop_least() {
                            state.dead_letter(oldest, DeadReason::Overflowed, &mut wakers);
                        }
                    }
                    (Overflow::Wait, Some(cx)) => {
                        // In line by ticket: a cancelled publish leaves it
                        // (or passes on its wakeup), see `cancel_publish`.
                        let waker = cx.waker();
                        match op.ticket {
                            Some(ticket) => match state.room_waiters.iter_mut().find(|(t, _)| *t == ticket) {
                                Some((_, old)) if old.will_wake(waker) => {}
                                Some((_, old)) => _displaced = Some(std::mem::replace(old, waker.clone())),
                                None => state.room_waiters.push_back((ticket, waker.clone())),
                            },
                            None => {
                                let ticket = state.next_ticket;
                                state.next_ticket += 1;
                                op.ticket = Some(ticket);
                                state.room_waiters.push_back((ticket, waker.clone()));
                            }
                        }
                        op.message = Some((message, properties));
                        return Poll::Pending;
                    }
                    // No one waits (`try_publish`, or the `Reject` policy):
                    // the message goes back at once, with no waker left.
                    (Overflow::Wait | Overflow::Reject, _) => {
                        _displaced = Self::forget_ticket(&mut state, op);
                        return Poll::Ready(Err(PublishError::Full(message)));
                    }
                }
            }
            // ANCHOR_END: full
            _displaced = Self::forget_ticket(&mut state, op);
            if let (Some(props), Some(now)) = (&properties, now) {
                self.remember(&mut state, props.id(), now);
            }
            let envelope = self.envelope(message, properties, now);
            state.ready.push_back(envelope);
            state.published += 1;
            self.dispatch(&mut state, &mut wakers);
            self.arm_expiry(&mut state, now);
            Ok(())
        };
        wakers.wake_all();
        Poll::Ready(result)
    }

    /// A publish that waited is done: it leaves the line of producers.
    /// Returns its waker, for the caller to drop with the lock released.
    #[must_use = "drop the waker after releasing the lock"]
    pub(super) fn forget_ticket(state: &mut State<T>, op: &mut PublishOp<T>) -> Option<Waker> {
        let ticket = op.ticket.take()?;
        let at = state.room_waiters.iter().position(|(t, _)| *t == ticket)?;
        state.room_waiters.remove(at).map(|(_, waker)| waker)
    }
}
