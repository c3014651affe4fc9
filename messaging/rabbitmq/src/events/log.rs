//! `StreamLog`: one partition of a topic, a RabbitMQ stream, as weft's
//! [`TopicLog`].
//!
//! # Protocol
//!
//! AMQP 0-9-1 tells a publisher that the broker stored its message (the
//! confirm), not where: a stream offset comes only with a delivery. So
//! each log keeps a *tail*: a consumer attached where the stream ended
//! when the log opened, which sees every message appended after. An
//! append carries a tag (`x-weft-append`: the log's instance and the
//! append's note); it is done when both its confirm and its tagged
//! delivery came back, the second giving its offset. The tail also keeps
//! [`end`](TopicLog::end) (one past the newest offset it saw) and the
//! offsets of markers (messages that are not events).
//!
//! Each reader (a subscriber cursor, a group member) consumes on a
//! channel of its own, attached with `x-stream-offset` where it asked to
//! read; the offsets of its deliveries say what it skipped: a delivery
//! past the offset expected means the broker's retention removed those
//! in between, reported as skipped, less the holes among them. A reader
//! that sees such a gap before the tail has passed it holds the delivery
//! until the tail has (the tail wakes it), so that the holes are known.
//!
//! Connection loss: a reader whose consumer fails (its channel or
//! connection died) attaches again at its position, the offset after the
//! last delivery it took, on the connection that replaces it (through
//! [`crate::channels`], waiting for recovery); the stream replays from
//! there, so the reader neither misses nor repeats an event, and reports
//! no error. Only an attachment that fails (recovery gave up, the stream
//! is gone) or [`MAX_ROUNDS`] consumers in a row failing before a
//! delivery reach the reader as an I/O error. The tail does the same
//! (see `tail`). An append is published through
//! [`publish_confirmed`](crate::channels::publish_confirmed), sent again
//! after a loss until confirmed; the tail gives it the offset of the first
//! copy it sees.
//!
//! Locks: `State` is one mutex, never held while a lapin future is polled
//! or a waker is woken. Each reader's `Reader` has its own mutex, held
//! while its consumer is polled; it may take `State` inside, never the
//! other way round.
//!
//! A time start (`StartAt::Time`) cannot be turned into an offset without
//! a round trip, and [`TopicLog::offset_at`] cannot wait: it answers a
//! *time mark*, an offset at or above [`MARK`] holding the time in
//! milliseconds, and a read from a mark attaches with `x-stream-offset` at
//! that time and resolves the mark at the first event stamped at or after
//! it.

mod read;
mod tail;

use super::amqp::{Unconfirmed, attach, publish};
use super::job::{Job, lock, wake_slots};
use super::record;
use crate::Error;
use crate::channels::{Live, MAX_ROUNDS, Publisher, close_now};
use lapin::Channel;
use lapin::types::{AMQPValue, ShortString};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use weft_messaging::StoreError;
use weft_messaging::events::{
    Append, Codec, Offset, PublishError, Read, ReadPlace, ReaderId, Record, Retention, TopicLog,
};
use weft_primitives::spawner::Spawner;

/// Offsets from here up are time marks; see the [module docs](self).
pub(crate) const MARK: u64 = 1 << 62;

/// The time mark of `time`.
pub(crate) fn mark(time: SystemTime) -> Offset {
    let millis = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(MARK - 1));
    Offset::new(MARK | millis.min(MARK - 1))
}

/// The time a mark holds, if `offset` is one.
fn marked(offset: u64) -> Option<SystemTime> {
    (offset >= MARK).then(|| UNIX_EPOCH + Duration::from_millis(offset & (MARK - 1)))
}

/// What [`super::backend`] learned opening a partition, for [`StreamLog::new`].
pub(crate) struct Parts<T> {
    pub(crate) stream: ShortString,
    pub(crate) codec: Arc<dyn Codec<T>>,
    pub(crate) spawner: Spawner,
    pub(crate) publisher: Arc<Publisher>,
    pub(crate) prefetch: u16,
    pub(crate) instance: String,
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) holes: BTreeSet<u64>,
    pub(crate) tail: (Live, lapin::Consumer),
}

/// One partition's log; see the [module docs](self).
pub(crate) struct StreamLog<T> {
    shared: Arc<Shared<T>>,
}

struct Shared<T> {
    stream: ShortString,
    codec: Arc<dyn Codec<T>>,
    spawner: Spawner,
    publisher: Arc<Publisher>,
    prefetch: u16,
    /// This log's tag, unique to it: its appends' and marker's tags start with it.
    instance: String,
    closed: AtomicBool,
    next_note: AtomicU64,
    state: Mutex<State<T>>,
}

struct State<T> {
    start: u64,
    end: u64,
    /// Offsets that hold no event, as far as the tail has seen.
    holes: BTreeSet<u64>,
    /// Readers holding a delivery at the offset given until the tail has
    /// passed it.
    behind_tail: Vec<(u64, Waker)>,
    appends: HashMap<u64, Pending<T>>,
    readers: HashMap<ReaderId, Arc<Mutex<Reader>>>,
    /// Why the tail stopped, if it did: appends can no longer learn their offsets.
    tail_failed: Option<String>,
    /// The tail's channel of the moment, closed when the log drops.
    tail_channel: Option<Channel>,
}

/// An append taken from its publisher, until both its confirm and its
/// offset are known.
struct Pending<T> {
    /// The event, kept to hand back if the broker refuses it.
    value: Option<T>,
    confirmed: Option<Result<(), Unconfirmed>>,
    offset: Option<u64>,
    waker: Option<Waker>,
}

/// One reader's consumer.
struct Reader {
    setup: Option<Job<Result<(Live, lapin::Consumer), Error>>>,
    live: Option<(Channel, lapin::Consumer)>,
    /// The offset the consumer delivers next, or the time mark it was
    /// attached at, not resolved yet.
    position: u64,
    waker: Option<Waker>,
    /// A delivery past a gap the tail has not passed yet.
    held: Option<lapin::message::Delivery>,
    /// Consumers that failed since the last delivery: each is attached
    /// again where it stopped, [`MAX_ROUNDS`] times at most.
    failures: u32,
}

impl<T: Clone + Send + 'static> StreamLog<T> {
    pub(crate) fn new(parts: Parts<T>) -> StreamLog<T> {
        let (tail_live, tail) = parts.tail;
        let shared = Arc::new(Shared {
            stream: parts.stream,
            codec: parts.codec,
            spawner: parts.spawner,
            publisher: parts.publisher,
            prefetch: parts.prefetch,
            instance: parts.instance,
            closed: AtomicBool::new(false),
            next_note: AtomicU64::new(1),
            state: Mutex::new(State {
                start: parts.start,
                end: parts.end,
                holes: parts.holes,
                behind_tail: Vec::new(),
                appends: HashMap::new(),
                readers: HashMap::new(),
                tail_failed: None,
                tail_channel: Some(tail_live.channel.clone()),
            }),
        });
        shared
            .spawner
            .spawn(tail::follow(Arc::downgrade(&shared), tail_live, tail));
        StreamLog { shared }
    }

    /// Opens the log again after a bus closed it.
    pub(crate) fn reopen(&self) {
        self.shared.closed.store(false, Ordering::Release);
    }

    fn store_error(append: &mut Append<T>, error: io::Error) -> Poll<Result<Offset, PublishError<T>>> {
        match append.take() {
            Some(value) => Poll::Ready(Err(PublishError::Store(StoreError::NotStored { value, error }))),
            None => Poll::Ready(Err(PublishError::Store(StoreError::Unknown { error }))),
        }
    }

    /// The outcome of the append noted `note`, if it has one.
    fn poll_pending(&self, note: u64, cx: &mut Context<'_>) -> Poll<Result<Offset, PublishError<T>>> {
        let mut state = lock(&self.shared.state);
        let failed = state.tail_failed.clone();
        let Some(pending) = state.appends.get_mut(&note) else {
            let error = io::Error::other("the append was given up");
            return Poll::Ready(Err(PublishError::Store(StoreError::Unknown { error })));
        };
        enum Outcome {
            Wait,
            Done(u64),
            Failed,
            Lost(String),
        }
        let outcome = match (&pending.confirmed, pending.offset, failed) {
            (Some(Ok(())), Some(offset), _) => Outcome::Done(offset),
            (Some(Err(_)), _, _) => Outcome::Failed,
            (Some(Ok(())), None, Some(why)) => Outcome::Lost(why),
            _ => Outcome::Wait,
        };
        match outcome {
            Outcome::Wait => {
                let displaced = pending.waker.replace(cx.waker().clone());
                drop(state);
                drop(displaced);
                Poll::Pending
            }
            Outcome::Done(offset) => {
                state.appends.remove(&note);
                Poll::Ready(Ok(Offset::new(offset)))
            }
            Outcome::Lost(why) => {
                state.appends.remove(&note);
                let error = io::Error::other(format!(
                    "stored, but its offset is unknown: the log's tail stopped ({why})"
                ));
                Poll::Ready(Err(PublishError::Store(StoreError::Unknown { error })))
            }
            Outcome::Failed => {
                let pending = state.appends.remove(&note);
                drop(state);
                let Some(Pending {
                    value,
                    confirmed: Some(Err(why)),
                    ..
                }) = pending
                else {
                    let error = io::Error::other("the append was given up");
                    return Poll::Ready(Err(PublishError::Store(StoreError::Unknown { error })));
                };
                Poll::Ready(Err(PublishError::Store(match (why, value) {
                    (Unconfirmed::NotStored(error) | Unconfirmed::Refused(error), Some(value)) => {
                        StoreError::NotStored { value, error }
                    }
                    (
                        Unconfirmed::NotStored(error)
                        | Unconfirmed::Refused(error)
                        | Unconfirmed::Unknown(error),
                        _,
                    ) => StoreError::Unknown { error },
                })))
            }
        }
    }
}

impl<T: Clone + Send + 'static> TopicLog<T> for StreamLog<T> {
    fn poll_append(
        &self,
        cx: &mut Context<'_>,
        append: &mut Append<T>,
    ) -> Poll<Result<Offset, PublishError<T>>> {
        if append.is_taken() {
            return self.poll_pending(append.note(), cx);
        }
        if self.shared.closed.load(Ordering::Acquire) {
            return match append.take() {
                Some(value) => Poll::Ready(Err(PublishError::Closed(value))),
                None => Self::store_error(append, io::Error::other("closed")),
            };
        }
        let note = self.shared.next_note.fetch_add(1, Ordering::Relaxed);
        let tag = format!("{}:{note}", self.shared.instance);
        let mut bytes = Vec::new();
        let Some(payload) = append.payload() else {
            return Self::store_error(append, io::Error::other("the append has no event"));
        };
        if let Err(e) = self.shared.codec.encode(payload, &mut bytes) {
            return Self::store_error(append, io::Error::new(io::ErrorKind::InvalidInput, e));
        }
        let properties =
            match record::event_properties(&tag, append.timestamp(), append.key(), append.properties()) {
                Ok(properties) => properties,
                Err(error) => return Self::store_error(append, error),
            };
        let value = append.take();
        append.set_note(note);
        lock(&self.shared.state).appends.insert(
            note,
            Pending {
                value,
                confirmed: None,
                offset: None,
                waker: Some(cx.waker().clone()),
            },
        );
        let shared = Arc::downgrade(&self.shared);
        let publishing = publish(
            self.shared.publisher.clone(),
            self.shared.stream.clone(),
            bytes,
            properties,
        );
        self.shared.spawner.spawn(async move {
            let confirmed = publishing.await;
            let Some(shared) = shared.upgrade() else { return };
            let waker = lock(&shared.state).appends.get_mut(&note).and_then(|pending| {
                pending.confirmed = Some(confirmed);
                pending.waker.take()
            });
            if let Some(waker) = waker {
                waker.wake();
            }
        });
        Poll::Pending
    }

    fn poll_read(
        &self,
        reader: ReaderId,
        _: &mut ReadPlace,
        from: Offset,
        max: usize,
        out: &mut VecDeque<Record<T>>,
        waker: Option<&Waker>,
    ) -> Poll<io::Result<Read>> {
        let slot = lock(&self.shared.state)
            .readers
            .entry(reader)
            .or_insert_with(|| {
                Arc::new(Mutex::new(Reader {
                    setup: None,
                    live: None,
                    position: from.get(),
                    waker: None,
                    held: None,
                    failures: 0,
                }))
            })
            .clone();
        let mut r = lock(&slot);
        let mut _displaced = None;
        if let Some(waker) = waker {
            _displaced = r.waker.replace(waker.clone());
        }
        let waker = r.waker.clone().unwrap_or_else(|| Waker::noop().clone());
        let closed = || self.shared.closed.load(Ordering::Acquire);
        let at_end = Poll::Ready(Ok(Read {
            next: from,
            skipped: 0,
            closed: true,
        }));
        if r.position != from.get() || (r.live.is_none() && r.setup.is_none()) {
            // A new reader, a seek, or a consumer that failed: attach at `from`.
            if let Some((channel, _)) = r.live.take() {
                self.close_channel(channel);
            }
            r.position = from.get();
            r.held = None;
            r.setup = Some(self.attach(r.position));
        }
        let (mut skipped, mut count) = (0, 0);
        loop {
            if r.live.is_none() {
                let Some(setup) = &r.setup else {
                    return Poll::Pending;
                };
                match setup.poll(Some(&waker)) {
                    Poll::Pending if count > 0 || skipped > 0 => break,
                    Poll::Pending if closed() => return at_end,
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Err(e)) => {
                        r.setup = None;
                        if count > 0 || skipped > 0 {
                            break;
                        }
                        r.position = from.get();
                        return Poll::Ready(Err(io::Error::other(e)));
                    }
                    Poll::Ready(Ok((live, consumer))) => {
                        r.setup = None;
                        r.live = Some((live.channel, consumer));
                    }
                }
            }
            let failure = self.drain(&mut r, &waker, max, out, &mut count, &mut skipped);
            let Some(why) = failure else { break };
            // The consumer failed (its channel or connection died): attach
            // again where it stopped, on the connection that replaces it.
            // A stream replays, so the reader loses nothing and sees
            // nothing twice.
            if let Some((channel, _)) = r.live.take() {
                self.close_channel(channel);
            }
            r.held = None;
            r.failures += 1;
            if r.failures > MAX_ROUNDS {
                r.failures = 0;
                if count > 0 || skipped > 0 {
                    break;
                }
                r.position = from.get();
                return Poll::Ready(Err(why));
            }
            r.setup = Some(self.attach(r.position));
        }
        if count > 0 || skipped > 0 {
            return Poll::Ready(Ok(Read {
                next: Offset::new(r.position),
                skipped,
                closed: false,
            }));
        }
        if closed() {
            return at_end;
        }
        Poll::Pending
    }

    fn forget(&self, reader: ReaderId) {
        let slot = lock(&self.shared.state).readers.remove(&reader);
        if let Some(slot) = slot {
            let live = lock(&slot).live.take();
            if let Some((channel, _)) = live {
                self.close_channel(channel);
            }
        }
    }

    fn start(&self) -> Offset {
        Offset::new(lock(&self.shared.state).start)
    }

    fn end(&self) -> Offset {
        Offset::new(lock(&self.shared.state).end)
    }

    fn offset_at(&self, time: SystemTime) -> Offset {
        mark(time)
    }

    fn set_retention(&self, _retention: Retention) {
        // A stream's retention is an argument fixed when it is declared;
        // AMQP 0-9-1 cannot change it (a policy can): see the module docs.
    }

    fn close(&self) {
        self.shared.closed.store(true, Ordering::Release);
        let readers: Vec<_> = lock(&self.shared.state).readers.values().cloned().collect();
        wake_slots(readers, |reader| reader.waker.take());
    }
}

impl<T: Clone + Send + 'static> StreamLog<T> {
    /// Attaches a consumer at `position` (an offset, or a time mark), on
    /// the current connection.
    fn attach(&self, position: u64) -> Job<Result<(Live, lapin::Consumer), Error>> {
        let at = match marked(position) {
            // Chunk timestamps are the broker's, in whole seconds:
            // attach a little before, and let the stamps decide.
            Some(time) => {
                // Not after now: an event stamped later than it was
                // written is found by its stamp.
                let time = time.min(SystemTime::now());
                let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
                AMQPValue::Timestamp(secs.saturating_sub(1))
            }
            None => AMQPValue::LongLongInt(i64::try_from(position).unwrap_or(i64::MAX)),
        };
        let shared = &self.shared;
        let attaching = attach(
            shared.publisher.clone(),
            shared.stream.clone(),
            shared.prefetch,
            at,
        );
        Job::spawn(&shared.spawner, attaching)
    }
}

impl<T> StreamLog<T> {
    /// Runs `work` on the log's runtime, polled once at once so that its
    /// frame is queued before this returns.
    fn start(&self, work: impl Future<Output = ()> + Send + 'static) {
        let mut work = Box::pin(work);
        if work
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_pending()
        {
            self.shared.spawner.spawn(work);
        }
    }

    /// Closes a reader's channel now, not on a task (see the channels
    /// module's "Closing channels").
    fn close_channel(&self, channel: Channel) {
        close_now(&channel, "the reader is done");
    }
}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        // The tail's consumer ends with its channel, and so does its task.
        let mut state = lock(&self.state);
        let mut channels: Vec<Channel> = state
            .readers
            .values()
            .filter_map(|reader| lock(reader).live.take().map(|(channel, _)| channel))
            .collect();
        channels.extend(state.tail_channel.take());
        drop(state);
        // Now, not on a task: a close still running when the user closes
        // the connection fails it (see the channels module's "Closing
        // channels").
        for channel in channels {
            close_now(&channel, "the log is dropped");
        }
    }
}
