//! Retries with exponential backoff for transient chain trouble.
//!
//! Only RPC errors are retried ([`MarketError::is_transient`]): a refusal by
//! the contract is an answer, and retrying it would only repeat it.

use std::future::Future;
use std::time::Duration;

use blindfold_market::MarketError;

/// Attempts before giving up.
pub const ATTEMPTS: u32 = 6;
/// First delay; doubles each attempt (0.25 s, 0.5 s, ... 8 s).
pub const FIRST_DELAY: Duration = Duration::from_millis(250);

/// Runs `op` until it succeeds, fails for good, or [`ATTEMPTS`] run out.
pub async fn with_backoff<T, F, Fut>(what: &str, mut op: F) -> Result<T, MarketError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, MarketError>>,
{
    let mut delay = FIRST_DELAY;
    let mut attempt = 1;
    loop {
        match op().await {
            Err(e) if e.is_transient() && attempt < ATTEMPTS => {
                tracing::warn!(%e, attempt, "{what}: RPC trouble, retrying in {delay:?}");
                tokio::time::sleep(delay).await;
                delay = delay.saturating_mul(2);
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use blindfold_chain::ChainError;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test(start_paused = true)]
    async fn retries_rpc_errors_only() {
        let calls = AtomicU32::new(0);
        let out = with_backoff("test", || async {
            if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                Err(MarketError::Chain(ChainError::Rpc("down".into())))
            } else {
                Ok(7)
            }
        })
        .await;
        assert_eq!(out.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let calls = AtomicU32::new(0);
        let out: Result<(), _> = with_backoff("test", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(MarketError::Chain(ChainError::Dispatch("no".into())))
        })
        .await;
        assert!(out.is_err());
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "definite answers are not retried"
        );
    }
}
