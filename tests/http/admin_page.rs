//! The admin page: sign-in, the session cookie's attributes, CSRF, uploads
//! whose report is shown escaped, forged cookies, and the page hidden
//! without a configured token.

use std::sync::Arc;

use hmac::{Hmac, KeyInit, Mac};
use ketadir::routes::admin::AdminSettings;
use ketadir::routes::sign_in_limit::FailedSignIns;
use ketadir::startup::HttpSettings;
use sha2::Sha256;

use super::helpers::{HEADER, Reply, TestApp, denver_csv, spawn_app, spawn_app_with};

const TOKEN: &str = "admin-page-secret-token-0123456789";
const SEARCH: &str = "/api/v1/search?near=80202&radius=30&per_page=100";
const BOUNDARY: &str = "ketadir-page-boundary";

fn admin_app(csv: &str) -> TestApp {
    admin_app_with_token(csv, TOKEN)
}

fn admin_app_with_token(csv: &str, token: &str) -> TestApp {
    spawn_app_with(
        csv,
        HttpSettings {
            admin: AdminSettings {
                token: Some(token.into()),
                max_upload_bytes: 1 << 20,
                ..AdminSettings::default()
            },
            ..HttpSettings::default()
        },
    )
}

fn login(app: &TestApp, token: &str) -> Reply {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("token", token)
        .finish();
    app.send(
        "POST",
        "/admin/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    )
}

/// Signs in and returns the `Cookie` header to send back.
fn sign_in(app: &TestApp) -> String {
    let reply = login(app, TOKEN);
    assert_eq!(reply.status, 303, "{}", reply.body);
    let set_cookie = reply.header("set-cookie").expect("a session cookie");
    let pair = set_cookie.split(';').next().expect("name=value");
    pair.to_string()
}

/// The value of the page's hidden `csrf` field.
fn csrf_of(page: &str) -> String {
    let start = page
        .find("name=\"csrf\" value=\"")
        .map(|at| at + "name=\"csrf\" value=\"".len())
        .expect("a csrf field");
    page[start..]
        .split('"')
        .next()
        .expect("a quoted value")
        .to_string()
}

/// A multipart form as a browser sends it: the fields in order, the CSV as
/// field `file`.
fn upload(app: &TestApp, cookie: &str, fields: &[(&str, &str)], csv: &str) -> Reply {
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"page.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{BOUNDARY}--\r\n"
    ));
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    app.send(
        "POST",
        "/admin/upload",
        &[("Cookie", cookie), ("Content-Type", content_type.as_str())],
        body.as_bytes(),
    )
}

fn is_sign_in_form(reply: &Reply) -> bool {
    reply.body.contains("action=\"/admin/login\"") && reply.body.contains("type=\"password\"")
}

type HmacSha256 = Hmac<Sha256>;

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).expect("any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// A session cookie signed as a replica with `token` signs it:
/// HMAC-SHA-256 over `<nonce>.<expires>`, keyed by HMAC-SHA-256(token,
/// label) (docs in src/routes/admin/session.rs).
fn signed_cookie(token: &str, nonce: &str, expires: &str) -> String {
    let key = hmac_sha256(token.as_bytes(), b"ketadir admin session cookie MAC key v1");
    let mac = hmac_sha256(&key, format!("{nonce}.{expires}").as_bytes());
    format!(
        "ketadir_admin={nonce}.{expires}.{}",
        base16ct::lower::encode_string(&mac)
    )
}

/// The `nonce`, `expires` and `mac` of a `ketadir_admin=…` cookie pair.
fn cookie_parts(cookie: &str) -> (String, String, String) {
    let value = cookie
        .strip_prefix("ketadir_admin=")
        .expect("the session cookie");
    let parts: Vec<&str> = value.split('.').collect();
    assert_eq!(parts.len(), 3, "nonce.expires.mac: {value}");
    (parts[0].into(), parts[1].into(), parts[2].into())
}

#[test]
fn signing_in_sets_a_strict_session_cookie() {
    let app = admin_app(&denver_csv("a", 10));
    let page = app.get("/admin");
    assert_eq!(page.status, 200);
    assert!(is_sign_in_form(&page), "{}", page.body);
    assert_eq!(
        page.header("content-security-policy"),
        Some("default-src 'self'; form-action 'self'; frame-ancestors 'none'")
    );
    assert!(!page.body.contains("<script") && !page.body.contains("style="));

    let wrong = login(&app, "not-the-token");
    assert_eq!(wrong.status, 401);
    assert!(is_sign_in_form(&wrong));
    assert!(wrong.body.contains("not the admin token"));
    assert_eq!(wrong.header("set-cookie"), None);

    let right = login(&app, TOKEN);
    assert_eq!(right.status, 303, "{}", right.body);
    assert_eq!(right.header("location"), Some("/admin"));
    let cookie = right.header("set-cookie").expect("a session cookie");
    let attributes: Vec<&str> = cookie.split(';').map(str::trim).collect();
    assert!(attributes[0].starts_with("ketadir_admin="), "{cookie}");
    for wanted in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/admin",
        "Max-Age=28800",
    ] {
        assert!(attributes.contains(&wanted), "{wanted} missing: {cookie}");
    }
    assert!(
        !attributes.contains(&"Secure"),
        "no Secure over http: {cookie}"
    );

    // Behind a TLS-terminating proxy that says so, the cookie is Secure.
    let body = format!("token={TOKEN}");
    let proxied = app.send(
        "POST",
        "/admin/login",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("X-Forwarded-Proto", "https"),
        ],
        body.as_bytes(),
    );
    assert_eq!(proxied.status, 303);
    assert!(
        proxied
            .header("set-cookie")
            .is_some_and(|c| c.split(';').any(|a| a.trim() == "Secure")),
        "{:?}",
        proxied.header("set-cookie")
    );

    let css = app.get("/admin/admin.css");
    assert_eq!(css.status, 200);
    assert!(css.content_type.starts_with("text/css"));
    assert!(
        css.header("cache-control")
            .is_some_and(|c| c.contains("max-age=31536000"))
    );
}

#[test]
fn the_page_shows_the_status_and_forms_for_a_session() {
    let app = admin_app(&denver_csv("a", 10));
    let cookie = sign_in(&app);
    let page = app.request("GET", "/admin", &[("Cookie", cookie.as_str())]);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!is_sign_in_form(&page));
    assert!(
        page.body.contains("<dd id=\"generation\">1</dd>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Recent imports"));
    assert!(page.body.contains("enctype=\"multipart/form-data\""));
    assert!(page.body.contains("name=\"skip_invalid\""));
    assert!(page.body.contains("name=\"allow_shrink\""));
    assert!(page.body.contains("action=\"/admin/rollback-form\""));
    assert!(page.body.contains("action=\"/admin/logout\""));
    assert_eq!(csrf_of(&page.body).len(), 64);
    assert_eq!(page.header("cache-control"), Some("no-store"));

    // A cookie of the right shape that was not made from the token.
    let forged = format!(
        "ketadir_admin=00112233445566778899aabbccddeeff.9999999999.{}",
        "0".repeat(64)
    );
    // Correctly signed cookies: accepted while current, refused once expired.
    let signed = |expires: &str| signed_cookie(TOKEN, "00112233445566778899aabbccddeeff", expires);
    let current = signed("9999999999");
    let reply = app.request("GET", "/admin", &[("Cookie", current.as_str())]);
    assert!(
        !is_sign_in_form(&reply),
        "a current signed session is accepted"
    );
    let expired = signed("1000");
    let reply = app.request("GET", "/admin", &[("Cookie", expired.as_str())]);
    assert!(
        is_sign_in_form(&reply),
        "an expired session must sign in again"
    );
    let reply = app.request("GET", "/admin", &[("Cookie", forged.as_str())]);
    assert_eq!(reply.status, 200);
    assert!(is_sign_in_form(&reply));
    let reply = app.request("GET", "/admin", &[("Cookie", "ketadir_admin=garbage")]);
    assert!(is_sign_in_form(&reply));

    // Sign out: CSRF required, then the cookie is cleared.
    let csrf = csrf_of(&page.body);
    let form = |csrf: &str| format!("csrf={csrf}");
    let headers = [
        ("Cookie", cookie.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let refused = app.send("POST", "/admin/logout", &headers, form("nope").as_bytes());
    assert_eq!(refused.status, 403);
    let out = app.send("POST", "/admin/logout", &headers, form(&csrf).as_bytes());
    assert_eq!(out.status, 303);
    assert!(
        out.header("set-cookie")
            .is_some_and(|c| c.starts_with("ketadir_admin=;") && c.contains("Max-Age=0"))
    );
}

#[test]
fn uploads_need_csrf_and_show_their_report_escaped() {
    let app = admin_app(&denver_csv("a", 50));
    let cookie = sign_in(&app);
    let page = app.request("GET", "/admin", &[("Cookie", cookie.as_str())]);
    let csrf = csrf_of(&page.body);

    let good = denver_csv("b", 52);
    let without = upload(&app, &cookie, &[], &good);
    assert_eq!(without.status, 403, "{}", without.body);
    let wrong = upload(&app, &cookie, &[("csrf", "0123")], &good);
    assert_eq!(wrong.status, 403);
    let stranger = upload(&app, "ketadir_admin=x.y", &[("csrf", csrf.as_str())], &good);
    assert_eq!(stranger.status, 403);
    assert_eq!(app.get_json(SEARCH)["total"], 50);

    let mut bad = denver_csv("c", 52);
    bad.push_str("c-x,<script>alert(1)</script>,Denver,CO,80202,91.5,-104.99,iv_infusion,crps,Aetna,4.0,3,true,300\n");
    let rejected = upload(&app, &cookie, &[("csrf", csrf.as_str())], &bad);
    assert_eq!(rejected.status, 422, "{}", rejected.body);
    assert!(rejected.body.contains("Rejected"), "{}", rejected.body);
    assert!(!rejected.body.contains("<script>"), "{}", rejected.body);
    // Line 54: the header and 52 good rows come first.
    assert!(rejected.body.contains("<td>54</td>"), "{}", rejected.body);
    assert!(
        rejected.body.contains("<td>latitude</td>"),
        "{}",
        rejected.body
    );
    assert_eq!(app.get_json(SEARCH)["total"], 50);

    // The markup itself, in a column that is reported with its value.
    let mut marked = format!("{HEADER}\n");
    marked.push_str(
        &denver_csv("d", 52)
            .lines()
            .skip(1)
            .collect::<Vec<_>>()
            .join("\n"),
    );
    marked.push_str("\nd-x,Clinician,Denver,CO,80202,39.74,-104.99,iv_infusion,crps,Aetna,<script>alert(1)</script>,3,true,300\n");
    let rejected = upload(&app, &cookie, &[("csrf", csrf.as_str())], &marked);
    assert_eq!(rejected.status, 422, "{}", rejected.body);
    // askama escapes with numeric references (`&#60;`); `&lt;` is as good.
    let escaped = ["&lt;script&gt;", "&#60;script&#62;"];
    assert!(
        escaped.iter().any(|e| rejected.body.contains(e)),
        "{}",
        rejected.body
    );
    assert!(!rejected.body.contains("<script>"));
    assert!(rejected.body.contains("<td>54</td>"));
    assert!(
        rejected.body.contains("<td>rating</td>"),
        "{}",
        rejected.body
    );

    // The checkboxes: skip the bad row and publish the rest.
    let skipped = upload(
        &app,
        &cookie,
        &[("csrf", csrf.as_str()), ("skip_invalid", "on")],
        &marked,
    );
    assert_eq!(skipped.status, 200, "{}", skipped.body);
    assert!(
        skipped.body.contains("Published generation 2"),
        "{}",
        skipped.body
    );

    let published = upload(&app, &cookie, &[("csrf", csrf.as_str())], &good);
    assert_eq!(published.status, 200, "{}", published.body);
    assert!(published.body.contains("Published generation 3"));
    // This server switched at once.
    assert_eq!(app.get_json(SEARCH)["total"], 52);
    let page = app.request("GET", "/admin", &[("Cookie", cookie.as_str())]);
    assert!(page.body.contains("<dd id=\"generation\">3</dd>"));
    assert!(page.body.contains("page.csv"));

    // Roll back through the form.
    let headers = [
        ("Cookie", cookie.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let refused = app.send("POST", "/admin/rollback-form", &headers, b"");
    assert_eq!(refused.status, 403);
    let body = format!("csrf={csrf}");
    let back = app.send("POST", "/admin/rollback-form", &headers, body.as_bytes());
    assert_eq!(back.status, 303, "{}", back.body);
    assert_eq!(app.get_json(SEARCH)["generation"], 2);
}

#[test]
fn without_a_configured_token_the_page_does_not_exist() {
    let app = spawn_app(&denver_csv("p", 10));
    for (method, path) in [
        ("GET", "/admin"),
        ("GET", "/admin/admin.css"),
        ("POST", "/admin/login"),
        ("POST", "/admin/upload"),
        ("POST", "/admin/rollback-form"),
        ("POST", "/admin/logout"),
    ] {
        let reply = app.request(method, path, &[]);
        assert_eq!(reply.status, 404, "{method} {path}");
    }
    assert_eq!(login(&app, TOKEN).status, 404);
}

#[test]
fn guessing_the_token_on_the_sign_in_form_is_slowed_down() {
    let app = spawn_app_with(
        &denver_csv("p", 5),
        HttpSettings {
            admin: AdminSettings {
                token: Some(TOKEN.into()),
                failed_sign_ins: Arc::new(FailedSignIns::new(3)),
                ..AdminSettings::default()
            },
            ..HttpSettings::default()
        },
    );
    for guess in ["guess-1", "guess-2", "guess-3"] {
        assert_eq!(login(&app, guess).status, 401, "{guess}");
    }
    // Held back before the token is compared: the right one waits too.
    for token in ["guess-4", TOKEN] {
        let reply = login(&app, token);
        assert_eq!(reply.status, 429, "{token}: {}", reply.body);
        assert!(reply.content_type.starts_with("text/html"));
        assert!(reply.body.contains("too many wrong admin tokens"));
        let wait: u64 = reply
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .expect("Retry-After in seconds");
        assert!((1..=60).contains(&wait), "{wait}");
        assert_eq!(
            reply.header("set-cookie"),
            None,
            "no session while held back"
        );
    }
}

/// The old MAC was `SHA-256(secret ‖ message)`, open to length extension:
/// whoever holds one MAC could sign the message with bytes appended. With
/// HMAC a cookie whose expiry has bytes appended, under the MAC it had, is
/// refused whatever the bytes (and so is the old construction's MAC).
#[test]
fn a_cookie_whose_expiry_has_bytes_appended_is_refused() {
    let app = admin_app(&denver_csv("le", 5));
    let cookie = sign_in(&app);
    let accepted = app.request("GET", "/admin", &[("Cookie", cookie.as_str())]);
    assert!(!is_sign_in_form(&accepted), "the issued cookie works");
    let (nonce, expires, mac) = cookie_parts(&cookie);
    for appended in [
        "0",
        "000000",
        "9",
        "%80%00%00%01%58",
        "\u{80}",
        " 1",
        ".",
        "x",
    ] {
        let forged = format!("ketadir_admin={nonce}.{expires}{appended}.{mac}");
        let reply = app.request("GET", "/admin", &[("Cookie", forged.as_str())]);
        assert_eq!(reply.status, 200, "{forged}");
        assert!(
            is_sign_in_form(&reply),
            "appended {appended:?} must be refused"
        );
        // Nor does it carry a form: a POST with the session's CSRF is refused.
        let csrf = csrf_of(&accepted.body);
        let out = app.send(
            "POST",
            "/admin/logout",
            &[
                ("Cookie", forged.as_str()),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            format!("csrf={csrf}").as_bytes(),
        );
        assert_eq!(out.status, 403, "appended {appended:?}: {}", out.body);
    }
    // A later expiry correctly signed is accepted: the refusals above are
    // the MAC's doing, not the expiry's.
    let later = format!("{}0", expires);
    let resigned = signed_cookie(TOKEN, &nonce, &later);
    let reply = app.request("GET", "/admin", &[("Cookie", resigned.as_str())]);
    assert!(!is_sign_in_form(&reply), "{resigned}");
    // The secret-prefix MAC of the issue is no longer accepted.
    let mut old = <Sha256 as sha2::Digest>::new();
    for part in [
        b"session\0".as_slice(),
        TOKEN.as_bytes(),
        b"\0",
        nonce.as_bytes(),
        b"\0",
        expires.as_bytes(),
    ] {
        sha2::Digest::update(&mut old, part);
    }
    let old_mac = base16ct::lower::encode_string(&sha2::Digest::finalize(old));
    let old_cookie = format!("ketadir_admin={nonce}.{expires}.{old_mac}");
    let reply = app.request("GET", "/admin", &[("Cookie", old_cookie.as_str())]);
    assert!(
        is_sign_in_form(&reply),
        "a secret-prefix SHA-256 MAC is refused"
    );
}

/// Sessions are stateless: a replica with the same token accepts another's
/// session (and its CSRF token); one with another token accepts nothing,
/// and no replica accepts an expired or forged session.
#[test]
fn every_replica_with_the_same_token_accepts_a_session() {
    let csv = denver_csv("r", 5);
    let first = admin_app(&csv);
    let second = admin_app(&csv);
    let other = admin_app_with_token(&csv, "another-admin-token-9876543210");
    let cookie = sign_in(&first);

    let page = second.request("GET", "/admin", &[("Cookie", cookie.as_str())]);
    assert_eq!(page.status, 200);
    assert!(!is_sign_in_form(&page), "{}", page.body);
    let on_first = first.request("GET", "/admin", &[("Cookie", cookie.as_str())]);
    assert_eq!(
        csrf_of(&page.body),
        csrf_of(&on_first.body),
        "one CSRF token"
    );
    let headers = [
        ("Cookie", cookie.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let body = format!("csrf={}", csrf_of(&page.body));
    assert_eq!(
        second
            .send("POST", "/admin/logout", &headers, body.as_bytes())
            .status,
        303
    );
    assert_eq!(
        other
            .send("POST", "/admin/logout", &headers, body.as_bytes())
            .status,
        403
    );
    let refused = other.request("GET", "/admin", &[("Cookie", cookie.as_str())]);
    assert!(is_sign_in_form(&refused), "another token, another key");

    let nonce = "ffeeddccbbaa99887766554433221100";
    let expired = signed_cookie(TOKEN, nonce, "1000");
    let forged = signed_cookie("not-the-token", nonce, "9999999999");
    let current = signed_cookie(TOKEN, nonce, "9999999999");
    for app in [&first, &second] {
        for (cookie, accepted) in [(&expired, false), (&forged, false), (&current, true)] {
            let reply = app.request("GET", "/admin", &[("Cookie", cookie.as_str())]);
            assert_eq!(!is_sign_in_form(&reply), accepted, "{cookie}");
        }
    }
    let reply = other.request("GET", "/admin", &[("Cookie", current.as_str())]);
    assert!(is_sign_in_form(&reply));
}
