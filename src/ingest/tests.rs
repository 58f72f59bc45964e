//! Row-level tests of the importer: one table row per validation rule, plus
//! line numbering, encodings and the shape of the file.

use super::*;

const HEADER: &str = "id,name,city,state,zip,latitude,longitude,npi,website,email,treatments,conditions,price_min,price_max,telehealth,rating,review_count,last_verified,description";

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
        for problem in &report.errors {
            assert!(
                (2..=lines).contains(&problem.line),
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
