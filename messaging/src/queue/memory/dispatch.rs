//! Dispatch: pairing the consumers waiting in line with the ready
//! messages, in turn, under the lock (see the protocol in the parent
//! module), and putting each delivery in flight.

use super::{Deadline, Envelope, InFlight, Shared, State};
use crate::loom::lock;
use crate::queue::{DeadReason, Handed};
use crate::util::Wakers;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

impl<T: Clone + Send + 'static> Shared<T> {
    /// The next delivery for `consumer`, joining the line of waiting
    /// consumers if none is ready for it.
    pub(super) fn poll_deliver_one(
        self: &Arc<Self>,
        consumer: u64,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Handed<T>>> {
        let shared = self;
        let mut wakers = Wakers::new();
        // Dropped after the lock is released: a waker's drop may call back
        // into the queue.
        let mut _displaced = None;
        let result = {
            let mut state = lock(&shared.state);
            let handed = state.handed.contains_key(&consumer);
            let entry = state.consumers.entry(consumer).or_default();
            if !entry.waiting && !handed {
                entry.waiting = true;
                state.waiting.push_back(consumer);
            }
            shared.dispatch(&mut state, &mut wakers);
            if let Some(delivery) = state.handed.remove(&consumer) {
                _displaced = state.consumers.entry(consumer).or_default().waker.take();
                Poll::Ready(Some(delivery))
            } else if state.is_drained() {
                state.waiting.retain(|&c| c != consumer);
                state.consumers.entry(consumer).or_default().waiting = false;
                Poll::Ready(None)
            } else {
                let entry = state.consumers.entry(consumer).or_default();
                _displaced = crate::util::replace_waker(&mut entry.waker, cx.waker());
                Poll::Pending
            }
        };
        wakers.wake_all();
        result
    }

    // ANCHOR: dispatch
    /// Hands ready messages to waiting consumers, in turn, as long as both
    /// remain. Called with the lock held; wakes through `wakers`.
    pub(super) fn dispatch(self: &Arc<Self>, state: &mut State<T>, wakers: &mut Wakers) {
        // Read the clock only if something is handed over.
        let mut clock = None;
        let mut skipped = 0;
        while skipped < state.waiting.len() && !state.ready.is_empty() {
            let consumer = state.waiting[0];
            let full = state
                .consumers
                .get(&consumer)
                .is_none_or(|c| c.unacked >= self.config.prefetch);
            if full {
                // Keeps its place behind the others.
                state.waiting.rotate_left(1);
                skipped += 1;
                continue;
            }
            let Some(envelope) = state.ready.pop_front() else {
                break;
            };
            let now = *clock.get_or_insert_with(|| self.spawner.now());
            let Some(delivery) = self.hand_over(state, envelope, consumer, now, wakers) else {
                continue;
            };
            state.waiting.pop_front();
            skipped = 0;
            let entry = state.consumers.entry(consumer).or_default();
            entry.waiting = false;
            if let Some(waker) = entry.waker.take() {
                wakers.push(waker);
            }
            state.handed.insert(consumer, delivery);
        }
        self.wake_producers(state, wakers);
        // Expired messages may have been the last: the end is seen.
        if state.is_drained() {
            state.wake_consumers(wakers);
        }
    }

    /// Delivers `envelope` to `consumer` (in flight, deadline set), or
    /// dead-letters it if it expired.
    pub(super) fn hand_over(
        self: &Arc<Self>,
        state: &mut State<T>,
        envelope: Envelope<T>,
        consumer: u64,
        now: Instant,
        wakers: &mut Wakers,
    ) -> Option<Handed<T>> {
        if envelope.expires_at.is_some_and(|at| at <= now) {
            state.dead_letter(envelope, DeadReason::Expired, wakers);
            return None;
        }
        let tag = state.next_tag;
        let timer = self
            .config
            .ack_deadline
            .map(|deadline| Deadline::Own(self.deadline_timer(tag, deadline)));
        state.consumers.entry(consumer).or_default().unacked += 1;
        Some(Self::fly(state, envelope, consumer, now, timer))
    }

    /// Puts `envelope` in flight under the next tag and returns its
    /// delivery; the caller counts it in the consumer's `unacked` and
    /// gives the tag `timer` (made for `state.next_tag`).
    #[inline(always)]
    pub(super) fn fly(
        state: &mut State<T>,
        envelope: Envelope<T>,
        consumer: u64,
        now: Instant,
        timer: Option<Deadline>,
    ) -> Handed<T> {
        // Taken apart and put together again, field by field: moving the
        // whole envelope after changing one field of it made the processor
        // wait for the store of that field (a store-forwarding stall) on
        // every delivery. Struct-update syntax (`..envelope`) compiles to
        // the move and brings the stall back (`recv_batch(10)` 370 -> 435
        // ns), hence the field list twice.
        let Envelope {
            message,
            properties,
            priority,
            expires_at,
            deliveries,
            history,
        } = envelope;
        let deliveries = deliveries + 1;
        let tag = state.next_tag;
        state.next_tag += 1;
        let delivery = Handed {
            tag,
            message: message.clone(),
            deliveries,
            properties: properties.clone(),
        };
        let envelope = Envelope {
            message,
            properties,
            priority,
            expires_at,
            deliveries,
            history,
        };
        state.in_flight.insert(
            tag,
            InFlight {
                envelope,
                consumer,
                delivered_at: now,
                timer,
            },
        );
        delivery
    }

    /// Room was made: one waiting producer per free slot may go on.
    pub(super) fn wake_producers(&self, state: &mut State<T>, wakers: &mut Wakers) {
        let room = self.config.capacity.saturating_sub(state.ready.len());
        for _ in 0..room {
            match state.room_waiters.pop_front() {
                Some((_, waker)) => wakers.push(waker),
                None => break,
            }
        }
    }
    // ANCHOR_END: dispatch
}
