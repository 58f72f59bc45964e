//! The generation being served, and the watcher that follows `CURRENT`.
//!
//! [`ServedIndex`] holds the served generation behind an `ArcSwap`: a request
//! takes the current `Arc<Generation>` once and keeps it to the end, so a
//! swap never mixes generations within a response. A watcher thread polls
//! `CURRENT` and swaps in generations published by any process.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use arc_swap::ArcSwapOption;

use super::{Generation, IndexDir, IndexError};

/// How often a server checks for a newly published generation.
pub const PICKUP_INTERVAL: Duration = Duration::from_secs(1);

/// The index directory a server reads and the generation it serves now.
pub struct ServedIndex {
    pub index_dir: IndexDir,
    current: ArcSwapOption<Generation>,
    stop_watching: AtomicBool,
}

impl ServedIndex {
    /// Opens the served generation, if there is one.
    pub fn open(index_dir: IndexDir) -> Result<Arc<ServedIndex>, IndexError> {
        let state = Arc::new(ServedIndex {
            index_dir,
            current: ArcSwapOption::empty(),
            stop_watching: AtomicBool::new(false),
        });
        state.refresh()?;
        Ok(state)
    }

    /// The generation to answer the next request from.
    pub fn generation(&self) -> Option<Arc<Generation>> {
        self.current.load_full()
    }

    /// Swaps in the generation `CURRENT` names, if it is not the served one.
    /// The new one is opened and warmed before the swap.
    pub fn refresh(&self) -> Result<bool, IndexError> {
        let Some(wanted) = self.index_dir.current()? else {
            return Ok(false);
        };
        if self.generation().is_some_and(|g| g.number() == wanted) {
            return Ok(false);
        }
        let generation = Generation::open(&self.index_dir, wanted)?;
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
