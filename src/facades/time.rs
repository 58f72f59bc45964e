//! Dates and times in the facades' parameters (FHIR `_lastUpdated`, HSDS
//! `modified_after`), read as the span of time they name, and turned into
//! the days of `last_verified` that fall in a range.
//!
//! A provider's "last updated" instant is midnight UTC of its
//! `last_verified` day, so a comparison with any instant becomes a bound
//! on that day.

use crate::clock::days_from_civil;

const MS_PER_DAY: i64 = 86_400_000;

/// The span of time `[start, end)` a value names, in milliseconds since
/// 1970-01-01T00:00:00Z: a whole year, month or day for `YYYY`, `YYYY-MM`
/// and `YYYY-MM-DD`, one second (or millisecond) for a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start_ms: i64,
    pub end_ms: i64,
}

/// Days of `last_verified` (days since 1970-01-01), both ends inclusive;
/// `None` is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DayRange {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

impl DayRange {
    /// Both ranges at once.
    pub fn intersect(self, other: DayRange) -> DayRange {
        DayRange {
            from: self.from.max(other.from),
            to: match (self.to, other.to) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        }
    }

    /// The bounds as the search takes them (days from 1970 on). A range
    /// that ends before 1970 ends on day 0, which the search reads as
    /// "unknown": nothing matches it.
    pub fn to_search_days(self) -> (Option<u32>, Option<u32>) {
        let clamp = |day: i64| day.clamp(0, i64::from(u32::MAX)) as u32;
        (self.from.map(clamp), self.to.map(clamp))
    }
}

/// The first whole day at or after an instant.
fn day_at_or_after(ms: i64) -> i64 {
    ms.div_euclid(MS_PER_DAY) + i64::from(ms.rem_euclid(MS_PER_DAY) != 0)
}

/// How a value compares (FHIR's prefixes; HSDS's `modified_after` is `Ge`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparator {
    Eq,
    Ge,
    Gt,
    Le,
    Lt,
}

impl Span {
    /// The days whose midnight compares with this span as asked (FHIR's
    /// date search: `ge` means at or after the span's start, `gt` after
    /// its end, `le` before its end, `lt` before its start, `eq` within).
    pub fn days(self, comparator: Comparator) -> DayRange {
        let first_from = day_at_or_after(self.start_ms);
        let first_after = day_at_or_after(self.end_ms);
        match comparator {
            Comparator::Eq => DayRange {
                from: Some(first_from),
                to: Some(first_after - 1),
            },
            Comparator::Ge => DayRange {
                from: Some(first_from),
                to: None,
            },
            Comparator::Gt => DayRange {
                from: Some(first_after),
                to: None,
            },
            Comparator::Le => DayRange {
                from: None,
                to: Some(first_after - 1),
            },
            Comparator::Lt => DayRange {
                from: None,
                to: Some(first_from - 1),
            },
        }
    }
}

fn digits(text: &str, count: usize) -> Option<i64> {
    (text.len() == count && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        _ => 28,
    }
}

/// Reads `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or
/// `YYYY-MM-DDThh:mm[:ss[.fff…]][Z|±hh:mm]` (a time without a zone is
/// read as UTC). The error says what is accepted.
pub fn parse_span(text: &str) -> Result<Span, String> {
    let bad = || {
        format!(
            "{:?} is not a date or time: give YYYY, YYYY-MM, YYYY-MM-DD or \
             YYYY-MM-DDThh:mm:ssZ (or with an offset such as +02:00)",
            super::shortened(text, 40)
        )
    };
    let (date, time) = match text.split_once('T') {
        Some((date, time)) => (date, Some(time)),
        None => (text, None),
    };
    let parts: Vec<&str> = date.split('-').collect();
    let year = parts.first().and_then(|y| digits(y, 4)).ok_or_else(bad)?;
    if year == 0 {
        return Err(bad());
    }
    let month = match parts.get(1) {
        Some(m) => Some(
            digits(m, 2)
                .filter(|m| (1..=12).contains(m))
                .ok_or_else(bad)?,
        ),
        None => None,
    };
    let day = match (parts.get(2), month) {
        (Some(d), Some(m)) => Some(
            digits(d, 2)
                .filter(|d| (1..=days_in_month(year, m)).contains(d))
                .ok_or_else(bad)?,
        ),
        _ => None,
    };
    if parts.len() > 3 {
        return Err(bad());
    }
    let start_of = |y: i64, m: i64, d: i64| days_from_civil(y, m, d) * MS_PER_DAY;
    let Some(time) = time else {
        return Ok(match (month, day) {
            (None, _) => Span {
                start_ms: start_of(year, 1, 1),
                end_ms: start_of(year + 1, 1, 1),
            },
            (Some(m), None) => Span {
                start_ms: start_of(year, m, 1),
                end_ms: if m == 12 {
                    start_of(year + 1, 1, 1)
                } else {
                    start_of(year, m + 1, 1)
                },
            },
            (Some(m), Some(d)) => Span {
                start_ms: start_of(year, m, d),
                end_ms: start_of(year, m, d) + MS_PER_DAY,
            },
        });
    };
    let (Some(month), Some(day)) = (month, day) else {
        return Err(bad());
    };
    // Split off the zone: `Z`, or the last `+`/`-`.
    let (clock, offset_ms) = if let Some(clock) = time.strip_suffix('Z') {
        (clock, 0)
    } else if let Some(at) = time.rfind(['+', '-']) {
        let (clock, zone) = time.split_at(at);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let (hours, minutes) = zone[1..].split_once(':').ok_or_else(bad)?;
        let hours = digits(hours, 2).filter(|h| *h <= 14).ok_or_else(bad)?;
        let minutes = digits(minutes, 2).filter(|m| *m < 60).ok_or_else(bad)?;
        (clock, sign * (hours * 60 + minutes) * 60_000)
    } else {
        (time, 0)
    };
    let fields: Vec<&str> = clock.split(':').collect();
    let hour = fields
        .first()
        .and_then(|h| digits(h, 2))
        .filter(|h| *h < 24);
    let minute = fields.get(1).and_then(|m| digits(m, 2)).filter(|m| *m < 60);
    let (Some(hour), Some(minute)) = (hour, minute) else {
        return Err(bad());
    };
    let (second, millis, precision_ms) = match fields.get(2) {
        None => (0, 0, 60_000),
        Some(seconds) => {
            let (whole, fraction) = match seconds.split_once('.') {
                Some((whole, fraction)) => (whole, Some(fraction)),
                None => (*seconds, None),
            };
            let second = digits(whole, 2).filter(|s| *s < 60).ok_or_else(bad)?;
            match fraction {
                None => (second, 0, 1000),
                Some(f) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
                    let millis: i64 = format!("{f:0<3}")[..3].parse().map_err(|_| bad())?;
                    (second, millis, 1)
                }
                Some(_) => return Err(bad()),
            }
        }
    };
    if fields.len() > 3 {
        return Err(bad());
    }
    let start_ms =
        start_of(year, month, day) + ((hour * 60 + minute) * 60 + second) * 1000 + millis
            - offset_ms;
    Ok(Span {
        start_ms,
        end_ms: start_ms + precision_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(date: &str) -> i64 {
        i64::from(crate::clock::day_number(date).expect("a date"))
    }

    #[test]
    fn dates_name_whole_days_months_and_years() {
        let span = parse_span("2025-01-15").expect("date");
        assert_eq!(span.start_ms, day("2025-01-15") * MS_PER_DAY);
        assert_eq!(span.end_ms, day("2025-01-16") * MS_PER_DAY);
        let month = parse_span("2024-02").expect("month");
        assert_eq!(month.end_ms, day("2024-03-01") * MS_PER_DAY);
        let year = parse_span("2024").expect("year");
        assert_eq!(year.end_ms, day("2025-01-01") * MS_PER_DAY);
        for bad in [
            "",
            "2025-1-15",
            "2025-02-30",
            "2025-13",
            "0000",
            "2025-01-15T",
            "2025-01-15T25:00Z",
            "2025-01-15T10:00:00+1:00",
            "yesterday",
            "2025-01-15T10:00:00.Z",
        ] {
            assert!(parse_span(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn comparators_bound_the_day_of_last_verified() {
        let jan15 = day("2025-01-15");
        let span = parse_span("2025-01-15").expect("date");
        assert_eq!(span.days(Comparator::Ge).from, Some(jan15));
        assert_eq!(span.days(Comparator::Gt).from, Some(jan15 + 1));
        assert_eq!(span.days(Comparator::Le).to, Some(jan15));
        assert_eq!(span.days(Comparator::Lt).to, Some(jan15 - 1));
        assert_eq!(
            span.days(Comparator::Eq),
            DayRange {
                from: Some(jan15),
                to: Some(jan15)
            }
        );
        // Midnight of the 15th is not at or after 10:00 that day.
        let morning = parse_span("2025-01-15T10:00:00Z").expect("time");
        assert_eq!(morning.days(Comparator::Ge).from, Some(jan15 + 1));
        // 23:00 on the 14th at -05:00 is 04:00 on the 15th UTC.
        let evening = parse_span("2025-01-14T23:00:00-05:00").expect("time");
        assert_eq!(evening.start_ms, jan15 * MS_PER_DAY + 4 * 3_600_000);
        let exact = parse_span("2025-01-15T00:00:00.000Z").expect("time");
        assert_eq!(exact.days(Comparator::Ge).from, Some(jan15));
        assert_eq!(exact.days(Comparator::Eq).to, Some(jan15));
    }

    #[test]
    fn ranges_intersect_and_clamp() {
        let a = DayRange {
            from: Some(10),
            to: None,
        };
        let b = DayRange {
            from: Some(5),
            to: Some(20),
        };
        assert_eq!(
            a.intersect(b),
            DayRange {
                from: Some(10),
                to: Some(20)
            }
        );
        let before_1970 = DayRange {
            from: None,
            to: Some(-3),
        };
        assert_eq!(before_1970.to_search_days(), (None, Some(0)));
    }
}
