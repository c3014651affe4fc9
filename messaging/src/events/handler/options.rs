//! How a handler is configured and what it reports: [`Retry`],
//! [`HandlerOptions`] and [`HandlerStats`].

use crate::events::StartAt;
// Named in the docs only.
#[cfg(doc)]
use crate::events::{EventBus, RecvError};
use std::time::Duration;

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
    pub(super) from: StartAt,
    pub(super) retry: Retry,
    pub(super) dead_letter: Option<String>,
    pub(super) group: Option<String>,
    pub(super) concurrency: usize,
    pub(super) batch_max: usize,
    pub(super) batch_wait: Duration,
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
    /// A [`stop`](super::Handler::stop) lets the events in flight finish their
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
    /// [`stop`](super::Handler::stop) hands over what was gathered at once.
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
    /// ([`RecvError::Lagged`]).
    pub skipped: u64,
    /// The last failure's error (or panic) message.
    pub last_error: Option<String>,
}
