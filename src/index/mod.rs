//! Index generations: build a tantivy index from a CSV, publish it, open it.
//!
//! This module is the only code that writes under the index directory. A
//! build goes into a fresh directory and is published by an atomic pointer
//! switch (see [`generations`]); the served generation is never modified.

mod build;
mod generation;
pub mod generations;
pub mod ranks;
mod records;
pub mod schema;
mod served;
mod upgrade;

pub use build::{
    FAILED, ImportOptions, ImportOutcome, PUBLISHED, REJECTED, Rejection, import_csv,
    import_csv_locked, outcome_label,
};
pub use generation::{
    Generation, GenerationIdentity, GenerationMeta, INSURANCE_FACET_SETS, INSURANCE_OVERFLOW_BIT,
    RankArray, ReachEntry, ReachList, SegmentColumns, check_format, format_of,
};
pub use generations::{History, ImportLock, ImportLogEntry, IndexDir};
pub use served::{IndexStatus, PICKUP_INTERVAL, ServedIndex};
pub use upgrade::upgrade_current;

use crate::ingest::IngestError;

/// The layout of the generations this binary builds and reads. Each
/// generation records the version it was built with (`generation.json`);
/// one of another version is never opened: an older one is rebuilt from the
/// CSV kept in it ([`upgrade_current`]), a newer one is refused.
///
/// Bump it whenever a change makes older generations unreadable or wrong
/// for this code (a new column, a changed field, another ranking).
pub const FORMAT_VERSION: u32 = 4;

/// The format of a generation without a format marker (built before
/// generations recorded one).
pub const LEGACY_FORMAT_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("another import is running on this index directory; try again when it has finished")]
    ImportInProgress,
    #[error("the index directory holds no generation yet; run `ketadir index <CSV>` first")]
    NoGeneration,
    #[error("there is no older generation to roll back to")]
    NothingToRollBackTo,
    /// The generation a rollback would serve does not open; `CURRENT` was
    /// left as it was.
    #[error(
        "cannot roll back to generation {generation}: it does not open ({reason}); the rollback was refused and generation {served} is still served"
    )]
    BrokenRollbackTarget {
        generation: u64,
        served: u64,
        reason: String,
    },
    #[error("the index is damaged: {0}")]
    Corrupt(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("search engine error: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(
        "generation {generation} was built by an older ketadir (index format {found}, this binary reads {expected})"
    )]
    OldFormat {
        generation: u64,
        found: u32,
        expected: u32,
    },
    #[error(
        "generation {generation} was built by a newer ketadir (index format {found}); this binary reads format {expected} and will not serve it"
    )]
    NewerFormat {
        generation: u64,
        found: u32,
        expected: u32,
    },
    #[error("generation {generation} cannot be rebuilt for this ketadir: {reason}")]
    CannotRebuild { generation: u64, reason: String },
}
