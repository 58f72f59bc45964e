//! The generation being served, and the watcher that follows `CURRENT`.
//!
//! [`ServedIndex`] holds the served generation behind an `ArcSwap`: a request
//! takes the current `Arc<Generation>` once and keeps it to the end, so a
//! swap never mixes generations within a response. A watcher thread polls
//! `CURRENT` and swaps in generations published by any process.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwapOption;

use super::{Generation, GenerationIdentity, ImportLogEntry, IndexDir, IndexError};

/// How often a server checks for a newly published generation.
pub const PICKUP_INTERVAL: Duration = Duration::from_secs(1);

/// The index directory a server reads and the generation it serves now.
pub struct ServedIndex {
    pub index_dir: IndexDir,
    current: ArcSwapOption<Generation>,
    stop_watching: AtomicBool,
    /// The last published generation refused for its format (0: none), so
    /// that the refusal is logged once, not at every poll.
    refused: AtomicU64,
}

impl ServedIndex {
    /// Opens the served generation, if there is one.
    pub fn open(index_dir: IndexDir) -> Result<Arc<ServedIndex>, IndexError> {
        let state = Arc::new(ServedIndex {
            index_dir,
            current: ArcSwapOption::empty(),
            stop_watching: AtomicBool::new(false),
            refused: AtomicU64::new(0),
        });
        state.refresh()?;
        Ok(state)
    }

    /// The generation to answer the next request from.
    pub fn generation(&self) -> Option<Arc<Generation>> {
        self.current.load_full()
    }

    /// Swaps in the generation `CURRENT` names, if it is not the served one.
    /// The new one is opened and warmed before the swap. A generation is
    /// told by its identity, not only its number: a directory that now
    /// holds another build under the served number (one an older ketadir
    /// made, or a copy put there by hand) is swapped in too.
    ///
    /// A generation of another index format (published by an older or a
    /// newer ketadir) is not swapped in: the served one stays, and the
    /// refusal is logged once per generation. With nothing served yet, it
    /// is an error.
    pub fn refresh(&self) -> Result<bool, IndexError> {
        let Some(wanted) = self.index_dir.current()? else {
            return Ok(false);
        };
        let served = self.generation();
        if let Some(served) = &served
            && served.number() == wanted
        {
            let path = self.index_dir.generation_path(wanted);
            match GenerationIdentity::read(&path) {
                Ok(identity) if identity != served.meta.identity() => {}
                // The same build; or its metadata is gone (its directory
                // deleted by hand): keep serving the open files.
                _ => return Ok(false),
            }
        }
        let generation = match Generation::open(&self.index_dir, wanted) {
            Err(error @ (IndexError::OldFormat { .. } | IndexError::NewerFormat { .. })) => {
                let Some(served) = served else {
                    return Err(error);
                };
                if self.refused.swap(wanted, Ordering::Relaxed) != wanted {
                    let restart = match error {
                        IndexError::OldFormat { .. } => " (restarting it rebuilds the generation)",
                        _ => "",
                    };
                    tracing::warn!(
                        "{error}; this server keeps serving generation {}{restart}",
                        served.number()
                    );
                }
                return Ok(false);
            }
            other => other?,
        };
        tracing::info!(
            generation = wanted,
            documents = generation.meta.documents,
            "serving generation"
        );
        self.current.store(Some(Arc::new(generation)));
        Ok(true)
    }

    /// Polls for new generations on a background thread until dropped.
    pub fn watch(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("generation-watcher".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(PICKUP_INTERVAL);
                    let Some(state) = weak.upgrade() else { return };
                    if state.stop_watching.load(Ordering::Relaxed) {
                        return;
                    }
                    if let Err(error) = state.refresh() {
                        tracing::error!(%error, "could not pick up the published generation");
                    }
                }
            });
        if let Err(error) = spawned {
            tracing::error!(%error, "could not start the generation watcher");
        }
    }

    pub fn stop_watching(&self) {
        self.stop_watching.store(true, Ordering::Relaxed);
    }
}

/// What an admin sees of the served index: the generation, where it came
/// from, what is on disk and the last imports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IndexStatus {
    pub generation: u64,
    pub documents: u64,
    pub built_at: String,
    pub source: Option<String>,
    pub source_sha256: Option<String>,
    pub source_bytes: u64,
    pub generations_on_disk: Vec<u64>,
    pub recent_imports: Vec<ImportLogEntry>,
}

impl ServedIndex {
    /// The served generation and the import log; `None` before an index is
    /// loaded. Reads the directory: blocking work.
    pub fn status(&self) -> Option<IndexStatus> {
        let generation = self.generation()?;
        let meta = &generation.meta;
        Some(IndexStatus {
            generation: meta.generation,
            documents: meta.documents,
            built_at: meta.built_at.clone(),
            source: meta.source.clone(),
            source_sha256: meta.source_sha256.clone(),
            source_bytes: meta.source_bytes,
            generations_on_disk: self.index_dir.generations().unwrap_or_default(),
            recent_imports: self.index_dir.recent_imports(20),
        })
    }

    /// Serves the previous generation again (here at once, elsewhere at
    /// the next poll) and returns its number. The generation is opened
    /// before `CURRENT` is switched, and swapped in here before this
    /// returns; one that does not open is refused
    /// ([`IndexError::BrokenRollbackTarget`]) and nothing changes.
    /// Blocking work.
    pub fn roll_back(&self) -> Result<u64, IndexError> {
        let generation = self.index_dir.rollback_opened()?;
        let number = generation.number();
        tracing::info!(
            generation = number,
            documents = generation.meta.documents,
            "serving generation (rolled back)"
        );
        self.current.store(Some(Arc::new(generation)));
        Ok(number)
    }
}
