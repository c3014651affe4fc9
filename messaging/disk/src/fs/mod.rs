//! The file system the log is written against.
//!
//! [`FileSystem`] and [`SegmentFile`] are the few calls the log makes:
//! create or open a file for appending, read a file, `fdatasync`, truncate,
//! rename, remove, fsync a directory, list a directory, take a lock file.
//! Two implementations:
//!
//! - [`StdFs`]: the real one, on `std::fs`. Files are created readable and
//!   writable by their owner only (mode `0600` on Unix).
//! - [`SimFs`]: in memory, for tests. It remembers what was synced apart
//!   from what was only written, so it can simulate a power cut
//!   ([`SimFs::power_cut`]), and it can inject the failures a disk has:
//!   a full disk (`ENOSPC`) and a failed sync (`EIO`), which, as on Linux,
//!   drops the dirty data it could not write.
//!
//! Paths are whatever the implementation makes of them: `StdFs` hands them
//! to the OS, `SimFs` uses them as keys.

mod sim;
mod std_fs;

pub use self::sim::SimFs;
pub use self::std_fs::StdFs;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The file-system calls the log makes. Implemented by [`StdFs`] and
/// [`SimFs`]; a test may bring its own.
///
/// Every method may fail with an `io::Error`; none may panic on any
/// argument.
pub trait FileSystem: fmt::Debug + Send + Sync + 'static {
    /// Creates `dir` and its parents if they are missing.
    ///
    /// # Errors
    ///
    /// The OS's.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;

    /// Opens `path` for appending; with `create`, makes it if it is missing
    /// (readable and writable by the owner only). A new file is not durable
    /// until its directory is synced ([`sync_dir`](FileSystem::sync_dir)).
    ///
    /// # Errors
    ///
    /// The OS's: `NotFound` without `create`, and so on.
    fn open(&self, path: &Path, create: bool) -> io::Result<Box<dyn SegmentFile>>;

    /// The whole content of `path`.
    ///
    /// # Errors
    ///
    /// The OS's.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;

    /// `len` bytes of `path` from byte `position`: fewer if the file ends
    /// first. The default reads the whole file and slices it; a file
    /// system that can read in place (a `pread`) should.
    ///
    /// # Errors
    ///
    /// The OS's.
    fn read_at(&self, path: &Path, position: u64, len: usize) -> io::Result<Vec<u8>> {
        let whole = self.read(path)?;
        let from = usize::try_from(position).unwrap_or(usize::MAX).min(whole.len());
        let to = from.saturating_add(len).min(whole.len());
        Ok(whole[from..to].to_vec())
    }

    /// Renames `from` to `to`, replacing `to`. Durable once the directory is
    /// synced.
    ///
    /// # Errors
    ///
    /// The OS's.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;

    /// Removes the file `path`. Durable once the directory is synced.
    ///
    /// # Errors
    ///
    /// The OS's.
    fn remove(&self, path: &Path) -> io::Result<()>;

    /// Makes the directory's entries durable (`fsync` on the directory):
    /// the files created, renamed and removed in it so far.
    ///
    /// # Errors
    ///
    /// The OS's. A failure leaves it unknown which entries are durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;

    /// The names of the files in `dir`, in no particular order.
    ///
    /// # Errors
    ///
    /// The OS's.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;

    /// Takes an exclusive lock on the file `path` (made if missing), held
    /// until the returned guard is dropped or the process dies.
    ///
    /// # Errors
    ///
    /// `WouldBlock` if someone else holds it; the OS's otherwise.
    fn lock(&self, path: &Path) -> io::Result<Box<dyn FileLock>>;
}

/// A file opened for appending, shared by the log's writers and its syncer
/// (every method takes `&self`).
pub trait SegmentFile: fmt::Debug + Send + Sync {
    /// Writes all of `bytes` at the end of the file.
    ///
    /// # Errors
    ///
    /// The OS's (`StorageFull` for `ENOSPC`). Part of `bytes` may have been
    /// written: the caller truncates back with
    /// [`set_len`](SegmentFile::set_len).
    fn append(&self, bytes: &[u8]) -> io::Result<()>;

    /// `fdatasync`: makes the content written so far durable.
    ///
    /// # Errors
    ///
    /// The OS's. After a failure the unsynced data may be lost even though
    /// a later sync succeeds (Linux marks the failed pages clean).
    fn sync_data(&self) -> io::Result<()>;

    /// Truncates (or extends with zeros) the file to `len` bytes. Durable
    /// after [`sync_data`](SegmentFile::sync_data).
    ///
    /// # Errors
    ///
    /// The OS's.
    fn set_len(&self, len: u64) -> io::Result<()>;

    /// The file's length now.
    ///
    /// # Errors
    ///
    /// The OS's.
    fn size(&self) -> io::Result<u64>;
}

/// A held lock file; dropping it lets go.
pub trait FileLock: fmt::Debug + Send + Sync {
    /// The lock file's path.
    fn path(&self) -> &Path;
}

/// `dir/name`, the one way the crate builds a file's path.
pub(crate) fn join(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

/// A shared file system is one: a log can be opened on an
/// `Arc<dyn FileSystem>` chosen at run time (the durable queue's options
/// keep one).
impl<F: FileSystem + ?Sized> FileSystem for std::sync::Arc<F> {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        (**self).create_dir_all(dir)
    }

    fn open(&self, path: &Path, create: bool) -> io::Result<Box<dyn SegmentFile>> {
        (**self).open(path, create)
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        (**self).read(path)
    }

    fn read_at(&self, path: &Path, position: u64, len: usize) -> io::Result<Vec<u8>> {
        (**self).read_at(path, position, len)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        (**self).rename(from, to)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        (**self).remove(path)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        (**self).sync_dir(dir)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        (**self).list(dir)
    }

    fn lock(&self, path: &Path) -> io::Result<Box<dyn FileLock>> {
        (**self).lock(path)
    }
}
