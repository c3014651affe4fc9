//! The real file system, on `std::fs`.

use super::{FileLock, FileSystem, SegmentFile};
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The real file system, on `std::fs`: files made with mode `0600` on Unix,
/// `fdatasync` for [`SegmentFile::sync_data`], `fsync` on the directory's
/// descriptor for [`FileSystem::sync_dir`], and `flock` (through
/// [`File::try_lock`]) for the lock file, which the kernel lets go of when
/// the process dies, even by `kill -9`.
///
/// # Examples
///
/// ```
/// use weft_disk::fs::{FileSystem, StdFs};
///
/// let dir = std::env::temp_dir().join(format!("weft-disk-stdfs-{}", std::process::id()));
/// let fs = StdFs;
/// fs.create_dir_all(&dir)?;
/// let file = fs.open(&dir.join("a"), true)?;
/// file.append(b"hello")?;
/// file.sync_data()?;
/// fs.sync_dir(&dir)?;
/// assert_eq!(fs.read(&dir.join("a"))?, b"hello");
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct StdFs;

fn options(create: bool) -> OpenOptions {
    let mut options = OpenOptions::new();
    options.read(true).append(true).create(create);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

impl FileSystem for StdFs {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir)
    }

    fn open(&self, path: &Path, create: bool) -> io::Result<Box<dyn SegmentFile>> {
        Ok(Box::new(StdFile(options(create).open(path)?)))
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        fs::read(path)
    }

    fn read_at(&self, path: &Path, position: u64, len: usize) -> io::Result<Vec<u8>> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = File::open(path)?;
        file.seek(SeekFrom::Start(position))?;
        let mut bytes = Vec::with_capacity(len);
        file.take(len as u64).read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_type()?.is_file()
                && let Some(name) = entry.file_name().to_str()
            {
                names.push(name.to_owned());
            }
        }
        Ok(names)
    }

    fn lock(&self, path: &Path) -> io::Result<Box<dyn FileLock>> {
        let file = options(true).open(path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    format!("{} is locked by another process", path.display()),
                ));
            }
            Err(TryLockError::Error(error)) => return Err(error),
        }
        // The pid is for a person looking at the directory; the lock is the
        // flock, which dies with the process.
        file.set_len(0)?;
        (&file).write_all(format!("{}\n", std::process::id()).as_bytes())?;
        Ok(Box::new(StdLock {
            _file: file,
            path: path.to_owned(),
        }))
    }
}

#[derive(Debug)]
struct StdFile(File);

impl SegmentFile for StdFile {
    fn append(&self, bytes: &[u8]) -> io::Result<()> {
        (&self.0).write_all(bytes)
    }

    fn sync_data(&self) -> io::Result<()> {
        self.0.sync_data()
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }

    fn size(&self) -> io::Result<u64> {
        Ok(self.0.metadata()?.len())
    }
}

#[derive(Debug)]
struct StdLock {
    _file: File,
    path: PathBuf,
}

impl FileLock for StdLock {
    fn path(&self) -> &Path {
        &self.path
    }
}
