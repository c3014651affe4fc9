//! Batch handlers ([`EventBus::on_batch`]): a function run per batch of
//! events, which reports which of them failed, as Lambda's batch item
//! failures do.
//!
//! The reader gathers a batch ([`HandlerOptions::batch`]), calls the
//! function, counts the events it did not name as handled, and retries
//! only the ones it named, as a smaller batch, after the back-off. What
//! still fails after the last attempt goes to the dead-letter topic, one
//! event at a time, in the batch's order. One batch is in hand at a time;
//! the next is read once this one is settled.

use super::{Control, FinishOnDrop, Handler, HandlerOptions, Item, Next, READER, Source, Task, catching};
use crate::events::{Event, EventBus, EventsError};
use std::fmt;
use std::future::{Future, poll_fn};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use weft_primitives::spawner::BoxFuture;

/// Which events of its batch a batch handler failed: what it returns in
/// `Err` ([`EventBus::on_batch`]).
///
/// Events are named by their index in the batch the handler was given (a
/// retry gives it a smaller batch, numbered afresh). Any error converts
/// into a failure of the whole batch, so `?` works in a batch handler.
/// A failure that names no event fails none, as an empty
/// `batchItemFailures` list does in Lambda; one that names an index past
/// the batch's end fails the whole batch, as an unknown item identifier
/// does in Lambda.
///
/// # Examples
///
/// ```
/// use weft::events::BatchFailures;
///
/// let mut failures = BatchFailures::new();
/// failures.fail(2, "no such customer");
/// failures.fail(5, "card declined");
/// assert_eq!(failures.len(), 2);
///
/// let whole = BatchFailures::from("database down");
/// assert!(whole.is_all());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchFailures {
    /// Every event failed, with this error.
    all: Option<String>,
    /// These events failed, by index.
    items: Vec<(usize, String)>,
}

impl BatchFailures {
    /// No event failed yet.
    pub fn new() -> BatchFailures {
        BatchFailures::default()
    }

    /// Every event of the batch failed with `error`.
    pub fn all(error: impl fmt::Display) -> BatchFailures {
        BatchFailures {
            all: Some(error.to_string()),
            items: Vec::new(),
        }
    }

    /// The event at `index` in the batch failed with `error`. Naming one
    /// twice keeps the first error.
    pub fn fail(&mut self, index: usize, error: impl fmt::Display) -> &mut BatchFailures {
        if !self.items.iter().any(|(i, _)| *i == index) {
            self.items.push((index, error.to_string()));
        }
        self
    }

    /// Whether the whole batch failed.
    pub fn is_all(&self) -> bool {
        self.all.is_some()
    }

    /// How many events it names (0 for a whole-batch failure).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether it names no event and is not a whole-batch failure.
    pub fn is_empty(&self) -> bool {
        self.all.is_none() && self.items.is_empty()
    }

    /// The failed indices of a batch of `len` events, in order, with their
    /// errors.
    fn resolve(self, len: usize) -> Vec<(usize, String)> {
        let whole = match (self.all, self.items.iter().find(|(i, _)| *i >= len)) {
            (Some(error), _) => Some(error),
            (None, Some((index, _))) => Some(format!("the handler named item {index} of a batch of {len}")),
            (None, None) => None,
        };
        if let Some(error) = whole {
            return (0..len).map(|i| (i, error.clone())).collect();
        }
        let mut items = self.items;
        items.sort_by_key(|(i, _)| *i);
        items
    }
}

impl<E: fmt::Display> From<E> for BatchFailures {
    fn from(error: E) -> BatchFailures {
        BatchFailures::all(error)
    }
}

impl<T: Clone + Send + 'static> EventBus<T> {
    /// Runs `handler` for batches of the events on the topics `pattern`
    /// matches, gathered as [`HandlerOptions::batch`] says, one batch at a
    /// time, on the bus's runtime. The handler returns `Ok(())` if every
    /// event of the batch was handled, or [`BatchFailures`] naming the
    /// ones that failed (a panic fails the whole batch). The others count
    /// as handled (and, in a [`group`](HandlerOptions::group), are acked
    /// at once); the failed ones are retried, and only they, as a
    /// smaller batch, after the back-off of [`HandlerOptions::retry`];
    /// what fails its last attempt goes to the dead-letter topic. The
    /// handler ends as [`on_with`](EventBus::on_with)'s does; a stop
    /// hands over the batch being gathered at once.
    ///
    /// A batch keeps the order in which the events were read, but a
    /// retried event is handled again after the events behind it in its
    /// batch: where a key's order must hold across failures, use
    /// [`on_with`](EventBus::on_with).
    ///
    /// Lambda retries a failed stream batch from its first failed record
    /// on; weft retries exactly the failed events, as Lambda does for a
    /// queue.
    ///
    /// # Errors
    ///
    /// As [`on_with`](EventBus::on_with).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::events::{BatchFailures, EventBus, HandlerOptions, Retry, StartAt};
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::<i32>::new();
    ///     let options = HandlerOptions::new()
    ///         .batch(10, Duration::from_millis(50))
    ///         .retry(Retry::none())
    ///         .dead_letter("numbers.failed");
    ///     let handler = bus
    ///         .on_batch("numbers", options, |batch| async move {
    ///             let mut failures = BatchFailures::new();
    ///             for (i, event) in batch.iter().enumerate() {
    ///                 if **event < 0 {
    ///                     failures.fail(i, "negative");
    ///                 }
    ///             }
    ///             if failures.is_empty() { Ok(()) } else { Err(failures) }
    ///         })
    ///         .unwrap();
    ///     let mut failed = bus.subscribe("numbers.failed", StartAt::Start).unwrap();
    ///     for n in [1, -2, 3] {
    ///         bus.publish("numbers", n).await.unwrap();
    ///     }
    ///     assert_eq!(*failed.recv().await.unwrap(), -2);
    ///     bus.close();
    ///     handler.finished().await;
    ///     assert_eq!((handler.stats().succeeded, handler.stats().dead_lettered), (2, 1));
    /// });
    /// ```
    pub fn on_batch<F, Fut>(
        &self,
        pattern: &str,
        options: HandlerOptions,
        handler: F,
    ) -> Result<Handler, EventsError>
    where
        F: Fn(Vec<Event<T>>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), BatchFailures>> + Send + 'static,
    {
        let (task, source) = self.task(pattern, &options, handler)?;
        let control = Arc::new(Control::new());
        let finish = FinishOnDrop(control.clone());
        let spawner = task.spawner.clone();
        let shape = Shape {
            max: options.batch_max,
            wait: options.batch_wait,
        };
        spawner.spawn(task.run_batches(source, finish, shape));
        Ok(Handler { control })
    }
}

/// How batches are gathered.
#[derive(Clone, Copy)]
struct Shape {
    max: usize,
    wait: Duration,
}

/// What the reader saw while gathering.
enum Gather<T: 'static> {
    Received(Result<Item<T>, crate::events::RecvError>),
    /// The batching window is over.
    Due,
    Stop,
}

impl<T, F, Fut> Task<T, F>
where
    T: Clone + Send + 'static,
    F: Fn(Vec<Event<T>>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), BatchFailures>> + Send + 'static,
{
    async fn run_batches(self, mut source: Source<T>, finish: FinishOnDrop, shape: Shape) {
        let control = &finish.0;
        let mut reading = true;
        while reading {
            let mut batch = Vec::new();
            reading = self.gather(&mut source, &mut batch, shape, control).await;
            if !batch.is_empty() {
                self.handle_batch(batch, control).await;
            }
        }
        // A group member leaves before the handler counts as finished.
        drop(source);
    }

    /// Reads into `batch` until it holds `shape.max` events or the window
    /// that opened with its first event is over; false once the reader
    /// should read no more (the bus closed, or a stop).
    async fn gather(
        &self,
        source: &mut Source<T>,
        batch: &mut Vec<Item<T>>,
        shape: Shape,
        control: &Control,
    ) -> bool {
        let mut window: Option<BoxFuture> = None;
        loop {
            let seen = poll_fn(|cx| {
                if control.stopping(cx, READER) {
                    return Poll::Ready(Gather::Stop);
                }
                if let Poll::Ready(received) = source.poll_recv(cx) {
                    return Poll::Ready(Gather::Received(received));
                }
                match &mut window {
                    Some(window) => window.as_mut().poll(cx).map(|()| Gather::Due),
                    None => Poll::Pending,
                }
            })
            .await;
            let received = match seen {
                Gather::Stop => return false,
                Gather::Due => return true,
                Gather::Received(received) => received,
            };
            match self.next(received, control) {
                Next::Closed => return false,
                Next::Nothing => {}
                // Hand over what is in hand; the next gathering backs off.
                Next::Failed if !batch.is_empty() => return true,
                Next::Failed => {
                    if !self.back_off(1, control, READER).await {
                        return false;
                    }
                }
                Next::Event(item) => {
                    batch.push(item);
                    if batch.len() >= shape.max {
                        return true;
                    }
                    if window.is_none() {
                        window = Some(self.spawner.sleep_until(self.deadline(shape.wait)));
                    }
                }
            }
        }
    }

    // ANCHOR: handle-batch
    /// Runs the attempts for one batch: each retry hands over only the
    /// events that failed the attempt before.
    async fn handle_batch(&self, batch: Vec<Item<T>>, control: &Control) {
        let mut batch = batch;
        let mut attempt = 1;
        loop {
            let events = batch.iter().map(|item| item.event().clone()).collect();
            let failures = match catching(&self.handler, events).await {
                Ok(Ok(())) => Vec::new(),
                Ok(Err(failures)) => failures.resolve(batch.len()),
                Err(panic) => BatchFailures::all(panic).resolve(batch.len()),
            };
            let handled = batch.len() - failures.len();
            // The others are done (acked, in a group); the failed ones,
            // in order, with their errors.
            let mut errors = failures.into_iter().peekable();
            let mut failed = Vec::new();
            for (i, item) in batch.into_iter().enumerate() {
                match errors.next_if(|(at, _)| *at == i) {
                    Some((_, error)) => failed.push((item, error)),
                    None => item.settle(control),
                }
            }
            // Counted once acked: whoever sees the count sees the commit.
            control.update(|stats| stats.succeeded += handled as u64);
            if failed.is_empty() {
                return;
            }
            if attempt >= self.retry.max_attempts() || !self.back_off(attempt, control, READER).await {
                for (item, error) in failed {
                    self.dead_letter(item, error, control).await;
                }
                return;
            }
            for (item, error) in &failed {
                crate::diag::handler_retry(item.event(), attempt, error);
            }
            batch = failed.into_iter().map(|(item, _)| item).collect();
            control.update(|stats| stats.retried += batch.len() as u64);
            attempt += 1;
        }
    }
    // ANCHOR_END: handle-batch
}
