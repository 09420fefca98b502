//! The tracking algorithm against the simulator over real loopback sockets, on a paused clock:
//! 3 s polls, the 5 min re-establish, the 10 min polling deadline and the overall deadline all run
//! in virtual time.

mod common;

use std::time::Duration;

use common::*;
use xo_sim::OrderSpec;
use xo_tracker::{ErrorKind, EventKind, Outcome, Transport, TransportState};

const S: fn(u64) -> Duration = Duration::from_secs;

#[tokio::test(start_paused = true)]
async fn centrifugo_push_delivers_new_paid_done_with_contents() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim.add_order(
        OrderSpec::new(42)
            .status("new")
            .then_after(S(2), "paid")
            .then_after(S(1), "done"),
    );
    let (_, mut rec) = h.track(42);
    let events = rec.until_last().await;
    assert_eq!(statuses(&events), ["new", "paid", "done"]);
    assert_eq!(transports(&events), [TransportState::SocketConnected]);
    let last = final_event(&events);
    assert_eq!(last.outcome, Outcome::Done);
    let contents: serde_json::Value =
        serde_json::from_str(last.contents.as_deref().expect("contents on done")).unwrap();
    assert!(contents["items"].is_array(), "contents: {contents}");
    let stats = h.sim.stats();
    assert_eq!(stats.centrifugo_connects, 1);
    // Initial GET, the GET after connecting, and the GET for the contents of the pushed `done`.
    assert_eq!(
        stats.http_requests.get(&42).copied().unwrap_or(0),
        3,
        "{stats:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_status_pushed_before_the_socket_was_up_is_seen_by_the_first_request() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    // The order became final before tracking started and its push was never delivered.
    h.sim
        .add_order(OrderSpec::new(7).status("done").push(false));
    let (_, mut rec) = h.track(7);
    let events = rec.until_last().await;
    assert_eq!(statuses(&events), ["done"]);
    assert_eq!(outcome(&events), Outcome::Done);
    assert!(final_event(&events).contents.is_some());
}

#[tokio::test(start_paused = true)]
async fn a_change_during_the_connect_gap_is_caught_by_the_request_after_connecting() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim.add_order(
        OrderSpec::new(8)
            .status("new")
            .then_after(Duration::from_millis(1), "done")
            .push(false),
    );
    let (_, mut rec) = h.track(8);
    let events = rec.until_last().await;
    assert_eq!(outcome(&events), Outcome::Done);
    assert_eq!(statuses(&events).last().map(String::as_str), Some("done"));
}

#[tokio::test(start_paused = true)]
async fn refused_socket_falls_back_to_polling_every_3_seconds() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim.faults().centrifugo_refuse(1_000_000);
    h.sim
        .add_order(OrderSpec::new(9).status("new").then_after(S(31), "done"));
    let (_, mut rec) = h.track(9);
    let events = rec.until_last().await;
    assert_eq!(transports(&events), [TransportState::Polling]);
    let fallback = events
        .iter()
        .find(|e| e.kind == EventKind::TransportChanged)
        .unwrap();
    assert!(
        fallback
            .error
            .as_ref()
            .is_some_and(|e| !e.message.is_empty()),
        "the fallback says why"
    );
    assert_eq!(statuses(&events), ["new", "done"]);
    assert_eq!(outcome(&events), Outcome::Done);
    let gets = h.sim.stats().http_requests[&9];
    // ~31 s of polling at 3 s (plus the initial and fallback requests), never more.
    assert!((10..=14).contains(&gets), "{gets} requests");
}

#[tokio::test(start_paused = true)]
async fn socket_restored_while_polling_stops_polling_without_duplicate_statuses() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim.faults().centrifugo_refuse(2);
    h.sim.add_order(
        OrderSpec::new(10)
            .status("new")
            .then_after(S(120), "paid")
            .then_after(S(60), "done"),
    );
    let (_, mut rec) = h.track(10);
    let early = rec
        .until(|e| e.transport == Some(TransportState::SocketRestored))
        .await;
    assert_eq!(
        transports(&early),
        [TransportState::Polling, TransportState::SocketRestored]
    );
    let gets_when_restored = h.sim.stats().http_requests[&10];
    let events = [early, rec.until_last().await].concat();
    assert_eq!(statuses(&events), ["new", "paid", "done"]);
    assert_eq!(outcome(&events), Outcome::Done);
    // After the socket came back: one request after connecting and one for the contents; no polling.
    let gets = h.sim.stats().http_requests[&10];
    assert!(
        gets <= gets_when_restored + 2,
        "{gets_when_restored} then {gets}"
    );
}

#[tokio::test(start_paused = true)]
async fn socket_reset_and_clean_close_mid_tracking_fall_back_then_reconnect() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim
        .add_order(OrderSpec::new(11).status("new").then_after(S(600), "done"));
    let (_, mut rec) = h.track(11);
    rec.until(|e| e.transport == Some(TransportState::SocketConnected))
        .await;
    h.sim.faults().centrifugo_reset_all();
    let events = rec
        .until(|e| e.transport == Some(TransportState::SocketRestored))
        .await;
    assert_eq!(
        transports(&events),
        [TransportState::Polling, TransportState::SocketRestored]
    );
    h.sim.faults().centrifugo_close_all(3000, "server restart");
    let events = rec
        .until(|e| e.transport == Some(TransportState::SocketRestored))
        .await;
    assert_eq!(
        transports(&events),
        [TransportState::Polling, TransportState::SocketRestored]
    );
    h.sim.set_status(11, "done");
    let events = rec.until_last().await;
    assert_eq!(outcome(&events), Outcome::Done);
}

#[tokio::test(start_paused = true)]
async fn a_silent_socket_is_declared_dead_after_ping_plus_10_seconds() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim.add_order(OrderSpec::new(12).status("new"));
    let (_, mut rec) = h.track(12);
    rec.until(|e| e.transport == Some(TransportState::SocketConnected))
        .await;
    let silent_since = tokio::time::Instant::now();
    h.sim.faults().centrifugo_silent(true);
    let events = rec
        .until(|e| e.transport == Some(TransportState::Polling))
        .await;
    let waited = silent_since.elapsed();
    // The simulator pings every 25 s: dead after at most 25 + 10 s of silence.
    assert!(waited <= S(35) + Duration::from_millis(100), "{waited:?}");
    assert_eq!(
        events.last().unwrap().error.as_ref().unwrap().kind,
        ErrorKind::Timeout
    );
    h.sim.faults().centrifugo_silent(false);
    h.sim.set_status(12, "canceled");
    assert_eq!(outcome(&rec.until_last().await), Outcome::Canceled);
}

#[tokio::test(start_paused = true)]
async fn pings_are_answered_so_a_healthy_socket_stays_up() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim
        .add_order(OrderSpec::new(13).status("new").then_after(S(200), "done"));
    let (_, mut rec) = h.track(13);
    let events = rec.until_last().await;
    assert_eq!(transports(&events), [TransportState::SocketConnected]);
    let stats = h.sim.stats();
    assert!(
        stats.pongs_received >= 7,
        "{} pongs for {} pings",
        stats.pongs_received,
        stats.pings_sent
    );
    assert_eq!(stats.centrifugo_connects, 1);
}

#[tokio::test(start_paused = true)]
async fn a_rejected_connect_is_not_retried_and_polling_finishes_the_job() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim
        .faults()
        .centrifugo_reject_connect(1, 101, "unauthorized", false);
    h.sim
        .add_order(OrderSpec::new(14).status("new").then_after(S(20), "done"));
    let (_, mut rec) = h.track(14);
    let events = rec.until_last().await;
    assert_eq!(transports(&events), [TransportState::Polling]);
    let fallback = events
        .iter()
        .find(|e| e.kind == EventKind::TransportChanged)
        .unwrap();
    assert_eq!(
        fallback.error.as_ref().unwrap().kind,
        ErrorKind::SocketRejected
    );
    assert_eq!(outcome(&events), Outcome::Done);
    assert_eq!(
        h.sim.stats().centrifugo_connects,
        1,
        "no reconnect with refused credentials"
    );
}

#[tokio::test(start_paused = true)]
async fn a_temporary_connect_error_is_retried_with_backoff() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim
        .faults()
        .centrifugo_reject_connect(1, 100, "internal", true);
    h.sim
        .add_order(OrderSpec::new(15).status("new").then_after(S(60), "done"));
    let (_, mut rec) = h.track(15);
    let events = rec.until_last().await;
    assert_eq!(
        transports(&events),
        [TransportState::Polling, TransportState::SocketRestored]
    );
    assert_eq!(outcome(&events), Outcome::Done);
}

#[tokio::test(start_paused = true)]
async fn frames_with_several_messages_garbage_and_foreign_orders_are_handled() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim.add_order(OrderSpec::new(16).status("new"));
    let (_, mut rec) = h.track(16);
    let first = rec
        .until(|e| e.transport == Some(TransportState::SocketConnected))
        .await;
    if statuses(&first).is_empty() {
        rec.until(|e| e.kind == EventKind::StatusChanged).await;
    }
    let push = |id: i64, status: &str| {
        format!(
            r#"{{"push":{{"channel":"c","pub":{{"data":{{"order_id":{id},"status":"{status}"}},"offset":1}}}}}}"#
        )
    };
    h.sim.faults().centrifugo_send_raw("{not json");
    h.sim.faults().centrifugo_send_raw(format!(
        "{}\n{{}}\n{}\n",
        push(999, "done"),
        push(16, "in_review")
    ));
    let events = rec.until(|e| e.kind == EventKind::StatusChanged).await;
    assert_eq!(
        statuses(&events),
        ["in_review"],
        "the unknown status is reported raw; the foreign order ignored"
    );
    assert!(
        transports(&events).is_empty(),
        "garbage does not drop the socket"
    );
    h.sim.faults().centrifugo_send_raw(push(16, "done"));
    let events = rec.until_last().await;
    assert_eq!(statuses(&events), ["done"]);
    assert_eq!(outcome(&events), Outcome::Done);
}

#[tokio::test(start_paused = true)]
async fn an_oversized_frame_drops_the_socket_and_polling_takes_over() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim.add_order(OrderSpec::new(17).status("new"));
    let (_, mut rec) = h.track(17);
    rec.until(|e| e.transport == Some(TransportState::SocketConnected))
        .await;
    h.sim.faults().centrifugo_send_raw("x".repeat(200 * 1024));
    let events = rec.until(|e| e.kind == EventKind::TransportChanged).await;
    assert_eq!(transports(&events), [TransportState::Polling]);
    assert_eq!(
        events.last().unwrap().error.as_ref().unwrap().kind,
        ErrorKind::Protocol
    );
    h.sim.set_status(17, "done");
    assert_eq!(outcome(&rec.until_last().await), Outcome::Done);
}

#[tokio::test(start_paused = true)]
async fn canceled_and_expired_end_tracking() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim.add_order(
        OrderSpec::new(18)
            .status("new")
            .then_after(S(5), "canceled"),
    );
    h.sim
        .add_order(OrderSpec::new(19).status("new").then_after(S(5), "expired"));
    let (_, mut canceled) = h.track(18);
    let (_, mut expired) = h.track(19);
    let c = canceled.until_last().await;
    let e = expired.until_last().await;
    assert_eq!(
        (statuses(&c), outcome(&c)),
        (
            vec!["new".to_owned(), "canceled".to_owned()],
            Outcome::Canceled
        )
    );
    assert_eq!(
        (statuses(&e), outcome(&e)),
        (
            vec!["new".to_owned(), "expired".to_owned()],
            Outcome::Expired
        )
    );
    assert!(final_event(&c).contents.is_none());
    assert_eq!(
        h.sim.stats().centrifugo_connects,
        1,
        "both orders share one connection"
    );
}

#[tokio::test(start_paused = true)]
async fn many_orders_share_one_centrifugo_connection() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    let mut recorders = Vec::new();
    for id in 100..150 {
        h.sim.add_order(
            OrderSpec::new(id)
                .status("new")
                .then_after(S(10 + (id as u64 % 7)), "done"),
        );
        recorders.push(h.track(id).1);
    }
    assert_eq!(h.engine.active(), 50, "every tracker is running");
    for _ in 0..50 {
        if h.engine.centrifugo_connections() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await; // virtual time: the connect runs
    }
    assert_eq!(
        h.engine.centrifugo_connections(),
        1,
        "one shared connection"
    );
    for rec in &mut recorders {
        assert_eq!(outcome(&rec.until_last().await), Outcome::Done);
    }
    assert_eq!(h.sim.stats().centrifugo_connects, 1);
    assert_eq!(h.engine.active(), 0);
    tokio::time::sleep(S(1)).await;
    assert_eq!(
        h.engine.centrifugo_connections(),
        0,
        "the connection closes with its last tracker"
    );
}

#[tokio::test(start_paused = true)]
async fn the_socket_is_reestablished_every_5_minutes() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim.add_order(
        OrderSpec::new(20)
            .status("new")
            .then_after(S(11 * 60), "done"),
    );
    let (_, mut rec) = h.track(20);
    let events = rec.until_last().await;
    assert_eq!(
        transports(&events),
        [
            TransportState::SocketConnected,
            TransportState::SocketReestablished,
            TransportState::SocketReestablished
        ]
    );
    assert_eq!(outcome(&events), Outcome::Done);
    assert_eq!(h.sim.stats().centrifugo_connects, 3);
}

#[tokio::test(start_paused = true)]
async fn polling_gives_up_after_10_minutes_without_a_final_status() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::PollingOnly).await;
    h.sim
        .add_order(OrderSpec::new(21).status("new").then_after(S(30), "paid"));
    let started = tokio::time::Instant::now();
    let (_, mut rec) = h.track(21);
    let events = rec.until_last().await;
    assert_eq!(transports(&events), [TransportState::Polling]);
    assert_eq!(statuses(&events), ["new", "paid"]);
    let last = final_event(&events);
    assert_eq!(last.outcome, Outcome::TimedOut);
    assert_eq!(last.error.as_ref().unwrap().kind, ErrorKind::Timeout);
    let took = rec.final_at.unwrap() - started;
    assert!(took >= S(600) && took < S(601), "{took:?}");
    let gets = h.sim.stats().http_requests[&21];
    assert!(
        (200..=202).contains(&gets),
        "{gets} requests in 10 min at 3 s"
    );
}

#[tokio::test(start_paused = true)]
async fn the_overall_deadline_ends_even_a_healthy_socket() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::with(Transport::Centrifugo, |c| {
        c.timing.overall_deadline = S(20 * 60)
    })
    .await;
    h.sim.add_order(OrderSpec::new(22).status("new"));
    let started = tokio::time::Instant::now();
    let (_, mut rec) = h.track(22);
    let events = rec.until_last().await;
    assert_eq!(outcome(&events), Outcome::TimedOut);
    let took = rec.final_at.unwrap() - started;
    assert!(took >= S(1200) && took < S(1201), "{took:?}");
}

#[tokio::test(start_paused = true)]
async fn server_errors_are_retried_until_the_server_recovers() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::PollingOnly).await;
    h.sim.add_order(OrderSpec::new(23).status("done"));
    h.sim.faults().http_error(23, 2, 500);
    h.sim.faults().http_error(23, 2, 502);
    h.sim.faults().http_error(23, 2, 503);
    let (_, mut rec) = h.track(23);
    let events = rec.until_last().await;
    assert_eq!(outcome(&events), Outcome::Done);
    assert_eq!(h.sim.stats().http_requests[&23], 7);
}

#[tokio::test(start_paused = true)]
async fn rate_limiting_honours_retry_after() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::PollingOnly).await;
    h.sim.add_order(OrderSpec::new(24).status("done"));
    h.sim.faults().http_rate_limit(24, 1, 30);
    let started = tokio::time::Instant::now();
    let (_, mut rec) = h.track(24);
    let events = rec.until_last().await;
    assert_eq!(outcome(&events), Outcome::Done);
    assert!(
        rec.final_at.unwrap() - started >= S(30),
        "the retry waited for Retry-After"
    );
    assert_eq!(h.sim.stats().http_requests[&24], 2);
}

#[tokio::test(start_paused = true)]
async fn slow_responses_time_out_and_are_retried() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::PollingOnly).await;
    h.sim.add_order(OrderSpec::new(25).status("done"));
    h.sim.faults().http_delay(25, 1, S(60));
    let (_, mut rec) = h.track(25);
    let events = rec.until_last().await;
    assert_eq!(outcome(&events), Outcome::Done);
    assert_eq!(h.sim.stats().http_requests[&25], 2);
}

#[tokio::test(start_paused = true)]
async fn dropped_http_connections_are_retried() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::PollingOnly).await;
    h.sim.add_order(OrderSpec::new(26).status("done"));
    h.sim.faults().http_drop(26, 2);
    let (_, mut rec) = h.track(26);
    assert_eq!(outcome(&rec.until_last().await), Outcome::Done);
}

#[tokio::test(start_paused = true)]
async fn unauthorized_asks_for_a_token_and_continues_with_the_new_one() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::PollingOnly).await;
    h.sim
        .add_order(OrderSpec::new(27).status("new").then_after(S(40), "done"));
    h.sim.expire_token(TOKEN);
    let (handle, mut rec) = h.track(27);
    let events = rec.until(|e| e.kind == EventKind::TokenExpired).await;
    assert_eq!(
        events.last().unwrap().error.as_ref().unwrap().http_status,
        401
    );
    h.engine
        .update_token(handle, xo_tracker::Token::new("fresh-token").unwrap())
        .unwrap();
    let events = rec.until_last().await;
    assert_eq!(statuses(&events), ["new", "done"]);
    assert_eq!(outcome(&events), Outcome::Done);
}

#[tokio::test(start_paused = true)]
async fn unauthorized_without_a_new_token_ends_after_the_token_wait() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::PollingOnly).await;
    h.sim.add_order(OrderSpec::new(28).status("new"));
    h.sim.expire_token(TOKEN);
    let started = tokio::time::Instant::now();
    let (_, mut rec) = h.track(28);
    let events = rec.until_last().await;
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == EventKind::TokenExpired)
            .count(),
        1
    );
    assert_eq!(outcome(&events), Outcome::Unauthorized);
    let took = rec.final_at.unwrap() - started;
    assert!(took >= S(60) && took < S(61), "{took:?}");
}

#[tokio::test(start_paused = true)]
async fn an_expired_socket_token_is_replaced_with_update_token() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim.add_order(OrderSpec::new(29).status("new"));
    let (handle, mut rec) = h.track(29);
    rec.until(|e| e.transport == Some(TransportState::SocketConnected))
        .await;
    h.sim.expire_token(TOKEN);
    let events = rec.until(|e| e.kind == EventKind::TransportChanged).await;
    assert_eq!(transports(&events), [TransportState::Polling]);
    h.engine
        .update_token(handle, xo_tracker::Token::new("renewed").unwrap())
        .unwrap();
    rec.until(|e| e.transport == Some(TransportState::SocketRestored))
        .await;
    let commands = h.sim.stats().centrifugo_connect_commands;
    assert_eq!(
        commands.last().unwrap()["connect"]["data"]["auth"],
        "renewed"
    );
    h.sim.set_status(29, "done");
    assert_eq!(outcome(&rec.until_last().await), Outcome::Done);
}

#[tokio::test(start_paused = true)]
async fn not_found_is_confirmed_before_giving_up() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    let (_, mut rec) = h.track(404404);
    let events = rec.until_last().await;
    let last = final_event(&events);
    assert_eq!(last.outcome, Outcome::NotFound);
    assert_eq!(last.error.as_ref().unwrap().http_status, 404);
    assert!(last
        .error
        .as_ref()
        .unwrap()
        .message
        .contains("Order not found"));
    assert_eq!(h.sim.stats().http_requests[&404404], 2);
}

#[tokio::test(start_paused = true)]
async fn a_missing_order_that_appears_before_the_confirmation_is_tracked() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::PollingOnly).await;
    h.sim.add_order(OrderSpec::new(30).status("done"));
    h.sim.faults().http_error(30, 1, 404);
    let (_, mut rec) = h.track(30);
    assert_eq!(outcome(&rec.until_last().await), Outcome::Done);
}

#[tokio::test(start_paused = true)]
async fn unprocessable_requests_fail_at_once() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::PollingOnly).await;
    h.sim.add_order(OrderSpec::new(31).status("new"));
    h.sim.faults().http_error(31, 1, 422);
    let (_, mut rec) = h.track(31);
    let events = rec.until_last().await;
    assert_eq!(outcome(&events), Outcome::Failed);
    assert_eq!(
        final_event(&events).error.as_ref().unwrap().http_status,
        422
    );
}

#[tokio::test(start_paused = true)]
async fn legacy_socket_delivers_and_falls_back() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::LegacySocket).await;
    h.sim.add_order(
        OrderSpec::new(32)
            .status("new")
            .then_after(S(3), "paid")
            .then_after(S(3), "done"),
    );
    let (_, mut rec) = h.track(32);
    let events = rec.until_last().await;
    assert_eq!(statuses(&events), ["new", "paid", "done"]);
    assert_eq!(transports(&events), [TransportState::SocketConnected]);
    assert_eq!(outcome(&events), Outcome::Done);

    h.sim.faults().legacy_refuse(1_000_000);
    h.sim
        .add_order(OrderSpec::new(33).status("new").then_after(S(9), "done"));
    let (_, mut rec) = h.track(33);
    let events = rec.until_last().await;
    assert_eq!(transports(&events), [TransportState::Polling]);
    assert_eq!(outcome(&events), Outcome::Done);
    assert_eq!(h.sim.stats().legacy_connects, 1);
}

#[tokio::test(start_paused = true)]
async fn legacy_socket_is_reestablished_and_survives_resets() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::LegacySocket).await;
    h.sim.add_order(
        OrderSpec::new(34)
            .status("new")
            .then_after(S(6 * 60), "done"),
    );
    let (_, mut rec) = h.track(34);
    rec.until(|e| e.transport == Some(TransportState::SocketConnected))
        .await;
    h.sim.faults().legacy_reset_all();
    rec.until(|e| e.transport == Some(TransportState::SocketRestored))
        .await;
    let events = rec.until_last().await;
    assert_eq!(transports(&events), [TransportState::SocketReestablished]);
    assert_eq!(outcome(&events), Outcome::Done);
}

#[tokio::test(start_paused = true)]
async fn cancel_stops_events_and_forgets_the_handle() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim
        .add_order(OrderSpec::new(35).status("new").then_after(S(5), "done"));
    let (handle, mut rec) = h.track(35);
    rec.until(|e| e.kind == EventKind::StatusChanged).await;
    h.engine.cancel(handle).unwrap();
    tokio::time::sleep(S(60)).await;
    assert!(rec.try_next().is_none(), "no event after cancel returned");
    assert_eq!(
        h.engine.cancel(handle),
        Err(xo_tracker::Error::UnknownHandle(handle))
    );
    assert!(h
        .engine
        .update_token(handle, xo_tracker::Token::new("t").unwrap())
        .is_err());
    assert_eq!(h.engine.active(), 0);
}

#[tokio::test(start_paused = true)]
async fn queued_delivery_waits_for_dispatch() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::with(Transport::Centrifugo, queued).await;
    h.sim.add_order(OrderSpec::new(36).status("done"));
    let (_, mut rec) = h.track(36);
    h.sim
        .wait_until(|s| s.http_requests.get(&36).is_some_and(|n| *n >= 1))
        .await;
    tokio::time::sleep(S(5)).await;
    assert!(
        rec.try_next().is_none(),
        "nothing is delivered before dispatch"
    );
    assert!(h.engine.pending_events() >= 2);
    assert_eq!(h.engine.dispatch(1).unwrap(), 1);
    let delivered = h.engine.dispatch(100).unwrap();
    assert!(delivered >= 1);
    let mut events = Vec::new();
    while let Some(e) = rec.try_next() {
        events.push(e);
    }
    assert_eq!(outcome(&events), Outcome::Done);
    assert_eq!(h.engine.pending_events(), 0);
}

#[tokio::test(start_paused = true)]
async fn cancel_drops_queued_events() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::with(Transport::PollingOnly, queued).await;
    h.sim.add_order(OrderSpec::new(37).status("done"));
    let (handle, mut rec) = h.track(37);
    tokio::time::sleep(S(5)).await;
    assert!(h.engine.pending_events() > 0);
    h.engine.cancel(handle).unwrap();
    assert_eq!(h.engine.pending_events(), 0);
    assert_eq!(h.engine.dispatch(100).unwrap(), 0);
    assert!(rec.try_next().is_none());
}

#[tokio::test(start_paused = true)]
async fn check_order_answers_once_with_status_and_contents() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim.add_order(OrderSpec::new(38).status("paid"));
    let (listener, mut rec) = recorder();
    h.engine
        .check(38, xo_tracker::Token::new(TOKEN).unwrap(), listener)
        .unwrap();
    let events = rec.until_last().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::CheckResult);
    assert_eq!(events[0].status.as_ref().unwrap().as_str(), "paid");
    assert_eq!(events[0].outcome, Outcome::None);
    assert!(events[0].contents.is_some());

    let (listener, mut rec) = recorder();
    h.engine
        .check(39, xo_tracker::Token::new(TOKEN).unwrap(), listener)
        .unwrap();
    let events = rec.until_last().await;
    assert_eq!(events[0].outcome, Outcome::NotFound);
    assert_eq!(
        h.sim.stats().centrifugo_connects,
        0,
        "a check opens no socket"
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_cancels_everything_and_refuses_new_work() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim.add_order(OrderSpec::new(40).status("new"));
    let (_, mut rec) = h.track(40);
    rec.until(|e| e.kind == EventKind::StatusChanged).await;
    h.engine.shutdown().unwrap();
    tokio::time::sleep(S(60)).await;
    assert!(rec.try_next().is_none());
    let (listener, _rec) = recorder();
    assert_eq!(
        h.engine
            .track(40, xo_tracker::Token::new(TOKEN).unwrap(), listener),
        Err(xo_tracker::Error::ShutDown)
    );
}

#[tokio::test(start_paused = true)]
async fn a_pushed_done_is_final_within_one_request_timeout_even_if_contents_are_slow() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim.add_order(OrderSpec::new(41).status("new"));
    let (_, mut rec) = h.track(41);
    rec.until(|e| e.transport == Some(TransportState::SocketConnected))
        .await;
    h.sim.faults().http_delay(41, 10, S(60));
    let pushed_at = tokio::time::Instant::now();
    h.sim.set_status(41, "done");
    let events = rec.until_last().await;
    let last = final_event(&events);
    assert_eq!(last.outcome, Outcome::Done);
    assert!(last.contents.is_none());
    assert_eq!(last.error.as_ref().unwrap().kind, ErrorKind::Timeout);
    let took = rec.final_at.unwrap() - pushed_at;
    assert!(took <= S(10) + Duration::from_millis(10), "{took:?}");
}

#[tokio::test(start_paused = true)]
async fn joining_a_live_connection_needs_only_the_first_request() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim.add_order(OrderSpec::new(43).status("new"));
    h.sim.add_order(OrderSpec::new(44).status("new"));
    let (_, mut first) = h.track(43);
    first
        .until(|e| e.transport == Some(TransportState::SocketConnected))
        .await;
    let (_, mut second) = h.track(44);
    let events = second
        .until(|e| e.transport == Some(TransportState::SocketConnected))
        .await;
    tokio::time::sleep(S(60)).await;
    let events = [events, std::iter::from_fn(|| second.try_next()).collect()].concat();
    assert_eq!(statuses(&events), ["new"], "{events:#?}");
    // Subscribed before its first request began: nothing to catch up after joining.
    assert_eq!(h.sim.stats().http_requests[&44], 1, "{events:#?}");
    assert_eq!(h.sim.stats().centrifugo_connects, 1);
    h.sim.set_status(44, "done");
    assert_eq!(outcome(&second.until_last().await), Outcome::Done);
}

#[tokio::test(start_paused = true)]
async fn check_order_retries_transient_failures_twice_then_reports_failed() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::PollingOnly).await;
    h.sim.add_order(OrderSpec::new(91).status("paid"));
    h.sim.faults().http_error(91, 2, 503);
    let (listener, mut rec) = recorder();
    h.engine
        .check(91, xo_tracker::Token::new(TOKEN).unwrap(), listener)
        .unwrap();
    let events = rec.until_last().await;
    assert_eq!(
        events[0].outcome,
        Outcome::None,
        "the third attempt succeeded"
    );
    assert_eq!(h.sim.stats().http_requests_for(91), 3);

    h.sim.add_order(OrderSpec::new(92).status("paid"));
    h.sim.faults().http_error(92, 5, 503);
    let (listener, mut rec) = recorder();
    h.engine
        .check(92, xo_tracker::Token::new(TOKEN).unwrap(), listener)
        .unwrap();
    let events = rec.until_last().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].outcome, Outcome::Failed);
    assert_eq!(
        h.sim.stats().http_requests_for(92),
        3,
        "one try and two retries"
    );
}

#[tokio::test(start_paused = true)]
async fn check_order_with_a_refused_token_reports_unauthorized_at_once() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::PollingOnly).await;
    h.sim.add_order(OrderSpec::new(93).status("paid"));
    h.sim.expire_token(TOKEN);
    let (listener, mut rec) = recorder();
    h.engine
        .check(93, xo_tracker::Token::new(TOKEN).unwrap(), listener)
        .unwrap();
    let events = rec.until_last().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].outcome, Outcome::Unauthorized);
    assert_eq!(
        h.sim.stats().http_requests_for(93),
        1,
        "a 401 is not retried"
    );
}

#[tokio::test(start_paused = true)]
async fn an_engine_is_its_clones_and_no_other() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::PollingOnly).await;
    let config = common::config_for(&h.sim, Transport::PollingOnly);
    let other = xo_tracker::Engine::new(config, tokio::runtime::Handle::current()).unwrap();
    assert!(h.engine.is(&h.engine.clone()));
    assert!(!h.engine.is(&other));
    assert!(!other.is(&h.engine));
}

#[tokio::test(start_paused = true)]
async fn order_ids_must_be_positive() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::PollingOnly).await;
    for id in [0, -1, i64::MIN] {
        let token = || xo_tracker::Token::new(common::TOKEN).unwrap();
        let tracked = h.engine.track(id, token(), common::recorder().0);
        assert!(
            matches!(&tracked, Err(xo_tracker::Error::InvalidArgument(m)) if m.contains("positive")),
            "track {id}: {:?}",
            tracked.err()
        );
        let checked = h.engine.check(id, token(), common::recorder().0);
        assert!(
            matches!(checked, Err(xo_tracker::Error::InvalidArgument(_))),
            "check {id}"
        );
    }
    assert_eq!(h.engine.active(), 0, "nothing started");
}
