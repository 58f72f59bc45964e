//! How fresh the served listings are: every provider of a generation
//! counted by the age of its `last_verified` date, for `/admin/status` and
//! the admin page. Read from the `verified_day` column that the generation
//! keeps in memory (no record is read), so a count over a million
//! providers takes about a millisecond.

use serde::Serialize;

use crate::clock::{day_number, format_utc};
use crate::index::Generation;

/// Listings by the age of `last_verified` on `as_of` (UTC): at most 90
/// days; more than 90 days but within 12 months (on or after the same date
/// a year earlier, as the profile's "verified more than 12 months ago"
/// warning counts); older; and never verified (no date). A date after
/// `as_of` counts as within 90 days.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Freshness {
    pub within_90_days: u64,
    pub within_12_months: u64,
    pub older: u64,
    pub unknown: u64,
    /// The day (UTC) the ages are counted from, `YYYY-MM-DD`.
    pub as_of: String,
}

fn date_of(day: u32) -> String {
    format_utc(u64::from(day) * 86_400)[..10].to_string()
}

/// The first day that is still "within 12 months" of `today`: the same
/// month and day one year earlier.
fn a_year_before(today: u32) -> u32 {
    let date = date_of(today);
    let year: u32 = date[..4].parse().unwrap_or(1971);
    day_number(&format!("{:04}{}", year.saturating_sub(1), &date[4..])).unwrap_or(0)
}

/// Counts the generation's providers into the buckets of [`Freshness`];
/// `today` is a day number (`clock::today_number`).
pub fn freshness(generation: &Generation, today: u32) -> Freshness {
    let mut counts = Freshness {
        as_of: date_of(today),
        ..Freshness::default()
    };
    let recent = today.saturating_sub(90);
    let year = a_year_before(today);
    for segment in &generation.segments {
        for &day in &segment.verified_day {
            // Unknown dates are stored as 0 (see index::schema).
            match day {
                0 => counts.unknown += 1,
                day if day >= recent => counts.within_90_days += 1,
                day if day >= year => counts.within_12_months += 1,
                _ => counts.older += 1,
            }
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_before_is_the_same_calendar_date() {
        let day = |date: &str| day_number(date).expect("date");
        assert_eq!(a_year_before(day("2026-12-01")), day("2025-12-01"));
        assert_eq!(a_year_before(day("2024-02-29")), day("2023-03-01"));
    }

    #[test]
    fn counts_fall_into_their_buckets() {
        let dir = tempfile::tempdir().expect("temp dir");
        let index_dir = crate::index::IndexDir::new(dir.path().join("index"));
        let csv = "id,name,city,state,zip,latitude,longitude,last_verified\n\
                   a,A,Denver,CO,80202,39.74,-104.99,2026-11-30\n\
                   b,B,Denver,CO,80202,39.74,-104.99,2026-09-02\n\
                   c,C,Denver,CO,80202,39.74,-104.99,2026-09-01\n\
                   d,D,Denver,CO,80202,39.74,-104.99,2025-12-01\n\
                   e,E,Denver,CO,80202,39.74,-104.99,2025-11-30\n\
                   f,F,Denver,CO,80202,39.74,-104.99,\n";
        let outcome = crate::index::import_csv(
            &index_dir,
            csv.as_bytes(),
            &crate::index::ImportOptions::default(),
            |_| {},
        )
        .expect("import runs");
        assert!(outcome.generation.is_some(), "{:?}", outcome.rejection);
        let generation = Generation::open_current(&index_dir).expect("opens");
        let today = day_number("2026-12-01").expect("date");
        let counts = freshness(&generation, today);
        assert_eq!(
            counts,
            Freshness {
                within_90_days: 2,
                within_12_months: 2,
                older: 1,
                unknown: 1,
                as_of: "2026-12-01".into(),
            }
        );
        let json = serde_json::to_value(counts).expect("serialises");
        assert_eq!(json["as_of"], "2026-12-01");
    }
}
