//! The async driver of a [`Machine`]: runs the GETs and the push subscription it asks for, feeds
//! their results back with the time, and hands its events to the dispatcher. No decisions here.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::time::sleep_until;

use super::machine::{Action, Input, Machine, Settings};
use crate::api::{ApiError, OrderSnapshot};
use crate::backoff::random_seed;
use crate::config::Transport;
use crate::engine::{Lifecycle, Shared};
use crate::events::Event;
use crate::fault::fault_point;
use crate::secret::Token;
use crate::time::{Clock, Time};
use crate::transport::{legacy_socket, PushEvent, PushStream};

type Fetch = Pin<Box<dyn Future<Output = Result<OrderSnapshot, ApiError>> + Send>>;

/// Tracks one order. Returns its final event for the supervisor to deliver, or `None` if the
/// machine stopped without one (it was cancelled).
pub async fn track(
    shared: Arc<Shared>,
    handle: u64,
    order_id: i64,
    mut token_rx: watch::Receiver<Token>,
    mut lifecycle: watch::Receiver<Lifecycle>,
) -> Option<Event> {
    let clock = Clock::start();
    let config = shared.config.clone();
    let settings = Settings {
        timing: config.timing,
        push: config.transport != Transport::PollingOnly,
        push_uses_token: config.transport == Transport::Centrifugo,
        jitter_seed: random_seed(),
    };
    let mut token = token_rx.borrow_and_update().clone();
    let mut life = *lifecycle.borrow_and_update();
    let mut machine = Machine::new(clock.now(), handle, order_id, token.clone(), settings);
    if !life.active {
        machine.handle(clock.now(), Input::AppActive(false));
    }
    let mut fetch: Option<Fetch> = None;
    let mut push: Option<PushStream> = None;
    let mut token_updates_open = true;
    let mut lifecycle_open = true;
    // One timer for the whole run, moved only when the machine's next deadline changes: a push
    // that leaves the deadline where it was costs no timer-wheel registration.
    let timer = sleep_until(clock.instant(Time::NEVER));
    tokio::pin!(timer);
    let mut armed: Option<tokio::time::Instant> = None;
    loop {
        while let Some(action) = machine.poll_action() {
            match action {
                Action::StartFetch => fetch = Some(start_fetch(&shared, order_id, &token)),
                Action::AbortFetch => fetch = None,
                Action::OpenPush => {
                    drop(push.take()); // unsubscribe first: the hub may then be replaced
                    push = open_push(&shared, &token, order_id);
                }
                Action::ClosePush => push = None,
                Action::Emit(event) => shared.dispatcher.emit(event),
                Action::Finish(event) => return Some(event),
                Action::Log(level, line) => crate::log::write(level, format_args!("{line}")),
            }
        }
        if machine.is_finished() {
            return None;
        }
        let wake = machine.poll_timeout().map(|t| clock.instant(t));
        if wake != armed {
            if let Some(at) = wake {
                timer.as_mut().reset(at);
            }
            armed = wake;
        }
        tokio::select! {
            result = poll_fetch(&mut fetch) => {
                fetch = None;
                fault_point!("tracker.fetched");
                machine.handle(clock.now(), Input::Fetched(result));
            }
            event = recv_push(&mut push) => {
                fault_point!("tracker.push");
                machine.handle(clock.now(), Input::Push(event));
            }
            changed = token_rx.changed(), if token_updates_open => {
                if changed.is_err() {
                    token_updates_open = false;
                    continue;
                }
                token = token_rx.borrow_and_update().clone();
                machine.handle(clock.now(), Input::TokenUpdated(token.clone()));
            }
            changed = lifecycle.changed(), if lifecycle_open => {
                if changed.is_err() {
                    lifecycle_open = false;
                    continue;
                }
                let now_life = *lifecycle.borrow_and_update();
                if now_life.active != life.active {
                    machine.handle(clock.now(), Input::AppActive(now_life.active));
                }
                if now_life.network_epoch != life.network_epoch {
                    machine.handle(clock.now(), Input::NetworkChanged);
                }
                life = now_life;
            }
            _ = &mut timer, if wake.is_some() => {
                armed = None; // fired: re-arm even for the same deadline
                fault_point!("tracker.timer");
                machine.handle_timeout(clock.now());
            }
        }
    }
}

fn start_fetch(shared: &Arc<Shared>, order_id: i64, token: &Token) -> Fetch {
    let api = shared.api.clone();
    let token = token.clone();
    Box::pin(async move {
        fault_point!("tracker.request");
        api.get_order(order_id, &token).await
    })
}

fn open_push(shared: &Shared, token: &Token, order_id: i64) -> Option<PushStream> {
    let config = &shared.config;
    match config.transport {
        Transport::Centrifugo => Some(shared.hubs.subscribe(token, order_id)),
        Transport::LegacySocket => Some(legacy_socket::subscribe(
            &config.legacy_socket_url,
            config.project_id,
            order_id,
            shared.sockets.clone(),
        )),
        Transport::PollingOnly => None,
    }
}

async fn poll_fetch(fetch: &mut Option<Fetch>) -> Result<OrderSnapshot, ApiError> {
    match fetch {
        Some(f) => f.await,
        None => std::future::pending().await,
    }
}

async fn recv_push(push: &mut Option<PushStream>) -> PushEvent {
    match push {
        Some(p) => p.recv().await,
        None => std::future::pending().await,
    }
}
