//! How a delivery ends: verdicts, ack deadlines, delays and back-off, and
//! a consumer that stops waiting.

use super::{Ending, Envelope, InFlight, Shared, State};
use crate::loom::lock;
use crate::queue::{AckError, Attempt, DeadReason, Outcome};
use crate::util::Wakers;
use std::sync::Arc;
use std::time::{Duration, Instant};
use weft_primitives::callback::TimerHandle;

impl<T: Clone + Send + 'static> Shared<T> {
    // ANCHOR: deadline
    /// A timer that makes delivery `tag` deliverable again after `deadline`.
    pub(super) fn deadline_timer(self: &Arc<Self>, tag: u64, deadline: Duration) -> TimerHandle {
        let weak = Arc::downgrade(self);
        self.spawner.set_timeout(deadline, move || {
            if let Some(shared) = weak.upgrade() {
                let _ = shared.settle(tag, Ending::Expire);
            }
        })
    }
    // ANCHOR_END: deadline

    /// One timer for a batch: after `deadline`, the deliveries of tags
    /// `first .. first + count` still under it become deliverable again.
    pub(super) fn batch_timer(self: &Arc<Self>, first: u64, count: u64, deadline: Duration) -> TimerHandle {
        let weak = Arc::downgrade(self);
        self.spawner.set_timeout(deadline, move || {
            if let Some(shared) = weak.upgrade() {
                shared.expire_batch(first, count);
            }
        })
    }

    // ANCHOR: requeue
    /// Puts a message back to be delivered again, after `delay` if one is
    /// given (a `nack_after`, or the queue's back-off), or dead-letters it
    /// if it used up its deliveries.
    pub(super) fn requeue(
        self: &Arc<Self>,
        state: &mut State<T>,
        envelope: Envelope<T>,
        delay: Option<Duration>,
        wakers: &mut Wakers,
    ) {
        if envelope.deliveries >= self.config.max_deliveries {
            state.dead_letter(envelope, DeadReason::MaxDeliveries, wakers);
            return;
        }
        crate::diag::requeued(envelope.deliveries, delay, envelope.properties.as_deref());
        match delay.filter(|d| !d.is_zero()) {
            // At the front: a message given back goes out next.
            None => state.ready.push_front(envelope),
            Some(delay) => {
                let key = state.next_delayed;
                state.next_delayed += 1;
                state.delayed.insert(key, envelope);
                let weak = Arc::downgrade(self);
                // Not kept: a purge takes the message, and the timer then
                // finds nothing.
                let _timer = self.spawner.set_timeout(delay, move || {
                    if let Some(shared) = weak.upgrade() {
                        shared.on_delay(key);
                    }
                });
            }
        }
    }
    // ANCHOR_END: requeue

    /// The delay of message `key` ran out: it is ready again, first of its
    /// priority.
    pub(super) fn on_delay(self: &Arc<Self>, key: u64) {
        let mut wakers = Wakers::new();
        {
            let mut state = lock(&self.state);
            let Some(envelope) = state.delayed.remove(&key) else {
                return;
            };
            state.ready.push_front(envelope);
            let now = self.spawner.now();
            self.after_change(&mut state, Some(now), &mut wakers);
        }
        wakers.wake_all();
    }

    /// The back-off delay before delivery `deliveries + 1`, if the queue
    /// has a back-off policy.
    pub(super) fn backoff(&self, deliveries: u32) -> Option<Duration> {
        let (base, max) = self.config.backoff?;
        let factor = 1u32.checked_shl(deliveries.saturating_sub(1)).unwrap_or(u32::MAX);
        Some(base.saturating_mul(factor).min(max))
    }

    /// Ends delivery `tag` with `verdict`. Errors if it was already ended
    /// (settled, or its deadline passed).
    pub(super) fn settle(self: &Arc<Self>, tag: u64, verdict: Ending) -> Result<(), AckError> {
        let mut wakers = Wakers::new();
        let timer = {
            let mut state = lock(&self.state);
            let Some(flight) = state.in_flight.remove(&tag) else {
                return Err(AckError::NotInFlight);
            };
            let timer = self.end(&mut state, flight, verdict, &mut wakers);
            self.after_settle(&mut state, &mut wakers);
            timer
        };
        if let (Some(timer), false) = (timer, matches!(verdict, Ending::Expire)) {
            timer.release();
        }
        wakers.wake_all();
        Ok(())
    }

    /// The deadline of a batch passed: every delivery of tags `first ..
    /// first + count` still under that batch's timer is given back, under
    /// one lock, in delivery order. One given a deadline of its own since is
    /// left alone.
    pub(super) fn expire_batch(self: &Arc<Self>, first: u64, count: u64) {
        let mut wakers = Wakers::new();
        {
            let mut state = lock(&self.state);
            let mut any = false;
            // Last first: each goes back to the front of its priority, so
            // the batch comes back in the order it was delivered.
            for tag in (first..first.saturating_add(count)).rev() {
                let ours = state.in_flight.get(&tag).is_some_and(
                    |flight| matches!(&flight.timer, Some(Deadline::Batch { first: f, .. }) if *f == first),
                );
                if !ours {
                    continue;
                }
                if let Some(flight) = state.in_flight.remove(&tag) {
                    // The batch's timer has fired: nothing to cancel.
                    let _fired = self.end(&mut state, flight, Ending::Expire, &mut wakers);
                    any = true;
                }
            }
            if any {
                self.after_settle(&mut state, &mut wakers);
            }
        }
        wakers.wake_all();
    }

    /// Ends `flight` (already out of `in_flight`) with `verdict`: the
    /// consumer's counters, the history, and where the message goes.
    /// Returns its deadline timer, for the caller to release once the lock
    /// is released.
    fn end(
        self: &Arc<Self>,
        state: &mut State<T>,
        flight: InFlight<T>,
        verdict: Ending,
        wakers: &mut Wakers,
    ) -> Option<Deadline> {
        let InFlight {
            mut envelope,
            consumer,
            delivered_at,
            timer,
        } = flight;
        if let Some(c) = state.consumers.get_mut(&consumer) {
            c.unacked -= 1;
            match verdict {
                Ending::Ack => c.acked += 1,
                Ending::Nack { .. } | Ending::NackAfter(_) => c.nacked += 1,
                Ending::Reject => c.rejected += 1,
                Ending::Expire | Ending::Drop => {}
            }
        }
        let outcome = match verdict {
            Ending::Ack => None,
            Ending::Nack { .. } | Ending::NackAfter(_) => Some(Outcome::Nacked),
            Ending::Reject => Some(Outcome::Rejected),
            Ending::Expire => Some(Outcome::DeadlineExpired),
            Ending::Drop => Some(Outcome::Dropped),
        };
        if matches!(verdict, Ending::Expire) {
            state.observe(&envelope.message, super::Change::DeadlineExpired);
        }
        if let Some(outcome) = outcome {
            envelope.history.push(Attempt {
                consumer,
                delivered_at,
                outcome,
            });
        }
        // ANCHOR: settle
        match verdict {
            Ending::Ack => state.acked += 1,
            Ending::NackAfter(delay) => self.requeue(state, envelope, Some(delay), wakers),
            Ending::Nack { requeue: true } | Ending::Expire | Ending::Drop => {
                let delay = self.backoff(envelope.deliveries);
                self.requeue(state, envelope, delay, wakers)
            }
            Ending::Nack { requeue: false } | Ending::Reject => {
                state.dead_letter(envelope, DeadReason::Rejected, wakers)
            }
        }
        // ANCHOR_END: settle
        timer
    }

    /// After deliveries ended: expire what is due, hand out what came back,
    /// re-arm the TTL timer, and let consumers see the end.
    fn after_settle(self: &Arc<Self>, state: &mut State<T>, wakers: &mut Wakers) {
        // A message given back may be past its TTL already, or due before
        // the timer set.
        let now = state.ready.next_expiry().map(|_| self.spawner.now());
        self.after_change(state, now, wakers);
    }

    /// After messages came back to the ready list (or left it): expire
    /// what is due at `now` (if the caller read the clock), hand out what
    /// is ready, re-arm the TTL timer, and let consumers see the end.
    pub(super) fn after_change(
        self: &Arc<Self>,
        state: &mut State<T>,
        now: Option<Instant>,
        wakers: &mut Wakers,
    ) {
        if let Some(now) = now {
            self.expire_due(state, now, wakers);
        }
        self.dispatch(state, wakers);
        self.arm_expiry(state, now);
        if state.is_drained() {
            state.wake_consumers(wakers);
        }
    }

    /// `consumer` stops waiting: out of the line, and a message set aside
    /// for it goes back to the front, not counted as a delivery. With
    /// `remove`, the consumer is forgotten too.
    pub(super) fn stop_waiting(self: &Arc<Self>, consumer: u64, remove: bool) {
        let mut wakers = Wakers::new();
        let (_gone, timer) = {
            let mut state = lock(&self.state);
            state.waiting.retain(|&c| c != consumer);
            // Its waker is dropped after the lock is released.
            let gone = if remove {
                state.consumers.remove(&consumer).and_then(|c| c.waker)
            } else {
                state.consumers.get_mut(&consumer).and_then(|c| {
                    c.waiting = false;
                    c.waker.take()
                })
            };
            let mut timer = None;
            if let Some(handed) = state.handed.remove(&consumer)
                && let Some(flight) = state.in_flight.remove(&handed.tag)
            {
                if let Some(c) = state.consumers.get_mut(&consumer) {
                    c.unacked -= 1;
                }
                let mut envelope = flight.envelope;
                envelope.deliveries -= 1;
                timer = flight.timer;
                state.ready.push_front(envelope);
                let now = state.ready.next_expiry().map(|_| self.spawner.now());
                if let Some(now) = now {
                    self.expire_due(&mut state, now, &mut wakers);
                }
                self.dispatch(&mut state, &mut wakers);
                self.arm_expiry(&mut state, now);
            }
            (gone, timer)
        };
        if let Some(timer) = timer {
            timer.release();
        }
        wakers.wake_all();
    }
}

/// The timer that ends a delivery at its ack deadline.
pub(super) enum Deadline {
    /// Its own: one delivery, or one whose deadline was extended.
    Own(TimerHandle),
    /// Shared by the deliveries of one batch, tags `first ..`: set once
    /// for the batch, cancelled when its last delivery ends.
    Batch {
        /// The batch's first tag, which names it.
        first: u64,
        /// The timer, shared.
        timer: Arc<TimerHandle>,
    },
}

impl Deadline {
    /// The delivery ended before its deadline: its own timer is cancelled,
    /// a batch's once no delivery holds it.
    pub(super) fn release(self) {
        match self {
            Deadline::Own(timer) => {
                timer.cancel();
            }
            Deadline::Batch { timer, .. } => {
                if let Some(timer) = Arc::into_inner(timer) {
                    timer.cancel();
                }
            }
        }
    }
}
