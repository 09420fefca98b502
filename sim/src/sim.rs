//! The [`Sim`] handle and its [`SimConfig`].

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::faults::Faults;
use crate::http::{self, CENTRIFUGO_PATH, LEGACY_PATH};
use crate::orders::{self, OrderSpec};
use crate::state::Shared;
use crate::stats::Stats;

/// Simulator settings. All fields are public; start from `SimConfig::default()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    /// The project served (default 1001). Get order for another project answers 404; a connect
    /// command with another `project_id` gets error 103 "permission denied"; a legacy socket for
    /// another project is refused with 404.
    pub project_id: i64,
    /// Server ping interval in seconds (default 25), sent as `ping` in the connect reply with
    /// `pong: true`; the server then sends `{}` every interval. 0 disables pings (the reply then
    /// has no `ping`/`pong` fields).
    pub ping_interval_secs: u32,
    /// Largest WebSocket frame and message the simulator accepts from a client (`None`, the
    /// default: tungstenite's limits, 16 MiB frames / 64 MiB messages). A client exceeding it
    /// gets its connection closed with 1009.
    pub max_frame_bytes: Option<usize>,
    /// Chaos mode (`None`, the default: off): random faults per connection and per request drawn
    /// from this seed, deterministic per seed, that still let every order reach its scripted
    /// final status (see the README, "Chaos mode").
    pub chaos_seed: Option<u64>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            project_id: 1001,
            ping_interval_secs: 25,
            max_frame_bytes: None,
            chaos_seed: None,
        }
    }
}

/// A running simulator on one loopback port.
///
/// Its tasks run on the tokio runtime that called [`Sim::start`]; the synchronous methods may be
/// called from any thread. Dropping the handle asks the tasks to stop (without waiting);
/// [`Sim::shutdown`] stops them and waits.
#[derive(Debug)]
pub struct Sim {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl Sim {
    /// Binds `127.0.0.1:0` and starts serving on the current tokio runtime.
    pub async fn start(config: SimConfig) -> io::Result<Sim> {
        Sim::start_on_port(config, 0).await
    }

    /// Binds `127.0.0.1:<port>` (0: an ephemeral port) and starts serving on the current
    /// tokio runtime.
    pub async fn start_on_port(config: SimConfig, port: u16) -> io::Result<Sim> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config));
        let task_shared = Arc::clone(&shared);
        shared
            .lifecycle
            .spawn(http::accept_loop(task_shared, listener));
        Ok(Sim { shared, addr })
    }

    /// The listening address, `127.0.0.1:<port>`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The configuration the simulator runs with.
    pub fn config(&self) -> &SimConfig {
        &self.shared.config
    }

    /// `http://127.0.0.1:<port>` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://127.0.0.1:<port>/connection/websocket`.
    pub fn centrifugo_url(&self) -> String {
        format!("ws://{}{CENTRIFUGO_PATH}", self.addr)
    }

    /// `ws://127.0.0.1:<port>/sub/order/status` (the client appends
    /// `?order_id=<id>&project_id=<id>`).
    pub fn legacy_socket_url(&self) -> String {
        format!("ws://{}{LEGACY_PATH}", self.addr)
    }

    /// `http://127.0.0.1:<port>/api` (the client appends `/v2/project/{p}/order/{o}`).
    pub fn api_base_url(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    /// Adds (or replaces, cancelling the old timeline) an order and starts its timeline.
    /// Adding pushes nothing.
    pub fn add_order(&self, spec: OrderSpec) {
        orders::add_order(&self.shared, spec);
    }

    /// Sets an order's status now (creating the order with default contents if unknown) and
    /// pushes it, even if unchanged, unless the order was added with `push(false)`.
    pub fn set_status(&self, order_id: i64, status: impl Into<String>) {
        orders::set_status(&self.shared, order_id, &status.into());
    }

    /// The current status of an order, `None` if unknown.
    pub fn order_status(&self, order_id: i64) -> Option<String> {
        self.shared
            .lock()
            .orders
            .get(&order_id)
            .map(|o| o.status.clone())
    }

    /// Expires `token`: Get order answers 401 with errorCode 1020, Centrifugo answers a connect
    /// command with error 109 "token expired" (temporary false), and live Centrifugo connections
    /// accepted with this token are closed with code 3500.
    pub fn expire_token(&self, token: impl Into<String>) {
        self.shared.expire_token(&token.into());
    }

    /// The fault-injection handle.
    pub fn faults(&self) -> Faults {
        Faults::new(Arc::clone(&self.shared))
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Resolves with the stats once `pred` holds, re-checking it after every change of the
    /// stats (event driven, no polling). Never resolves if the predicate never holds: wrap it in
    /// `tokio::time::timeout` if that can happen.
    pub async fn wait_until(&self, pred: impl FnMut(&Stats) -> bool) -> Stats {
        self.shared.wait_stats(pred).await
    }

    /// Resolves once a stop has been requested, by [`Sim::shutdown`], by dropping the handle,
    /// or by `POST /_sim/shutdown`.
    pub async fn shutdown_requested(&self) {
        self.shared.lifecycle.stopped().await;
    }

    /// Stops listening, closes every connection (Centrifugo with close code 3001 "shutdown",
    /// legacy with 1001, HTTP connections abruptly), cancels the timelines, and waits until
    /// every simulator task has ended. Idempotent.
    pub async fn shutdown(&self) {
        self.shared.lifecycle.request_stop();
        self.shared.lifecycle.wait_idle().await;
    }

    /// Whether a stop has been requested.
    pub fn is_shut_down(&self) -> bool {
        self.shared.lifecycle.is_stopping()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.shared.lifecycle.request_stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn handles_can_be_shared_across_threads() {
        let _watchdog = crate::test_watchdog::arm();
        assert_send_sync::<Sim>();
        assert_send_sync::<Faults>();
        assert_send_sync::<Stats>();
    }

    #[test]
    fn handle_methods_work_from_a_thread_outside_the_runtime() {
        let _watchdog = crate::test_watchdog::arm();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let sim = runtime
            .block_on(Sim::start(SimConfig::default()))
            .expect("sim starts");
        // Not within the runtime: the timeline task still goes to the simulator's runtime.
        sim.add_order(OrderSpec::new(1).then_after(std::time::Duration::from_millis(1), "paid"));
        runtime.block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(10), async {
                while sim.order_status(1).as_deref() != Some("paid") {
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
            })
            .await
            .expect("the timeline ran");
            sim.shutdown().await;
        });
    }
}
