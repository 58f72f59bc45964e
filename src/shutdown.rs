//! Stopping the server on SIGTERM or SIGINT without cutting requests short.
//!
//! actix-web stops gracefully on SIGTERM on its own, but treats SIGINT
//! (Ctrl-C) as a forced stop that drops in-flight requests. The server is
//! given [`signal`] instead, so both signals stop it the same way: stop
//! accepting, let running requests finish within [`TIMEOUT_SECONDS`], exit
//! with success. A second signal during that wait exits at once.

/// How long in-flight requests get to finish after a stop signal.
pub const TIMEOUT_SECONDS: u64 = 30;

/// Resolves on the first SIGTERM or SIGINT: the server's shutdown signal
/// (`HttpServer::shutdown_signal`). Must be polled on the server's runtime.
pub async fn signal() {
    let Some(first) = next_signal().await else {
        // Resolving would stop the server: without handlers, never stop.
        return std::future::pending().await;
    };
    tracing::info!(
        signal = first.name(),
        timeout_seconds = TIMEOUT_SECONDS,
        "stop signal received: finishing in-flight requests, then exiting"
    );
    // The operator who signals again does not want to wait: the index needs
    // no clean-up (an interrupted import leaves the served generation as it
    // was), so a plain exit is safe.
    actix_web::rt::spawn(async {
        if let Some(second) = next_signal().await {
            tracing::warn!(signal = second.name(), "second stop signal: exiting now");
            std::process::exit(128 + second.number());
        }
    });
}

#[derive(Debug, Clone, Copy)]
enum StopSignal {
    Terminate,
    Interrupt,
}

impl StopSignal {
    fn name(self) -> &'static str {
        match self {
            StopSignal::Terminate => "SIGTERM",
            StopSignal::Interrupt => "SIGINT",
        }
    }

    /// The POSIX signal number, for the shell's `128 + n` exit status.
    fn number(self) -> i32 {
        match self {
            StopSignal::Terminate => 15,
            StopSignal::Interrupt => 2,
        }
    }
}

/// The next SIGTERM or SIGINT; `None` when no handler could be installed
/// (then the server runs until killed, as it would without this module).
#[cfg(unix)]
async fn next_signal() -> Option<StopSignal> {
    use std::task::Poll;

    use actix_web::rt::signal::unix::{SignalKind, signal};
    let terminate = signal(SignalKind::terminate());
    let interrupt = signal(SignalKind::interrupt());
    match (terminate, interrupt) {
        (Ok(mut terminate), Ok(mut interrupt)) => {
            let first = std::future::poll_fn(|cx| {
                if terminate.poll_recv(cx).is_ready() {
                    Poll::Ready(StopSignal::Terminate)
                } else if interrupt.poll_recv(cx).is_ready() {
                    Poll::Ready(StopSignal::Interrupt)
                } else {
                    Poll::Pending
                }
            });
            Some(first.await)
        }
        (Err(error), _) | (_, Err(error)) => {
            tracing::error!(%error, "cannot listen for stop signals");
            None
        }
    }
}

#[cfg(not(unix))]
async fn next_signal() -> Option<StopSignal> {
    match actix_web::rt::signal::ctrl_c().await {
        Ok(()) => Some(StopSignal::Interrupt),
        Err(error) => {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            None
        }
    }
}
