//! The command line: `serve`, `index`, `check`, `search`, `rollback`.
//!
//! Argument types live here so that `main.rs` stays a thin shell. Search
//! flags are turned into the same name/value pairs as a query string and
//! parsed by [`SearchRequest::from_pairs`], so the CLI shares the API's rules.

use std::fs::File;
use std::io::{BufReader, IsTerminal, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crate::index::{Generation, ImportOptions, IndexDir, IndexError, import_csv};
use crate::ingest::{self, IngestError};
use crate::routes::admin::AdminSettings;
use crate::routes::caching::CachePolicy;
use crate::routes::client_ip::TrustedProxies;
use crate::routes::rate_limit::{KeysFileError, RateLimitSettings};
use crate::search::params::{Kind, PARAMS, Param};
use crate::search::{self, SearchError, SearchRequest, SearchResponse};
use crate::startup::{self, HttpSettings, ServeSettings, StartupError};

#[derive(Debug, Parser)]
#[command(
    name = "ketadir",
    version,
    about = "Search service for ketamine-therapy providers"
)]
pub struct Cli {
    /// Directory of index generations.
    #[arg(
        long,
        env = "KETADIR_INDEX_DIR",
        default_value = "index",
        global = true
    )]
    pub index_dir: PathBuf,
    /// Log lines on stderr as text or as one JSON object per line.
    #[arg(
        long,
        env = "KETADIR_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text,
        global = true
    )]
    pub log_format: LogFormat,
    /// `serve`'s options, for when no command is given.
    #[command(flatten)]
    pub serve: ServeArgs,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// How `main` formats log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the JSON API (building the index from --data when there is none).
    Serve(ServeArgs),
    /// Validate a CSV and publish it as a new index generation.
    Index(IndexArgs),
    /// Validate a CSV and print the report, without indexing.
    Check(CheckArgs),
    /// Search the served generation from the terminal.
    Search(Box<SearchArgs>),
    /// Serve the previous generation again.
    Rollback,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "KETADIR_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// CSV to build the first generation from when the index is empty.
    #[arg(long, env = "KETADIR_DATA", default_value = "data/providers.csv")]
    pub data: PathBuf,
    /// `Cache-Control: max-age` of API answers, in seconds.
    #[arg(long, env = "KETADIR_CACHE_MAX_AGE", default_value_t = 60)]
    pub cache_max_age: u32,
    /// API requests per minute per client IP (0: no limit).
    #[arg(long, env = "KETADIR_RATE_LIMIT", default_value_t = 600)]
    pub rate_limit: u32,
    /// File of `KEY REQUESTS_PER_MINUTE` lines: partners' API keys.
    #[arg(long, env = "KETADIR_API_KEYS")]
    pub api_keys: Option<PathBuf>,
    /// Limit loopback clients too (they are exempt by default).
    #[arg(long, env = "KETADIR_RATE_LIMIT_LOOPBACK")]
    pub rate_limit_loopback: bool,
    /// Bearer token of `/admin`; without one `/admin` does not exist.
    /// Set it in the environment, not on the command line.
    #[arg(long, env = "KETADIR_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Largest CSV upload to `/admin/reindex`, in bytes.
    #[arg(long, env = "KETADIR_MAX_UPLOAD_BYTES", default_value_t = 50 * 1024 * 1024)]
    pub max_upload_bytes: u64,
    /// Seconds an admin upload may send nothing before it is aborted (and
    /// the import lock released).
    #[arg(long, env = "KETADIR_UPLOAD_IDLE_TIMEOUT", default_value_t = 30)]
    pub upload_idle_timeout: u64,
    /// Seconds an admin upload may take in all.
    #[arg(long, env = "KETADIR_UPLOAD_TIMEOUT", default_value_t = 900)]
    pub upload_timeout: u64,
    /// A proxy (IP address) whose `X-Forwarded-For` names the client, for
    /// the per-client limits; repeatable, or comma-separated in the variable.
    #[arg(
        long = "trusted-proxy",
        env = "KETADIR_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<IpAddr>,
    /// The report queue's database: `postgres://user:password@host/db`
    /// (what replicas share); without it, `reports.sqlite` in the index
    /// directory. Set it in the environment, not on the command line.
    #[arg(long, env = "KETADIR_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// The provider CSV (docs/csv.md).
    pub csv: PathBuf,
    /// Publish the valid rows even when some rows are invalid.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Publish even when the directory would lose more than 20 % of providers.
    #[arg(long)]
    pub allow_shrink: bool,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The provider CSV (docs/csv.md).
    pub csv: PathBuf,
    /// Print the report as JSON (docs/csv.md's shape).
    #[arg(long)]
    pub json: bool,
}

/// The search parameters as flags: one per row of
/// [`search::params::PARAMS`] (`min_rating` is `--min-rating`), so the CLI
/// cannot miss a parameter the API has. Flags that are off unless given
/// (`--telehealth`) are switches; every other flag takes a value, and a
/// repeatable parameter may be given several times.
#[derive(Debug, Default)]
pub struct SearchArgs {
    /// The flags given, as query-string pairs.
    pub pairs: Vec<(&'static str, String)>,
    /// Print the API's JSON instead of a table.
    pub json: bool,
}

/// A parameter's flag is a switch when it is a flag that is off by default.
fn is_switch(param: &Param) -> bool {
    matches!(param.kind, Kind::Flag { default: false })
}

impl clap::FromArgMatches for SearchArgs {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut args = SearchArgs::default();
        args.update_from_arg_matches(matches)?;
        Ok(args)
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        for param in PARAMS {
            if is_switch(param) {
                if matches.get_flag(param.name) {
                    self.pairs.push((param.name, "true".into()));
                }
            } else if let Some(values) = matches.get_many::<String>(param.name) {
                self.pairs
                    .extend(values.map(|value| (param.name, value.clone())));
            }
        }
        self.json = matches.get_flag("json");
        Ok(())
    }
}

impl Args for SearchArgs {
    fn augment_args(command: clap::Command) -> clap::Command {
        let command = PARAMS.iter().fold(command, |command, param| {
            // clap keeps flag names for the life of the program; the table's
            // names are static but its kebab-case spellings are made here once.
            let long: &'static str = Box::leak(param.name.replace('_', "-").into_boxed_str());
            let arg = clap::Arg::new(param.name).long(long).help(param.help);
            let arg = if is_switch(param) {
                arg.action(clap::ArgAction::SetTrue)
            } else if param.kind.is_repeatable() {
                arg.action(clap::ArgAction::Append)
                    .value_name("VALUE")
                    .allow_hyphen_values(true)
            } else {
                arg.action(clap::ArgAction::Set)
                    .value_name("VALUE")
                    .allow_hyphen_values(true)
            };
            command.arg(arg)
        });
        command.arg(
            clap::Arg::new("json")
                .long("json")
                .help("Print the API's JSON instead of a table.")
                .action(clap::ArgAction::SetTrue),
        )
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        Self::augment_args(command)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("cannot open {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error(transparent)]
    Keys(#[from] KeysFileError),
    #[error("{0}")]
    Search(String),
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

impl From<SearchError> for CliError {
    fn from(error: SearchError) -> Self {
        match error {
            SearchError::InvalidParams(params) => CliError::Search(
                params
                    .iter()
                    .map(|p| format!("--{}: {}", p.name.replace('_', "-"), p.reason))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            other => CliError::Search(other.to_string()),
        }
    }
}

fn open(path: &PathBuf) -> Result<BufReader<File>, CliError> {
    File::open(path)
        .map(BufReader::new)
        .map_err(|source| CliError::Open {
            path: path.display().to_string(),
            source,
        })
}

/// Runs a parsed command line; the exit code says whether it succeeded.
pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    let index_dir = IndexDir::new(&cli.index_dir);
    match cli.command {
        None => serve(&cli.index_dir, cli.serve),
        Some(Command::Serve(args)) => serve(&cli.index_dir, args),
        Some(Command::Index(args)) => index(&index_dir, &args),
        Some(Command::Check(args)) => check(&args),
        Some(Command::Search(args)) => search_command(&index_dir, &args),
        Some(Command::Rollback) => {
            let generation = index_dir.rollback()?;
            println!("now serving generation {generation}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn serve(index_dir: &std::path::Path, args: ServeArgs) -> Result<ExitCode, CliError> {
    let keys = match &args.api_keys {
        Some(path) => RateLimitSettings::read_keys(path)?,
        None => Default::default(),
    };
    startup::serve(&ServeSettings {
        addr: args.addr,
        index_dir: index_dir.to_path_buf(),
        data: args.data,
        http: HttpSettings {
            cache: CachePolicy {
                max_age_seconds: args.cache_max_age,
            },
            rate_limits: RateLimitSettings {
                per_ip_per_minute: args.rate_limit,
                keys,
                limit_loopback: args.rate_limit_loopback,
            },
            admin: AdminSettings {
                token: args.admin_token.filter(|t| !t.is_empty()),
                max_upload_bytes: args.max_upload_bytes,
                upload_idle_timeout: std::time::Duration::from_secs(
                    args.upload_idle_timeout.max(1),
                ),
                upload_timeout: std::time::Duration::from_secs(args.upload_timeout.max(1)),
                ..AdminSettings::default()
            },
            trusted_proxies: TrustedProxies(args.trusted_proxies.clone()),
            database: crate::reports::DatabaseSettings {
                url: args.database_url.filter(|url| !url.trim().is_empty()),
            },
        },
    })?;
    Ok(ExitCode::SUCCESS)
}

fn index(index_dir: &IndexDir, args: &IndexArgs) -> Result<ExitCode, CliError> {
    let input = open(&args.csv)?;
    // Unknown size (a pipe, a special file) just means no progress shown.
    let total_bytes = std::fs::metadata(&args.csv).map(|m| m.len()).unwrap_or(0);
    let mut progress = ImportProgress::new(&args.csv, total_bytes, std::io::stderr().is_terminal());
    let options = ImportOptions {
        skip_invalid: args.skip_invalid,
        allow_shrink: args.allow_shrink,
        source: args
            .csv
            .file_name()
            .map(|n| n.to_string_lossy().into_owned()),
    };
    // Counted like the server's imports, though nothing scrapes this
    // short-lived process: the registry is per process.
    let outcome = crate::metrics::track_import(|| {
        import_csv(index_dir, input, &options, |bytes| progress.update(bytes))
    });
    progress.finish();
    let outcome = outcome?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &outcome).map_err(std::io::Error::other)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", outcome.report.to_text())?;
        match (&outcome.generation, &outcome.rejection) {
            (Some(generation), _) => writeln!(
                out,
                "published generation {generation}: {} providers in {:.1} s",
                outcome.documents, outcome.seconds
            )?,
            (None, Some(rejection)) => writeln!(out, "rejected: {rejection}")?,
            (None, None) => {}
        }
    }
    Ok(if outcome.generation.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// How far `ketadir index` has read its CSV: a bar with rate and ETA on a
/// terminal; otherwise (logs, CI) a plain line at each tenth of the file.
enum ImportProgress {
    Bar(ProgressBar),
    Lines {
        name: String,
        total: u64,
        tenths_shown: u64,
    },
    /// The file's size is unknown: there is nothing to measure against.
    Silent,
}

impl ImportProgress {
    fn new(path: &Path, total: u64, terminal: bool) -> ImportProgress {
        let name = path.display().to_string();
        if total == 0 {
            return ImportProgress::Silent;
        }
        if !terminal {
            return ImportProgress::Lines {
                name,
                total,
                tenths_shown: 0,
            };
        }
        // `wide_bar` takes what the terminal width leaves, so the line
        // never wraps; the file name (not its path) keeps the rest short.
        let style = ProgressStyle::with_template(
            "reading {msg} [{wide_bar}] {binary_bytes}/{binary_total_bytes} \
             {binary_bytes_per_sec}, {eta} left",
        )
        // The template is a constant; should it ever be refused, the
        // default bar still shows progress.
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        let file_name = path
            .file_name()
            .map_or(name, |n| n.to_string_lossy().into_owned());
        let bar = ProgressBar::new(total)
            .with_style(style)
            .with_message(file_name);
        ImportProgress::Bar(bar)
    }

    /// `bytes`: how much of the file the import has read so far.
    fn update(&mut self, bytes: u64) {
        match self {
            ImportProgress::Bar(bar) => bar.set_position(bytes),
            ImportProgress::Lines {
                name,
                total,
                tenths_shown,
            } => {
                if let Some(line) = progress_line(name, bytes, *total, tenths_shown) {
                    // Progress is a courtesy: a closed stderr must not stop
                    // the import (`eprintln!` would panic).
                    let _ = writeln!(std::io::stderr(), "{line}");
                }
            }
            ImportProgress::Silent => {}
        }
    }

    /// Clears the bar, so the report starts on a clean line.
    fn finish(self) {
        if let ImportProgress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// The plain progress line for `bytes` read of `total`, when it completes a
/// tenth of the file not shown yet.
fn progress_line(name: &str, bytes: u64, total: u64, tenths_shown: &mut u64) -> Option<String> {
    let tenths = (u128::from(bytes) * 10 / u128::from(total.max(1))).min(10) as u64;
    if tenths <= *tenths_shown {
        return None;
    }
    *tenths_shown = tenths;
    const MIB: f64 = 1024.0 * 1024.0;
    Some(format!(
        "reading {name}: {} % ({:.1} of {:.1} MiB)",
        tenths * 10,
        bytes as f64 / MIB,
        total as f64 / MIB
    ))
}

fn check(args: &CheckArgs) -> Result<ExitCode, CliError> {
    let report = ingest::read_providers(open(&args.csv)?, |_| {})?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report).map_err(std::io::Error::other)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", report.to_text())?;
    }
    Ok(
        if report.errors.is_empty() && report.errors_not_listed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        },
    )
}

fn search_command(index_dir: &IndexDir, args: &SearchArgs) -> Result<ExitCode, CliError> {
    let request = SearchRequest::from_pairs(args.pairs.iter().map(|(n, v)| (*n, v.as_str())))
        .map_err(SearchError::InvalidParams)?;
    crate::index::upgrade_current(index_dir)?;
    let generation = Arc::new(Generation::open_current(index_dir)?);
    let response = search::search(&generation, &request)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &response).map_err(std::io::Error::other)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", results_table(&response))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A readable table of one page of results.
pub fn results_table(response: &SearchResponse) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let place = match &response.location {
        Some(location) => match location.radius_miles {
            Some(radius) => format!(" within {radius} miles of {}", location.label),
            None => format!(" in {}", location.label),
        },
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "{} providers{place}, sorted by {} (page {})",
        response.total, response.sort, response.page
    );
    let _ = writeln!(
        out,
        "{:>4}  {:<36} {:<24} {:>8} {:>14} {:>12}  id",
        "#", "name", "city", "miles", "rating", "price"
    );
    let first = (response.page as usize - 1) * response.per_page as usize;
    for (i, hit) in response.results.iter().enumerate() {
        let p = &hit.provider;
        let miles = hit
            .distance_miles
            .map(|d| format!("{d:.1}"))
            .unwrap_or_else(|| "-".into());
        let rating = match p.rating {
            Some(r) => format!("{:.2} ({r:.1}×{})", hit.adjusted_rating, p.review_count),
            None => "unrated".into(),
        };
        let price = match (p.price_min, p.price_max) {
            (Some(min), Some(max)) if min != max => format!("${min}–{max}"),
            (Some(min), _) => format!("${min}"),
            _ => "-".into(),
        };
        let name: String = p.name.chars().take(36).collect();
        let city: String = format!("{}, {}", p.city, p.state)
            .chars()
            .take(24)
            .collect();
        let _ = writeln!(
            out,
            "{:>4}  {name:<36} {city:<24} {miles:>8} {rating:>14} {price:>12}  {}",
            first + i + 1,
            p.id
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    /// Every search parameter has its flag, and a flag's value reaches the
    /// pairs under the parameter's name.
    #[test]
    fn every_search_parameter_is_a_flag() {
        for param in PARAMS {
            let flag = format!("--{}", param.name.replace('_', "-"));
            let mut argv = vec!["ketadir", "search", flag.as_str()];
            if !is_switch(param) {
                argv.push(param.example);
            }
            let cli = Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
            let Some(Command::Search(args)) = cli.command else {
                panic!("{argv:?} is not a search");
            };
            let expected = if is_switch(param) {
                "true"
            } else {
                param.example
            };
            assert_eq!(args.pairs, [(param.name, expected.to_string())], "{argv:?}");
        }
        let cli =
            Cli::try_parse_from(["ketadir", "search", "--treatment", "a", "--treatment", "b"])
                .expect("repeatable");
        let Some(Command::Search(args)) = cli.command else {
            panic!("not a search");
        };
        assert_eq!(args.pairs.len(), 2);
    }

    #[test]
    fn plain_progress_prints_each_tenth_once() {
        let mut shown = 0;
        let total = 10 * 1024 * 1024;
        assert_eq!(progress_line("a.csv", 1024, total, &mut shown), None);
        assert_eq!(
            progress_line("a.csv", 1024 * 1024, total, &mut shown).as_deref(),
            Some("reading a.csv: 10 % (1.0 of 10.0 MiB)")
        );
        assert_eq!(
            progress_line("a.csv", 1024 * 1024 + 5, total, &mut shown),
            None
        );
        // A jump over several tenths prints one line, at the reached tenth.
        let line = progress_line("a.csv", 7 * 1024 * 1024, total, &mut shown);
        assert!(line.is_some_and(|l| l.contains(": 70 %")));
        // More than the size (the file grew while read) stops at 100 %.
        let line = progress_line("a.csv", 2 * total, total, &mut shown);
        assert!(line.is_some_and(|l| l.contains(": 100 %")));
        assert_eq!(progress_line("a.csv", 3 * total, total, &mut shown), None);
    }

    #[test]
    fn log_format_comes_from_the_flag_before_or_after_the_command() {
        let cli = Cli::try_parse_from(["ketadir", "--log-format", "json", "check", "x.csv"])
            .expect("parses");
        assert_eq!(cli.log_format, LogFormat::Json);
        let cli = Cli::try_parse_from(["ketadir", "check", "x.csv", "--log-format", "text"])
            .expect("parses");
        assert_eq!(cli.log_format, LogFormat::Text);
        assert!(Cli::try_parse_from(["ketadir", "--log-format", "xml"]).is_err());
    }
}
