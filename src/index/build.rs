//! One import: CSV → validated records → a new generation, published only
//! when every rule of docs/generations.md lets it through.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use sha2::{Digest, Sha256};
use tantivy::store::Compressor;
use tantivy::{Index, IndexSettings, IndexSortByField, IndexWriter, Order, TantivyDocument};

use super::generation::GenerationMeta;
use super::generations::{ImportLock, ImportLogEntry, IndexDir};
use super::ranks::{self, RankInput};
use super::records::RecordWriter;
use super::schema::{
    DocumentBuilder, GEO_ORDER_FIELD, TEXT_TOKENIZER, build_schema, text_analyzer,
};
use super::{FORMAT_VERSION, IndexError};
use crate::clock::{format_utc, unix_now};
use crate::geo::gazetteer::FastMap;
use crate::ingest::{self, Report};
use crate::provider::{Provider, list_key};

/// Insurers that get a bit of their own in the facet bitmask; the rest are
/// counted from the multi-valued fast field.
pub const INSURANCE_BITS: usize = 63;

/// Writer memory per indexing thread (tantivy's peak is about twice this).
const WRITER_BUDGET_PER_THREAD: usize = 128 * 1024 * 1024;

/// The CSV a generation was built from, byte for byte, in its directory:
/// what an upgrade rebuilds it from.
pub(super) const SOURCE_FILE: &str = "source.csv";

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Publish the valid rows even when some rows are invalid.
    pub skip_invalid: bool,
    /// Publish even when the directory would lose more than 20 % of providers.
    pub allow_shrink: bool,
    /// Where the CSV came from (file name or "upload"), kept in the metadata.
    pub source: Option<String>,
}

/// What became of an import, as the import log and the metrics name it.
pub const PUBLISHED: &str = "published";
/// The import ran and a rule of docs/generations.md refused it.
pub const REJECTED: &str = "rejected";
/// The import stopped on an error (I/O, tantivy…).
pub const FAILED: &str = "failed";

/// [`PUBLISHED`], [`REJECTED`] or [`FAILED`].
pub fn outcome_label(result: &Result<ImportOutcome, IndexError>) -> &'static str {
    match result {
        Ok(outcome) if outcome.generation.is_some() => PUBLISHED,
        Ok(_) => REJECTED,
        Err(_) => FAILED,
    }
}

/// Why an import was not published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Rejection {
    /// The header row is missing, duplicated or lacks a required column.
    UnreadableFile,
    /// Some rows are invalid and skipping them was not allowed.
    InvalidRows { invalid: u64 },
    /// The file has no valid row.
    NoValidRows,
    /// The directory would shrink by more than 20 % (a truncated file?).
    WouldShrink { served: u64, imported: u64 },
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::UnreadableFile => write!(
                f,
                "the file cannot be read as a provider CSV (see the errors on line 1)"
            ),
            Rejection::InvalidRows { invalid } => write!(
                f,
                "{invalid} rows are invalid; fix them, or import with skip-invalid to publish only the valid rows"
            ),
            Rejection::NoValidRows => write!(f, "the file has no valid rows"),
            Rejection::WouldShrink { served, imported } => write!(
                f,
                "the import has {imported} providers where {served} are served (a shrink of more than 20 %, perhaps a truncated file); import with allow-shrink if this is intended"
            ),
        }
    }
}

/// The report and what became of the import.
#[derive(Debug, Clone, Serialize)]
pub struct ImportOutcome {
    pub report: Report,
    /// The published generation, or `None` when rejected.
    pub generation: Option<u64>,
    pub rejection: Option<Rejection>,
    pub documents: u64,
    pub seconds: f64,
}

/// Counts bytes read, for progress reporting.
struct CountingReader<R, F> {
    inner: R,
    bytes: u64,
    next_report: u64,
    on_progress: F,
    /// SHA-256 of everything read, kept in the generation's metadata so an
    /// admin can tell which file is served.
    digest: Sha256,
}

impl<R: Read, F: FnMut(u64)> Read for CountingReader<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.digest.update(&buf[..n]);
        self.bytes += n as u64;
        if self.bytes >= self.next_report {
            (self.on_progress)(self.bytes);
            self.next_report = self.bytes + (1 << 20);
        }
        Ok(n)
    }
}

/// Copies everything read into the build's `source.csv`, so a generation
/// keeps its CSV without a second pass over the input or a copy in memory.
struct TeeReader<R> {
    inner: R,
    copy: BufWriter<File>,
    path: PathBuf,
    /// Why the copy could not be written; the read then fails too.
    failed: Option<std::io::Error>,
}

impl<R: Read> TeeReader<R> {
    fn create(inner: R, building: &Path) -> Result<TeeReader<R>, IndexError> {
        let path = building.join(SOURCE_FILE);
        let file = File::create(&path).map_err(|source| IndexError::Io {
            context: format!("creating {}", path.display()),
            source,
        })?;
        Ok(TeeReader {
            inner,
            copy: BufWriter::with_capacity(1 << 16, file),
            path,
            failed: None,
        })
    }

    /// The error that stopped the copy, if any.
    fn take_error(&mut self) -> Result<(), IndexError> {
        match self.failed.take() {
            Some(source) => Err(IndexError::Io {
                context: format!("writing {}", self.path.display()),
                source,
            }),
            None => Ok(()),
        }
    }

    /// Flushes the copy to disk (before the build gets its final name).
    fn finish(&mut self) -> Result<(), IndexError> {
        self.take_error()?;
        let flush = self
            .copy
            .flush()
            .and_then(|()| self.copy.get_ref().sync_all());
        flush.map_err(|source| IndexError::Io {
            context: format!("writing {}", self.path.display()),
            source,
        })
    }
}

impl<R: Read> Read for TeeReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Err(error) = self.copy.write_all(&buf[..n]) {
            let message = format!("could not keep a copy of the CSV: {error}");
            self.failed = Some(error);
            return Err(std::io::Error::other(message));
        }
        Ok(n)
    }
}

/// Numbers insurers (case-insensitively) in order of first appearance.
#[derive(Default)]
struct InsuranceDictionary {
    ords: FastMap<Box<str>, u32>,
    display: Vec<String>,
    counts: Vec<u64>,
    /// The key being looked up, reused from row to row: an insurer seen
    /// before (nearly all of them) costs no allocation.
    key: String,
}

impl InsuranceDictionary {
    fn ords_of(&mut self, provider: &Provider) -> Vec<u32> {
        provider
            .insurance
            .iter()
            .map(|name| {
                // `list_key`, without allocating for ASCII names.
                self.key.clear();
                if name.is_ascii() {
                    self.key.push_str(name.trim());
                    self.key.make_ascii_lowercase();
                } else {
                    self.key.push_str(&list_key(name));
                }
                let ord = match self.ords.get(self.key.as_str()) {
                    Some(&ord) => ord,
                    None => {
                        let ord = self.display.len() as u32;
                        self.ords.insert(self.key.as_str().into(), ord);
                        self.display.push(name.clone());
                        self.counts.push(0);
                        ord
                    }
                };
                self.counts[ord as usize] += 1;
                ord
            })
            .collect()
    }

    /// The ords that get a facet bit: the most frequent first.
    fn bit_owners(&self) -> Vec<u32> {
        let mut ords: Vec<u32> = (0..self.display.len() as u32).collect();
        ords.sort_by(|&a, &b| {
            self.counts[b as usize]
                .cmp(&self.counts[a as usize])
                .then_with(|| self.display[a as usize].cmp(&self.display[b as usize]))
        });
        ords.truncate(INSURANCE_BITS);
        ords
    }
}

/// Reads a CSV and, when the rules allow, publishes it as a new generation.
///
/// Takes the import lock for the whole run: a second import on the same
/// directory gets [`IndexError::ImportInProgress`]. Whatever happens, the
/// served generation is untouched until the final pointer switch.
pub fn import_csv(
    dir: &IndexDir,
    input: impl Read,
    options: &ImportOptions,
    on_progress: impl FnMut(u64),
) -> Result<ImportOutcome, IndexError> {
    let lock = dir.lock_imports()?;
    import_csv_locked(dir, &lock, input, options, on_progress)
}

/// [`import_csv`] for a caller that already holds the import lock (an
/// upload takes it before receiving the file, so a second upload is
/// refused at once). Every outcome is appended to the import log.
pub fn import_csv_locked(
    dir: &IndexDir,
    lock: &ImportLock,
    input: impl Read,
    options: &ImportOptions,
    on_progress: impl FnMut(u64),
) -> Result<ImportOutcome, IndexError> {
    let started = Instant::now();
    let result = import_under_lock(dir, lock, input, options, on_progress);
    let seconds = started.elapsed().as_secs_f64();
    let outcome = outcome_label(&result);
    let detail = match &result {
        Ok(outcome) => outcome.rejection.as_ref().map(|r| r.to_string()),
        Err(error) => Some(error.to_string()),
    };
    let entry = ImportLogEntry {
        at: format_utc(unix_now()),
        outcome: outcome.into(),
        generation: result.as_ref().ok().and_then(|o| o.generation),
        source: options.source.clone(),
        rows_read: result.as_ref().map_or(0, |o| o.report.rows_read),
        valid: result.as_ref().map_or(0, |o| o.report.valid),
        invalid: result.as_ref().map_or(0, |o| o.report.invalid),
        seconds,
        detail,
    };
    if let Err(error) = dir.append_import_log(&entry, lock) {
        tracing::warn!(%error, "could not record the import in the import log");
    }
    result.map(|outcome| ImportOutcome { seconds, ..outcome })
}

fn import_under_lock(
    dir: &IndexDir,
    lock: &ImportLock,
    input: impl Read,
    options: &ImportOptions,
    on_progress: impl FnMut(u64),
) -> Result<ImportOutcome, IndexError> {
    let (generation, building) = dir.start_build(lock)?;
    let result = build_into(dir, &building, generation, input, options, on_progress);
    let outcome = match result {
        Ok(BuildResult::Built(outcome_report, documents)) => {
            dir.finish_build(&building, generation, lock)?;
            dir.publish(generation, lock)?;
            dir.prune(lock)?;
            ImportOutcome {
                report: outcome_report,
                generation: Some(generation),
                rejection: None,
                documents,
                seconds: 0.0,
            }
        }
        Ok(BuildResult::Rejected(report, rejection)) => {
            remove_quietly(&building);
            ImportOutcome {
                documents: report.valid,
                report,
                generation: None,
                rejection: Some(rejection),
                seconds: 0.0,
            }
        }
        Err(error) => {
            remove_quietly(&building);
            return Err(error);
        }
    };
    Ok(outcome)
}

fn remove_quietly(path: &Path) {
    if let Err(error) = std::fs::remove_dir_all(path) {
        tracing::warn!(path = %path.display(), %error, "could not remove an abandoned build");
    }
}

enum BuildResult {
    Built(Report, u64),
    Rejected(Report, Rejection),
}

fn build_into(
    dir: &IndexDir,
    building: &Path,
    generation: u64,
    input: impl Read,
    options: &ImportOptions,
    on_progress: impl FnMut(u64),
) -> Result<BuildResult, IndexError> {
    let (schema, fields) = build_schema();
    let settings = IndexSettings {
        sort_by_field: Some(IndexSortByField {
            field: GEO_ORDER_FIELD.into(),
            order: Order::Asc,
        }),
        // Nothing is stored in tantivy's doc store (see records.rs).
        docstore_compression: Compressor::None,
        ..IndexSettings::default()
    };
    let index = Index::builder()
        .schema(schema)
        .settings(settings)
        .create_in_dir(building)?;
    index.tokenizers().register(TEXT_TOKENIZER, text_analyzer());
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 4);
    let mut writer: IndexWriter<TantivyDocument> =
        index.writer_with_num_threads(threads, threads * WRITER_BUDGET_PER_THREAD)?;

    let mut records = RecordWriter::create(building)?;
    let mut documents = DocumentBuilder::new(fields);
    let mut rank_inputs: Vec<RankInput> = Vec::new();
    let mut insurance = InsuranceDictionary::default();
    let mut indexing_error: Option<IndexError> = None;
    let mut counting = CountingReader {
        inner: TeeReader::create(input, building)?,
        bytes: 0,
        next_report: 0,
        on_progress,
        digest: Sha256::new(),
    };
    let mut keep_indexing = true;
    let started = Instant::now();
    let read = ingest::read_providers_with(&mut counting, |provider, report| {
        // Once a row is invalid and invalid rows are not skipped, the import
        // is rejected: keep reading for the report, stop building.
        if report.invalid > 0 && !options.skip_invalid {
            keep_indexing = false;
        }
        if !keep_indexing || indexing_error.is_some() {
            return;
        }
        let seq = rank_inputs.len() as u64;
        let ords = insurance.ords_of(&provider);
        let added = records.append(&provider).and_then(|()| {
            let doc = documents.document(&provider, seq, &ords);
            writer.add_document(doc).map_err(IndexError::from)
        });
        match added {
            Ok(_) => rank_inputs.push(RankInput {
                name: provider.name.into_boxed_str(),
                id: provider.id.into_boxed_str(),
                rating: provider.rating,
                review_count: provider.review_count,
                price_min: provider.price_min,
            }),
            Err(error) => indexing_error = Some(error),
        }
    });
    // A copy that could not be written is the cause of a failed read.
    counting.inner.take_error()?;
    let report = read?;
    if let Some(error) = indexing_error {
        return Err(error);
    }
    if let Some(rejection) = rejection(dir, &report, options)? {
        return Ok(BuildResult::Rejected(report, rejection));
    }

    let read_seconds = started.elapsed().as_secs_f64();
    let (mean_rating, rated_providers) = ranks::mean_rating(&rank_inputs);
    // Ranking sorts run while tantivy commits and merges its segments.
    let (ranks, committed) = std::thread::scope(|scope| {
        let ranks = scope.spawn(|| ranks::compute(&rank_inputs, mean_rating));
        let committed = writer.commit().and_then(|_| writer.wait_merging_threads());
        (ranks.join(), committed)
    });
    committed?;
    let ranks = ranks.map_err(|_| IndexError::Corrupt("ranking the providers failed".into()))?;
    let commit_seconds = started.elapsed().as_secs_f64() - read_seconds;

    records.finish()?;
    counting.inner.finish()?;
    tracing::debug!(
        read_seconds,
        commit_seconds,
        sync_seconds = started.elapsed().as_secs_f64() - read_seconds - commit_seconds,
        "import phases"
    );
    let ranks_path = building.join("ranks.bin");
    let write_ranks = || -> std::io::Result<()> {
        let file = File::create(&ranks_path)?;
        let mut out = BufWriter::new(&file);
        ranks.write_to(&mut out)?;
        drop(out);
        file.sync_all()
    };
    write_ranks().map_err(|source| IndexError::Io {
        context: format!("writing {}", ranks_path.display()),
        source,
    })?;

    let source_sha256: String = counting
        .digest
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let meta = GenerationMeta {
        generation,
        id: Some(GenerationMeta::new_id(generation, &source_sha256)),
        format_version: FORMAT_VERSION,
        documents: rank_inputs.len() as u64,
        built_at: format_utc(unix_now()),
        source_sha256: Some(source_sha256),
        source_bytes: counting.bytes,
        mean_rating,
        rated_providers,
        source: options.source.clone(),
        rows_read: report.rows_read,
        invalid_rows_skipped: report.invalid,
        insurance_bit_owners: insurance.bit_owners(),
        insurance_names: insurance.display,
    };
    meta.write(building)?;
    Ok(BuildResult::Built(report, rank_inputs.len() as u64))
}

/// Applies the rejection rules of docs/generations.md to a finished read.
fn rejection(
    dir: &IndexDir,
    report: &Report,
    options: &ImportOptions,
) -> Result<Option<Rejection>, IndexError> {
    if report.has_file_errors() {
        return Ok(Some(Rejection::UnreadableFile));
    }
    if report.invalid > 0 && !options.skip_invalid {
        return Ok(Some(Rejection::InvalidRows {
            invalid: report.invalid,
        }));
    }
    if report.valid == 0 {
        return Ok(Some(Rejection::NoValidRows));
    }
    if !options.allow_shrink
        && let Some(current) = dir.current()?
        && let Ok(meta) = GenerationMeta::read(&dir.generation_path(current))
        && report.valid * 5 < meta.documents * 4
    {
        return Ok(Some(Rejection::WouldShrink {
            served: meta.documents,
            imported: report.valid,
        }));
    }
    Ok(None)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::index::format_of;

    /// A small valid CSV of `count` providers around Denver, ids `{prefix}-{n}`.
    pub(crate) fn small_csv(prefix: &str, count: usize) -> String {
        let mut csv = String::from(
            "id,name,city,state,zip,latitude,longitude,treatments,conditions,insurance,rating,review_count\n",
        );
        for n in 0..count {
            csv.push_str(&format!(
                "{prefix}-{n},Clinician {prefix} {n},Denver,CO,80202,{:.4},{:.4},iv_infusion,depression,Aetna,{:.1},{}\n",
                39.74 + (n % 10) as f64 * 0.01,
                -104.99 - (n / 10) as f64 * 0.01,
                3.0 + (n % 20) as f64 / 10.0,
                n % 7 + 1
            ));
        }
        csv
    }

    #[test]
    fn the_tee_copies_exactly_what_is_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let input: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut tee = TeeReader::create(input.as_slice(), dir.path()).expect("tee");
        // Odd-sized reads, as a CSV reader makes them.
        let mut buf = [0u8; 1009];
        let mut read = Vec::new();
        loop {
            let n = tee.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            read.extend_from_slice(&buf[..n]);
        }
        tee.finish().expect("finish");
        assert_eq!(read, input);
        assert_eq!(
            std::fs::read(dir.path().join(SOURCE_FILE)).expect("copy"),
            input
        );
    }

    #[test]
    fn a_generation_keeps_its_csv_and_format_and_a_rejected_import_leaves_nothing() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = IndexDir::new(root.path());
        let csv = small_csv("a", 15);
        let outcome =
            import_csv(&dir, csv.as_bytes(), &ImportOptions::default(), |_| {}).expect("import");
        assert_eq!(outcome.generation, Some(1));
        let path = dir.generation_path(1);
        assert_eq!(
            std::fs::read(path.join(SOURCE_FILE)).expect("source.csv"),
            csv.as_bytes()
        );
        assert_eq!(format_of(&path).expect("format"), FORMAT_VERSION);

        let mut broken = small_csv("b", 15);
        broken.push_str("bad id,No City,,ZZ,,,,,,,,\n");
        let outcome =
            import_csv(&dir, broken.as_bytes(), &ImportOptions::default(), |_| {}).expect("import");
        assert!(outcome.rejection.is_some());
        let names: Vec<String> = std::fs::read_dir(root.path())
            .expect("list")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| name.starts_with("gen-"))
            .collect();
        assert_eq!(names, vec!["gen-0000000001".to_string()]);
    }
}
