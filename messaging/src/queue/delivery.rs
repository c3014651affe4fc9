//! A message in a consumer's hands: [`Delivery`], its verdicts (ack,
//! nack, reject, settle) and what dropping it without one does.

use super::{AckError, Backend, Handed, Properties, Verdict};
use std::fmt;
use std::future::poll_fn;
use std::ops::Deref;
use std::sync::{Arc, Weak};
use std::task::Poll;
use std::time::Duration;

// ANCHOR: delivery
/// A message in a consumer's hands. Dereferences to the message; settle it
/// with [`ack`](Delivery::ack), [`nack`](Delivery::nack) or
/// [`reject`](Delivery::reject). Dropped without a verdict, it counts as
/// `nack(true)`: the message is delivered again.
pub struct Delivery<T: 'static> {
    /// `None` once settled (a verdict given, or dropped).
    backend: Option<Weak<dyn Backend<T>>>,
    handed: Handed<T>,
}
// ANCHOR_END: delivery

impl<T: Clone + Send + 'static> Delivery<T> {
    pub(super) fn new(backend: Weak<dyn Backend<T>>, handed: Handed<T>) -> Delivery<T> {
        Delivery {
            backend: Some(backend),
            handed,
        }
    }

    // ANCHOR: verdicts
    /// Acknowledges the message: it leaves the queue.
    ///
    /// # Errors
    ///
    /// [`AckError::NotInFlight`] if the ack deadline passed first (the
    /// message may have been delivered again), [`AckError::QueueGone`] if
    /// every handle to the queue was dropped. [`AckError::Store`] if the
    /// backend could not record the verdict: the delivery is then given
    /// back at once, to be delivered again (flagged as redelivered), as
    /// RabbitMQ requeues what a failed channel held unacked. (Unlike SQS,
    /// where a failed delete may be retried until the visibility timeout,
    /// a weft verdict is not retried: the message comes back instead.)
    pub fn ack(mut self) -> Result<(), AckError> {
        self.finish(Verdict::Ack)
    }

    /// Acknowledges the message and waits until the backend confirms the
    /// ack is stored: on the [durable](super::Queue::durable) backend, until its
    /// record is synced, so that not even a power cut brings the message
    /// back. [`ack`](Delivery::ack) returns once the ack is sent (on the
    /// durable backend, written: it survives `kill -9`, not a power cut).
    /// On the in-memory backend the two are the same.
    ///
    /// # Errors
    ///
    /// As [`ack`](Delivery::ack).
    ///
    /// # Cancel safety
    ///
    /// Dropped while it waits, the ack was sent, as by `ack`; only its
    /// confirmation is not awaited.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::queue::Queue;
    ///
    /// weft::block_on(async {
    ///     let queue = Queue::new(8);
    ///     queue.producer().publish("charge card").await.unwrap();
    ///     let job = queue.consumer().recv().await.unwrap();
    ///     job.ack_confirmed().await.unwrap();
    ///     assert_eq!(queue.stats().acked, 1);
    /// });
    /// ```
    pub async fn ack_confirmed(self) -> Result<(), AckError> {
        self.settle(Verdict::Ack).await
    }

    /// Gives the message back: delivered again if `requeue` (unless it used
    /// up its deliveries), dead-lettered otherwise.
    ///
    /// # Errors
    ///
    /// As [`ack`](Delivery::ack).
    pub fn nack(mut self, requeue: bool) -> Result<(), AckError> {
        self.finish(Verdict::Nack { requeue })
    }

    /// Gives the message back to be delivered again once `delay` has
    /// passed (SQS's visibility timeout change, a retry with a pause), so
    /// that a failing message does not spin at the front; dead-lettered
    /// instead if it used up its deliveries. Until then it counts in
    /// [`Stats::delayed`](super::Stats::delayed).
    ///
    /// # Errors
    ///
    /// As [`ack`](Delivery::ack).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::queue::Queue;
    ///
    /// weft::block_on(async {
    ///     let queue = Queue::new(8);
    ///     queue.producer().publish("retry me").await.unwrap();
    ///     let mut consumer = queue.consumer();
    ///     consumer.recv().await.unwrap().nack_after(Duration::from_millis(5)).unwrap();
    ///     assert_eq!(queue.stats().delayed, 1);
    ///     let again = consumer.recv().await.unwrap();
    ///     assert!(again.redelivered());
    ///     again.ack().unwrap();
    /// });
    /// ```
    pub fn nack_after(mut self, delay: Duration) -> Result<(), AckError> {
        self.finish(Verdict::NackAfter { delay })
    }

    /// Dead-letters the message ([`DeadReason::Rejected`](super::DeadReason::Rejected)).
    ///
    /// # Errors
    ///
    /// As [`ack`](Delivery::ack).
    pub fn reject(mut self) -> Result<(), AckError> {
        self.finish(Verdict::Reject)
    }
    // ANCHOR_END: verdicts

    /// Pushes the ack deadline to `extra` from now.
    ///
    /// # Errors
    ///
    /// As [`ack`](Delivery::ack).
    pub fn extend_deadline(&self, extra: Duration) -> Result<(), AckError> {
        let backend = self
            .backend
            .as_ref()
            .and_then(Weak::upgrade)
            .ok_or(AckError::QueueGone)?;
        match backend.poll_extend_deadline(self.handed.tag, extra, None) {
            Poll::Ready(result) => result,
            Poll::Pending => Ok(()),
        }
    }

    /// Settles the delivery with `verdict` and waits until the backend has
    /// recorded it (for a broker or a disk: confirmed). The verdict
    /// methods ([`ack`](Delivery::ack) and the others) send it without
    /// waiting; the in-memory backend records it at once either way.
    ///
    /// # Errors
    ///
    /// As [`ack`](Delivery::ack), [`AckError::Store`] included: the
    /// delivery is then given back at once.
    ///
    /// # Cancel safety
    ///
    /// Dropped after its first poll, the verdict was sent; whether it was
    /// recorded is not known.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::queue::{Queue, Verdict};
    ///
    /// weft::block_on(async {
    ///     let queue = Queue::new(8);
    ///     queue.producer().publish(1).await.unwrap();
    ///     let job = queue.consumer().recv().await.unwrap();
    ///     job.settle(Verdict::Ack).await.unwrap();
    ///     assert_eq!(queue.stats().acked, 1);
    /// });
    /// ```
    pub async fn settle(mut self, verdict: Verdict) -> Result<(), AckError> {
        let backend = self.take_backend().ok_or(AckError::QueueGone)?;
        let tag = self.handed.tag;
        let result = poll_fn(|cx| backend.poll_settle(tag, verdict, Some(cx))).await;
        release_if_unrecorded(&*backend, tag, result)
    }

    /// The message's properties, if it was published with
    /// [`publish_with`](super::Producer::publish_with).
    pub fn properties(&self) -> Option<&Properties> {
        self.handed.properties.as_deref()
    }

    /// How many times the message has been delivered, this time included.
    pub fn delivery_count(&self) -> u32 {
        self.handed.deliveries
    }

    /// True if the message was delivered before.
    pub fn redelivered(&self) -> bool {
        self.handed.deliveries > 1
    }

    /// The message.
    pub fn message(&self) -> &T {
        &self.handed.message
    }

    fn finish(&mut self, verdict: Verdict) -> Result<(), AckError> {
        let backend = self.take_backend().ok_or(AckError::QueueGone)?;
        match backend.poll_settle(self.handed.tag, verdict, None) {
            Poll::Ready(result) => release_if_unrecorded(&*backend, self.handed.tag, result),
            // Sent; a confirming backend reports no more without a context.
            Poll::Pending => Ok(()),
        }
    }
}

/// A verdict the store could not record leaves the delivery in flight:
/// give it back at once, so that the message is delivered again now rather
/// than at its ack deadline (or never, without one). If the verdict was in
/// fact recorded (`StoreError::Unknown`), the give-back finds nothing.
fn release_if_unrecorded<T: 'static>(
    backend: &dyn Backend<T>,
    tag: u64,
    result: Result<(), AckError>,
) -> Result<(), AckError> {
    if let Err(AckError::Store(_)) = &result {
        // If the store fails this too, the deadline brings the message back.
        let _ = backend.poll_settle(tag, Verdict::Dropped, None);
    }
    result
}

impl<T: 'static> Deref for Delivery<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.handed.message
    }
}

impl<T: 'static> Delivery<T> {
    /// Marks the delivery settled and returns its queue's backend, if the
    /// queue is still there.
    fn take_backend(&mut self) -> Option<Arc<dyn Backend<T>>> {
        self.backend.take().as_ref().and_then(Weak::upgrade)
    }
}

// ANCHOR: delivery-drop
impl<T: 'static> Drop for Delivery<T> {
    fn drop(&mut self) {
        if let Some(backend) = self.take_backend() {
            let _ = backend.poll_settle(self.handed.tag, Verdict::Dropped, None);
        }
    }
}
// ANCHOR_END: delivery-drop

impl<T: fmt::Debug + 'static> fmt::Debug for Delivery<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("message", &self.handed.message)
            .field("delivery_count", &self.handed.deliveries)
            .finish_non_exhaustive()
    }
}
