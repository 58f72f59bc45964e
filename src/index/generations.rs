//! The index directory: numbered generations, the `CURRENT` pointer, the
//! published history and the import lock.
//!
//! Layout of `index/`:
//!
//! ```text
//! CURRENT               name of the served generation ("gen-0000000007")
//! HISTORY               the published history and the highest number used (JSON)
//! gen-0000000006/       an older generation, kept for rollback
//! gen-0000000007/       tantivy files + generation.json + ranks.bin + source.csv
//! gen-0000000008.building/   an import in progress (or a killed one's leftovers)
//! import.lock           held (flock) by the one import running
//! ```
//!
//! A generation directory is complete before it gets its final name, and
//! `CURRENT` is replaced by write-fsync-rename, so a crash at any moment
//! leaves either the old or the new pointer, each naming a whole generation.
//!
//! **Published** means named by `CURRENT` at some moment. `HISTORY` lists
//! the published generations in the order they were served (the last is the
//! served one), and is written only after `CURRENT`, under the import lock:
//! every entry it holds was published. The history that counts is `HISTORY`
//! read against `CURRENT` ([`IndexDir::history`]), so a crash between the two
//! writes loses nothing: a `CURRENT` missing from the file is appended to it
//! (an import whose history write did not happen), and one found earlier in
//! it cuts off what follows (a rollback whose history write did not happen).
//! A directory written by an older ketadir, with `CURRENT` but no `HISTORY`,
//! has the history `[CURRENT]`.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use std::time::Duration;

use super::{Generation, IndexError};

/// How many entries of the published history keep their directories (the
/// served one included). Every other generation directory is pruned.
pub const GENERATIONS_KEPT: usize = 3;

const POINTER: &str = "CURRENT";
/// The published history (see [`History`]).
const HISTORY: &str = "HISTORY";
/// How often a caller that must wait retries the import lock.
const LOCK_RETRY: Duration = Duration::from_millis(200);
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

/// The published history, as `HISTORY` holds it (JSON):
///
/// ```json
/// { "published": [10, 12, 13], "highest": 13 }
/// ```
///
/// - `published`: the generations `CURRENT` named, in the order they were
///   served, oldest first; the last is the served one. An import appends
///   its generation, a rollback drops the last entry. Only the last
///   [`GENERATIONS_KEPT`] entries are kept, and exactly their directories
///   stay on disk. A number appears at most once.
/// - `highest`: the highest number ever given to a complete or published
///   generation. It is raised before a build gets its final name, so a
///   number is never used for two different generations, even when the
///   directory of one is gone.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct History {
    pub published: Vec<u64>,
    pub highest: u64,
}

impl History {
    /// The served generation, as far as the history knows.
    pub fn served(&self) -> Option<u64> {
        self.published.last().copied()
    }

    /// The generation a rollback would serve: the entry before the last.
    pub fn previous(&self) -> Option<u64> {
        let [.., previous, _] = self.published[..] else {
            return None;
        };
        Some(previous)
    }
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

    /// The published history: `HISTORY` read against `CURRENT` (see the
    /// module documentation). Without `HISTORY` (a directory of an older
    /// ketadir) it is `[CURRENT]`, or empty when nothing is published.
    ///
    /// With `CURRENT` missing, the entries of `HISTORY` are returned as
    /// written (each of them was published); see
    /// [`IndexDir::unpointed_generations`].
    pub fn history(&self) -> Result<History, IndexError> {
        let mut history = self.read_history_file()?.unwrap_or_default();
        if let Some(current) = self.current()? {
            match history.published.iter().position(|&g| g == current) {
                // A rollback whose history write did not happen (or one by
                // an older ketadir): what followed is no longer published.
                Some(at) => history.published.truncate(at + 1),
                // An import whose history write did not happen, or a
                // directory without HISTORY.
                None => history.published.push(current),
            }
        }
        let newest = history.published.iter().copied().max().unwrap_or(0);
        history.highest = history.highest.max(newest);
        Ok(history)
    }

    /// `HISTORY` as written, if there is one.
    fn read_history_file(&self) -> Result<Option<History>, IndexError> {
        let path = self.root.join(HISTORY);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|error| {
                IndexError::Corrupt(format!(
                    "{} cannot be read ({error}); remove it to read the history as the generation CURRENT names alone",
                    path.display()
                ))
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(io_error(format!("reading {}", path.display()))(error)),
        }
    }

    /// Writes `HISTORY` (its last [`GENERATIONS_KEPT`] entries) by
    /// write-fsync-rename.
    fn write_history(&self, history: &History, _lock: &ImportLock) -> Result<(), IndexError> {
        let skip = history.published.len().saturating_sub(GENERATIONS_KEPT);
        let kept = History {
            published: history.published[skip..].to_vec(),
            highest: history.highest,
        };
        let path = self.root.join(HISTORY);
        let temporary = self.root.join(format!("{HISTORY}.tmp"));
        let write = || -> std::io::Result<()> {
            let mut file = File::create(&temporary)?;
            serde_json::to_writer(&mut file, &kept)?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            fs::rename(&temporary, &path)
        };
        write().map_err(io_error(format!("writing {}", path.display())))?;
        sync_dir(&self.root)
    }

    /// Generations that should be served but that no `CURRENT` names: the
    /// published ones still on disk (all generations on disk in a directory
    /// without `HISTORY`, whose standing an older ketadir did not record).
    /// Empty when `CURRENT` exists, or when only never-published generations
    /// (what a crash before publishing leaves) are on disk. Read it under the
    /// import lock: an import between its rename and its publish has a
    /// generation on disk and no `CURRENT` yet.
    pub fn unpointed_generations(&self) -> Result<Vec<u64>, IndexError> {
        if self.current()?.is_some() {
            return Ok(Vec::new());
        }
        let on_disk = self.generations()?;
        Ok(match self.read_history_file()? {
            Some(history) => on_disk
                .into_iter()
                .filter(|g| history.published.contains(g))
                .collect(),
            None => on_disk,
        })
    }

    /// Takes the import lock, waiting for a running import to finish;
    /// `on_wait` is called once if it has to wait.
    pub fn lock_imports_waiting(&self, on_wait: impl FnOnce()) -> Result<ImportLock, IndexError> {
        let mut on_wait = Some(on_wait);
        loop {
            match self.lock_imports() {
                Err(IndexError::ImportInProgress) => {
                    if let Some(on_wait) = on_wait.take() {
                        on_wait();
                    }
                    std::thread::sleep(LOCK_RETRY);
                }
                other => return other,
            }
        }
    }

    /// A fresh directory for the next generation, and its number: one above
    /// the highest number ever used (recorded in `HISTORY`), the highest
    /// generation on disk and the one `CURRENT` names, so a number is never
    /// given to two generations. A build that never got its final name
    /// leaves no number behind (its `.building` directory was never read).
    pub fn start_build(&self, lock: &ImportLock) -> Result<(u64, PathBuf), IndexError> {
        self.remove_abandoned_builds(lock)?;
        let on_disk = self.generations()?.last().copied().unwrap_or(0);
        let generation = self.history()?.highest.max(on_disk) + 1;
        let path = self
            .root
            .join(format!("{}{BUILDING_SUFFIX}", generation_name(generation)));
        fs::create_dir_all(&path).map_err(io_error(format!("creating {}", path.display())))?;
        Ok((generation, path))
    }

    /// Gives a finished build its final name (it is not served yet), after
    /// recording its number as used.
    pub fn finish_build(
        &self,
        building: &Path,
        generation: u64,
        lock: &ImportLock,
    ) -> Result<(), IndexError> {
        let mut history = self.history()?;
        if history.highest < generation {
            history.highest = generation;
            self.write_history(&history, lock)?;
        }
        let target = self.generation_path(generation);
        fs::rename(building, &target).map_err(io_error(format!(
            "renaming {} to {}",
            building.display(),
            target.display()
        )))?;
        sync_dir(&self.root)
    }

    /// Publishes `generation`: points `CURRENT` at it, atomically, then
    /// appends it to the published history.
    pub fn publish(&self, generation: u64, lock: &ImportLock) -> Result<(), IndexError> {
        let mut history = self.history()?;
        self.write_pointer(generation)?;
        history.published.retain(|&g| g != generation);
        history.published.push(generation);
        history.highest = history.highest.max(generation);
        self.record_history(&history, lock);
        Ok(())
    }

    /// Writes `HISTORY` once `CURRENT` is written. The switch is done by
    /// then: a history that could not be written is one entry behind, and
    /// [`IndexDir::history`] reads it right against `CURRENT`.
    fn record_history(&self, history: &History, lock: &ImportLock) {
        if let Err(error) = self.write_history(history, lock) {
            tracing::warn!(
                %error,
                "could not record the published history; it is read from CURRENT until the next publish"
            );
        }
    }

    /// Writes `CURRENT` by write-fsync-rename. Needs the import lock.
    fn write_pointer(&self, generation: u64) -> Result<(), IndexError> {
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

    /// Deletes every generation directory but those of the last
    /// [`GENERATIONS_KEPT`] entries of the published history: older
    /// entries, generations that were never published (a crash between a
    /// build's rename and its publish) and ones a rollback moved away from.
    /// The served generation, the last entry, is never deleted. Servers
    /// still reading a deleted generation keep their open files
    /// (memory-mapped files outlive their names on Unix).
    pub fn prune(&self, lock: &ImportLock) -> Result<Vec<u64>, IndexError> {
        let history = self.history()?;
        let skip = history.published.len().saturating_sub(GENERATIONS_KEPT);
        let kept = &history.published[skip..];
        if kept.len() < history.published.len() {
            self.write_history(&history, lock)?;
        }
        let current = self.current()?;
        let mut removed = Vec::new();
        for generation in self.generations()? {
            if kept.contains(&generation) || Some(generation) == current {
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

    /// Serves again the generation served before this one (the entry before
    /// the last of the published history) and returns its number.
    pub fn rollback(&self) -> Result<u64, IndexError> {
        self.rollback_opened().map(|generation| generation.number())
    }

    /// [`IndexDir::rollback`], returning the target opened (and checked)
    /// before `CURRENT` was switched to it.
    ///
    /// Refused, with `CURRENT` and `HISTORY` unchanged: while an import runs
    /// ([`IndexError::ImportInProgress`]), with nothing published
    /// ([`IndexError::NoGeneration`]), with one entry in the history
    /// ([`IndexError::NothingToRollBackTo`]), a target of another index
    /// format ([`IndexError::OldFormat`], [`IndexError::NewerFormat`]: it
    /// would be published and never served) and a target that does not open
    /// ([`IndexError::BrokenRollbackTarget`]). Deletes nothing.
    pub fn rollback_opened(&self) -> Result<Generation, IndexError> {
        let lock = self.lock_imports()?;
        let served = self.current()?.ok_or(IndexError::NoGeneration)?;
        let mut history = self.history()?;
        let previous = history.previous().ok_or(IndexError::NothingToRollBackTo)?;
        let generation = match Generation::open(self, previous) {
            Ok(generation) => generation,
            Err(error @ (IndexError::OldFormat { .. } | IndexError::NewerFormat { .. })) => {
                return Err(error);
            }
            Err(error) => {
                return Err(IndexError::BrokenRollbackTarget {
                    generation: previous,
                    served,
                    reason: error.to_string(),
                });
            }
        };
        self.write_pointer(previous)?;
        history.published.pop();
        self.record_history(&history, &lock);
        Ok(generation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::build::tests::small_csv;
    use crate::index::{ImportOptions, import_csv};

    fn import(dir: &IndexDir, prefix: &str) -> Result<u64, IndexError> {
        let csv = small_csv(prefix, 12);
        let outcome = import_csv(dir, csv.as_bytes(), &ImportOptions::default(), |_| {})?;
        Ok(outcome.generation.expect("published"))
    }

    fn history_file(dir: &IndexDir) -> History {
        serde_json::from_slice(&fs::read(dir.root().join(HISTORY)).expect("HISTORY")).expect("JSON")
    }

    /// Makes publishing fail (`CURRENT.tmp` cannot be created): the build
    /// is complete and renamed, never published.
    fn import_that_fails_to_publish(dir: &IndexDir, prefix: &str) -> u64 {
        let blocker = dir.root().join("CURRENT.tmp");
        fs::create_dir(&blocker).expect("mkdir CURRENT.tmp");
        let error = import(dir, prefix).expect_err("publishing fails");
        assert!(error.to_string().contains("publishing"), "{error}");
        fs::remove_dir(&blocker).expect("rmdir CURRENT.tmp");
        *dir.generations()
            .expect("list")
            .last()
            .expect("a generation")
    }

    #[test]
    fn the_history_records_what_was_published_in_order() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = IndexDir::new(root.path());
        assert_eq!(dir.history().expect("history"), History::default());
        for (n, prefix) in ["a", "b", "c", "d"].into_iter().enumerate() {
            assert_eq!(import(&dir, prefix).expect("import"), n as u64 + 1);
        }
        let expected = History {
            published: vec![2, 3, 4],
            highest: 4,
        };
        assert_eq!(history_file(&dir), expected);
        assert_eq!(dir.history().expect("history"), expected);
        assert_eq!(dir.generations().expect("list"), vec![2, 3, 4]);
    }

    #[test]
    fn a_directory_without_history_reads_as_current_alone() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = IndexDir::new(root.path());
        for prefix in ["a", "b", "c"] {
            import(&dir, prefix).expect("import");
        }
        // As an older ketadir left it: generations and CURRENT, no HISTORY.
        fs::remove_file(root.path().join(HISTORY)).expect("remove HISTORY");
        let history = dir.history().expect("history");
        assert_eq!(
            history,
            History {
                published: vec![3],
                highest: 3
            }
        );
        assert!(matches!(
            dir.rollback(),
            Err(IndexError::NothingToRollBackTo)
        ));
        // The next import starts the history; the older directories, whose
        // standing is unknown, are pruned.
        assert_eq!(import(&dir, "d").expect("import"), 4);
        assert_eq!(history_file(&dir).published, vec![3, 4]);
        assert_eq!(dir.generations().expect("list"), vec![3, 4]);
        assert_eq!(dir.rollback().expect("rollback"), 3);
    }

    #[test]
    fn a_crash_between_current_and_history_is_read_against_current() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = IndexDir::new(root.path());
        for prefix in ["a", "b"] {
            import(&dir, prefix).expect("import");
        }
        let lock = dir.lock_imports().expect("lock");
        // An import's pointer written, its history not: appended.
        dir.write_pointer(3).expect("pointer");
        assert_eq!(dir.history().expect("history").published, vec![1, 2, 3]);
        // A rollback's pointer written, its history not: cut after it.
        dir.write_pointer(1).expect("pointer");
        assert_eq!(dir.history().expect("history").published, vec![1]);
        assert_eq!(dir.history().expect("history").highest, 2);
        drop(lock);
    }

    #[test]
    fn a_never_published_generation_takes_no_slot_and_is_no_rollback_target() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = IndexDir::new(root.path());
        assert_eq!(import(&dir, "a").expect("import"), 1);
        assert_eq!(import(&dir, "b").expect("import"), 2);
        // Two imports die between their rename and their publish.
        assert_eq!(import_that_fails_to_publish(&dir, "x"), 3);
        assert_eq!(import_that_fails_to_publish(&dir, "y"), 4);
        assert_eq!(dir.current().expect("pointer"), Some(2));
        assert_eq!(dir.generations().expect("list"), vec![1, 2, 3, 4]);

        assert_eq!(import(&dir, "c").expect("import"), 5);
        // Pruned by the history: the never-published ones go, the one
        // served a moment ago stays.
        assert_eq!(dir.generations().expect("list"), vec![1, 2, 5]);
        assert_eq!(dir.rollback().expect("rollback"), 2);
        assert_eq!(dir.rollback().expect("rollback"), 1);
        assert!(matches!(
            dir.rollback(),
            Err(IndexError::NothingToRollBackTo)
        ));
        assert_eq!(dir.current().expect("pointer"), Some(1));
    }

    #[test]
    fn a_rollback_then_an_import_then_a_rollback_returns_to_what_was_served_before() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = IndexDir::new(root.path());
        for prefix in ["a", "b"] {
            import(&dir, prefix).expect("import");
        }
        assert_eq!(dir.rollback().expect("rollback"), 1);
        // Numbers only grow: 2 was used.
        assert_eq!(import(&dir, "c").expect("import"), 3);
        assert_eq!(history_file(&dir).published, vec![1, 3]);
        // 2, rolled away from, is out of the history: pruned.
        assert_eq!(dir.generations().expect("list"), vec![1, 3]);
        // Not 2, nor the newest directory below 3.
        assert_eq!(dir.rollback().expect("rollback"), 1);
        assert_eq!(history_file(&dir).published, vec![1]);
        // A rollback deletes nothing; the next import prunes 3.
        assert_eq!(dir.generations().expect("list"), vec![1, 3]);
        assert_eq!(import(&dir, "d").expect("import"), 4);
        assert_eq!(dir.generations().expect("list"), vec![1, 4]);
    }

    #[test]
    fn a_rollback_target_that_does_not_open_is_refused_and_nothing_changes() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = IndexDir::new(root.path());
        for prefix in ["a", "b", "c"] {
            import(&dir, prefix).expect("import");
        }
        fs::remove_file(dir.generation_path(2).join("ranks.bin")).expect("remove ranks.bin");
        let before = fs::read(root.path().join(HISTORY)).expect("HISTORY");
        let error = dir.rollback().expect_err("refused");
        assert!(
            matches!(
                error,
                IndexError::BrokenRollbackTarget {
                    generation: 2,
                    served: 3,
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(error.to_string().contains("ranks.bin"), "{error}");
        assert_eq!(dir.current().expect("pointer"), Some(3));
        assert_eq!(
            fs::read(root.path().join(HISTORY)).expect("HISTORY"),
            before
        );
    }

    #[test]
    fn a_number_is_never_used_twice_even_when_its_directory_is_gone() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = IndexDir::new(root.path());
        for prefix in ["a", "b", "c"] {
            import(&dir, prefix).expect("import");
        }
        // The served generation deleted by hand, and CURRENT with it.
        fs::remove_dir_all(dir.generation_path(3)).expect("rm gen-3");
        assert_eq!(import(&dir, "d").expect("import"), 4);
        fs::remove_dir_all(dir.generation_path(4)).expect("rm gen-4");
        fs::remove_file(dir.pointer_path()).expect("rm CURRENT");
        assert_eq!(import(&dir, "e").expect("import"), 5);
        // A never-published generation's number is recorded before it gets
        // its final name.
        let unpublished = import_that_fails_to_publish(&dir, "f");
        assert_eq!(unpublished, 6);
        fs::remove_dir_all(dir.generation_path(6)).expect("rm gen-6");
        assert_eq!(import(&dir, "g").expect("import"), 7);
    }

    #[test]
    fn generations_without_a_pointer_are_reported_only_when_published() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = IndexDir::new(root.path());
        assert!(dir.unpointed_generations().expect("empty").is_empty());
        // Only a never-published build on disk: nothing stranded.
        import_that_fails_to_publish(&dir, "x");
        assert!(dir.unpointed_generations().expect("unpublished").is_empty());
        import(&dir, "a").expect("import");
        import(&dir, "b").expect("import");
        assert!(dir.unpointed_generations().expect("pointed").is_empty());
        fs::remove_file(dir.pointer_path()).expect("rm CURRENT");
        assert_eq!(dir.unpointed_generations().expect("stranded"), vec![2, 3]);
        // Without HISTORY (an older ketadir's directory) any generation is.
        fs::remove_file(root.path().join(HISTORY)).expect("rm HISTORY");
        assert_eq!(dir.unpointed_generations().expect("stranded"), vec![2, 3]);
    }

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
