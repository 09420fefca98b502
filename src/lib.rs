//! xo-tracker: follows an Xsolla store order from "created" to "delivered" for game engines.
//!
//! The core is plain Rust ([`Engine`], [`Config`], [`Event`]); [`ffi`] exposes it as a C ABI
//! (`include/xo_tracker.h`), which the C#, C++ and Unreal bindings wrap.

pub mod api;
pub mod backoff;
pub mod config;
pub mod contents;
pub mod dispatch;
pub mod engine;
pub mod events;
pub mod fault;
pub mod ffi;
pub mod journal;
pub mod limits;
pub mod log;
pub mod net;
pub mod restore;
pub mod runtime;
pub mod secret;
pub mod supervise;
mod sync;
pub mod time;
pub mod tls;
pub mod tracker;
pub mod transport;

/// The wall-clock watchdog of the unit tests (shared with the integration tests).
#[cfg(test)]
#[path = "../tests/common/watchdog.rs"]
mod test_watchdog;

pub use config::{Config, Delivery, Timing, Transport};
pub use engine::{Engine, Error};
pub use events::{ErrorInfo, ErrorKind, Event, EventKind, Origin, Outcome, Status, TransportState};
pub use secret::Token;
