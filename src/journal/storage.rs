//! Where the journal's bytes live: a small trait (so tests can plug in a filesystem that fails on
//! purpose) and its real implementation, one directory holding `journal.log`, a `journal.lock`
//! held with an exclusive OS lock while the journal is open, and `journal.tmp` during compaction.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The operations the journal needs from a store. Every method may fail; the journal then stops
/// writing (memory only) and reports it once.
pub trait Storage: Send {
    /// The whole log as stored (empty when there is none yet).
    fn load(&mut self) -> io::Result<Vec<u8>>;
    /// Appends bytes at the end of the log (not yet durable).
    fn append(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Makes everything appended so far durable (fsync).
    fn sync(&mut self) -> io::Result<()>;
    /// Atomically replaces the whole log with `bytes`, durably: after a crash at any point the log
    /// is either the old one or the new one.
    fn replace(&mut self, bytes: &[u8]) -> io::Result<()>;
}

/// Why a journal directory could not be opened.
#[derive(Debug)]
pub enum OpenError {
    /// Another process (or another open journal of this one) holds the directory's lock.
    Locked(PathBuf),
    /// The directory or a file in it could not be created, opened or read.
    Io(PathBuf, io::Error),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Locked(dir) => write!(
                f,
                "the journal directory {} is in use by another process (only one may use it at a time)",
                dir.display()
            ),
            OpenError::Io(dir, e) => {
                write!(f, "cannot use the journal directory {}: {e}", dir.display())
            }
        }
    }
}

/// Test hook: `XO_JOURNAL_TEST_PAUSE_US=<µs>` makes every write pause halfway (and compaction
/// pause before its rename), so a test that kills the process lands inside writes.
const PAUSE_ENV: &str = "XO_JOURNAL_TEST_PAUSE_US";

/// The journal in a directory of the real filesystem.
pub struct FsStorage {
    dir: PathBuf,
    log: File,
    /// Held (locked) for as long as this value lives.
    _lock: File,
    pause: Option<Duration>,
}

impl FsStorage {
    /// Creates the directory if needed, takes its lock (failing at once if it is held) and opens
    /// the log.
    pub fn open(dir: &Path) -> Result<FsStorage, OpenError> {
        let io_err = |e| OpenError::Io(dir.to_owned(), e);
        fs::create_dir_all(dir).map_err(io_err)?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("journal.lock"))
            .map_err(io_err)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(OpenError::Locked(dir.to_owned())),
            Err(fs::TryLockError::Error(e)) => return Err(io_err(e)),
        }
        let log = open_log(dir).map_err(io_err)?;
        let pause = std::env::var(PAUSE_ENV)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|us| *us > 0)
            .map(Duration::from_micros);
        Ok(FsStorage {
            dir: dir.to_owned(),
            log,
            _lock: lock,
            pause,
        })
    }

    fn pause(&self) {
        if let Some(pause) = self.pause {
            std::thread::sleep(pause);
        }
    }
}

fn open_log(dir: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(dir.join("journal.log"))
}

impl Storage for FsStorage {
    fn load(&mut self) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        let mut file = File::open(self.dir.join("journal.log"))?;
        file.read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.pause.is_some() && bytes.len() > 1 {
            let (first, rest) = bytes.split_at(bytes.len() / 2);
            self.log.write_all(first)?;
            self.pause();
            return self.log.write_all(rest);
        }
        self.log.write_all(bytes)
    }

    fn sync(&mut self) -> io::Result<()> {
        self.log.sync_data()
    }

    fn replace(&mut self, bytes: &[u8]) -> io::Result<()> {
        let tmp = self.dir.join("journal.tmp");
        {
            let mut file = File::create(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
        }
        self.pause();
        fs::rename(&tmp, self.dir.join("journal.log"))?;
        sync_dir(&self.dir)?;
        self.log = open_log(&self.dir)?;
        Ok(())
    }
}

/// Makes a rename in `dir` durable (a no-op where directories cannot be opened, e.g. Windows,
/// whose rename is durable once it returns with the file flushed).
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
