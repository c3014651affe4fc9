//! Starting a handler ([`EventBus::on`] and its forms) and its reader
//! [`Task`]: where it reads ([`Source`]), and one event's attempts, with
//! the back-off between them and the dead-letter topic after the last.

use super::concurrent;
use super::control::{Control, FinishOnDrop, Handler, READER};
use super::options::{HandlerOptions, Retry};
use crate::events::error::EventsError;
use crate::events::{Event, EventBus, GroupEvent, Inner, Member, NamedLog, RecvError, Subscriber};
use crate::util::panic_message;
use std::fmt;
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use weft_primitives::spawner::Spawner;

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
    /// failure then is counted in [`HandlerStats::failed`](super::HandlerStats::failed) and not in
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
    pub(super) fn task<F>(
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
pub(super) struct Task<T: 'static, F> {
    inner: Arc<Inner<T>>,
    pub(super) handler: F,
    pub(super) retry: Retry,
    dead_letter: Option<NamedLog<T>>,
    pub(super) spawner: Spawner,
}

/// Where a handler reads: a subscriber of its own, or a member of a
/// consumer group ([`HandlerOptions::group`]).
pub(super) enum Source<T: 'static> {
    Subscriber(Subscriber<T>),
    Member(Member<T>),
}

impl<T: Clone + Send + 'static> Source<T> {
    pub(super) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Item<T>, RecvError>> {
        match self {
            Source::Subscriber(subscriber) => subscriber.poll_recv(cx).map(|r| r.map(Item::Plain)),
            Source::Member(member) => member.poll_recv(cx).map(|r| r.map(Item::Group)),
        }
    }
}

/// An event read: from a subscriber, or from a group, to be acked.
pub(super) enum Item<T: 'static> {
    Plain(Event<T>),
    Group(GroupEvent<T>),
}

impl<T: 'static> Item<T> {
    pub(super) fn event(&self) -> &Event<T> {
        match self {
            Item::Plain(event) => event,
            Item::Group(event) => event.event(),
        }
    }

    /// Done with: acked if from a group (a failed ack is reported).
    pub(super) fn settle(self, control: &Control) {
        if let Item::Group(event) = self
            && let Err(error) = event.ack()
        {
            control.update(|stats| stats.last_error = Some(error.to_string()));
        }
    }

    /// Not handled, and (for an event of a group) given back to the group
    /// to be handed out again; an event of a subscriber comes back.
    pub(super) fn give_back(self) -> Result<(), Self> {
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
pub(super) enum Next<T: 'static> {
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
    pub(super) fn next(&self, received: Result<Item<T>, RecvError>, control: &Control) -> Next<T> {
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
    pub(super) async fn dead_letter(&self, item: Item<T>, error: String, control: &Control) {
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
        let topic = self.dead_letter.as_ref().map(|(name, _)| &**name);
        crate::diag::handler_failed(item.event(), &error, topic, dead_lettered);
        item.settle(control);
        control.update(|stats| {
            stats.failed += 1;
            stats.dead_lettered += u64::from(dead_lettered);
            stats.last_error = Some(error);
        });
    }

    /// Sleeps the back-off after failed attempt `attempt`; false if a stop
    /// cut it short. `slot` is the waiting task's (see the module docs).
    pub(super) async fn back_off(&self, attempt: u32, control: &Control, slot: usize) -> bool {
        self.sleep_until(self.deadline(self.retry.delay(attempt)), control, slot)
            .await
    }

    /// `wait` from now on the runtime's clock; as far as it goes if that
    /// is too far.
    pub(super) fn deadline(&self, wait: Duration) -> Instant {
        let now = self.spawner.now();
        now.checked_add(wait).unwrap_or(far_future(now))
    }

    /// Sleeps until `deadline`; false if a stop cut it short.
    pub(super) async fn sleep_until(&self, deadline: Instant, control: &Control, slot: usize) -> bool {
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
    pub(super) async fn handle(&self, item: Item<T>, control: &Control, slot: usize) {
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
            crate::diag::handler_retry(item.event(), attempt, &error);
            attempt += 1;
        };
        self.dead_letter(item, error, control).await;
    }
    // ANCHOR_END: handle
}

/// About thirty years on: as far as `Instant` arithmetic safely goes.
pub(super) fn far_future(now: Instant) -> Instant {
    let year = Duration::from_secs(365 * 24 * 3600);
    (1..=30)
        .rev()
        .find_map(|years| now.checked_add(year * years))
        .unwrap_or(now)
}

/// One call of the handler; a panic (in the call or the future) becomes
/// an error message.
pub(super) async fn attempt_once<T, F, Fut, E>(handler: &F, event: Event<T>) -> Result<(), String>
where
    F: Fn(Event<T>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: fmt::Display,
{
    catching(handler, event).await?.map_err(|e| e.to_string())
}

/// Calls `handler` with `input` and awaits what it returns; a panic (in
/// the call or the future) becomes an error message.
pub(super) async fn catching<A, F, Fut>(handler: &F, input: A) -> Result<Fut::Output, String>
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
