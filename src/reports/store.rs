//! The report queue in a database, through `sqlx`: SQLite
//! (`<index dir>/reports.sqlite`, WAL journal, `synchronous=NORMAL`) by
//! default, PostgreSQL when a `postgres://` URL is configured. The SQL is
//! the same for both (numbered `$N` parameters, which SQLite reads too);
//! [`on_pool!`] expands each query once per driver. Migrations are
//! embedded (`sqlx::migrate!`, one folder per database) and run before the
//! first query ([`ReportStore::ready`]); `serve` calls it before it
//! listens, so a server with an unreachable database does not start.
//!
//! A submission is one transaction that first serialises the client's
//! submissions — `BEGIN IMMEDIATE` on SQLite (one writer at a time), a
//! transaction-scoped advisory lock on the client hash on PostgreSQL — so
//! that the repeat check, the hourly limit and the insert see the same
//! rows, across replicas too. A server killed mid-write leaves either the
//! whole report or nothing (SQLite's WAL, PostgreSQL's transactions).

use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tokio::sync::OnceCell;

use super::client::{client_hash, new_salt};
use super::{
    LIMIT_WINDOW_SECONDS, QueueStats, REPEAT_WINDOW_SECONDS, REPORTS_PER_HOUR, Reason, Report,
    Resolution, Status, StatusFilter, Submission,
};
use crate::clock::format_utc;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// The SQLite file's name in the index directory.
pub const SQLITE_FILE: &str = "reports.sqlite";
/// How long a query waits for a free connection (or SQLite for its lock).
const WAIT: Duration = Duration::from_secs(5);
const SALT_SETTING: &str = "client_hash_salt";

/// Where the queue lives: `None` is SQLite in the index directory.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct DatabaseSettings {
    /// `postgres://user:password@host:port/database` (or `postgresql://`,
    /// or a `sqlite:` URL for a file elsewhere).
    pub url: Option<String>,
}

impl fmt::Debug for DatabaseSettings {
    /// Never prints the password of the URL.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &self.url.as_deref().map(redacted))
            .finish()
    }
}

impl DatabaseSettings {
    /// The configured database for messages: the URL without its
    /// password, or SQLite in the index directory.
    pub fn describe(&self) -> String {
        match self.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => redacted(url),
            None => format!("SQLite {SQLITE_FILE} in the index directory"),
        }
    }
}

/// A URL with its password (between `user:` and `@`) replaced by `***`.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the database URL must start with postgres://, postgresql:// or sqlite: ({0}); see README.md, \"Report queue\""
    )]
    BadUrl(String),
    #[error("cannot create the directory of the report database {path}: {source}")]
    Directory {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot migrate the report database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("report database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("no randomness from the operating system: {0}")]
    Random(String),
    #[error("the report database holds a value this ketadir cannot read: {0}")]
    Corrupt(String),
    /// The served generation could not be asked which providers it lists.
    #[error("cannot look up providers in the served generation: {0}")]
    Lookup(String),
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the concrete pool: the same code,
/// type-checked once for each driver.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.inner.pool {
            Pool::Sqlite($pool) => $body,
            Pool::Postgres($pool) => $body,
        }
    };
}

/// The outcome of a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// A new report, with the reasons it holds (those not already reported
    /// by this client for this provider within 24 hours).
    Stored { id: String, reasons: Vec<Reason> },
    /// Every reason was already reported by this client for this provider
    /// within 24 hours: the earlier report (the one holding the first of
    /// the reasons, in the vocabulary's order), not counted again.
    Repeat { id: String, status: Status },
    /// The client sent [`REPORTS_PER_HOUR`] reports within the hour.
    Limited { retry_after_seconds: u64 },
}

/// A report of the submitting client within the repeat window: id,
/// status, provider, time, and one of its reasons (`None` if it had none).
type ClientRow = (String, String, String, i64, Option<String>);

/// What a submission comes to, given the client's recent reports.
#[derive(Debug, PartialEq, Eq)]
enum Decision {
    /// Store a report with these reasons (those not repeated).
    Store(Vec<Reason>),
    /// A repeat or the limit: answer without storing.
    Answer(Submitted),
}

/// The repeat check, then the hourly limit, over the client's reports of
/// the last 24 hours (newest first, one row per reason).
fn decide(
    rows: &[ClientRow],
    provider_id: &str,
    submission: &Submission,
    now: i64,
) -> Result<Decision, StoreError> {
    let earlier_of = |reason: &Reason| {
        rows.iter().find(|(_, _, provider, _, r)| {
            provider == provider_id && r.as_deref() == Some(reason.slug())
        })
    };
    let fresh: Vec<Reason> = submission
        .reasons
        .iter()
        .filter(|reason| earlier_of(reason).is_none())
        .copied()
        .collect();
    if fresh.is_empty() {
        // The (newest) earlier report of the first reason sent.
        let (id, status, ..) = submission
            .reasons
            .iter()
            .find_map(earlier_of)
            .ok_or_else(|| StoreError::Corrupt("a repeat without its report".into()))?;
        let status = Status::parse(status)
            .ok_or_else(|| StoreError::Corrupt(format!("status {status:?}")))?;
        return Ok(Decision::Answer(Submitted::Repeat {
            id: id.clone(),
            status,
        }));
    }
    // The client's reports of the last hour, oldest first, each once.
    let mut within_hour: Vec<(&str, i64)> = rows
        .iter()
        .filter(|(_, _, _, at, _)| *at > now - LIMIT_WINDOW_SECONDS)
        .map(|(id, _, _, at, _)| (id.as_str(), *at))
        .collect();
    within_hour.sort_unstable_by_key(|&(id, at)| (at, id));
    within_hour.dedup();
    let limit = REPORTS_PER_HOUR as usize;
    if within_hour.len() >= limit {
        // Below the limit again once this one leaves the window.
        let (_, frees) = within_hour[within_hour.len() - limit];
        let wait = (frees + LIMIT_WINDOW_SECONDS - now).max(1);
        return Ok(Decision::Answer(Submitted::Limited {
            retry_after_seconds: u64::try_from(wait).unwrap_or(1),
        }));
    }
    Ok(Decision::Store(fresh))
}

/// The outcome of an admin's resolution.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    Done(Report),
    /// It was resolved before (by an admin or an import); unchanged.
    AlreadyResolved(Report),
    NotFound,
}

/// A report id: `r-` and 16 lower-case hex digits.
pub fn is_report_id(text: &str) -> bool {
    text.len() == 18
        && text.starts_with("r-")
        && text[2..]
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn new_report_id() -> Result<String, StoreError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Random(e.to_string()))?;
    Ok(format!("r-{}", base16ct::lower::encode_string(&bytes)))
}

/// The queue; cheap to clone (one pool inside).
#[derive(Clone)]
pub struct ReportStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    /// Set once the migrations have run: the installation's salt.
    salt: OnceCell<String>,
    description: String,
    /// SQLite has one writer at a time; its busy handler makes waiting
    /// connections sleep and retry, which under load starved some
    /// submissions for seconds. This process's writes queue here instead,
    /// in order (other processes on the same file still meet the busy
    /// handler). Unused with PostgreSQL.
    writer: tokio::sync::Mutex<()>,
}

impl fmt::Debug for ReportStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReportStore")
            .field("database", &self.inner.description)
            .finish()
    }
}

/// The columns of a [`Report`], in the order of [`ReportRow`].
const REPORT_COLUMNS: &str = "id, provider_id, reasons, details, status, resolution, note, \
     generation, created_at, resolved_at";

type ReportRow = (
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    i64,
    Option<i64>,
);

/// The number of open reports and the oldest one's time.
type OpenRow = (i64, Option<i64>);
/// A reason and its number of reports.
type ReasonRow = (String, i64);

fn timestamp(unix: i64) -> String {
    format_utc(u64::try_from(unix).unwrap_or(0))
}

fn report_of(row: ReportRow) -> Result<Report, StoreError> {
    let (
        id,
        provider_id,
        reasons,
        details,
        status,
        resolution,
        note,
        generation,
        created,
        resolved,
    ) = row;
    let reasons = reasons
        .split(',')
        .filter(|slug| !slug.is_empty())
        .map(|slug| {
            Reason::from_slug(slug)
                .map(Reason::slug)
                .ok_or_else(|| StoreError::Corrupt(format!("reason {slug:?} of report {id}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let status = Status::parse(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("status {status:?} of report {id}")))?;
    let resolution = resolution
        .map(|text| {
            Resolution::parse(&text)
                .ok_or_else(|| StoreError::Corrupt(format!("resolution {text:?} of report {id}")))
        })
        .transpose()?;
    Ok(Report {
        id,
        provider_id,
        reasons,
        details,
        status,
        resolution,
        note,
        generation: generation.and_then(|g| u64::try_from(g).ok()),
        created_at: timestamp(created),
        resolved_at: resolved.map(timestamp),
        created_unix: created,
    })
}

fn reports_of(rows: Vec<ReportRow>) -> Result<Vec<Report>, StoreError> {
    rows.into_iter().map(report_of).collect()
}

impl ReportStore {
    /// The store for `settings`, without connecting: connections are made
    /// when needed, and [`ReportStore::ready`] migrates. Needs a Tokio
    /// runtime (the pool's upkeep task runs on it). Without a URL the
    /// database is `reports.sqlite` in `index_dir` (created if missing).
    pub fn connect_lazy(
        settings: &DatabaseSettings,
        index_dir: &Path,
    ) -> Result<ReportStore, StoreError> {
        let url = settings
            .url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty());
        let (pool, description) = match url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let options = PgConnectOptions::from_str(url)
                    .map_err(|e| StoreError::BadUrl(format!("{}: {e}", redacted(url))))?
                    .application_name("ketadir");
                let description = format!(
                    "PostgreSQL {}:{}/{}",
                    options.get_host(),
                    options.get_port(),
                    options.get_database().unwrap_or(options.get_username())
                );
                let pool = PgPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(WAIT)
                    .connect_lazy_with(options);
                (Pool::Postgres(pool), description)
            }
            Some(url) if url.starts_with("sqlite:") => {
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(|e| StoreError::BadUrl(format!("{url}: {e}")))?;
                let description = format!("SQLite {}", options.get_filename().display());
                (sqlite_pool(options), description)
            }
            Some(url) => return Err(StoreError::BadUrl(redacted(url))),
            None => {
                std::fs::create_dir_all(index_dir).map_err(|source| StoreError::Directory {
                    path: index_dir.display().to_string(),
                    source,
                })?;
                let path = index_dir.join(SQLITE_FILE);
                let description = format!("SQLite {}", path.display());
                (
                    sqlite_pool(SqliteConnectOptions::new().filename(path)),
                    description,
                )
            }
        };
        Ok(ReportStore {
            inner: Arc::new(Inner {
                pool,
                salt: OnceCell::new(),
                description,
                writer: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// "SQLite index/reports.sqlite", "PostgreSQL db.internal:5432/ketadir"
    /// (never a password), for logs.
    pub fn description(&self) -> &str {
        &self.inner.description
    }

    fn is_postgres(&self) -> bool {
        matches!(self.inner.pool, Pool::Postgres(_))
    }

    /// This process's turn to write, on SQLite (see [`Inner::writer`]).
    async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.inner.pool {
            Pool::Sqlite(_) => Some(self.inner.writer.lock().await),
            Pool::Postgres(_) => None,
        }
    }

    /// Runs the migrations and reads (or, on a new database, writes) the
    /// installation's salt, once; later calls return at once. A failure is
    /// retried by the next call.
    pub async fn ready(&self) -> Result<(), StoreError> {
        self.salt().await.map(|_| ())
    }

    async fn salt(&self) -> Result<&str, StoreError> {
        let salt = self
            .inner
            .salt
            .get_or_try_init(|| async {
                on_pool!(self, pool => {
                    if self.is_postgres() {
                        POSTGRES_MIGRATIONS.run(pool).await?;
                    } else {
                        SQLITE_MIGRATIONS.run(pool).await?;
                    }
                    let fresh = new_salt().map_err(|e| StoreError::Random(e.to_string()))?;
                    // The first server to get here writes it; every other
                    // one (and every later start) reads the same value.
                    sqlx::query(
                        "INSERT INTO report_settings (name, value) VALUES ($1, $2) \
                         ON CONFLICT (name) DO NOTHING",
                    )
                    .bind(SALT_SETTING)
                    .bind(&fresh)
                    .execute(pool)
                    .await?;
                    let (salt,): (String,) =
                        sqlx::query_as("SELECT value FROM report_settings WHERE name = $1")
                            .bind(SALT_SETTING)
                            .fetch_one(pool)
                            .await?;
                    Ok::<String, StoreError>(salt)
                })
            })
            .await?;
        Ok(salt.as_str())
    }

    /// Stores a report of `provider_id` (which the caller has checked is
    /// listed) from `client`, unless it is a repeat or the client is over
    /// its hourly limit. `now` is Unix seconds.
    pub async fn submit(
        &self,
        provider_id: &str,
        client: Option<IpAddr>,
        submission: &Submission,
        now: i64,
    ) -> Result<Submitted, StoreError> {
        let hash = client_hash(self.salt().await?, client);
        // 60 bits of the hash: the advisory lock's key on PostgreSQL.
        let lock_key = i64::from_str_radix(&hash[..15], 16)
            .map_err(|e| StoreError::Corrupt(format!("client hash: {e}")))?;
        let id = new_report_id()?;
        let _turn = self.write_turn().await;
        on_pool!(self, pool => {
            let mut tx = if self.is_postgres() {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(lock_key)
                    .execute(&mut *tx)
                    .await?;
                tx
            } else {
                // Takes SQLite's write lock now, not at the first write,
                // so that two submissions cannot both read, then write.
                pool.begin_with("BEGIN IMMEDIATE").await?
            };
            // Everything the decision needs in one query (each statement is
            // a round trip to SQLite's worker thread): the client's reports
            // of the last 24 hours, one row per reason.
            let rows: Vec<ClientRow> = sqlx::query_as(
                "SELECT r.id, r.status, r.provider_id, r.created_at, rr.reason FROM reports r \
                 LEFT JOIN report_reasons rr ON rr.report_id = r.id \
                 WHERE r.client_hash = $1 AND r.created_at > $2 \
                 ORDER BY r.created_at DESC, r.id DESC",
            )
            .bind(&hash)
            .bind(now - REPEAT_WINDOW_SECONDS)
            .fetch_all(&mut *tx)
            .await?;
            let decision = decide(&rows, provider_id, submission, now)?;
            let fresh = match decision {
                Decision::Store(fresh) => fresh,
                Decision::Answer(answer) => {
                    tx.rollback().await?;
                    return Ok(answer);
                }
            };
            let slugs: Vec<&str> = fresh.iter().map(|r| r.slug()).collect();
            // The report and its reason rows (at most 8). SQLite takes both
            // statements in one call, one trip to its worker thread inside
            // the write turn ($N names an argument in either statement);
            // PostgreSQL prepares them one by one.
            let report = "INSERT INTO reports \
                 (id, provider_id, reasons, details, status, client_hash, created_at) \
                 VALUES ($1, $2, $3, $4, 'open', $5, $6)";
            let first_reason = if self.is_postgres() { 2 } else { 7 };
            let values: Vec<String> = (0..slugs.len())
                .map(|n| format!("($1, ${})", n + first_reason))
                .collect();
            let reasons = format!(
                "INSERT INTO report_reasons (report_id, reason) VALUES {}",
                values.join(", ")
            );
            let insert_report = |sql| {
                sqlx::query(sql)
                    .bind(&id)
                    .bind(provider_id)
                    .bind(slugs.join(","))
                    .bind(submission.details.as_deref())
                    .bind(&hash)
                    .bind(now)
            };
            if self.is_postgres() {
                insert_report(report).execute(&mut *tx).await?;
                let mut query = sqlx::query(&reasons).bind(&id);
                for slug in &slugs {
                    query = query.bind(*slug);
                }
                query.execute(&mut *tx).await?;
            } else {
                let both = format!("{report}; {reasons}");
                let mut query = insert_report(&both);
                for slug in &slugs {
                    query = query.bind(*slug);
                }
                query.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(Submitted::Stored { id, reasons: fresh })
        })
    }

    /// Reports by status, oldest first.
    pub async fn list(&self, filter: StatusFilter) -> Result<Vec<Report>, StoreError> {
        self.salt().await?;
        let status = match filter {
            StatusFilter::Open => Some("open"),
            StatusFilter::Resolved => Some("resolved"),
            StatusFilter::All => None,
        };
        let rows: Vec<ReportRow> = on_pool!(self, pool => {
            match status {
                Some(status) => sqlx::query_as(&format!(
                    "SELECT {REPORT_COLUMNS} FROM reports WHERE status = $1 ORDER BY created_at, id"
                ))
                .bind(status)
                .fetch_all(pool)
                .await?,
                None => sqlx::query_as(&format!(
                    "SELECT {REPORT_COLUMNS} FROM reports ORDER BY created_at, id"
                ))
                .fetch_all(pool)
                .await?,
            }
        });
        reports_of(rows)
    }

    /// The `limit` most recently resolved reports, newest first.
    pub async fn recently_resolved(&self, limit: u32) -> Result<Vec<Report>, StoreError> {
        self.salt().await?;
        let rows: Vec<ReportRow> = on_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT {REPORT_COLUMNS} FROM reports WHERE status = 'resolved' \
                 ORDER BY resolved_at DESC, id LIMIT $1"
            ))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        });
        reports_of(rows)
    }

    /// One report by id.
    pub async fn get(&self, id: &str) -> Result<Option<Report>, StoreError> {
        if !is_report_id(id) {
            return Ok(None);
        }
        self.salt().await?;
        let row: Option<ReportRow> = on_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT {REPORT_COLUMNS} FROM reports WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(report_of).transpose()
    }

    /// Resolves an open report as `fixed` or `dismissed` with an optional
    /// note (already checked: [`super::clean_note`]).
    pub async fn resolve(
        &self,
        id: &str,
        resolution: Resolution,
        note: Option<&str>,
        now: i64,
    ) -> Result<Resolved, StoreError> {
        if !is_report_id(id) {
            return Ok(Resolved::NotFound);
        }
        self.salt().await?;
        let turn = self.write_turn().await;
        let changed = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE reports SET status = 'resolved', resolution = $2, note = $3, resolved_at = $4 \
                 WHERE id = $1 AND status = 'open'",
            )
            .bind(id)
            .bind(resolution.as_str())
            .bind(note)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        drop(turn);
        Ok(match (changed, self.get(id).await?) {
            (_, None) => Resolved::NotFound,
            (0, Some(report)) => Resolved::AlreadyResolved(report),
            (_, Some(report)) => Resolved::Done(report),
        })
    }

    /// The providers that have open reports.
    pub async fn open_provider_ids(&self) -> Result<Vec<String>, StoreError> {
        self.salt().await?;
        let rows: Vec<(String,)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT DISTINCT provider_id FROM reports WHERE status = 'open'")
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Closes the open reports of providers that `generation` dropped, as
    /// `listing_removed` with its number; returns how many. Idempotent:
    /// only open reports change.
    pub async fn close_listing_removed(
        &self,
        provider_ids: &[String],
        generation: u64,
        now: i64,
    ) -> Result<u64, StoreError> {
        if provider_ids.is_empty() {
            return Ok(0);
        }
        self.salt().await?;
        let generation = i64::try_from(generation)
            .map_err(|_| StoreError::Corrupt(format!("generation {generation}")))?;
        let _turn = self.write_turn().await;
        on_pool!(self, pool => {
            let mut tx = if self.is_postgres() {
                pool.begin().await?
            } else {
                pool.begin_with("BEGIN IMMEDIATE").await?
            };
            let mut closed = 0;
            for provider_id in provider_ids {
                closed += sqlx::query(
                    "UPDATE reports SET status = 'resolved', resolution = 'listing_removed', \
                     generation = $1, resolved_at = $2 WHERE provider_id = $3 AND status = 'open'",
                )
                .bind(generation)
                .bind(now)
                .bind(provider_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            tx.commit().await?;
            Ok(closed)
        })
    }

    /// Clears the client hashes that neither the hourly limit nor the
    /// 24-hour repeat check needs any more; returns how many.
    pub async fn forget_client_hashes(&self, now: i64) -> Result<u64, StoreError> {
        self.salt().await?;
        let _turn = self.write_turn().await;
        Ok(on_pool!(self, pool => {
            sqlx::query(
                "UPDATE reports SET client_hash = NULL \
                 WHERE client_hash IS NOT NULL AND created_at <= $1",
            )
            .bind(now - super::CLIENT_HASH_KEPT_SECONDS)
            .execute(pool)
            .await?
            .rows_affected()
        }))
    }

    /// Open reports, the oldest one's age, and all reports by reason.
    pub async fn stats(&self, now: i64) -> Result<QueueStats, StoreError> {
        self.salt().await?;
        let ((open, oldest), by_reason): (OpenRow, Vec<ReasonRow>) = on_pool!(self, pool => {
            let open = sqlx::query_as(
                "SELECT COUNT(*), MIN(created_at) FROM reports WHERE status = 'open'",
            )
            .fetch_one(pool)
            .await?;
            let by_reason =
                sqlx::query_as("SELECT reason, COUNT(*) FROM report_reasons GROUP BY reason")
                    .fetch_all(pool)
                    .await?;
            (open, by_reason)
        });
        let count = |reason: Reason| {
            by_reason
                .iter()
                .find(|(slug, _)| slug == reason.slug())
                .map_or(0, |(_, n)| u64::try_from(*n).unwrap_or(0))
        };
        Ok(QueueStats {
            open: u64::try_from(open).unwrap_or(0),
            oldest_open_age_seconds: oldest.map(|at| u64::try_from(now - at).unwrap_or(0)),
            by_reason: Reason::ALL.map(|r| (r, count(r))).to_vec(),
        })
    }

    /// Closes the pool's connections (a server that stops).
    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}

fn sqlite_pool(options: SqliteConnectOptions) -> Pool {
    let options = options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // WAL with NORMAL: a commit is in the WAL (the OS has it) before
        // the report is acknowledged, so a killed server loses nothing it
        // acknowledged; only a power cut or OS crash can lose the last
        // commits (never corrupt the file). FULL would fsync every commit,
        // and under disk contention that stalled submissions for seconds
        // (BENCHMARKS.md). PostgreSQL commits durably.
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(WAIT)
        .foreign_keys(true);
    Pool::Sqlite(
        SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(WAIT)
            .connect_lazy_with(options),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_never_show_their_password() {
        assert_eq!(
            redacted("postgres://ketadir:s3cret@db:5432/ketadir"),
            "postgres://ketadir:***@db:5432/ketadir"
        );
        assert_eq!(redacted("postgres://db/ketadir"), "postgres://db/ketadir");
        let settings = DatabaseSettings {
            url: Some("postgres://u:hunter2@h/d".into()),
        };
        assert!(!format!("{settings:?}").contains("hunter2"));
    }

    #[test]
    fn report_ids_are_checked_before_any_query() {
        let id = new_report_id().expect("random");
        assert!(is_report_id(&id), "{id}");
        for bad in [
            "",
            "r-",
            "r-0123456789ABCDEF",
            "r-0123456789abcde\u{0}",
            "x-0123456789abcdef",
            "r-0123456789abcdef0",
        ] {
            assert!(!is_report_id(bad), "{bad:?}");
        }
    }

    fn row(id: &str, provider: &str, at: i64, reason: &str) -> ClientRow {
        (
            id.into(),
            "open".into(),
            provider.into(),
            at,
            Some(reason.into()),
        )
    }

    fn submission(reasons: &[Reason]) -> Submission {
        Submission {
            reasons: reasons.to_vec(),
            details: None,
        }
    }

    #[test]
    fn repeats_are_per_provider_and_reason_then_the_hour_counts() {
        let now = 100_000;
        let rows = [
            row("r-b", "p-1", now - 10, "price"),
            row("r-a", "p-1", now - 20, "phone"),
            row("r-a", "p-1", now - 20, "price"),
        ];
        let only_repeats = decide(
            &rows,
            "p-1",
            &submission(&[Reason::Phone, Reason::Price]),
            now,
        );
        assert_eq!(
            only_repeats.expect("decides"),
            Decision::Answer(Submitted::Repeat {
                id: "r-a".into(),
                status: Status::Open
            }),
            "the report of the first reason, phone"
        );
        assert_eq!(
            decide(
                &rows,
                "p-1",
                &submission(&[Reason::Price, Reason::Closed]),
                now
            )
            .expect("decides"),
            Decision::Store(vec![Reason::Closed])
        );
        assert_eq!(
            decide(&rows, "p-2", &submission(&[Reason::Price]), now).expect("decides"),
            Decision::Store(vec![Reason::Price]),
            "another provider is not a repeat"
        );
        // Five reports within the hour (one of them two rows): the sixth waits
        // until the oldest of the five is an hour old.
        let mut busy: Vec<ClientRow> = (0..5)
            .map(|n| {
                row(
                    &format!("r-{n}"),
                    &format!("p-{n}"),
                    now - 100 * (5 - n),
                    "phone",
                )
            })
            .collect();
        busy.push(row("r-0", "p-0", now - 500, "price"));
        busy.push(row("r-old", "p-9", now - LIMIT_WINDOW_SECONDS - 1, "phone"));
        assert_eq!(
            decide(&busy, "p-7", &submission(&[Reason::Phone]), now).expect("decides"),
            Decision::Answer(Submitted::Limited {
                retry_after_seconds: (LIMIT_WINDOW_SECONDS - 500) as u64
            })
        );
        busy.retain(|(id, ..)| id != "r-0");
        assert_eq!(
            decide(&busy, "p-7", &submission(&[Reason::Phone]), now).expect("decides"),
            Decision::Store(vec![Reason::Phone]),
            "four reports within the hour leave room for a fifth"
        );
    }

    #[test]
    fn other_schemes_are_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = DatabaseSettings {
            url: Some("mysql://u:p@h/d".into()),
        };
        let error = ReportStore::connect_lazy(&settings, dir.path()).expect_err("refused");
        assert!(error.to_string().contains("postgres://"), "{error}");
        assert!(!error.to_string().contains(":p@"), "{error}");
    }
}
