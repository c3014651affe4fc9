//! Handlers in the serverless style: a function run per event, with
//! retries and a dead-letter topic ([`EventBus::on`]).

use super::error::EventsError;
use super::{Event, EventBus, Inner, NamedLog, StartAt, Subscriber};
use crate::loom::{Mutex, lock};
use crate::util::panic_message;
use std::fmt;
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use weft_primitives::spawner::Spawner;

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

/// How a handler reads and retries: [`EventBus::on_with`].
#[derive(Debug, Clone)]
pub struct HandlerOptions {
    from: StartAt,
    retry: Retry,
    dead_letter: Option<String>,
}

impl HandlerOptions {
    /// From the next event published, with [`Retry::default`] and no
    /// dead-letter topic.
    pub fn new() -> HandlerOptions {
        HandlerOptions {
            from: StartAt::Latest,
            retry: Retry::default(),
            dead_letter: None,
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
    /// Attempts that failed and were retried.
    pub retried: u64,
    /// Events whose every attempt failed.
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
    /// The handler task, while it waits for an event or a back-off.
    task: Option<Waker>,
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
        let task = {
            let mut state = lock(&self.control.state);
            state.stop = true;
            state.task.take()
        };
        task.into_iter().for_each(Waker::wake);
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
    /// Whether a stop was asked; otherwise registers the task to hear of
    /// one.
    fn stopping(&self, cx: &Context<'_>) -> bool {
        // Dropped after the lock is released: a waker's drop may call back
        // into the handler.
        let mut _displaced = None;
        let mut state = lock(&self.state);
        if !state.stop {
            _displaced = crate::util::replace_waker(&mut state.task, cx.waker());
        }
        state.stop
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
    /// event at a time, in order, on the bus's runtime. A failed attempt
    /// (an `Err`, or a panic) is retried after the back-off, on the
    /// runtime's clock; an event whose last attempt fails goes to the
    /// dead-letter topic. The handler ends when the bus closes (after
    /// handling what remains) or when [`Handler::stop`] is called. Once
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
        let inner = &self.bus.0;
        let spawner = match &inner.spawner {
            Some(spawner) => spawner.clone(),
            None => Spawner::try_current().map_err(|_| EventsError::NoSpawner)?,
        };
        let dead_letter = match &options.dead_letter {
            Some(topic) => Some(inner.log(topic)?),
            None => None,
        };
        let subscriber = inner.subscribe(pattern, options.from)?;
        let control = Arc::new(Control {
            state: Mutex::new(ControlState::default()),
        });
        let task = Task {
            inner: inner.clone(),
            handler,
            retry: options.retry,
            dead_letter,
            spawner: spawner.clone(),
        };
        spawner.spawn(task.run(subscriber, FinishOnDrop(control.clone())));
        Ok(Handler { control })
    }
}

/// What a handler's task shares between its events. The subscriber is
/// kept apart: `handle` borrows the task across awaits, so the task must
/// be `Sync`, which a subscriber holding `T`s is not.
struct Task<T: 'static, F> {
    inner: Arc<Inner<T>>,
    handler: F,
    retry: Retry,
    dead_letter: Option<NamedLog<T>>,
    spawner: Spawner,
}

impl<T, F, Fut, E> Task<T, F>
where
    T: Clone + Send + 'static,
    F: Fn(Event<T>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: fmt::Display + 'static,
{
    // ANCHOR: handler-run
    async fn run(self, mut subscriber: Subscriber<T>, finish: FinishOnDrop) {
        let control = &finish.0;
        loop {
            let next = poll_fn(|cx| {
                if control.stopping(cx) {
                    return Poll::Ready(None);
                }
                subscriber.poll_recv(cx).map(Some)
            })
            .await;
            match next {
                None | Some(Err(super::RecvError::Closed)) => break,
                Some(Err(super::RecvError::Lagged { skipped, .. })) => {
                    control.update(|stats| stats.skipped += skipped);
                }
                // Only members of assigned groups are rebalanced.
                Some(Err(super::RecvError::Rebalanced { .. })) => {}
                Some(Err(error @ super::RecvError::Io { .. })) => {
                    // The backend could not read: wait the first back-off
                    // before reading again, so a lasting failure does not
                    // spin.
                    control.update(|stats| stats.last_error = Some(error.to_string()));
                    if !self.back_off(1, control).await {
                        break;
                    }
                }
                Some(Ok(event)) => {
                    // Its own failures are not its input: a pattern that
                    // matches the dead-letter topic would loop forever.
                    let own_dead_letter = self
                        .dead_letter
                        .as_ref()
                        .is_some_and(|(name, _)| **name == *event.topic());
                    if !own_dead_letter {
                        self.handle(event, control).await;
                    }
                }
            }
        }
    }
    // ANCHOR_END: handler-run

    // ANCHOR: handle
    /// Runs the attempts for one event.
    async fn handle(&self, event: Event<T>, control: &Control) {
        let mut attempt = 1;
        let error = loop {
            let error = match attempt_once(&self.handler, event.clone()).await {
                Ok(()) => {
                    control.update(|stats| stats.succeeded += 1);
                    return;
                }
                Err(error) => error,
            };
            if attempt >= self.retry.max_attempts() || !self.back_off(attempt, control).await {
                break error;
            }
            control.update(|stats| stats.retried += 1);
            attempt += 1;
        };
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
        control.update(|stats| {
            stats.failed += 1;
            stats.dead_lettered += u64::from(dead_lettered);
            stats.last_error = Some(error);
        });
    }
    // ANCHOR_END: handle

    /// Sleeps the back-off after failed attempt `attempt`; false if a stop
    /// cut it short.
    async fn back_off(&self, attempt: u32, control: &Control) -> bool {
        let now = self.spawner.now();
        // A back-off too long for the clock waits as long as it can.
        let deadline = now
            .checked_add(self.retry.delay(attempt))
            .unwrap_or(far_future(now));
        let mut sleep = self.spawner.sleep_until(deadline);
        poll_fn(|cx| {
            if control.stopping(cx) {
                return Poll::Ready(false);
            }
            sleep.as_mut().poll(cx).map(|()| true)
        })
        .await
    }
}

/// About thirty years on: as far as `Instant` arithmetic safely goes.
fn far_future(now: std::time::Instant) -> std::time::Instant {
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
    let future = match catch_unwind(AssertUnwindSafe(|| handler(event))) {
        Ok(future) => future,
        Err(panic) => return Err(format!("handler panicked: {}", panic_message(panic))),
    };
    let mut future = pin!(future);
    poll_fn(
        |cx| match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(result)) => Poll::Ready(result.map_err(|e| e.to_string())),
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
