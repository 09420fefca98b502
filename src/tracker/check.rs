//! The one-shot check: one GET (transient failures retried), then exactly one `CheckResult`.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::sleep;

use crate::api::ApiError;
use crate::backoff::Backoff;
use crate::config::Timing;
use crate::engine::Shared;
use crate::events::{Event, EventKind, Outcome};
use crate::fault::fault_point;
use crate::limits::MAX_RETRY_AFTER;
use crate::log::log_at;
use crate::secret::Token;

/// How many times a check retries a transient failure.
pub const CHECK_RETRIES: u32 = 2;

/// Whether and after how long a check retries after its failed attempt number `attempt`
/// (0-based): transient failures only, at most [`CHECK_RETRIES`] times, after the backoff delay
/// or the server's `Retry-After` (capped at the backoff ceiling), whichever is longer.
pub fn check_retry_delay(
    timing: &Timing,
    attempt: u32,
    error: &ApiError,
    random: u64,
) -> Option<Duration> {
    let ApiError::Transient { retry_after, .. } = error else {
        return None;
    };
    if attempt >= CHECK_RETRIES {
        return None;
    }
    let backoff = Backoff {
        min: timing.backoff_min,
        max: timing.backoff_max,
    };
    let asked = retry_after
        .unwrap_or_default()
        .min(timing.backoff_max)
        .min(MAX_RETRY_AFTER);
    Some(backoff.delay_with(attempt, random).max(asked))
}

/// Answers a one-shot check and returns its `CheckResult` event for the supervisor to deliver.
pub async fn check(shared: Arc<Shared>, handle: u64, order_id: i64, token: Token) -> Option<Event> {
    let timing = shared.config.timing;
    let mut attempt = 0;
    let result = loop {
        fault_point!("check.request");
        let result = shared.api.get_order(order_id, &token).await;
        let Err(error) = &result else { break result };
        match check_retry_delay(&timing, attempt, error, crate::backoff::random_seed()) {
            Some(delay) => {
                log_at!(
                    Warn,
                    "order {order_id}: check failed, retrying: {}",
                    error.info().message
                );
                sleep(delay).await;
                attempt += 1;
            }
            None => break result,
        }
    };
    let mut event = Event {
        handle,
        order_id,
        kind: EventKind::CheckResult,
        status: None,
        outcome: Outcome::None,
        transport: None,
        error: None,
        contents: None,
        origin: crate::events::Origin::Live,
    };
    match result {
        Ok(snapshot) => {
            event.outcome = snapshot.status.final_outcome().unwrap_or(Outcome::None);
            event.status = Some(snapshot.status);
            event.contents = snapshot.contents;
        }
        Err(e) => {
            event.outcome = match e {
                ApiError::NotFound(_) => Outcome::NotFound,
                ApiError::Unauthorized(_) => Outcome::Unauthorized,
                _ => Outcome::Failed,
            };
            event.error = Some(e.info().clone());
        }
    }
    if let Some(crate::events::Status::Other(raw)) = &mut event.status {
        *raw = token.redact(raw);
    }
    if let Some(contents) = &mut event.contents {
        *contents = token.redact(contents);
    }
    Some(event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{ErrorInfo, ErrorKind};

    fn transient(retry_after: Option<Duration>) -> ApiError {
        ApiError::Transient {
            info: ErrorInfo::new(ErrorKind::Network, "down"),
            retry_after,
        }
    }

    #[test]
    fn retries_transient_failures_twice_after_backoff_or_retry_after() {
        let _watchdog = crate::test_watchdog::arm();
        let timing = Timing::default();
        let first = check_retry_delay(&timing, 0, &transient(None), 0).unwrap();
        assert_eq!(first, timing.backoff_min);
        assert!(check_retry_delay(&timing, 1, &transient(None), 7).is_some());
        assert_eq!(
            check_retry_delay(&timing, CHECK_RETRIES, &transient(None), 0),
            None
        );
        // Retry-After is honoured up to the backoff ceiling.
        let asked = check_retry_delay(&timing, 0, &transient(Some(Duration::from_secs(7))), 0);
        assert_eq!(asked, Some(Duration::from_secs(7)));
        let capped = check_retry_delay(&timing, 0, &transient(Some(Duration::MAX)), 0);
        assert_eq!(capped, Some(timing.backoff_max));
        for final_error in [
            ApiError::Unauthorized(ErrorInfo::new(ErrorKind::Unauthorized, "no")),
            ApiError::NotFound(ErrorInfo::new(ErrorKind::NotFound, "no")),
            ApiError::Fatal(ErrorInfo::new(ErrorKind::Http, "no")),
        ] {
            assert_eq!(check_retry_delay(&timing, 0, &final_error, 0), None);
        }
    }
}
