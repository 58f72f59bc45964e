//! Admin over HTTP (SPEC §7): re-import from CSV, status, rollback.
//!
//! Every route needs `Authorization: Bearer <KETADIR_ADMIN_TOKEN>`; with no
//! token configured the whole `/admin` tree answers 404, as if it did not
//! exist. An upload takes the import lock *before* its body is read (a
//! second import is refused at once with 409), is streamed to a temporary
//! file (never whole in memory, cut off with 413 past the limit), and is
//! then imported with the same rules as the CLI (`index::import_csv_locked`).
//!
//! The HTML admin page (`admin_page`) signs in differently but uploads,
//! reads the status and rolls back through the functions here
//! (`import_upload`, `current_status`, `roll_back`), so both front ends
//! keep the same rules.

use std::io::{Seek, Write};
use std::sync::Arc;

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::{Stream, StreamExt};
use serde::Serialize;

use super::client_ip;
use super::errors::ApiError;
use super::sign_in_limit::FailedSignIns;
use crate::index::ServedIndex;
use crate::index::{
    Generation, GenerationMeta, ImportLock, ImportLogEntry, ImportOptions, ImportOutcome,
    IndexError, import_csv_locked,
};
use crate::search::parse_flag;

/// Who may administer, and how big an upload may be.
#[derive(Debug, Clone)]
pub struct AdminSettings {
    /// The bearer token; `None` hides `/admin` entirely.
    pub token: Option<String>,
    pub max_upload_bytes: u64,
    /// Wrong tokens counted per client (shared by the JSON routes and the
    /// sign-in form).
    pub failed_sign_ins: Arc<FailedSignIns>,
}

impl Default for AdminSettings {
    fn default() -> Self {
        AdminSettings {
            token: None,
            max_upload_bytes: 50 * 1024 * 1024,
            failed_sign_ins: Arc::default(),
        }
    }
}

/// Compares a presented token with the configured one, unless the client
/// has used up its wrong tokens (then 429 without comparing); counts a
/// wrong one.
pub(super) fn check_token(
    request: &HttpRequest,
    settings: &AdminSettings,
    token: &str,
    presented: &str,
) -> Result<(), ApiError> {
    let client = client_ip::of(request);
    settings
        .failed_sign_ins
        .check(client)
        .map_err(ApiError::TooManyAttempts)?;
    if constant_time_equal(presented.as_bytes(), token.as_bytes()) {
        Ok(())
    } else {
        settings.failed_sign_ins.record_failure(client);
        Err(ApiError::Unauthorized)
    }
}

/// Compares in time that depends only on the lengths, so the token cannot
/// be guessed byte by byte from response times.
pub(super) fn constant_time_equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// 404 without a configured token, 401 without the right one.
fn authorize(request: &HttpRequest, settings: &AdminSettings) -> Result<(), ApiError> {
    let Some(token) = &settings.token else {
        return Err(ApiError::NotFound(format!("no route {}", request.path())));
    };
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    match presented {
        Some(presented) => check_token(request, settings, token, presented),
        None => Err(ApiError::Unauthorized),
    }
}

fn flag(request: &HttpRequest, name: &str) -> Result<bool, ApiError> {
    let value = form_urlencoded::parse(request.query_string().as_bytes())
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.trim().to_string());
    match value.as_deref() {
        None | Some("") => Ok(false),
        Some(value) => parse_flag(value).ok_or_else(|| {
            ApiError::InvalidParams(vec![crate::search::InvalidParam {
                name: name.into(),
                reason: "must be true or false".into(),
            }])
        }),
    }
}

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

/// Writes a body stream to a temporary file, at most `limit` bytes.
async fn spool<S, E>(mut body: S, limit: u64) -> Result<std::fs::File, ApiError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut file = web::block(tempfile::tempfile)
        .await?
        .map_err(|e| ApiError::Internal(format!("cannot create a temporary file: {e}")))?;
    let mut written = 0u64;
    while let Some(chunk) = body.next().await {
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
pub(super) type FormFields = Vec<(String, String)>;

/// At most this many small fields, each at most [`MAX_FIELD_BYTES`], so the
/// parts of a form that are not the file cannot grow without bound either.
const MAX_FIELDS: usize = 32;
const MAX_FIELD_BYTES: usize = 4096;

/// Reads one small multipart field whole, or refuses it with 400.
async fn small_field(mut field: actix_multipart::Field) -> Result<String, ApiError> {
    let mut value = Vec::new();
    while let Some(chunk) = field.next().await {
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

/// Imports an uploaded CSV with the rules of SPEC §7, for the JSON API and
/// the admin page alike: refuses a declared length over the limit (413),
/// takes the import lock before reading the body (409), streams the CSV to
/// a temporary file (413 past the limit), then asks `options` for the
/// import options given the form's other fields (where the page checks its
/// CSRF token: nothing is imported until it has answered), imports, and
/// switches this server to a published generation at once.
///
/// The body is the CSV (`text/csv`, `text/plain` or no type) or a
/// `multipart/form-data` form with the CSV in field `file`.
pub(super) async fn import_upload<F>(
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
    let lock = take_lock(state).await?;
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut fields = FormFields::new();
    let (file, source) = if content_type.starts_with("multipart/form-data") {
        let mut form = Multipart::new(request.headers(), payload);
        let mut upload = None;
        // Read to the end: a browser may send the checkboxes after the file.
        while let Some(field) = form.next().await {
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
                upload = Some((spool(field, settings.max_upload_bytes).await?, filename));
            } else {
                if fields.len() >= MAX_FIELDS {
                    return Err(ApiError::BadRequest(format!(
                        "the multipart form has more than {MAX_FIELDS} fields"
                    )));
                }
                let value = small_field(field).await?;
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
        (spool(payload, settings.max_upload_bytes).await?, None)
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
    Ok(outcome)
}

#[derive(Serialize)]
struct ReindexAnswer {
    generation: Option<u64>,
    documents: u64,
    seconds: f64,
    rejection: Option<String>,
    report: crate::ingest::Report,
}

/// `POST /admin/reindex[?skip_invalid=true][&allow_shrink=true]`, body the
/// CSV (`text/csv`) or a multipart form with the CSV in field `file`.
pub async fn reindex(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<ServedIndex>,
    settings: web::Data<AdminSettings>,
) -> Result<HttpResponse, ApiError> {
    authorize(&request, &settings)?;
    // Parsed before the lock is taken: a bad flag is a 400, not a 409.
    let options = ImportOptions {
        skip_invalid: flag(&request, "skip_invalid")?,
        allow_shrink: flag(&request, "allow_shrink")?,
        source: None,
    };
    let outcome = import_upload(&request, payload, &state, &settings, |_| Ok(options)).await?;
    let answer = ReindexAnswer {
        generation: outcome.generation,
        documents: outcome.documents,
        seconds: outcome.seconds,
        rejection: outcome.rejection.as_ref().map(|r| r.to_string()),
        report: outcome.report,
    };
    Ok(if answer.generation.is_some() {
        HttpResponse::Ok().json(answer)
    } else {
        HttpResponse::UnprocessableEntity().json(answer)
    })
}

#[derive(Serialize)]
pub(super) struct Status {
    pub(super) generation: u64,
    pub(super) documents: u64,
    pub(super) built_at: String,
    pub(super) source: Option<String>,
    pub(super) source_sha256: Option<String>,
    pub(super) source_bytes: u64,
    pub(super) generations_on_disk: Vec<u64>,
    pub(super) recent_imports: Vec<ImportLogEntry>,
}

impl Status {
    fn of(generation: &Generation, on_disk: Vec<u64>, imports: Vec<ImportLogEntry>) -> Status {
        let meta: &GenerationMeta = &generation.meta;
        Status {
            generation: meta.generation,
            documents: meta.documents,
            built_at: meta.built_at.clone(),
            source: meta.source.clone(),
            source_sha256: meta.source_sha256.clone(),
            source_bytes: meta.source_bytes,
            generations_on_disk: on_disk,
            recent_imports: imports,
        }
    }
}

/// The served generation and the import log, for the API and the page.
pub(super) async fn current_status(state: &web::Data<ServedIndex>) -> Result<Status, ApiError> {
    let generation = state.generation().ok_or(ApiError::NotReady)?;
    let dir = state.index_dir.clone();
    let (on_disk, imports) = web::block(move || {
        (
            dir.generations().unwrap_or_default(),
            dir.recent_imports(20),
        )
    })
    .await?;
    Ok(Status::of(&generation, on_disk, imports))
}

/// `GET /admin/status`.
pub async fn status(
    request: HttpRequest,
    state: web::Data<ServedIndex>,
    settings: web::Data<AdminSettings>,
) -> Result<HttpResponse, ApiError> {
    authorize(&request, &settings)?;
    Ok(HttpResponse::Ok().json(current_status(&state).await?))
}

/// Serves the previous generation again and returns its number; 409 when
/// an import runs or there is nothing older.
pub(super) async fn roll_back(state: &web::Data<ServedIndex>) -> Result<u64, ApiError> {
    let dir = state.index_dir.clone();
    let generation = match web::block(move || dir.rollback()).await? {
        Ok(generation) => generation,
        Err(error @ (IndexError::ImportInProgress | IndexError::NothingToRollBackTo)) => {
            return Err(ApiError::Conflict(error.to_string()));
        }
        Err(error) => return Err(ApiError::Internal(error.to_string())),
    };
    if let Err(error) = state.refresh() {
        tracing::error!(%error, "the rolled-back generation could not be opened");
    }
    Ok(generation)
}

/// `POST /admin/rollback`: serve the previous generation again.
pub async fn rollback(
    request: HttpRequest,
    state: web::Data<ServedIndex>,
    settings: web::Data<AdminSettings>,
) -> Result<HttpResponse, ApiError> {
    authorize(&request, &settings)?;
    let generation = roll_back(&state).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "generation": generation })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_equal(b"secret-token", b"secret-token"));
        assert!(!constant_time_equal(b"secret-token", b"secret-tokeN"));
        assert!(!constant_time_equal(b"secret", b"secret-token"));
        assert!(!constant_time_equal(b"", b"x"));
    }
}
