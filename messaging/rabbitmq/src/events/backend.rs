//! `Streams`: weft's event-bus [`Backend`] on RabbitMQ streams: opening
//! topics (one stream per partition), and consumer groups' commits.
//!
//! # Protocol
//!
//! Each operation (opening a topic, storing a commit, reading one back)
//! is a [`Job`]: a task of the bus's runtime, so it goes on when the bus
//! polls it without a waker anyone wakes (`EventBus::topic`, an ack's
//! commit). The job waits in `State` under its key (the topic; the group,
//! topic and partition) until a poll takes its outcome.
//!
//! `State` is one mutex, never held across an await; a job's own slot
//! is taken inside it, never the other way round.
//!
//! # Finding where a stream ends
//!
//! AMQP 0-9-1 cannot ask a stream for its first or last offset. A log
//! that opens attaches a consumer at `next`, appends a *marker* (a message
//! that is no event) and waits for it to come back: its offset, plus one,
//! is where the stream ended. A second consumer attached at `first` gets
//! the oldest retained offset from its first delivery (the marker, if
//! nothing older is retained). Reading a group's commit does the same on
//! the group's commit stream: every commit before the marker is read, and
//! the last one is the answer.
//!
//! # Connection loss
//!
//! Every channel comes from [`crate::channels`], the queue's machinery:
//! the bus's [`Publisher`] declares, on each new connection generation,
//! the streams this bus declared (with their arguments) before any publish
//! or attach goes out on it. Opening a topic and reading a commit start
//! over when the connection dies under them; a commit is sent again.

use super::Settings;
use super::amqp::{self, append_marker, durable, is_not_found};
use super::commits::{commit, commit_stream, committed};
use super::job::{Job, lock};
use super::log::{Parts, StreamLog};
use super::record::{self, Kind};
use crate::channels::{Live, MAX_ROUNDS, Publisher, open, recovering};
use crate::recovery::BoxFut;
use crate::{Connection, Error};
use lapin::Channel;
use lapin::options::QueueDeclareOptions;
use lapin::types::{AMQPValue, FieldTable, ShortString};
use std::collections::{BTreeSet, HashMap};
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};
use weft_messaging::StoreError;
use weft_messaging::events::{Backend, Codec, Offset, Retention, TopicLog};
use weft_primitives::spawner::Spawner;

/// The most partitions a topic found on the broker is taken to have.
const MAX_PARTITIONS: u32 = 4096;

type Key = (String, String, u32);
type Declared = Arc<Mutex<Vec<(ShortString, FieldTable)>>>;
type Logs<T> = Vec<Arc<StreamLog<T>>>;
/// A commit under way, and the offset it stores.
type Committing = (Offset, Job<Result<(), StoreError<Offset>>>);

/// The backend; see the [module docs](self).
pub(crate) struct Streams<T> {
    shared: Arc<Shared<T>>,
}

struct Shared<T> {
    codec: Arc<dyn Codec<T>>,
    spawner: Spawner,
    /// In confirm mode: every append, marker and commit goes out on it.
    publisher: Arc<Publisher>,
    /// The streams this bus declared, with their arguments: declared again
    /// on each new connection.
    declared: Declared,
    settings: Settings,
    state: Mutex<State<T>>,
}

struct State<T> {
    topics: HashMap<String, Logs<T>>,
    opening: HashMap<String, Job<io::Result<Logs<T>>>>,
    commits: HashMap<Key, Committing>,
    reads: HashMap<Key, Job<io::Result<Option<Offset>>>>,
}

/// A tag no other log or reader uses, here or in another process.
pub(crate) fn instance() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{}-{nanos}-{n}", std::process::id())
}

impl<T: Clone + Send + 'static> Streams<T> {
    /// A backend on `conn`, its publishing channel open (so that a
    /// connection that cannot publish fails here).
    pub(crate) async fn new(
        conn: Connection,
        codec: Arc<dyn Codec<T>>,
        spawner: Spawner,
        settings: Settings,
    ) -> Result<Streams<T>, Error> {
        let declared = Declared::default();
        let publisher = Arc::new(Publisher::new(conn, redeclare(declared.clone())));
        publisher.live().await?;
        Ok(Streams {
            shared: Arc::new(Shared {
                codec,
                spawner,
                publisher,
                declared,
                settings,
                state: Mutex::new(State {
                    topics: HashMap::new(),
                    opening: HashMap::new(),
                    commits: HashMap::new(),
                    reads: HashMap::new(),
                }),
            }),
        })
    }
}

/// Declares the streams in `declared` on each new publishing channel.
fn redeclare(declared: Declared) -> crate::channels::Declare {
    Box::new(move |channel: Channel| {
        let streams = lock(&declared).clone();
        let declaring = async move {
            for (name, arguments) in streams {
                channel.queue_declare(name, durable(), arguments).await?;
            }
            Ok(())
        };
        Box::pin(declaring) as BoxFut<_>
    })
}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        // The logs close their own channels as they drop.
        let Some(channel) = self.publisher.channel_now() else {
            return;
        };
        self.spawner.spawn(async move {
            let _ = channel.close(200, "the bus is dropped".into()).await;
        });
    }
}

fn as_dyn<T: Clone + Send + 'static>(logs: &Logs<T>) -> Vec<Arc<dyn TopicLog<T>>> {
    logs.iter()
        .map(|log| log.clone() as Arc<dyn TopicLog<T>>)
        .collect()
}

impl<T: Clone + Send + 'static> Backend<T> for Streams<T> {
    fn poll_open(
        &self,
        cx: &mut Context<'_>,
        topic: &str,
        partitions: u32,
        retention: Retention,
    ) -> Poll<io::Result<Vec<Arc<dyn TopicLog<T>>>>> {
        let mut state = lock(&self.shared.state);
        if let Some(logs) = state.topics.get(topic) {
            logs.iter().for_each(|log| log.reopen());
            return Poll::Ready(Ok(as_dyn(logs)));
        }
        let shared = &self.shared;
        let job = state.opening.entry(topic.to_owned()).or_insert_with(|| {
            let opening = open_topic(
                Bus {
                    codec: shared.codec.clone(),
                    spawner: shared.spawner.clone(),
                    publisher: shared.publisher.clone(),
                    declared: shared.declared.clone(),
                    settings: shared.settings.clone(),
                },
                topic.to_owned(),
                partitions.max(1),
                retention,
            );
            Job::spawn(&shared.spawner, opening)
        });
        let Poll::Ready(opened) = job.poll(Some(cx.waker())) else {
            return Poll::Pending;
        };
        state.opening.remove(topic);
        let logs = opened?;
        let answer = as_dyn(&logs);
        state.topics.insert(topic.to_owned(), logs);
        Poll::Ready(Ok(answer))
    }

    fn topics(&self) -> Vec<String> {
        lock(&self.shared.state).topics.keys().cloned().collect()
    }

    fn poll_commit(
        &self,
        cx: &mut Context<'_>,
        group: &str,
        topic: &str,
        partition: u32,
        offset: Offset,
    ) -> Poll<Result<(), StoreError<Offset>>> {
        let key = (group.to_owned(), topic.to_owned(), partition);
        let mut state = lock(&self.shared.state);
        if let Some((pending, job)) = state.commits.get(&key) {
            let pending = *pending;
            let Poll::Ready(stored) = job.poll(Some(cx.waker())) else {
                return Poll::Pending;
            };
            state.commits.remove(&key);
            if pending == offset {
                return Poll::Ready(stored);
            }
            // A later offset was asked meanwhile: store that one too.
        }
        let shared = &self.shared;
        let stream = commit_stream(group, topic, partition);
        let storing = commit(shared.publisher.clone(), stream, offset);
        let job = Job::spawn(&shared.spawner, storing);
        let polled = job.poll(Some(cx.waker()));
        if polled.is_pending() {
            state.commits.insert(key, (offset, job));
        }
        polled
    }

    fn poll_committed(
        &self,
        cx: &mut Context<'_>,
        group: &str,
        topic: &str,
        partition: u32,
    ) -> Poll<io::Result<Option<Offset>>> {
        let key = (group.to_owned(), topic.to_owned(), partition);
        let mut state = lock(&self.shared.state);
        let shared = &self.shared;
        let job = state.reads.entry(key.clone()).or_insert_with(|| {
            let reading = committed(shared.publisher.clone(), commit_stream(group, topic, partition));
            Job::spawn(&shared.spawner, reading)
        });
        let polled = job.poll(Some(cx.waker()));
        if polled.is_ready() {
            state.reads.remove(&key);
        }
        polled
    }
}

/// The arguments of a new partition's stream.
fn stream_arguments(retention: Retention, settings: &Settings) -> FieldTable {
    let mut arguments = FieldTable::default();
    arguments.insert("x-queue-type".into(), AMQPValue::LongString("stream".into()));
    if let Some(age) = retention.max_age {
        let secs = age.as_secs().max(1);
        arguments.insert(
            "x-max-age".into(),
            AMQPValue::LongString(format!("{secs}s").into()),
        );
    }
    if let Some(bytes) = retention.max_bytes {
        let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
        arguments.insert("x-max-length-bytes".into(), AMQPValue::LongLongInt(bytes));
    }
    if let Some(bytes) = settings.segment_bytes {
        let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
        arguments.insert(
            "x-stream-max-segment-size-bytes".into(),
            AMQPValue::LongLongInt(bytes),
        );
    }
    arguments
}

/// How many partitions of `topic` the broker has (0: a new topic).
async fn count_partitions(conn: &Connection, topic: &str) -> io::Result<u32> {
    let (Live { channel, .. }, ()) = open(conn, |_| async { Ok(()) }).await.map_err(io::Error::other)?;
    let passive = QueueDeclareOptions {
        passive: true,
        ..QueueDeclareOptions::default()
    };
    for p in 0..MAX_PARTITIONS {
        let name = record::short(&format!("{topic}.{p}"), "stream name")?;
        match channel.queue_declare(name, passive, FieldTable::default()).await {
            Ok(_) => {}
            // The refusal closed the channel.
            Err(e) if is_not_found(&e) => return Ok(p),
            Err(e) => return Err(amqp::io_error(e)),
        }
    }
    let _ = channel.close(200, "counted".into()).await;
    Ok(MAX_PARTITIONS)
}

/// What opening a topic needs of the bus.
struct Bus<T> {
    codec: Arc<dyn Codec<T>>,
    spawner: Spawner,
    publisher: Arc<Publisher>,
    declared: Declared,
    settings: Settings,
}

/// Opens `topic`: finds its streams, or declares `partitions` of them,
/// and opens a log on each; starts over when the connection dies under
/// it (a marker more in the stream is harmless).
async fn open_topic<T: Clone + Send + 'static>(
    bus: Bus<T>,
    topic: String,
    partitions: u32,
    retention: Retention,
) -> io::Result<Logs<T>> {
    let mut rounds = 0;
    loop {
        match open_topic_once(&bus, &topic, partitions, retention).await {
            Err(_) if recovering(bus.publisher.connection()) && rounds < MAX_ROUNDS => rounds += 1,
            opened => return opened,
        }
    }
}

async fn open_topic_once<T: Clone + Send + 'static>(
    bus: &Bus<T>,
    topic: &str,
    partitions: u32,
    retention: Retention,
) -> io::Result<Logs<T>> {
    let conn = bus.publisher.connection();
    let mut count = count_partitions(conn, topic).await?;
    if count == 0 {
        let arguments = stream_arguments(retention, &bus.settings);
        let mut names = Vec::new();
        for p in 0..partitions {
            names.push(record::short(&format!("{topic}.{p}"), "stream name")?);
        }
        let declaring = open(conn, |channel: Channel| {
            let (names, arguments) = (names.clone(), arguments.clone());
            async move {
                for name in names {
                    channel.queue_declare(name, durable(), arguments.clone()).await?;
                }
                let _ = channel.close(200, "declared".into()).await;
                Ok(())
            }
        });
        declaring.await.map_err(io::Error::other)?;
        let mut declared = lock(&bus.declared);
        declared.extend(names.into_iter().map(|name| (name, arguments.clone())));
        drop(declared);
        count = partitions;
    }
    let mut logs = Vec::with_capacity(count as usize);
    for p in 0..count {
        let stream = record::short(&format!("{topic}.{p}"), "stream name")?;
        let instance = instance();
        let prefetch = bus.settings.prefetch;
        let (tail, end, holes) = find_end(&bus.publisher, &stream, &instance, prefetch).await?;
        let start = find_start(&bus.publisher, &stream).await?;
        logs.push(Arc::new(StreamLog::new(Parts {
            stream,
            codec: bus.codec.clone(),
            spawner: bus.spawner.clone(),
            publisher: bus.publisher.clone(),
            prefetch,
            instance,
            start,
            end,
            holes,
            tail,
        })));
    }
    Ok(logs)
}

/// Attaches the tail at `next` and appends a marker: the marker's offset
/// plus one is where the stream ends. Returns the tail, the end and the
/// holes (offsets that hold no event) seen on the way.
async fn find_end(
    publisher: &Arc<Publisher>,
    stream: &ShortString,
    instance: &str,
    prefetch: u16,
) -> io::Result<((Live, lapin::Consumer), u64, BTreeSet<u64>)> {
    let next = AMQPValue::LongString("next".into());
    let (live, mut consumer) = amqp::attach(publisher.clone(), stream.clone(), prefetch, next)
        .await
        .map_err(io::Error::other)?;
    let marker = record::marker_properties(instance);
    append_marker(publisher, stream, marker).await?;
    let mut holes = BTreeSet::new();
    let mut last: Option<u64> = None;
    loop {
        let delivery = amqp::next_delivery(&live.channel, &mut consumer)
            .await
            .ok_or_else(|| io::Error::other("the broker cancelled the tail's consumer"))?
            .map_err(amqp::io_error)?;
        let Some(offset) = record::offset(&delivery.properties) else {
            continue;
        };
        if let Some(last) = last {
            holes.extend(last + 1..offset);
        }
        last = Some(offset);
        if let Kind::Marker { tag } = record::kind(&delivery.properties) {
            holes.insert(offset);
            if tag == instance {
                return Ok(((live, consumer), offset + 1, holes));
            }
        }
    }
}

/// The oldest offset `stream` retains (it holds at least a marker).
async fn find_start(publisher: &Arc<Publisher>, stream: &ShortString) -> io::Result<u64> {
    let first = AMQPValue::LongString("first".into());
    let (Live { channel, .. }, mut consumer) = amqp::attach(publisher.clone(), stream.clone(), 1, first)
        .await
        .map_err(io::Error::other)?;
    let start = loop {
        let delivery = amqp::next_delivery(&channel, &mut consumer)
            .await
            .ok_or_else(|| io::Error::other("the broker cancelled the probe's consumer"))?
            .map_err(amqp::io_error)?;
        if let Some(offset) = record::offset(&delivery.properties) {
            break offset;
        }
    };
    let _ = channel.close(200, "found the start".into()).await;
    Ok(start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn retention_maps_onto_the_stream_arguments() {
        let retention = Retention::from(10)
            .max_age(Duration::from_millis(1500))
            .max_bytes(4096);
        let settings = Settings {
            prefetch: 8,
            segment_bytes: Some(1024),
        };
        let arguments = stream_arguments(retention, &settings);
        let get = |name: &str| arguments.inner().get(name).cloned();
        assert_eq!(get("x-queue-type"), Some(AMQPValue::LongString("stream".into())));
        assert_eq!(get("x-max-age"), Some(AMQPValue::LongString("1s".into())));
        assert_eq!(get("x-max-length-bytes"), Some(AMQPValue::LongLongInt(4096)));
        assert_eq!(
            get("x-stream-max-segment-size-bytes"),
            Some(AMQPValue::LongLongInt(1024))
        );
        let plain = stream_arguments(Retention::from(10), &Settings::default());
        assert_eq!(plain.inner().len(), 1, "a count limit has no stream argument");
    }

    #[test]
    fn instances_are_unique() {
        assert_ne!(instance(), instance());
    }
}
