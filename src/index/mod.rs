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

pub use build::{
    FAILED, ImportOptions, ImportOutcome, PUBLISHED, REJECTED, Rejection, import_csv,
    import_csv_locked, outcome_label,
};
pub use generation::{
    Generation, GenerationMeta, INSURANCE_FACET_SETS, INSURANCE_OVERFLOW_BIT, RankArray,
    SegmentColumns,
};
pub use generations::{ImportLock, ImportLogEntry, IndexDir};

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

/// Seconds since the Unix epoch now (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_utc(unix_seconds: u64) -> String {
    let days = (unix_seconds / 86_400) as i64;
    let seconds_of_day = unix_seconds % 86_400;
    // Civil-from-days (H. Hinnant): proleptic Gregorian calendar.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds_of_day / 3600,
        seconds_of_day / 60 % 60,
        seconds_of_day % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc_timestamps() {
        assert_eq!(super::format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::format_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::format_utc(1_796_083_199), "2026-11-30T23:59:59Z");
    }
}
