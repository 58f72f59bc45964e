//! What a visitor may send: at least one reason from the closed list, and
//! details (at most 1,000 characters; required with `other`). The JSON
//! API and the profile's form are read into the same [`Submission`], and
//! every problem names its field, as search parameters do.
//!
//! Text is kept as sent, except that line breaks become `\n`, leading and
//! trailing white space is trimmed, and empty text counts as absent.
//! Control characters other than line breaks and tabs, and the invisible
//! bidirectional overrides and isolates (which could make the admin page
//! show text in another order than it was written), are refused.

use serde_json::Value;

use super::Reason;
use crate::search::InvalidParam;

/// Longest `details`, in characters (Unicode scalar values).
pub const MAX_DETAILS_CHARS: usize = 1_000;
/// Longest admin note, in characters.
pub const MAX_NOTE_CHARS: usize = 500;

/// A valid report: its reasons (each once, in the vocabulary's order) and
/// its details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub reasons: Vec<Reason>,
    pub details: Option<String>,
}

fn invalid(name: &str, reason: impl Into<String>) -> InvalidParam {
    InvalidParam {
        name: name.into(),
        reason: reason.into(),
    }
}

/// Invisible characters that reorder the text around them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Free text as it will be stored: `None` when empty, an error naming
/// `field` when it is too long or holds characters that are refused.
fn clean_text(text: &str, max_chars: usize, field: &str) -> Result<Option<String>, InvalidParam> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    if text
        .chars()
        .any(|c| (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c))
    {
        return Err(invalid(
            field,
            "must not contain control characters (line breaks and tabs are fine)",
        ));
    }
    let text = text.trim();
    if text.chars().count() > max_chars {
        return Err(invalid(field, format!("at most {max_chars} characters")));
    }
    Ok((!text.is_empty()).then(|| text.to_string()))
}

/// An admin's note on a resolution: at most [`MAX_NOTE_CHARS`], the same
/// characters as details.
pub fn clean_note(note: &str) -> Result<Option<String>, InvalidParam> {
    clean_text(note, MAX_NOTE_CHARS, "note")
}

impl Submission {
    /// Reason slugs and details as sent. `reasons_field` is the name the
    /// sender used for the reasons (`reasons` in JSON, `reason` in the form).
    pub fn new<'a>(
        reasons: impl IntoIterator<Item = &'a str>,
        details: Option<&str>,
        reasons_field: &str,
    ) -> Result<Submission, Vec<InvalidParam>> {
        let mut problems = Vec::new();
        let mut chosen = Vec::new();
        let mut unknown = Vec::new();
        for slug in reasons {
            match Reason::from_slug(slug.trim()) {
                Some(reason) => chosen.push(reason),
                None => unknown.push(slug),
            }
        }
        chosen.sort_unstable();
        chosen.dedup();
        if let Some(first) = unknown.first() {
            let shown: String = first.chars().take(40).collect();
            problems.push(invalid(
                reasons_field,
                format!("unknown reason {shown:?}; allowed: {}", Reason::allowed()),
            ));
        } else if chosen.is_empty() {
            problems.push(invalid(
                reasons_field,
                format!("choose at least one reason: {}", Reason::allowed()),
            ));
        }
        let details = match details.map(|d| clean_text(d, MAX_DETAILS_CHARS, "details")) {
            None => None,
            Some(Ok(details)) => details,
            Some(Err(problem)) => {
                problems.push(problem);
                None
            }
        };
        let details_refused = problems.iter().any(|p| p.name == "details");
        if chosen.contains(&Reason::Other) && details.is_none() && !details_refused {
            problems.push(invalid(
                "details",
                "required with the reason other: say what is wrong",
            ));
        }
        if problems.is_empty() {
            Ok(Submission {
                reasons: chosen,
                details,
            })
        } else {
            Err(problems)
        }
    }

    /// The JSON body of `POST /api/v1/providers/{id}/reports`:
    /// `{"reasons": [...], "details": "..."}`; other members are ignored.
    pub fn from_json(body: &[u8]) -> Result<Submission, Vec<InvalidParam>> {
        let value: Value = serde_json::from_slice(body).map_err(|error| {
            vec![invalid(
                "body",
                format!(
                    "must be a JSON object such as {{\"reasons\": [\"phone\"], \"details\": \"…\"}} ({error})"
                ),
            )]
        })?;
        let Value::Object(object) = value else {
            return Err(vec![invalid(
                "body",
                "must be a JSON object such as {\"reasons\": [\"phone\"], \"details\": \"…\"}",
            )]);
        };
        let mut problems = Vec::new();
        let reasons: Vec<&str> = match object.get("reasons") {
            None | Some(Value::Null) => {
                problems.push(invalid(
                    "reasons",
                    format!("required: a list of one or more of {}", Reason::allowed()),
                ));
                Vec::new()
            }
            Some(Value::Array(items)) => {
                let texts: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                match texts {
                    Some(texts) if !texts.is_empty() => texts,
                    Some(_) => {
                        problems.push(invalid(
                            "reasons",
                            format!("choose at least one reason: {}", Reason::allowed()),
                        ));
                        Vec::new()
                    }
                    None => {
                        problems.push(invalid("reasons", "must be a list of strings"));
                        Vec::new()
                    }
                }
            }
            Some(_) => {
                problems.push(invalid(
                    "reasons",
                    format!(
                        "must be a list such as [\"phone\"]; allowed: {}",
                        Reason::allowed()
                    ),
                ));
                Vec::new()
            }
        };
        let details = match object.get("details") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(text.as_str()),
            Some(_) => {
                problems.push(invalid("details", "must be text (a JSON string) or null"));
                None
            }
        };
        if !problems.is_empty() {
            // Still check what can be checked, so every bad field is named.
            if let Err(more) = Submission::new(reasons.iter().copied(), details, "reasons") {
                for problem in more {
                    if !problems.iter().any(|p| p.name == problem.name) {
                        problems.push(problem);
                    }
                }
            }
            return Err(problems);
        }
        Submission::new(reasons, details, "reasons")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(result: Result<Submission, Vec<InvalidParam>>) -> Vec<String> {
        result
            .expect_err("rejected")
            .into_iter()
            .map(|p| p.name)
            .collect()
    }

    #[test]
    fn valid_submissions_are_normalised() {
        let submission = Submission::from_json(
            br#"{"reasons": ["price", "phone", "price"], "details": "  Costs $600 now.\r\nCall first.  ", "extra": 1}"#,
        )
        .expect("valid");
        assert_eq!(submission.reasons, [Reason::Phone, Reason::Price]);
        assert_eq!(
            submission.details.as_deref(),
            Some("Costs $600 now.\nCall first.")
        );
        let bare =
            Submission::from_json(br#"{"reasons": ["closed"], "details": "   "}"#).expect("valid");
        assert_eq!(bare.details, None);
        let null =
            Submission::from_json(br#"{"reasons": ["closed"], "details": null}"#).expect("valid");
        assert_eq!(null.details, None);
        let at_limit = "é".repeat(MAX_DETAILS_CHARS);
        let body = serde_json::json!({"reasons": ["other"], "details": at_limit}).to_string();
        assert!(Submission::from_json(body.as_bytes()).is_ok());
    }

    #[test]
    fn every_bad_field_is_named() {
        assert_eq!(names(Submission::from_json(b"")), ["body"]);
        assert_eq!(names(Submission::from_json(b"[1]")), ["body"]);
        assert_eq!(names(Submission::from_json(b"\xff\xfe")), ["body"]);
        assert_eq!(
            names(Submission::from_json(b"{\"reasons\": [\"ph\xffone\"]}")),
            ["body"]
        );
        assert_eq!(names(Submission::from_json(b"{}")), ["reasons"]);
        assert_eq!(
            names(Submission::from_json(br#"{"reasons": []}"#)),
            ["reasons"]
        );
        assert_eq!(
            names(Submission::from_json(br#"{"reasons": "phone"}"#)),
            ["reasons"]
        );
        assert_eq!(
            names(Submission::from_json(br#"{"reasons": [1]}"#)),
            ["reasons"]
        );
        assert_eq!(
            names(Submission::from_json(br#"{"reasons": ["phone", "bogus"]}"#)),
            ["reasons"]
        );
        assert_eq!(
            names(Submission::from_json(br#"{"reasons": ["other"]}"#)),
            ["details"]
        );
        assert_eq!(
            names(Submission::from_json(
                br#"{"reasons": ["phone"], "details": 5}"#
            )),
            ["details"]
        );
        assert_eq!(
            names(Submission::from_json(
                br#"{"reasons": 3, "details": ["x"]}"#
            )),
            ["reasons", "details"]
        );
        let long = "a".repeat(MAX_DETAILS_CHARS + 1);
        let body = serde_json::json!({"reasons": ["phone"], "details": long}).to_string();
        assert_eq!(names(Submission::from_json(body.as_bytes())), ["details"]);
        for hostile in [
            "nul\u{0}",
            "bell\u{7}",
            "esc\u{1b}[31m",
            "del\u{7f}",
            "c1\u{85}",
            "rlo\u{202e}cba",
        ] {
            let body = serde_json::json!({"reasons": ["phone"], "details": hostile}).to_string();
            assert_eq!(
                names(Submission::from_json(body.as_bytes())),
                ["details"],
                "{hostile:?}"
            );
        }
        // A refused `details` is not also reported as missing.
        let body = serde_json::json!({"reasons": ["other"], "details": "\u{0}"}).to_string();
        assert_eq!(names(Submission::from_json(body.as_bytes())), ["details"]);
    }

    #[test]
    fn sql_and_markup_are_only_text() {
        let text = "'); DROP TABLE reports; -- <script>alert(1)</script> \" OR 1=1";
        let body = serde_json::json!({"reasons": ["other"], "details": text}).to_string();
        let submission = Submission::from_json(body.as_bytes()).expect("valid text");
        assert_eq!(submission.details.as_deref(), Some(text));
    }

    #[test]
    fn form_reasons_are_named_as_sent() {
        let problems = Submission::new(["nope"], None, "reason").expect_err("unknown");
        assert_eq!(problems[0].name, "reason");
        assert!(problems[0].reason.contains("no_ketamine"), "{problems:?}");
        let problems = Submission::new([], Some("x"), "reason").expect_err("none");
        assert_eq!(problems[0].name, "reason");
    }

    #[test]
    fn notes_are_bounded() {
        assert_eq!(clean_note("  ok  ").expect("fine").as_deref(), Some("ok"));
        assert_eq!(clean_note("").expect("fine"), None);
        assert!(clean_note(&"n".repeat(MAX_NOTE_CHARS + 1)).is_err());
        assert!(clean_note("\u{0}").is_err());
    }
}
