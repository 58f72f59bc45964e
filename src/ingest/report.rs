//! The validation report: counts, errors and warnings with line numbers.

use serde::Serialize;

/// How many problems of each kind the report lists; the rest are counted
/// only, so a file of a million bad rows cannot exhaust memory.
pub const MAX_LISTED_PROBLEMS: usize = 10_000;

/// The error of a file with a header and no rows. Such a file is usable, so
/// this is not one of [`Report::has_file_errors`]; its import is refused for
/// having no valid rows.
pub const NO_ROWS: &str = "the file has a header but no rows";

/// Values in the report are cut to this many characters.
const MAX_VALUE_CHARS: usize = 80;

/// One problem, located by the 1-based line on which its record starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Problem {
    pub line: u64,
    pub id: Option<String>,
    pub column: String,
    pub value: Option<String>,
    pub message: String,
}

/// The outcome of reading one CSV file (docs/csv.md, "Validation report").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Report {
    pub rows_read: u64,
    pub valid: u64,
    pub invalid: u64,
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
    /// Errors beyond [`MAX_LISTED_PROBLEMS`], counted but not listed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub errors_not_listed: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub warnings_not_listed: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn problem(
    line: u64,
    id: Option<&str>,
    column: &str,
    value: Option<&str>,
    message: &str,
) -> Problem {
    Problem {
        line,
        id: id.map(str::to_string),
        column: column.to_string(),
        value: value.map(|v| v.chars().take(MAX_VALUE_CHARS).collect()),
        message: message.to_string(),
    }
}

/// Adds a problem to a list, or counts it once the list is full.
fn record(listed: &mut Vec<Problem>, not_listed: &mut u64, problem: Problem) {
    if listed.len() < MAX_LISTED_PROBLEMS {
        listed.push(problem);
    } else {
        *not_listed += 1;
    }
}

impl Report {
    pub fn error(
        &mut self,
        line: u64,
        id: Option<&str>,
        column: &str,
        value: Option<&str>,
        message: &str,
    ) {
        let problem = problem(line, id, column, value, message);
        record(&mut self.errors, &mut self.errors_not_listed, problem);
    }

    pub fn warning(
        &mut self,
        line: u64,
        id: Option<&str>,
        column: &str,
        value: Option<&str>,
        message: &str,
    ) {
        let problem = problem(line, id, column, value, message);
        record(&mut self.warnings, &mut self.warnings_not_listed, problem);
    }

    /// True when the file itself could not be used (e.g. a missing column).
    pub fn has_file_errors(&self) -> bool {
        self.rows_read == 0 && self.errors.iter().any(|e| e.message != NO_ROWS)
    }

    /// The report as readable text, one problem per line.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} rows read: {} valid, {} invalid; {} errors, {} warnings",
            self.rows_read,
            self.valid,
            self.invalid,
            self.errors.len() as u64 + self.errors_not_listed,
            self.warnings.len() as u64 + self.warnings_not_listed,
        );
        for (kind, problems) in [("error", &self.errors), ("warning", &self.warnings)] {
            for p in problems {
                let _ = write!(out, "line {}: {kind}: {}", p.line, p.column);
                if let Some(id) = &p.id {
                    let _ = write!(out, " (id {id})");
                }
                if let Some(value) = &p.value {
                    let _ = write!(out, " = {value:?}");
                }
                let _ = writeln!(out, ": {}", p.message);
            }
        }
        if self.errors_not_listed > 0 || self.warnings_not_listed > 0 {
            let _ = writeln!(
                out,
                "({} more errors and {} more warnings not listed)",
                self.errors_not_listed, self.warnings_not_listed
            );
        }
        out
    }
}
