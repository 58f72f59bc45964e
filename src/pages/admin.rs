//! The admin pages as HTML (askama): sign-in, status with the import log,
//! the validation report of an upload, and plain messages. No HTTP here:
//! `routes::admin::page` signs in, calls the index, and sends these.

use std::sync::LazyLock;

use askama::Template;

use super::{RenderError, content_hash};
use crate::index::{ImportOutcome, IndexStatus};
use crate::ingest::Report;

/// The admin stylesheet, compiled in.
pub const ADMIN_CSS: &str = include_str!("../../static/admin.css");
/// The stylesheet's URL names its content, so it can be cached for a year
/// and a new build is still fetched at once.
static CSS_HREF: LazyLock<String> =
    LazyLock::new(|| format!("/admin/admin.css?v={}", content_hash(ADMIN_CSS)));

/// The stylesheet's URL, for the other admin pages (`pages::reports`).
pub(super) fn css_href() -> &'static str {
    &CSS_HREF
}

#[derive(Template)]
#[template(path = "admin_login.html")]
struct LoginPage<'a> {
    css: &'a str,
    message: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage<'a> {
    css: &'a str,
    csrf: &'a str,
    status: Option<IndexStatus>,
    /// Open reports (with the oldest one's age) and listings by freshness.
    reports: Option<crate::reports::QueueStats>,
    oldest_open_age: Option<String>,
    freshness: Option<crate::search::Freshness>,
}

#[derive(Template)]
#[template(path = "admin_result.html")]
struct ResultPage<'a> {
    css: &'a str,
    generation: Option<u64>,
    documents: u64,
    seconds: f64,
    rejection: Option<String>,
    report: Report,
}

#[derive(Template)]
#[template(path = "admin_message.html")]
struct MessagePage<'a> {
    css: &'a str,
    title: &'a str,
    message: &'a str,
}

/// The sign-in form, with a message after a wrong token.
pub fn render_login(message: Option<&str>) -> Result<String, RenderError> {
    Ok(LoginPage {
        css: &CSS_HREF,
        message,
    }
    .render()?)
}

/// The signed-in page: status (when an index is loaded), the report
/// queue and freshness, upload, rollback.
pub fn render_admin(
    csrf: &str,
    status: Option<IndexStatus>,
    reports: Option<crate::reports::QueueStats>,
    freshness: Option<crate::search::Freshness>,
) -> Result<String, RenderError> {
    Ok(AdminPage {
        css: &CSS_HREF,
        csrf,
        status,
        oldest_open_age: reports
            .as_ref()
            .and_then(|r| r.oldest_open_age_seconds)
            .map(crate::reports::age_text),
        reports,
        freshness,
    }
    .render()?)
}

/// The outcome of an upload: the new generation, or why it was rejected,
/// with the validation report as tables.
pub fn render_import_result(outcome: ImportOutcome) -> Result<String, RenderError> {
    Ok(ResultPage {
        css: &CSS_HREF,
        generation: outcome.generation,
        documents: outcome.documents,
        seconds: outcome.seconds,
        rejection: outcome.rejection.as_ref().map(|r| r.to_string()),
        report: outcome.report,
    }
    .render()?)
}

/// A page that only says something (errors, mostly).
pub fn render_message(title: &str, message: &str) -> Result<String, RenderError> {
    Ok(MessagePage {
        css: &CSS_HREF,
        title,
        message,
    }
    .render()?)
}
