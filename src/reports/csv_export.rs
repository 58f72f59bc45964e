//! The admin's CSV of reports (`GET /admin/reports?format=csv`), safe to
//! open in a spreadsheet: a cell that starts with `=`, `+`, `-`, `@`, a tab
//! or a carriage return would be read as a formula there, so it is
//! prefixed with `'` (OWASP's advice against CSV injection). Quoting is the
//! `csv` crate's (RFC 4180).

use super::Report;

/// The columns, in order.
pub const CSV_HEADER: [&str; 10] = [
    "id",
    "provider_id",
    "reasons",
    "details",
    "status",
    "resolution",
    "note",
    "generation",
    "created_at",
    "resolved_at",
];

/// A cell as a spreadsheet will not evaluate it.
fn defused(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

/// The reports as CSV (UTF-8, header row, `\r\n` line ends); reasons are
/// joined with `;`.
pub fn to_csv(reports: &[Report]) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    writer.write_record(CSV_HEADER)?;
    for report in reports {
        let cells = [
            report.id.clone(),
            report.provider_id.clone(),
            report.reasons.join(";"),
            report.details.clone().unwrap_or_default(),
            report.status.as_str().to_string(),
            report
                .resolution
                .map(|r| r.as_str().to_string())
                .unwrap_or_default(),
            report.note.clone().unwrap_or_default(),
            report.generation.map(|g| g.to_string()).unwrap_or_default(),
            report.created_at.clone(),
            report.resolved_at.clone().unwrap_or_default(),
        ];
        writer.write_record(cells.iter().map(|cell| defused(cell)))?;
    }
    writer
        .into_inner()
        .map_err(|error| csv::Error::from(std::io::Error::other(error.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::{Resolution, Status};

    fn report(details: &str, note: Option<&str>) -> Report {
        Report {
            id: "r-0123456789abcdef".into(),
            provider_id: "p-1".into(),
            reasons: vec!["phone", "other"],
            details: Some(details.into()),
            status: Status::Resolved,
            resolution: Some(Resolution::Dismissed),
            note: note.map(str::to_string),
            generation: None,
            created_at: "2026-01-02T03:04:05Z".into(),
            resolved_at: Some("2026-01-03T00:00:00Z".into()),
            created_unix: 0,
        }
    }

    #[test]
    fn formulas_are_defused_and_quoting_is_kept() {
        for (cell, expected) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1 555", "'+1 555"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tcmd", "'\tcmd"),
            ("plain", "plain"),
            ("a=b", "a=b"),
        ] {
            assert_eq!(defused(cell), expected);
        }
        let bytes =
            to_csv(&[report("=1+1, \"quoted\"\nsecond line", Some("@admin"))]).expect("writes");
        let text = String::from_utf8(bytes).expect("UTF-8");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers: Vec<String> = reader
            .headers()
            .expect("header")
            .iter()
            .map(str::to_string)
            .collect();
        assert_eq!(headers, CSV_HEADER);
        let row = reader.records().next().expect("a row").expect("valid CSV");
        assert_eq!(&row[2], "phone;other");
        assert_eq!(&row[3], "'=1+1, \"quoted\"\nsecond line");
        assert_eq!(&row[5], "dismissed");
        assert_eq!(&row[6], "'@admin");
        assert_eq!(&row[7], "");
    }
}
