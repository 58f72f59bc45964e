//! The report pages as HTML (askama, escaped): the "report a problem"
//! form (on every profile, and on its own page when a sent form needs
//! correcting), the thank-you page, and the admin's queue grouped by
//! provider. No HTTP here: `routes::reports` and `routes::admin::reports`
//! send these.

use std::collections::BTreeMap;

use askama::Template;

use super::{Lang, Layout, PageContext, RenderError};
use crate::reports::{MAX_DETAILS_CHARS, MAX_NOTE_CHARS, Reason, Report, age_text};
use crate::search::InvalidParam;

/// One checkbox of the form.
pub struct ReasonChoice {
    pub slug: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

/// What `templates/report_fields.html` prints: the form, empty on a
/// profile, or refilled with what the visitor sent and what was wrong.
pub struct ReportFormView {
    pub action: String,
    pub reasons: Vec<ReasonChoice>,
    pub details: String,
    pub max_details: usize,
    /// "(needed for “something else”; at most 1,000 characters)".
    pub details_hint: String,
    pub errors: Vec<String>,
}

/// The form's address for a provider (ids are `[A-Za-z0-9._-]`, so they
/// need no escaping in a path).
pub fn report_action(provider_id: &str) -> String {
    format!("/providers/{provider_id}/report")
}

impl ReportFormView {
    /// The empty form of a profile.
    pub fn empty(provider_id: &str, lang: Lang) -> ReportFormView {
        ReportFormView::refilled(provider_id, &[], "", &[], lang)
    }

    /// The form as it was sent, with what was wrong in plain words. The
    /// form is sent to an address in the page's language, so the pages
    /// after it (thank-you, corrections) stay in it.
    pub fn refilled(
        provider_id: &str,
        sent_reasons: &[String],
        details: &str,
        problems: &[InvalidParam],
        lang: Lang,
    ) -> ReportFormView {
        ReportFormView {
            action: lang.href(&report_action(provider_id)),
            reasons: Reason::ALL
                .iter()
                .map(|reason| ReasonChoice {
                    slug: reason.slug(),
                    label: lang.label("report_reason", reason.slug()),
                    checked: sent_reasons.iter().any(|sent| sent == reason.slug()),
                })
                .collect(),
            details: details.chars().take(MAX_DETAILS_CHARS * 2).collect(),
            max_details: MAX_DETAILS_CHARS,
            details_hint: lang.f(
                "report.details_hint",
                &[("max", &MAX_DETAILS_CHARS.to_string())],
            ),
            errors: problems
                .iter()
                .map(|problem| plain_words(problem, lang))
                .collect(),
        }
    }
}

/// A problem of a sent form as the form's own words say it.
fn plain_words(problem: &InvalidParam, lang: Lang) -> String {
    match (problem.name.as_str(), problem.reason.as_str()) {
        ("details", reason) if reason.starts_with("required") => {
            lang.t("report.error.details_required").into()
        }
        ("details", reason) if reason.starts_with("at most") => lang.f(
            "report.error.details_too_long",
            &[("max", &thousands(MAX_DETAILS_CHARS))],
        ),
        ("details", _) => lang.t("report.error.details_control").into(),
        ("reason", reason) if reason.starts_with("unknown") => {
            lang.t("report.error.reason_unknown").into()
        }
        _ => lang.t("report.error.reason_missing").into(),
    }
}

fn thousands(n: usize) -> String {
    super::view::thousands(n as u64)
}

#[derive(Template)]
#[template(path = "report_form.html")]
struct ReportFormPage<'a> {
    layout: Layout,
    name: &'a str,
    profile_href: String,
    report: &'a ReportFormView,
}

#[derive(Template)]
#[template(path = "report_thanks.html")]
struct ThanksPage<'a> {
    layout: Layout,
    name: &'a str,
    profile_href: String,
}

/// The form on a page of its own (`/providers/{id}/report`), refilled
/// after a refused submission.
pub fn render_report_form(
    context: &PageContext,
    name: &str,
    provider_id: &str,
    report: &ReportFormView,
) -> Result<String, RenderError> {
    let key = if report.errors.is_empty() {
        "report.title"
    } else {
        "report.title_check"
    };
    Ok(ReportFormPage {
        layout: Layout::new(Layout::title(context.lang, key, &[("name", name)]), context),
        name,
        profile_href: context.lang.href(&format!("/providers/{provider_id}")),
        report,
    }
    .render()?)
}

/// The page after a report was sent: what happens next.
pub fn render_report_thanks(
    context: &PageContext,
    name: &str,
    provider_id: &str,
) -> Result<String, RenderError> {
    Ok(ThanksPage {
        layout: Layout::new(Layout::title(context.lang, "thanks.title", &[]), context),
        name,
        profile_href: context.lang.href(&format!("/providers/{provider_id}")),
    }
    .render()?)
}

// ---------------------------------------------------------------------------
// The admin's queue.

/// A reason and how many open reports of a provider give it.
pub struct ReasonCount {
    pub label: &'static str,
    pub count: usize,
}

/// One report as a row of the admin page.
pub struct ReportRow {
    pub id: String,
    pub provider_id: String,
    pub created_at: String,
    pub age: String,
    /// The reasons' labels, joined.
    pub reasons: String,
    pub details: Option<String>,
    pub resolution: &'static str,
    pub note: Option<String>,
    pub resolved_at: String,
}

/// The open reports of one provider.
pub struct ReportGroup {
    pub provider_id: String,
    /// The provider's name in the served generation (`None`: not listed).
    pub name: Option<String>,
    pub profile_href: String,
    pub count: usize,
    pub oldest_age: String,
    pub reasons: Vec<ReasonCount>,
    pub reports: Vec<ReportRow>,
}

fn row(report: &Report, now: i64) -> ReportRow {
    let labels: Vec<&str> = report
        .reasons
        .iter()
        .filter_map(|slug| Reason::from_slug(slug))
        .map(Reason::label)
        .collect();
    ReportRow {
        id: report.id.clone(),
        provider_id: report.provider_id.clone(),
        created_at: report.created_at.clone(),
        age: age_text(u64::try_from(now - report.created_unix).unwrap_or(0)),
        reasons: labels.join("; "),
        details: report.details.clone(),
        resolution: report.resolution.map_or("", |r| r.as_str()),
        note: report.note.clone(),
        resolved_at: report.resolved_at.clone().unwrap_or_default(),
    }
}

/// Open reports (oldest first, as listed by the store) grouped by
/// provider: the most reported first, then the longest waiting. `name`
/// gives a provider's name when the served generation lists it.
pub fn group_reports(
    open: &[Report],
    now: i64,
    name: impl Fn(&str) -> Option<String>,
) -> Vec<ReportGroup> {
    let mut by_provider: BTreeMap<&str, Vec<&Report>> = BTreeMap::new();
    for report in open {
        by_provider
            .entry(&report.provider_id)
            .or_default()
            .push(report);
    }
    let mut groups: Vec<(i64, ReportGroup)> = by_provider
        .into_iter()
        .map(|(provider_id, reports)| {
            let oldest = reports.iter().map(|r| r.created_unix).min().unwrap_or(now);
            let reasons = Reason::ALL
                .iter()
                .map(|reason| ReasonCount {
                    label: reason.label(),
                    count: reports
                        .iter()
                        .filter(|r| r.reasons.contains(&reason.slug()))
                        .count(),
                })
                .filter(|c| c.count > 0)
                .collect();
            let group = ReportGroup {
                provider_id: provider_id.to_string(),
                name: name(provider_id),
                profile_href: format!("/providers/{provider_id}"),
                count: reports.len(),
                oldest_age: age_text(u64::try_from(now - oldest).unwrap_or(0)),
                reasons,
                reports: reports.iter().map(|r| row(r, now)).collect(),
            };
            (oldest, group)
        })
        .collect();
    groups.sort_by(|(oldest_a, a), (oldest_b, b)| {
        b.count
            .cmp(&a.count)
            .then(oldest_a.cmp(oldest_b))
            .then_with(|| a.provider_id.cmp(&b.provider_id))
    });
    groups.into_iter().map(|(_, group)| group).collect()
}

#[derive(Template)]
#[template(path = "admin_reports.html")]
struct AdminReportsPage<'a> {
    css: &'a str,
    csrf: &'a str,
    open_count: usize,
    groups: Vec<ReportGroup>,
    resolved: Vec<ReportRow>,
    max_note: usize,
}

/// `/admin/reports`: the open queue by provider, each report with its
/// resolve form (CSRF token of the session), and the latest resolutions.
pub fn render_admin_reports(
    csrf: &str,
    groups: Vec<ReportGroup>,
    resolved: &[Report],
    now: i64,
) -> Result<String, RenderError> {
    Ok(AdminReportsPage {
        css: super::admin::css_href(),
        csrf,
        open_count: groups.iter().map(|g| g.count).sum(),
        groups,
        resolved: resolved.iter().map(|r| row(r, now)).collect(),
        max_note: MAX_NOTE_CHARS,
    }
    .render()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::Status;

    fn report(id: &str, provider: &str, reasons: &[&'static str], created: i64) -> Report {
        Report {
            id: id.into(),
            provider_id: provider.into(),
            reasons: reasons.to_vec(),
            details: Some("<script>alert(1)</script>\nsecond line".into()),
            status: Status::Open,
            resolution: None,
            note: None,
            generation: None,
            created_at: crate::clock::format_utc(created as u64),
            resolved_at: None,
            created_unix: created,
        }
    }

    #[test]
    fn groups_put_the_most_reported_first_and_count_reasons() {
        let now = 1_000_000;
        let open = [
            report("r-1", "p-a", &["phone"], now - 50_000),
            report("r-2", "p-b", &["phone", "price"], now - 300),
            report("r-3", "p-b", &["price"], now - 200),
        ];
        let groups = group_reports(&open, now, |id| (id == "p-b").then(|| "Clinic B".into()));
        assert_eq!(groups[0].provider_id, "p-b");
        assert_eq!(groups[0].count, 2);
        assert_eq!(groups[0].name.as_deref(), Some("Clinic B"));
        assert_eq!(groups[0].oldest_age, "5 minutes");
        let counts: Vec<(&str, usize)> = groups[0]
            .reasons
            .iter()
            .map(|c| (c.label, c.count))
            .collect();
        assert_eq!(
            counts,
            [(Reason::Phone.label(), 1), (Reason::Price.label(), 2)]
        );
        assert_eq!(groups[1].name, None);
        assert_eq!(groups[1].oldest_age, "13 hours");
    }

    #[test]
    fn the_admin_page_escapes_details() {
        let now = 1_000_000;
        let open = [report("r-0123456789abcdef", "p-a", &["other"], now - 10)];
        let groups = group_reports(&open, now, |_| Some("<b>Name</b>".into()));
        let html = render_admin_reports("csrf-token", groups, &[], now).expect("renders");
        assert!(!html.contains("<script>alert(1)"), "{html}");
        assert!(
            html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{html}"
        );
        assert!(!html.contains("<b>Name</b>"));
        assert!(html.contains("/admin/reports/r-0123456789abcdef/resolve-form"));
        assert!(html.contains("value=\"csrf-token\""));
    }

    #[test]
    fn a_refused_form_says_what_to_fix_in_plain_words() {
        let problems = [
            InvalidParam {
                name: "details".into(),
                reason: "required with the reason other: say what is wrong".into(),
            },
            InvalidParam {
                name: "reason".into(),
                reason: "choose at least one reason".into(),
            },
        ];
        let view =
            ReportFormView::refilled("p-1", &["other".into()], "<i>x</i>", &problems, Lang::En);
        assert!(view.reasons.iter().any(|c| c.slug == "other" && c.checked));
        assert!(
            view.errors[0].contains("Something else"),
            "{:?}",
            view.errors
        );
        let html =
            render_report_form(&PageContext::default(), "Clinic", "p-1", &view).expect("renders");
        assert!(html.contains("&#60;i&#62;x&#60;/i&#62;"), "{html}");
        assert!(html.contains("name=\"website_url\""));
        assert!(html.contains("action=\"/providers/p-1/report\""));
    }
}
