//! The index directory: numbered generations, the `CURRENT` pointer and the
//! import lock.
//!
//! Layout of `index/`:
//!
//! ```text
//! CURRENT               name of the served generation ("gen-0000000007")
//! gen-0000000006/       an older generation, kept for rollback
//! gen-0000000007/       tantivy files + generation.json + ranks.bin + source.csv
//! gen-0000000008.building/   an import in progress (or a killed one's leftovers)
//! import.lock           held (flock) by the one import running
//! ```
//!
//! A generation directory is complete before it gets its final name, and
//! `CURRENT` is replaced by write-fsync-rename, so a crash at any moment
//! leaves either the old or the new pointer, each naming a whole generation.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::IndexError;

/// How many generations are kept on disk (the served one included).
pub const GENERATIONS_KEPT: usize = 3;

const POINTER: &str = "CURRENT";
/// One JSON line per import, newest last (`ketadir` and every server).
const IMPORT_LOG: &str = "imports.jsonl";
/// The import log is cut back to this many entries.
const IMPORT_LOG_KEPT: usize = 100;
const LOCK: &str = "import.lock";
const BUILDING_SUFFIX: &str = ".building";

/// What became of one import, as the import log records it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ImportLogEntry {
    pub at: String,
    /// `published`, `rejected` or `failed`.
    pub outcome: String,
    pub generation: Option<u64>,
    pub source: Option<String>,
    pub rows_read: u64,
    pub valid: u64,
    pub invalid: u64,
    pub seconds: f64,
    /// Why it was rejected or failed.
    pub detail: Option<String>,
}

#[derive(Debug, Clone)]
pub struct IndexDir {
    root: PathBuf,
}

/// Held while an import runs; the OS releases it when the process dies, so
/// a killed import never blocks the next one.
#[derive(Debug)]
pub struct ImportLock {
    _file: File,
}

fn io_error(context: String) -> impl FnOnce(std::io::Error) -> IndexError {
    move |source| IndexError::Io { context, source }
}

pub fn generation_name(generation: u64) -> String {
    format!("gen-{generation:010}")
}

fn parse_generation_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("gen-")?;
    (digits.len() == 10 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// Flushes a directory entry change (a rename) to disk.
fn sync_dir(path: &Path) -> Result<(), IndexError> {
    File::open(path)
        .and_then(|dir| dir.sync_all())
        .map_err(io_error(format!("syncing {}", path.display())))
}

impl IndexDir {
    pub fn new(root: impl Into<PathBuf>) -> IndexDir {
        IndexDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn create(&self) -> Result<(), IndexError> {
        fs::create_dir_all(&self.root).map_err(io_error(format!(
            "creating the index directory {}",
            self.root.display()
        )))
    }

    pub fn generation_path(&self, generation: u64) -> PathBuf {
        self.root.join(generation_name(generation))
    }

    pub fn pointer_path(&self) -> PathBuf {
        self.root.join(POINTER)
    }

    /// The generation `CURRENT` names, if any.
    pub fn current(&self) -> Result<Option<u64>, IndexError> {
        let path = self.pointer_path();
        match fs::read_to_string(&path) {
            Ok(text) => parse_generation_name(text.trim()).map(Some).ok_or_else(|| {
                IndexError::Corrupt(format!("{} does not name a generation", path.display()))
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(io_error(format!("reading {}", path.display()))(error)),
        }
    }

    /// Complete generations on disk, oldest first.
    pub fn generations(&self) -> Result<Vec<u64>, IndexError> {
        let entries = match fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(io_error(format!("listing {}", self.root.display()))(error)),
        };
        let mut generations: Vec<u64> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| parse_generation_name(&entry.file_name().to_string_lossy()))
            .collect();
        generations.sort_unstable();
        Ok(generations)
    }

    /// Takes the import lock, or says that another import holds it.
    pub fn lock_imports(&self) -> Result<ImportLock, IndexError> {
        self.create()?;
        let path = self.root.join(LOCK);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_error(format!("opening {}", path.display())))?;
        match file.try_lock() {
            Ok(()) => Ok(ImportLock { _file: file }),
            Err(fs::TryLockError::WouldBlock) => Err(IndexError::ImportInProgress),
            Err(fs::TryLockError::Error(source)) => Err(IndexError::Io {
                context: format!("locking {}", path.display()),
                source,
            }),
        }
    }

    /// Removes what killed imports left behind. Needs the import lock.
    pub fn remove_abandoned_builds(&self, _lock: &ImportLock) -> Result<(), IndexError> {
        let Ok(entries) = fs::read_dir(&self.root) else {
            return Ok(());
        };
        for entry in entries.filter_map(Result::ok) {
            if entry
                .file_name()
                .to_string_lossy()
                .ends_with(BUILDING_SUFFIX)
            {
                fs::remove_dir_all(entry.path())
                    .map_err(io_error(format!("removing {}", entry.path().display())))?;
            }
        }
        Ok(())
    }

    /// A fresh directory for the next generation, and its number.
    pub fn start_build(&self, lock: &ImportLock) -> Result<(u64, PathBuf), IndexError> {
        self.remove_abandoned_builds(lock)?;
        let newest = self.generations()?.last().copied().unwrap_or(0);
        let generation = newest + 1;
        let path = self
            .root
            .join(format!("{}{BUILDING_SUFFIX}", generation_name(generation)));
        fs::create_dir_all(&path).map_err(io_error(format!("creating {}", path.display())))?;
        Ok((generation, path))
    }

    /// Gives a finished build its final name (it is not served yet).
    pub fn finish_build(&self, building: &Path, generation: u64) -> Result<(), IndexError> {
        let target = self.generation_path(generation);
        fs::rename(building, &target).map_err(io_error(format!(
            "renaming {} to {}",
            building.display(),
            target.display()
        )))?;
        sync_dir(&self.root)
    }

    /// Points `CURRENT` at `generation`, atomically.
    pub fn publish(&self, generation: u64, _lock: &ImportLock) -> Result<(), IndexError> {
        let temporary = self.root.join(format!("{POINTER}.tmp"));
        let write = || -> std::io::Result<()> {
            let mut file = File::create(&temporary)?;
            writeln!(file, "{}", generation_name(generation))?;
            file.sync_all()?;
            fs::rename(&temporary, self.pointer_path())
        };
        write().map_err(io_error(format!(
            "publishing {}",
            generation_name(generation)
        )))?;
        sync_dir(&self.root)
    }

    /// Deletes all but the newest [`GENERATIONS_KEPT`] generations, never
    /// the served one. Servers still reading a deleted generation keep their
    /// open files (memory-mapped files outlive their names on Unix).
    pub fn prune(&self, _lock: &ImportLock) -> Result<Vec<u64>, IndexError> {
        let current = self.current()?;
        let generations = self.generations()?;
        let excess = generations.len().saturating_sub(GENERATIONS_KEPT);
        let mut removed = Vec::new();
        for &generation in generations.iter().take(excess) {
            if Some(generation) == current {
                continue;
            }
            let path = self.generation_path(generation);
            fs::remove_dir_all(&path).map_err(io_error(format!("removing {}", path.display())))?;
            removed.push(generation);
        }
        Ok(removed)
    }

    /// Appends an import's outcome to the import log, keeping the newest
    /// [`IMPORT_LOG_KEPT`] (rewritten by rename, like `CURRENT`).
    pub fn append_import_log(
        &self,
        entry: &ImportLogEntry,
        _lock: &ImportLock,
    ) -> Result<(), IndexError> {
        let mut entries = self.recent_imports(IMPORT_LOG_KEPT - 1);
        entries.push(entry.clone());
        let path = self.root.join(IMPORT_LOG);
        let temporary = self.root.join(format!("{IMPORT_LOG}.tmp"));
        let write = || -> std::io::Result<()> {
            let mut file = File::create(&temporary)?;
            for entry in &entries {
                serde_json::to_writer(&mut file, entry)?;
                file.write_all(b"\n")?;
            }
            file.sync_all()?;
            fs::rename(&temporary, &path)
        };
        write().map_err(io_error(format!("writing {}", path.display())))
    }

    /// The newest `count` entries of the import log, oldest first. A
    /// damaged line is skipped: the log is informative, not authoritative.
    pub fn recent_imports(&self, count: usize) -> Vec<ImportLogEntry> {
        let text = fs::read_to_string(self.root.join(IMPORT_LOG)).unwrap_or_default();
        let entries: Vec<ImportLogEntry> = text
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect();
        let skip = entries.len().saturating_sub(count);
        entries.into_iter().skip(skip).collect()
    }

    /// Switches `CURRENT` to the newest generation older than the served one.
    pub fn rollback(&self) -> Result<u64, IndexError> {
        let lock = self.lock_imports()?;
        let current = self.current()?.ok_or(IndexError::NoGeneration)?;
        let previous = self
            .generations()?
            .into_iter()
            .rfind(|g| *g < current)
            .ok_or(IndexError::NothingToRollBackTo)?;
        // One of another index format would be published but never served.
        super::check_format(self, previous)?;
        self.publish(previous, &lock)?;
        Ok(previous)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_names_round_trip() {
        assert_eq!(generation_name(7), "gen-0000000007");
        assert_eq!(parse_generation_name("gen-0000000007"), Some(7));
        assert_eq!(parse_generation_name("gen-0000000007.building"), None);
        assert_eq!(parse_generation_name("gen-7"), None);
    }

    #[test]
    fn a_second_import_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let index = IndexDir::new(dir.path());
        let first = index.lock_imports().expect("first lock");
        assert!(matches!(
            index.lock_imports(),
            Err(IndexError::ImportInProgress)
        ));
        drop(first);
        index.lock_imports().expect("lock after release");
    }
}
