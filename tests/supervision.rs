//! Every task may die: with the test-only `fault-injection` feature, each fault point of the
//! library is made to panic once, and the library must still keep its promise — exactly one last
//! event per handle (`FAILED` with `ErrorKind::Panic` when the tracker itself died), the handle
//! freed, other trackers unharmed, a dead shared socket replaced by polling and restarted, and
//! nothing printed to the host's stderr (a recording panic hook stands in for stderr).
//!
//! Run with `cargo test --features fault-injection --test supervision` (the test command does).
#![cfg(feature = "fault-injection")]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::Duration;

use common::{final_event, recorder, transports, Harness};
use xo_sim::OrderSpec;
use xo_tracker::{fault, Engine, ErrorKind, EventKind, Outcome, Token, Transport, TransportState};

/// Panics that reached the hook the host had before the library's (stderr, for a real host).
static HOST_HOOK_CALLS: AtomicUsize = AtomicUsize::new(0);
static HOOKS: Once = Once::new();
/// Fault points are process-wide: one case at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn install_hooks() {
    HOOKS.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            HOST_HOOK_CALLS.fetch_add(1, Ordering::SeqCst);
            eprintln!("panic reached the host's hook: {info}");
        }));
        xo_tracker::supervise::install_panic_hook();
    });
}

fn token() -> Token {
    Token::new(common::TOKEN).unwrap()
}

/// Arms `point`, runs one tracker that passes it, and checks the promise.
async fn tracker_dies_at(point: &str, transport: Transport) {
    let h = Harness::start(transport).await;
    h.sim.add_order(
        OrderSpec::new(1)
            .status("new")
            .then_after(Duration::from_secs(5), "done"),
    );
    h.sim.add_order(OrderSpec::new(2).status("done"));
    let before = HOST_HOOK_CALLS.load(Ordering::SeqCst);
    fault::arm(point, 0);
    let (handle, mut rec) = h.track(1);
    let events = rec.until_last().await;
    assert!(fault::disarm(), "{point}: the fault point was reached");
    let last = final_event(&events);
    assert_eq!(last.outcome, Outcome::Failed, "{point}: {events:#?}");
    let error = last.error.as_ref().expect("an error on the failed final");
    assert_eq!(error.kind, ErrorKind::Panic, "{point}");
    assert!(
        error.message.contains("failed"),
        "{point}: {}",
        error.message
    );
    assert_eq!(h.engine.active(), 0, "{point}: the handle is freed");
    assert!(
        h.engine.update_token(handle, token()).is_err(),
        "{point}: dead handle refuses a token"
    );
    assert!(
        h.engine.cancel(handle).is_err(),
        "{point}: dead handle is unknown"
    );
    assert_eq!(
        HOST_HOOK_CALLS.load(Ordering::SeqCst),
        before,
        "{point}: stderr stayed clean"
    );
    // Nothing lost for the others: a new tracker works.
    let (_, mut other) = h.track(2);
    assert_eq!(
        final_event(&other.until_last().await).outcome,
        Outcome::Done,
        "{point}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_tracker_that_panics_ends_with_one_failed_final() {
    let _watchdog = common::watchdog::arm();
    install_hooks();
    let _turn = SERIAL.lock().await;
    tracker_dies_at("tracker.request", Transport::PollingOnly).await;
    tracker_dies_at("tracker.fetched", Transport::PollingOnly).await;
    tracker_dies_at("tracker.timer", Transport::PollingOnly).await;
    tracker_dies_at("tracker.push", Transport::Centrifugo).await;
    tracker_dies_at("tracker.push", Transport::LegacySocket).await;
}

#[tokio::test(start_paused = true)]
async fn a_check_that_panics_answers_once_with_failed() {
    let _watchdog = common::watchdog::arm();
    install_hooks();
    let _turn = SERIAL.lock().await;
    let h = Harness::start(Transport::PollingOnly).await;
    h.sim.add_order(OrderSpec::new(3).status("paid"));
    fault::arm("check.request", 0);
    let (listener, mut rec) = recorder();
    let handle = h.engine.check(3, token(), listener).unwrap();
    let events = rec.until_last().await;
    assert!(fault::disarm());
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::CheckResult);
    assert_eq!(events[0].outcome, Outcome::Failed);
    assert_eq!(events[0].error.as_ref().unwrap().kind, ErrorKind::Panic);
    assert!(h.engine.cancel(handle).is_err());
}

/// The shared socket task dies: every subscriber polls at once, and the socket comes back.
async fn socket_dies_at(point: &str, transport: Transport, skip: u32) {
    let h = Harness::start(transport).await;
    h.sim.add_order(
        OrderSpec::new(4)
            .status("new")
            .then_after(Duration::from_secs(120), "done"),
    );
    let before = HOST_HOOK_CALLS.load(Ordering::SeqCst);
    fault::arm(point, skip);
    let (_, mut rec) = h.track(4);
    let events = rec.until_last().await;
    assert!(fault::disarm(), "{point}: reached");
    assert_eq!(
        final_event(&events).outcome,
        Outcome::Done,
        "{point}: {events:#?}"
    );
    let seen = transports(&events);
    let polling = events
        .iter()
        .find(|e| e.transport == Some(TransportState::Polling))
        .unwrap_or_else(|| panic!("{point}: polled after the socket task died: {seen:?}"));
    assert_eq!(
        polling.error.as_ref().unwrap().kind,
        ErrorKind::Internal,
        "{point}"
    );
    assert!(
        seen.contains(&TransportState::SocketRestored),
        "{point}: the socket task restarted: {seen:?}"
    );
    assert_eq!(
        HOST_HOOK_CALLS.load(Ordering::SeqCst),
        before,
        "{point}: stderr stayed clean"
    );
}

#[tokio::test(start_paused = true)]
async fn a_socket_task_that_panics_is_replaced_by_polling_and_restarted() {
    let _watchdog = common::watchdog::arm();
    install_hooks();
    let _turn = SERIAL.lock().await;
    socket_dies_at("socket.connected", Transport::Centrifugo, 0).await;
    socket_dies_at("socket.connected", Transport::LegacySocket, 0).await;
    // The first frame is the connect reply's successor: a server ping or a publication.
    socket_dies_at("socket.frame", Transport::Centrifugo, 0).await;
}

#[tokio::test(start_paused = true)]
async fn a_socket_task_that_panics_while_reconnecting_restarts() {
    let _watchdog = common::watchdog::arm();
    install_hooks();
    let _turn = SERIAL.lock().await;
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim.faults().centrifugo_refuse(1);
    h.sim.add_order(
        OrderSpec::new(6)
            .status("new")
            .then_after(Duration::from_secs(120), "done"),
    );
    let before = HOST_HOOK_CALLS.load(Ordering::SeqCst);
    fault::arm("socket.reconnect", 0);
    let (_, mut rec) = h.track(6);
    let events = rec.until_last().await;
    assert!(fault::disarm(), "reached");
    let seen = transports(&events);
    assert_eq!(seen.first(), Some(&TransportState::Polling), "{seen:?}");
    assert!(seen.contains(&TransportState::SocketRestored), "{seen:?}");
    assert_eq!(final_event(&events).outcome, Outcome::Done);
    assert_eq!(HOST_HOOK_CALLS.load(Ordering::SeqCst), before);
}

#[tokio::test(start_paused = true)]
async fn a_panic_while_delivering_loses_no_later_event() {
    let _watchdog = common::watchdog::arm();
    install_hooks();
    let _turn = SERIAL.lock().await;
    let h = Harness::start(Transport::PollingOnly).await;
    h.sim.add_order(
        OrderSpec::new(5)
            .status("new")
            .then_after(Duration::from_secs(4), "done"),
    );
    fault::arm("dispatch.deliver", 0);
    let (_, mut rec) = h.track(5);
    let events = rec.until_last().await;
    assert!(fault::disarm());
    // The first delivery (TRANSPORT_CHANGED/POLLING) died; every later one arrived.
    assert_eq!(events[0].kind, EventKind::StatusChanged, "{events:#?}");
    assert_eq!(final_event(&events).outcome, Outcome::Done);
}

/// Fails the task at its first, second, third ... poll — every await point it passes on the way
/// to its final — until a run passes them all without the fault firing.
async fn every_await_point_of(label: &'static str, transport: Transport) -> u32 {
    for skip in 0..500 {
        let h = Harness::start(transport).await;
        h.sim.add_order(
            OrderSpec::new(7)
                .status("new")
                .then_after(Duration::from_secs(4), "paid")
                .then_after(Duration::from_secs(4), "done"),
        );
        let before = HOST_HOOK_CALLS.load(Ordering::SeqCst);
        fault::arm_poll(label, skip);
        let (handle, mut rec) = if label == "check" {
            let (listener, rec) = recorder();
            (h.engine.check(7, token(), listener).unwrap(), rec)
        } else {
            h.track(7)
        };
        let events = rec.until_last().await;
        let fired = fault::disarm_poll();
        let last = events.last().unwrap();
        assert_eq!(
            events.iter().filter(|e| e.is_last()).count(),
            1,
            "{label} poll {skip}"
        );
        assert_eq!(
            HOST_HOOK_CALLS.load(Ordering::SeqCst),
            before,
            "{label} poll {skip}: stderr"
        );
        assert_eq!(h.engine.active(), 0, "{label} poll {skip}: handle freed");
        assert!(h.engine.cancel(handle).is_err(), "{label} poll {skip}");
        match (label, fired) {
            // The tracker or check itself died: one FAILED/PANIC last event.
            ("tracker" | "check", true) => {
                assert_eq!(
                    last.outcome,
                    Outcome::Failed,
                    "{label} poll {skip}: {events:#?}"
                );
                assert_eq!(last.error.as_ref().unwrap().kind, ErrorKind::Panic);
            }
            // A dead socket task is replaced by polling: the order still completes.
            (_, true) => assert_eq!(
                last.outcome,
                Outcome::Done,
                "socket poll {skip}: {events:#?}"
            ),
            (_, false) => {
                assert!(
                    matches!(last.outcome, Outcome::Done | Outcome::None),
                    "{label}: an unharmed run ends normally: {events:#?}"
                );
                return skip;
            }
        }
    }
    panic!("{label}: more than 500 polls");
}

#[tokio::test(start_paused = true)]
async fn a_panic_at_any_await_point_of_any_task_keeps_the_promise() {
    let _watchdog = common::watchdog::arm();
    install_hooks();
    let _turn = SERIAL.lock().await;
    let mut covered = Vec::new();
    for (label, transport) in [
        ("tracker", Transport::Centrifugo),
        ("tracker", Transport::LegacySocket),
        ("tracker", Transport::PollingOnly),
        ("check", Transport::PollingOnly),
        ("socket", Transport::Centrifugo),
        ("socket", Transport::LegacySocket),
    ] {
        let polls = every_await_point_of(label, transport).await;
        assert!(polls >= 2, "{label}/{transport:?}: only {polls} polls");
        covered.push(format!("{label}/{transport:?}: {polls}"));
    }
    println!("await points failed one by one: {}", covered.join(", "));
}

#[test]
fn every_fault_point_is_visited_by_a_test() {
    let _watchdog = common::watchdog::arm();
    let source = include_str!("supervision.rs");
    for point in fault::POINTS {
        assert!(
            source.contains(&format!("\"{point}\"")),
            "{point} has no test"
        );
    }
    let _ = Engine::new; // the engine API is what these tests drive
}
