//! Sizes of the library's per-tracker state that a memory profile points at (diagnostics only).

use std::sync::Arc;

use tokio::sync::watch;
use xo_tracker::api::ApiClient;
use xo_tracker::dispatch::Dispatcher;
use xo_tracker::engine::{Lifecycle, Shared};
use xo_tracker::net::Network;
use xo_tracker::transport::centrifugo::CentrifugoHubs;
use xo_tracker::transport::{PushEvent, SocketSettings};
use xo_tracker::{tracker, Config, Token};

/// Sizes in bytes, see the fields.
pub struct Sizes {
    /// `tracker::track(..)`, the future of one tracker.
    pub tracker: usize,
    /// That future wrapped as `Engine::spawn` does (`async move { work.await; .. }`).
    pub spawned: usize,
    /// That future wrapped with `FutureExt::map` instead.
    pub mapped: usize,
    /// One message of a tracker's push channel (a tokio mpsc block holds 32).
    pub push_event: usize,
}

/// Sizes of the per-tracker futures and messages.
pub fn tracker_sizes() -> Result<Sizes, String> {
    let mut config = Config::new(crate::host::PROJECT);
    config.api_base_url = "http://127.0.0.1:9/api".into();
    config.allow_insecure_loopback = true;
    let net = Arc::new(Network::new(&config)?);
    let api = ApiClient::new(&config, &net)?;
    let sockets = Arc::new(SocketSettings {
        net,
        timing: config.timing,
        wake: tokio::sync::Notify::new(),
    });
    let hubs = CentrifugoHubs::new(config.centrifugo_url.clone(), 1, sockets.clone());
    let shared = Arc::new(Shared {
        dispatcher: Dispatcher::new(config.delivery),
        config: Arc::new(config),
        api,
        hubs,
        sockets,
        purchases: None,
    });
    let token = Token::new(crate::host::TOKEN).map_err(|e| e.to_string())?;
    let (_token_tx, token_rx) = watch::channel(token);
    let (_life_tx, life_rx) = watch::channel(Lifecycle {
        active: true,
        network_epoch: 0,
    });
    let make = || tracker::track(shared.clone(), 1, 1, token_rx.clone(), life_rx.clone());
    let tracker = std::mem::size_of_val(&make());
    // The shape of `Engine::spawn`: the captured future is awaited inside an async block.
    let done = Arc::new(std::sync::Mutex::new(0u64));
    let work = make();
    let spawned = {
        let done = done.clone();
        async move {
            work.await;
            *done.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        }
    };
    let mapped = futures_util::FutureExt::map(make(), move |_final| {
        *done.lock().unwrap_or_else(|e| e.into_inner()) += 1;
    });
    Ok(Sizes {
        tracker,
        spawned: std::mem::size_of_val(&spawned),
        mapped: std::mem::size_of_val(&mapped),
        push_event: std::mem::size_of::<PushEvent>(),
    })
}
