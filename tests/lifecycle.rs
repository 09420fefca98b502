//! Mobile lifecycle: pausing keeps trackers without consuming their deadlines; resuming checks at
//! once; a network change skips the reconnect backoff.

mod common;

use std::time::Duration;

use common::*;
use xo_sim::OrderSpec;
use xo_tracker::{EventKind, Outcome, Transport, TransportState};

const S: fn(u64) -> Duration = Duration::from_secs;

#[tokio::test(start_paused = true)]
async fn pause_closes_the_socket_and_stops_requests_without_spending_the_deadline() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::with(Transport::Centrifugo, |c| {
        c.timing.overall_deadline = S(10 * 60)
    })
    .await;
    h.sim.add_order(OrderSpec::new(50).status("new"));
    let (_, mut rec) = h.track(50);
    rec.until(|e| e.transport == Some(TransportState::SocketConnected))
        .await;
    h.engine.set_app_active(false);
    h.sim.wait_until(|s| s.centrifugo_live == 0).await;
    let requests = h.sim.stats().http_requests[&50];
    // Paid while the app sleeps for longer than the overall deadline.
    tokio::time::sleep(S(60)).await;
    h.sim.set_status(50, "paid");
    tokio::time::sleep(S(20 * 60)).await;
    assert_eq!(
        h.sim.stats().http_requests[&50],
        requests,
        "no request while paused"
    );
    assert!(rec.try_next().is_none(), "nothing happens while paused");

    let resumed_at = tokio::time::Instant::now();
    h.engine.set_app_active(true);
    let events = rec.until(|e| e.kind == EventKind::StatusChanged).await;
    assert_eq!(
        statuses(&events),
        ["paid"],
        "the resume request finds what changed"
    );
    h.sim.set_status(50, "done");
    let events = rec.until_last().await;
    assert_eq!(
        outcome(&events),
        Outcome::Done,
        "the deadline did not run while paused"
    );
    assert!(rec.final_at.unwrap() - resumed_at < S(5));
    assert_eq!(
        h.sim.stats().centrifugo_connects,
        2,
        "the socket reconnected on resume"
    );
}

#[tokio::test(start_paused = true)]
async fn the_polling_deadline_is_frozen_while_paused() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::PollingOnly).await;
    h.sim.add_order(OrderSpec::new(51).status("new"));
    let started = tokio::time::Instant::now();
    let (_, mut rec) = h.track(51);
    tokio::time::sleep(S(5 * 60)).await;
    h.engine.set_app_active(false);
    tokio::time::sleep(S(30 * 60)).await;
    h.engine.set_app_active(true);
    let events = rec.until_last().await;
    assert_eq!(outcome(&events), Outcome::TimedOut);
    let took = rec.final_at.unwrap() - started;
    assert!(
        took >= S(40 * 60) && took < S(40 * 60 + 5),
        "10 min of polling plus 30 min paused: {took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn trackers_started_while_paused_wait_for_resume() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim.add_order(OrderSpec::new(52).status("done"));
    h.engine.set_app_active(false);
    let (_, mut rec) = h.track(52);
    tokio::time::sleep(S(60)).await;
    assert!(rec.try_next().is_none());
    assert!(!h.sim.stats().http_requests.contains_key(&52));
    h.engine.set_app_active(true);
    assert_eq!(outcome(&rec.until_last().await), Outcome::Done);
}

#[tokio::test(start_paused = true)]
async fn network_changed_reconnects_without_waiting_out_the_backoff() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::with(Transport::Centrifugo, |c| {
        c.timing.backoff_min = S(60);
        c.timing.backoff_max = S(120);
    })
    .await;
    h.sim.faults().centrifugo_refuse(1);
    h.sim.add_order(OrderSpec::new(53).status("new"));
    let (_, mut rec) = h.track(53);
    rec.until(|e| e.transport == Some(TransportState::Polling))
        .await;
    let requests = h.sim.stats().http_requests[&53];
    tokio::time::sleep(S(1)).await;
    let changed_at = tokio::time::Instant::now();
    h.engine.network_changed();
    rec.until(|e| e.transport == Some(TransportState::SocketRestored))
        .await;
    assert!(
        changed_at.elapsed() < S(1),
        "reconnected at once, not after the 60 s backoff"
    );
    assert!(
        h.sim.stats().http_requests[&53] > requests,
        "and checked the order"
    );
    h.sim.set_status(53, "done");
    assert_eq!(outcome(&rec.until_last().await), Outcome::Done);
}
