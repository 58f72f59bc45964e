//! Server start-up: assembles the served index, the HTTP settings and the
//! routes into a running server. No request handling lives here.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, web};

use crate::geo::gazetteer::Gazetteer;
use crate::index::{
    ImportOptions, IndexDir, IndexError, ServedIndex, import_csv_locked, upgrade_current,
};
use crate::reports::{DatabaseSettings, ReportStore, StoreError};
use crate::routes;
use crate::routes::admin::AdminSettings;
use crate::routes::caching::CachePolicy;
use crate::routes::client_ip::TrustedProxies;
use crate::routes::rate_limit::{RateLimitSettings, RateLimits};

/// Settings of `ketadir serve`.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    pub addr: String,
    pub index_dir: PathBuf,
    /// CSV to build the first generation from when the index is empty.
    pub data: PathBuf,
    pub http: HttpSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the bundled data {path}: {source}")]
    Data {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the first import from {path} was rejected: {reason}")]
    FirstImportRejected { path: String, reason: String },
    /// Published generations on disk, but no `CURRENT` (deleted by hand?).
    #[error("{}", no_pointer_message(.dir, .generations))]
    NoPointer { dir: String, generations: Vec<u64> },
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("the report queue's database ({database}) cannot be used: {source}")]
    Reports {
        database: String,
        #[source]
        source: StoreError,
    },
    #[error("server error: {0}")]
    Server(#[from] std::io::Error),
}

/// Builds the first generation from `data` when the index directory has
/// none; rebuilds the published one when an older ketadir built it, and
/// refuses one built by a newer ketadir (see [`upgrade_current`]).
///
/// With no `CURRENT`, it takes the import lock, waiting while another
/// process holds it (another server building the first generation, or a
/// CLI import), then looks again: a generation published meanwhile is
/// served; published generations without a `CURRENT` pointer are an error
/// ([`StartupError::NoPointer`]), never built over from `data`; an empty
/// directory (or one holding only never-published builds) gets its first
/// generation, built here. It never waits for a pointer that no running
/// import will write.
pub fn ensure_index(index_dir: &IndexDir, data: &std::path::Path) -> Result<(), StartupError> {
    if index_dir.current()?.is_some() {
        return upgrade_index(index_dir);
    }
    let lock = index_dir.lock_imports_waiting(|| {
        tracing::info!(
            index_dir = %index_dir.root().display(),
            "no index yet, and another import is running on the index directory: waiting for it to finish"
        );
    })?;
    // Under the lock nothing is half-published: what is there is final.
    if index_dir.current()?.is_some() {
        drop(lock);
        return upgrade_index(index_dir);
    }
    let stranded = index_dir.unpointed_generations()?;
    if !stranded.is_empty() {
        return Err(StartupError::NoPointer {
            dir: index_dir.root().display().to_string(),
            generations: stranded,
        });
    }
    tracing::info!(data = %data.display(), "no index yet: building one");
    let file = std::fs::File::open(data).map_err(|source| StartupError::Data {
        path: data.display().to_string(),
        source,
    })?;
    let options = ImportOptions {
        source: data.file_name().map(|n| n.to_string_lossy().into_owned()),
        ..ImportOptions::default()
    };
    let outcome = import_csv_locked(
        index_dir,
        &lock,
        std::io::BufReader::new(file),
        &options,
        |_| {},
    )?;
    drop(lock);
    crate::metrics::record_outcome(&outcome);
    if let Some(rejection) = outcome.rejection {
        return Err(StartupError::FirstImportRejected {
            path: data.display().to_string(),
            reason: rejection.to_string(),
        });
    }
    tracing::info!(
        documents = outcome.documents,
        seconds = outcome.seconds,
        "first generation built"
    );
    Ok(())
}

/// The message of [`StartupError::NoPointer`].
fn no_pointer_message(dir: &str, generations: &[u64]) -> String {
    let list = generations
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let newest = generations.last().copied().unwrap_or_default();
    let (noun, newest_name) = (
        if generations.len() == 1 {
            "generation"
        } else {
            "generations"
        },
        crate::index::generations::generation_name(newest),
    );
    format!(
        "{dir} has {noun} {list} but no CURRENT pointer naming the one to serve, and `serve` does not build over them from --data; \
         import the provider CSV again with `ketadir --index-dir {dir} index <CSV>`, \
         or serve generation {newest} again by writing {newest_name} into {dir}/CURRENT"
    )
}

/// Makes the published generation one of this binary's index format.
fn upgrade_index(index_dir: &IndexDir) -> Result<(), StartupError> {
    if let Some(outcome) = upgrade_current(index_dir)? {
        crate::metrics::record_outcome(&outcome);
    }
    Ok(())
}

/// HTTP behaviour that operators tune.
#[derive(Debug, Clone, Default)]
pub struct HttpSettings {
    pub cache: CachePolicy,
    pub rate_limits: RateLimitSettings,
    pub admin: AdminSettings,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
    /// The report queue's database: SQLite in the index directory unless
    /// a URL is given (`KETADIR_DATABASE_URL`).
    pub database: DatabaseSettings,
}

/// Starts the HTTP server on a bound listener (port 0 in tests).
pub fn run(listener: TcpListener, state: Arc<ServedIndex>) -> Result<Server, StartupError> {
    run_with(listener, state, HttpSettings::default())
}

/// [`run`] with explicit HTTP settings.
pub fn run_with(
    listener: TcpListener,
    state: Arc<ServedIndex>,
    settings: HttpSettings,
) -> Result<Server, StartupError> {
    // Parse the embedded place files now rather than in the first request
    // that names a place.
    Gazetteer::get();
    // The report queue: connected lazily and migrated before its first
    // query; the sweeper (on this runtime) starts on it at once and keeps
    // it in step with the served generation (reports::sweep).
    let store = ReportStore::connect_lazy(&settings.database, state.index_dir.root()).map_err(
        |source| StartupError::Reports {
            database: settings.database.describe(),
            source,
        },
    )?;
    actix_web::rt::spawn(crate::reports::sweep::follow(
        Arc::downgrade(&state),
        store.clone(),
    ));
    let reports = web::Data::new(store);
    let data = web::Data::from(state);
    let cache = web::Data::new(settings.cache);
    // One set of buckets for all workers.
    let limits = web::Data::new(RateLimits::new(settings.rate_limits));
    let admin = web::Data::new(settings.admin);
    let proxies = web::Data::new(settings.trusted_proxies);
    // Every connection goes through the front door, which answers request
    // heads actix could not parse in our own words (routes::front_door).
    let app = move || {
        App::new()
            .app_data(data.clone())
            .app_data(cache.clone())
            .app_data(limits.clone())
            .app_data(admin.clone())
            .app_data(proxies.clone())
            .app_data(reports.clone())
            .configure(routes::configure)
            .wrap(actix_web::middleware::from_fn(routes::metrics::observe))
            .wrap(tracing_actix_web::TracingLogger::<
                routes::access_log::AccessLog,
            >::new())
    };
    let server = routes::front_door::serve(
        listener,
        app,
        crate::shutdown::signal(),
        crate::shutdown::TIMEOUT_SECONDS,
    )?;
    Ok(server)
}

/// `ketadir serve`: build the index if needed, then serve until stopped.
pub fn serve(settings: &ServeSettings) -> Result<(), StartupError> {
    let index_dir = IndexDir::new(&settings.index_dir);
    ensure_index(&index_dir, &settings.data)?;
    let state = ServedIndex::open(index_dir)?;
    state.watch();
    let listener = TcpListener::bind(&settings.addr).map_err(|source| StartupError::Bind {
        addr: settings.addr.clone(),
        source,
    })?;
    tracing::info!(addr = %listener.local_addr()?, "listening");
    actix_web::rt::System::new().block_on(async move {
        // The report database must answer (and be migrated) before the
        // server takes requests: a wrong URL or password stops it here.
        let probe = ReportStore::connect_lazy(&settings.http.database, &settings.index_dir)
            .map_err(|source| StartupError::Reports {
                database: settings.http.database.describe(),
                source,
            })?;
        // Two replicas starting at once on a new SQLite file can race to
        // create the tables (PostgreSQL's migrations take a lock): the one
        // that loses looks again.
        let mut attempts = 0;
        while let Err(source) = probe.ready().await {
            attempts += 1;
            if attempts == 3 {
                return Err(StartupError::Reports {
                    database: probe.description().to_string(),
                    source,
                });
            }
            tracing::warn!(error = %source, "the report database is not ready; trying again");
            actix_web::rt::time::sleep(std::time::Duration::from_secs(1)).await;
        }
        tracing::info!(database = probe.description(), "report queue ready");
        probe.close().await;
        let server = run_with(listener, Arc::clone(&state), settings.http.clone())?;
        server.await?;
        state.stop_watching();
        Ok(())
    })
}
