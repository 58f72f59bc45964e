//! The NDJSON export: every provider of a generation, one JSON object per
//! line in the shape of `/providers/{id}`, optionally only those verified
//! on or after a date. Lives beside search because only search reads
//! generations; the route streams what this writes.

use crate::index::{Generation, IndexError};
use crate::values;

use super::{Hit, InvalidParam};

/// Chunks are handed over at about this size.
pub const EXPORT_CHUNK_BYTES: usize = 64 * 1024;

/// What an export asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportRequest {
    /// `YYYY-MM-DD`: only providers whose `last_verified` is this day or later.
    pub updated_since: Option<String>,
}

impl ExportRequest {
    /// `format` must be `ndjson`; `updated_since` is an optional date.
    /// Other parameters are ignored, as in a search.
    pub fn from_query_string(query: &str) -> Result<ExportRequest, Vec<InvalidParam>> {
        let mut invalid = Vec::new();
        let mut format = None;
        let mut updated_since = None;
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let value = value.trim().to_string();
            match name.as_ref() {
                "format" => format = Some(value),
                "updated_since" if !value.is_empty() => match values::date(&value) {
                    Ok(date) => updated_since = Some(date),
                    Err(reason) => invalid.push(InvalidParam {
                        name: "updated_since".into(),
                        reason,
                    }),
                },
                _ => {}
            }
        }
        if format.as_deref() != Some("ndjson") {
            invalid.push(InvalidParam {
                name: "format".into(),
                reason: "must be ndjson (one provider per line)".into(),
            });
        }
        if invalid.is_empty() {
            Ok(ExportRequest { updated_since })
        } else {
            Err(invalid)
        }
    }
}

/// JSON lines gathered into chunks of about [`EXPORT_CHUNK_BYTES`] for a
/// sink that answers `false` once nobody wants more (the client went away).
pub struct NdjsonChunks<S: FnMut(Vec<u8>) -> bool> {
    chunk: Vec<u8>,
    sink: S,
    wanted: bool,
}

impl<S: FnMut(Vec<u8>) -> bool> NdjsonChunks<S> {
    pub fn new(sink: S) -> Self {
        NdjsonChunks {
            chunk: Vec::with_capacity(EXPORT_CHUNK_BYTES * 2),
            sink,
            wanted: true,
        }
    }

    /// Adds one line; `false` when the walk should stop (the sink is gone
    /// or the value does not serialise).
    pub fn push(&mut self, value: &impl serde::Serialize) -> bool {
        if serde_json::to_writer(&mut self.chunk, value).is_err() {
            return false;
        }
        self.chunk.push(b'\n');
        if self.chunk.len() >= EXPORT_CHUNK_BYTES {
            let full =
                std::mem::replace(&mut self.chunk, Vec::with_capacity(EXPORT_CHUNK_BYTES * 2));
            self.wanted = (self.sink)(full);
        }
        self.wanted
    }

    /// Hands over the last, partial chunk.
    pub fn finish(mut self) {
        if self.wanted && !self.chunk.is_empty() {
            (self.sink)(std::mem::take(&mut self.chunk));
        }
    }
}

/// Writes the export as chunks of whole lines to `sink`, which answers
/// `false` when nobody wants more (the client went away): the walk stops
/// there. Blocking work: run it on a thread of its own.
pub fn export(
    generation: &Generation,
    request: &ExportRequest,
    sink: impl FnMut(Vec<u8>) -> bool,
) -> Result<(), IndexError> {
    let mean = generation.meta.mean_rating;
    let mut lines = NdjsonChunks::new(sink);
    generation.for_each_provider(|provider| {
        // Dates are YYYY-MM-DD, so text order is date order.
        let fresh = match (&request.updated_since, &provider.last_verified) {
            (None, _) => true,
            (Some(since), Some(verified)) => verified >= since,
            (Some(_), None) => false,
        };
        !fresh || lines.push(&Hit::new(provider, None, mean))
    })?;
    lines.finish();
    Ok(())
}
