//! The in-memory queue as a [`Backend`]: each call takes the lock, does
//! its part and wakes what it collected after releasing it; the
//! machinery lives beside this file (`dispatch.rs`, `publish.rs`,
//! `batch.rs`, `settle.rs`).

use super::{Change, ConsumerState, Deadline, Ending, Envelope, Memory};
use crate::StoreError;
use crate::loom::lock;
use crate::queue::backend::{Backend, Handed, PublishOp, Verdict};
use crate::queue::{AckError, ConsumerStats, DeadLetter, PublishError, Stats};
use crate::util::Wakers;
use std::task::{Context, Poll};
use std::time::Duration;
use weft_primitives::spawner::Spawner;

// The `Backend` trait's signatures, repeated as every backend must (the
// `duplicates` pairs among the memory, durable and RabbitMQ impls, left).
impl<T: Clone + Send + 'static> Backend<T> for Memory<T> {
    fn poll_publish(
        &self,
        op: &mut PublishOp<T>,
        cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), PublishError<T>>> {
        self.shared.poll_publish(op, cx)
    }

    fn cancel_publish(&self, op: &mut PublishOp<T>) {
        let Some(ticket) = op.ticket.take() else {
            return;
        };
        let mut wakers = Wakers::new();
        let _gone = {
            let mut state = lock(&self.shared.state);
            match state.room_waiters.iter().position(|(t, _)| *t == ticket) {
                // Still waiting: it leaves the line, no wakeup spent.
                Some(at) => state.room_waiters.remove(at),
                // Woken for room it will not use: the next one gets it.
                None => {
                    if state.ready.len() < self.shared.config.capacity
                        && let Some((_, waker)) = state.room_waiters.pop_front()
                    {
                        wakers.push(waker);
                    }
                    None
                }
            }
        };
        wakers.wake_all();
    }

    fn add_producer(&self) {
        // Counted only in the mode that needs it: no lock otherwise.
        if self.shared.config.end_when_producers_gone {
            lock(&self.shared.state).producers += 1;
        }
    }

    fn remove_producer(&self) {
        if !self.shared.config.end_when_producers_gone {
            return;
        }
        let last = {
            let mut state = lock(&self.shared.state);
            state.producers = state.producers.saturating_sub(1);
            state.producers == 0
        };
        if last {
            self.close();
        }
    }

    fn add_consumer(&self) -> u64 {
        let mut state = lock(&self.shared.state);
        let id = state.next_consumer;
        state.next_consumer += 1;
        state.consumers.insert(id, ConsumerState::default());
        id
    }

    fn poll_deliver(
        &self,
        consumer: u64,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Handed<T>>, StoreError<()>>> {
        self.shared.poll_deliver_one(consumer, cx).map(Ok)
    }

    fn poll_deliver_batch(
        &self,
        consumer: u64,
        max: usize,
        cx: &mut Context<'_>,
        out: &mut dyn FnMut(Handed<T>),
    ) -> Poll<Result<Option<usize>, StoreError<()>>> {
        Poll::Ready(Ok(std::task::ready!(
            self.shared.deliver_batch(consumer, max, cx, out)
        )))
    }

    fn cancel_deliver(&self, consumer: u64) {
        self.shared.stop_waiting(consumer, false);
    }

    fn remove_consumer(&self, consumer: u64) {
        self.shared.stop_waiting(consumer, true);
    }

    fn poll_settle(
        &self,
        tag: u64,
        verdict: Verdict,
        _cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), AckError>> {
        let ending = match verdict {
            Verdict::Ack => Ending::Ack,
            Verdict::Nack { requeue } => Ending::Nack { requeue },
            Verdict::NackAfter { delay } => Ending::NackAfter(delay),
            Verdict::Reject => Ending::Reject,
            Verdict::Dropped => Ending::Drop,
        };
        Poll::Ready(self.shared.settle(tag, ending))
    }

    fn poll_extend_deadline(
        &self,
        tag: u64,
        extra: Duration,
        _cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), AckError>> {
        let shared = &self.shared;
        let old = {
            let mut state = lock(&shared.state);
            let Some(flight) = state.in_flight.get_mut(&tag) else {
                return Poll::Ready(Err(AckError::NotInFlight));
            };
            let timer = shared.deadline_timer(tag, extra);
            flight.timer.replace(Deadline::Own(timer))
        };
        if let Some(old) = old {
            old.release();
        }
        Poll::Ready(Ok(()))
    }

    fn close(&self) {
        let mut wakers = Wakers::new();
        {
            let mut state = lock(&self.shared.state);
            state.closed = true;
            state.room_waiters.drain(..).for_each(|(_, w)| wakers.push(w));
            state.wake_consumers(&mut wakers);
        }
        wakers.wake_all();
    }

    fn is_closed(&self) -> bool {
        lock(&self.shared.state).closed
    }

    fn purge(&self) -> usize {
        let mut gone = Vec::new();
        let mut wakers = Wakers::new();
        {
            let mut state = lock(&self.shared.state);
            state.ready.drain(&mut gone);
            gone.extend(state.delayed.drain().map(|(_, envelope)| envelope));
            for envelope in &gone {
                state.observe(&envelope.message, Change::Purged);
            }
            state.purged += gone.len() as u64;
            self.shared.wake_producers(&mut state, &mut wakers);
            if state.is_drained() {
                state.wake_consumers(&mut wakers);
            }
        }
        wakers.wake_all();
        // The messages (user code's drops) go with the lock released.
        gone.len()
    }

    fn redrive(&self, choose: &mut dyn FnMut(&DeadLetter<T>) -> bool) -> usize {
        let shared = &self.shared;
        let letters: Vec<_> = {
            let mut state = lock(&shared.state);
            if state.closed {
                return 0;
            }
            state.dead.drain(..).collect()
        };
        // The predicate is user code: it runs with the lock released.
        let (back, keep): (Vec<_>, Vec<_>) = letters.into_iter().partition(|letter| choose(letter));
        let moved = back.len();
        let mut wakers = Wakers::new();
        {
            let mut state = lock(&shared.state);
            // Older than any dead-lettered meanwhile: back at the front.
            for letter in keep.into_iter().rev() {
                state.dead.push_front(letter);
            }
            let now = shared.spawner.now();
            for letter in back {
                let envelope = shared.envelope(letter.message, letter.properties.map(Box::new), Some(now));
                state.ready.push_back(Envelope {
                    history: letter.history,
                    ..envelope
                });
            }
            shared.dispatch(&mut state, &mut wakers);
            shared.arm_expiry(&mut state, Some(now));
        }
        wakers.wake_all();
        moved
    }

    fn stats(&self) -> Stats {
        let state = lock(&self.shared.state);
        Stats {
            ready: state.ready.len(),
            in_flight: state.in_flight.len(),
            delayed: state.delayed.len(),
            dead_lettered: state.dead.len(),
            published: state.published,
            acked: state.acked,
            purged: state.purged,
            deduplicated: state.deduplicated,
        }
    }

    fn consumer_stats(&self, consumer: u64) -> ConsumerStats {
        let state = lock(&self.shared.state);
        state
            .consumers
            .get(&consumer)
            .map_or_else(ConsumerStats::default, |c| ConsumerStats {
                in_hand: c.unacked,
                acked: c.acked,
                nacked: c.nacked,
                rejected: c.rejected,
            })
    }

    fn poll_dead_letter(&self, cx: Option<&Context<'_>>) -> Poll<Result<DeadLetter<T>, StoreError<()>>> {
        let mut state = lock(&self.shared.state);
        match state.dead.pop_front() {
            Some(letter) => Poll::Ready(Ok(letter)),
            None => {
                if let Some(cx) = cx {
                    crate::util::add_waker(&mut state.dead_waiters, cx.waker());
                }
                Poll::Pending
            }
        }
    }

    fn spawner(&self) -> Option<Spawner> {
        Some(self.shared.spawner.clone())
    }
}
