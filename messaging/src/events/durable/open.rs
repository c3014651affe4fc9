//! Opening a durable bus: the entry points on [`EventBus`] and
//! [`Builder`], what the open reports ([`Restored`]) and its errors.

use super::log::{DiskLog, Indexed};
use super::{Durable, Shared, record};
use crate::codec::Codec;
use crate::events::{Builder, EventBus, Offset};
use crate::loom::Mutex;
use crate::queue::DiskOptions;
use std::collections::{BTreeMap, HashMap};
use std::error::Error;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use weft_disk::{Log, LogError, OpenError, Recovery};

/// A durable bus, opened, and what its opening found.
#[derive(Debug)]
#[non_exhaustive]
pub struct Restored<T: 'static> {
    /// The bus.
    pub bus: EventBus<T>,
    /// Its backend.
    pub backend: Durable<T>,
    /// What each log's recovery found and repaired, the meta log's first,
    /// then each partition's: a torn tail cut off names its segment file
    /// (say so in your log: its `Display` is one line).
    pub recovery: Vec<Recovery>,
    /// Topics found on disk.
    pub topics: usize,
    /// Events found on disk, in all partitions (before retention).
    pub events: u64,
}

/// Opening a durable bus failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum OpenDurableError {
    /// A log could not be opened (locked by another process, corrupt in
    /// the middle, a segment missing, or the file system failed).
    Open(OpenError),
    /// Reading a log back failed.
    Read(LogError),
    /// A record is not one of the bus's.
    Record {
        /// The log's directory.
        log: PathBuf,
        /// The record's offset in it.
        offset: u64,
        /// What is wrong with it.
        what: String,
    },
}

// Alike to the durable queue's `OpenDurableError` (a `duplicates` pair,
// left): two public types, as a bus's record error names its log.
impl fmt::Display for OpenDurableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenDurableError::Open(error) => write!(f, "could not open the bus's log: {error}"),
            OpenDurableError::Read(error) => write!(f, "could not read the bus's log: {error}"),
            OpenDurableError::Record { log, offset, what } => {
                write!(
                    f,
                    "bad event record at offset {offset} of {}: {what}",
                    log.display()
                )
            }
        }
    }
}

impl Error for OpenDurableError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            OpenDurableError::Open(error) => Some(error),
            OpenDurableError::Read(error) => Some(error),
            OpenDurableError::Record { .. } => None,
        }
    }
}

impl<T: Clone + Send + 'static> EventBus<T> {
    /// Opens (or creates) a durable bus in `dir` with the default settings
    /// ([`EventBus::builder`], [`DiskOptions::new`]), its events turned
    /// into bytes by `codec`. Topics, their events and the groups'
    /// committed offsets left by an earlier run are back.
    ///
    /// # Errors
    ///
    /// As [`Builder::open_durable_with`].
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, StartAt, Utf8};
    ///
    /// let dir = std::env::temp_dir().join(format!("weft-events-durable-doc-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// weft::block_on(async {
    ///     let bus = EventBus::durable(&dir, Utf8).unwrap().bus;
    ///     bus.publish("audit", "logged in".to_string()).await.unwrap(); // on disk now
    /// });
    /// weft::block_on(async {
    ///     // A restart (or a crash): the event is still there.
    ///     let restored = EventBus::durable(&dir, Utf8).unwrap();
    ///     assert_eq!(restored.events, 1);
    ///     let mut replay = restored.bus.subscribe("audit", StartAt::Start).unwrap();
    ///     assert_eq!(*replay.recv().await.unwrap(), "logged in");
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn durable(dir: impl AsRef<Path>, codec: impl Codec<T>) -> Result<Restored<T>, OpenDurableError> {
        EventBus::builder().open_durable(dir, codec)
    }
}

impl Builder {
    /// Opens (or creates) a durable bus in `dir` with these settings and
    /// the default [`DiskOptions`]; see [`EventBus::durable`].
    ///
    /// # Errors
    ///
    /// As [`open_durable_with`](Builder::open_durable_with).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::events::{EventBus, Raw};
    ///
    /// let dir = std::env::temp_dir().join(format!("weft-events-durable-builder-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// let bus = EventBus::builder().retention(100).open_durable(&dir, Raw).unwrap().bus;
    /// weft::block_on(bus.publish("blobs", b"bytes".to_vec())).unwrap();
    /// # drop(bus);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn open_durable<T: Clone + Send + 'static>(
        &self,
        dir: impl AsRef<Path>,
        codec: impl Codec<T>,
    ) -> Result<Restored<T>, OpenDurableError> {
        self.open_durable_with(dir, codec, &DiskOptions::new())
    }

    /// Opens (or creates) a durable bus in `dir` with these settings and
    /// `disk`'s (its sync policy, segment size, record size limit and file
    /// system; its `max_bytes` is the queue's: the bus's disk use is
    /// bounded by retention): takes the directory's lock, recovers every
    /// log (cutting off a torn tail, reported in [`Restored::recovery`]),
    /// replays the topics and the groups' commits, and indexes every
    /// partition.
    ///
    /// # Errors
    ///
    /// [`OpenDurableError::Open`] if a log cannot be opened (another
    /// process holds it: `OpenError::Locked`; corruption that is not a torn
    /// tail: `OpenError::Corrupt`); [`OpenDurableError::Read`] if reading
    /// one back fails; [`OpenDurableError::Record`] for a record that is
    /// not the bus's.
    ///
    /// # Examples
    ///
    /// See [`Durable`].
    pub fn open_durable_with<T: Clone + Send + 'static>(
        &self,
        dir: impl AsRef<Path>,
        codec: impl Codec<T>,
        disk: &DiskOptions,
    ) -> Result<Restored<T>, OpenDurableError> {
        let dir = dir.as_ref();
        let options = disk.log_options().clone();
        let fs = disk.fs().cloned();
        let meta_dir = dir.join("meta");
        let opened = match &fs {
            Some(fs) => options.clone().open_in(Arc::clone(fs), &meta_dir),
            None => options.clone().open(&meta_dir),
        }
        .map_err(OpenDurableError::Open)?;
        let mut recovery = vec![opened.recovery];
        let meta = opened.log;
        let (topics, commits) = replay_meta(&meta, &meta_dir)?;
        let backend = Durable {
            shared: Arc::new(Shared {
                dir: dir.to_owned(),
                fs,
                options,
                meta,
                codec: Arc::new(codec),
                topics: Mutex::new(HashMap::new()),
                commits: Mutex::new(commits),
            }),
        };
        let mut events = 0;
        let mut logs = HashMap::new();
        for (topic, partitions) in &topics {
            let mut partition_logs = Vec::new();
            for partition in 0..*partitions {
                let opened = backend
                    .open_partition(topic, partition)
                    .map_err(OpenDurableError::Open)?;
                if let Some(torn) = &opened.recovery.torn {
                    crate::diag::torn_tail_cut(crate::diag::Store::Events, torn);
                }
                recovery.push(opened.recovery);
                let path = super::partition_dir(dir, topic, partition);
                let found = index(&opened.log, partition, &path)?;
                events += found.len() as u64;
                let codec = Arc::clone(&backend.shared.codec);
                partition_logs.push(Arc::new(DiskLog::new(opened.log, partition, codec, found, None)));
            }
            logs.insert(topic.clone(), partition_logs);
        }
        *crate::loom::lock(&backend.shared.topics) = logs;
        Ok(Restored {
            bus: self.build_with(backend.clone()),
            backend,
            recovery,
            topics: topics.len(),
            events,
        })
    }
}

type Commits = HashMap<(String, String, u32), (Offset, u64)>;

/// The topics (and partition counts) and the last commit of each group
/// and partition, from the meta log.
fn replay_meta(meta: &Log, path: &Path) -> Result<(BTreeMap<String, u32>, Commits), OpenDurableError> {
    let mut topics = BTreeMap::new();
    let mut commits = HashMap::new();
    for (location, payload) in meta
        .scan(meta.start(), usize::MAX)
        .map_err(OpenDurableError::Read)?
    {
        let at = location.offset;
        match record::meta(&payload) {
            Ok(record::Meta::Topic { name, partitions }) => {
                // A topic keeps the count it was made with.
                topics.entry(name.to_owned()).or_insert(partitions.max(1));
            }
            Ok(record::Meta::Commit {
                group,
                topic,
                partition,
                offset,
            }) => {
                let key = (group.to_owned(), topic.to_owned(), partition);
                commits.insert(key, (Offset::new(offset), at));
            }
            Err(what) => {
                return Err(OpenDurableError::Record {
                    log: path.to_owned(),
                    offset: at,
                    what: what.to_owned(),
                });
            }
        }
    }
    Ok((topics, commits))
}

/// Every record of a partition's log, as the index keeps it.
fn index(log: &Log, partition: u32, path: &Path) -> Result<Vec<Indexed>, OpenDurableError> {
    let found = log
        .scan(log.start(), usize::MAX)
        .map_err(OpenDurableError::Read)?;
    found
        .into_iter()
        .map(|(location, payload)| {
            let bad = |what: &str| OpenDurableError::Record {
                log: path.to_owned(),
                offset: location.offset,
                what: what.to_owned(),
            };
            let head = record::append_head(&payload).map_err(bad)?;
            if head.partition != partition {
                return Err(bad("an append record of another partition"));
            }
            Ok(Indexed {
                location,
                timestamp: head.timestamp,
                size: head.size,
            })
        })
        .collect()
}
