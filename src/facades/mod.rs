//! The partner facades: the served generation in the formats directory
//! partners already speak, FHIR R4 with the Da Vinci Plan-Net profiles
//! ([`fhir`], docs/fhir.md) and Open Referral HSDS 3.0 ([`hsds`],
//! docs/hsds.md).
//!
//! Both are read-only views over the same search: their parameters are
//! translated into the pairs [`SearchRequest::from_pairs`] reads (plus the
//! few filters only the facades set: ids, a ZIP prefix, a range of
//! verification days), [`crate::search::search`] answers, and each
//! [`crate::search::Hit`] is mapped to the standard's records. So a facade
//! search costs what the JSON API's costs, plus building its records. No
//! HTTP here: `routes::fhir` and `routes::hsds` are the thin HTTP side.
//!
//! [`SearchRequest::from_pairs`]: crate::search::SearchRequest::from_pairs

pub mod fhir;
pub mod hsds;
pub mod node;
mod time;

use crate::search::InvalidParam;

/// Metres in a statute mile (exact, by definition).
pub const METRES_PER_MILE: f64 = 1609.344;

/// Kilometres in a statute mile.
pub const KM_PER_MILE: f64 = 1.609_344;

/// A bad parameter, named as the facade's caller wrote it.
fn invalid(name: &str, reason: impl Into<String>) -> InvalidParam {
    InvalidParam {
        name: name.to_string(),
        reason: reason.into(),
    }
}

/// `last_verified` (`YYYY-MM-DD`) as the instant both standards want:
/// midnight UTC of that day.
pub fn verified_instant(date: &str) -> String {
    format!("{date}T00:00:00Z")
}

/// Renames the search's own parameter names in its errors to the names
/// the facade's caller used (`radius` → `near`, …); `renames` maps the
/// search's name to the facade's.
fn renamed(mut errors: Vec<InvalidParam>, renames: &[(&str, &str)]) -> Vec<InvalidParam> {
    for error in &mut errors {
        if let Some((_, to)) = renames.iter().find(|(from, _)| *from == error.name) {
            error.name = (*to).to_string();
        }
    }
    errors
}

/// A text no longer than `max` characters, for the (rare) values the
/// standards leave unbounded but an error message should not echo whole.
fn shortened(text: &str, max: usize) -> String {
    let mut short: String = text.chars().take(max).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}
