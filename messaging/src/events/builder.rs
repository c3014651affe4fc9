//! Configuring a bus: [`Builder`] (retention, clock, backend, size
//! function) and [`DEFAULT_RETENTION`].

use super::backend::{Backend, Retention};
use super::bus::{BusRef, Clock, Inner, Registry, SizeFn};
use super::{EventBus, Memory};
use crate::loom::Mutex;
use crate::loom::atomic::{AtomicU64, AtomicUsize};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use weft_primitives::spawner::Spawner;

/// How many events a topic keeps unless told otherwise.
pub const DEFAULT_RETENTION: usize = 1024;

/// Configures an [`EventBus`]: `EventBus::builder()`.
#[derive(Debug, Clone)]
pub struct Builder {
    retention: Retention,
    spawner: Option<Spawner>,
}

impl Builder {
    /// How many events each topic keeps for replay and for slow readers
    /// (default [`DEFAULT_RETENTION`]; 0 is taken as 1).
    /// [`Topic::set_retention`](super::Topic::set_retention) changes it for one topic.
    pub fn retention(&mut self, events: usize) -> &mut Self {
        self.retention.events = events.max(1);
        self
    }

    /// Keeps no event older (by timestamp) than `age` before the newest
    /// in its partition (default: no limit); see [`Retention`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use weft::events::{EventBus, Properties, RecvError, StartAt};
    ///
    /// let bus = EventBus::builder().max_age(Duration::from_secs(60)).build();
    /// let mut slow = bus.subscribe("audit", StartAt::Latest).unwrap();
    /// let at = |secs| Properties::new().with_timestamp(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
    /// bus.try_publish_with("audit", 1, at(0)).unwrap();
    /// bus.try_publish_with("audit", 2, at(30)).unwrap();
    /// bus.try_publish_with("audit", 3, at(90)).unwrap(); // 1 is now 90 s old
    /// assert!(matches!(slow.try_recv(), Some(Err(RecvError::Lagged { skipped: 1, .. }))));
    /// assert_eq!(*slow.try_recv().unwrap().unwrap(), 2);
    /// ```
    pub fn max_age(&mut self, age: Duration) -> &mut Self {
        self.retention.max_age = Some(age);
        self
    }

    /// Keeps at most `bytes` bytes per partition, as the size function of
    /// [`build_sized`](Builder::build_sized) counts them (default: no
    /// limit); see [`Retention`].
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Memory, RecvError, StartAt};
    ///
    /// let bus = EventBus::builder().max_bytes(10).build_sized(Memory::new(), |s: &String| s.len());
    /// let mut slow = bus.subscribe("log", StartAt::Latest).unwrap();
    /// for line in ["hello", "world", "again"] {
    ///     bus.try_publish("log", line.to_owned()).unwrap();
    /// }
    /// assert!(matches!(slow.try_recv(), Some(Err(RecvError::Lagged { skipped: 1, .. }))));
    /// assert_eq!(*slow.try_recv().unwrap().unwrap(), "world");
    /// ```
    pub fn max_bytes(&mut self, bytes: u64) -> &mut Self {
        self.retention.max_bytes = Some(bytes);
        self
    }

    /// The runtime handlers run on, whose clock times their retries and
    /// stamps events ([`Event::timestamp`](super::Event::timestamp): the paused clock in tests);
    /// by default, handlers run on the one current when [`EventBus::on`]
    /// is called, and events are stamped by the system clock.
    pub fn spawner(&mut self, spawner: &Spawner) -> &mut Self {
        self.spawner = Some(spawner.clone());
        self
    }

    /// A bus keeping its events in memory ([`Memory`], which readers copy
    /// events out of without holding its lock, so `T` is `Sync`).
    pub fn build<T: Clone + Send + Sync + 'static>(&self) -> EventBus<T> {
        self.build_with(Memory::new())
    }

    /// A bus keeping its events in `backend`.
    pub fn build_with<T: Clone + Send + 'static>(&self, backend: impl Backend<T>) -> EventBus<T> {
        self.build_inner(backend, None)
    }

    /// A bus keeping its events in `backend`, counting each event's size
    /// with `size` (in bytes, as a codec would encode it) for
    /// [`max_bytes`](Builder::max_bytes). Without one, each event counts
    /// `size_of::<T>()`.
    pub fn build_sized<T: Clone + Send + 'static>(
        &self,
        backend: impl Backend<T>,
        size: impl Fn(&T) -> usize + Send + Sync + 'static,
    ) -> EventBus<T> {
        self.build_inner(backend, Some(Box::new(size)))
    }

    fn build_inner<T: Clone + Send + 'static>(
        &self,
        backend: impl Backend<T>,
        size: Option<SizeFn<T>>,
    ) -> EventBus<T> {
        let inner = Arc::new(Inner {
            size,
            backend: Arc::new(backend),
            registry: Mutex::new(Registry {
                topics: HashMap::new(),
                watchers: Vec::new(),
                closed: false,
            }),
            groups: Mutex::new(HashMap::new()),
            seq: AtomicU64::new(0),
            handles: AtomicUsize::new(1),
            retention: self.retention,
            spawner: self.spawner.clone(),
            clock: match &self.spawner {
                Some(spawner) => Clock::Runtime {
                    spawner: spawner.clone(),
                    since: spawner.now(),
                    at: SystemTime::now(),
                },
                None => Clock::System,
            },
        });
        EventBus { bus: BusRef(inner) }
    }
}

impl EventBus<()> {
    /// A [`Builder`] for a bus.
    pub fn builder() -> Builder {
        Builder {
            retention: Retention::default(),
            spawner: None,
        }
    }
}
