//! Row-level tests of the importer: one table row per validation rule, plus
//! line numbering, encodings and the shape of the file.

use super::*;
use crate::provider::ProviderType;

const HEADER: &str = "id,name,city,state,zip,latitude,longitude,npi,website,email,treatments,conditions,price_min,price_max,telehealth,rating,review_count,last_verified,description,provider_type,licensed_states,rems_certified";

fn read(csv: &[u8]) -> (Vec<Provider>, Report) {
    let mut providers = Vec::new();
    let report = read_providers(csv, |p| providers.push(p)).expect("in-memory input reads");
    (providers, report)
}

/// A valid row whose one column `column` is replaced by `value`.
fn row_with(column: &str, value: &str) -> String {
    let mut cells = vec![
        ("id", "p-1"),
        ("name", "Clinician Test"),
        ("city", "Denver"),
        ("state", "CO"),
        ("zip", "80202"),
        ("latitude", "39.75"),
        ("longitude", "-104.99"),
        ("npi", "1234567893"),
        ("website", "https://a.example.org"),
        ("email", "a@example.org"),
        ("treatments", "iv_infusion"),
        ("conditions", "crps"),
        ("price_min", "400"),
        ("price_max", "600"),
        ("telehealth", "yes"),
        ("rating", "4.5"),
        ("review_count", "3"),
        ("last_verified", "2026-01-15"),
        ("description", "Supervised infusions."),
        ("provider_type", "physician;Nurse Anesthetist"),
        ("licensed_states", "co;WY"),
        ("rems_certified", ""),
    ];
    let cell = cells
        .iter_mut()
        .find(|(name, _)| *name == column)
        .expect("known test column");
    cell.1 = value;
    let values: Vec<String> = cells
        .iter()
        .map(|(_, v)| format!("\"{}\"", v.replace('"', "\"\"")))
        .collect();
    format!("{HEADER}\n{}\n", values.join(","))
}

#[test]
fn each_rule_rejects_its_bad_value_and_names_the_column() {
    let cases: &[(&str, &str, &str)] = &[
        ("id", "", "id"),
        ("id", "bad id", "id"),
        ("id", ".", "id"),
        ("id", "..", "id"),
        ("name", "Dr.\u{202E}X", "name"),
        ("city", "Den\u{200B}ver", "city"),
        ("name", "", "name"),
        ("name", &"n".repeat(201), "name"),
        ("city", "", "city"),
        ("state", "ZZ", "state"),
        ("zip", "8020", "zip"),
        ("latitude", "91", "latitude"),
        ("latitude", "NaN", "latitude"),
        ("longitude", "-181", "longitude"),
        ("longitude", "", "longitude"),
        ("npi", "1234567890", "npi"),
        ("website", "javascript:alert(1)", "website"),
        ("email", "no-at-sign", "email"),
        ("treatments", "iv_infusion;magic", "treatments"),
        ("conditions", "back_pain", "conditions"),
        ("price_min", "-5", "price_min"),
        ("price_min", "700", "price_min"),
        ("telehealth", "sometimes", "telehealth"),
        ("rating", "5.1", "rating"),
        ("review_count", "0", "rating"),
        ("review_count", "many", "review_count"),
        ("last_verified", "2026-02-30", "last_verified"),
        ("description", &"d".repeat(5001), "description"),
        ("provider_type", "surgeon", "provider_type"),
        ("provider_type", "physician;doctor", "provider_type"),
        ("licensed_states", "CO;XX", "licensed_states"),
        ("licensed_states", "Colorado", "licensed_states"),
        ("licensed_states", "CO,WY", "licensed_states"),
        ("rems_certified", "maybe", "rems_certified"),
    ];
    for (column, value, reported_column) in cases {
        let (providers, report) = read(row_with(column, value).as_bytes());
        assert!(providers.is_empty(), "{column}={value:?} should be invalid");
        assert_eq!(report.invalid, 1);
        let error = report
            .errors
            .iter()
            .find(|e| e.column == *reported_column)
            .unwrap_or_else(|| {
                panic!("{column}={value:?}: no error on {reported_column}: {report:?}")
            });
        assert_eq!(error.line, 2);
        assert!(!error.message.is_empty());
        assert!(
            error
                .value
                .as_deref()
                .is_none_or(|v| v.chars().count() <= 80)
        );
    }
}

#[test]
fn a_valid_row_is_typed_and_normalised() {
    let (providers, report) = read(row_with("state", "co").as_bytes());
    assert_eq!(report.errors, vec![]);
    let p = &providers[0];
    assert_eq!(p.state, "CO");
    assert!(p.telehealth);
    assert!(!p.accepting_new_patients);
    assert_eq!(p.price_min, Some(400));
    assert_eq!(p.rating, Some(4.5));
    assert_eq!(p.review_count, 3);
    assert!(!p.location_approximate);
    assert_eq!(
        p.provider_type,
        vec![ProviderType::Physician, ProviderType::NurseAnesthetist]
    );
    assert_eq!(p.licensed_states, vec!["CO", "WY"]);
    assert_eq!(p.rems_certified, None);
}

/// A valid row offering SPRAVATO, with `rems_certified` set to `rems`.
fn spravato_row(rems: &str) -> String {
    row_with("treatments", "esketamine_nasal").replace(",\"\"\n", &format!(",\"{rems}\"\n"))
}

#[test]
fn spravato_needs_a_rems_certified_site() {
    let (providers, report) = read(spravato_row("false").as_bytes());
    assert!(providers.is_empty());
    assert_eq!(report.errors.len(), 1, "{report:?}");
    assert_eq!(report.errors[0].column, "rems_certified");
    assert_eq!(report.errors[0].value.as_deref(), Some("false"));

    let (providers, report) = read(spravato_row("yes").as_bytes());
    assert_eq!(providers[0].rems_certified, Some(true));
    assert_eq!((report.errors.len(), report.warnings.len()), (0, 0));

    // Blank with the column present: listed, with a warning.
    let (providers, report) = read(spravato_row("").as_bytes());
    assert_eq!(providers.len(), 1);
    assert_eq!(report.warnings.len(), 1, "{report:?}");
    assert_eq!(report.warnings[0].column, "rems_certified");
    assert_eq!(
        report.warnings[0].message,
        "REMS certification not confirmed"
    );

    // Not certified matters only for SPRAVATO.
    let (providers, report) = read(row_with("rems_certified", "false").as_bytes());
    assert_eq!(providers[0].rems_certified, Some(false));
    assert_eq!((report.errors.len(), report.warnings.len()), (0, 0));
}

#[test]
fn files_without_the_new_columns_import_as_before() {
    let csv = "id,name,city,state,latitude,longitude,treatments,telehealth\n\
               p-1,A,Denver,CO,39.7,-105,esketamine_nasal,true\n";
    let (providers, report) = read(csv.as_bytes());
    assert_eq!((report.errors.len(), report.warnings.len()), (0, 0));
    let p = &providers[0];
    assert!(p.provider_type.is_empty() && p.licensed_states.is_empty());
    assert_eq!(p.rems_certified, None);
    assert!(p.reaches_state("CO") && !p.reaches_state("WY"));
}

#[test]
fn rows_without_coordinates_take_the_zip_centroid_with_a_warning() {
    let csv = "id,name,city,state,zip\np-1,A,Denver,CO,80202-1234\np-2,B,Nowhere,CO,00000\np-3,C,Nowhere,CO,\n";
    let (providers, report) = read(csv.as_bytes());
    assert_eq!(providers.len(), 1);
    assert!(providers[0].location_approximate);
    assert!((providers[0].latitude - 39.75).abs() < 0.1);
    assert_eq!(report.warnings.len(), 1);
    assert_eq!(report.warnings[0].line, 2);
    assert_eq!(report.errors.len(), 2);
    assert_eq!(
        (report.errors[0].line, report.errors[0].column.as_str()),
        (3, "zip")
    );
    assert_eq!(
        (report.errors[1].line, report.errors[1].column.as_str()),
        (4, "latitude")
    );
}

#[test]
fn line_numbers_stay_right_after_multi_line_fields() {
    let csv = "id,name,city,state,latitude,longitude,description\n\
               p-1,A,Denver,CO,39.7,-105,\"two\nlines\"\n\
               p-2,B,Denver,CO,39.7,-105,\"three\n\nlines\"\n\
               p-3,,Denver,CO,39.7,-105,x\n";
    let (providers, report) = read(csv.as_bytes());
    assert_eq!(providers.len(), 2);
    assert_eq!(providers[0].description.as_deref(), Some("two\nlines"));
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].line, 7);
    assert_eq!(report.errors[0].id.as_deref(), Some("p-3"));
}

#[test]
fn invalid_utf8_is_confined_to_its_row() {
    let mut csv = b"id,name,city,state,latitude,longitude\n".to_vec();
    csv.extend_from_slice(b"p-1,Caf\xe9,Denver,CO,39.7,-105\n");
    csv.extend_from_slice(b"p-2,Fine,Denver,CO,39.7,-105\n");
    csv.extend_from_slice(b"p-3,\xff\xfe\x00,Denver,CO,39.7,-105\n");
    let (providers, report) = read(&csv);
    assert_eq!(providers.len(), 1);
    assert_eq!(providers[0].id, "p-2");
    assert_eq!(report.invalid, 2);
    assert_eq!(report.errors[0].line, 2);
    assert_eq!(report.errors[0].column, "name");
}

#[test]
fn header_is_case_insensitive_with_bom_and_unknown_columns_warn() {
    let csv =
        "\u{feff} ID ,Name,CITY,State,Latitude,Longitude,Fax\np-1,A,Denver,co,39.7,-105,555\n";
    let (providers, report) = read(csv.as_bytes());
    assert_eq!(providers.len(), 1);
    assert_eq!(report.warnings.len(), 1);
    assert_eq!(report.warnings[0].column, "fax");
    assert_eq!(report.warnings[0].line, 1);
    assert_eq!(report.warnings[0].message, "unknown column, ignored");
}

#[test]
fn missing_required_columns_and_duplicates_stop_the_file() {
    let (_, report) = read(b"id,name,state\np-1,A,CO\n");
    assert!(report.has_file_errors());
    assert_eq!(report.errors[0].column, "city");
    let (_, report) = read(b"id,name,city,state,name\np-1,A,B,CO,C\n");
    assert!(report.has_file_errors());
    let (_, report) = read(b"");
    assert!(report.has_file_errors());
}

#[test]
fn duplicate_ids_and_ragged_rows_are_row_errors() {
    let csv = "id,name,city,state,latitude,longitude\n\
               p-1,A,Denver,CO,39.7,-105\n\
               p-1,B,Denver,CO,39.7,-105\n\
               p-2,C,Denver,CO,39.7\n\
               p-3,D,Denver,CO,39.7,-105,extra\n\
               p-4,E,Denver,CO,39.7,-105\n";
    let (providers, report) = read(csv.as_bytes());
    let ids: Vec<&str> = providers.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["p-1", "p-4"]);
    let lines: Vec<u64> = report.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [3, 4, 5]);
    assert_eq!(report.rows_read, 5);
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for round in 0..300 {
        let mut bytes = b"id,name,city,state,zip,latitude,longitude,rating,review_count\n".to_vec();
        for _ in 0..(round * 7 % 400) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let pick = (state % 10) as u8;
            bytes.push(match pick {
                0 => b',',
                1 => b'"',
                2 => b'\n',
                3 => b'\r',
                4 => (state >> 8) as u8,
                _ => b"p-19ABC.;0"[(state >> 16) as usize % 10],
            });
        }
        let (providers, report) = read(&bytes);
        // Every row is counted once, as valid or invalid, and each valid
        // row was handed over exactly once, with a unique id.
        assert_eq!(report.rows_read, report.valid + report.invalid);
        assert_eq!(providers.len() as u64, report.valid, "round {round}");
        let mut ids: Vec<&str> = providers.iter().map(|p| p.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(
            ids.len(),
            providers.len(),
            "round {round}: duplicate ids passed"
        );
        // No more rows than line breaks allow, and every problem names a
        // line of the file after the header.
        let lines = 1 + bytes.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64;
        assert!(report.rows_read < lines.max(2), "round {round}: {report:?}");
        // Header problems and "no rows" are on line 1, and only there.
        let first_line = if report.rows_read == 0 { 1 } else { 2 };
        for problem in &report.errors {
            assert!(
                (first_line..=lines).contains(&problem.line),
                "round {round}: line {} of {lines}",
                problem.line
            );
        }
        // An invalid row is invalid because of at least one listed error.
        assert!(
            report.invalid == 0 || !report.errors.is_empty(),
            "round {round}"
        );
    }
}

// ---------------------------------------------------------------------------
// Quoting, the record cap and header-only files (issue 16, item 6)
// ---------------------------------------------------------------------------

const QUOTED_HEADER: &str = "id,name,organization,city,state,latitude,longitude,description";

fn ids(providers: &[Provider]) -> Vec<&str> {
    providers.iter().map(|p| p.id.as_str()).collect()
}

fn error_on<'r>(report: &'r Report, line: u64, column: &str) -> &'r Problem {
    report
        .errors
        .iter()
        .find(|e| e.line == line && e.column == column)
        .unwrap_or_else(|| panic!("no error on line {line} in {column}: {report:#?}"))
}

#[test]
fn an_unclosed_quote_is_an_error_of_the_row_where_it_starts() {
    // In the last column: the rest of the file would become its text.
    let csv = format!(
        "{QUOTED_HEADER}\n\
         p-1,A,,Denver,CO,39.7,-105,fine\n\
         p-2,B,,Denver,CO,39.7,-105,\"never closed\n\
         p-3,C,,Denver,CO,39.7,-105,x\n\
         p-4,D,,Denver,CO,39.7,-105,y\n"
    );
    let (providers, report) = read(csv.as_bytes());
    assert_eq!(ids(&providers), ["p-1"]);
    assert_eq!(report.invalid, 1, "{report:#?}");
    let error = error_on(&report, 3, "description");
    assert_eq!(error.id.as_deref(), Some("p-2"));
    assert!(error.message.contains("never closes"), "{}", error.message);
    assert!(error.message.contains("line 3"), "{}", error.message);
    assert!(error.message.contains("line 5"), "{}", error.message);
    assert!(
        error
            .value
            .as_deref()
            .is_some_and(|v| v.starts_with("never closed"))
    );

    // In a middle column, after a multi-line field: the row's own line.
    let csv = format!(
        "{QUOTED_HEADER}\n\
         p-1,A,,Denver,CO,39.7,-105,\"two\nlines\"\n\
         p-2,\"B,,Denver,CO,39.7,-105,x\n\
         p-3,C,,Denver,CO,39.7,-105,y"
    );
    let (providers, report) = read(csv.as_bytes());
    assert_eq!(ids(&providers), ["p-1"]);
    let error = error_on(&report, 4, "name");
    assert!(error.message.contains("never closes"), "{}", error.message);
    assert_eq!(
        report.errors.len(),
        1,
        "one error, not a width error: {report:#?}"
    );
}

#[test]
fn stray_quotes_and_text_after_a_closing_quote_are_errors_of_their_column() {
    let csv = format!(
        "{QUOTED_HEADER}\n\
         p-1,Na\"me,,Denver,CO,39.7,-105,x\n\
         p-2,\"Name\"junk,,Denver,CO,39.7,-105,x\n\
         p-3,C,Org,\"Den\"ver,CO,39.7,-105,x\n\
         p-4,D,,Denver,CO,39.7,-105,\"said \"hi\" there\"\n\
         p-5,\"E \"\"the\"\" doc\", \"Org\" ,Denver,CO,39.7,-105,\"multi\r\nline \"\"q\"\"\"\n\
         p-6,F,,Denver,CO,39.7,-105,x\"\n"
    );
    let (providers, report) = read(csv.as_bytes());
    assert_eq!(ids(&providers), ["p-5"], "{report:#?}");
    assert_eq!(providers[0].name, "E \"the\" doc");
    assert_eq!(providers[0].organization.as_deref(), Some("Org"));
    assert_eq!(
        providers[0].description.as_deref(),
        Some("multi\r\nline \"q\"")
    );
    let stray = error_on(&report, 2, "name");
    assert_eq!(stray.id.as_deref(), Some("p-1"));
    assert_eq!(stray.value.as_deref(), Some("Na\"me"));
    assert!(stray.message.contains("quote"), "{}", stray.message);
    let junk = error_on(&report, 3, "name");
    assert_eq!(junk.id.as_deref(), Some("p-2"));
    assert_eq!(junk.value.as_deref(), Some("\"Name\"junk"));
    assert!(
        junk.message.contains("after the closing quote"),
        "{}",
        junk.message
    );
    error_on(&report, 4, "city");
    error_on(&report, 5, "description");
    // p-5 spans lines 6 and 7.
    error_on(&report, 8, "description");
    // One error per broken cell: no second complaint about its value.
    assert_eq!(report.errors.len(), 5, "{report:#?}");
    assert_eq!(report.rows_read, 6);
}

#[test]
fn an_oversize_record_is_an_error_of_its_row_and_reading_goes_on() {
    let big = "d".repeat(MAX_RECORD_BYTES + 10);
    let csv = format!(
        "{QUOTED_HEADER}\n\
         p-1,A,,Denver,CO,39.7,-105,{big}\n\
         p-2,B,,Denver,CO,39.7,-105,\"quoted\n{big}\"\n\
         p-3,C,,Denver,CO,39.7,-105,x\n"
    );
    let (providers, report) = read(csv.as_bytes());
    assert_eq!(ids(&providers), ["p-3"]);
    assert_eq!((report.rows_read, report.invalid), (3, 2));
    for line in [2, 3] {
        let error = error_on(&report, line, "row");
        assert!(error.message.contains("1 MiB"), "{}", error.message);
    }
    assert_eq!(report.errors.len(), 2, "{report:#?}");
    assert_eq!(error_on(&report, 3, "row").value, None);
    // p-3 keeps its real line: the lines of the skipped record count.
    let csv = format!(
        "{QUOTED_HEADER}\n\
         p-1,A,,Denver,CO,39.7,-105,\"{big}\n\n\"\n\
         p-2,,,Denver,CO,39.7,-105,x\n"
    );
    let (_, report) = read(csv.as_bytes());
    error_on(&report, 2, "row");
    error_on(&report, 5, "name");
}

#[test]
fn an_oversize_record_in_an_open_quote_names_the_quote() {
    let big = "d".repeat(MAX_RECORD_BYTES + 10);
    let csv = format!("{QUOTED_HEADER}\np-1,A,,Denver,CO,39.7,-105,\"{big}");
    let (_, report) = read(csv.as_bytes());
    let error = error_on(&report, 2, "row");
    assert!(error.message.contains("1 MiB"), "{}", error.message);
    assert!(error.message.contains("description"), "{}", error.message);
    assert!(error.message.contains("quote"), "{}", error.message);
}

#[test]
fn an_endless_header_stops_at_the_record_cap() {
    // 8 MiB of NUL bytes and no line break, like /dev/zero. The report is
    // summed up, not printed: its values would be megabytes long.
    let summary = |report: &Report| {
        let problems: Vec<(u64, String, String)> = report
            .errors
            .iter()
            .chain(&report.warnings)
            .map(|p| {
                let column: String = p.column.chars().take(20).collect();
                (p.line, column, p.message.clone())
            })
            .collect();
        (report.errors.len(), report.warnings.len(), problems)
    };
    let zeros = std::io::repeat(0).take(8 * MAX_RECORD_BYTES as u64);
    let report = read_providers(zeros, |_| {}).expect("reads");
    let (errors, warnings, problems) = summary(&report);
    assert!(report.has_file_errors(), "{problems:?}");
    assert_eq!((errors, warnings), (1, 0), "{problems:?}");
    assert_eq!(report.errors[0].line, 1);
    assert_eq!(report.errors[0].column, "header");
    assert!(report.errors[0].message.contains("1 MiB"), "{problems:?}");
    // Without an end, reading still stops at the cap.
    let report = read_providers(std::io::repeat(0), |_| {}).expect("reads");
    assert_eq!(report.errors[0].column, "header");
}

#[test]
fn quoting_errors_in_the_header_make_the_file_unusable() {
    for header in [
        "id,\"name,city,state\np-1,A,Denver,CO\n",
        "id,na\"me,city,state\np-1,A,Denver,CO\n",
        "id,\"name\"x,city,state\np-1,A,Denver,CO\n",
    ] {
        let (providers, report) = read(header.as_bytes());
        assert!(providers.is_empty());
        assert!(report.has_file_errors(), "{header:?}: {report:#?}");
        assert!(
            report
                .errors
                .iter()
                .any(|e| e.line == 1 && e.column == "header" && e.message.contains("quote")),
            "{header:?}: {report:#?}"
        );
    }
}

#[test]
fn a_header_only_file_says_it_has_no_rows() {
    for csv in [
        "id,name,city,state\n",
        "id,name,city,state",
        "id,name,city,state\r\n\r\n\n",
    ] {
        let (_, report) = read(csv.as_bytes());
        assert_eq!(report.rows_read, 0);
        assert_eq!(report.errors.len(), 1, "{csv:?}: {report:#?}");
        let error = &report.errors[0];
        assert_eq!(error.line, 1);
        assert_eq!(error.message, "the file has a header but no rows");
        // The header itself is fine: the import is refused for having no
        // valid rows, not as an unreadable file.
        assert!(!report.has_file_errors(), "{csv:?}");
    }
}

#[test]
fn a_bom_is_only_skipped_at_the_start_of_the_file() {
    let csv = "\u{feff}id,name,city,state,latitude,longitude\np-1,A,Denver,CO,39.7,-105\n";
    let (providers, report) = read(csv.as_bytes());
    assert_eq!(ids(&providers), ["p-1"], "{report:#?}");
    assert!(report.warnings.is_empty(), "{report:#?}");
    let csv = "id,name,city,state,latitude,longitude\np-1,\u{feff}A,Denver,CO,39.7,-105\n";
    let (providers, report) = read(csv.as_bytes());
    assert!(providers.is_empty());
    error_on(&report, 2, "name");
}

#[test]
fn line_breaks_may_be_lf_crlf_or_cr() {
    let csv = "id,name,city,state,latitude,longitude\r\n\
               p-1,A,Denver,CO,39.7,-105\r\
               p-2,,Denver,CO,39.7,-105\r\n\
               p-3,,Denver,CO,39.7,-105\n";
    let (providers, report) = read(csv.as_bytes());
    assert_eq!(ids(&providers), ["p-1"]);
    let lines: Vec<u64> = report.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [3, 4]);
}

// ---------------------------------------------------------------------------
// Text that cannot spoof (issue 16, item 7)
// ---------------------------------------------------------------------------

#[test]
fn direction_and_invisible_characters_are_errors_in_names_organizations_and_cities() {
    let cases = [
        ('\u{202A}', "U+202A LEFT-TO-RIGHT EMBEDDING"),
        ('\u{202B}', "U+202B RIGHT-TO-LEFT EMBEDDING"),
        ('\u{202C}', "U+202C POP DIRECTIONAL FORMATTING"),
        ('\u{202D}', "U+202D LEFT-TO-RIGHT OVERRIDE"),
        ('\u{202E}', "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ('\u{2066}', "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ('\u{2067}', "U+2067 RIGHT-TO-LEFT ISOLATE"),
        ('\u{2068}', "U+2068 FIRST STRONG ISOLATE"),
        ('\u{2069}', "U+2069 POP DIRECTIONAL ISOLATE"),
        ('\u{200B}', "U+200B ZERO WIDTH SPACE"),
        ('\u{200C}', "U+200C ZERO WIDTH NON-JOINER"),
        ('\u{200D}', "U+200D ZERO WIDTH JOINER"),
        ('\u{2060}', "U+2060 WORD JOINER"),
        ('\u{FEFF}', "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
        ('\u{2028}', "U+2028 LINE SEPARATOR"),
        ('\u{2029}', "U+2029 PARAGRAPH SEPARATOR"),
    ];
    for (column, position) in [("name", 1), ("organization", 2), ("city", 3)] {
        for (character, named) in cases {
            let mut cells = [
                "p-1", "Dr. A", "Clinic", "Denver", "CO", "39.7", "-105", "x",
            ]
            .map(String::from);
            cells[position] = format!("Ab{character}cd");
            let csv = format!("{QUOTED_HEADER}\n{}\n", cells.join(","));
            let (providers, report) = read(csv.as_bytes());
            assert!(providers.is_empty(), "{column} with {named}");
            let error = error_on(&report, 2, column);
            assert_eq!(error.id.as_deref(), Some("p-1"));
            assert!(
                error
                    .message
                    .starts_with(&format!("contains {named}, which ")),
                "{column}: {}",
                error.message
            );
        }
    }
    let csv = format!("{QUOTED_HEADER}\np-1,Dr. \u{202E}A,,Denver,CO,39.7,-105,x\n");
    let (_, report) = read(csv.as_bytes());
    assert_eq!(
        error_on(&report, 2, "name").message,
        "contains U+202E RIGHT-TO-LEFT OVERRIDE, which can make text display reversed"
    );
    // Other text (here a description) is not held to this rule.
    let csv = format!("{QUOTED_HEADER}\np-1,A,,Denver,CO,39.7,-105,x\u{200B}y\n");
    let (providers, _) = read(csv.as_bytes());
    assert_eq!(ids(&providers), ["p-1"]);
}

#[test]
fn the_ids_dot_and_dot_dot_are_errors() {
    for id in [".", ".."] {
        let (providers, report) = read(row_with("id", id).as_bytes());
        assert!(providers.is_empty(), "{id:?}");
        let error = error_on(&report, 2, "id");
        assert_eq!(error.value.as_deref(), Some(id));
    }
    let (providers, _) = read(row_with("id", "...").as_bytes());
    assert_eq!(ids(&providers), ["..."]);
}
