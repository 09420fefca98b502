//! The state shared by the listener, the connection tasks and the test-facing handles.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::{mpsc, watch};

use crate::centrifugo;
use crate::chaos::Chaos;
use crate::faults::FaultState;
use crate::lifecycle::Lifecycle;
use crate::orders::Order;
use crate::stats::Stats;
use crate::SimConfig;

/// Something a WebSocket connection task is told to do.
#[derive(Debug, Clone)]
pub(crate) enum ConnCommand {
    /// A status change, already encoded for this endpoint (subject to silent/batch modes).
    Push(String),
    /// A text frame sent verbatim (a `*_send_raw` fault).
    Raw(String),
    /// A binary frame with these bytes (chaos mode: JSON in a binary frame).
    Binary(String),
    /// A clean close with this code and reason.
    Close(u16, String),
    /// An abrupt TCP reset, no close frame.
    Reset,
}

/// Registry entry of a live Centrifugo connection.
#[derive(Debug)]
pub(crate) struct CentrifugoConn {
    pub tx: mpsc::UnboundedSender<ConnCommand>,
    /// The token of the accepted connect command (`None` until then).
    pub token: Option<String>,
}

/// Registry entry of a live legacy socket.
#[derive(Debug)]
pub(crate) struct LegacyConn {
    pub tx: mpsc::UnboundedSender<ConnCommand>,
    pub order_id: i64,
}

/// Mutable simulator state; the lock is never held across an `.await`.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub orders: HashMap<i64, Order>,
    pub expired_tokens: HashSet<String>,
    pub faults: FaultState,
    pub centrifugo: HashMap<u64, CentrifugoConn>,
    pub legacy: HashMap<u64, LegacyConn>,
    pub next_conn_id: u64,
    /// Offset of the last publication in the project's channel.
    pub channel_offset: u64,
    /// The Events API (restore of purchases).
    pub events: crate::events_api::EventsState,
}

impl State {
    /// A fresh id for a connection registry entry.
    pub(crate) fn conn_id(&mut self) -> u64 {
        self.next_conn_id += 1;
        self.next_conn_id
    }
}

/// Everything the simulator's tasks share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: SimConfig,
    state: Mutex<State>,
    stats: watch::Sender<Stats>,
    pub lifecycle: Lifecycle,
    /// Chaos mode, when `config.chaos_seed` is set.
    pub chaos: Option<Chaos>,
}

impl Shared {
    pub(crate) fn new(config: SimConfig) -> Self {
        Shared {
            chaos: config.chaos_seed.map(Chaos::new),
            config,
            state: Mutex::new(State::default()),
            stats: watch::Sender::new(Stats::default()),
            lifecycle: Lifecycle::new(),
        }
    }

    /// Locks the state. A panic while locked cannot leave it inconsistent in a way that matters
    /// to a test double, so poisoning is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the stats and wakes every `wait_until`.
    pub(crate) fn stats_mut(&self, f: impl FnOnce(&mut Stats)) {
        self.stats.send_modify(f);
    }

    /// Marks `token` as expired (HTTP 401 errorCode 1020, Centrifugo connect error 109) and
    /// closes the live Centrifugo connections that were accepted with it (code 3500).
    pub(crate) fn expire_token(&self, token: &str) {
        let mut state = self.lock();
        state.expired_tokens.insert(token.to_owned());
        for conn in state.centrifugo.values() {
            if conn.token.as_deref() == Some(token) {
                let _ = conn.tx.send(ConnCommand::Close(
                    centrifugo::CLOSE_TOKEN_EXPIRED,
                    "token expired".to_owned(),
                ));
            }
        }
    }

    /// A copy of the current stats.
    pub(crate) fn stats(&self) -> Stats {
        self.stats.borrow().clone()
    }

    /// Waits until `pred` holds for the stats, re-checking it after every change.
    pub(crate) async fn wait_stats(&self, mut pred: impl FnMut(&Stats) -> bool) -> Stats {
        let mut rx = self.stats.subscribe();
        let result = rx.wait_for(|s| pred(s)).await.map(|stats| stats.clone());
        // The sender lives in `self`, so it cannot be dropped while we are borrowed.
        result.unwrap_or_else(|_| self.stats())
    }
}
