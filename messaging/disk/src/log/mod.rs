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

mod layout;
mod located;
mod recovery;
mod segment;
mod state;
mod syncer;

pub use self::layout::SegmentInfo;
pub use self::located::Location;
pub use self::recovery::{Recovery, TornTail};

use self::segment::Segment;
use self::state::{State, Woken};
use crate::error::{LogError, OpenError};
use crate::frame;
use crate::fs::{FileLock, FileSystem, SegmentFile, StdFs};
use crate::sync::{Condvar, Mutex, MutexGuard, lock, wait};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

// ANCHOR: sync_policy
/// When the log calls `fdatasync`, and so what a crash can lose.
///
/// Whatever the policy, a crash never leaves a half-written record in the
/// log: recovery cuts a torn tail off. The policies differ in what a
/// *power cut* (or a kernel crash) loses; a killed process (`kill -9`)
/// loses nothing that [`Log::append`] returned, since the kernel still
/// writes what it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPolicy {
    /// `append` writes the record and syncs before it returns, in the
    /// caller's thread. Loses nothing `append` returned `Ok` for; costs a
    /// sync per record, except that appends arriving while another's sync
    /// is in flight wait for it, and share the next one.
    Always,
    /// `append` returns once the record is written; a background thread
    /// syncs at most `max_delay` after the first record not yet synced,
    /// covering every record written by then, and
    /// [`poll_sync`](Log::poll_sync) completes once that sync has. Loses
    /// records whose sync had not completed: never one that `poll_sync` /
    /// `blocking_sync` confirmed. `Duration::ZERO` syncs as soon as the
    /// previous sync is done, so the batch is whatever arrived meanwhile.
    GroupCommit {
        /// How long the syncer waits for more records before it syncs.
        max_delay: Duration,
    },
    /// Never syncs (not even the directory): `poll_sync` completes at once
    /// and confirms nothing. Survives a killed process; a power cut may lose
    /// anything, segments included, and leave the log unopenable. For tests.
    Never,
}
// ANCHOR_END: sync_policy

impl Default for SyncPolicy {
    /// Group commit without delay.
    fn default() -> SyncPolicy {
        SyncPolicy::GroupCommit {
            max_delay: Duration::ZERO,
        }
    }
}

/// How to open a log: segment size, record size limit, sync policy.
///
/// # Examples
///
/// ```
/// use std::path::Path;
/// use weft_disk::fs::SimFs;
/// use weft_disk::{Options, SyncPolicy};
///
/// let opened = Options::new()
///     .segment_bytes(1 << 20)
///     .max_record(64 << 10)
///     .sync(SyncPolicy::Always)
///     .open_in(SimFs::new(), Path::new("/queue"))?;
/// let offset = opened.log.append(b"job 1")?;
/// assert_eq!(offset, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    segment_bytes: u64,
    max_record: u32,
    sync: SyncPolicy,
}

impl Default for Options {
    fn default() -> Options {
        Options::new()
    }
}

impl Options {
    /// 64 MiB segments, records up to 16 MiB, group commit without delay.
    pub fn new() -> Options {
        Options {
            segment_bytes: 64 << 20,
            max_record: 16 << 20,
            sync: SyncPolicy::default(),
        }
    }

    /// A segment rolls when the next record would take it past `bytes`; a
    /// record longer than that gets a segment of its own (so 0 puts each
    /// record in its own segment).
    pub fn segment_bytes(mut self, bytes: u64) -> Options {
        self.segment_bytes = bytes;
        self
    }

    /// The longest payload [`Log::append`] takes; longer appends fail with
    /// [`LogError::TooLong`]. At most [`frame::MAX_PAYLOAD`]. Records
    /// already on disk are read whatever their length, so the limit can be
    /// lowered between runs.
    pub fn max_record(mut self, bytes: u32) -> Options {
        self.max_record = bytes.min(frame::MAX_PAYLOAD);
        self
    }

    /// When to sync; see [`SyncPolicy`].
    pub fn sync(mut self, policy: SyncPolicy) -> Options {
        self.sync = policy;
        self
    }

    /// Opens (or creates) the log in `dir` on the real file system.
    ///
    /// # Errors
    ///
    /// As [`open_in`](Options::open_in).
    pub fn open(self, dir: impl AsRef<Path>) -> Result<Opened, OpenError> {
        self.open_in(StdFs, dir)
    }

    /// Opens (or creates) the log in `dir` on `fs`: takes the directory's
    /// lock file, scans every segment, cuts a torn tail off the last one
    /// (reported in [`Opened::recovery`]), and syncs what it found.
    ///
    /// # Errors
    ///
    /// [`OpenError::Locked`] if another log holds `dir`;
    /// [`OpenError::Corrupt`] for a bad record that is not a torn tail
    /// (nothing is changed on disk); [`OpenError::Gap`] if a segment is
    /// missing; [`OpenError::Io`] if the file system fails.
    pub fn open_in(self, fs: impl FileSystem, dir: impl AsRef<Path>) -> Result<Opened, OpenError> {
        Log::open_with(Arc::new(fs), dir.as_ref(), self)
    }
}

/// An opened log and what its recovery found.
#[derive(Debug)]
pub struct Opened {
    /// The log.
    pub log: Log,
    /// What opening it found and repaired.
    pub recovery: Recovery,
}

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

/// The name of the lock file in a log's directory.
const LOCK_FILE: &str = "LOCK";

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

    fn open_with(fs: Arc<dyn FileSystem>, dir: &Path, options: Options) -> Result<Opened, OpenError> {
        let durable = options.sync != SyncPolicy::Never;
        fs.create_dir_all(dir)?;
        if let Some(parent) = dir.parent().filter(|parent| !parent.as_os_str().is_empty())
            && durable
        {
            fs.sync_dir(parent)?;
        }
        let lock_file = match fs.lock(&crate::fs::join(dir, LOCK_FILE)) {
            Ok(held) => held,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                return Err(OpenError::Locked { dir: dir.to_owned() });
            }
            Err(error) => return Err(error.into()),
        };
        let (mut segments, mut recovery) = recovery::recover(&*fs, dir)?;
        if segments.is_empty() {
            let first = Segment::new(dir, 0);
            fs.open(&first.path, true)?;
            segments.push(first);
            recovery.segments = 1;
        }
        let last = segments.len() - 1;
        let active: Arc<dyn SegmentFile> = Arc::from(fs.open(&segments[last].path, false)?);
        if durable {
            // What the scan read may sit in the page cache only (the last
            // run was killed before it synced): make it durable before the
            // log confirms anything.
            for segment in &segments[..last] {
                fs.open(&segment.path, false)?.sync_data()?;
            }
            active.sync_data()?;
            fs.sync_dir(dir)?;
        }
        for segment in &mut segments {
            segment.synced_records = segment.records;
            segment.synced_bytes = segment.bytes;
        }
        let end = segments[last].end();
        let shared = Arc::new(Shared {
            fs,
            dir: dir.to_owned(),
            state: Mutex::new(State {
                segments,
                active,
                synced: end,
                poisoned: None,
                waiters: Vec::new(),
                syncing: false,
                pending_since: None,
                shutdown: false,
            }),
            synced_changed: Condvar::new(),
            work: Condvar::new(),
            _lock: lock_file,
            options,
        });
        let syncer = match shared.options.sync {
            SyncPolicy::GroupCommit { max_delay } => {
                let shared = Arc::clone(&shared);
                let spawned = std::thread::Builder::new()
                    .name("weft-disk-sync".into())
                    .spawn(move || syncer::run(&shared, max_delay))?;
                Some(spawned)
            }
            SyncPolicy::Always | SyncPolicy::Never => None,
        };
        Ok(Opened {
            log: Log { shared, syncer },
            recovery,
        })
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

    /// The body of `append`: roll if needed, write, and sync or hand the
    /// sync to the syncer, as the policy says.
    fn append_locked(&self, bytes: &[u8], woken: &mut Woken) -> Result<Location, LogError> {
        let mut state = lock(&self.state);
        loop {
            if let Some(error) = &state.poisoned {
                return Err(LogError::Poisoned(Arc::clone(error)));
            }
            let active_bytes = state.active_segment().bytes;
            let full = active_bytes > 0
                && active_bytes.saturating_add(bytes.len() as u64) > self.options.segment_bytes;
            if !full {
                break;
            }
            if state.syncing {
                // A roll syncs the old segment itself: wait for the sync in
                // flight to be applied first, then look again.
                state = wait(&self.synced_changed, state);
                continue;
            }
            self.roll(&mut state, woken)?;
            break;
        }
        if let Err(error) = state.active.append(bytes) {
            // Cut a partial write back out, or the next record would land
            // behind garbage: corruption mid-segment on the next open.
            let length = state.active_segment().bytes;
            if let Err(cut) = state.active.set_len(length) {
                woken.extend(state.poison(cut));
            }
            return Err(LogError::Io(Arc::new(error)));
        }
        let segment = state.active_segment();
        let location = Location {
            offset: segment.end(),
            segment: segment.base,
            position: segment.bytes,
            len: bytes.len() as u64,
        };
        segment.records += 1;
        segment.bytes += bytes.len() as u64;
        let offset = location.offset;
        match self.options.sync {
            SyncPolicy::Never => Ok(location),
            SyncPolicy::GroupCommit { .. } => {
                state.pending_since.get_or_insert_with(Instant::now);
                self.work.notify_one();
                Ok(location)
            }
            SyncPolicy::Always => loop {
                // A sync that another appender started after this write
                // covers it; otherwise take the token and sync.
                if offset < state.synced {
                    return Ok(location);
                }
                if let Some(error) = &state.poisoned {
                    return Err(LogError::Poisoned(Arc::clone(error)));
                }
                if state.syncing {
                    state = wait(&self.synced_changed, state);
                    continue;
                }
                state = self.sync_active(state, woken);
                self.synced_changed.notify_all();
            },
        }
    }

    // ANCHOR: sync_active
    /// Syncs the active file with the sync token (which must be free),
    /// without the lock, and applies the outcome; the caller wakes `woken`
    /// and notifies `synced_changed` once it drops the lock.
    fn sync_active<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
        woken: &mut Woken,
    ) -> MutexGuard<'a, State> {
        state.syncing = true;
        let point = state.sync_point();
        let file = Arc::clone(&state.active);
        drop(state);
        let result = file.sync_data();
        let mut state = lock(&self.state);
        state.syncing = false;
        woken.extend(match result {
            Ok(()) => state.mark_synced(point),
            Err(error) => state.poison(error),
        });
        state
    }
    // ANCHOR_END: sync_active

    // ANCHOR: roll
    /// Closes the active segment and opens the next: syncs the old one in
    /// full (so every record below the new base is on disk), creates the
    /// new file and syncs the directory so the file survives a power cut.
    fn roll(&self, state: &mut State, woken: &mut Woken) -> Result<(), LogError> {
        let durable = self.options.sync != SyncPolicy::Never;
        let base = state.end();
        if durable {
            let point = state.sync_point();
            if let Err(error) = state.active.sync_data() {
                woken.extend(state.poison(error));
                return Err(self.poisoned_error(state));
            }
            woken.extend(state.mark_synced(point));
        }
        let segment = Segment::new(&self.dir, base);
        let file = self
            .fs
            .open(&segment.path, true)
            .map_err(|error| LogError::Io(Arc::new(error)))?;
        if durable && let Err(error) = self.fs.sync_dir(&self.dir) {
            woken.extend(state.poison(error));
            return Err(self.poisoned_error(state));
        }
        state.segments.push(segment);
        state.active = Arc::from(file);
        Ok(())
    }
    // ANCHOR_END: roll

    fn poisoned_error(&self, state: &State) -> LogError {
        let error = state
            .poisoned
            .clone()
            .unwrap_or_else(|| Arc::new(io::Error::other("log poisoned")));
        LogError::Poisoned(error)
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
