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
pub mod ffi;
pub mod journal;
pub mod log;
pub mod restore;
pub mod runtime;
pub mod secret;
mod sync;
pub mod tls;
pub mod tracker;
pub mod transport;

pub use config::{Config, Delivery, Timing, Transport};
pub use engine::{Engine, Error};
pub use events::{ErrorInfo, ErrorKind, Event, EventKind, Origin, Outcome, Status, TransportState};
pub use secret::Token;
