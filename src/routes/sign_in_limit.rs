//! Slows down guessing of the admin token. Each client IP may present a
//! wrong token (bearer header or sign-in form) a few times per minute; past
//! that, its requests with a token get a 429 until the minute is over —
//! decided *before* the token is compared, so a throttled client learns
//! nothing from its guesses. Right tokens do not count.
//!
//! Clients are told apart by `client_ip` (the peer, or what a trusted proxy
//! forwarded). Behind an untrusted proxy every client shares its address,
//! so a guesser can lock the admin out for a minute at a time; that is the
//! trade against unlimited guesses.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wrong tokens a client may present per minute by default.
pub const DEFAULT_FAILURES_PER_MINUTE: u32 = 10;
const WINDOW: Duration = Duration::from_secs(60);
/// Clients remembered before expired windows are dropped.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug)]
struct Window {
    started: Instant,
    failures: u32,
}

impl Window {
    fn over(&self) -> bool {
        self.started.elapsed() >= WINDOW
    }
}

#[derive(Debug)]
pub struct FailedSignIns {
    limit: u32,
    by_client: Mutex<HashMap<Option<IpAddr>, Window>>,
}

impl Default for FailedSignIns {
    fn default() -> Self {
        FailedSignIns::new(DEFAULT_FAILURES_PER_MINUTE)
    }
}

impl FailedSignIns {
    /// `limit` wrong tokens per client per minute; 0 turns throttling off.
    pub fn new(limit: u32) -> FailedSignIns {
        FailedSignIns {
            limit,
            by_client: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds)`: the client used up its wrong tokens and must wait.
    pub fn check(&self, client: Option<IpAddr>) -> Result<(), u64> {
        if self.limit == 0 {
            return Ok(());
        }
        let clients = self.by_client.lock().unwrap_or_else(|e| e.into_inner());
        match clients.get(&client) {
            Some(window) if window.failures >= self.limit => {
                let left = WINDOW.saturating_sub(window.started.elapsed());
                if left.is_zero() {
                    Ok(())
                } else {
                    Err(left.as_secs().max(1))
                }
            }
            _ => Ok(()),
        }
    }

    /// Counts a wrong token from `client`.
    pub fn record_failure(&self, client: Option<IpAddr>) {
        if self.limit == 0 {
            return;
        }
        let mut clients = self.by_client.lock().unwrap_or_else(|e| e.into_inner());
        if clients.len() > PRUNE_ABOVE {
            clients.retain(|_, window| !window.over());
        }
        let fresh = || Window {
            started: Instant::now(),
            failures: 0,
        };
        let window = clients.entry(client).or_insert_with(fresh);
        if window.over() {
            *window = fresh();
        }
        window.failures += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_held_back_after_its_wrong_tokens_and_others_are_not() {
        let guard = FailedSignIns::new(3);
        let guesser = Some(IpAddr::from([192, 0, 2, 1]));
        let admin = Some(IpAddr::from([192, 0, 2, 2]));
        for _ in 0..3 {
            assert_eq!(guard.check(guesser), Ok(()));
            guard.record_failure(guesser);
        }
        let wait = guard.check(guesser).expect_err("held back");
        assert!((1..=60).contains(&wait), "{wait}");
        assert_eq!(guard.check(admin), Ok(()));
    }

    #[test]
    fn zero_turns_it_off() {
        let guard = FailedSignIns::new(0);
        for _ in 0..100 {
            guard.record_failure(None);
        }
        assert_eq!(guard.check(None), Ok(()));
    }
}
