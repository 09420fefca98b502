//! Restore from Xsolla (opt-in): purchases this device never tracked, read from the Events API
//! of Xsolla's SDK 3 (`GET {events_api_url}/events?project_id=..`, see the protocol document,
//! section 7), delivered once each as a `Done` with `Origin::Restored`, their stable order id and
//! contents, and marked processed on the server (`POST /events/{id}/processed`) only after the
//! host acknowledged them.
//!
//! Deduplication is by order id against the journal: an acknowledged order is never delivered
//! again (its event is marked processed, in case an earlier attempt failed), an order already
//! pending or done-unacknowledged in the journal is not delivered a second time (the journal
//! path delivers it). A restored purchase is written to the journal (durably) before it is
//! delivered, so it is redelivered after a restart until acknowledged, like any other.
//!
//! The read happens at `resume_pending` and then every `interval` (if set, never below 3 s) for
//! that user, with the latest token given to `resume_pending` (in memory only). Failures (network,
//! 5xx, 429 with `Retry-After`, malformed bodies) are logged and retried at the next read; a 401
//! stops the reads of that user until the next `resume_pending`.

pub mod parse;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::AbortHandle;

use crate::config::Config;
use crate::dispatch::Listener;
use crate::engine::Engine;
use crate::events::Origin;
use crate::log::log_at;
use crate::net::Network;
use crate::secret::Token;
use crate::sync::lock;

/// Largest Events API body read.
const MAX_BODY_BYTES: usize = 256 * 1024;

/// Makes the listener of each restored purchase's handle.
pub type ListenerFactory = Arc<dyn Fn() -> Listener + Send + Sync>;

/// The restore client of one engine.
pub struct Restorer {
    http: reqwest::Client,
    base: String,
    project_id: i64,
    interval: Option<Duration>,
    users: Mutex<HashMap<String, UserReads>>,
}

struct UserReads {
    token: Token,
    task: Option<AbortHandle>,
}

enum Read {
    /// Keep reading at the interval.
    Continue,
    /// The token was refused: stop until the next `resume_pending`.
    Stop,
}

impl Restorer {
    /// A restorer for the configuration, or `None` when restore is off.
    pub fn new(config: &Config, net: &Network) -> Result<Option<Restorer>, String> {
        if !config.restore.enabled {
            return Ok(None);
        }
        let http = crate::api::http_client(config, net, 1)?;
        Ok(Some(Restorer {
            http,
            base: config
                .restore
                .events_api_url
                .trim_end_matches('/')
                .to_owned(),
            project_id: config.project_id,
            interval: config.restore.interval,
            users: Mutex::default(),
        }))
    }

    /// Starts (or restarts, with this token) the reads for `user`.
    pub fn start(
        self: &Arc<Self>,
        engine: &Engine,
        user: String,
        token: Token,
        listener: ListenerFactory,
    ) {
        let mut users = lock(&self.users);
        if let Some(old) = users.get_mut(&user).and_then(|u| u.task.take()) {
            old.abort();
        }
        let this = self.clone();
        let engine2 = engine.clone();
        let user2 = user.clone();
        let task = engine.runtime().spawn(async move {
            loop {
                let token = match lock(&this.users).get(&user2) {
                    Some(u) => u.token.clone(),
                    None => return,
                };
                if let Read::Stop = this.read_once(&engine2, &user2, &token, &listener).await {
                    return;
                }
                match this.interval {
                    Some(every) => tokio::time::sleep(every).await,
                    None => return,
                }
            }
        });
        users.insert(
            user,
            UserReads {
                token,
                task: Some(task.abort_handle()),
            },
        );
    }

    /// Stops every read.
    pub fn stop(&self) {
        for (_, user) in lock(&self.users).drain() {
            if let Some(task) = user.task {
                task.abort();
            }
        }
    }

    /// A restored purchase of `user` was acknowledged: mark its event processed (in the
    /// background; if it fails, the next read finds the event again and marks it then).
    pub fn acknowledged(self: &Arc<Self>, engine: &Engine, user: &str, event_id: i64) {
        let Some(token) = lock(&self.users).get(user).map(|u| u.token.clone()) else {
            return; // no token in this process yet: the next read marks it
        };
        let this = self.clone();
        engine
            .runtime()
            .spawn(async move { this.mark_processed(event_id, &token).await });
    }

    async fn read_once(
        &self,
        engine: &Engine,
        user: &str,
        token: &Token,
        listener: &ListenerFactory,
    ) -> Read {
        let url = format!("{}/events?project_id={}", self.base, self.project_id);
        let answer = self.http.get(&url).bearer_auth(token.expose()).send().await;
        let response = match answer {
            Ok(r) => r,
            Err(e) => {
                log_at!(Warn, "restore: the Events API request failed: {e}");
                return Read::Continue;
            }
        };
        let status = response.status().as_u16();
        let body = match read_body(response).await {
            Ok(body) => body,
            Err(why) => {
                log_at!(Warn, "restore: {why}");
                return Read::Continue;
            }
        };
        match status {
            200 => {}
            401 | 403 => {
                log_at!(Warn, "restore: the Events API refused the token (HTTP {status}); reads stop until the next resume_pending");
                return Read::Stop;
            }
            _ => {
                log_at!(
                    Warn,
                    "restore: the Events API answered HTTP {status}; retrying at the next read"
                );
                return Read::Continue;
            }
        }
        let purchases = match parse::parse_events(&body, self.project_id) {
            Ok(p) => p,
            Err(why) => {
                log_at!(Warn, "restore: {why}");
                return Read::Continue;
            }
        };
        let Some(journal_side) = &engine.shared().purchases else {
            return Read::Stop;
        };
        let journal = &journal_side.journal;
        for (event_id, order) in parse::event_orders(&body, self.project_id) {
            if journal.is_acked(order) {
                self.mark_processed(event_id, token).await; // granted already: tell the server
            }
        }
        for p in purchases {
            if journal.is_acked(p.order_id) || journal.entry(p.order_id).is_some() {
                continue; // never twice: acknowledged, or delivered through the journal
            }
            if !journal.done(p.order_id, user, Some(p.contents.clone()), Some(p.event_id)) {
                continue;
            }
            log_at!(
                Info,
                "restore: order {} restored from the Events API",
                p.order_id
            );
            if let Err(e) = engine.redeliver(
                journal_side,
                p.order_id,
                Some(p.contents),
                Origin::Restored,
                listener(),
            ) {
                log_at!(Warn, "restore: cannot deliver order {}: {e}", p.order_id);
            }
        }
        Read::Continue
    }

    async fn mark_processed(&self, event_id: i64, token: &Token) {
        let url = format!(
            "{}/events/{event_id}/processed?project_id={}",
            self.base, self.project_id
        );
        match self
            .http
            .post(&url)
            .bearer_auth(token.expose())
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => {
                log_at!(Debug, "restore: event {event_id} marked processed");
            }
            Ok(r) => log_at!(
                Warn,
                "restore: marking event {event_id} processed answered HTTP {}",
                r.status().as_u16()
            ),
            Err(e) => log_at!(
                Warn,
                "restore: marking event {event_id} processed failed: {e}"
            ),
        }
    }
}

async fn read_body(response: reqwest::Response) -> Result<Vec<u8>, String> {
    crate::api::read_capped(response, MAX_BODY_BYTES)
        .await
        .map_err(|e| match e {
            crate::api::BodyError::TooLarge => {
                format!("the Events API answer is larger than {MAX_BODY_BYTES} bytes")
            }
            crate::api::BodyError::Read(e) => {
                format!("reading the Events API answer failed: {e}")
            }
        })
}
