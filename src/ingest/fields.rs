//! Parsers for single CSV cells: each turns trimmed, non-blank text into a
//! typed value or a message that says what is allowed.

use crate::provider::{Condition, ProviderType, Treatment, Vocabulary, list_key, parse_state_code};
use crate::values;

pub type FieldResult<T> = Result<T, String>;

/// A string of at most `max` characters without control characters.
pub fn text(value: &str, max: usize) -> FieldResult<String> {
    check_text(value, max)?;
    Ok(value.to_string())
}

/// The checks of [`text`], without the copy.
fn check_text(value: &str, max: usize) -> FieldResult<()> {
    // ASCII (nearly every cell) is one byte per character: one pass over
    // the bytes instead of two over the characters.
    let (length, control) = if value.is_ascii() {
        (value.len(), value.bytes().any(|b| b.is_ascii_control()))
    } else {
        (value.chars().count(), value.chars().any(char::is_control))
    };
    if length > max {
        return Err(format!("at most {max} characters allowed, found {length}"));
    }
    if control {
        return Err("control characters are not allowed".into());
    }
    Ok(())
}

/// Free text that may span lines (descriptions).
pub fn multiline_text(value: &str, max: usize) -> FieldResult<String> {
    let length = value.chars().count();
    if length > max {
        return Err(format!("at most {max} characters allowed, found {length}"));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err("control characters other than line breaks and tabs are not allowed".into());
    }
    Ok(value.to_string())
}

pub use crate::values::list_items;

/// A list of short strings, duplicates (ignoring case) removed.
pub fn text_list(value: &str, max_item: usize) -> FieldResult<Vec<String>> {
    let mut items: Vec<String> = Vec::new();
    for item in list_items(value) {
        check_text(item, max_item).map_err(|message| format!("\"{item}\": {message}"))?;
        // Search compares list values by `list_key`, so duplicates are too.
        if !items.iter().any(|seen| same_list_key(seen, item)) {
            items.push(item.to_string());
        }
    }
    Ok(items)
}

/// `list_key(a) == list_key(b)`, without allocating when both are ASCII.
fn same_list_key(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.trim().eq_ignore_ascii_case(b.trim())
    } else {
        list_key(a) == list_key(b)
    }
}

/// [`text`] that names a provider or a place (`name`, `organization`,
/// `city`), without the characters that can disguise what it says.
pub fn display_text(value: &str, max: usize) -> FieldResult<String> {
    let text = text(value, max)?;
    if let Some((code, name, effect)) = value.chars().find_map(disguising) {
        return Err(format!("contains U+{code:04X} {name}, which {effect}"));
    }
    Ok(text)
}

/// A bidirectional control, zero-width character or line/paragraph
/// separator: its code point, its Unicode name and what it does to text.
fn disguising(c: char) -> Option<(u32, &'static str, &'static str)> {
    const REVERSED: &str = "can make text display reversed";
    const REORDERED: &str = "can change the order in which text is displayed";
    const INVISIBLE: &str = "is invisible, so two names that look the same can differ";
    const BREAKS: &str = "starts a new line inside the text";
    let (name, effect) = match c {
        '\u{202A}' => ("LEFT-TO-RIGHT EMBEDDING", REORDERED),
        '\u{202B}' => ("RIGHT-TO-LEFT EMBEDDING", REORDERED),
        '\u{202C}' => ("POP DIRECTIONAL FORMATTING", REORDERED),
        '\u{202D}' => ("LEFT-TO-RIGHT OVERRIDE", REVERSED),
        '\u{202E}' => ("RIGHT-TO-LEFT OVERRIDE", REVERSED),
        '\u{2066}' => ("LEFT-TO-RIGHT ISOLATE", REORDERED),
        '\u{2067}' => ("RIGHT-TO-LEFT ISOLATE", REORDERED),
        '\u{2068}' => ("FIRST STRONG ISOLATE", REORDERED),
        '\u{2069}' => ("POP DIRECTIONAL ISOLATE", REORDERED),
        '\u{200B}' => ("ZERO WIDTH SPACE", INVISIBLE),
        '\u{200C}' => ("ZERO WIDTH NON-JOINER", INVISIBLE),
        '\u{200D}' => ("ZERO WIDTH JOINER", INVISIBLE),
        '\u{2060}' => ("WORD JOINER", INVISIBLE),
        '\u{FEFF}' => ("ZERO WIDTH NO-BREAK SPACE", INVISIBLE),
        '\u{2028}' => ("LINE SEPARATOR", BREAKS),
        '\u{2029}' => ("PARAGRAPH SEPARATOR", BREAKS),
        _ => return None,
    };
    Some((u32::from(c), name, effect))
}

pub fn id(value: &str) -> FieldResult<String> {
    let valid_chars = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !valid_chars || value.len() > 64 {
        return Err("must be 1–64 characters of A–Z, a–z, 0–9, '.', '_' or '-'".into());
    }
    // `/providers/.` and `/providers/..` are normalised to other pages.
    if value == "." || value == ".." {
        return Err("must not be \".\" or \"..\", which cannot be a profile's address".into());
    }
    Ok(value.to_string())
}

/// Checks the NPI check digit: Luhn over "80840" followed by the first nine
/// digits must give the tenth.
pub fn npi(value: &str) -> FieldResult<String> {
    if value.len() != 10 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must be exactly 10 digits".into());
    }
    if !npi_check_digit_matches(value) {
        return Err("check digit does not match (not a valid NPI)".into());
    }
    Ok(value.to_string())
}

fn npi_check_digit_matches(ten_digits: &str) -> bool {
    let digits = b"80840"
        .iter()
        .chain(ten_digits.as_bytes())
        .map(|b| u32::from(b - b'0'));
    // Luhn: from the right, double every second digit.
    let sum: u32 = digits
        .rev()
        .enumerate()
        .map(|(position, digit)| {
            if position % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

pub fn state(value: &str) -> FieldResult<String> {
    parse_state_code(value)
        .map(str::to_string)
        .ok_or_else(|| "must be a USPS code of a state, DC, PR, VI, GU, AS or MP (e.g. CO)".into())
}

/// `12345` or `12345-6789`, stored as the five-digit ZIP.
pub fn zip(value: &str) -> FieldResult<String> {
    let bytes = value.as_bytes();
    let five_digits = bytes.len() >= 5 && bytes[..5].iter().all(u8::is_ascii_digit);
    let plus_four =
        bytes.len() == 10 && bytes[5] == b'-' && bytes[6..].iter().all(u8::is_ascii_digit);
    if five_digits && (bytes.len() == 5 || plus_four) {
        Ok(value[..5].to_string())
    } else {
        Err("must be a ZIP code like 12345 or 12345-6789".into())
    }
}

/// A finite decimal number within `min..=max`.
pub fn decimal(value: &str, min: f64, max: f64) -> FieldResult<f64> {
    values::decimal_in(value, min, max)
        .ok_or_else(|| format!("must be a decimal number from {min} to {max}"))
}

/// A whole number ≥ 0 (prices in USD, review counts).
pub fn whole_number(value: &str, max: u32) -> FieldResult<u32> {
    values::whole(value, 0, max).ok_or_else(|| format!("must be a whole number from 0 to {max}"))
}

pub fn boolean(value: &str) -> FieldResult<bool> {
    values::flag(value).ok_or_else(|| "must be true, false, yes, no, 1 or 0".into())
}

pub fn website(value: &str) -> FieldResult<String> {
    let scheme = |prefix: &str| {
        value
            .get(..prefix.len())
            .filter(|start| start.eq_ignore_ascii_case(prefix))
            .map(|_| &value[prefix.len()..])
    };
    let rest = scheme("https://")
        .or_else(|| scheme("http://"))
        .ok_or("must start with http:// or https://")?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err("must name a host after the scheme".into());
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters".into());
    }
    text(value, 2000)
}

pub fn email(value: &str) -> FieldResult<String> {
    let at_signs = value.matches('@').count();
    let (local, domain) = value.split_once('@').unwrap_or(("", ""));
    if at_signs != 1 || local.is_empty() || domain.is_empty() {
        return Err("must contain exactly one @ between a name and a domain".into());
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters".into());
    }
    text(value, 254)
}

pub use crate::values::date;

/// Parses a list of vocabulary values, naming the first unknown one.
fn vocabulary_list<T: PartialEq + Copy>(
    value: &str,
    parse: impl Fn(&str) -> Option<T>,
    allowed: impl Fn() -> String,
) -> FieldResult<Vec<T>> {
    let mut values = Vec::new();
    for item in list_items(value) {
        let parsed = parse(item)
            .ok_or_else(|| format!("unknown value \"{item}\"; allowed: {}", allowed()))?;
        if !values.contains(&parsed) {
            values.push(parsed);
        }
    }
    Ok(values)
}

/// `parse`, after a look for the value written exactly as a slug (as
/// nearly every file writes them): `parse` normalises into a new string
/// first, and a slug is its own normal form, so the answer is the same.
fn slug_or<T: Vocabulary>(value: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
    T::ALL
        .iter()
        .copied()
        .find(|v| v.slug() == value)
        .or_else(|| parse(value))
}

pub fn treatments(value: &str) -> FieldResult<Vec<Treatment>> {
    vocabulary_list(value, |v| slug_or(v, Treatment::parse), Treatment::allowed)
}

pub fn conditions(value: &str) -> FieldResult<Vec<Condition>> {
    vocabulary_list(value, |v| slug_or(v, Condition::parse), Condition::allowed)
}

pub fn provider_types(value: &str) -> FieldResult<Vec<ProviderType>> {
    vocabulary_list(
        value,
        |v| slug_or(v, ProviderType::parse),
        ProviderType::allowed,
    )
}

/// `licensed_states`: USPS codes (any case), each once, stored upper-case.
pub fn state_list(value: &str) -> FieldResult<Vec<String>> {
    vocabulary_list(value, parse_state_code, || {
        "USPS codes of the 50 states, DC, PR, VI, GU, AS and MP (e.g. CO;WY)".into()
    })
    .map(|codes| codes.into_iter().map(str::to_string).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a parser over a table of inputs: `Ok(expected)` or `Err(())`.
    fn check<T: std::fmt::Debug + PartialEq>(
        parse: impl Fn(&str) -> FieldResult<T>,
        cases: &[(&str, Result<T, ()>)],
    ) {
        for (input, expected) in cases {
            let got = parse(input).map_err(|_| ());
            assert_eq!(&got, expected, "input {input:?}");
        }
    }

    #[test]
    fn npi_check_digit() {
        check(
            npi,
            &[
                ("1234567893", Ok("1234567893".to_string())),
                ("1245319599", Ok("1245319599".to_string())),
                ("1234567890", Err(())),
                ("123456789", Err(())),
                ("12345678901", Err(())),
                ("12345678a3", Err(())),
                ("１234567893", Err(())),
            ],
        );
    }

    #[test]
    fn ids() {
        check(
            id,
            &[
                ("p-1", Ok("p-1".to_string())),
                ("A.b_C-9", Ok("A.b_C-9".to_string())),
                ("has space", Err(())),
                ("ünï", Err(())),
                ("<script>", Err(())),
                (".", Err(())),
                ("..", Err(())),
                ("...", Ok("...".to_string())),
                (".x", Ok(".x".to_string())),
                (&"x".repeat(64), Ok("x".repeat(64))),
                (&"x".repeat(65), Err(())),
            ],
        );
    }

    #[test]
    fn zips() {
        check(
            zip,
            &[
                ("80202", Ok("80202".to_string())),
                ("80202-1234", Ok("80202".to_string())),
                ("8020", Err(())),
                ("802021", Err(())),
                ("80202-123", Err(())),
                ("80202 1234", Err(())),
                ("abcde", Err(())),
            ],
        );
    }

    #[test]
    fn states() {
        check(
            state,
            &[
                ("co", Ok("CO".to_string())),
                ("PR", Ok("PR".to_string())),
                ("mp", Ok("MP".to_string())),
                ("Colorado", Err(())),
                ("XX", Err(())),
            ],
        );
    }

    #[test]
    fn decimals_reject_non_finite_and_out_of_range() {
        let latitude = |v: &str| decimal(v, -90.0, 90.0);
        check(
            latitude,
            &[
                ("39.74", Ok(39.74)),
                ("-90", Ok(-90.0)),
                ("90.0001", Err(())),
                ("NaN", Err(())),
                ("inf", Err(())),
                ("1e400", Err(())),
                ("39,74", Err(())),
                ("", Err(())),
            ],
        );
    }

    #[test]
    fn whole_numbers() {
        let price = |v: &str| whole_number(v, 1_000_000);
        check(
            price,
            &[
                ("0", Ok(0)),
                ("450", Ok(450)),
                ("-1", Err(())),
                ("450.5", Err(())),
                ("$450", Err(())),
                ("99999999999", Err(())),
            ],
        );
    }

    #[test]
    fn booleans() {
        check(
            boolean,
            &[
                ("TRUE", Ok(true)),
                ("yes", Ok(true)),
                ("1", Ok(true)),
                ("No", Ok(false)),
                ("0", Ok(false)),
                ("y", Err(())),
                ("maybe", Err(())),
            ],
        );
    }

    #[test]
    fn websites_only_http() {
        check(
            website,
            &[
                (
                    "https://a.example.org",
                    Ok("https://a.example.org".to_string()),
                ),
                (
                    "HTTP://A.example.org/x?y=1",
                    Ok("HTTP://A.example.org/x?y=1".to_string()),
                ),
                ("javascript:alert(1)", Err(())),
                ("ftp://example.org", Err(())),
                ("https://", Err(())),
                ("https:///path", Err(())),
                ("https://exa mple.org", Err(())),
                ("example.org", Err(())),
            ],
        );
    }

    #[test]
    fn emails() {
        check(
            email,
            &[
                ("a@example.org", Ok("a@example.org".to_string())),
                ("a@@example.org", Err(())),
                ("a@b@example.org", Err(())),
                ("example.org", Err(())),
                ("@example.org", Err(())),
                ("a b@example.org", Err(())),
            ],
        );
    }

    #[test]
    fn dates() {
        check(
            date,
            &[
                ("2024-02-29", Ok("2024-02-29".to_string())),
                ("2023-02-29", Err(())),
                ("1900-02-29", Err(())),
                ("2000-02-29", Ok("2000-02-29".to_string())),
                ("2024-13-01", Err(())),
                ("2024-04-31", Err(())),
                ("2024-4-1", Err(())),
                ("01/02/2024", Err(())),
                ("2024-01-01T00:00", Err(())),
            ],
        );
    }

    #[test]
    fn vocabulary_lists_normalise_and_dedupe() {
        assert_eq!(
            treatments("IV Infusion; esketamine-nasal;iv_infusion;"),
            Ok(vec![Treatment::IvInfusion, Treatment::EsketamineNasal])
        );
        assert!(conditions("crps;back pain").is_err());
        assert_eq!(conditions(" ; "), Ok(vec![]));
    }

    #[test]
    fn display_text_refuses_disguising_characters() {
        assert_eq!(
            display_text("Dr. Ann Lee", 200),
            Ok("Dr. Ann Lee".to_string())
        );
        assert_eq!(
            display_text("Zürich Åsa 東京 مرحبا", 200),
            Ok("Zürich Åsa 東京 مرحبا".to_string())
        );
        assert_eq!(
            display_text("abc\u{202E}fed", 200),
            Err(
                "contains U+202E RIGHT-TO-LEFT OVERRIDE, which can make text display reversed"
                    .to_string()
            )
        );
        assert_eq!(
            display_text("a\u{feff}b", 200).map_err(|e| e.contains("U+FEFF")),
            Err(true)
        );
        // The general rules still apply first.
        assert!(display_text("a\u{0}b", 200).is_err());
        assert!(display_text(&"n".repeat(201), 200).is_err());
    }

    #[test]
    fn text_limits_and_control_characters() {
        assert!(text(&"é".repeat(200), 200).is_ok());
        assert!(text(&"é".repeat(201), 200).is_err());
        assert!(text("a\u{0}b", 200).is_err());
        assert!(multiline_text("line one\nline two", 5000).is_ok());
        assert!(multiline_text("bell\u{7}", 5000).is_err());
        assert_eq!(
            text_list("Aetna; aetna ;Cigna", 100),
            Ok(vec!["Aetna".to_string(), "Cigna".to_string()])
        );
        assert_eq!(
            text_list("Zürich Care;ZÜRICH CARE", 100),
            Ok(vec!["Zürich Care".to_string()])
        );
    }
}
