//! Listing reports (docs/api.md, "Reporting a wrong listing"; README.md): visitors flag a wrong listing, admins triage
//! the reports. **Nothing a visitor sends changes a listing**: the CSV
//! stays the source of truth, and a report only ever reaches the admin
//! queue.
//!
//! - [`Submission`]: what a visitor may send (reasons from a closed list,
//!   optional details), validated the same way for the JSON API and the
//!   profile's form.
//! - [`ReportStore`]: the queue in a real database — SQLite in the index
//!   directory by default, PostgreSQL when a URL is given (what replicas
//!   share). Migrations (`migrations/sqlite`, `migrations/postgres`) run
//!   before first use. Client addresses are kept only as a salted hash
//!   (HMAC-SHA-256 under a random per-installation salt stored in the
//!   database), for 24 hours, for the rate limit and repeat detection.
//! - [`dropped_providers`]: which providers with open reports a
//!   generation no longer lists; the server closes their reports as
//!   `listing_removed` with that generation's number.
//! - [`to_csv`]: the admin's CSV export, safe to open in a spreadsheet.
//!
//! No HTTP here (`routes::reports` and `routes::admin::reports` are the
//! thin HTTP side).

mod client;
mod csv_export;
mod store;
mod submission;
pub mod sweep;

use serde::Serialize;

pub use client::client_key;
pub use csv_export::to_csv;
pub use store::{DatabaseSettings, ReportStore, Resolved, StoreError, Submitted, is_report_id};
pub use submission::{MAX_DETAILS_CHARS, MAX_NOTE_CHARS, Submission, clean_note};

use crate::index::Generation;

/// At most this many reports per client per hour.
pub const REPORTS_PER_HOUR: u32 = 5;
/// A report of the same provider and reason by the same client within this
/// many seconds is a repeat: answered with the earlier report's id.
pub const REPEAT_WINDOW_SECONDS: i64 = 24 * 60 * 60;
/// The rate limit's window.
pub const LIMIT_WINDOW_SECONDS: i64 = 60 * 60;
/// Client hashes older than this are cleared: past both windows nothing
/// needs them.
pub const CLIENT_HASH_KEPT_SECONDS: i64 = REPEAT_WINDOW_SECONDS;

/// What is wrong with a listing: the closed list of docs/api.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    Phone,
    Address,
    Closed,
    NoKetamine,
    Insurance,
    Price,
    Website,
    Other,
}

impl Reason {
    pub const ALL: [Reason; 8] = [
        Reason::Phone,
        Reason::Address,
        Reason::Closed,
        Reason::NoKetamine,
        Reason::Insurance,
        Reason::Price,
        Reason::Website,
        Reason::Other,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Reason::Phone => "phone",
            Reason::Address => "address",
            Reason::Closed => "closed",
            Reason::NoKetamine => "no_ketamine",
            Reason::Insurance => "insurance",
            Reason::Price => "price",
            Reason::Website => "website",
            Reason::Other => "other",
        }
    }

    /// How the form and the admin page say it.
    pub fn label(self) -> &'static str {
        match self {
            Reason::Phone => "The phone number is wrong",
            Reason::Address => "The address is wrong",
            Reason::Closed => "The practice has closed",
            Reason::NoKetamine => "They do not offer ketamine therapy",
            Reason::Insurance => "The insurance information is wrong",
            Reason::Price => "The prices are wrong",
            Reason::Website => "The website is wrong or broken",
            Reason::Other => "Something else (please describe it)",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.slug() == slug)
    }

    /// The slugs, comma-separated, for messages.
    pub fn allowed() -> String {
        Reason::ALL.map(Reason::slug).join(", ")
    }
}

/// Where a report is in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Open,
    Resolved,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Resolved => "resolved",
        }
    }

    fn parse(text: &str) -> Option<Status> {
        match text {
            "open" => Some(Status::Open),
            "resolved" => Some(Status::Resolved),
            _ => None,
        }
    }
}

/// How a report was closed: by an admin (`fixed`, `dismissed`) or by an
/// import that dropped the provider (`listing_removed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    Fixed,
    Dismissed,
    ListingRemoved,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Fixed => "fixed",
            Resolution::Dismissed => "dismissed",
            Resolution::ListingRemoved => "listing_removed",
        }
    }

    fn parse(text: &str) -> Option<Resolution> {
        match text {
            "fixed" => Some(Resolution::Fixed),
            "dismissed" => Some(Resolution::Dismissed),
            "listing_removed" => Some(Resolution::ListingRemoved),
            _ => None,
        }
    }

    /// What an admin may choose (`listing_removed` is the import's).
    pub fn by_admin(text: &str) -> Option<Resolution> {
        match text {
            "fixed" => Some(Resolution::Fixed),
            "dismissed" => Some(Resolution::Dismissed),
            _ => None,
        }
    }
}

/// Which reports a listing asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    #[default]
    Open,
    Resolved,
    All,
}

impl StatusFilter {
    pub fn parse(text: &str) -> Option<StatusFilter> {
        match text {
            "open" => Some(StatusFilter::Open),
            "resolved" => Some(StatusFilter::Resolved),
            "all" => Some(StatusFilter::All),
            _ => None,
        }
    }
}

/// One report as the admin sees it (the JSON of `GET /admin/reports`).
/// Never carries the client hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub id: String,
    pub provider_id: String,
    pub reasons: Vec<&'static str>,
    pub details: Option<String>,
    pub status: Status,
    pub resolution: Option<Resolution>,
    pub note: Option<String>,
    /// The generation whose import closed it (`listing_removed` only).
    pub generation: Option<u64>,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub created_at: String,
    pub resolved_at: Option<String>,
    /// `created_at` as Unix seconds, for ages.
    #[serde(skip)]
    pub created_unix: i64,
}

/// The open queue at a glance, for `/admin/status` and `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct QueueStats {
    pub open: u64,
    /// Seconds since the oldest open report was sent (`null`: none open).
    pub oldest_open_age_seconds: Option<u64>,
    /// Every report ever stored, by reason (all reasons, zeros included).
    #[serde(skip)]
    pub by_reason: Vec<(Reason, u64)>,
}

/// The providers among `provider_ids` that `generation` does not list.
/// Blocking work (one term lookup each): run it off the event loop.
pub fn dropped_providers(
    generation: &Generation,
    provider_ids: Vec<String>,
) -> Result<Vec<String>, crate::search::SearchError> {
    let mut dropped = Vec::new();
    for id in provider_ids {
        if !crate::search::has_provider(generation, &id)? {
            dropped.push(id);
        }
    }
    Ok(dropped)
}

/// `seconds` as a short age for people: "45 minutes", "3 hours", "12 days".
pub fn age_text(seconds: u64) -> String {
    let (value, unit) = match seconds {
        0..120 => return "just now".into(),
        120..7_200 => (seconds / 60, "minutes"),
        7_200..172_800 => (seconds / 3_600, "hours"),
        _ => (seconds / 86_400, "days"),
    };
    format!("{value} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_round_trip_and_stay_in_order() {
        for reason in Reason::ALL {
            assert_eq!(Reason::from_slug(reason.slug()), Some(reason));
        }
        assert_eq!(Reason::from_slug("Phone"), None);
        assert_eq!(Reason::from_slug(""), None);
        let mut sorted = Reason::ALL;
        sorted.sort();
        assert_eq!(sorted, Reason::ALL, "Ord is the vocabulary's order");
        assert_eq!(
            Reason::allowed(),
            "phone, address, closed, no_ketamine, insurance, price, website, other"
        );
    }

    #[test]
    fn statuses_and_resolutions_parse_their_own_words() {
        for status in [Status::Open, Status::Resolved] {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        for resolution in [
            Resolution::Fixed,
            Resolution::Dismissed,
            Resolution::ListingRemoved,
        ] {
            assert_eq!(Resolution::parse(resolution.as_str()), Some(resolution));
        }
        assert_eq!(Resolution::by_admin("listing_removed"), None);
        assert_eq!(Resolution::by_admin("fixed"), Some(Resolution::Fixed));
        assert_eq!(StatusFilter::parse("all"), Some(StatusFilter::All));
        assert_eq!(StatusFilter::parse("closed"), None);
    }

    #[test]
    fn ages_read_naturally() {
        assert_eq!(age_text(5), "just now");
        assert_eq!(age_text(600), "10 minutes");
        assert_eq!(age_text(3 * 3_600), "3 hours");
        assert_eq!(age_text(12 * 86_400 + 5), "12 days");
    }
}
