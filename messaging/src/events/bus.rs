//! The bus itself: [`EventBus`], the shared state its handles point at
//! (`Inner`: the backend, the registry of topics, the groups, the clock)
//! and how topics are opened and the bus is closed.

use super::at_once::would_block;
use super::backend::{Backend, Retention, TopicOptions};
use super::error::EventsError;
use super::group::Group;
use super::pattern;
use super::subscriber::Watch;
use super::topic::{Partitions, Topic};
use crate::loom::atomic::{AtomicU64, AtomicUsize, Ordering};
use crate::loom::{Mutex, lock};
use std::collections::HashMap;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Instant, SystemTime};
use weft_primitives::spawner::Spawner;

/// The event bus: topics, subscribers, consumer groups and handlers.
/// Cheap to clone; clones share the bus.
///
/// The bus closes when [`close`](EventBus::close) is called or the last
/// `EventBus` and [`Topic`] handle is dropped: publishing then fails, and
/// readers get what remains and then [`RecvError::Closed`](super::RecvError::Closed).
///
/// See the [module docs](super).
pub struct EventBus<T: 'static> {
    pub(super) bus: BusRef<T>,
}

/// A counted reference to the bus: the last one dropped closes it.
pub(super) struct BusRef<T: 'static>(pub(super) Arc<Inner<T>>);

pub(super) struct Inner<T: 'static> {
    pub(super) backend: Arc<dyn Backend<T>>,
    pub(super) registry: Mutex<Registry<T>>,
    pub(super) groups: Mutex<Groups<T>>,
    /// Bus-wide publication order.
    pub(super) seq: AtomicU64,
    /// `EventBus` and `Topic` handles alive.
    pub(super) handles: AtomicUsize,
    pub(super) retention: Retention,
    pub(super) spawner: Option<Spawner>,
    pub(super) clock: Clock,
    /// Counts an event's bytes; `size_of::<T>()` if `None`.
    pub(super) size: Option<SizeFn<T>>,
}

pub(super) type SizeFn<T> = Box<dyn Fn(&T) -> usize + Send + Sync>;

// ANCHOR: clock
/// What stamps events.
pub(super) enum Clock {
    /// The system clock.
    System,
    /// A runtime's clock (paused in tests), counted from the system time
    /// `at`, read when the runtime's clock read `since`.
    Runtime {
        spawner: Spawner,
        since: Instant,
        at: SystemTime,
    },
}

impl Clock {
    pub(super) fn now(&self) -> SystemTime {
        match self {
            Clock::System => SystemTime::now(),
            Clock::Runtime { spawner, since, at } => *at + spawner.now().saturating_duration_since(*since),
        }
    }
}
// ANCHOR_END: clock

pub(super) struct Registry<T: 'static> {
    pub(super) topics: HashMap<Arc<str>, Arc<Partitions<T>>>,
    /// Pattern subscribers, told of each topic created after they were.
    pub(super) watchers: Vec<Weak<Watch<T>>>,
    pub(super) closed: bool,
}

pub(super) type NamedLog<T> = (Arc<str>, Arc<Partitions<T>>);

/// By (group, topic, partition).
pub(super) type Groups<T> = HashMap<(String, Arc<str>, u32), Arc<Group<T>>>;

impl<T: Clone + Send + 'static> EventBus<T> {
    /// A bus in memory, each topic keeping [`DEFAULT_RETENTION`](super::DEFAULT_RETENTION) events.
    ///
    /// Unlike tokio's `broadcast`, which asks only `T: Send`, the in-memory
    /// bus asks `T: Sync` too: its readers clone events without holding
    /// the log's lock.
    pub fn new() -> EventBus<T>
    where
        T: Sync,
    {
        EventBus::builder().build()
    }

    /// The topic `name`, created if new.
    ///
    /// # Errors
    ///
    /// [`EventsError::InvalidName`] if `name` is not a topic name (see
    /// [`Pattern`](super::Pattern)); [`EventsError::Backend`] if the backend fails, or
    /// (of kind [`WouldBlock`](io::ErrorKind::WouldBlock)) cannot open a
    /// new topic at once: [`topic_async`](EventBus::topic_async) waits
    /// instead. The in-memory backend always can.
    pub fn topic(&self, name: &str) -> Result<Topic<T>, EventsError> {
        self.create_topic(name, TopicOptions::default())
    }

    /// The topic `name`, created if new, once the backend has opened it:
    /// as [`topic`](EventBus::topic), waiting for a backend that cannot
    /// open it at once (a broker's round trip).
    ///
    /// # Errors
    ///
    /// As [`topic`](EventBus::topic), never of kind `WouldBlock`.
    ///
    /// # Cancel safety
    ///
    /// Dropped before it completes, no handle is made; a topic the
    /// backend went on to make is there for the next call.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::EventBus;
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::new();
    ///     let orders = bus.topic_async("order.placed").await.unwrap();
    ///     orders.publish("order #1").await.unwrap();
    ///     assert_eq!(orders.end().get(), 1);
    /// });
    /// ```
    pub async fn topic_async(&self, name: &str) -> Result<Topic<T>, EventsError> {
        self.create_topic_async(name, TopicOptions::default()).await
    }

    /// The topic `name`, made with `options` if new, once the backend has
    /// opened it: as [`create_topic`](EventBus::create_topic), waiting for
    /// a backend that cannot open it at once.
    ///
    /// # Errors
    ///
    /// As [`create_topic`](EventBus::create_topic), never of kind
    /// `WouldBlock`.
    ///
    /// # Cancel safety
    ///
    /// As [`topic_async`](EventBus::topic_async).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, TopicOptions};
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::<u32>::new();
    ///     let options = TopicOptions { partitions: 4, ..TopicOptions::default() };
    ///     let carts = bus.create_topic_async("cart.updated", options).await.unwrap();
    ///     assert_eq!(carts.partitions(), 4);
    /// });
    /// ```
    pub async fn create_topic_async(
        &self,
        name: &str,
        options: TopicOptions,
    ) -> Result<Topic<T>, EventsError> {
        let (name, parts) = poll_fn(|cx| self.bus.0.poll_log(cx, name, &options)).await?;
        Ok(Topic {
            bus: self.bus.clone(),
            name,
            parts,
        })
    }

    /// The topic `name`, made with `options` if new: its partition count
    /// is fixed then. A topic that exists (made earlier, or stored by the
    /// backend) is returned as it is, keeping its own count: check
    /// [`Topic::partitions`]. [`topic`](EventBus::topic) and publishing
    /// to a new name make a topic of one partition.
    ///
    /// # Errors
    ///
    /// [`EventsError::InvalidName`] if `name` is not a topic name (see
    /// [`Pattern`](super::Pattern)); [`EventsError::Backend`] if the backend fails, or
    /// cannot open a new topic at once (see [`topic`](EventBus::topic);
    /// [`create_topic_async`](EventBus::create_topic_async) waits).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, StartAt, TopicOptions};
    ///
    /// let bus = EventBus::new();
    /// let options = TopicOptions { partitions: 4, ..TopicOptions::default() };
    /// let carts = bus.create_topic("cart.updated", options).unwrap();
    /// let mut all = carts.subscribe(StartAt::Start);
    /// carts.try_publish_keyed("cart-1", "apple").unwrap();
    /// carts.try_publish_keyed("cart-1", "pear").unwrap();
    ///
    /// let first = all.try_recv().unwrap().unwrap();
    /// let second = all.try_recv().unwrap().unwrap();
    /// assert_eq!((*first, *second), ("apple", "pear"), "one key, one partition, in order");
    /// assert_eq!(first.partition(), carts.partition_for("cart-1"));
    /// assert_eq!(first.key(), Some("cart-1"));
    /// ```
    pub fn create_topic(&self, name: &str, options: TopicOptions) -> Result<Topic<T>, EventsError> {
        let (name, parts) = self.bus.0.log_with(name, &options)?;
        Ok(Topic {
            bus: self.bus.clone(),
            name,
            parts,
        })
    }

    /// Closes the bus: publishing fails from now on; readers get what
    /// remains, then [`RecvError::Closed`](super::RecvError::Closed); handlers stop.
    pub fn close(&self) {
        self.bus.0.close();
    }

    /// Whether the bus is closed.
    pub fn is_closed(&self) -> bool {
        lock(&self.bus.0.registry).closed
    }

    /// The names of the topics in use, in no particular order.
    pub fn topics(&self) -> Vec<String> {
        let registry = lock(&self.bus.0.registry);
        registry.topics.keys().map(|name| name.to_string()).collect()
    }
}

impl<T: Clone + Send + Sync + 'static> Default for EventBus<T> {
    fn default() -> Self {
        EventBus::new()
    }
}

impl<T: Clone + Send + 'static> Inner<T> {
    /// The log of topic `name`, opened (and shown to matching pattern
    /// subscribers) if new; for a caller that cannot wait, a backend that
    /// does not open it at once is an error.
    pub(super) fn log(&self, name: &str) -> Result<NamedLog<T>, EventsError> {
        self.log_with(name, &TopicOptions::default())
    }

    /// As [`log`](Inner::log), making a new topic with `options`.
    fn log_with(&self, name: &str, options: &TopicOptions) -> Result<NamedLog<T>, EventsError> {
        match self.poll_log(&mut Context::from_waker(Waker::noop()), name, options) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(EventsError::Backend(would_block())),
        }
    }

    /// The log of topic `name`, opened (and shown to matching pattern
    /// subscribers) if new.
    pub(super) fn poll_log(
        &self,
        cx: &mut Context<'_>,
        name: &str,
        options: &TopicOptions,
    ) -> Poll<Result<NamedLog<T>, EventsError>> {
        pattern::validate_topic(name)?;
        let mut wakers = Vec::new();
        let opened = {
            let mut registry = lock(&self.registry);
            if let Some((name, log)) = registry.topics.get_key_value(name) {
                return Poll::Ready(Ok((name.clone(), log.clone())));
            }
            self.open(cx, &mut registry, name, options, &mut wakers)
        };
        wakers.into_iter().for_each(Waker::wake);
        opened
    }

    /// Opens a log the registry does not have yet. Called with the
    /// registry locked, so a pattern subscriber either finds the topic in
    /// the registry or is told of it, never neither; the subscribers to
    /// wake are left in `wakers`, for the caller to wake once it has
    /// released the lock.
    pub(super) fn open(
        &self,
        cx: &mut Context<'_>,
        registry: &mut Registry<T>,
        name: &str,
        options: &TopicOptions,
        wakers: &mut Vec<Waker>,
    ) -> Poll<Result<NamedLog<T>, EventsError>> {
        let retention = options.retention.unwrap_or(self.retention);
        let logs = match self
            .backend
            .poll_open(cx, name, options.partitions.max(1), retention)
        {
            Poll::Ready(Ok(logs)) if logs.is_empty() => {
                let error = io::Error::other("the backend opened a topic without partitions");
                return Poll::Ready(Err(EventsError::Backend(error)));
            }
            Poll::Ready(Ok(logs)) => logs,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
            Poll::Pending => return Poll::Pending,
        };
        if registry.closed {
            logs.iter().for_each(|log| log.close());
        }
        let log = Arc::new(Partitions::new(logs));
        let name: Arc<str> = Arc::from(name);
        registry.topics.insert(name.clone(), log.clone());
        registry.watchers.retain(|watch| {
            let Some(watch) = watch.upgrade() else {
                return false;
            };
            if watch.pattern.matches(&name) {
                let mut state = lock(&watch.state);
                state.new.push((name.clone(), log.clone()));
                wakers.extend(state.waker.take());
            }
            true
        });
        Poll::Ready(Ok((name, log)))
    }
}

impl<T: 'static> Clone for BusRef<T> {
    fn clone(&self) -> Self {
        self.0.handles.fetch_add(1, Ordering::Relaxed);
        BusRef(self.0.clone())
    }
}

impl<T: 'static> Drop for BusRef<T> {
    fn drop(&mut self) {
        if self.0.handles.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.close();
        }
    }
}

impl<T: 'static> Inner<T> {
    /// Closes every log and tells pattern subscribers no topic will come.
    pub(super) fn close(&self) {
        let (logs, watchers) = {
            let mut registry = lock(&self.registry);
            if registry.closed {
                return;
            }
            registry.closed = true;
            let logs: Vec<_> = registry.topics.values().cloned().collect();
            (logs, std::mem::take(&mut registry.watchers))
        };
        for log in logs.iter().flat_map(|parts| parts.logs.iter()) {
            log.close();
        }
        for watch in watchers.iter().filter_map(Weak::upgrade) {
            let waker = {
                let mut state = lock(&watch.state);
                state.closed = true;
                state.waker.take()
            };
            waker.into_iter().for_each(Waker::wake);
        }
    }
}

impl<T: 'static> Clone for EventBus<T> {
    fn clone(&self) -> Self {
        EventBus {
            bus: self.bus.clone(),
        }
    }
}

impl<T: 'static> fmt::Debug for EventBus<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let registry = lock(&self.bus.0.registry);
        f.debug_struct("EventBus")
            .field("topics", &registry.topics.len())
            .field("closed", &registry.closed)
            .finish_non_exhaustive()
    }
}
