//! The [`Queue`] handle: its constructors, the producers and consumers it
//! hands out, and what it does to the queue as a whole (close, stats,
//! purge, redrive, dead letters).

use super::{Backend, Builder, Consumer, DeadLetter, Producer, Stats, StoreError};
use std::fmt;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::Poll;

/// A work queue; cloning gives another handle to the same queue. See the
/// [module docs](super).
pub struct Queue<T: 'static> {
    backend: Arc<dyn Backend<T>>,
}

impl Queue<()> {
    /// Settings for a new queue; [`Builder::build`] makes a queue of any
    /// message type.
    pub fn builder() -> Builder {
        Builder::default()
    }
}

impl<T: Clone + Send + 'static> Queue<T> {
    /// A queue with the default settings and room for `capacity` messages.
    ///
    /// # Panics
    ///
    /// Panics where no spawner is current; see [`Builder::spawner`].
    #[track_caller]
    pub fn new(capacity: usize) -> Queue<T> {
        Queue::builder().capacity(capacity).build()
    }

    /// A queue served by `backend`: a [`Memory`](super::Memory) made from a [`Builder`],
    /// the RabbitMQ backend (`weft::rabbitmq::queue` makes the queue with
    /// it), or a store of your own. (The durable backend opens through
    /// `Queue::durable` or `Builder::open_durable`, with the `disk`
    /// feature.)
    pub fn with_backend(backend: impl Backend<T>) -> Queue<T> {
        Queue {
            backend: Arc::new(backend),
        }
    }

    /// A producer for this queue.
    pub fn producer(&self) -> Producer<T> {
        Producer::new(self.backend.clone())
    }

    /// A new consumer, competing with the others.
    pub fn consumer(&self) -> Consumer<T> {
        Consumer::new(self.backend.clone())
    }

    /// Stops publishing: later publishes fail with `Closed`. Consumers
    /// receive what remains (including messages still in flight that come
    /// back), then [`RecvError::Closed`](super::RecvError::Closed).
    pub fn close(&self) {
        self.backend.close();
    }

    /// True once [`close`](Queue::close) was called.
    pub fn is_closed(&self) -> bool {
        self.backend.is_closed()
    }

    /// The queue's counters.
    pub fn stats(&self) -> Stats {
        self.backend.stats()
    }

    /// Removes every message waiting to be delivered (ready, or given back
    /// with a delay) and returns how many; messages in flight stay in
    /// their consumers' hands. Purged messages are not dead-lettered; they
    /// are counted in [`Stats::purged`].
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::queue::Queue;
    ///
    /// weft::block_on(async {
    ///     let queue = Queue::new(8);
    ///     for n in 0..3 {
    ///         queue.producer().publish(n).await.unwrap();
    ///     }
    ///     assert_eq!(queue.purge(), 3);
    ///     assert_eq!((queue.stats().ready, queue.stats().purged), (0, 3));
    /// });
    /// ```
    pub fn purge(&self) -> usize {
        self.backend.purge()
    }

    /// Moves the dead letters that `choose` picks back into the queue (SQS's
    /// redrive) and returns how many. Each goes to the back of its
    /// priority, to be delivered afresh: its delivery count starts again
    /// (so [`Builder::max_deliveries`] applies anew) and its TTL runs from
    /// now; its history is kept, and grows. Redriven messages may take the
    /// ready count above the capacity, as messages given back do. A closed
    /// queue takes none back.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::queue::{DeadReason, Queue};
    ///
    /// weft::block_on(async {
    ///     let queue = Queue::new(8);
    ///     queue.producer().publish("job").await.unwrap();
    ///     let mut consumer = queue.consumer();
    ///     consumer.recv().await.unwrap().reject().unwrap();
    ///     assert_eq!(queue.redrive(|letter| letter.reason == DeadReason::Rejected), 1);
    ///     let again = consumer.recv().await.unwrap();
    ///     assert_eq!((*again, again.delivery_count()), ("job", 1));
    ///     again.ack().unwrap();
    /// });
    /// ```
    pub fn redrive(&self, mut choose: impl FnMut(&DeadLetter<T>) -> bool) -> usize {
        self.backend.redrive(&mut choose)
    }

    /// Moves every dead letter back into the queue; see
    /// [`redrive`](Queue::redrive).
    pub fn redrive_all(&self) -> usize {
        self.backend.redrive(&mut |_| true)
    }

    /// Takes the oldest dead letter, if any.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] if the backend could not take it (the in-memory
    /// backend never fails): `NotStored` promises it is still there.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::queue::{DeadReason, Queue};
    ///
    /// weft::block_on(async {
    ///     let queue = Queue::new(8);
    ///     queue.producer().publish("bad").await.unwrap();
    ///     queue.consumer().recv().await.unwrap().reject().unwrap();
    ///     let letter = queue.try_dead_letter().unwrap().expect("a dead letter");
    ///     assert_eq!((letter.message, letter.reason), ("bad", DeadReason::Rejected));
    ///     assert!(queue.try_dead_letter().unwrap().is_none());
    /// });
    /// ```
    pub fn try_dead_letter(&self) -> Result<Option<DeadLetter<T>>, StoreError<()>> {
        match self.backend.poll_dead_letter(None) {
            Poll::Ready(letter) => letter.map(Some),
            Poll::Pending => Ok(None),
        }
    }

    /// Waits for the next dead letter.
    ///
    /// # Errors
    ///
    /// As [`try_dead_letter`](Queue::try_dead_letter).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a dead letter is taken only when it is returned.
    pub async fn dead_letter(&self) -> Result<DeadLetter<T>, StoreError<()>> {
        poll_fn(|cx| self.backend.poll_dead_letter(Some(cx))).await
    }
}

impl<T: 'static> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stats = self.backend.stats();
        f.debug_struct("Queue")
            .field("ready", &stats.ready)
            .field("in_flight", &stats.in_flight)
            .field("dead_lettered", &stats.dead_lettered)
            .field("closed", &self.backend.is_closed())
            .finish()
    }
}

impl<T: 'static> Clone for Queue<T> {
    fn clone(&self) -> Queue<T> {
        Queue {
            backend: self.backend.clone(),
        }
    }
}
