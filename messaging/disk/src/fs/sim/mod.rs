//! A file system in memory that remembers what was synced, for power-cut
//! and fault-injection tests.
//!
//! # The model
//!
//! Each file (an inode: a path names one, and a rename moves the name) keeps
//! two images: `data`, what the process reads back, and `synced`, what the
//! disk holds after the last successful `sync_data`. Each directory keeps
//! its entries twice too: the live ones and those as of the last
//! `sync_dir`. A power cut ([`SimFs::power_cut`]) builds a new file system
//! from the durable images plus, chosen by a seed, part of what was not
//! synced: each unsynced directory entry change is kept or undone, and each
//! file keeps its synced content and a random prefix of what was written
//! after it (so the last record may be torn anywhere).
//!
//! Faults: [`fail_syncs`](SimFs::fail_syncs) makes the next file syncs fail
//! with `EIO` ([`fail_dir_syncs`](SimFs::fail_dir_syncs) a directory's), and, as Linux does, the data a failed sync could not write is
//! dropped: it stays readable, a later sync succeeds, and a power cut shows
//! zeros where it was. [`set_capacity`](SimFs::set_capacity) makes writes
//! past a total size fail with `StorageFull` (`ENOSPC`) after writing what
//! fits. [`hold_syncs`](SimFs::hold_syncs) parks syncs until released, so a
//! test can line appends up behind a sync in progress.
//!
//! Directories are always durable (made by `create_dir_all`, never removed).
//!
//! # Files
//!
//! This file holds the model's state, [`SimFs`]'s fault controls and the
//! [`FileSystem`] it implements; `power_cut.rs` builds the file system a
//! crash leaves; `tests.rs` holds the model's own tests.

mod power_cut;

use super::{FileLock, FileSystem, SegmentFile};
use crate::sync::{Condvar, Mutex, MutexGuard, lock, wait};
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// An in-memory [`FileSystem`] that can inject faults and simulate a power
/// cut. Clones share the same files.
///
/// # Examples
///
/// ```
/// use std::path::Path;
/// use weft_disk::fs::{FileSystem, SimFs};
///
/// let fs = SimFs::new();
/// let dir = Path::new("/log");
/// fs.create_dir_all(dir)?;
/// let file = fs.open(&dir.join("a"), true)?;
/// file.append(b"synced")?;
/// file.sync_data()?;
/// fs.sync_dir(dir)?;
/// file.append(b" and not")?;
///
/// let after = fs.power_cut(7);
/// let survived = after.read(&dir.join("a"))?;
/// assert!(survived.starts_with(b"synced"));
/// assert!(b"synced and not".starts_with(&survived));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct SimFs {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    /// Signalled when a sync parks or `hold_syncs(false)` releases them.
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    nodes: Vec<Node>,
    dirs: BTreeSet<PathBuf>,
    /// Path to node, as the process sees it.
    live: BTreeMap<PathBuf, usize>,
    /// Path to node, as of each directory's last sync.
    durable: BTreeMap<PathBuf, usize>,
    locks: BTreeSet<PathBuf>,
    failing_syncs: u32,
    failing_dir_syncs: u32,
    capacity: Option<u64>,
    hold: bool,
    held: usize,
    syncs: u64,
    dir_syncs: u64,
}

#[derive(Debug, Default, Clone)]
struct Node {
    data: Vec<u8>,
    synced: Vec<u8>,
    /// A failed sync dropped these bytes: their pages were marked clean, so
    /// no later sync writes them, and the disk holds zeros there.
    dropped: Option<(usize, usize)>,
}

impl Node {
    /// How many leading bytes the synced image and the written data share:
    /// the part a power cut cannot lose.
    fn synced_prefix(&self) -> usize {
        self.synced
            .iter()
            .zip(&self.data)
            .take_while(|(a, b)| a == b)
            .count()
    }
}

impl State {
    fn used(&self) -> u64 {
        self.live
            .values()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(|&node| self.nodes[node].data.len() as u64)
            .sum()
    }

    fn node_of(&self, path: &Path) -> io::Result<usize> {
        self.live.get(path).copied().ok_or_else(|| not_found(path))
    }

    fn check_parent(&self, path: &Path) -> io::Result<()> {
        match path.parent() {
            Some(parent) if self.dirs.contains(parent) => Ok(()),
            _ => Err(not_found(path)),
        }
    }
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{}: no such file (simulated)", path.display()),
    )
}

fn eio() -> io::Error {
    io::Error::other("input/output error (simulated failed sync)")
}

impl SimFs {
    /// An empty file system.
    pub fn new() -> SimFs {
        SimFs::default()
    }

    /// The next `count` file syncs fail with `EIO`, dropping the data they
    /// could not write, as Linux does.
    pub fn fail_syncs(&self, count: u32) {
        lock(&self.shared.state).failing_syncs = count;
    }

    /// The next `count` directory syncs fail with `EIO`; the entries they
    /// would have made durable stay as unsure as before.
    pub fn fail_dir_syncs(&self, count: u32) {
        lock(&self.shared.state).failing_dir_syncs = count;
    }

    /// Writes past `bytes` in all (or none, with `None`) fail with
    /// `StorageFull` after writing what fits.
    pub fn set_capacity(&self, bytes: Option<u64>) {
        lock(&self.shared.state).capacity = bytes;
    }

    /// While `hold` is true, syncs wait (parked) until it is set false.
    pub fn hold_syncs(&self, hold: bool) {
        lock(&self.shared.state).hold = hold;
        self.shared.changed.notify_all();
    }

    /// Waits until at least `count` syncs are parked by
    /// [`hold_syncs`](SimFs::hold_syncs).
    pub fn wait_held(&self, count: usize) {
        let mut state = lock(&self.shared.state);
        while state.held < count {
            state = wait(&self.shared.changed, state);
        }
    }

    /// How many file syncs succeeded so far.
    pub fn syncs(&self) -> u64 {
        lock(&self.shared.state).syncs
    }

    /// How many directory syncs succeeded so far.
    pub fn dir_syncs(&self) -> u64 {
        lock(&self.shared.state).dir_syncs
    }

    /// Parks a sync while syncs are held; then takes one injected failure
    /// of its kind (a directory's or a file's), if any is set.
    fn begin_sync(&self, dir: bool) -> (MutexGuard<'_, State>, bool) {
        let mut state = lock(&self.shared.state);
        if state.hold {
            state.held += 1;
            self.shared.changed.notify_all();
            while state.hold {
                state = wait(&self.shared.changed, state);
            }
            state.held -= 1;
        }
        let failing = if dir {
            &mut state.failing_dir_syncs
        } else {
            &mut state.failing_syncs
        };
        let fail = *failing > 0;
        if fail {
            *failing -= 1;
        }
        (state, fail)
    }
}

impl FileSystem for SimFs {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let mut state = lock(&self.shared.state);
        for ancestor in dir.ancestors() {
            state.dirs.insert(ancestor.to_owned());
        }
        Ok(())
    }

    fn open(&self, path: &Path, create: bool) -> io::Result<Box<dyn SegmentFile>> {
        let mut state = lock(&self.shared.state);
        state.check_parent(path)?;
        let node = match state.live.get(path) {
            Some(&node) => node,
            None if create => {
                state.nodes.push(Node::default());
                let node = state.nodes.len() - 1;
                state.live.insert(path.to_owned(), node);
                node
            }
            None => return Err(not_found(path)),
        };
        Ok(Box::new(SimFile {
            fs: self.clone(),
            node,
        }))
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let state = lock(&self.shared.state);
        let node = state.node_of(path)?;
        Ok(state.nodes[node].data.clone())
    }

    fn read_at(&self, path: &Path, position: u64, len: usize) -> io::Result<Vec<u8>> {
        let state = lock(&self.shared.state);
        let data = &state.nodes[state.node_of(path)?].data;
        let from = usize::try_from(position).unwrap_or(usize::MAX).min(data.len());
        let to = from.saturating_add(len).min(data.len());
        Ok(data[from..to].to_vec())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut state = lock(&self.shared.state);
        state.check_parent(to)?;
        let node = state.node_of(from)?;
        state.live.remove(from);
        state.live.insert(to.to_owned(), node);
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut state = lock(&self.shared.state);
        state.node_of(path)?;
        state.live.remove(path);
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let (mut state, fail) = self.begin_sync(true);
        if !state.dirs.contains(dir) {
            return Err(not_found(dir));
        }
        if fail {
            return Err(eio());
        }
        state.durable.retain(|path, _| path.parent() != Some(dir));
        let entries: Vec<(PathBuf, usize)> = state
            .live
            .iter()
            .filter(|(path, _)| path.parent() == Some(dir))
            .map(|(path, &node)| (path.clone(), node))
            .collect();
        state.durable.extend(entries);
        state.dir_syncs += 1;
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let state = lock(&self.shared.state);
        if !state.dirs.contains(dir) {
            return Err(not_found(dir));
        }
        Ok(state
            .live
            .keys()
            .filter(|path| path.parent() == Some(dir))
            .filter_map(|path| path.file_name()?.to_str().map(str::to_owned))
            .collect())
    }

    fn lock(&self, path: &Path) -> io::Result<Box<dyn FileLock>> {
        self.open(path, true)?;
        let mut state = lock(&self.shared.state);
        if !state.locks.insert(path.to_owned()) {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                format!("{} is locked (simulated)", path.display()),
            ));
        }
        Ok(Box::new(SimLock {
            fs: self.clone(),
            path: path.to_owned(),
        }))
    }
}

#[derive(Debug)]
struct SimFile {
    fs: SimFs,
    node: usize,
}

impl SegmentFile for SimFile {
    fn append(&self, bytes: &[u8]) -> io::Result<()> {
        let mut state = lock(&self.fs.shared.state);
        let room = match state.capacity {
            Some(capacity) => capacity.saturating_sub(state.used()),
            None => u64::MAX,
        };
        let fits = usize::try_from(room).unwrap_or(usize::MAX).min(bytes.len());
        state.nodes[self.node].data.extend_from_slice(&bytes[..fits]);
        if fits < bytes.len() {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "no space left on device (simulated)",
            ));
        }
        Ok(())
    }

    fn sync_data(&self) -> io::Result<()> {
        let (mut state, fail) = self.fs.begin_sync(false);
        let node = &mut state.nodes[self.node];
        if fail {
            node.dropped = Some((node.synced_prefix(), node.data.len()));
            return Err(eio());
        }
        node.synced = node.data.clone();
        if let Some((start, end)) = node.dropped {
            let end = end.min(node.synced.len());
            for byte in node.synced.iter_mut().take(end).skip(start) {
                *byte = 0;
            }
        }
        state.syncs += 1;
        Ok(())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut state = lock(&self.fs.shared.state);
        let len = usize::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        let node = &mut state.nodes[self.node];
        node.data.resize(len, 0);
        // Bytes written again over a dropped range reach the disk normally.
        node.dropped = match node.dropped {
            Some((start, _)) if len <= start => None,
            Some((start, end)) => Some((start, end.min(len))),
            None => None,
        };
        Ok(())
    }

    fn size(&self) -> io::Result<u64> {
        Ok(lock(&self.fs.shared.state).nodes[self.node].data.len() as u64)
    }
}

#[derive(Debug)]
struct SimLock {
    fs: SimFs,
    path: PathBuf,
}

impl FileLock for SimLock {
    fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SimLock {
    fn drop(&mut self) {
        lock(&self.fs.shared.state).locks.remove(&self.path);
    }
}

#[cfg(test)]
mod tests;
