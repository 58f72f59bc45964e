//! Generations of another format than this binary's [`FORMAT_VERSION`]: an
//! older one is rebuilt from the CSV it keeps and published as a new
//! generation; a newer one is never served.

use std::fs::File;
use std::io::BufReader;

use super::build::{ImportOptions, ImportOutcome, SOURCE_FILE, import_csv_locked};
use super::generation::{GenerationMeta, check_format};
use super::generations::{ImportLock, IndexDir};
use super::{FORMAT_VERSION, IndexError};

/// Makes sure `CURRENT` names a generation this binary can serve.
///
/// - Nothing published, or a generation of [`FORMAT_VERSION`]: `Ok(None)`.
/// - An older format: says so (a warning in the log), waits for the import
///   lock, checks again (another process may have rebuilt it meanwhile),
///   re-imports the generation's `source.csv` through the normal import
///   path (invalid rows skipped and shrinking allowed, since it was
///   accepted once; the same `source` name) and publishes the result as a
///   new generation: `Ok(Some(outcome))`. A generation without its source
///   CSV, or whose CSV this binary rejects, is
///   [`IndexError::CannotRebuild`], and `CURRENT` is left as it was.
/// - A newer format: [`IndexError::NewerFormat`]; nothing is changed.
pub fn upgrade_current(dir: &IndexDir) -> Result<Option<ImportOutcome>, IndexError> {
    let Some(current) = dir.current()? else {
        return Ok(None);
    };
    if !needs_rebuild(dir, current)? {
        return Ok(None);
    }
    let lock = wait_for_import_lock(dir)?;
    // Again under the lock: another process may have published meanwhile
    // (its own rebuild, say). A generation's format never changes.
    let now = dir.current()?.ok_or(IndexError::NoGeneration)?;
    if now != current && !needs_rebuild(dir, now)? {
        return Ok(None);
    }
    rebuild(dir, &lock, now).map(Some)
}

/// Whether `generation` is of an older format (said in the log), or an
/// error when it is of a newer one.
fn needs_rebuild(dir: &IndexDir, generation: u64) -> Result<bool, IndexError> {
    match check_format(dir, generation) {
        Ok(()) => Ok(false),
        Err(error @ IndexError::OldFormat { .. }) => {
            tracing::warn!("{error}; rebuilding it from its source CSV");
            Ok(true)
        }
        Err(error) => Err(error),
    }
}

/// The import lock, waited for: a rebuild cannot be skipped.
fn wait_for_import_lock(dir: &IndexDir) -> Result<ImportLock, IndexError> {
    dir.lock_imports_waiting(|| {
        tracing::info!("another import is running; the rebuild waits for it to finish");
    })
}

fn rebuild(
    dir: &IndexDir,
    lock: &ImportLock,
    generation: u64,
) -> Result<ImportOutcome, IndexError> {
    let path = dir.generation_path(generation);
    let source_path = path.join(SOURCE_FILE);
    let file = match File::open(&source_path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(IndexError::CannotRebuild {
                generation,
                reason: format!(
                    "it keeps no source CSV ({} is missing); import the directory's CSV again with `ketadir index <CSV>`",
                    source_path.display()
                ),
            });
        }
        Err(source) => {
            return Err(IndexError::Io {
                context: format!("opening {}", source_path.display()),
                source,
            });
        }
    };
    // The name it was imported under; metadata of an old format may not
    // read, and then the rebuild is simply nameless.
    let source = GenerationMeta::read(&path)
        .ok()
        .and_then(|meta| meta.source);
    let options = ImportOptions {
        skip_invalid: true,
        allow_shrink: true,
        source,
    };
    let outcome = import_csv_locked(dir, lock, BufReader::new(file), &options, |_| {})?;
    match (outcome.generation, &outcome.rejection) {
        (Some(rebuilt), _) => {
            tracing::info!(
                documents = outcome.documents,
                "rebuilt generation {generation} from its source CSV as generation {rebuilt} (index format {FORMAT_VERSION})"
            );
            Ok(outcome)
        }
        (None, rejection) => Err(IndexError::CannotRebuild {
            generation,
            reason: match rejection {
                Some(rejection) => format!("its source CSV was rejected: {rejection}"),
                None => "its source CSV was rejected".into(),
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::build::tests::small_csv;
    use crate::index::{Generation, import_csv};

    fn set_format(dir: &IndexDir, generation: u64, format: u32) {
        let path = dir.generation_path(generation).join("generation.json");
        let mut meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("JSON");
        meta["format_version"] = format.into();
        std::fs::write(&path, meta.to_string()).expect("write");
    }

    fn imported(csv: &str) -> (tempfile::TempDir, IndexDir) {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = IndexDir::new(root.path().join("index"));
        let options = ImportOptions {
            source: Some("clinics.csv".into()),
            ..ImportOptions::default()
        };
        let outcome = import_csv(&dir, csv.as_bytes(), &options, |_| {}).expect("import");
        assert_eq!(outcome.generation, Some(1));
        (root, dir)
    }

    #[test]
    fn nothing_to_do_on_an_empty_directory_or_a_current_generation() {
        let root = tempfile::tempdir().expect("temp dir");
        let empty = IndexDir::new(root.path());
        assert!(upgrade_current(&empty).expect("empty").is_none());
        let (_root, dir) = imported(&small_csv("a", 12));
        assert!(upgrade_current(&dir).expect("current").is_none());
        assert_eq!(dir.generations().expect("list"), vec![1]);
    }

    #[test]
    fn an_older_generation_is_rebuilt_from_its_source_csv_as_a_new_one() {
        let csv = small_csv("a", 12);
        let (_root, dir) = imported(&csv);
        set_format(&dir, 1, FORMAT_VERSION - 1);
        assert!(matches!(
            Generation::open_current(&dir),
            Err(IndexError::OldFormat { generation: 1, .. })
        ));

        let outcome = upgrade_current(&dir).expect("rebuild").expect("rebuilt");
        assert_eq!(outcome.generation, Some(2));
        assert_eq!(outcome.documents, 12);
        assert_eq!(dir.current().expect("pointer"), Some(2));
        let rebuilt = Generation::open_current(&dir).expect("opens");
        assert_eq!(rebuilt.meta.format_version, FORMAT_VERSION);
        assert_eq!(rebuilt.meta.source.as_deref(), Some("clinics.csv"));
        assert_eq!(rebuilt.meta.documents, 12);
        let kept = std::fs::read(dir.generation_path(2).join(SOURCE_FILE)).expect("source");
        assert_eq!(kept, csv.as_bytes());
        // Done once: the next start finds nothing to do.
        assert!(upgrade_current(&dir).expect("again").is_none());
        // The old generation stays on disk, but is no rollback target: it
        // would be published and never served.
        assert!(matches!(
            dir.rollback(),
            Err(IndexError::OldFormat { generation: 1, .. })
        ));
        assert_eq!(dir.current().expect("pointer"), Some(2));
    }

    #[test]
    fn a_newer_generation_is_refused_and_left_alone() {
        let (_root, dir) = imported(&small_csv("a", 12));
        set_format(&dir, 1, FORMAT_VERSION + 1);
        let error = upgrade_current(&dir).expect_err("newer format");
        assert!(matches!(
            error,
            IndexError::NewerFormat { generation: 1, .. }
        ));
        assert!(error.to_string().contains(&format!(
            "index format {}); this binary reads format {FORMAT_VERSION} and will not serve it",
            FORMAT_VERSION + 1
        )));
        assert_eq!(dir.current().expect("pointer"), Some(1));
        assert_eq!(dir.generations().expect("list"), vec![1]);
    }

    #[test]
    fn an_older_generation_without_its_csv_cannot_be_rebuilt() {
        let (_root, dir) = imported(&small_csv("a", 12));
        set_format(&dir, 1, FORMAT_VERSION - 1);
        std::fs::remove_file(dir.generation_path(1).join(SOURCE_FILE)).expect("remove");
        let error = upgrade_current(&dir).expect_err("no source");
        assert!(
            matches!(error, IndexError::CannotRebuild { generation: 1, .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("keeps no source CSV"), "{error}");
        assert_eq!(dir.current().expect("pointer"), Some(1));
        assert_eq!(dir.generations().expect("list"), vec![1]);
    }
}
