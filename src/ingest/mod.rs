//! CSV → validated [`Provider`] records + a [`Report`] of every problem.
//!
//! Reading streams: each valid record is handed to a sink as soon as its row
//! is checked, so memory holds one row at a time (at most
//! [`MAX_RECORD_BYTES`]) plus the set of ids seen (ids must be unique) and
//! the report. Rows are read as bytes by a strict reader ([`records`]), so
//! invalid UTF-8 and quoting mistakes are errors of their own row only, and
//! no byte sequence can panic.
//! This module knows nothing of tantivy or HTTP: the CLI's `check`, imports
//! from the CLI and imports over HTTP all use it, so one set of rules holds.

pub mod fields;
mod records;
mod report;

use std::collections::HashSet;
use std::hash::BuildHasherDefault;
use std::io::Read;

pub use records::MAX_RECORD_BYTES;
pub use report::{NO_ROWS, Problem, Report};

use records::{Oversize, QuoteProblemKind, Record, RecordReader};

use crate::geo::LatLon;
use crate::geo::gazetteer::{FxHasher, Gazetteer};
use crate::provider::{MAX_PRICE, MAX_REVIEW_COUNT, Provider, Treatment};

/// [`MAX_RECORD_BYTES`] in words, for messages.
const RECORD_LIMIT: &str = "1 MiB (1,048,576 bytes)";
const _: () = assert!(MAX_RECORD_BYTES == 1_048_576, "update RECORD_LIMIT");

/// Failure to read the input at all (as opposed to bad rows, which are
/// reported and skipped).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("could not read the CSV input: {0}")]
    Read(#[from] std::io::Error),
}

/// The columns of docs/csv.md, in the order of the documented header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Id,
    Name,
    Organization,
    Credentials,
    Npi,
    Address,
    City,
    State,
    Zip,
    Latitude,
    Longitude,
    Phone,
    Website,
    Email,
    Treatments,
    Conditions,
    Insurance,
    PriceMin,
    PriceMax,
    Telehealth,
    AcceptingNewPatients,
    Languages,
    Rating,
    ReviewCount,
    Description,
    LastVerified,
    ProviderType,
    LicensedStates,
    RemsCertified,
}

impl Column {
    const ALL: [Column; 29] = [
        Column::Id,
        Column::Name,
        Column::Organization,
        Column::Credentials,
        Column::Npi,
        Column::Address,
        Column::City,
        Column::State,
        Column::Zip,
        Column::Latitude,
        Column::Longitude,
        Column::Phone,
        Column::Website,
        Column::Email,
        Column::Treatments,
        Column::Conditions,
        Column::Insurance,
        Column::PriceMin,
        Column::PriceMax,
        Column::Telehealth,
        Column::AcceptingNewPatients,
        Column::Languages,
        Column::Rating,
        Column::ReviewCount,
        Column::Description,
        Column::LastVerified,
        Column::ProviderType,
        Column::LicensedStates,
        Column::RemsCertified,
    ];
    const REQUIRED: [Column; 4] = [Column::Id, Column::Name, Column::City, Column::State];

    fn name(self) -> &'static str {
        match self {
            Column::Id => "id",
            Column::Name => "name",
            Column::Organization => "organization",
            Column::Credentials => "credentials",
            Column::Npi => "npi",
            Column::Address => "address",
            Column::City => "city",
            Column::State => "state",
            Column::Zip => "zip",
            Column::Latitude => "latitude",
            Column::Longitude => "longitude",
            Column::Phone => "phone",
            Column::Website => "website",
            Column::Email => "email",
            Column::Treatments => "treatments",
            Column::Conditions => "conditions",
            Column::Insurance => "insurance",
            Column::PriceMin => "price_min",
            Column::PriceMax => "price_max",
            Column::Telehealth => "telehealth",
            Column::AcceptingNewPatients => "accepting_new_patients",
            Column::Languages => "languages",
            Column::Rating => "rating",
            Column::ReviewCount => "review_count",
            Column::Description => "description",
            Column::LastVerified => "last_verified",
            Column::ProviderType => "provider_type",
            Column::LicensedStates => "licensed_states",
            Column::RemsCertified => "rems_certified",
        }
    }
}

/// Where each known column sits in the file's rows.
struct Header {
    positions: [Option<usize>; Column::ALL.len()],
    width: usize,
    /// Every column's name as reported (lower case), known or not.
    names: Vec<String>,
    /// The line the header is on (1 unless blank lines come first).
    line: u64,
}

impl Header {
    fn has(&self, column: Column) -> bool {
        self.positions[column as usize].is_some()
    }

    /// Reads the header row; problems that make the file unreadable are
    /// errors (the caller reads no rows), unknown columns are warnings.
    fn read<R: Read>(
        reader: &mut RecordReader<R>,
        record: &mut Record,
        report: &mut Report,
    ) -> Result<Option<Header>, IngestError> {
        let found = reader.read(record)?;
        let line = record.line().max(1);
        if found && record.oversize().is_some() {
            let message = format!(
                "the header is longer than {RECORD_LIMIT}, the most a record may have: this is not a provider CSV"
            );
            report.error(line, None, "header", None, &message);
            return Ok(None);
        }
        if !found || record.iter().all(<[u8]>::is_empty) {
            report.error(line, None, "header", None, "the file has no header row");
            return Ok(None);
        }
        if !record.problems().is_empty() {
            for problem in record.problems() {
                let value = record.get(problem.field).map(String::from_utf8_lossy);
                let message = format!(
                    "column {}: {}",
                    problem.field + 1,
                    quote_message(problem.kind)
                );
                report.error(
                    line,
                    None,
                    "header",
                    value.as_deref().map(str::trim),
                    &message,
                );
            }
            return Ok(None);
        }
        Ok(Header::parse(record, line, report))
    }

    fn parse(header: &Record, line: u64, report: &mut Report) -> Option<Header> {
        let mut positions = [None; Column::ALL.len()];
        let mut names = Vec::with_capacity(header.len());
        let mut usable = true;
        for (position, raw) in header.iter().enumerate() {
            let raw = String::from_utf8_lossy(raw);
            // A UTF-8 byte-order mark may precede the first column name.
            let name = raw.trim_start_matches('\u{feff}').trim().to_lowercase();
            match Column::ALL.iter().position(|c| c.name() == name) {
                Some(index) if positions[index].is_some() => {
                    report.error(line, None, &name, None, "column appears more than once");
                    usable = false;
                }
                Some(index) => positions[index] = Some(position),
                None => report.warning(line, None, &name, None, "unknown column, ignored"),
            }
            names.push(name);
        }
        for required in Column::REQUIRED {
            if positions[required as usize].is_none() {
                report.error(
                    line,
                    None,
                    required.name(),
                    None,
                    "required column is missing",
                );
                usable = false;
            }
        }
        usable.then_some(Header {
            positions,
            width: header.len(),
            names,
            line,
        })
    }

    /// The name of the column at `position` of a row; `row` past the header.
    fn name_at(&self, position: usize) -> &str {
        self.names.get(position).map_or("row", String::as_str)
    }
}

/// What a quoting problem means, and how to fix it.
fn quote_message(kind: QuoteProblemKind) -> String {
    match kind {
        QuoteProblemKind::StrayQuote => {
            "a quote (\") inside a field that does not start with one: \
             put the whole field in quotes and write each quote in it as \"\""
                .into()
        }
        QuoteProblemKind::TextAfterClosingQuote => {
            "text after the closing quote of a quoted field: \
             inside a quoted field, write each quote as \"\""
                .into()
        }
        QuoteProblemKind::Unclosed {
            opened_line,
            last_line,
        } if last_line > opened_line => format!(
            "the quote that opens this field on line {opened_line} never closes: \
             the rest of the file, to line {last_line}, was read into this field"
        ),
        QuoteProblemKind::Unclosed { opened_line, .. } => format!(
            "the quote that opens this field on line {opened_line} never closes before the end of the file"
        ),
    }
}

/// Why an oversize record was skipped.
fn oversize_message(oversize: Oversize, header: &Header) -> String {
    let mut message = format!(
        "the record is longer than {RECORD_LIMIT}, the most a row may have, and was skipped"
    );
    if let Some((position, line)) = oversize.open_quote {
        message.push_str(&format!(
            "; it reached the limit inside the quoted field of column {}, whose quote opens on line {line}: is a closing quote missing?",
            header.name_at(position)
        ));
    }
    message
}

/// Reads a provider CSV, calling `on_valid` with each valid record in file
/// order, and returns the report of every problem found.
pub fn read_providers<R: Read>(
    input: R,
    mut on_valid: impl FnMut(Provider),
) -> Result<Report, IngestError> {
    read_providers_with(input, |provider, _| on_valid(provider))
}

/// Like [`read_providers`], also showing the sink the report so far (an
/// import stops building once a row is invalid and it will be rejected).
pub fn read_providers_with<R: Read>(
    input: R,
    mut on_valid: impl FnMut(Provider, &Report),
) -> Result<Report, IngestError> {
    let gazetteer = Gazetteer::get();
    let mut reader = RecordReader::new(input);
    let mut record = Record::default();
    let mut report = Report::default();
    let Some(header) = Header::read(&mut reader, &mut record, &mut report)? else {
        return Ok(report);
    };
    let mut seen_ids: HashSet<Box<str>, BuildHasherDefault<FxHasher>> = HashSet::default();
    while reader.read(&mut record)? {
        report.rows_read += 1;
        let mut row = RowCheck {
            line: record.line(),
            id: None,
            report: &mut report,
            failed: false,
        };
        if let Some(provider) = row.validate(&header, &record, gazetteer, &mut seen_ids) {
            report.valid += 1;
            on_valid(provider, &report);
        } else {
            report.invalid += 1;
        }
    }
    if report.rows_read == 0 {
        report.error(header.line, None, "row", None, NO_ROWS);
    }
    Ok(report)
}

/// The checks of one row, collecting every problem into the report.
struct RowCheck<'a> {
    line: u64,
    id: Option<String>,
    report: &'a mut Report,
    failed: bool,
}

impl RowCheck<'_> {
    fn fail(&mut self, column: Column, value: Option<&str>, message: &str) {
        self.failed = true;
        self.report
            .error(self.line, self.id.as_deref(), column.name(), value, message);
    }

    /// Parses an optional cell: `None` when blank, broken (its problem is
    /// reported on its own) or failed (failure reported).
    fn optional<T>(
        &mut self,
        cells: &Cells,
        column: Column,
        parse: impl FnOnce(&str) -> fields::FieldResult<T>,
    ) -> Option<T> {
        let value = cells.get(column)?;
        match parse(value) {
            Ok(parsed) => Some(parsed),
            Err(message) => {
                self.fail(column, Some(value), &message);
                None
            }
        }
    }

    fn required<T>(
        &mut self,
        cells: &Cells,
        column: Column,
        parse: impl FnOnce(&str) -> fields::FieldResult<T>,
    ) -> Option<T> {
        if cells.get(column).is_none() && !cells.is_broken(column) {
            self.fail(column, None, "required, but blank");
            return None;
        }
        self.optional(cells, column, parse)
    }

    /// Reports the record's quoting problems, each in its column.
    fn quoting(&mut self, header: &Header, record: &Record) {
        for problem in record.problems() {
            let value = record.get(problem.field).map(String::from_utf8_lossy);
            self.failed = true;
            self.report.error(
                self.line,
                self.id.as_deref(),
                header.name_at(problem.field),
                value.as_deref().map(str::trim),
                &quote_message(problem.kind),
            );
        }
    }

    fn validate(
        &mut self,
        header: &Header,
        record: &Record,
        gazetteer: &Gazetteer,
        seen_ids: &mut HashSet<Box<str>, BuildHasherDefault<FxHasher>>,
    ) -> Option<Provider> {
        if let Some(oversize) = record.oversize() {
            self.failed = true;
            let message = oversize_message(oversize, header);
            self.report.error(self.line, None, "row", None, &message);
            return None;
        }
        let Some(cells) = self.decode(header, record) else {
            self.quoting(header, record);
            return None;
        };
        // The id goes first so that every later problem of the row names it.
        let id = self.required(&cells, Column::Id, fields::id);
        if let Some(id) = &id {
            self.id = Some(id.clone());
            if !seen_ids.insert(id.as_str().into()) {
                self.fail(
                    Column::Id,
                    Some(id),
                    "duplicate id: an earlier row has the same id",
                );
            }
        }
        self.quoting(header, record);
        let name = self.required(&cells, Column::Name, |v| fields::display_text(v, 200));
        let organization = self.optional(&cells, Column::Organization, |v| {
            fields::display_text(v, 200)
        });
        let credentials = self.optional(&cells, Column::Credentials, |v| fields::text_list(v, 20));
        let npi = self.optional(&cells, Column::Npi, fields::npi);
        let address = self.optional(&cells, Column::Address, |v| fields::text(v, 200));
        let city = self.required(&cells, Column::City, |v| fields::display_text(v, 100));
        let state = self.required(&cells, Column::State, fields::state);
        let zip = self.optional(&cells, Column::Zip, fields::zip);
        let latitude = self.optional(&cells, Column::Latitude, |v| {
            fields::decimal(v, -90.0, 90.0)
        });
        let longitude = self.optional(&cells, Column::Longitude, |v| {
            fields::decimal(v, -180.0, 180.0)
        });
        let phone = self.optional(&cells, Column::Phone, |v| fields::text(v, 40));
        let website = self.optional(&cells, Column::Website, fields::website);
        let email = self.optional(&cells, Column::Email, fields::email);
        let treatments = self.optional(&cells, Column::Treatments, fields::treatments);
        let conditions = self.optional(&cells, Column::Conditions, fields::conditions);
        let insurance = self.optional(&cells, Column::Insurance, |v| fields::text_list(v, 100));
        let price_min = self.optional(&cells, Column::PriceMin, |v| {
            fields::whole_number(v, MAX_PRICE)
        });
        let price_max = self.optional(&cells, Column::PriceMax, |v| {
            fields::whole_number(v, MAX_PRICE)
        });
        let telehealth = self.optional(&cells, Column::Telehealth, fields::boolean);
        let accepting = self.optional(&cells, Column::AcceptingNewPatients, fields::boolean);
        let languages = self.optional(&cells, Column::Languages, |v| fields::text_list(v, 50));
        let rating = self.optional(&cells, Column::Rating, |v| fields::decimal(v, 0.0, 5.0));
        let review_count = self.optional(&cells, Column::ReviewCount, |v| {
            fields::whole_number(v, MAX_REVIEW_COUNT)
        });
        let description = self.optional(&cells, Column::Description, |v| {
            fields::multiline_text(v, 5000)
        });
        let last_verified = self.optional(&cells, Column::LastVerified, fields::date);
        let provider_type = self.optional(&cells, Column::ProviderType, fields::provider_types);
        let licensed_states = self.optional(&cells, Column::LicensedStates, fields::state_list);
        let rems_certified = self.optional(&cells, Column::RemsCertified, fields::boolean);

        // Checks across columns need every cell read: a row with a broken
        // cell is invalid already, and would get misleading errors here.
        if cells.any_broken() {
            return None;
        }
        if let (Some(min), Some(max)) = (price_min, price_max)
            && min > max
        {
            self.fail(
                Column::PriceMin,
                cells.get(Column::PriceMin),
                &format!("price_min ({min}) must not exceed price_max ({max})"),
            );
        }
        let review_count_value = review_count.unwrap_or(0);
        if rating.is_some() && review_count_value == 0 {
            self.fail(
                Column::Rating,
                cells.get(Column::Rating),
                "a rating needs a review_count of at least 1",
            );
        }
        if rating.is_none() && cells.get(Column::Rating).is_none() && review_count_value > 0 {
            self.fail(
                Column::ReviewCount,
                cells.get(Column::ReviewCount),
                "review_count is above 0 but no rating is given",
            );
        }
        let treatments = treatments.unwrap_or_default();
        if treatments.contains(&Treatment::EsketamineNasal) {
            self.rems(header, &cells, rems_certified);
        }
        let position = self.position(&cells, (latitude, longitude), zip.as_deref(), gazetteer);

        if self.failed {
            return None;
        }
        let (position, location_approximate) = position?;
        Some(Provider {
            id: id?,
            name: name?,
            organization,
            credentials: credentials.unwrap_or_default(),
            npi,
            address,
            city: city?,
            state: state?,
            zip,
            latitude: position.lat,
            longitude: position.lon,
            location_approximate,
            phone,
            website,
            email,
            treatments,
            conditions: conditions.unwrap_or_default(),
            insurance: insurance.unwrap_or_default(),
            price_min,
            price_max,
            telehealth: telehealth.unwrap_or(false),
            accepting_new_patients: accepting.unwrap_or(false),
            languages: languages.unwrap_or_default(),
            rating,
            review_count: review_count_value,
            description,
            last_verified,
            provider_type: provider_type.unwrap_or_default(),
            licensed_states: licensed_states.unwrap_or_default(),
            rems_certified,
        })
    }

    /// SPRAVATO may only be given at REMS-certified sites: a row that offers
    /// it while saying it is not certified is an error; one that does not
    /// say is a warning, but only when the file has the column at all (files
    /// from before the column import as they did).
    fn rems(&mut self, header: &Header, cells: &Cells, certified: Option<bool>) {
        match certified {
            Some(true) => {}
            Some(false) => self.fail(
                Column::RemsCertified,
                cells.get(Column::RemsCertified),
                "esketamine_nasal (SPRAVATO) may only be offered at a REMS-certified site, \
                 and rems_certified is false",
            ),
            None if header.has(Column::RemsCertified)
                && !cells.is_broken(Column::RemsCertified) =>
            {
                self.report.warning(
                    self.line,
                    self.id.as_deref(),
                    Column::RemsCertified.name(),
                    None,
                    "REMS certification not confirmed",
                );
            }
            None => {}
        }
    }

    /// The row's position: its own coordinates, or its ZIP's centroid (with a
    /// warning, since the position is then approximate).
    fn position(
        &mut self,
        cells: &Cells,
        parsed: (Option<f64>, Option<f64>),
        zip: Option<&str>,
        gazetteer: &Gazetteer,
    ) -> Option<(LatLon, bool)> {
        let latitude = cells.get(Column::Latitude);
        let longitude = cells.get(Column::Longitude);
        match (latitude, longitude) {
            // Bad values were reported when they were parsed.
            (Some(_), Some(_)) => LatLon::new(parsed.0?, parsed.1?).map(|p| (p, false)),
            (Some(_), None) => {
                self.fail(
                    Column::Longitude,
                    None,
                    "latitude and longitude must be given together",
                );
                None
            }
            (None, Some(_)) => {
                self.fail(
                    Column::Latitude,
                    None,
                    "latitude and longitude must be given together",
                );
                None
            }
            (None, None) => {
                let Some(zip) = zip else {
                    if cells.get(Column::Zip).is_none() {
                        self.fail(
                            Column::Latitude,
                            None,
                            "no coordinates and no ZIP code: give latitude and longitude, or a ZIP",
                        );
                    }
                    return None;
                };
                match gazetteer.zip(zip) {
                    Some(place) => {
                        self.report.warning(
                            self.line,
                            self.id.as_deref(),
                            "latitude",
                            None,
                            &format!(
                                "no coordinates given; the centre of ZIP {zip} is used, so the position is approximate"
                            ),
                        );
                        Some((place.position, true))
                    }
                    None => {
                        self.fail(
                            Column::Zip,
                            Some(zip),
                            "no coordinates given and this ZIP is not in the gazetteer: add latitude and longitude",
                        );
                        None
                    }
                }
            }
        }
    }

    /// Decodes the row's cells as UTF-8 and checks its width. A cell with a
    /// quoting problem is broken: it is not read. After a quote that never
    /// closes the width says nothing, and the cells it swallowed are broken.
    fn decode<'r>(&mut self, header: &Header, record: &'r Record) -> Option<Cells<'r>> {
        let unclosed = record
            .problems()
            .iter()
            .any(|p| matches!(p.kind, QuoteProblemKind::Unclosed { .. }));
        if record.len() != header.width && !unclosed {
            let message = format!(
                "the row has {} fields but the header has {}",
                record.len(),
                header.width
            );
            self.failed = true;
            self.report.error(self.line, None, "row", None, &message);
            return None;
        }
        let mut values: [Option<&str>; Column::ALL.len()] = [None; Column::ALL.len()];
        let mut broken = [false; Column::ALL.len()];
        let mut valid_utf8 = true;
        for (index, position) in header.positions.iter().enumerate() {
            let Some(position) = *position else { continue };
            let Some(raw) = record.get(position) else {
                broken[index] = true;
                continue;
            };
            if record.problem_of(position).is_some() {
                broken[index] = true;
                continue;
            }
            match std::str::from_utf8(raw) {
                Ok(text) => {
                    let text = text.trim();
                    values[index] = (!text.is_empty()).then_some(text);
                }
                Err(_) => {
                    valid_utf8 = false;
                    let lossy = String::from_utf8_lossy(raw);
                    self.failed = true;
                    self.report.error(
                        self.line,
                        None,
                        Column::ALL[index].name(),
                        Some(&lossy),
                        "not valid UTF-8 text",
                    );
                }
            }
        }
        valid_utf8.then_some(Cells { values, broken })
    }
}

/// The trimmed, non-blank cells of one row, by column.
struct Cells<'r> {
    values: [Option<&'r str>; Column::ALL.len()],
    /// Cells that could not be read (their problem is reported already).
    broken: [bool; Column::ALL.len()],
}

impl<'r> Cells<'r> {
    fn get(&self, column: Column) -> Option<&'r str> {
        self.values[column as usize]
    }

    fn is_broken(&self, column: Column) -> bool {
        self.broken[column as usize]
    }

    fn any_broken(&self) -> bool {
        self.broken.contains(&true)
    }
}

#[cfg(test)]
mod tests;
