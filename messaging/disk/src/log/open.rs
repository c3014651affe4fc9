//! Opening a log: the directory's lock, recovery of what is on disk, a
//! sync of what recovery read, and the syncer thread if the policy has one.

use super::segment::Segment;
use super::state::State;
use super::{Log, Opened, Options, Shared, SyncPolicy, recovery, syncer};
use crate::error::OpenError;
use crate::fs::{FileSystem, SegmentFile};
use crate::sync::{Condvar, Mutex};
use std::io;
use std::path::Path;
use std::sync::Arc;

/// The name of the lock file in a log's directory.
const LOCK_FILE: &str = "LOCK";

impl Log {
    pub(super) fn open_with(
        fs: Arc<dyn FileSystem>,
        dir: &Path,
        options: Options,
    ) -> Result<Opened, OpenError> {
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
}
