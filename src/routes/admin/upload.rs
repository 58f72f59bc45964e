//! One upload path for the JSON route and the admin page: take the import
//! lock *before* the body is read (a second import is refused at once with
//! 409), stream the body to a temporary file (never whole in memory, 413
//! past the limit), then import with the CLI's rules
//! (`index::import_csv_locked`) and switch this server to the result.

use std::io::{Read, Seek, Write};
use std::time::{Duration, Instant};

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, web};
use futures_util::{Stream, StreamExt};

use super::AdminSettings;
use crate::index::{
    ImportLock, ImportOptions, ImportOutcome, IndexError, ServedIndex, import_csv_locked,
};
use crate::routes::errors::ApiError;

/// Takes the import lock, or answers 409.
async fn take_lock(state: &web::Data<ServedIndex>) -> Result<ImportLock, ApiError> {
    let dir = state.index_dir.clone();
    match web::block(move || dir.lock_imports()).await? {
        Ok(lock) => Ok(lock),
        Err(IndexError::ImportInProgress) => {
            Err(ApiError::Conflict(IndexError::ImportInProgress.to_string()))
        }
        Err(error) => Err(ApiError::Internal(error.to_string())),
    }
}

/// How long an upload may take: a client that sends nothing for `idle`, or
/// is not done by `until`, is cut off (408) and the import lock released,
/// so a stalled upload cannot block every other import.
#[derive(Debug, Clone, Copy)]
struct Deadline {
    idle: Duration,
    until: Instant,
}

impl Deadline {
    fn new(settings: &AdminSettings) -> Deadline {
        Deadline {
            idle: settings.upload_idle_timeout,
            until: Instant::now() + settings.upload_timeout,
        }
    }

    /// The stream's next item, or 408 when it does not come in time.
    async fn next<S: Stream + Unpin>(&self, stream: &mut S) -> Result<Option<S::Item>, ApiError> {
        let left = self.until.saturating_duration_since(Instant::now());
        let wait = self.idle.min(left);
        match actix_web::rt::time::timeout(wait, stream.next()).await {
            Ok(item) => Ok(item),
            Err(_) if wait < self.idle => Err(ApiError::RequestTimeout(
                "the upload took longer than this server allows; try again".into(),
            )),
            Err(_) => Err(ApiError::RequestTimeout(format!(
                "the upload sent nothing for {} s; try again",
                self.idle.as_secs()
            ))),
        }
    }
}

/// Writes a body stream to a temporary file, at most `limit` bytes.
async fn spool<S, E>(mut body: S, limit: u64, deadline: Deadline) -> Result<std::fs::File, ApiError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut file = web::block(tempfile::tempfile)
        .await?
        .map_err(|e| ApiError::Internal(format!("cannot create a temporary file: {e}")))?;
    let mut written = 0u64;
    while let Some(chunk) = deadline.next(&mut body).await? {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("the upload broke off: {e}")))?;
        written += chunk.len() as u64;
        if written > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        // File writes are blocking work: off the event loop, in order.
        file = web::block(move || file.write_all(&chunk).map(|()| file))
            .await?
            .map_err(|e| ApiError::Internal(format!("cannot write the upload: {e}")))?;
    }
    Ok(file)
}

/// The small text fields of a multipart upload besides `file` (the admin
/// page's CSRF token and checkboxes), as (name, value).
pub(crate) type FormFields = Vec<(String, String)>;

/// At most this many small fields, each at most [`MAX_FIELD_BYTES`], so the
/// parts of a form that are not the file cannot grow without bound either.
const MAX_FIELDS: usize = 32;
const MAX_FIELD_BYTES: usize = 4096;

/// Reads one small multipart field whole, or refuses it with 400.
async fn small_field(
    mut field: actix_multipart::Field,
    deadline: Deadline,
) -> Result<String, ApiError> {
    let mut value = Vec::new();
    while let Some(chunk) = deadline.next(&mut field).await? {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("bad multipart body: {e}")))?;
        if value.len() + chunk.len() > MAX_FIELD_BYTES {
            return Err(ApiError::BadRequest(format!(
                "a form field other than \"file\" is longer than {MAX_FIELD_BYTES} bytes"
            )));
        }
        value.extend_from_slice(&chunk);
    }
    String::from_utf8(value)
        .map_err(|_| ApiError::BadRequest("a form field is not UTF-8 text".into()))
}

/// Whether the body is gzip-compressed (`Content-Encoding: gzip`); any
/// other encoding, or gzip around a multipart form, is a 415 naming it.
fn body_is_gzipped(request: &HttpRequest, multipart: bool) -> Result<bool, ApiError> {
    let encodings: Vec<String> = request
        .headers()
        .get_all(header::CONTENT_ENCODING)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty() && v != "identity")
        .collect();
    match encodings.as_slice() {
        [] => Ok(false),
        [one] if (one == "gzip" || one == "x-gzip") && !multipart => Ok(true),
        _ => Err(ApiError::UnsupportedEncoding(format!(
            "content encoding {:?} is not accepted{}: send the CSV as it is, or as text/csv \
             with Content-Encoding: gzip",
            encodings.join(", "),
            if multipart {
                " on a multipart form"
            } else {
                ""
            }
        ))),
    }
}

/// The gzip-compressed upload in `compressed`, decompressed into a new
/// temporary file of at most `limit` bytes (413 past it, 400 when it is
/// not gzip). Blocking work.
fn gunzip(mut compressed: std::fs::File, limit: u64) -> Result<std::fs::File, ApiError> {
    let broken = |e: std::io::Error| {
        ApiError::BadRequest(format!("the body is not valid gzip-compressed data: {e}"))
    };
    compressed
        .rewind()
        .map_err(|e| ApiError::Internal(format!("cannot read the upload: {e}")))?;
    let mut out = tempfile::tempfile()
        .map_err(|e| ApiError::Internal(format!("cannot create a temporary file: {e}")))?;
    let decoder = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(compressed));
    // One byte past the limit tells "too large" from "exactly the limit".
    let copied = std::io::copy(&mut decoder.take(limit + 1), &mut out).map_err(broken)?;
    if copied > limit {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    Ok(out)
}

/// Imports an uploaded CSV with the rules of README.md ("Admin"), for the JSON API and
/// the admin page alike: refuses a declared length over the limit (413),
/// takes the import lock before reading the body (409), streams the CSV to
/// a temporary file (413 past the limit), then asks `options` for the
/// import options given the form's other fields (where the page checks its
/// CSRF token: nothing is imported until it has answered), imports, and
/// switches this server to a published generation at once.
///
/// The body is the CSV (`text/csv`, `text/plain` or no type) or a
/// `multipart/form-data` form with the CSV in field `file`.
pub(crate) async fn import_upload<F>(
    request: &HttpRequest,
    payload: web::Payload,
    state: &web::Data<ServedIndex>,
    settings: &AdminSettings,
    options: F,
) -> Result<ImportOutcome, ApiError>
where
    F: FnOnce(&FormFields) -> Result<ImportOptions, ApiError>,
{
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > settings.max_upload_bytes) {
        return Err(ApiError::PayloadTooLarge(settings.max_upload_bytes));
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let multipart = content_type.starts_with("multipart/form-data");
    // Checked before the lock, like the length: a refusal costs nothing.
    let gzipped = body_is_gzipped(request, multipart)?;
    let lock = take_lock(state).await?;
    let deadline = Deadline::new(settings);
    let mut fields = FormFields::new();
    let (file, source) = if multipart {
        let mut form = Multipart::new(request.headers(), payload);
        let mut upload = None;
        // Read to the end: a browser may send the checkboxes after the file.
        while let Some(field) = deadline.next(&mut form).await? {
            let field =
                field.map_err(|e| ApiError::BadRequest(format!("bad multipart body: {e}")))?;
            let name = field.name().unwrap_or_default().to_string();
            if name == "file" {
                if upload.is_some() {
                    return Err(ApiError::BadRequest(
                        "the multipart form has more than one field named \"file\"".into(),
                    ));
                }
                let filename = field
                    .content_disposition()
                    .and_then(|d| d.get_filename())
                    .map(str::to_string);
                upload = Some((
                    spool(field, settings.max_upload_bytes, deadline).await?,
                    filename,
                ));
            } else {
                if fields.len() >= MAX_FIELDS {
                    return Err(ApiError::BadRequest(format!(
                        "the multipart form has more than {MAX_FIELDS} fields"
                    )));
                }
                let value = small_field(field, deadline).await?;
                fields.push((name, value));
            }
        }
        upload.ok_or_else(|| {
            ApiError::BadRequest("the multipart form has no field named \"file\"".into())
        })?
    } else if content_type.is_empty()
        || content_type.starts_with("text/csv")
        || content_type.starts_with("text/plain")
    {
        let spooled = spool(payload, settings.max_upload_bytes, deadline).await?;
        let file = if gzipped {
            let limit = settings.max_upload_bytes;
            web::block(move || gunzip(spooled, limit)).await??
        } else {
            spooled
        };
        (file, None)
    } else {
        return Err(ApiError::UnsupportedMediaType(content_type));
    };
    let options = options(&fields)?;
    let options = ImportOptions {
        source: Some(source.unwrap_or_else(|| "upload".into())),
        ..options
    };
    let dir = state.index_dir.clone();
    let outcome = web::block(move || {
        let mut file = file;
        file.rewind()?;
        let reader = std::io::BufReader::with_capacity(1 << 20, file);
        crate::metrics::track_import(|| import_csv_locked(&dir, &lock, reader, &options, |_| {}))
            .map_err(|e| std::io::Error::other(e.to_string()))
    })
    .await?
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    if outcome.generation.is_some()
        && let Err(error) = state.refresh()
    {
        tracing::error!(%error, "the new generation could not be opened");
    }
    // Reports of providers the import dropped close now, not at the next
    // pass of the report sweeper (which every server also runs).
    if outcome.generation.is_some()
        && let Some(store) = request.app_data::<web::Data<crate::reports::ReportStore>>()
        && let Some(generation) = state.generation()
        && let Err(error) = crate::reports::sweep::close_dropped(store, generation).await
    {
        tracing::error!(%error, "the reports of dropped providers could not be closed yet");
    }
    Ok(outcome)
}
