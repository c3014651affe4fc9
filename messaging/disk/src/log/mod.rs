//! The log: records appended in segment files, synced by a policy,
//! recovered on open.
//!
//! A record gets an offset (0, 1, 2, ...) when it is appended; a segment
//! file is named by the offset of its first record and holds records until
//! the next would take it past [`Options::segment_bytes`].
//!
//! Appending and making durable are two steps, so that concurrent
//! appenders can share one `fdatasync` (group commit): [`Log::append`]
//! writes the record and returns its offset; [`Log::poll_sync`] (or
//! [`Log::blocking_sync`]) completes once that offset is on disk.
//! [`Log::blocking_append`] does both.
//!
//! # Files
//!
//! This file holds the [`Log`] and its public methods; the rest is one
//! concern per file:
//!
//! - `options.rs`: [`Options`], [`SyncPolicy`] and [`Opened`];
//! - `open.rs`: opening a directory (lock, recovery, first sync, syncer);
//! - `append.rs`: the write path (append, roll, sync of the active segment);
//! - `syncer.rs`: the group-commit thread;
//! - `state.rs`: what the lock guards, and its waiters;
//! - `segment.rs`: one segment file's bookkeeping;
//! - `located.rs`: records by position, and reading them back;
//! - `layout.rs`: [`SegmentInfo`], the segments as a backend deciding what
//!   to compact sees them;
//! - `recovery.rs`: the scan on open, and what it repaired.

mod append;
mod layout;
mod located;
mod open;
mod options;
mod recovery;
mod segment;
mod state;
mod syncer;

pub use self::layout::SegmentInfo;
pub use self::located::Location;
pub use self::options::{Opened, Options, SyncPolicy};
pub use self::recovery::{Recovery, TornTail};

use self::state::{State, Woken};
use crate::error::{LogError, OpenError};
use crate::frame;
use crate::fs::{FileLock, FileSystem};
use crate::sync::{Condvar, Mutex, lock, wait};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread::JoinHandle;

/// A record read back: its offset and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The record's offset.
    pub offset: u64,
    /// The record's payload.
    pub payload: Vec<u8>,
}

/// An append-only log of records on disk; see the [module docs](self).
///
/// Shared by reference: every method takes `&self`, and the log is `Send`
/// and `Sync`. Dropping it syncs what is pending (under group commit) and
/// lets go of the directory.
///
/// # Examples
///
/// ```
/// use weft_disk::Log;
///
/// let dir = std::env::temp_dir().join(format!("weft-disk-log-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let opened = Log::open(&dir)?;
/// assert_eq!(opened.recovery.torn, None);
/// let log = opened.log;
/// let first = log.blocking_append(b"hello")?;
/// let second = log.blocking_append(b"world")?;
/// assert_eq!((first, second), (0, 1));
/// drop(log);
///
/// let log = Log::open(&dir)?.log;
/// let records = log.read(0, 10)?;
/// assert_eq!(records[1].payload, b"world");
/// # drop(log);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Log {
    shared: Arc<Shared>,
    syncer: Option<JoinHandle<()>>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    fs: Arc<dyn FileSystem>,
    dir: PathBuf,
    options: Options,
    state: Mutex<State>,
    /// Blocking waiters: signalled when `synced` moves or the log is poisoned.
    synced_changed: Condvar,
    /// The syncer: signalled when there is something to sync, or on shutdown.
    work: Condvar,
    _lock: Box<dyn FileLock>,
}

impl Log {
    /// Opens (or creates) the log in `dir` with the default [`Options`].
    ///
    /// # Errors
    ///
    /// As [`Options::open_in`].
    ///
    /// # Examples
    ///
    /// See [`Log`].
    pub fn open(dir: impl AsRef<Path>) -> Result<Opened, OpenError> {
        Options::new().open(dir)
    }

    /// Appends `payload` as one record and returns its offset. Under
    /// [`SyncPolicy::Always`] it is on disk when this returns; otherwise it
    /// is written (a killed process cannot lose it) and
    /// [`poll_sync`](Log::poll_sync) says when it is on disk.
    ///
    /// This blocks the thread for a `write` (and, under `Always`, an
    /// `fdatasync`; at a segment roll, an `fdatasync` of the old segment
    /// and of the directory).
    ///
    /// # Errors
    ///
    /// [`LogError::TooLong`] over [`Options::max_record`];
    /// [`LogError::Io`] if the write failed (a full disk): the record is
    /// not in the log, which is still usable; [`LogError::Poisoned`] once a
    /// sync has failed: nothing more is written.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::path::Path;
    /// use weft_disk::fs::SimFs;
    /// use weft_disk::{LogError, Options};
    ///
    /// let log = Options::new().max_record(4).open_in(SimFs::new(), Path::new("/l"))?.log;
    /// assert_eq!(log.append(b"ok")?, 0);
    /// assert!(matches!(log.append(b"too long"), Err(LogError::TooLong { len: 8, max: 4 })));
    /// assert_eq!(log.append(b"ok")?, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn append(&self, payload: &[u8]) -> Result<u64, LogError> {
        self.append_framed(payload).map(|location| location.offset)
    }

    /// The body of `append`, saying where the record went.
    fn append_framed(&self, payload: &[u8]) -> Result<Location, LogError> {
        let shared = &*self.shared;
        let max = shared.options.max_record;
        if payload.len() as u64 > u64::from(max) {
            return Err(LogError::TooLong {
                len: payload.len() as u64,
                max,
            });
        }
        let mut bytes = Vec::with_capacity(frame::HEADER_LEN + payload.len());
        frame::encode(payload, &mut bytes).map_err(|_| LogError::TooLong {
            len: payload.len() as u64,
            max,
        })?;
        let mut woken = Woken::default();
        let result = shared.append_locked(&bytes, &mut woken);
        shared.synced_changed.notify_all();
        woken.wake();
        result
    }

    /// Appends `payload` and waits until it is on disk
    /// ([`append`](Log::append) then [`blocking_sync`](Log::blocking_sync)).
    ///
    /// # Errors
    ///
    /// As theirs.
    ///
    /// # Examples
    ///
    /// See [`Log`].
    pub fn blocking_append(&self, payload: &[u8]) -> Result<u64, LogError> {
        let offset = self.append(payload)?;
        self.blocking_sync(offset)?;
        Ok(offset)
    }

    /// `Ready(Ok(()))` once the record at `offset` (and every one before
    /// it) is on disk; otherwise registers `cx`'s waker, which the syncer
    /// wakes when that sync completes, and returns `Pending`. Under
    /// [`SyncPolicy::Never`] it is ready at once and confirms nothing.
    ///
    /// A caller that stops polling leaves its waker until the next sync
    /// completes (one per task: a task polling again replaces it).
    ///
    /// # Errors
    ///
    /// [`LogError::Poisoned`] if a sync failed before the record was
    /// confirmed: it may or may not be on disk; [`LogError::OutOfRange`]
    /// if `offset` was not appended yet.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::path::Path;
    /// use std::task::{Context, Poll, Waker};
    /// use weft_disk::fs::SimFs;
    /// use weft_disk::{Options, SyncPolicy};
    ///
    /// let fs = SimFs::new();
    /// let log = Options::new().sync(SyncPolicy::Always).open_in(fs, Path::new("/l"))?.log;
    /// let offset = log.append(b"synced before append returned")?;
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert!(matches!(log.poll_sync(&mut cx, offset), Poll::Ready(Ok(()))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn poll_sync(&self, cx: &mut Context<'_>, offset: u64) -> Poll<Result<(), LogError>> {
        let mut state = lock(&self.shared.state);
        match self.shared.sync_outcome(&state, offset) {
            Some(outcome) => Poll::Ready(outcome),
            None => {
                state.register(offset, cx.waker());
                Poll::Pending
            }
        }
    }

    /// Blocks the thread until the record at `offset` is on disk; see
    /// [`poll_sync`](Log::poll_sync).
    ///
    /// # Errors
    ///
    /// As [`poll_sync`](Log::poll_sync).
    ///
    /// # Examples
    ///
    /// See [`Log`].
    pub fn blocking_sync(&self, offset: u64) -> Result<(), LogError> {
        let mut state = lock(&self.shared.state);
        loop {
            if let Some(outcome) = self.shared.sync_outcome(&state, offset) {
                return outcome;
            }
            state = wait(&self.shared.synced_changed, state);
        }
    }

    /// Up to `max` records from `from` on, in order; empty at the end.
    ///
    /// Reads records once they are appended, before they are synced (a
    /// poison cuts the unsynced ones off again). Each segment it touches is
    /// read whole and walked from its start: right for replay on open, too
    /// slow for a consumer polling the tail (a position index is for the
    /// backends to add).
    ///
    /// # Errors
    ///
    /// [`LogError::OutOfRange`] if `from` was removed or is past the end;
    /// [`LogError::Io`] if reading failed (a segment removed meanwhile);
    /// [`LogError::Corrupt`] if a record read back is bad;
    /// [`LogError::Poisoned`] if a poison cut records this read had noted.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::path::Path;
    /// use weft_disk::fs::SimFs;
    /// use weft_disk::Options;
    ///
    /// let log = Options::new().segment_bytes(20).open_in(SimFs::new(), Path::new("/l"))?.log;
    /// for word in ["alpha", "beta", "gamma"] {
    ///     log.blocking_append(word.as_bytes())?;
    /// }
    /// let records = log.read(1, 10)?;
    /// assert_eq!(records.len(), 2);
    /// assert_eq!((records[0].offset, &records[0].payload[..]), (1, &b"beta"[..]));
    /// assert!(log.read(3, 10)?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read(&self, from: u64, max: usize) -> Result<Vec<Record>, LogError> {
        self.read_records(from, max)
    }

    /// Removes every segment whose records all lie below `offset` (never
    /// the active one), oldest first, syncing the directory after each, and
    /// returns how many it removed. The log then starts at the first remaining segment's base.
    ///
    /// # Errors
    ///
    /// [`LogError::Io`] if removing a file failed (the segments before it
    /// are gone); [`LogError::Poisoned`] if syncing the directory failed,
    /// or had failed before.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::path::Path;
    /// use weft_disk::fs::SimFs;
    /// use weft_disk::Options;
    ///
    /// let log = Options::new().segment_bytes(0).open_in(SimFs::new(), Path::new("/l"))?.log;
    /// for n in 0..4u8 {
    ///     log.blocking_append(&[n])?; // a segment each
    /// }
    /// assert_eq!(log.remove_before(2)?, 2);
    /// assert_eq!(log.start(), 2);
    /// assert_eq!(log.read(2, 10)?[0].payload, [2]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove_before(&self, offset: u64) -> Result<usize, LogError> {
        let shared = &*self.shared;
        let mut state = lock(&shared.state);
        if let Some(error) = &state.poisoned {
            return Err(LogError::Poisoned(Arc::clone(error)));
        }
        // One segment at a time, oldest first, each removal synced before
        // the next: a crash can then only bring back the oldest segments,
        // never leave a gap (unsynced unlinks persist in any order).
        let mut removed = 0;
        while state.segments.len() > 1 && state.segments[0].end() <= offset {
            if let Err(error) = shared.fs.remove(&state.segments[0].path) {
                return Err(LogError::Io(Arc::new(error)));
            }
            state.segments.remove(0);
            removed += 1;
            if shared.options.sync == SyncPolicy::Never {
                continue;
            }
            if let Err(error) = shared.fs.sync_dir(&shared.dir) {
                let woken = state.poison(error);
                let poisoned = shared.poisoned_error(&state);
                drop(state);
                shared.synced_changed.notify_all();
                woken.wake();
                return Err(poisoned);
            }
        }
        Ok(removed)
    }

    /// The first offset still in the log.
    pub fn start(&self) -> u64 {
        lock(&self.shared.state).start()
    }

    /// The offset the next append gets.
    pub fn end(&self) -> u64 {
        lock(&self.shared.state).end()
    }

    /// Every offset below this is confirmed on disk.
    pub fn synced(&self) -> u64 {
        lock(&self.shared.state).synced
    }

    /// The failed sync that stopped the log, if one did.
    pub fn poisoned(&self) -> Option<Arc<io::Error>> {
        lock(&self.shared.state).poisoned.clone()
    }
}

impl Shared {
    /// What `poll_sync(offset)` answers now, or `None` to wait.
    fn sync_outcome(&self, state: &State, offset: u64) -> Option<Result<(), LogError>> {
        if offset < state.synced {
            return Some(Ok(()));
        }
        if let Some(error) = &state.poisoned {
            return Some(Err(LogError::Poisoned(Arc::clone(error))));
        }
        if offset >= state.end() {
            return Some(Err(LogError::OutOfRange {
                offset,
                start: state.start(),
                end: state.end(),
            }));
        }
        if self.options.sync == SyncPolicy::Never {
            return Some(Ok(()));
        }
        None
    }
}

impl fmt::Debug for Log {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.shared.state);
        f.debug_struct("Log")
            .field("dir", &self.shared.dir)
            .field("start", &state.start())
            .field("end", &state.end())
            .field("synced", &state.synced)
            .field("poisoned", &state.poisoned.is_some())
            .finish()
    }
}

impl Drop for Log {
    fn drop(&mut self) {
        lock(&self.shared.state).shutdown = true;
        self.shared.work.notify_all();
        if let Some(syncer) = self.syncer.take() {
            // The syncer never panics on its own; a panic there has been
            // reported already, and the log is going away either way.
            let _ = syncer.join();
        }
    }
}
