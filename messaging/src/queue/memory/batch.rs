//! A batch of deliveries to one consumer, for `recv_batch`.
//!
//! A batch pays once what a `recv` pays per message: one lock, one clock
//! read, one look-up of the consumer (its prefetch room, then its counter
//! raised by the batch's size), one growth of the in-flight map, and one
//! deadline timer shared by the batch's deliveries ([`Deadline::Batch`]).
//! What stays per message is what must: taking it from the ready lanes,
//! its clone kept for redelivery, its in-flight entry, and handing it out.
//!
//! Fairness: `dispatch` runs after every change that makes a message ready
//! or a consumer able to take one, so whenever messages are ready every
//! waiting consumer is at its prefetch limit. A consumer that finds ready
//! messages can therefore take them at once without passing anyone who
//! could have taken them; it waits in line only when nothing is ready for
//! it, like `poll_deliver`.

use super::{Deadline, Shared, State};
use crate::loom::lock;
use crate::queue::Handed;
use crate::util::Wakers;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

impl<T: Clone + Send + 'static> Shared<T> {
    /// Up to `max` deliveries for `consumer`, passed to `out`: see
    /// `Backend::poll_deliver_batch`. Never fails.
    pub(super) fn deliver_batch(
        self: &Arc<Self>,
        consumer: u64,
        max: usize,
        cx: &mut Context<'_>,
        out: &mut dyn FnMut(Handed<T>),
    ) -> Poll<Option<usize>> {
        // Asked for none (the front never does), it hands one, as `recv`.
        let max = max.max(1);
        let mut wakers = Wakers::new();
        let (handed, _displaced) = {
            let mut state = lock(&self.state);
            // A delivery set aside for it while it waited comes first.
            let mut displaced = None;
            let mut handed = 0;
            if let Some(first) = state.handed.remove(&consumer) {
                displaced = state.consumers.get_mut(&consumer).and_then(|c| c.waker.take());
                out(first);
                handed = 1;
            }
            handed += self.take_ready(&mut state, consumer, max.saturating_sub(handed), out, &mut wakers);
            (handed, displaced)
        };
        // Woken, and the displaced waker dropped, with the lock released: a
        // waker's drop may call back into the queue.
        wakers.wake_all();
        if handed > 0 {
            return Poll::Ready(Some(handed));
        }
        // Nothing ready for it: wait in line, as `recv` does.
        let Some(first) = ready!(self.poll_deliver_one(consumer, cx)) else {
            return Poll::Ready(None);
        };
        out(first);
        // The rest of the batch, if more came meanwhile.
        let mut wakers = Wakers::new();
        let more = self.take_ready(
            &mut lock(&self.state),
            consumer,
            max.saturating_sub(1),
            out,
            &mut wakers,
        );
        wakers.wake_all();
        Poll::Ready(Some(1 + more))
    }

    /// Hands `consumer` up to `max` ready messages, within its prefetch,
    /// under the caller's lock; returns how many.
    fn take_ready(
        self: &Arc<Self>,
        state: &mut State<T>,
        consumer: u64,
        max: usize,
        out: &mut dyn FnMut(Handed<T>),
        wakers: &mut Wakers,
    ) -> usize {
        let Some(entry) = state.consumers.get(&consumer) else {
            return 0;
        };
        let room = self.config.prefetch.saturating_sub(entry.unacked);
        let want = max.min(room).min(state.ready.len());
        if want == 0 {
            return 0;
        }
        let now: Instant = self.spawner.now();
        state.in_flight.reserve(want);
        // The batch's deadline timer, made at its first delivery.
        let mut deadline: Option<(u64, Arc<_>)> = None;
        let mut handed = 0;
        while handed < want {
            let Some(envelope) = state.ready.pop_front() else {
                break;
            };
            if envelope.expires_at.is_some_and(|at| at <= now) {
                state.dead_letter(envelope, crate::queue::DeadReason::Expired, wakers);
                continue;
            }
            let timer = self.config.ack_deadline.map(|after| {
                let (first, timer) = deadline.get_or_insert_with(|| {
                    let first = state.next_tag;
                    (
                        first,
                        Arc::new(self.batch_timer(first, (want - handed) as u64, after)),
                    )
                });
                Deadline::Batch {
                    first: *first,
                    timer: timer.clone(),
                }
            });
            out(Self::fly(state, envelope, consumer, now, timer));
            handed += 1;
        }
        if let Some(entry) = state.consumers.get_mut(&consumer) {
            entry.unacked += handed;
            if entry.waiting {
                // Served out of turn only when no one else could be.
                entry.waiting = false;
                state.waiting.retain(|&c| c != consumer);
            }
        }
        self.wake_producers(state, wakers);
        if state.is_drained() {
            state.wake_consumers(wakers);
        }
        handed
    }
}
