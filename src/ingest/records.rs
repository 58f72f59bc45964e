//! A strict, streaming reader of CSV records (docs/csv.md, "Encoding and
//! layout"): RFC 4180 with LF, CRLF or CR line breaks, where a quoting
//! mistake is reported against its field instead of being repaired.
//!
//! The `csv` crate is lenient by design: a quote that never closes runs to
//! the end of the file, a stray quote is kept as text, and text after a
//! closing quote is appended. Here each of those is a [`QuoteProblem`] of
//! its field. A record longer than [`MAX_RECORD_BYTES`] is cut short and
//! marked [`Record::oversize`], and the rest of it is skipped unread (the
//! line count goes on), so no input can make one record grow without bound:
//! memory holds one record. Any byte sequence is a sequence of records, so
//! nothing here can fail but the input itself.

use std::io::{self, BufRead, BufReader, Read};

/// The largest record (one row, with every line of its quoted fields), in
/// bytes of the file; a longer one is an error of its row (docs/csv.md).
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// Quoting problems kept per record: a row with more has enough to fix.
const MAX_PROBLEMS_PER_RECORD: usize = 64;

/// What is wrong with the quotes of one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteProblemKind {
    /// A `"` in a field that does not start with one (`Na"me`).
    StrayQuote,
    /// Text after the quote that closes a quoted field (`"Name"junk`).
    TextAfterClosingQuote,
    /// The field's opening quote, on `opened_line`, never closes: the input
    /// ended inside it, on `last_line`.
    Unclosed { opened_line: u64, last_line: u64 },
}

/// A quoting problem of the field at index `field` of its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuoteProblem {
    pub field: usize,
    pub kind: QuoteProblemKind,
}

/// A record that reached [`MAX_RECORD_BYTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Oversize {
    /// When the limit was reached inside a quoted field: that field's index
    /// and the line its quote opened on (a missing closing quote, likely).
    pub open_quote: Option<(usize, u64)>,
}

/// One record: its fields as bytes (quotes removed, `""` read as `"`), the
/// line it starts on, and what is wrong with its quoting.
#[derive(Debug, Default)]
pub struct Record {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    line: u64,
    problems: Vec<QuoteProblem>,
    oversize: Option<Oversize>,
}

impl Record {
    /// The 1-based line of the file on which the record starts.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The number of fields (of an oversize record: those stored whole).
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn get(&self, index: usize) -> Option<&[u8]> {
        let end = *self.ends.get(index)?;
        let start = match index {
            0 => 0,
            _ => self.ends[index - 1],
        };
        self.bytes.get(start..end)
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).filter_map(|index| self.get(index))
    }

    /// The quoting problems, at most one per field, in field order.
    pub fn problems(&self) -> &[QuoteProblem] {
        &self.problems
    }

    /// The quoting problem of field `index`, if any.
    pub fn problem_of(&self, index: usize) -> Option<&QuoteProblem> {
        self.problems.iter().find(|p| p.field == index)
    }

    /// Set when the record reached [`MAX_RECORD_BYTES`]: its fields are then
    /// not kept, and the rest of it is skipped by the next read.
    pub fn oversize(&self) -> Option<Oversize> {
        self.oversize
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
        self.line = 0;
        self.problems.clear();
        self.oversize = None;
    }

    /// Bytes are kept only while the record is within the limit.
    fn keeps(&self) -> bool {
        self.oversize.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a field, after white space at most.
    FieldStart,
    Unquoted,
    Quoted,
    /// A `"` inside a quoted field: a doubled quote or the closing one.
    QuoteInQuoted,
    /// After the closing quote: white space may follow, then a delimiter.
    AfterQuoted,
}

/// Why the reading of a record stopped.
enum Stop {
    EndOfRecord,
    EndOfInput,
    /// The record reached [`MAX_RECORD_BYTES`].
    Limit,
}

/// The parser's state, apart from the input (so the two can be borrowed
/// separately).
struct Machine {
    /// The line of the next byte.
    line: u64,
    /// The line of the last byte read.
    last_byte_line: u64,
    /// The last byte was a CR, so an LF now is part of the same line break.
    after_cr: bool,
    /// A byte of the current record was read (blank lines come before).
    started: bool,
    state: State,
    /// The index of the current field.
    field: usize,
    /// Where the current field starts in the record's bytes.
    field_start: usize,
    /// The line of the current field's opening quote.
    quote_line: u64,
    /// Where the current field's closing quote was, in the record's bytes.
    closed_at: usize,
    /// The current field already has a quoting problem.
    flagged: bool,
    /// Bytes of the file read for the current record.
    raw: usize,
}

impl Machine {
    fn start_record(&mut self) {
        self.started = false;
        self.state = State::FieldStart;
        self.field = 0;
        self.field_start = 0;
        self.flagged = false;
        self.raw = 0;
    }

    /// Counts a line break (CRLF is one).
    fn line_break(&mut self, byte: u8, was_cr: bool) {
        if byte == b'\r' || !was_cr {
            self.line += 1;
        }
    }

    fn push(&mut self, record: &mut Record, bytes: &[u8]) {
        if record.keeps() {
            record.bytes.extend_from_slice(bytes);
        }
    }

    fn problem(&mut self, record: &mut Record, kind: QuoteProblemKind) {
        if self.flagged || !record.keeps() {
            return;
        }
        self.flagged = true;
        if record.problems.len() < MAX_PROBLEMS_PER_RECORD {
            record.problems.push(QuoteProblem {
                field: self.field,
                kind,
            });
        }
    }

    fn end_field(&mut self, record: &mut Record) {
        if record.keeps() {
            record.ends.push(record.bytes.len());
        }
        self.field += 1;
        self.field_start = record.bytes.len();
        self.state = State::FieldStart;
        self.flagged = false;
    }

    /// Counts `count` more bytes of the record; false once it is too long
    /// (and the record is then marked oversize).
    fn within_limit(&mut self, record: &mut Record, count: usize) -> bool {
        self.raw = self.raw.saturating_add(count);
        if self.raw <= MAX_RECORD_BYTES || !record.keeps() {
            return true;
        }
        let open_quote = matches!(self.state, State::Quoted | State::QuoteInQuoted)
            .then_some((self.field, self.quote_line));
        record.oversize = Some(Oversize { open_quote });
        record.bytes = Vec::new();
        record.ends.clear();
        record.problems.clear();
        false
    }

    /// Reads from `input` into `record` until a stop; returns how many bytes
    /// were used.
    fn feed(&mut self, input: &[u8], record: &mut Record) -> (usize, Option<Stop>) {
        let mut at = 0;
        while at < input.len() {
            if !self.started {
                // Blank lines between records are skipped.
                let byte = input[at];
                if matches!(byte, b'\r' | b'\n') {
                    let was_cr = self.after_cr;
                    self.after_cr = byte == b'\r';
                    self.last_byte_line = self.line;
                    self.line_break(byte, was_cr);
                    at += 1;
                    continue;
                }
                self.started = true;
                record.line = self.line;
            }
            // A run of plain bytes inside a field is taken whole.
            if matches!(self.state, State::Unquoted | State::Quoted) {
                let rest = &input[at..];
                let run = rest
                    .iter()
                    .position(|&b| matches!(b, b'"' | b',' | b'\r' | b'\n'))
                    .unwrap_or(rest.len());
                if run > 0 {
                    self.after_cr = false;
                    self.last_byte_line = self.line;
                    let within = self.within_limit(record, run);
                    self.push(record, &rest[..run]);
                    at += run;
                    if !within {
                        return (at, Some(Stop::Limit));
                    }
                    continue;
                }
            }
            let byte = input[at];
            at += 1;
            let was_cr = self.after_cr;
            self.after_cr = byte == b'\r';
            self.last_byte_line = self.line;
            let line_break = matches!(byte, b'\r' | b'\n');
            // The line break that ends the record is not part of it.
            let ends_record = line_break && self.state != State::Quoted;
            let within = ends_record || self.within_limit(record, 1);
            match (self.state, byte) {
                (State::FieldStart, b' ' | b'\t') => self.push(record, &[byte]),
                (State::FieldStart, b'"') => {
                    // White space before an opening quote is dropped.
                    if record.keeps() {
                        record.bytes.truncate(self.field_start);
                    }
                    self.state = State::Quoted;
                    self.quote_line = self.line;
                }
                (
                    State::FieldStart | State::Unquoted | State::QuoteInQuoted | State::AfterQuoted,
                    b',',
                ) => self.end_field(record),
                (
                    State::FieldStart | State::Unquoted | State::QuoteInQuoted | State::AfterQuoted,
                    b'\r' | b'\n',
                ) => {
                    self.line_break(byte, was_cr);
                    self.end_field(record);
                    return (at, Some(Stop::EndOfRecord));
                }
                (State::Unquoted, b'"') => {
                    self.problem(record, QuoteProblemKind::StrayQuote);
                    self.push(record, &[byte]);
                    self.state = State::Unquoted;
                }
                (State::FieldStart | State::Unquoted, _) => {
                    self.push(record, &[byte]);
                    self.state = State::Unquoted;
                }
                (State::Quoted, b'"') => {
                    self.state = State::QuoteInQuoted;
                    self.closed_at = record.bytes.len();
                }
                (State::Quoted, _) => {
                    if line_break {
                        self.line_break(byte, was_cr);
                    }
                    self.push(record, &[byte]);
                }
                (State::QuoteInQuoted, b'"') => {
                    self.push(record, b"\"");
                    self.state = State::Quoted;
                }
                (State::QuoteInQuoted | State::AfterQuoted, b' ' | b'\t') => {
                    self.push(record, &[byte]);
                    self.state = State::AfterQuoted;
                }
                (State::QuoteInQuoted | State::AfterQuoted, _) => {
                    // Kept as text with its quotes put back, so the report
                    // shows what was written: `"Name"junk`.
                    if !self.flagged && record.keeps() {
                        record.bytes.insert(self.closed_at, b'"');
                        record.bytes.insert(self.field_start, b'"');
                    }
                    self.problem(record, QuoteProblemKind::TextAfterClosingQuote);
                    self.push(record, &[byte]);
                    self.state = State::Unquoted;
                }
            }
            if !within {
                return (at, Some(Stop::Limit));
            }
        }
        (at, None)
    }

    /// Ends the record at the end of the input.
    fn finish(&mut self, record: &mut Record) {
        if self.state == State::Quoted {
            self.problem(
                record,
                QuoteProblemKind::Unclosed {
                    opened_line: self.quote_line,
                    last_line: self.last_byte_line,
                },
            );
        }
        self.end_field(record);
    }
}

/// Reads [`Record`]s one at a time from any byte stream.
pub struct RecordReader<R> {
    input: BufReader<R>,
    machine: Machine,
    /// Nothing was read yet: a byte-order mark may come first.
    at_start: bool,
    /// The last record returned was oversize and its rest is still unread.
    skipping: bool,
}

impl<R: Read> RecordReader<R> {
    pub fn new(input: R) -> RecordReader<R> {
        RecordReader {
            input: BufReader::with_capacity(64 * 1024, input),
            machine: Machine {
                line: 1,
                last_byte_line: 1,
                after_cr: false,
                started: false,
                state: State::FieldStart,
                field: 0,
                field_start: 0,
                quote_line: 1,
                closed_at: 0,
                flagged: false,
                raw: 0,
            },
            at_start: true,
            skipping: false,
        }
    }

    /// Reads the next record into `record`; false at the end of the input.
    pub fn read(&mut self, record: &mut Record) -> io::Result<bool> {
        if self.at_start {
            self.at_start = false;
            let start = self.input.fill_buf()?;
            if start.starts_with(b"\xEF\xBB\xBF") {
                self.input.consume(3);
            }
        }
        if self.skipping {
            // The rest of the oversize record returned last time.
            let mut rest = Record {
                oversize: Some(Oversize { open_quote: None }),
                ..Record::default()
            };
            self.run(&mut rest)?;
            self.skipping = false;
        }
        record.clear();
        self.machine.start_record();
        match self.run(record)? {
            Stop::EndOfRecord => Ok(true),
            Stop::Limit => {
                self.skipping = true;
                Ok(true)
            }
            Stop::EndOfInput if !self.machine.started => Ok(false),
            Stop::EndOfInput => {
                self.machine.finish(record);
                Ok(true)
            }
        }
    }

    fn run(&mut self, record: &mut Record) -> io::Result<Stop> {
        loop {
            let input = match self.input.fill_buf() {
                Ok(input) => input,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            if input.is_empty() {
                return Ok(Stop::EndOfInput);
            }
            let (used, stop) = self.machine.feed(input, record);
            self.input.consume(used);
            if let Some(stop) = stop {
                return Ok(stop);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record of `input` as (line, fields as text, problems).
    fn records(input: &[u8]) -> Vec<(u64, Vec<String>, Vec<QuoteProblem>)> {
        let mut reader = RecordReader::new(input);
        let mut record = Record::default();
        let mut out = Vec::new();
        while reader.read(&mut record).expect("in memory") {
            let fields = record
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect();
            out.push((record.line(), fields, record.problems().to_vec()));
        }
        out
    }

    fn fields(input: &str) -> Vec<Vec<String>> {
        records(input.as_bytes())
            .into_iter()
            .map(|(_, fields, problems)| {
                assert_eq!(problems, [], "{input:?}");
                fields
            })
            .collect()
    }

    #[test]
    fn rfc_4180_fields() {
        assert_eq!(fields("a,b\n"), [["a", "b"]]);
        assert_eq!(fields("a,,\"\"\n"), [["a", "", ""]]);
        assert_eq!(fields("\"a,b\",\"c\"\"d\"\r\n"), [["a,b", "c\"d"]]);
        assert_eq!(fields("\"x\ny\"\n"), [["x\ny"]]);
        assert_eq!(fields("  \"a\" ,b"), [["a ", "b"]]);
        assert_eq!(fields("a\n\n\r\n\rb\n"), [["a"], ["b"]]);
        assert_eq!(fields(""), Vec::<Vec<String>>::new());
        assert_eq!(fields("\u{feff}a"), [["a"]]);
        assert_eq!(fields("a,\u{feff}b"), [["a", "\u{feff}b"]]);
    }

    #[test]
    fn lines_count_lf_crlf_and_cr() {
        let lines: Vec<u64> = records(b"a\r\nb\rc\n\"d\r\n\r\n\"\ne")
            .iter()
            .map(|(line, _, _)| *line)
            .collect();
        assert_eq!(lines, [1, 2, 3, 4, 7]);
    }

    #[test]
    fn quoting_problems_name_their_field() {
        let problems = |input: &str| -> Vec<QuoteProblem> {
            records(input.as_bytes())
                .into_iter()
                .flat_map(|(_, _, problems)| problems)
                .collect()
        };
        let stray = |field| QuoteProblem {
            field,
            kind: QuoteProblemKind::StrayQuote,
        };
        let after = |field| QuoteProblem {
            field,
            kind: QuoteProblemKind::TextAfterClosingQuote,
        };
        assert_eq!(problems("a,b\"c\"\"\n"), [stray(1)]);
        assert_eq!(problems("\"a\"b,\"c\" d\n"), [after(0), after(1)]);
        let (_, fields, _) = records(b" \"a\"\"b\" c,\"d\"e\"\n").remove(0);
        assert_eq!(fields, ["\"a\"b\" c", "\"d\"e\""]);
        assert_eq!(
            problems("x\n\"a\nb,c\n"),
            [QuoteProblem {
                field: 0,
                kind: QuoteProblemKind::Unclosed {
                    opened_line: 2,
                    last_line: 3
                }
            }]
        );
    }

    /// Where the quoting is right, the fields are those the `csv` crate
    /// reads (it differs only in what it accepts besides).
    #[test]
    fn well_quoted_input_reads_as_the_csv_crate_reads_it() {
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut compared = 0;
        for round in 0..6000 {
            let mut input = Vec::new();
            for _ in 0..(round % 60) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                input.push(b"ab,\"\n\r,\"x"[(state % 9) as usize]);
            }
            let ours = records(&input);
            if ours.iter().any(|(_, _, problems)| !problems.is_empty()) {
                continue;
            }
            compared += 1;
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(input.as_slice());
            let theirs: Vec<Vec<String>> = reader
                .byte_records()
                .map(|r| {
                    r.expect("in memory")
                        .iter()
                        .map(|f| String::from_utf8_lossy(f).into_owned())
                        .collect()
                })
                .collect();
            let ours: Vec<Vec<String>> = ours.into_iter().map(|(_, fields, _)| fields).collect();
            assert_eq!(ours, theirs, "{:?}", String::from_utf8_lossy(&input));
        }
        assert!(compared > 500, "{compared}");
    }

    #[test]
    fn a_record_over_the_limit_is_cut_and_its_rest_skipped() {
        let mut input = b"a,\"".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_RECORD_BYTES));
        input.extend_from_slice(b"\n\"\nb,c\n");
        let mut reader = RecordReader::new(input.as_slice());
        let mut record = Record::default();
        assert!(reader.read(&mut record).expect("reads"));
        assert_eq!(
            record.oversize(),
            Some(Oversize {
                open_quote: Some((1, 1))
            })
        );
        assert_eq!(record.line(), 1);
        assert_eq!(record.len(), 0);
        assert!(reader.read(&mut record).expect("reads"));
        assert_eq!(record.oversize(), None);
        assert_eq!(record.line(), 3);
        assert_eq!(record.iter().collect::<Vec<_>>(), [b"b", b"c"]);
        assert!(!reader.read(&mut record).expect("reads"));
    }
}
