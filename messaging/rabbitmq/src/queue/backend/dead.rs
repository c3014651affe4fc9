//! The dead-letter queue's consumer: subscribed once and again after a
//! loss, polled with the waiter's waker, each letter taken with an ack.

use super::{Rabbit, lock};
use crate::queue::amqp;
use crate::queue::send::{io_error, send_verdict};
use futures_core::Stream;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use weft_messaging::StoreError;
use weft_messaging::queue::{DeadLetter, Verdict};

impl<T: Clone + Send + 'static> Rabbit<T> {
    pub(super) fn dead_letter(
        &self,
        cx: Option<&Context<'_>>,
    ) -> Poll<Result<DeadLetter<T>, StoreError<()>>> {
        let (polled, live) = {
            let mut dead = lock(&self.shared.dead);
            if let Some(cx) = cx {
                dead.waker = Some(cx.waker().clone());
            }
            let waker = dead.waker.clone().unwrap_or_else(|| Waker::noop().clone());
            let mut context = Context::from_waker(&waker);
            let polled = loop {
                if dead.live.is_none() {
                    let topology = self.shared.topology.clone();
                    let setup = dead.setup.get_or_insert_with(|| {
                        Box::pin(async move { topology.subscribe(topology.dead.clone()).await })
                    });
                    match setup.as_mut().poll(&mut context) {
                        Poll::Pending => break Poll::Pending,
                        Poll::Ready(Err(err)) => {
                            dead.setup = None;
                            break Poll::Ready(Err(io::Error::other(err)));
                        }
                        Poll::Ready(Ok(live)) => {
                            dead.setup = None;
                            dead.live = Some(live);
                        }
                    }
                }
                let (live, stream) = dead.live.as_mut().expect("subscribed above");
                match Pin::new(stream).poll_next(&mut context) {
                    Poll::Pending => break Poll::Pending,
                    Poll::Ready(Some(Ok(delivery))) => {
                        break Poll::Ready(Ok((delivery, live.clone())));
                    }
                    Poll::Ready(Some(Err(err))) => {
                        let (live, _) = dead.live.take().expect("polled above");
                        if !live.is_loss(&err) {
                            break Poll::Ready(Err(io_error(err)));
                        }
                        self.shared.topology.lost(&live, err);
                    }
                    Poll::Ready(None) => {
                        let (live, _) = dead.live.take().expect("polled above");
                        if !live.is_lost() {
                            break Poll::Ready(Err(io::Error::new(
                                io::ErrorKind::NotConnected,
                                "the broker cancelled the dead-letter consumer",
                            )));
                        }
                    }
                }
            };
            // The waiter got its answer; a `try_` that took a letter leaves
            // the waiter registered (at worst, woken for nothing).
            if polled.is_ready() && cx.is_some() {
                dead.waker = None;
            }
            match polled {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(error)) => {
                    return Poll::Ready(Err(StoreError::NotStored { value: (), error }));
                }
                Poll::Ready(Ok((delivery, live))) => (delivery, live),
            }
        };
        let delivery = polled;
        let take = Box::pin(send_verdict(live, delivery.delivery_tag, Verdict::Ack));
        let _ = self.start(take, None, |_, _| {});
        match self.shared.codec.decode(&delivery.data) {
            Ok(message) => Poll::Ready(Ok(DeadLetter {
                message,
                reason: amqp::dead_reason(&delivery.properties),
                history: Vec::new(),
                properties: amqp::from_amqp(&delivery.properties),
            })),
            Err(e) => Poll::Ready(Err(StoreError::Unknown {
                error: io::Error::new(io::ErrorKind::InvalidData, e),
            })),
        }
    }
}
