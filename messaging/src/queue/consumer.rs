//! Receiving: the [`Consumer`] handle, one delivery at a time or in
//! batches, its line among the waiting consumers, and its counters.

use super::{Backend, ConsumerStats, Delivery, RecvError};
use std::fmt;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use weft_primitives::coop;
use weft_primitives::spawner::Spawner;

/// Receives deliveries from a queue, competing with the queue's other
/// consumers. Dropping it gives back a delivery it had been handed but not
/// yet returned from [`recv`](Consumer::recv).
pub struct Consumer<T: 'static> {
    backend: Arc<dyn Backend<T>>,
    id: u64,
}

impl<T: Clone + Send + 'static> Consumer<T> {
    /// A new consumer of `backend`'s queue.
    pub(super) fn new(backend: Arc<dyn Backend<T>>) -> Consumer<T> {
        Consumer {
            id: backend.add_consumer(),
            backend,
        }
    }

    /// This consumer's id, as dead-letter histories name it.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The next delivery; `Err(RecvError::Closed)` once the queue is
    /// closed and empty (nothing ready, nothing in flight that could come
    /// back).
    ///
    /// weft differs from tokio's `mpsc::Receiver::recv`, which returns
    /// `None` at the end: a queue's backend can also fail, so the end is
    /// an error, as with tokio's `broadcast::Receiver::recv`.
    ///
    /// # Errors
    ///
    /// [`RecvError::Closed`] at the end; [`RecvError::Store`] if the
    /// backend could not hand a message over (the in-memory backend never
    /// fails). After a `Store` error the consumer may call again.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropped while it waits, the consumer leaves the line of
    /// waiting consumers, and a message set aside for it goes back to the
    /// front of the queue, not counted as a delivery.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::queue::{Queue, RecvError};
    ///
    /// weft::block_on(async {
    ///     let queue = Queue::new(8);
    ///     queue.producer().publish("job").await.unwrap();
    ///     queue.close();
    ///     let mut consumer = queue.consumer();
    ///     consumer.recv().await.unwrap().ack().unwrap();
    ///     assert_eq!(consumer.recv().await.unwrap_err(), RecvError::Closed);
    /// });
    /// ```
    pub async fn recv(&mut self) -> Result<Delivery<T>, RecvError> {
        let mut guard = CancelRecv {
            consumer: self,
            waiting: false,
        };
        poll_fn(|cx| {
            let polled = guard.consumer.poll_recv(cx);
            guard.waiting = polled.is_pending();
            polled
        })
        .await
    }

    /// Polls for the next delivery; see [`recv`](Consumer::recv). After
    /// `Pending`, the consumer is in the line of waiting consumers until
    /// it polls again, is dropped, or calls
    /// [`cancel_recv`](Consumer::cancel_recv). Each delivery (or error)
    /// spends a unit of the runtime's cooperative budget, so a loop over a
    /// queue with a backlog yields now and then; the `Pending` a spent
    /// budget returns has already woken the task, and leaves the
    /// consumer's place in the line as it was.
    ///
    /// # Errors
    ///
    /// As [`recv`](Consumer::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Delivery<T>, RecvError>> {
        // A `Pending` drops the closure, and `proceed` with it, which gives
        // the unit back.
        let proceed = ready!(coop::poll_proceed(cx));
        self.backend.poll_deliver(self.id, cx).map(|polled| {
            proceed.made_progress();
            match polled {
                Ok(Some(handed)) => Ok(Delivery::new(Arc::downgrade(&self.backend), handed)),
                Ok(None) => Err(RecvError::Closed),
                Err(e) => Err(RecvError::Store(e)),
            }
        })
    }

    /// Up to `max` deliveries at once (SQS's receive of up to 10, a
    /// Lambda batch): waits up to `wait` for the first, then takes what
    /// else is ready, within the consumer's prefetch, without waiting.
    /// Each delivery gets its own verdict. Returns an empty batch if `wait`
    /// passed with nothing delivered (or `max` is 0).
    ///
    /// A batch costs the backend one call: the in-memory queue takes its
    /// lock once, reads its clock once and sets one ack-deadline timer for
    /// the whole batch. It spends one unit of the runtime's cooperative
    /// budget, once it has something to return.
    ///
    /// `wait` runs on the queue's clock; a backend with none uses the
    /// current spawner's, and with neither the wait has no limit.
    ///
    /// # Errors
    ///
    /// As [`recv`](Consumer::recv): [`RecvError::Closed`] once the queue
    /// has ended; [`RecvError::Store`] if the backend failed, and then
    /// deliveries it had made for this batch are given back.
    ///
    /// # Cancel safety
    ///
    /// As [`recv`](Consumer::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::queue::Queue;
    ///
    /// weft::block_on(async {
    ///     let queue = Queue::new(32);
    ///     let producer = queue.producer();
    ///     for n in 0..12 {
    ///         producer.publish(n).await.unwrap();
    ///     }
    ///     let mut consumer = queue.consumer();
    ///     let batch = consumer.recv_batch(10, Duration::from_secs(20)).await.unwrap();
    ///     assert_eq!(batch.len(), 10);
    ///     for delivery in batch {
    ///         if *delivery % 2 == 0 { delivery.ack().unwrap() } else { delivery.nack(true).unwrap() }
    ///     }
    ///     assert_eq!(queue.stats().acked, 5);
    /// });
    /// ```
    pub async fn recv_batch(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery<T>>, RecvError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        // The timer is made only if the first delivery is not ready at once.
        let mut timer: Option<Option<weft_primitives::spawner::BoxFuture>> = None;
        let mut guard = CancelRecv {
            consumer: self,
            waiting: false,
        };
        poll_fn(|cx| {
            // First, before the wait is looked at: a spent budget is no
            // empty batch, and no reason to start the timer.
            let proceed = ready!(coop::poll_proceed(cx));
            let polled = guard.consumer.poll_batch(max, proceed, cx);
            guard.waiting = polled.is_pending();
            if polled.is_ready() || wait.is_zero() {
                // Still waiting after a zero wait: the guard's drop leaves
                // the line and gives back what was set aside.
                return match polled {
                    Poll::Ready(result) => Poll::Ready(result),
                    Poll::Pending => Poll::Ready(Ok(Vec::new())),
                };
            }
            let timer = timer.get_or_insert_with(|| {
                let spawner = guard
                    .consumer
                    .backend
                    .spawner()
                    .or_else(|| Spawner::try_current().ok())?;
                let at = spawner.now().checked_add(wait)?;
                Some(spawner.sleep_until(at))
            });
            match timer.as_mut().map(|timer| timer.as_mut().poll(cx)) {
                // The wait passed: the guard gives back what it had.
                Some(Poll::Ready(())) => Poll::Ready(Ok(Vec::new())),
                _ => Poll::Pending,
            }
        })
        .await
    }

    /// One poll of a batch: every delivery made in one backend call, for
    /// the one unit of the cooperative budget `proceed` holds (given back
    /// if nothing was delivered).
    fn poll_batch(
        &mut self,
        max: usize,
        proceed: coop::Proceed,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Vec<Delivery<T>>, RecvError>> {
        /// Room reserved up front, so that a batch allocates once; a larger
        /// `max` grows the batch as it fills.
        const RESERVE: usize = 64;
        let backend = Arc::downgrade(&self.backend);
        let mut batch = Vec::new();
        let polled = self.backend.poll_deliver_batch(self.id, max, cx, &mut |handed| {
            if batch.capacity() == 0 {
                batch.reserve_exact(max.min(RESERVE));
            }
            batch.push(Delivery::new(backend.clone(), handed));
        });
        if polled.is_ready() {
            proceed.made_progress();
        }
        polled.map(|polled| match polled {
            Ok(Some(_)) => Ok(batch),
            Ok(None) => Err(RecvError::Closed),
            // Dropping `batch` gives back what it holds.
            Err(e) => Err(RecvError::Store(e)),
        })
    }

    /// This consumer's counters: deliveries in hand, acked, nacked and
    /// rejected.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::queue::Queue;
    ///
    /// weft::block_on(async {
    ///     let queue = Queue::new(8);
    ///     queue.producer().publish(1).await.unwrap();
    ///     let mut consumer = queue.consumer();
    ///     let job = consumer.recv().await.unwrap();
    ///     assert_eq!(consumer.stats().in_hand, 1);
    ///     job.ack().unwrap();
    ///     assert_eq!((consumer.stats().in_hand, consumer.stats().acked), (0, 1));
    /// });
    /// ```
    pub fn stats(&self) -> ConsumerStats {
        self.backend.consumer_stats(self.id)
    }

    /// Leaves the line of waiting consumers after a
    /// [`poll_recv`](Consumer::poll_recv) that returned `Pending`; a
    /// message set aside for this consumer goes back to the queue.
    /// [`recv`](Consumer::recv) does this itself when dropped.
    pub fn cancel_recv(&mut self) {
        self.backend.cancel_deliver(self.id);
    }
}

/// Tells the backend when a waiting receive is dropped.
struct CancelRecv<'a, T: 'static> {
    consumer: &'a mut Consumer<T>,
    waiting: bool,
}

impl<T: 'static> Drop for CancelRecv<'_, T> {
    fn drop(&mut self) {
        if self.waiting {
            self.consumer.backend.cancel_deliver(self.consumer.id);
        }
    }
}

impl<T: 'static> Drop for Consumer<T> {
    fn drop(&mut self) {
        self.backend.remove_consumer(self.id);
    }
}

impl<T: 'static> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer").field("id", &self.id).finish()
    }
}
