//! Keeping the queue in step with the served listings, on every server:
//! when the served generation changes (an admin upload, a CLI import, a
//! rollback — whoever published it, this server picks it up), the open
//! reports of providers it no longer lists are closed as
//! `listing_removed` with its number. The same pass runs every minute, so
//! a report accepted against the previous generation while the new one
//! was being swapped in is closed too, and a server that starts after a
//! CLI import closes what that import dropped. Closing is idempotent (only
//! open reports change), so replicas sharing one database may all do it.
//! Once a minute it also clears client hashes older than 24 hours.

use std::sync::{Arc, Weak};
use std::time::Duration;

use super::{ReportStore, StoreError, dropped_providers};
use crate::clock::unix_now;
use crate::index::{Generation, GenerationIdentity, ServedIndex};

/// How often the served generation is looked at.
const TICK: Duration = Duration::from_secs(1);
/// Every this many ticks the whole pass runs even without a new generation.
const FULL_PASS_TICKS: u64 = 60;

/// Unix seconds now, as the database stores times.
pub fn now() -> i64 {
    i64::try_from(unix_now()).unwrap_or(i64::MAX)
}

/// Closes the open reports of providers that `generation` does not list;
/// returns how many were closed.
pub async fn close_dropped(
    store: &ReportStore,
    generation: Arc<Generation>,
) -> Result<u64, StoreError> {
    let ids = store.open_provider_ids().await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let number = generation.number();
    let dropped = tokio::task::spawn_blocking(move || dropped_providers(&generation, ids))
        .await
        .map_err(|e| StoreError::Lookup(e.to_string()))?
        .map_err(|e| StoreError::Lookup(e.to_string()))?;
    let closed = store.close_listing_removed(&dropped, number, now()).await?;
    if closed > 0 {
        tracing::info!(
            generation = number,
            providers = dropped.len(),
            reports = closed,
            "closed the open reports of providers this generation no longer lists (listing_removed)"
        );
    }
    Ok(closed)
}

/// Follows the served generation until the server's state is dropped or
/// the runtime stops: spawn it on the server's runtime.
pub async fn follow(state: Weak<ServedIndex>, store: ReportStore) {
    let mut swept: Option<GenerationIdentity> = None;
    let mut failures = 0u64;
    for tick in 0u64.. {
        let Some(served) = state.upgrade() else {
            return;
        };
        let generation = served.generation();
        drop(served);
        let full_pass = tick.is_multiple_of(FULL_PASS_TICKS);
        let mut result = Ok(());
        if let Some(generation) = generation {
            let identity = generation.meta.identity();
            if full_pass || swept.as_ref() != Some(&identity) {
                result = close_dropped(&store, generation).await.map(|_| {
                    swept = Some(identity);
                });
            }
        }
        if full_pass && result.is_ok() {
            result = store.forget_client_hashes(now()).await.map(|_| ());
        }
        match result {
            Ok(()) => failures = 0,
            Err(error) => {
                // Said once, then once a minute while it lasts.
                if failures.is_multiple_of(FULL_PASS_TICKS) {
                    tracing::warn!(
                        %error,
                        database = store.description(),
                        "the report queue could not be brought in step with the served generation; retrying"
                    );
                }
                failures += 1;
            }
        }
        tokio::time::sleep(TICK).await;
    }
}
