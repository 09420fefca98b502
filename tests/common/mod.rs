//! Shared test harness: the simulator, an engine on the test's (paused-clock) runtime, and an
//! event recorder.
#![allow(dead_code)]

pub mod watchdog;

use std::time::Duration;

use tokio::sync::mpsc;
use xo_sim::{Sim, SimConfig};
use xo_tracker::{
    Config, Delivery, Engine, Event, EventKind, Outcome, Token, Transport, TransportState,
};

pub const PROJECT: i64 = 1001;
pub const TOKEN: &str = "test-jwt-0123456789";

/// A library configuration pointing at the simulator.
pub fn config_for(sim: &Sim, transport: Transport) -> Config {
    let mut config = Config::new(PROJECT);
    config.transport = transport;
    config.centrifugo_url = sim.centrifugo_url();
    config.legacy_socket_url = sim.legacy_socket_url();
    config.api_base_url = sim.api_base_url();
    config.allow_insecure_loopback = true;
    // On a paused clock, tokio's auto-advance must see deliveries: the callback thread of
    // direct delivery is invisible to it (C, C++ and C# suites test that thread in real time).
    config.delivery = Delivery::Inline;
    config
}

pub struct Harness {
    pub sim: Sim,
    pub engine: Engine,
}

impl Harness {
    pub async fn start(transport: Transport) -> Harness {
        Harness::with(transport, |_| {}).await
    }

    pub async fn with(transport: Transport, adjust: impl FnOnce(&mut Config)) -> Harness {
        let sim = Sim::start(SimConfig::default())
            .await
            .expect("simulator starts");
        let mut config = config_for(&sim, transport);
        adjust(&mut config);
        let engine = Engine::new(config, tokio::runtime::Handle::current()).expect("engine");
        Harness { sim, engine }
    }

    /// Starts tracking and returns the handle and the event stream.
    pub fn track(&self, order_id: i64) -> (u64, Recorder) {
        let (listener, recorder) = recorder();
        let handle = self
            .engine
            .track(order_id, Token::new(TOKEN).unwrap(), listener)
            .expect("track");
        (handle, recorder)
    }
}

pub struct Recorder {
    rx: mpsc::UnboundedReceiver<Event>,
    /// When `until_last` received the final event (virtual time).
    pub final_at: Option<tokio::time::Instant>,
}

pub fn recorder() -> (xo_tracker::dispatch::Listener, Recorder) {
    let (tx, rx) = mpsc::unbounded_channel();
    let listener = Box::new(move |e: &Event| {
        let _ = tx.send(e.clone());
    });
    (listener, Recorder { rx, final_at: None })
}

impl Recorder {
    /// Every event up to and including the last one; then checks that nothing follows it.
    pub async fn until_last(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        loop {
            let event = tokio::time::timeout(Duration::from_secs(4 * 3600), self.rx.recv())
                .await
                .expect("a final event within 4 virtual hours")
                .expect("the listener is alive until the final event");
            let last = event.is_last();
            events.push(event);
            if last {
                self.final_at = Some(tokio::time::Instant::now());
                break;
            }
        }
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert!(self.rx.try_recv().is_err(), "no event after the final one");
        events
    }

    /// Events until one matches `pred` (inclusive).
    pub async fn until(&mut self, pred: impl Fn(&Event) -> bool) -> Vec<Event> {
        let mut events = Vec::new();
        loop {
            let event = tokio::time::timeout(Duration::from_secs(4 * 3600), self.rx.recv())
                .await
                .expect("the expected event within 4 virtual hours")
                .unwrap_or_else(|| panic!("the tracker ended early after {events:#?}"));
            let hit = pred(&event);
            events.push(event);
            if hit {
                return events;
            }
        }
    }

    pub fn try_next(&mut self) -> Option<Event> {
        self.rx.try_recv().ok()
    }
}

/// The statuses reported, in order.
pub fn statuses(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e.kind == EventKind::StatusChanged)
        .map(|e| {
            e.status
                .as_ref()
                .expect("status events carry a status")
                .as_str()
                .to_owned()
        })
        .collect()
}

/// The transport states reported, in order.
pub fn transports(events: &[Event]) -> Vec<TransportState> {
    events
        .iter()
        .filter(|e| e.kind == EventKind::TransportChanged)
        .filter_map(|e| e.transport)
        .collect()
}

/// The final event, checking there is exactly one and it is last.
pub fn final_event(events: &[Event]) -> &Event {
    let finals: Vec<_> = events.iter().filter(|e| e.is_last()).collect();
    assert_eq!(finals.len(), 1, "exactly one final event: {events:#?}");
    assert!(events.last().unwrap().is_last(), "the final event is last");
    finals[0]
}

pub fn outcome(events: &[Event]) -> Outcome {
    final_event(events).outcome
}

pub fn queued(config: &mut Config) {
    config.delivery = Delivery::Queued;
}
