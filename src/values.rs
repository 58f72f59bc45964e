//! Parsers of single values shared by every input path: CSV cells
//! (`ingest`), search parameters (`search`) and the routes' own parameters.
//! Each takes trimmed text and answers `None` (or a message) when it is not
//! a value of its kind, so "a whole number" or "a date" means the same thing
//! wherever it is typed.

/// A whole number written in plain digits (no sign, no exponent) within
/// `min..=max`.
pub fn whole(value: &str, min: u32, max: u32) -> Option<u32> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value
        .parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
}

/// A plain, finite decimal number. Rust's parser also takes "inf", "NaN"
/// and "infinity", which no coordinate, rating or radius may be.
pub fn decimal(value: &str) -> Option<f64> {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
    value.parse::<f64>().ok().filter(|n| plain && n.is_finite())
}

/// [`decimal`] within `min..=max`.
pub fn decimal_in(value: &str, min: f64, max: f64) -> Option<f64> {
    decimal(value).filter(|n| (min..=max).contains(n))
}

/// A yes/no value as data files write it: `true/false/yes/no/1/0`, any case.
pub fn flag(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Some(true),
        "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// A yes/no value in a URL or a form: [`flag`]'s words, and `on`/`off`,
/// which browsers send for a ticked checkbox.
pub fn form_flag(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "on" => Some(true),
        "off" => Some(false),
        other => flag(other),
    }
}

/// Splits a `;`-separated list, trimming items and dropping empty ones.
pub fn list_items(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(';')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

/// A calendar date written `YYYY-MM-DD`, returned as written; the message
/// says what is wrong.
pub fn date(value: &str) -> Result<String, String> {
    let invalid = || "must be a date written YYYY-MM-DD".to_string();
    let bytes = value.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shape_ok {
        return Err(invalid());
    }
    let year: u32 = value[..4].parse().map_err(|_| invalid())?;
    let month: u32 = value[5..7].parse().map_err(|_| invalid())?;
    let day: u32 = value[8..].parse().map_err(|_| invalid())?;
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(format!("{value} is not a calendar date (month {month})")),
    };
    if year == 0 || day == 0 || day > days_in_month {
        return Err(format!("{value} is not a calendar date"));
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_are_plain_digits_within_bounds() {
        assert_eq!(whole("42", 0, 100), Some(42));
        assert_eq!(whole("0", 1, 100), None);
        for bad in ["", "-1", "+1", "1e3", "4.0", " 4", "99999999999999999999"] {
            assert_eq!(whole(bad, 0, u32::MAX), None, "{bad:?}");
        }
    }

    #[test]
    fn decimals_are_plain_and_finite() {
        assert_eq!(decimal("-104.99"), Some(-104.99));
        assert_eq!(decimal("1e2"), Some(100.0));
        for bad in ["", "NaN", "inf", "-infinity", "1e309", "0x10", "1,5"] {
            assert_eq!(decimal(bad), None, "{bad:?}");
        }
        assert_eq!(decimal_in("5.01", 0.0, 5.0), None);
    }

    #[test]
    fn flags_in_data_and_in_forms() {
        assert_eq!(flag("YES"), Some(true));
        assert_eq!(flag("0"), Some(false));
        assert_eq!(flag("on"), None);
        assert_eq!(form_flag("on"), Some(true));
        assert_eq!(form_flag("Off"), Some(false));
        assert_eq!(form_flag("maybe"), None);
    }

    #[test]
    fn dates_are_real_calendar_days() {
        assert!(date("2024-02-29").is_ok());
        assert!(date("2023-02-29").is_err());
        assert!(date("2024-13-01").is_err());
        assert!(date("0000-01-01").is_err());
        assert!(date("2024-1-01").is_err());
    }
}
