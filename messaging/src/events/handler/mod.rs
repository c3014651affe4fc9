//! Handlers in the serverless style: a function run per event, with
//! retries and a dead-letter topic ([`EventBus::on`]); up to n events at
//! once with per-key order ([`HandlerOptions::concurrency`], in
//! `handler/concurrent.rs`); or a function run per batch that reports
//! which events failed ([`EventBus::on_batch`], in `handler/batch.rs`).
//! Each reads from a subscriber of its own or, with
//! [`HandlerOptions::group`], as a member of a consumer group that it
//! acks each event to once the event is done with.
//!
//! # Protocol
//!
//! A handler is one reader task, plus, with a concurrency above one, one
//! task per event in flight. They share a [`Control`]: the stop flag, the
//! stats and the wakers of the tasks that wait (for an event or a
//! back-off), each under its own *slot* number (the reader's is 0), so a
//! stop wakes every one of them. A task replaces its own slot's waker
//! each time it waits and removes it when it ends. The handler is
//! finished once the reader task ends, and the reader ends only after
//! every event it read has been handled, dead-lettered or counted (and,
//! in a group, acked or given back), and after dropping its source, so a
//! group member has left by the time [`Handler::finished`] returns.

mod batch;
mod concurrent;

pub use self::batch::BatchFailures;

use super::error::EventsError;
use super::{Event, EventBus, GroupEvent, Inner, Member, NamedLog, RecvError, StartAt, Subscriber};
use crate::loom::{Mutex, lock};
use crate::util::panic_message;
use std::fmt;
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use weft_primitives::spawner::Spawner;

/// The reader task's slot in [`Control`].
const READER: usize = 0;

/// How a handler retries a failed event: how many attempts in all, and
/// the back-off between them (exponential, capped).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft::events::Retry;
///
/// let retry = Retry::new(4).backoff(Duration::from_millis(100), Duration::from_millis(250));
/// assert_eq!(retry.delay(1), Duration::from_millis(100));
/// assert_eq!(retry.delay(2), Duration::from_millis(200));
/// assert_eq!(retry.delay(3), Duration::from_millis(250));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    max_attempts: u32,
    initial: Duration,
    max: Duration,
    factor: u32,
}

impl Retry {
    /// `max_attempts` attempts in all (0 is taken as 1), 100 ms apart at
    /// first, doubling up to 10 s.
    pub fn new(max_attempts: u32) -> Retry {
        Retry {
            max_attempts: max_attempts.max(1),
            initial: Duration::from_millis(100),
            max: Duration::from_secs(10),
            factor: 2,
        }
    }

    /// One attempt: a failure goes straight to the dead-letter topic.
    pub fn none() -> Retry {
        Retry::new(1)
    }

    /// Waits `initial` after the first failure, then `factor` times longer
    /// after each next one, never more than `max`.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Retry {
        self.initial = initial;
        self.max = max.max(initial);
        self
    }

    /// The growth of the back-off per failure (default 2; 1 keeps it
    /// constant; 0 is taken as 1).
    pub fn factor(mut self, factor: u32) -> Retry {
        self.factor = factor.max(1);
        self
    }

    /// Attempts in all.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    // ANCHOR: retry-delay
    /// The wait after failed attempt `attempt` (counting from 1).
    pub fn delay(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1);
        let growth = self.factor.checked_pow(exponent).unwrap_or(u32::MAX);
        self.initial.checked_mul(growth).unwrap_or(self.max).min(self.max)
    }
    // ANCHOR_END: retry-delay
}

impl Default for Retry {
    /// Three attempts.
    fn default() -> Retry {
        Retry::new(3)
    }
}

/// How a handler reads and retries ([`EventBus::on_with`]), how many
/// events it runs at once ([`concurrency`](HandlerOptions::concurrency)),
/// and how a batch handler gathers its batches
/// ([`batch`](HandlerOptions::batch), for [`EventBus::on_batch`]).
#[derive(Debug, Clone)]
pub struct HandlerOptions {
    from: StartAt,
    retry: Retry,
    dead_letter: Option<String>,
    group: Option<String>,
    concurrency: usize,
    batch_max: usize,
    batch_wait: Duration,
}

impl HandlerOptions {
    /// From the next event published, with [`Retry::default`], no
    /// dead-letter topic, one event at a time, and batches of up to 10
    /// events with no wait.
    pub fn new() -> HandlerOptions {
        HandlerOptions {
            from: StartAt::Latest,
            retry: Retry::default(),
            dead_letter: None,
            group: None,
            concurrency: 1,
            batch_max: 10,
            batch_wait: Duration::ZERO,
        }
    }

    /// Where the handler starts reading.
    pub fn from(mut self, from: StartAt) -> HandlerOptions {
        self.from = from;
        self
    }

    /// How it retries.
    pub fn retry(mut self, retry: Retry) -> HandlerOptions {
        self.retry = retry;
        self
    }

    /// The topic an event goes to when its last attempt fails (the
    /// on-failure destination). Without one, the failure is only counted.
    /// The handler skips events of this topic even if its pattern matches
    /// it, so a failure never comes back to the handler that failed.
    pub fn dead_letter(mut self, topic: &str) -> HandlerOptions {
        self.dead_letter = Some(topic.to_owned());
        self
    }

    /// Reads as a member of the consumer group `group` (joined with
    /// [`EventBus::join_assigned`], so the pattern must name one topic),
    /// rather than as a subscriber: each event is acked once handled or
    /// dead-lettered, so the group's committed offset moves past it, and a
    /// handler started again on the same backend (or another handler in
    /// the group) resumes there; [`from`](HandlerOptions::from) only
    /// places a new group. Several handlers in one group share the topic's
    /// partitions, each key in one of them at a time; an event in hand at
    /// a rebalance may be handled twice (at least once), as in Kafka.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, HandlerOptions, Offset, StartAt};
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::<&str>::new();
    ///     let options = HandlerOptions::new().group("mailer").from(StartAt::Start);
    ///     let handler = bus
    ///         .on_with("user.registered", options, |_| async { Ok::<(), String>(()) })
    ///         .unwrap();
    ///     bus.publish("user.registered", "ada").await.unwrap();
    ///     bus.publish("user.registered", "grace").await.unwrap();
    ///     bus.close();
    ///     handler.finished().await;
    ///     // Both handled and acked: the next handler starts after them.
    ///     let committed = bus.committed("mailer", "user.registered").unwrap();
    ///     assert_eq!(committed, Some(Offset::new(2)));
    /// });
    /// ```
    pub fn group(mut self, group: &str) -> HandlerOptions {
        self.group = Some(group.to_owned());
        self
    }

    /// Up to `n` events in flight at once (default 1; 0 is taken as 1),
    /// each on a task of its own, retries and back-offs included, while
    /// keeping per-key order: events of one key (on one topic) never run
    /// at the same time, and each starts only after the one before it was
    /// handled or dead-lettered. Events without a key may run in any
    /// order. An event whose key is busy waits in the handler; the
    /// handler stops reading while `n` events wait so, or while `n` are
    /// in flight.
    ///
    /// A [`stop`](Handler::stop) lets the events in flight finish their
    /// current attempt; the events still waiting behind a busy key go to
    /// the dead-letter topic, after their key's event in flight, and count
    /// as [`failed`](HandlerStats::failed) (in a
    /// [`group`](HandlerOptions::group), they go back to the group
    /// instead, unacked, to be handled again).
    ///
    /// Only [`EventBus::on`] and [`EventBus::on_with`] read it: a batch
    /// handler ([`EventBus::on_batch`]) runs one batch at a time.
    ///
    /// Lambda's concurrency limit is per function and knows nothing of
    /// keys; here it is per handler, and keyed events also keep their
    /// order, as in Kafka's parallel consumers.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, HandlerOptions};
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::<u32>::new();
    ///     let options = HandlerOptions::new().concurrency(8);
    ///     let handler = bus
    ///         .on_with("orders", options, |event| async move {
    ///             // Runs beside up to seven others, but never beside an
    ///             // event of the same customer.
    ///             assert_eq!(event.key(), Some("customer-7"));
    ///             Ok::<(), String>(())
    ///         })
    ///         .unwrap();
    ///     for n in 0..20 {
    ///         bus.publish_keyed("orders", "customer-7", n).await.unwrap();
    ///     }
    ///     bus.close();
    ///     handler.finished().await;
    ///     assert_eq!(handler.stats().succeeded, 20);
    /// });
    /// ```
    pub fn concurrency(mut self, n: usize) -> HandlerOptions {
        self.concurrency = n.max(1);
        self
    }

    /// How [`EventBus::on_batch`] gathers a batch: once an event arrives,
    /// it waits up to `wait` (on the runtime's clock) for more, and hands
    /// over the batch when it holds `max` events or the wait is over,
    /// whichever comes first (default 10 events, no wait: what is ready
    /// at once). A `max` of 0 is taken as 1. A closing bus or a
    /// [`stop`](Handler::stop) hands over what was gathered at once.
    /// [`EventBus::on_with`] does not read it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::events::HandlerOptions;
    ///
    /// // Lambda's batch size and batching window.
    /// let options = HandlerOptions::new().batch(100, Duration::from_millis(500));
    /// # let _ = options;
    /// ```
    pub fn batch(mut self, max: usize, wait: Duration) -> HandlerOptions {
        self.batch_max = max.max(1);
        self.batch_wait = wait;
        self
    }
}

impl Default for HandlerOptions {
    fn default() -> HandlerOptions {
        HandlerOptions::new()
    }
}

/// What a handler has done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandlerStats {
    /// Events handled (on some attempt).
    pub succeeded: u64,
    /// Attempts that failed and were retried (for a batch handler, the
    /// events of each retried batch).
    pub retried: u64,
    /// Events whose every attempt failed (or that a stop left waiting
    /// behind a busy key; see [`HandlerOptions::concurrency`]).
    pub failed: u64,
    /// Of those, events published to the dead-letter topic.
    pub dead_lettered: u64,
    /// Events the handler fell too far behind to see
    /// ([`RecvError::Lagged`](super::RecvError::Lagged)).
    pub skipped: u64,
    /// The last failure's error (or panic) message.
    pub last_error: Option<String>,
}

/// A running handler. Dropping it leaves the handler running (like a
/// deployed function); [`stop`](Handler::stop) ends it.
pub struct Handler {
    control: Arc<Control>,
}

struct Control {
    state: Mutex<ControlState>,
}

#[derive(Default)]
struct ControlState {
    stop: bool,
    /// The handler's tasks that wait for an event or a back-off, by slot
    /// (see the module docs).
    tasks: Vec<(usize, Waker)>,
    finished: bool,
    /// Callers of `finished()`.
    waiters: Vec<Waker>,
    stats: HandlerStats,
}

impl Handler {
    /// Asks the handler to stop: it finishes the attempt in progress and
    /// reads nothing more. An event whose retries the stop cuts short goes
    /// to the dead-letter topic. An attempt that never completes is not
    /// cut short: bound a handler's work with a timeout inside it.
    pub fn stop(&self) {
        let tasks = {
            let mut state = lock(&self.control.state);
            state.stop = true;
            std::mem::take(&mut state.tasks)
        };
        tasks.into_iter().for_each(|(_, task)| task.wake());
    }

    /// What it has done so far.
    pub fn stats(&self) -> HandlerStats {
        lock(&self.control.state).stats.clone()
    }

    /// Whether it has ended: stopped, the bus closed and read to the end,
    /// or its runtime gone.
    pub fn is_finished(&self) -> bool {
        lock(&self.control.state).finished
    }

    /// Waits until it has ended (see [`is_finished`](Handler::is_finished)).
    pub async fn finished(&self) {
        poll_fn(|cx| {
            let mut state = lock(&self.control.state);
            if state.finished {
                return Poll::Ready(());
            }
            crate::util::add_waker(&mut state.waiters, cx.waker());
            Poll::Pending
        })
        .await
    }
}

impl Control {
    fn new() -> Control {
        Control {
            state: Mutex::new(ControlState::default()),
        }
    }

    /// Whether a stop was asked; otherwise registers the task in `slot`
    /// to hear of one.
    fn stopping(&self, cx: &Context<'_>, slot: usize) -> bool {
        // Dropped after the lock is released: a waker's drop may call back
        // into the handler.
        let mut _displaced = None;
        let mut state = lock(&self.state);
        if !state.stop {
            match state.tasks.iter_mut().find(|(s, _)| *s == slot) {
                Some((_, waker)) if waker.will_wake(cx.waker()) => {}
                Some((_, waker)) => _displaced = Some(std::mem::replace(waker, cx.waker().clone())),
                None => state.tasks.push((slot, cx.waker().clone())),
            }
        }
        state.stop
    }

    /// Forgets the waker of the task in `slot`, which has ended.
    fn leave(&self, slot: usize) {
        let _displaced = {
            let mut state = lock(&self.state);
            let at = state.tasks.iter().position(|(s, _)| *s == slot);
            at.map(|at| state.tasks.swap_remove(at))
        };
    }

    fn is_stopped(&self) -> bool {
        lock(&self.state).stop
    }

    fn update(&self, f: impl FnOnce(&mut HandlerStats)) {
        f(&mut lock(&self.state).stats);
    }
}

/// Marks the handler finished when its task ends or is dropped.
struct FinishOnDrop(Arc<Control>);

impl Drop for FinishOnDrop {
    fn drop(&mut self) {
        let waiters = {
            let mut state = lock(&self.0.state);
            state.finished = true;
            std::mem::take(&mut state.waiters)
        };
        waiters.into_iter().for_each(Waker::wake);
    }
}

impl<T: Clone + Send + 'static> EventBus<T> {
    /// Runs `handler` for every event on the topics `pattern` matches,
    /// from the next one published, with [`Retry::default`] and no
    /// dead-letter topic; see [`on_with`](EventBus::on_with).
    ///
    /// # Errors
    ///
    /// As [`on_with`](EventBus::on_with).
    pub fn on<F, Fut, E>(&self, pattern: &str, handler: F) -> Result<Handler, EventsError>
    where
        F: Fn(Event<T>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: fmt::Display + 'static,
    {
        self.on_with(pattern, HandlerOptions::new(), handler)
    }

    /// Runs `handler` for every event on the topics `pattern` matches, one
    /// event at a time, in order, on the bus's runtime (or up to
    /// [`HandlerOptions::concurrency`] at once, each key in order). A failed attempt
    /// (an `Err`, or a panic) is retried after the back-off, on the
    /// runtime's clock; an event whose last attempt fails goes to the
    /// dead-letter topic. The handler ends when the bus closes (after
    /// handling what remains, and finishing the events in flight) or when
    /// [`Handler::stop`] is called. Once
    /// the bus is closed the dead-letter topic refuses events too: a
    /// failure then is counted in [`HandlerStats::failed`] and not in
    /// `dead_lettered`, and its error is kept in `last_error`.
    ///
    /// # Errors
    ///
    /// [`EventsError::InvalidName`] for a bad pattern or dead-letter
    /// topic; [`EventsError::NoSpawner`] if the bus was built without a
    /// spawner and none is current; [`EventsError::Backend`] if the
    /// backend fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, HandlerOptions, Retry};
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::<String>::new();
    ///     let options = HandlerOptions::new().retry(Retry::none()).dead_letter("mail.failed");
    ///     let mailer = bus
    ///         .on_with("user.registered", options, |event| async move {
    ///             match event.payload().contains('@') {
    ///                 true => Ok(()),
    ///                 false => Err(format!("no address in {:?}", event.payload())),
    ///             }
    ///         })
    ///         .unwrap();
    ///     let mut failed = bus.subscribe("mail.failed", weft::events::StartAt::Start).unwrap();
    ///
    ///     bus.publish("user.registered", "ada@example.com".to_string()).await.unwrap();
    ///     bus.publish("user.registered", "grace".to_string()).await.unwrap();
    ///     assert_eq!(*failed.recv().await.unwrap(), "grace");
    ///
    ///     bus.close();
    ///     mailer.finished().await;
    ///     assert_eq!((mailer.stats().succeeded, mailer.stats().dead_lettered), (1, 1));
    /// });
    /// ```
    pub fn on_with<F, Fut, E>(
        &self,
        pattern: &str,
        options: HandlerOptions,
        handler: F,
    ) -> Result<Handler, EventsError>
    where
        F: Fn(Event<T>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: fmt::Display + 'static,
    {
        let (task, source) = self.task(pattern, &options, handler)?;
        let control = Arc::new(Control::new());
        let finish = FinishOnDrop(control.clone());
        let spawner = task.spawner.clone();
        match options.concurrency {
            1 => spawner.spawn(task.run(source, finish)),
            n => spawner.spawn(concurrent::run(Arc::new(task), source, finish, n)),
        }
        Ok(Handler { control })
    }

    /// What every kind of handler starts from: its task's shared parts
    /// and its subscriber.
    fn task<F>(
        &self,
        pattern: &str,
        options: &HandlerOptions,
        handler: F,
    ) -> Result<(Task<T, F>, Source<T>), EventsError> {
        let inner = &self.bus.0;
        let spawner = match &inner.spawner {
            Some(spawner) => spawner.clone(),
            None => Spawner::try_current().map_err(|_| EventsError::NoSpawner)?,
        };
        let dead_letter = match &options.dead_letter {
            Some(topic) => Some(inner.log(topic)?),
            None => None,
        };
        let source = match &options.group {
            Some(group) => Source::Member(self.join_assigned(group, pattern, options.from)?),
            None => Source::Subscriber(inner.subscribe(pattern, options.from)?),
        };
        let task = Task {
            inner: inner.clone(),
            handler,
            retry: options.retry,
            dead_letter,
            spawner,
        };
        Ok((task, source))
    }
}

/// What a handler's task shares between its events. The source is kept
/// apart: `handle` borrows the task across awaits, so the task must be
/// `Sync`, which a subscriber or member holding `T`s is not.
struct Task<T: 'static, F> {
    inner: Arc<Inner<T>>,
    handler: F,
    retry: Retry,
    dead_letter: Option<NamedLog<T>>,
    spawner: Spawner,
}

/// Where a handler reads: a subscriber of its own, or a member of a
/// consumer group ([`HandlerOptions::group`]).
enum Source<T: 'static> {
    Subscriber(Subscriber<T>),
    Member(Member<T>),
}

impl<T: Clone + Send + 'static> Source<T> {
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Item<T>, RecvError>> {
        match self {
            Source::Subscriber(subscriber) => subscriber.poll_recv(cx).map(|r| r.map(Item::Plain)),
            Source::Member(member) => member.poll_recv(cx).map(|r| r.map(Item::Group)),
        }
    }
}

/// An event read: from a subscriber, or from a group, to be acked.
enum Item<T: 'static> {
    Plain(Event<T>),
    Group(GroupEvent<T>),
}

impl<T: 'static> Item<T> {
    fn event(&self) -> &Event<T> {
        match self {
            Item::Plain(event) => event,
            Item::Group(event) => event.event(),
        }
    }

    /// Done with: acked if from a group (a failed ack is reported).
    fn settle(self, control: &Control) {
        if let Item::Group(event) = self
            && let Err(error) = event.ack()
        {
            control.update(|stats| stats.last_error = Some(error.to_string()));
        }
    }

    /// Not handled, and (for an event of a group) given back to the group
    /// to be handed out again; an event of a subscriber comes back.
    fn give_back(self) -> Result<(), Self> {
        match self {
            Item::Group(event) => {
                event.nack();
                Ok(())
            }
            plain => Err(plain),
        }
    }
}

/// What a reader does with what its source gave it.
enum Next<T: 'static> {
    /// An event to handle.
    Event(Item<T>),
    /// Nothing to handle (lag counted, an event of its own dead-letter
    /// topic skipped).
    Nothing,
    /// The backend could not read: back off before reading again.
    Failed,
    /// The bus is closed and read to the end.
    Closed,
}

impl<T: Clone + Send + 'static, F> Task<T, F> {
    /// Sorts what the source gave, counting lag and read errors.
    fn next(&self, received: Result<Item<T>, RecvError>, control: &Control) -> Next<T> {
        match received {
            Err(RecvError::Closed) => Next::Closed,
            Err(RecvError::Lagged { skipped, .. }) => {
                control.update(|stats| stats.skipped += skipped);
                Next::Nothing
            }
            Err(error @ RecvError::Io { .. }) => {
                control.update(|stats| stats.last_error = Some(error.to_string()));
                Next::Failed
            }
            // A group handler's partitions moved: nothing to do, its
            // member already reads the new ones.
            Err(_) => Next::Nothing,
            // Its own failures are not its input: a pattern that matches
            // the dead-letter topic would loop forever.
            Ok(item) if self.is_own_dead_letter(item.event()) => {
                item.settle(control);
                Next::Nothing
            }
            Ok(item) => Next::Event(item),
        }
    }

    fn is_own_dead_letter(&self, event: &Event<T>) -> bool {
        self.dead_letter
            .as_ref()
            .is_some_and(|(name, _)| **name == *event.topic())
    }

    /// Publishes `item`, whose last attempt failed with `error`, to the
    /// dead-letter topic if there is one, settles it, and counts it as
    /// failed: it is done with, even where the dead-letter topic refused
    /// it (the bus closed), which the stats report.
    async fn dead_letter(&self, item: Item<T>, error: String, control: &Control) {
        let event = item.event().clone();
        let dead_lettered = match &self.dead_letter {
            Some((_, parts)) => {
                // Its properties and key go with it: a dead letter keeps
                // its id, and its key's order.
                let properties = event.properties.clone();
                let key = event.key.clone();
                let mut append = self.inner.prepare(event.into_payload(), None);
                if let Some(properties) = properties {
                    append = append.with_properties(properties);
                }
                let log = parts.pick(key.as_deref());
                if let Some(key) = key {
                    append = append.with_key(key);
                }
                self.inner.append(log, append).await.is_ok()
            }
            None => false,
        };
        item.settle(control);
        control.update(|stats| {
            stats.failed += 1;
            stats.dead_lettered += u64::from(dead_lettered);
            stats.last_error = Some(error);
        });
    }

    /// Sleeps the back-off after failed attempt `attempt`; false if a stop
    /// cut it short. `slot` is the waiting task's (see the module docs).
    async fn back_off(&self, attempt: u32, control: &Control, slot: usize) -> bool {
        self.sleep_until(self.deadline(self.retry.delay(attempt)), control, slot)
            .await
    }

    /// `wait` from now on the runtime's clock; as far as it goes if that
    /// is too far.
    fn deadline(&self, wait: Duration) -> Instant {
        let now = self.spawner.now();
        now.checked_add(wait).unwrap_or(far_future(now))
    }

    /// Sleeps until `deadline`; false if a stop cut it short.
    async fn sleep_until(&self, deadline: Instant, control: &Control, slot: usize) -> bool {
        let mut sleep = self.spawner.sleep_until(deadline);
        let slept = poll_fn(|cx| {
            if control.stopping(cx, slot) {
                return Poll::Ready(false);
            }
            sleep.as_mut().poll(cx).map(|()| true)
        })
        .await;
        control.leave(slot);
        slept
    }
}

impl<T, F, Fut, E> Task<T, F>
where
    T: Clone + Send + 'static,
    F: Fn(Event<T>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: fmt::Display + 'static,
{
    // ANCHOR: handler-run
    async fn run(self, mut source: Source<T>, finish: FinishOnDrop) {
        let control = &finish.0;
        loop {
            let next = poll_fn(|cx| {
                if control.stopping(cx, READER) {
                    return Poll::Ready(None);
                }
                source.poll_recv(cx).map(Some)
            })
            .await;
            let Some(received) = next else { break };
            match self.next(received, control) {
                Next::Closed => break,
                Next::Nothing => {}
                // Wait the first back-off before reading again, so a
                // lasting failure does not spin.
                Next::Failed if !self.back_off(1, control, READER).await => break,
                Next::Failed => {}
                Next::Event(item) => self.handle(item, control, READER).await,
            }
        }
        // A group member leaves before the handler counts as finished.
        drop(source);
    }
    // ANCHOR_END: handler-run

    // ANCHOR: handle
    /// Runs the attempts for one event, on the task in `slot`.
    async fn handle(&self, item: Item<T>, control: &Control, slot: usize) {
        let mut attempt = 1;
        let error = loop {
            let error = match attempt_once(&self.handler, item.event().clone()).await {
                Ok(()) => {
                    // Acked before it is counted: whoever sees the count
                    // sees the commit.
                    item.settle(control);
                    control.update(|stats| stats.succeeded += 1);
                    return;
                }
                Err(error) => error,
            };
            if attempt >= self.retry.max_attempts() || !self.back_off(attempt, control, slot).await {
                break error;
            }
            control.update(|stats| stats.retried += 1);
            attempt += 1;
        };
        self.dead_letter(item, error, control).await;
    }
    // ANCHOR_END: handle
}

/// About thirty years on: as far as `Instant` arithmetic safely goes.
fn far_future(now: Instant) -> Instant {
    let year = Duration::from_secs(365 * 24 * 3600);
    (1..=30)
        .rev()
        .find_map(|years| now.checked_add(year * years))
        .unwrap_or(now)
}

/// One call of the handler; a panic (in the call or the future) becomes
/// an error message.
async fn attempt_once<T, F, Fut, E>(handler: &F, event: Event<T>) -> Result<(), String>
where
    F: Fn(Event<T>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: fmt::Display,
{
    catching(handler, event).await?.map_err(|e| e.to_string())
}

/// Calls `handler` with `input` and awaits what it returns; a panic (in
/// the call or the future) becomes an error message.
async fn catching<A, F, Fut>(handler: &F, input: A) -> Result<Fut::Output, String>
where
    F: Fn(A) -> Fut,
    Fut: Future,
{
    let future = match catch_unwind(AssertUnwindSafe(|| handler(input))) {
        Ok(future) => future,
        Err(panic) => return Err(format!("handler panicked: {}", panic_message(panic))),
    };
    let mut future = pin!(future);
    poll_fn(
        |cx| match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(format!("handler panicked: {}", panic_message(panic)))),
        },
    )
    .await
}

impl fmt::Debug for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.control.state);
        f.debug_struct("Handler")
            .field("stats", &state.stats)
            .field("finished", &state.finished)
            .finish()
    }
}
