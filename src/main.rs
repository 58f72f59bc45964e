//! The `ketadir` binary: parse arguments, set up logging, call the library.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use ketadir::cli::{Cli, CliError, run};
use tracing_subscriber::EnvFilter;

fn main() -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("KETADIR_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    match run(cli) {
        // A closed pipe (`ketadir search | head`) is the reader's choice.
        Err(CliError::Output(error)) if error.kind() == std::io::ErrorKind::BrokenPipe => {
            Ok(ExitCode::SUCCESS)
        }
        other => Ok(other?),
    }
}
