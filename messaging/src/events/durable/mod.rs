//! The durable backend of the event bus, [`Durable`]: topics on logs on
//! disk ([`weft_disk`]), surviving `kill -9` and, with a syncing policy,
//! power loss.
//!
//! # Layout
//!
//! One disk log per topic *partition*, so a partition's offsets are its
//! log's and a read by offset needs no translation; and one *meta* log for
//! what is not an event:
//!
//! ```text
//! dir/meta/                     topic records (name, partitions) and group commits
//! dir/topics/<hex of name>/<p>/ partition p's append records
//! ```
//!
//! ([`record`] lists the records.) Each log has its own lock file, so a
//! second process opening the directory is refused by the meta log's.
//!
//! # Protocol
//!
//! - **open a topic**: a topic record is appended to the meta log and
//!   synced before the partitions' logs are opened and handed out, so a
//!   partition holding events always has its topic on record.
//! - **append** ([`log`]): the record is written (the payload encoded by
//!   the codec), then the append waits for its sync with its waker in the
//!   disk log's list, no thread blocked; concurrent publishers share one
//!   `fdatasync` under group commit. Readers see it once synced.
//! - **commit**: a commit record is appended to the meta log and synced;
//!   the in-memory map of committed offsets then takes it, unless a commit
//!   for the same group and partition appended after it got there first.
//! - **recovery on open** ([`open`](self::open)): the meta log is replayed
//!   (topics, and each group's last commit per partition), then each
//!   partition's log is scanned once to build its position index.
//!
//! Locks: `topics`, then the meta log's; `commits` is taken alone.

mod log;
mod open;
mod record;

pub use self::open::{OpenDurableError, Restored};

use self::log::DiskLog;
use super::Offset;
use super::backend::{Backend, Retention, TopicLog};
use crate::StoreError;
use crate::codec::Codec;
use crate::loom::{Mutex, lock};
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::task::{Context, Poll};
use weft_disk::fs::FileSystem;
use weft_disk::{Log, LogError, Options};

/// The event bus's storage on disk, surviving `kill -9` and power loss.
/// Made by [`EventBus::durable`](super::EventBus::durable) or
/// [`Builder::open_durable`](super::Builder::open_durable). Cheap to
/// clone; clones share the store.
///
/// What survives what:
///
/// - A publish that returned `Ok` survives a power cut: its record was
///   synced first (under group commit, concurrent publishers share one
///   `fdatasync`). Under `SyncPolicy::Never`, only `kill -9`.
/// - A group's commit (an ack moving the committed offset, or
///   [`Member::commit`](super::Member)) is synced before it counts: a
///   restart resumes the group from its last commit.
/// - Topics and their partition counts are kept; on open, each topic keeps
///   to the retention the first bus to open it asks for.
///
/// Retention is exact, as in memory: a reader behind it gets
/// [`RecvError::Lagged`](super::RecvError::Lagged) with the count it
/// missed. The files are deleted a whole segment at a time, once every
/// event in the segment is past retention.
///
/// Where it differs from [`Memory`](super::Memory): a publish completes
/// only once its record is synced, and readers see an event only then, so
/// under group commit `try_publish` finds the sync under way and reports
/// [`StoreError::Unknown`](crate::StoreError) of kind `WouldBlock` (the
/// event was written, and will be on disk unless that sync fails): use
/// `publish`, or `SyncPolicy::Always`. Opening a topic and committing wait
/// for their sync on the calling thread (the bus polls those once).
///
/// # Examples
///
/// ```
/// use weft::disk::fs::SimFs;
/// use weft::events::{DiskOptions, EventBus, StartAt, Utf8};
///
/// weft::block_on(async {
///     let disk = DiskOptions::new().file_system(SimFs::new());
///     let restored = EventBus::builder().open_durable_with("/bus", Utf8, &disk).unwrap();
///     let bus = restored.bus;
///     bus.publish("audit", "logged in".to_string()).await.unwrap();
///     let mut replay = bus.subscribe("audit", StartAt::Start).unwrap();
///     assert_eq!(*replay.recv().await.unwrap(), "logged in");
///     assert_eq!(restored.backend.topics_on_disk(), 1);
/// });
/// ```
pub struct Durable<T> {
    shared: Arc<Shared<T>>,
}

struct Shared<T> {
    dir: PathBuf,
    fs: Option<Arc<dyn FileSystem>>,
    options: Options,
    meta: Log,
    codec: Arc<dyn Codec<T>>,
    /// Each topic's partitions.
    topics: Mutex<HashMap<String, Vec<Arc<DiskLog<T>>>>>,
    /// By (group, topic, partition): the offset, and the meta log offset
    /// of the commit record that set it.
    commits: Mutex<HashMap<CommitKey, (Offset, u64)>>,
}

/// A group commit's key: (group, topic, partition).
type CommitKey = (String, String, u32);

impl<T> Clone for Durable<T> {
    fn clone(&self) -> Self {
        Durable {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> fmt::Debug for Durable<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Durable")
            .field("dir", &self.shared.dir)
            .field("topics", &lock(&self.shared.topics).len())
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> Durable<T> {
    /// How many topics the store holds.
    ///
    /// # Examples
    ///
    /// See [`Durable`].
    pub fn topics_on_disk(&self) -> usize {
        lock(&self.shared.topics).len()
    }

    /// Opens (or creates) the log of `topic`'s partition `partition`.
    fn open_partition(&self, topic: &str, partition: u32) -> Result<weft_disk::Opened, weft_disk::OpenError> {
        let dir = partition_dir(&self.shared.dir, topic, partition);
        let options = self.shared.options.clone();
        match &self.shared.fs {
            Some(fs) => options.open_in(Arc::clone(fs), dir),
            None => options.open(dir),
        }
    }

    /// Makes `topic` with `partitions` partitions: on record first, then
    /// its logs.
    fn create(&self, topic: &str, partitions: u32, retention: Retention) -> io::Result<Vec<Arc<DiskLog<T>>>> {
        let meta = &self.shared.meta;
        let at = meta
            .append(&record::topic(topic, partitions))
            .map_err(io::Error::other)?;
        meta.blocking_sync(at).map_err(io::Error::other)?;
        (0..partitions)
            .map(|partition| {
                let log = self
                    .open_partition(topic, partition)
                    .map_err(io::Error::other)?
                    .log;
                let codec = Arc::clone(&self.shared.codec);
                Ok(Arc::new(DiskLog::new(
                    log,
                    partition,
                    codec,
                    Vec::new(),
                    Some(retention),
                )))
            })
            .collect()
    }
}

/// Where `topic`'s partition `partition` keeps its log: the name in hex,
/// so any topic name is a safe file name.
fn partition_dir(dir: &Path, topic: &str, partition: u32) -> PathBuf {
    let hex: String = topic.bytes().map(|b| format!("{b:02x}")).collect();
    dir.join("topics").join(hex).join(partition.to_string())
}

impl<T: Send + 'static> Backend<T> for Durable<T> {
    fn poll_open(
        &self,
        _: &mut Context<'_>,
        topic: &str,
        partitions: u32,
        retention: Retention,
    ) -> Poll<io::Result<Vec<Arc<dyn TopicLog<T>>>>> {
        let mut topics = lock(&self.shared.topics);
        let logs = match topics.get(topic) {
            Some(logs) => {
                logs.iter().for_each(|log| log.reopen(retention));
                logs
            }
            None => match self.create(topic, partitions.max(1), retention) {
                Ok(logs) => topics.entry(topic.to_owned()).or_insert(logs),
                Err(error) => return Poll::Ready(Err(error)),
            },
        };
        let logs = logs
            .iter()
            .map(|log| Arc::clone(log) as Arc<dyn TopicLog<T>>)
            .collect();
        Poll::Ready(Ok(logs))
    }

    fn topics(&self) -> Vec<String> {
        lock(&self.shared.topics).keys().cloned().collect()
    }

    fn poll_commit(
        &self,
        _: &mut Context<'_>,
        group: &str,
        topic: &str,
        partition: u32,
        offset: Offset,
    ) -> Poll<Result<(), StoreError<Offset>>> {
        let meta = &self.shared.meta;
        let at = match meta.append(&record::commit(group, topic, partition, offset.get())) {
            Ok(at) => at,
            Err(error @ (LogError::Io(_) | LogError::TooLong { .. })) => {
                let error = io::Error::other(error);
                return Poll::Ready(Err(StoreError::NotStored { value: offset, error }));
            }
            Err(error) => {
                let error = io::Error::other(error);
                return Poll::Ready(Err(StoreError::Unknown { error }));
            }
        };
        if let Err(error) = meta.blocking_sync(at) {
            let error = io::Error::other(error);
            return Poll::Ready(Err(StoreError::Unknown { error }));
        }
        let key = (group.to_owned(), topic.to_owned(), partition);
        let mut commits = lock(&self.shared.commits);
        let slot = commits.entry(key).or_insert((offset, at));
        // The record appended last is the one a replay ends on.
        if slot.1 <= at {
            *slot = (offset, at);
        }
        Poll::Ready(Ok(()))
    }

    fn poll_committed(
        &self,
        _: &mut Context<'_>,
        group: &str,
        topic: &str,
        partition: u32,
    ) -> Poll<io::Result<Option<Offset>>> {
        let key = (group.to_owned(), topic.to_owned(), partition);
        Poll::Ready(Ok(lock(&self.shared.commits)
            .get(&key)
            .map(|(offset, _)| *offset)))
    }
}
