//! Wall-clock helpers in UTC: the one place that reads the system clock
//! and formats dates, so pages, admin sessions and imports agree on "today".

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

/// Today's date in UTC as days since 1970-01-01.
pub fn today_number() -> u32 {
    (unix_now() / 86_400) as u32
}

/// A `YYYY-MM-DD` date as days since 1970-01-01 (the inverse of the civil
/// date in [`format_utc`]); `None` for text of another shape or a date
/// before 1970.
pub fn day_number(date: &str) -> Option<u32> {
    let bytes = date.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year: i64 = date[..4].parse().ok()?;
    let month: i64 = date[5..7].parse().ok()?;
    let day: i64 = date[8..].parse().ok()?;
    u32::try_from(days_from_civil(year, month, day)).ok()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (negative before
/// 1970); the month and day are not checked.
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    // Days-from-civil (H. Hinnant).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc_timestamps() {
        assert_eq!(super::format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::format_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::format_utc(1_796_083_199), "2026-11-30T23:59:59Z");
    }

    #[test]
    fn day_numbers_invert_formatted_dates() {
        assert_eq!(super::day_number("1970-01-01"), Some(0));
        assert_eq!(super::day_number("1969-12-31"), None);
        for seconds in [0u64, 951_782_400, 1_796_083_199, 4_102_444_800] {
            let date = &super::format_utc(seconds)[..10];
            assert_eq!(
                super::day_number(date),
                Some((seconds / 86_400) as u32),
                "{date}"
            );
        }
        assert_eq!(super::day_number("2026-1-01"), None);
    }
}
