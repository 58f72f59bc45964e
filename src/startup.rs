//! Application state and server start-up.
//!
//! [`AppState`] holds the served generation behind an `ArcSwap`: a request
//! takes the current `Arc<Generation>` once and keeps it to the end, so a
//! swap never mixes generations within a response. A watcher thread polls
//! `CURRENT` and swaps in generations published by any process.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use arc_swap::ArcSwapOption;

use crate::geo::gazetteer::Gazetteer;
use crate::index::{Generation, ImportOptions, IndexDir, IndexError, import_csv};
use crate::routes;
use crate::routes::admin::AdminSettings;
use crate::routes::caching::CachePolicy;
use crate::routes::client_ip::TrustedProxies;
use crate::routes::rate_limit::{RateLimitSettings, RateLimits};

/// How often a server checks for a newly published generation.
pub const PICKUP_INTERVAL: Duration = Duration::from_secs(1);

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
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("server error: {0}")]
    Server(#[from] std::io::Error),
}

/// What every request handler shares.
pub struct AppState {
    pub index_dir: IndexDir,
    current: ArcSwapOption<Generation>,
    stop_watching: AtomicBool,
}

impl AppState {
    /// Opens the served generation, if there is one.
    pub fn open(index_dir: IndexDir) -> Result<Arc<AppState>, IndexError> {
        let state = Arc::new(AppState {
            index_dir,
            current: ArcSwapOption::empty(),
            stop_watching: AtomicBool::new(false),
        });
        state.refresh()?;
        Ok(state)
    }

    /// The generation to answer the next request from.
    pub fn generation(&self) -> Option<Arc<Generation>> {
        self.current.load_full()
    }

    /// Swaps in the generation `CURRENT` names, if it is not the served one.
    /// The new one is opened and warmed before the swap.
    pub fn refresh(&self) -> Result<bool, IndexError> {
        let Some(wanted) = self.index_dir.current()? else {
            return Ok(false);
        };
        if self.generation().is_some_and(|g| g.number() == wanted) {
            return Ok(false);
        }
        let generation = Generation::open(&self.index_dir, wanted)?;
        tracing::info!(
            generation = wanted,
            documents = generation.meta.documents,
            "serving generation"
        );
        self.current.store(Some(Arc::new(generation)));
        Ok(true)
    }

    /// Polls for new generations on a background thread until dropped.
    pub fn watch(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("generation-watcher".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(PICKUP_INTERVAL);
                    let Some(state) = weak.upgrade() else { return };
                    if state.stop_watching.load(Ordering::Relaxed) {
                        return;
                    }
                    if let Err(error) = state.refresh() {
                        tracing::error!(%error, "could not pick up the published generation");
                    }
                }
            });
        if let Err(error) = spawned {
            tracing::error!(%error, "could not start the generation watcher");
        }
    }

    pub fn stop_watching(&self) {
        self.stop_watching.store(true, Ordering::Relaxed);
    }
}

/// Builds the first generation from `data` when the index directory has none.
pub fn ensure_index(index_dir: &IndexDir, data: &std::path::Path) -> Result<(), StartupError> {
    if index_dir.current()?.is_some() {
        return Ok(());
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
    let outcome = match import_csv(index_dir, std::io::BufReader::new(file), &options, |_| {}) {
        // Another server started at the same time and is building it.
        Err(IndexError::ImportInProgress) => {
            while index_dir.current()?.is_none() {
                std::thread::sleep(Duration::from_millis(200));
            }
            return Ok(());
        }
        other => other?,
    };
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

/// HTTP behaviour that operators tune.
#[derive(Debug, Clone, Default)]
pub struct HttpSettings {
    pub cache: CachePolicy,
    pub rate_limits: RateLimitSettings,
    pub admin: AdminSettings,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
}

/// Starts the HTTP server on a bound listener (port 0 in tests).
pub fn run(listener: TcpListener, state: Arc<AppState>) -> Result<Server, StartupError> {
    run_with(listener, state, HttpSettings::default())
}

/// [`run`] with explicit HTTP settings.
pub fn run_with(
    listener: TcpListener,
    state: Arc<AppState>,
    settings: HttpSettings,
) -> Result<Server, StartupError> {
    // Parse the embedded place files now rather than in the first request
    // that names a place.
    Gazetteer::get();
    let data = web::Data::from(state);
    let cache = web::Data::new(settings.cache);
    // One set of buckets for all workers.
    let limits = web::Data::new(RateLimits::new(settings.rate_limits));
    let admin = web::Data::new(settings.admin);
    let proxies = web::Data::new(settings.trusted_proxies);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(cache.clone())
            .app_data(limits.clone())
            .app_data(admin.clone())
            .app_data(proxies.clone())
            .configure(routes::configure)
            .wrap(actix_web::middleware::from_fn(routes::metrics::observe))
            .wrap(tracing_actix_web::TracingLogger::default())
    })
    .shutdown_signal(crate::shutdown::signal())
    .shutdown_timeout(crate::shutdown::TIMEOUT_SECONDS)
    .listen(listener)?
    .run();
    Ok(server)
}

/// `ketadir serve`: build the index if needed, then serve until stopped.
pub fn serve(settings: &ServeSettings) -> Result<(), StartupError> {
    let index_dir = IndexDir::new(&settings.index_dir);
    ensure_index(&index_dir, &settings.data)?;
    let state = AppState::open(index_dir)?;
    state.watch();
    let listener = TcpListener::bind(&settings.addr).map_err(|source| StartupError::Bind {
        addr: settings.addr.clone(),
        source,
    })?;
    tracing::info!(addr = %listener.local_addr()?, "listening");
    actix_web::rt::System::new().block_on(async move {
        let server = run_with(listener, Arc::clone(&state), settings.http.clone())?;
        server.await?;
        state.stop_watching();
        Ok(())
    })
}
