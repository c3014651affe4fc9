//! Independent readers: [`Subscriber`], its per-partition `Cursor`s, the
//! pattern watch that brings it topics created later, and seeking.

use super::at_once::at_once_or_would_block;
use super::backend::{ReadPlace, ReaderId, Record, TopicLog, TopicOptions};
use super::bus::{Inner, NamedLog};
use super::error::{EventsError, RecvError};
use super::event::{Event, Offset, Source, StartAt};
use super::topic::Partitions;
use super::{EventBus, Pattern};
use crate::loom::{Mutex, lock};
use futures_core::Stream;
use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

// ANCHOR: batch
/// How many events a reader copies out of a log per lock.
pub(super) const BATCH: usize = 64;
// ANCHOR_END: batch

/// A reader with its own cursor on every topic its pattern matches
/// (topics created later included). Made by [`EventBus::subscribe`] or
/// [`Topic::subscribe`](super::Topic::subscribe).
///
/// Events of one topic arrive in offset order; events of different topics
/// in the order they were published, as far as the reader can see it (on
/// one bus: a bus rebuilt on stored topics numbers its publications afresh,
/// so across topics its events and the stored ones may interleave).
/// Also a [`Stream`] of `Result<Event<T>, RecvError>` that ends when the
/// bus closes.
pub struct Subscriber<T: 'static> {
    pub(super) cursors: Vec<Cursor<T>>,
    /// For a pattern: where topics created after subscribing arrive.
    pub(super) watch: Option<Arc<Watch<T>>>,
}

pub(super) struct Watch<T: 'static> {
    pub(super) pattern: Pattern,
    pub(super) state: Mutex<WatchState<T>>,
}

pub(super) struct WatchState<T: 'static> {
    pub(super) new: Vec<NamedLog<T>>,
    pub(super) waker: Option<Waker>,
    pub(super) closed: bool,
}

// ANCHOR: cursor
pub(super) struct Cursor<T: 'static> {
    /// The topic and partition: this reader's own, so handing it out with
    /// each event touches no count another reader's thread does.
    source: Arc<Source>,
    log: Arc<dyn TopicLog<T>>,
    /// Who waits on the log: this cursor.
    reader: ReaderId,
    /// Where the log finds `next` again without a lookup.
    place: ReadPlace,
    next: Offset,
    buf: VecDeque<Record<T>>,
    /// Skipped events not yet reported.
    skipped: u64,
    /// Closed and read to the end.
    done: bool,
}
// ANCHOR_END: cursor

impl<T: Clone + Send + 'static> EventBus<T> {
    /// A subscriber to every topic `pattern` matches, starting `from`.
    ///
    /// # Errors
    ///
    /// [`EventsError::InvalidName`] for a bad pattern;
    /// [`EventsError::Backend`] if the backend fails.
    ///
    /// A backend that cannot open a topic at once (a broker's round trip)
    /// makes this fail with [`EventsError::Backend`] of kind
    /// [`WouldBlock`](io::ErrorKind::WouldBlock);
    /// [`subscribe_async`](EventBus::subscribe_async) waits instead. The
    /// in-memory backend always can.
    pub fn subscribe(&self, pattern: &str, from: StartAt) -> Result<Subscriber<T>, EventsError> {
        self.bus.0.subscribe(pattern, from)
    }

    /// A subscriber to every topic `pattern` matches, starting `from`,
    /// once the backend has opened the topics: as
    /// [`subscribe`](EventBus::subscribe), waiting for a backend that
    /// cannot open a topic at once.
    ///
    /// # Errors
    ///
    /// As [`subscribe`](EventBus::subscribe), never of kind `WouldBlock`.
    ///
    /// # Cancel safety
    ///
    /// Dropped before it completes, no subscriber is made; the topics
    /// opened so far stay open.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, StartAt};
    ///
    /// weft::block_on(async {
    ///     let bus = EventBus::new();
    ///     let mut audit = bus.subscribe_async("audit", StartAt::Latest).await.unwrap();
    ///     bus.publish("audit", "logged in").await.unwrap();
    ///     assert_eq!(*audit.recv().await.unwrap(), "logged in");
    /// });
    /// ```
    pub async fn subscribe_async(&self, pattern: &str, from: StartAt) -> Result<Subscriber<T>, EventsError> {
        let pattern = Pattern::parse(pattern)?;
        poll_fn(|cx| self.bus.0.poll_subscribe(cx, &pattern, from)).await
    }
}

impl<T: Clone + Send + 'static> Inner<T> {
    /// [`poll_subscribe`](Inner::poll_subscribe) for a caller that cannot
    /// wait.
    pub(super) fn subscribe(&self, pattern: &str, from: StartAt) -> Result<Subscriber<T>, EventsError> {
        let pattern = Pattern::parse(pattern)?;
        at_once_or_would_block(|cx| self.poll_subscribe(cx, &pattern, from))
    }

    /// A subscriber to what `pattern` matches: the topic's log for a
    /// literal name, else every topic it matches (those the backend stored
    /// before this bus started opened first). Polled again after
    /// `Pending`, it goes on where it stopped: topics opened stay open.
    fn poll_subscribe(
        &self,
        cx: &mut Context<'_>,
        pattern: &Pattern,
        from: StartAt,
    ) -> Poll<Result<Subscriber<T>, EventsError>> {
        if pattern.is_literal() {
            let (name, parts) = match self.poll_log(cx, pattern.as_str(), &TopicOptions::default()) {
                Poll::Ready(found) => found?,
                Poll::Pending => return Poll::Pending,
            };
            return Poll::Ready(Ok(Subscriber {
                cursors: Cursor::all(&name, &parts, from).collect(),
                watch: None,
            }));
        }
        let mut wakers = Vec::new();
        let mut registry = lock(&self.registry);
        // Topics the backend stored before this bus started. No pattern
        // subscriber can be waiting on them yet, but the registry may hold
        // watchers of dropped subscribers: prune them here too.
        registry.watchers.retain(|watch| watch.strong_count() > 0);
        for stored in self.backend.topics() {
            if !registry.topics.contains_key(stored.as_str()) && pattern.matches(&stored) {
                let options = TopicOptions::default();
                match self.open(cx, &mut registry, &stored, &options, &mut wakers) {
                    Poll::Ready(Ok(_)) => {}
                    Poll::Ready(Err(e)) => {
                        drop(registry);
                        wakers.into_iter().for_each(Waker::wake);
                        return Poll::Ready(Err(e));
                    }
                    Poll::Pending => {
                        drop(registry);
                        wakers.into_iter().for_each(Waker::wake);
                        return Poll::Pending;
                    }
                }
            }
        }
        let cursors = registry
            .topics
            .iter()
            .filter(|(name, _)| pattern.matches(name))
            .flat_map(|(name, parts)| Cursor::all(name, parts, from))
            .collect();
        let watch = Arc::new(Watch {
            pattern: pattern.clone(),
            state: Mutex::new(WatchState {
                new: Vec::new(),
                waker: None,
                closed: registry.closed,
            }),
        });
        registry.watchers.push(Arc::downgrade(&watch));
        drop(registry);
        wakers.into_iter().for_each(Waker::wake);
        Poll::Ready(Ok(Subscriber {
            cursors,
            watch: Some(watch),
        }))
    }
}

impl<T: Clone + Send + 'static> Subscriber<T> {
    /// Waits for the next event. Cancel-safe: an event is taken only when
    /// the future completes.
    ///
    /// # Errors
    ///
    /// [`RecvError::Lagged`] if the subscriber fell behind the retained
    /// window (the next call goes on); [`RecvError::Closed`] once the bus
    /// is closed and everything was read.
    pub async fn recv(&mut self) -> Result<Event<T>, RecvError> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    // ANCHOR: seek
    /// Moves this subscriber, on every topic and partition it reads, to
    /// where `to` says: the oldest retained event, the end, an offset, or
    /// the first event at or after a time. What it had read ahead is
    /// dropped; a lag not yet reported is forgotten.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Offset, StartAt};
    ///
    /// let bus = EventBus::new();
    /// let mut sub = bus.subscribe("audit", StartAt::Latest).unwrap();
    /// for n in 0..3 {
    ///     bus.try_publish("audit", n).unwrap();
    /// }
    /// assert_eq!(*sub.try_recv().unwrap().unwrap(), 0);
    /// sub.seek(StartAt::Offset(Offset::new(2)));
    /// assert_eq!(*sub.try_recv().unwrap().unwrap(), 2);
    /// sub.seek(StartAt::Start);
    /// assert_eq!(*sub.try_recv().unwrap().unwrap(), 0);
    /// ```
    pub fn seek(&mut self, to: StartAt) {
        for cursor in &mut self.cursors {
            cursor.next = to.offset_in(&*cursor.log);
            cursor.buf.clear();
            cursor.skipped = 0;
            cursor.done = false;
        }
    }
    // ANCHOR_END: seek

    /// Moves this subscriber on one partition of one topic it reads to
    /// where `to` says, leaving the others where they are: offsets count
    /// per partition, so this is how a reader of a topic of several goes
    /// to an offset in one of them. Otherwise as
    /// [`seek`](Subscriber::seek).
    ///
    /// # Errors
    ///
    /// [`EventsError::NoPartition`] if this subscriber does not read
    /// `topic`, or the topic has no partition `partition`; nothing moved.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use weft::events::{EventBus, Offset, Properties, StartAt, TopicOptions};
    ///
    /// let bus = EventBus::new();
    /// let options = TopicOptions { partitions: 2, ..TopicOptions::default() };
    /// let jobs = bus.create_topic("job.queued", options).unwrap();
    /// let at = |secs| Properties::new().with_timestamp(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
    /// for (n, secs) in [(0, 10), (1, 20), (2, 30)] {
    ///     jobs.try_publish_keyed_with("cart-1", n, at(secs)).unwrap();
    /// }
    /// let p = jobs.partition_for("cart-1");
    /// let mut sub = jobs.subscribe(StartAt::Latest);
    /// sub.seek_partition("job.queued", p, StartAt::Offset(Offset::new(1))).unwrap();
    /// assert_eq!(*sub.try_recv().unwrap().unwrap(), 1);
    /// let twenty_five = SystemTime::UNIX_EPOCH + Duration::from_secs(25);
    /// sub.seek_partition("job.queued", p, StartAt::Time(twenty_five)).unwrap();
    /// assert_eq!(*sub.try_recv().unwrap().unwrap(), 2);
    /// assert!(sub.seek_partition("job.queued", 2, StartAt::Start).is_err());
    /// ```
    pub fn seek_partition(&mut self, topic: &str, partition: u32, to: StartAt) -> Result<(), EventsError> {
        let cursor = self
            .cursors
            .iter_mut()
            .find(|c| &*c.source.topic == topic && c.source.partition == partition)
            .ok_or_else(|| EventsError::NoPartition {
                topic: Arc::from(topic),
                partition,
            })?;
        cursor.next = to.offset_in(&*cursor.log);
        cursor.buf.clear();
        cursor.skipped = 0;
        cursor.done = false;
        Ok(())
    }

    /// Polls for the next event; see [`recv`](Subscriber::recv).
    ///
    /// Unlike a channel's receive, it spends none of the runtime's
    /// cooperative budget: a loop over a subscriber yields when it has
    /// caught up, after at most the topic's retention (plus what is
    /// published meanwhile, which a reader outpaces) at a few nanoseconds
    /// an event. Spending it sent the fan-out benchmark into its slow mode
    /// in half its launches (`benches/RESULTS.md`); a loop that does more
    /// than read can call `weft::task::consume_budget().await` itself.
    #[inline]
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Event<T>, RecvError>> {
        match self.read_ahead() {
            Some(event) => Poll::Ready(Ok(event)),
            None => match self.next_slow(Some(cx.waker())) {
                Some(result) => Poll::Ready(result),
                None => Poll::Pending,
            },
        }
    }

    /// The next event if one is ready: `None` if none is yet.
    #[inline]
    pub fn try_recv(&mut self) -> Option<Result<Event<T>, RecvError>> {
        match self.read_ahead() {
            Some(event) => Some(Ok(event)),
            None => self.next_slow(None),
        }
    }

    /// The topics this subscriber reads, in no particular order.
    pub fn topics(&self) -> Vec<String> {
        self.cursors.iter().map(|c| c.source.topic.to_string()).collect()
    }

    /// The common case, kept small enough to inline into the caller, so
    /// the event is built where the caller keeps it: one partition of one
    /// topic, an event read ahead and no lag to report first.
    #[inline]
    fn read_ahead(&mut self) -> Option<Event<T>> {
        if let ([cursor], None) = (&mut self.cursors[..], &self.watch)
            && cursor.skipped == 0
            && let Some(record) = cursor.buf.pop_front()
        {
            return Some(Event::new(cursor.source.clone(), record));
        }
        None
    }

    /// The next event in general (new topics of a pattern, several
    /// cursors, reading from the logs, lags, errors and the end), if one is
    /// ready; else registers `waker`, if given, with every log it waits on.
    #[inline(never)]
    fn next_slow(&mut self, waker: Option<&Waker>) -> Option<Result<Event<T>, RecvError>> {
        let mut more_topics = false;
        if let Some(watch) = &self.watch {
            // Dropped after the lock is released: a waker's drop may call
            // back into the bus.
            let mut _displaced = None;
            let mut state = lock(&watch.state);
            for (name, parts) in state.new.drain(..) {
                // Everything in a topic created after subscribing is new.
                let from = StartAt::Offset(Offset(0));
                self.cursors.extend(Cursor::all(&name, &parts, from));
            }
            more_topics = !state.closed;
            if let (Some(waker), true) = (waker, more_topics) {
                _displaced = crate::util::replace_waker(&mut state.waker, waker);
            }
        }
        // ANCHOR: next
        for cursor in &mut self.cursors {
            if let Err(error) = cursor.fill(waker) {
                return Some(Err(RecvError::Io {
                    topic: cursor.source.topic.clone(),
                    error: Arc::new(error),
                }));
            }
        }
        if let Some(cursor) = self.cursors.iter_mut().find(|c| c.skipped > 0) {
            let skipped = std::mem::take(&mut cursor.skipped);
            return Some(Err(RecvError::Lagged {
                topic: cursor.source.topic.clone(),
                skipped,
            }));
        }
        // The earliest published among the heads.
        let cursor = self
            .cursors
            .iter_mut()
            .filter(|c| !c.buf.is_empty())
            .min_by_key(|c| c.buf[0].seq);
        if let Some(cursor) = cursor {
            let record = cursor.buf.pop_front()?;
            return Some(Ok(Event::new(cursor.source.clone(), record)));
        }
        if !more_topics && self.cursors.iter().all(|c| c.done) {
            return Some(Err(RecvError::Closed));
        }
        None
        // ANCHOR_END: next
    }
}

// Nothing in a subscriber is pinned: it is moved freely between polls.
impl<T: 'static> Unpin for Subscriber<T> {}

impl<T: Clone + Send + 'static> Stream for Subscriber<T> {
    type Item = Result<Event<T>, RecvError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.get_mut().poll_recv(cx) {
            Poll::Ready(Err(RecvError::Closed)) => Poll::Ready(None),
            other => other.map(Some),
        }
    }
}

impl<T: Clone + Send + 'static> Cursor<T> {
    /// A cursor on each partition of `parts`.
    pub(super) fn all<'a>(
        name: &'a str,
        parts: &'a Partitions<T>,
        from: StartAt,
    ) -> impl Iterator<Item = Cursor<T>> + 'a {
        let name: Arc<str> = Arc::from(name);
        (0..).zip(parts.logs.iter()).map(move |(partition, log)| Cursor {
            next: from.offset_in(&**log),
            source: Source::new(name.clone(), partition),
            log: log.clone(),
            reader: ReaderId::new(),
            place: ReadPlace::new(),
            buf: VecDeque::new(),
            skipped: 0,
            done: false,
        })
    }

    // ANCHOR: fill
    /// Reads a batch if none is buffered; registers `waker` if nothing is
    /// there.
    fn fill(&mut self, waker: Option<&Waker>) -> io::Result<()> {
        if !self.buf.is_empty() || self.done {
            return Ok(());
        }
        if let Poll::Ready(read) = self.log.poll_read(
            self.reader,
            &mut self.place,
            self.next,
            BATCH,
            &mut self.buf,
            waker,
        ) {
            let read = read?;
            self.next = read.next;
            self.skipped += read.skipped;
            self.done = read.closed && self.buf.is_empty();
        }
        Ok(())
    }
    // ANCHOR_END: fill
}

impl<T: 'static> Drop for Cursor<T> {
    /// A reader that goes takes its waker out of the log.
    fn drop(&mut self) {
        self.log.forget(self.reader);
    }
}

impl<T: 'static> fmt::Debug for Subscriber<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cursors: Vec<_> = self
            .cursors
            .iter()
            .map(|c| (&*c.source.topic, c.next.0))
            .collect();
        f.debug_struct("Subscriber")
            .field("pattern", &self.watch.as_ref().map(|w| w.pattern.as_str()))
            .field("cursors", &cursors)
            .finish()
    }
}
