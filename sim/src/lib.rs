//! `xo_sim`: a loopback simulator of Xsolla's order-status endpoints, with fault injection.
//!
//! One `127.0.0.1` port serves the Centrifugo WebSocket endpoint, the legacy per-order socket,
//! the Get-order HTTP endpoint and a `/_sim/` control API. Everything runs as tasks on the tokio
//! runtime that called [`Sim::start`] and uses tokio time only, so a test can run the simulator
//! and the client under test in one `#[tokio::test(start_paused = true)]` runtime. See the
//! crate's README for the full contract.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use std::time::Duration;
//! let sim = xo_sim::Sim::start(xo_sim::SimConfig::default()).await?;
//! sim.add_order(xo_sim::OrderSpec::new(42).then_after(Duration::from_secs(2), "done"));
//! let url = sim.centrifugo_url();
//! // ... point the client at `url` and `sim.api_base_url()` ...
//! sim.wait_until(|s| s.centrifugo_connects >= 1).await;
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

mod api;
mod centrifugo;
mod chaos;
mod control;
mod events_api;
mod faults;
mod front;
mod http;
mod legacy;
mod lifecycle;
mod orders;
mod sim;
mod state;
mod stats;
mod ws;

pub use chaos::{CLEAN_AFTER_CONNECTIONS, CLEAN_AFTER_REQUESTS, STALL};

/// The wall-clock watchdog of the unit tests (test infrastructure shared with the library's tests).
#[cfg(test)]
#[path = "../../tests/common/watchdog.rs"]
mod test_watchdog;

pub use faults::Faults;
pub use front::{Front, TlsIdentity};
pub use orders::{sample_contents, OrderSpec};
pub use sim::{Sim, SimConfig};
pub use stats::{Stats, MAX_RECORDED_FRAMES};
