//! The `ketadir` binary: parse arguments, set up logging, call the library.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use ketadir::cli::{Cli, CliError, LogFormat, run};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

fn main() -> anyhow::Result<ExitCode> {
    // Parsed first, since it chooses the log format; clap prints its own
    // errors and help.
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match run(cli) {
        // A closed pipe (`ketadir search | head`) is the reader's choice.
        Err(CliError::Output(error)) if error.kind() == std::io::ErrorKind::BrokenPipe => {
            Ok(ExitCode::SUCCESS)
        }
        other => Ok(other?),
    }
}

/// Logs to stderr, filtered by `KETADIR_LOG` (default `info`).
fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_env("KETADIR_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // A log reader that went away must not take the server with it: by
        // default the subscriber reports a failed write on stderr, and Rust's
        // printing to a closed stderr panics.
        .log_internal_errors(false)
        // The access log: the request span of tracing-actix-web (method,
        // route, status, request id) is written once, when it closes at the
        // end of the response, with its timings.
        .with_span_events(FmtSpan::CLOSE);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => builder.json().with_ansi(false).init(),
    }
}
