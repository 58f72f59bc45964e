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

pub use build::{
    FAILED, ImportOptions, ImportOutcome, PUBLISHED, REJECTED, Rejection, import_csv,
    import_csv_locked, outcome_label,
};
pub use generation::{
    Generation, GenerationMeta, INSURANCE_FACET_SETS, INSURANCE_OVERFLOW_BIT, RankArray,
    SegmentColumns,
};
pub use generations::{ImportLock, ImportLogEntry, IndexDir};
pub use served::{PICKUP_INTERVAL, ServedIndex};

use crate::ingest::IngestError;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("another import is running on this index directory; try again when it has finished")]
    ImportInProgress,
    #[error("the index directory holds no generation yet; run `ketadir index <CSV>` first")]
    NoGeneration,
    #[error("there is no older generation to roll back to")]
    NothingToRollBackTo,
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
}
