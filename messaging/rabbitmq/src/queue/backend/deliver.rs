//! Receiving: each consumer's `Subscription` (its channel and
//! `basic.consume`, made again after a loss), draining its stream into
//! deliveries recorded in flight, and a consumer's end.

use super::{Flight, Rabbit, lock};
use crate::queue::amqp;
use crate::queue::send::{io_error, send_verdict};
use crate::queue::topology::Live;
use futures_core::Stream;
use std::io;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use weft_messaging::StoreError;
use weft_messaging::queue::{Handed, Verdict};

impl<T: Clone + Send + 'static> Rabbit<T> {
    /// A delivery the broker made to `consumer`, recorded in flight; `None`
    /// if its bytes do not decode (it is then rejected: dead-lettered).
    pub(super) fn hand(
        &self,
        consumer: u64,
        live: &Live,
        delivery: lapin::message::Delivery,
    ) -> Option<Handed<T>> {
        let message = match self.shared.codec.decode(&delivery.data) {
            Ok(message) => message,
            Err(_) => {
                let reject = Box::pin(send_verdict(live.clone(), delivery.delivery_tag, Verdict::Reject));
                let _ = self.start(reject, None, |_, _| {});
                return None;
            }
        };
        let tag = self.next();
        let deliveries = amqp::delivery_count(&delivery.properties, delivery.redelivered);
        let deadline = self
            .shared
            .ack_deadline
            .and_then(|d| self.shared.spawner.now().checked_add(d));
        {
            let mut state = lock(&self.shared.state);
            state.flights.insert(
                tag,
                Flight {
                    live: live.clone(),
                    delivery_tag: delivery.delivery_tag,
                    consumer,
                    deadline,
                    deliveries,
                },
            );
            state.consumer_stats.entry(consumer).or_default().in_hand += 1;
        }
        if let Some(deadline) = deadline {
            self.watch(tag, deadline);
        }
        Some(Handed {
            tag,
            message,
            deliveries,
            properties: amqp::from_amqp(&delivery.properties).map(Box::new),
        })
    }

    // The signature of `Backend::poll_deliver_batch`, which forwards here
    // (a `duplicates` pair with every backend's, left).
    pub(super) fn deliver_batch(
        &self,
        consumer: u64,
        max: usize,
        cx: &mut Context<'_>,
        out: &mut dyn FnMut(Handed<T>),
    ) -> Poll<Result<Option<usize>, StoreError<()>>> {
        let subscription = lock(&self.shared.state).consumers.get(&consumer).cloned();
        let Some(subscription) = subscription else {
            return Poll::Ready(Ok(None));
        };
        let closed = || self.shared.closed.load(Ordering::Acquire);
        let mut sub = lock(&subscription);
        let mut count = 0;
        // Each turn (re)subscribes if needed and drains the stream; a loss
        // of the channel or the connection starts another turn.
        loop {
            if sub.live.is_none() {
                if closed() {
                    return Poll::Ready(Ok(None));
                }
                let topology = self.shared.topology.clone();
                let setup = sub.setup.get_or_insert_with(|| {
                    Box::pin(async move { topology.subscribe(topology.name.clone()).await })
                });
                match setup.as_mut().poll(cx) {
                    Poll::Pending => {
                        sub.waker = Some(cx.waker().clone());
                        return Poll::Pending;
                    }
                    Poll::Ready(Err(err)) => {
                        sub.setup = None;
                        return Poll::Ready(Err(StoreError::NotStored {
                            value: (),
                            error: io::Error::other(err),
                        }));
                    }
                    Poll::Ready(Ok(live)) => {
                        sub.setup = None;
                        sub.live = Some(live);
                    }
                }
            }
            let mut lost = false;
            while count < max {
                let Some((live, stream)) = sub.live.as_mut() else {
                    break;
                };
                match Pin::new(stream).poll_next(cx) {
                    Poll::Ready(Some(Ok(delivery))) => {
                        if let Some(handed) = self.hand(consumer, live, delivery) {
                            out(handed);
                            count += 1;
                        }
                    }
                    Poll::Ready(Some(Err(err))) => {
                        // The channel failed: the broker requeues what it
                        // held; resubscribe if it was a loss.
                        let (live, _) = sub.live.take().expect("polled above");
                        if live.is_loss(&err) {
                            self.shared.topology.lost(&live, err);
                            lost = true;
                        } else if count == 0 {
                            return Poll::Ready(Err(StoreError::Unknown { error: io_error(err) }));
                        }
                        break;
                    }
                    Poll::Ready(None) => {
                        // The broker cancelled the consumer: the queue was
                        // deleted, or the connection is going.
                        let (live, _) = sub.live.take().expect("polled above");
                        if live.is_lost() {
                            lost = true;
                        } else if count == 0 {
                            return Poll::Ready(Ok(None));
                        }
                        break;
                    }
                    Poll::Pending => break,
                }
            }
            if count > 0 {
                return Poll::Ready(Ok(Some(count)));
            }
            if !lost || closed() {
                break;
            }
        }
        if closed() {
            return Poll::Ready(Ok(None));
        }
        sub.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    pub(super) fn unsubscribe(&self, consumer: u64) {
        let (subscription, orphans) = {
            let mut state = lock(&self.shared.state);
            state.consumer_stats.remove(&consumer);
            let orphans: Vec<u64> = state
                .flights
                .iter()
                .filter(|(_, flight)| flight.consumer == consumer)
                .map(|(tag, _)| *tag)
                .collect();
            let orphans: Vec<Flight> = orphans
                .iter()
                .filter_map(|tag| state.flights.remove(tag))
                .collect();
            (state.consumers.remove(&consumer), orphans)
        };
        // Their channel closes: the broker requeues them.
        drop(orphans);
        let live = subscription.and_then(|subscription| lock(&subscription).live.take());
        if let Some((Live { channel, .. }, stream)) = live {
            drop(stream);
            let close = Box::pin(async move {
                let _ = channel.close(200, "the consumer was dropped".into()).await;
            });
            let _ = self.start(close, None, |_, _| {});
        }
    }
}
