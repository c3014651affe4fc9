//! Opening a durable queue: [`DiskOptions`], the entry points on
//! [`Builder`] and [`Queue`], what the open reports ([`Restored`]) and its
//! errors.

use super::recover;
use super::{Durable, Stamped, record};
use crate::codec::Codec;
use crate::loom::{Mutex, lock};
use crate::queue::memory::Memory;
use crate::queue::{Builder, DeadReason, Queue};
use std::error::Error;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use weft_disk::fs::FileSystem;
use weft_disk::{LogError, OpenError, Options, Recovery, SyncPolicy};

/// How a durable queue keeps its log: the sync policy, the segment size,
/// the record size limit, a bound on disk use, when compaction copies
/// messages forward, and the file system.
///
/// # Examples
///
/// ```
/// use weft::queue::{DiskOptions, Queue, SyncPolicy, Utf8};
/// use weft::disk::fs::SimFs;
///
/// weft::block_on(async {
///     let disk = DiskOptions::new()
///         .sync(SyncPolicy::Always)
///         .segment_bytes(1 << 20)
///         .max_bytes(64 << 20)
///         .file_system(SimFs::new());
///     let queue = Queue::builder().open_durable_with("/jobs", Utf8, &disk).unwrap().queue;
///     queue.producer().publish("resize photo 7".to_string()).await.unwrap();
///     assert_eq!(queue.stats().ready, 1);
/// });
/// ```
#[derive(Debug, Clone)]
pub struct DiskOptions {
    log: Options,
    sync: SyncPolicy,
    max_bytes: Option<u64>,
    copy_at: u8,
    fs: Option<Arc<dyn FileSystem>>,
}

/// [`DiskOptions::copy_forward_at`]'s default, in percent.
const DEFAULT_COPY_AT: u8 = 25;

impl Default for DiskOptions {
    fn default() -> DiskOptions {
        DiskOptions::new()
    }
}

impl DiskOptions {
    /// Group commit without delay, 64 MiB segments, records up to 16 MiB,
    /// no bound on disk use, copy-forward at 25 %, the real file system.
    pub fn new() -> DiskOptions {
        DiskOptions {
            log: Options::new(),
            sync: SyncPolicy::default(),
            max_bytes: None,
            copy_at: DEFAULT_COPY_AT,
            fs: None,
        }
    }

    /// When the log syncs, and so what a power cut can lose; see
    /// [`SyncPolicy`]. Under every policy but `Never`, a publish completes
    /// only once its record is synced.
    pub fn sync(mut self, policy: SyncPolicy) -> DiskOptions {
        self.log = self.log.sync(policy);
        self.sync = policy;
        self
    }

    /// The size at which a segment file rolls over. Compaction deletes
    /// whole segments, so smaller segments give disk space back sooner (and
    /// copy less forward each time).
    pub fn segment_bytes(mut self, bytes: u64) -> DiskOptions {
        self.log = self.log.segment_bytes(bytes);
        self
    }

    /// The longest record (a message, its properties and 6 bytes more): a
    /// longer publish fails with [`StoreError::NotStored`](crate::StoreError).
    pub fn max_record(mut self, bytes: u32) -> DiskOptions {
        self.log = self.log.max_record(bytes);
        self
    }

    /// Bounds the log's size: a publish that would take it past `bytes`
    /// waits for compaction to make room under
    /// [`Overflow::Wait`](crate::queue::Overflow::Wait), and otherwise fails
    /// with [`StoreError::NotStored`](crate::StoreError) whose I/O error
    /// (kind `StorageFull`) holds a [`DiskFull`]. Records other than
    /// publishes (acks, deliveries, compaction's copies) may still be
    /// written past it, since they are what lets compaction free space.
    pub fn max_bytes(mut self, bytes: u64) -> DiskOptions {
        self.max_bytes = Some(bytes);
        self
    }

    /// When compaction copies messages forward: once the oldest segment's
    /// messages still in the queue take at most `percent` % of its bytes
    /// (25 by default; over 100 counts as 100; 0 never copies).
    ///
    /// Compaction deletes segments oldest first, so a single message
    /// nobody acks would otherwise keep every segment after its own on
    /// disk. Copying its live messages to the end of the log (their
    /// identity, delivery count, properties and order kept) and deleting the
    /// segment once the copies are synced frees the rest of it. A lower
    /// percentage copies less often and leaves more garbage on disk; a
    /// higher one frees more and writes more: at 25 %, a copy-forward
    /// writes about a quarter of what it frees (a copy is 13 bytes longer
    /// than the publish it copies).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::disk::fs::SimFs;
    /// use weft::queue::{DiskOptions, Queue, Utf8};
    ///
    /// weft::block_on(async {
    ///     let disk = DiskOptions::new().segment_bytes(200).copy_forward_at(50).file_system(SimFs::new());
    ///     let restored = Queue::builder().open_durable_with("/q", Utf8, &disk).unwrap();
    ///     let (queue, backend) = (restored.queue, restored.backend);
    ///     let (producer, mut consumer) = (queue.producer(), queue.consumer());
    ///     for n in 0..40 {
    ///         producer.publish(format!("job {n}")).await.unwrap();
    ///     }
    ///     let first = consumer.recv().await.unwrap(); // held, never acked here
    ///     let full = backend.disk_bytes();
    ///     for _ in 1..40 {
    ///         consumer.recv().await.unwrap().ack_confirmed().await.unwrap();
    ///     }
    ///     // The first job alone would keep every segment; it was copied forward.
    ///     assert!(backend.copied_forward() > 0);
    ///     assert!(backend.disk_bytes() < full / 2);
    ///     assert_eq!(*first, "job 0");
    /// });
    /// ```
    pub fn copy_forward_at(mut self, percent: u8) -> DiskOptions {
        self.copy_at = percent.min(100);
        self
    }

    /// The file system to keep the log on (the real one by default); tests
    /// pass a [`SimFs`](weft_disk::fs::SimFs).
    pub fn file_system(mut self, fs: impl FileSystem) -> DiskOptions {
        self.fs = Some(Arc::new(fs));
        self
    }
}

impl DiskOptions {
    /// The log's options, for the event bus's durable backend.
    pub(crate) fn log_options(&self) -> &Options {
        &self.log
    }

    /// The file system, if not the real one.
    pub(crate) fn fs(&self) -> Option<&Arc<dyn FileSystem>> {
        self.fs.as_ref()
    }

    pub(super) fn bound(&self) -> Option<u64> {
        self.max_bytes
    }

    /// False under `SyncPolicy::Never`.
    pub(super) fn syncs(&self) -> bool {
        self.sync != SyncPolicy::Never
    }

    pub(super) fn copy_at(&self) -> u8 {
        self.copy_at
    }
}

/// A durable queue, opened, and what its opening found.
#[derive(Debug)]
#[non_exhaustive]
pub struct Restored<T: 'static> {
    /// The queue.
    pub queue: Queue<T>,
    /// Its backend, for what only a durable queue has
    /// ([`Durable::disk_bytes`]).
    pub backend: Durable<T>,
    /// What the log's recovery found and repaired: segments, records, and
    /// a torn tail cut off (say so in your log: its `Display` is one line).
    pub recovery: Recovery,
    /// Messages put back as ready (those in flight at the crash among
    /// them, their delivery counts raised).
    pub ready: usize,
    /// Messages put back in the dead-letter queue.
    pub dead_lettered: usize,
}

/// Opening a durable queue failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum OpenDurableError {
    /// The log could not be opened (locked by another process, corrupt in
    /// the middle, a segment missing, or the file system failed).
    Open(OpenError),
    /// Reading the log back failed.
    Read(LogError),
    /// A record is not one of the queue's, or holds a message the codec
    /// cannot read.
    Record {
        /// The record's offset in the log.
        offset: u64,
        /// What is wrong with it.
        what: String,
    },
}

// Alike to the durable bus's `OpenDurableError` (a `duplicates` pair,
// left): two public types, as a bus's record error names its log.
impl fmt::Display for OpenDurableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenDurableError::Open(error) => write!(f, "could not open the queue's log: {error}"),
            OpenDurableError::Read(error) => write!(f, "could not read the queue's log: {error}"),
            OpenDurableError::Record { offset, what } => {
                write!(f, "bad queue record at offset {offset}: {what}")
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

/// The bound set by [`DiskOptions::max_bytes`] was reached: found inside
/// the I/O error of a refused publish's
/// [`StoreError`](crate::StoreError).
///
/// # Examples
///
/// ```
/// use weft::queue::{DiskFull, DiskOptions, Overflow, PublishError, Queue, Utf8};
/// use weft::disk::fs::SimFs;
///
/// weft::block_on(async {
///     let disk = DiskOptions::new().max_bytes(64).file_system(SimFs::new());
///     let queue = Queue::builder().overflow(Overflow::Reject).open_durable_with("/q", Utf8, &disk).unwrap().queue;
///     let producer = queue.producer();
///     producer.publish("fits".to_string()).await.unwrap();
///     let Err(PublishError::Store(error)) = producer.publish("x".repeat(100)).await else {
///         panic!("published past the bound");
///     };
///     let full = error.io_error().get_ref().and_then(|e| e.downcast_ref::<DiskFull>()).unwrap();
///     assert_eq!(full.limit, 64);
///     assert_eq!(error.into_value().unwrap().len(), 100); // not stored: given back
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskFull {
    /// Bytes the log held.
    pub used: u64,
    /// The bound.
    pub limit: u64,
}

impl fmt::Display for DiskFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "queue log full: {} of {} bytes used", self.used, self.limit)
    }
}

impl Error for DiskFull {}

impl<T: Clone + Send + 'static> Queue<T> {
    /// Opens (or creates) a durable queue in `dir` with the default
    /// settings ([`Queue::builder`], [`DiskOptions::new`]), its messages
    /// turned into bytes by `codec`. Messages left by an earlier run are
    /// back: ready, in flight at the crash (ready again, redelivered), or
    /// dead-lettered.
    ///
    /// # Errors
    ///
    /// As [`Builder::open_durable_with`].
    ///
    /// # Panics
    ///
    /// Where no spawner is current; see [`Builder::spawner`].
    ///
    /// # Examples
    ///
    /// ```
    /// use weft::queue::{Queue, Utf8};
    ///
    /// let dir = std::env::temp_dir().join(format!("weft-durable-doc-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// weft::block_on(async {
    ///     let queue = Queue::durable(&dir, Utf8).unwrap().queue;
    ///     queue.producer().publish("send invoice 12".to_string()).await.unwrap(); // on disk now
    /// });
    /// weft::block_on(async {
    ///     // A restart (or a crash): the message is still there.
    ///     let restored = Queue::durable(&dir, Utf8).unwrap();
    ///     assert_eq!(restored.ready, 1);
    ///     let job = restored.queue.consumer().recv().await.unwrap();
    ///     assert_eq!(*job, "send invoice 12");
    ///     job.ack_confirmed().await.unwrap(); // gone for good
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    #[track_caller]
    pub fn durable(dir: impl AsRef<Path>, codec: impl Codec<T>) -> Result<Restored<T>, OpenDurableError> {
        Queue::builder().open_durable(dir, codec)
    }
}

impl Builder {
    /// Opens (or creates) a durable queue in `dir` with these settings and
    /// the default [`DiskOptions`]; see [`Queue::durable`].
    ///
    /// # Errors
    ///
    /// As [`open_durable_with`](Builder::open_durable_with).
    ///
    /// # Panics
    ///
    /// Where no spawner was given and none is current.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::queue::{Queue, Raw};
    ///
    /// let dir = std::env::temp_dir().join(format!("weft-durable-builder-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// weft::block_on(async {
    ///     let queue = Queue::builder()
    ///         .ack_deadline(Duration::from_secs(30))
    ///         .open_durable(&dir, Raw)
    ///         .unwrap()
    ///         .queue;
    ///     queue.producer().publish(b"bytes".to_vec()).await.unwrap();
    /// });
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    #[track_caller]
    pub fn open_durable<T: Clone + Send + 'static>(
        &self,
        dir: impl AsRef<Path>,
        codec: impl Codec<T>,
    ) -> Result<Restored<T>, OpenDurableError> {
        self.open_durable_with(dir, codec, &DiskOptions::new())
    }

    /// Opens (or creates) a durable queue in `dir` with these settings and
    /// `disk`'s: takes the directory's lock, recovers the log (cutting off
    /// a torn tail, reported in [`Restored::recovery`]), replays it, and
    /// deletes the segments nothing live is left in.
    ///
    /// # Errors
    ///
    /// [`OpenDurableError::Open`] if the log cannot be opened (another
    /// process holds it: `OpenError::Locked`; corruption that is not a torn
    /// tail: `OpenError::Corrupt`); [`OpenDurableError::Read`] if reading
    /// it back fails; [`OpenDurableError::Record`] for a record that is not
    /// the queue's or that `codec` cannot read.
    ///
    /// # Panics
    ///
    /// Where no spawner was given and none is current.
    ///
    /// # Examples
    ///
    /// See [`DiskOptions`].
    #[track_caller]
    pub fn open_durable_with<T: Clone + Send + 'static>(
        &self,
        dir: impl AsRef<Path>,
        codec: impl Codec<T>,
        disk: &DiskOptions,
    ) -> Result<Restored<T>, OpenDurableError> {
        let options = disk.log.clone();
        let opened = match &disk.fs {
            Some(fs) => options.open_in(Arc::clone(fs), dir),
            None => options.open(dir),
        }
        .map_err(OpenDurableError::Open)?;
        let codec: Box<dyn Codec<T>> = Box::new(codec);
        let replay = recover::replay(&opened.log, &*codec)?;
        let notes = Arc::new(Mutex::new(Vec::new()));
        let memory = Memory::observed(self, Some(Durable::<T>::observer(&notes)));
        let backend = Durable::from_parts(memory, notes, opened.log, codec, self.overflow, disk);
        let inner = &*backend.inner;
        {
            let mut book = lock(&inner.book);
            book.sizes = replay.sizes;
            book.used = replay.used;
            for (&seq, found) in &replay.live {
                book.admit(
                    seq,
                    found.carrier,
                    found.deliveries,
                    found.dead.map(|(_, reason)| reason),
                );
            }
        }
        let (mut ready, mut dead) = (0, Vec::new());
        for (seq, found) in replay.live {
            let stamped = Stamped {
                seq,
                message: found.message,
            };
            match found.dead {
                Some((at, reason)) => dead.push((at, stamped, found.properties, reason)),
                None if found.deliveries >= self.max_deliveries => {
                    // In flight at the crash on its last delivery: as the
                    // memory queue does when such a delivery comes back.
                    let reason = DeadReason::MaxDeliveries;
                    let at = inner.journal(&[record::dead(seq, reason)]).ok().flatten();
                    dead.push((at.unwrap_or(u64::MAX), stamped, found.properties, reason));
                }
                None => {
                    ready += 1;
                    inner
                        .memory
                        .restore(stamped, found.properties, found.deliveries, None);
                }
            }
        }
        dead.sort_by_key(|(at, ..)| *at);
        let dead_lettered = dead.len();
        for (_, stamped, properties, reason) in dead {
            inner.memory.restore(stamped, properties, 0, Some(reason));
        }
        inner.compact();
        if let Some(torn) = &opened.recovery.torn {
            crate::diag::torn_tail_cut(crate::diag::Store::Queue, torn);
        }
        Ok(Restored {
            queue: Queue::with_backend(backend.clone()),
            backend,
            recovery: opened.recovery,
            ready,
            dead_lettered,
        })
    }
}
