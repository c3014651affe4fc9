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

use super::{FileLock, FileSystem, SegmentFile};
use crate::sync::{Condvar, Mutex, MutexGuard, lock, wait};
use std::collections::{BTreeMap, BTreeSet, HashMap};
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

    /// The file system as a power cut at this moment leaves it, with the
    /// unsynced part chosen by `seed`: durable entries and synced bytes
    /// survive; each unsynced entry change survives or not, and each file
    /// keeps a prefix of its unsynced bytes (possibly cutting a record in
    /// two). The new file system has no locks and no faults set; this one
    /// is left as it was.
    pub fn power_cut(&self, seed: u64) -> SimFs {
        let state = lock(&self.shared.state);
        let mut rng = XorShift::new(seed);
        let mut entries: BTreeMap<PathBuf, usize> = BTreeMap::new();
        let paths: BTreeSet<&PathBuf> = state.live.keys().chain(state.durable.keys()).collect();
        for path in paths {
            let live = state.live.get(path);
            let durable = state.durable.get(path);
            let survivor = if live == durable || rng.coin() {
                durable
            } else {
                live
            };
            if let Some(&node) = survivor {
                entries.insert(path.clone(), node);
            }
        }
        let mut nodes = Vec::new();
        let mut renumber = HashMap::new();
        let mut live = BTreeMap::new();
        for (path, node) in entries {
            let id = *renumber.entry(node).or_insert_with(|| {
                let content = crash_image(&state.nodes[node], &mut rng);
                nodes.push(Node {
                    data: content.clone(),
                    synced: content,
                    dropped: None,
                });
                nodes.len() - 1
            });
            live.insert(path, id);
        }
        let after = State {
            nodes,
            dirs: state.dirs.clone(),
            durable: live.clone(),
            live,
            ..State::default()
        };
        SimFs {
            shared: Arc::new(Shared {
                state: Mutex::new(after),
                changed: Condvar::new(),
            }),
        }
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

// ANCHOR: crash_image
/// What a power cut leaves of `node`: its synced bytes and a random prefix
/// of what was written after them; a truncation not yet synced may or may
/// not have happened.
fn crash_image(node: &Node, rng: &mut XorShift) -> Vec<u8> {
    let common = node
        .synced
        .iter()
        .zip(&node.data)
        .take_while(|(a, b)| a == b)
        .count();
    let keep = common + rng.below(node.data.len() - common + 1);
    let mut image = node.data[..keep].to_vec();
    if keep < node.synced.len() && rng.coin() {
        image.extend_from_slice(&node.synced[keep..]);
    }
    if let Some((start, end)) = node.dropped {
        for byte in image.iter_mut().take(end).skip(start) {
            *byte = 0;
        }
    }
    image
}
// ANCHOR_END: crash_image

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
            let start = node
                .synced
                .iter()
                .zip(&node.data)
                .take_while(|(a, b)| a == b)
                .count();
            node.dropped = Some((start, node.data.len()));
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

/// xorshift64*, enough to pick cut points; seed 0 is mapped to 1.
#[derive(Debug)]
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> XorShift {
        XorShift(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn coin(&mut self) -> bool {
        self.next() & 1 == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (SimFs, PathBuf) {
        let fs = SimFs::new();
        let dir = PathBuf::from("/d");
        fs.create_dir_all(&dir).unwrap();
        (fs, dir)
    }

    #[test]
    fn unsynced_file_may_vanish_and_synced_entry_stays() {
        let (fs, dir) = setup();
        let a = fs.open(&dir.join("a"), true).unwrap();
        a.append(b"x").unwrap();
        a.sync_data().unwrap();
        let mut vanished = 0;
        for seed in 0..64 {
            if fs.power_cut(seed).read(&dir.join("a")).is_err() {
                vanished += 1;
            }
        }
        assert!(
            vanished > 0 && vanished < 64,
            "the entry is random before sync_dir: {vanished}"
        );
        fs.sync_dir(&dir).unwrap();
        for seed in 0..64 {
            assert_eq!(fs.power_cut(seed).read(&dir.join("a")).unwrap(), b"x");
        }
    }

    #[test]
    fn power_cut_keeps_synced_and_a_prefix_of_the_rest() {
        let (fs, dir) = setup();
        let a = fs.open(&dir.join("a"), true).unwrap();
        fs.sync_dir(&dir).unwrap();
        a.append(b"0123").unwrap();
        a.sync_data().unwrap();
        a.append(b"456789").unwrap();
        let mut lengths = BTreeSet::new();
        for seed in 0..200 {
            let image = fs.power_cut(seed).read(&dir.join("a")).unwrap();
            assert!(b"0123456789".starts_with(&image) && image.len() >= 4);
            lengths.insert(image.len());
        }
        assert_eq!(lengths.len(), 7, "every cut point from 4 to 10 bytes shows up");
    }

    #[test]
    fn remove_and_rename_are_durable_only_after_sync_dir() {
        let (fs, dir) = setup();
        fs.open(&dir.join("a"), true).unwrap();
        fs.sync_dir(&dir).unwrap();
        fs.rename(&dir.join("a"), &dir.join("b")).unwrap();
        assert!(fs.read(&dir.join("a")).is_err());
        let undone = (0..64)
            .filter(|&s| fs.power_cut(s).read(&dir.join("a")).is_ok())
            .count();
        assert!(undone > 0);
        fs.sync_dir(&dir).unwrap();
        fs.remove(&dir.join("b")).unwrap();
        fs.sync_dir(&dir).unwrap();
        for seed in 0..16 {
            assert!(fs.power_cut(seed).list(&dir).unwrap().is_empty());
        }
    }

    #[test]
    fn failed_sync_drops_the_dirty_data_and_a_retry_lies() {
        let (fs, dir) = setup();
        let a = fs.open(&dir.join("a"), true).unwrap();
        fs.sync_dir(&dir).unwrap();
        a.append(b"ok").unwrap();
        a.sync_data().unwrap();
        a.append(b"lost").unwrap();
        fs.fail_syncs(1);
        assert_eq!(a.sync_data().unwrap_err().kind(), io::ErrorKind::Other);
        assert_eq!(fs.read(&dir.join("a")).unwrap(), b"oklost", "still readable");
        a.sync_data().unwrap();
        assert_eq!(fs.power_cut(1).read(&dir.join("a")).unwrap(), b"ok\0\0\0\0");
    }

    #[test]
    fn full_disk_writes_what_fits() {
        let (fs, dir) = setup();
        fs.set_capacity(Some(5));
        let a = fs.open(&dir.join("a"), true).unwrap();
        a.append(b"abc").unwrap();
        let error = a.append(b"defg").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::StorageFull);
        assert_eq!(a.size().unwrap(), 5);
        a.set_len(3).unwrap();
        assert_eq!(fs.read(&dir.join("a")).unwrap(), b"abc");
    }

    #[test]
    fn a_lock_is_exclusive_until_dropped() {
        let (fs, dir) = setup();
        let held = fs.lock(&dir.join("LOCK")).unwrap();
        let error = fs.lock(&dir.join("LOCK")).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
        drop(held);
        fs.lock(&dir.join("LOCK")).unwrap();
    }

    #[test]
    fn paths_outside_known_dirs_are_errors_not_panics() {
        let fs = SimFs::new();
        assert!(fs.open(Path::new("/nowhere/a"), true).is_err());
        assert!(fs.list(Path::new("/nowhere")).is_err());
        assert!(fs.sync_dir(Path::new("/nowhere")).is_err());
        assert!(fs.remove(Path::new("/nowhere/a")).is_err());
    }
}
