//! The front door: the HTTP server, with a look at each connection's first
//! request head before actix parses it.
//!
//! actix answers a request it cannot parse (a bad request line, a header
//! that is not a header, bytes that are not a URI, a head over its buffer)
//! with an empty 400 or 431 of its own, before any route, middleware, log
//! line or metric sees it. Here the first head of every connection is read
//! and checked with the same parser actix uses (`httparse`, the `http`
//! crate's URI and header rules); a head that fails gets our answer — a
//! problem+json under `/api`, a page in the site's layout elsewhere — is
//! counted in `/metrics` (route `unparsed`) and logged at warn level, at
//! most once every ten seconds with a count of the rest. A head that passes
//! is handed to actix unchanged, bytes and all.
//!
//! Only the first request of a connection is checked: later requests on a
//! kept-alive connection still meet actix's own empty 400 (README says so).

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use actix_http::body::MessageBody;
use actix_http::{HttpService, Protocol, Request, Response};
use actix_service::{
    IntoServiceFactory, Service, ServiceFactory, ServiceFactoryExt, fn_factory, fn_service,
    map_config,
};
use actix_web::dev::{AppConfig, Server};
use actix_web::rt::net::TcpStream;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use crate::pages::{self, ErrorView, Link};

/// actix's own limit on a request head (its `MAX_BUFFER_SIZE`).
pub const MAX_HEAD_BYTES: usize = 131_072;
/// actix's own limit on the number of headers.
const MAX_HEADERS: usize = 96;
/// How long a new connection may take to send its first head (actix's
/// default client request timeout).
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// What the front door makes of a connection's first bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Hand the connection to actix.
    Pass,
    /// Answer `status` ourselves and close; `api` when the target is under
    /// `/api/`, `/fhir` or `/hsds`; `reason` says what could not be read.
    Reject {
        status: u16,
        api: bool,
        reason: &'static str,
    },
}

/// Judges a request head as actix would parse it. `complete` is false when
/// the client stopped sending (or the limit was reached) before the blank
/// line that ends a head.
pub fn judge(head: &[u8], complete: bool) -> Verdict {
    // Partners' paths get a problem document, people's paths a page.
    let api = target(head).is_some_and(|t| {
        t.starts_with(b"/api/") || t.starts_with(b"/fhir") || t.starts_with(b"/hsds")
    });
    let reject = |status, reason| Verdict::Reject {
        status,
        api,
        reason,
    };
    if !complete && head.len() >= MAX_HEAD_BYTES {
        return reject(431, "the request head is larger than this server reads");
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        // Not all there (the client went quiet or away): actix decides.
        Ok(httparse::Status::Partial) => return Verdict::Pass,
        Err(httparse::Error::TooManyHeaders) => {
            return reject(431, "the request has too many headers");
        }
        Err(httparse::Error::Version) => {
            return reject(400, "the request line does not name an HTTP version");
        }
        Err(httparse::Error::Token) => {
            return reject(
                400,
                "the request line (method or address) could not be read",
            );
        }
        Err(httparse::Error::HeaderName | httparse::Error::HeaderValue) => {
            return reject(400, "a header line could not be read");
        }
        Err(_) => return reject(400, "the request line could not be read"),
    }
    let path = request.path.unwrap_or_default();
    if http::Uri::try_from(path).is_err() {
        return reject(400, "the address (URI) of the request is not valid");
    }
    let bad_header = request.headers.iter().any(|h| {
        http::HeaderName::from_bytes(h.name.as_bytes()).is_err()
            || http::HeaderValue::from_bytes(h.value).is_err()
    });
    if bad_header {
        return reject(400, "a header line could not be read");
    }
    Verdict::Pass
}

/// The request-target of a head's first line, if it has one.
fn target(head: &[u8]) -> Option<&[u8]> {
    let line = head.split(|&b| b == b'\n').next()?;
    let mut parts = line.split(|&b| b == b' ').filter(|p| !p.is_empty());
    parts.next()?;
    parts.next()
}

/// The bytes of our answer to a rejected head.
pub fn answer(status: u16, api: bool, reason: &str) -> Vec<u8> {
    let reason_phrase = match status {
        431 => "Request Header Fields Too Large",
        _ => "Bad Request",
    };
    let (content_type, body) = if api {
        let problem = serde_json::json!({
            "type": if status == 431 { "/problems/request-header-too-large" } else { "/problems/bad-request" },
            "title": reason_phrase,
            "status": status,
            "detail": format!("{reason}; see /api/v1/openapi.json"),
        });
        ("application/problem+json", problem.to_string())
    } else {
        let view = ErrorView {
            title: "This address could not be read".into(),
            message: format!(
                "Your browser sent a request this site could not read ({reason}). \
                 Try the search from the home page."
            ),
            details: Vec::new(),
            suggestions: vec![Link {
                label: "Go to the home page".into(),
                href: "/".into(),
            }],
            form: None,
        };
        // The request could not be read, so neither could its language.
        let body = pages::render_error(&view, &pages::PageContext::default())
            .unwrap_or_else(|_| format!("{reason_phrase}\n"));
        ("text/html; charset=utf-8", body)
    };
    let mut bytes = format!(
        "HTTP/1.1 {status} {reason_phrase}\r\ncontent-type: {content_type}\r\n\
         content-length: {}\r\nconnection: close\r\nx-content-type-options: nosniff\r\n",
        body.len()
    );
    if !api {
        bytes.push_str(&format!(
            "content-security-policy: {}\r\nx-frame-options: DENY\r\nreferrer-policy: same-origin\r\n",
            super::pages::CSP
        ));
    }
    bytes.push_str("\r\n");
    let mut bytes = bytes.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

/// Warn about unreadable requests at most once every ten seconds.
static LAST_WARNING: AtomicU64 = AtomicU64::new(0);
static UNREPORTED: AtomicU64 = AtomicU64::new(0);

fn warn_rejected(status: u16, reason: &str) {
    let now = crate::clock::unix_now();
    let last = LAST_WARNING.load(Ordering::Relaxed);
    if now < last + 10
        || LAST_WARNING
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        UNREPORTED.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let others = UNREPORTED.swap(0, Ordering::Relaxed);
    tracing::warn!(
        status,
        reason,
        others,
        "refused a request that could not be parsed"
    );
}

/// Reads a connection's first request head: up to the blank line that ends
/// it, [`MAX_HEAD_BYTES`], the end of the stream or [`HEAD_TIMEOUT`].
/// Returns the bytes read (maybe more than the head) and whether the head
/// is complete.
async fn read_head(stream: &mut TcpStream) -> io::Result<(Vec<u8>, bool)> {
    let mut bytes = Vec::with_capacity(4096);
    let deadline = Instant::now() + HEAD_TIMEOUT;
    let mut chunk = [0u8; 8192];
    loop {
        if head_end(&bytes) {
            return Ok((bytes, true));
        }
        if bytes.len() >= MAX_HEAD_BYTES {
            return Ok((bytes, false));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match actix_web::rt::time::timeout(left, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Err(_) => return Ok((bytes, false)),
            Ok(Ok(n)) => bytes.extend_from_slice(&chunk[..n]),
            Ok(Err(error)) => return Err(error),
        }
    }
}

fn head_end(bytes: &[u8]) -> bool {
    bytes.windows(4).any(|w| w == b"\r\n\r\n") || bytes.windows(2).any(|w| w == b"\n\n")
}

/// A connection whose first bytes were already read: they are read again
/// first, then the stream.
pub struct Replayed {
    read: Vec<u8>,
    at: usize,
    stream: TcpStream,
}

impl AsyncRead for Replayed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.at < self.read.len() {
            let n = buf.remaining().min(self.read.len() - self.at);
            let at = self.at;
            buf.put_slice(&self.read[at..at + n]);
            self.at += n;
            if self.at == self.read.len() {
                self.read = Vec::new();
                self.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_read(context, buf)
    }
}

impl AsyncWrite for Replayed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(context, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(context)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(context)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(context, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Starts the HTTP server on `listener`: `app` builds the application for
/// each worker (as `actix_web::HttpServer::new` takes it), and every
/// connection goes through the front door first.
pub fn serve<F, I, S, B>(
    listener: TcpListener,
    app: F,
    shutdown_signal: impl Future<Output = ()> + Send + 'static,
    shutdown_timeout_seconds: u64,
) -> io::Result<Server>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: std::fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    <S::Service as Service<Request>>::Future: 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let builder = actix_server::Server::build();
    let graceful = builder.graceful_shutdown_signal();
    let local: SocketAddr = listener.local_addr()?;
    let builder = builder
        .shutdown_signal(shutdown_signal)
        .shutdown_timeout(shutdown_timeout_seconds)
        .listen("ketadir-http", listener, move || {
            let graceful = graceful.clone();
            let app = app().into_factory();
            let http = HttpService::<Replayed, _, B>::build()
                .graceful_shutdown_signal(move || {
                    let graceful = graceful.clone();
                    async move { graceful.notified().await }
                })
                .local_addr(local)
                .finish(map_config(
                    app.map_err(|error: S::Error| {
                        let error: actix_web::Error = error.into();
                        error.error_response()
                    }),
                    |()| AppConfig::default(),
                ));
            fn_factory(move || {
                let http = http.new_service(());
                async move {
                    let http = Rc::new(http.await?);
                    Ok::<_, ()>(fn_service(move |mut stream: TcpStream| {
                        let http = Rc::clone(&http);
                        async move {
                            let peer = stream.peer_addr().ok();
                            let _ = stream.set_nodelay(true);
                            let (read, complete) = read_head(&mut stream)
                                .await
                                .map_err(actix_http::error::DispatchError::Io)?;
                            if read.is_empty() {
                                return Ok(());
                            }
                            if let Verdict::Reject {
                                status,
                                api,
                                reason,
                            } = judge(&read, complete)
                            {
                                crate::metrics::record_request("unparsed", "other", status, 0.0);
                                warn_rejected(status, reason);
                                let _ = stream.write_all(&answer(status, api, reason)).await;
                                let _ = stream.shutdown().await;
                                return Ok(());
                            }
                            let replayed = Replayed {
                                read,
                                at: 0,
                                stream,
                            };
                            http.call((replayed, Protocol::Http1, peer)).await
                        }
                    }))
                }
            })
        })?;
    Ok(builder.run())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_actix_cannot_parse_are_rejected_with_their_kind() {
        let cases: [(&[u8], u16, bool); 6] = [
            (
                b"GET /api/v1/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
                400,
                true,
            ),
            (b"GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n", 400, false),
            (
                b"GET /api/v1/search HTTP/1.1\r\nBad Header: y\r\n\r\n",
                400,
                true,
            ),
            (b"GET / HTTP/9\r\n\r\n", 400, false),
            (b"G(T / HTTP/1.1\r\n\r\n", 400, false),
            (b"GET /api/v1/search HTTP/1.1\r\nX: \x01\r\n\r\n", 400, true),
        ];
        for (head, status, api) in cases {
            match judge(head, true) {
                Verdict::Reject {
                    status: s, api: a, ..
                } => assert_eq!((s, a), (status, api), "{:?}", String::from_utf8_lossy(head)),
                Verdict::Pass => panic!("passed {:?}", String::from_utf8_lossy(head)),
            }
        }
        let many: String = (0..100).map(|i| format!("X-{i}: y\r\n")).collect();
        let head = format!("GET /api/v1/search HTTP/1.1\r\n{many}\r\n");
        assert!(matches!(
            judge(head.as_bytes(), true),
            Verdict::Reject { status: 431, .. }
        ));
        let huge = vec![b'a'; MAX_HEAD_BYTES];
        assert!(matches!(
            judge(&huge, false),
            Verdict::Reject { status: 431, .. }
        ));
    }

    #[test]
    fn good_and_unfinished_heads_pass() {
        for head in [
            &b"GET /api/v1/search?q=%C3%A9 HTTP/1.1\r\nHost: x\r\n\r\n"[..],
            b"POST /admin/reindex HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
            b"GET / HTTP/1.0\n\n",
            b"GET /api/v1/se",
        ] {
            assert_eq!(judge(head, head_end(head)), Verdict::Pass, "{head:?}");
        }
    }

    #[test]
    fn answers_are_problems_under_api_and_pages_elsewhere() {
        let api = String::from_utf8(answer(400, true, "x")).expect("text");
        assert!(api.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(api.contains("application/problem+json"));
        let page = String::from_utf8(answer(431, false, "x")).expect("text");
        assert!(page.starts_with("HTTP/1.1 431 "));
        assert!(page.contains("text/html") && page.contains("content-security-policy"));
        let (head, body) = page.split_once("\r\n\r\n").expect("head and body");
        assert!(head.contains(&format!("content-length: {}", body.len())));
    }
}
