//! Counters and recordings that tests assert on.

use std::collections::HashMap;

use serde_json::{json, Value};

/// How many received Centrifugo frames [`Stats::centrifugo_frames_received`] keeps.
pub const MAX_RECORDED_FRAMES: usize = 1000;

/// A snapshot of the simulator's counters, returned by [`Sim::stats`](crate::Sim::stats).
///
/// Every counter only grows, except the `*_live` gauges.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// Completed WebSocket upgrades on the Centrifugo endpoint (refused or garbage handshakes excluded).
    pub centrifugo_connects: u32,
    /// Every Centrifugo connect command as received (one JSON message, even when it was rejected).
    pub centrifugo_connect_commands: Vec<Value>,
    /// The raw text of the frames received on Centrifugo connections, byte for byte and in arrival
    /// order (connect commands, pongs, anything else), for protocol-fidelity checks. Only the first
    /// [`MAX_RECORDED_FRAMES`] are kept.
    pub centrifugo_frames_received: Vec<String>,
    /// Connect commands answered with a successful connect reply.
    pub centrifugo_connects_accepted: u32,
    /// Centrifugo upgrade requests answered by a `centrifugo_refuse` or
    /// `centrifugo_garbage_handshake` fault.
    pub centrifugo_handshakes_failed: u32,
    /// Centrifugo connections open right now (authenticated or not).
    pub centrifugo_live: u32,
    /// Server pings (`{}`) sent on Centrifugo connections, including those batched with a push.
    pub pings_sent: u32,
    /// Client pongs (`{}`) received on Centrifugo connections.
    pub pongs_received: u32,
    /// Status pushes sent on Centrifugo connections (one per connection per status change).
    pub pushes_sent: u32,
    /// Completed WebSocket upgrades on the legacy per-order endpoint.
    pub legacy_connects: u32,
    /// Legacy upgrade requests answered by a `legacy_refuse` fault.
    pub legacy_handshakes_failed: u32,
    /// Legacy sockets open right now.
    pub legacy_live: u32,
    /// Status messages sent on legacy sockets.
    pub legacy_pushes_sent: u32,
    /// Get-order requests per order id, including failed ones (faults, auth errors, 404s).
    pub http_requests: HashMap<i64, u32>,
    /// Get-order requests that carried an `Authorization` header (whatever its value).
    pub http_auth_headers_seen: u32,
    /// Faults injected by chaos mode (refused upgrades, rejected connects, plan steps, binary
    /// pushes, HTTP faults).
    pub chaos_faults: u32,
}

impl Stats {
    /// Total Get-order requests over all order ids.
    pub fn http_requests_total(&self) -> u32 {
        self.http_requests.values().sum()
    }

    /// Get-order requests for one order id (0 if none).
    pub fn http_requests_for(&self, order_id: i64) -> u32 {
        self.http_requests.get(&order_id).copied().unwrap_or(0)
    }

    /// The snapshot as a JSON object (what `GET /_sim/stats` returns, without the `ok` field).
    /// `http_requests` keys are the order ids as decimal strings.
    pub fn to_json(&self) -> Value {
        let http_requests: serde_json::Map<String, Value> = self
            .http_requests
            .iter()
            .map(|(id, n)| (id.to_string(), json!(n)))
            .collect();
        json!({
            "centrifugo_connects": self.centrifugo_connects,
            "centrifugo_connect_commands": self.centrifugo_connect_commands,
            "centrifugo_frames_received": self.centrifugo_frames_received,
            "centrifugo_connects_accepted": self.centrifugo_connects_accepted,
            "centrifugo_handshakes_failed": self.centrifugo_handshakes_failed,
            "centrifugo_live": self.centrifugo_live,
            "pings_sent": self.pings_sent,
            "pongs_received": self.pongs_received,
            "pushes_sent": self.pushes_sent,
            "legacy_connects": self.legacy_connects,
            "legacy_handshakes_failed": self.legacy_handshakes_failed,
            "legacy_live": self.legacy_live,
            "legacy_pushes_sent": self.legacy_pushes_sent,
            "http_requests": http_requests,
            "http_auth_headers_seen": self.http_auth_headers_seen,
            "chaos_faults": self.chaos_faults,
        })
    }
}
