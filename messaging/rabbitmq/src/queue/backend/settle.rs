//! How a delivery in flight ends: its verdict (sent on the channel it came
//! on, or held for `nack_after` and the redelivery back-off), its ack
//! deadline (watched by a task of its own, extended in place), and the
//! bookkeeping of both.
//!
//! A *held* delivery is out of flight (no verdict can reach it any more)
//! and counted in `State::delayed` until a task of the queue's spawner
//! nacks it with requeue on its channel, its delay passed.

use super::{Flight, Rabbit, Shared, lock};
use crate::queue::send::send_verdict;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use weft_messaging::queue::{AckError, Verdict};
use weft_primitives::spawner::Spawner;

impl<T: Clone + Send + 'static> Rabbit<T> {
    pub(super) fn settle(
        &self,
        tag: u64,
        verdict: Verdict,
        mut cx: Option<&mut Context<'_>>,
    ) -> Poll<Result<(), AckError>> {
        if let Some(cx) = cx.as_deref_mut()
            && let Some(polled) = self.resume(tag, cx, |state| &mut state.settles)
        {
            return polled;
        }
        let Some(flight) = self.land(tag, verdict) else {
            return Poll::Ready(Err(AckError::NotInFlight));
        };
        let held = match verdict {
            Verdict::NackAfter { delay } => Some(delay),
            Verdict::Nack { requeue: true } | Verdict::Dropped => {
                backoff(self.shared.backoff, flight.deliveries)
            }
            Verdict::Ack | Verdict::Nack { requeue: false } | Verdict::Reject => None,
        };
        if let Some(delay) = held {
            hold(&self.shared, flight, delay);
            return Poll::Ready(Ok(()));
        }
        let sending = Box::pin(send_verdict(flight.live, flight.delivery_tag, verdict));
        self.start(sending, cx, |state, op| {
            state.settles.insert(tag, op);
        })
    }

    pub(super) fn extend_deadline(&self, tag: u64, extra: Duration) -> Poll<Result<(), AckError>> {
        let Some(deadline) = self.shared.spawner.now().checked_add(extra) else {
            // Too far to represent: no deadline.
            return match lock(&self.shared.state).flights.get_mut(&tag) {
                Some(flight) => {
                    flight.deadline = None;
                    Poll::Ready(Ok(()))
                }
                None => Poll::Ready(Err(AckError::NotInFlight)),
            };
        };
        let watched = {
            let mut state = lock(&self.shared.state);
            let Some(flight) = state.flights.get_mut(&tag) else {
                return Poll::Ready(Err(AckError::NotInFlight));
            };
            flight.deadline.replace(deadline).is_some()
        };
        if !watched {
            self.watch(tag, deadline);
        }
        Poll::Ready(Ok(()))
    }

    /// Enforces delivery `tag`'s ack deadline: once it passes (as extended
    /// meanwhile), gives the message back to the broker.
    pub(super) fn watch(&self, tag: u64, deadline: Instant) {
        let shared = Arc::downgrade(&self.shared);
        let spawner = self.shared.spawner.clone();
        self.shared
            .spawner
            .spawn(watch_deadline(shared, spawner, tag, deadline));
    }

    /// Takes delivery `tag` out of flight, counting `verdict` for its
    /// consumer.
    pub(super) fn land(&self, tag: u64, verdict: Verdict) -> Option<Flight> {
        let mut state = lock(&self.shared.state);
        let flight = state.flights.remove(&tag)?;
        if verdict == Verdict::Ack {
            state.acked += 1;
        }
        let stats = state.consumer_stats.entry(flight.consumer).or_default();
        stats.in_hand = stats.in_hand.saturating_sub(1);
        match verdict {
            Verdict::Ack => stats.acked += 1,
            Verdict::Nack { .. } | Verdict::NackAfter { .. } => stats.nacked += 1,
            Verdict::Reject => stats.rejected += 1,
            Verdict::Dropped => {}
        }
        Some(flight)
    }
}

/// The task behind [`Rabbit::watch`]: sleeps until delivery `tag`'s
/// deadline (following extensions), then takes it out of flight and
/// gives it back to the broker.
async fn watch_deadline<T: Send + 'static>(
    shared: Weak<Shared<T>>,
    spawner: Spawner,
    tag: u64,
    mut deadline: Instant,
) {
    loop {
        spawner.sleep_until(deadline).await;
        let Some(shared) = shared.upgrade() else { return };
        let flight = {
            let mut state = lock(&shared.state);
            match state.flights.get(&tag).map(|flight| flight.deadline) {
                // Settled, or its deadline lifted (extended past the clock).
                None | Some(None) => return,
                Some(Some(later)) if later > deadline => {
                    deadline = later;
                    continue;
                }
                Some(Some(_)) => {}
            }
            let Some(flight) = state.flights.remove(&tag) else {
                return;
            };
            let stats = state.consumer_stats.entry(flight.consumer).or_default();
            stats.in_hand = stats.in_hand.saturating_sub(1);
            flight
        };
        if let Some(delay) = backoff(shared.backoff, flight.deliveries) {
            hold(&shared, flight, delay);
            return;
        }
        drop(shared);
        let _ = send_verdict(flight.live, flight.delivery_tag, Verdict::Dropped).await;
        return;
    }
}

/// The back-off before the delivery after `deliveries` under `policy`
/// (base, max): base doubled for each earlier delivery, at most max.
fn backoff(policy: Option<(Duration, Duration)>, deliveries: u32) -> Option<Duration> {
    let (base, max) = policy?;
    let factor = 1u32.checked_shl(deliveries.saturating_sub(1)).unwrap_or(u32::MAX);
    Some(base.saturating_mul(factor).min(max))
}

/// Holds `flight` for `delay`, then nacks it with requeue (see the
/// [module docs](self)).
fn hold<T: Send + 'static>(shared: &Arc<Shared<T>>, flight: Flight, delay: Duration) {
    let weak = Arc::downgrade(shared);
    let spawner = shared.spawner.clone();
    let at = spawner.now().checked_add(delay);
    lock(&shared.state).delayed += 1;
    shared.spawner.spawn(async move {
        if let Some(at) = at {
            spawner.sleep_until(at).await;
        }
        let requeue = Verdict::Nack { requeue: true };
        let _ = send_verdict(flight.live, flight.delivery_tag, requeue).await;
        if let Some(shared) = weak.upgrade() {
            lock(&shared.state).delayed -= 1;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn the_backoff_doubles_with_each_earlier_delivery_up_to_its_max() {
        let ms = Duration::from_millis;
        let policy = Some((ms(10), ms(50)));
        let delays: Vec<_> = (1..=5).map(|n| backoff(policy, n)).collect();
        assert_eq!(
            delays,
            [
                Some(ms(10)),
                Some(ms(20)),
                Some(ms(40)),
                Some(ms(50)),
                Some(ms(50))
            ]
        );
        // A count past any shift saturates, never panics.
        assert_eq!(backoff(policy, u32::MAX), Some(ms(50)));
        assert_eq!(backoff(None, 3), None);
    }
}
