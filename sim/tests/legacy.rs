//! The legacy per-order socket, driven by a raw tokio-tungstenite client.

mod common;

use std::time::Duration;

use common::*;
use xo_sim::{OrderSpec, Sim, SimConfig};

async fn sim() -> Sim {
    Sim::start(SimConfig::default()).await.expect("sim starts")
}

fn url(sim: &Sim, order_id: i64) -> String {
    format!(
        "{}?order_id={order_id}&project_id=1001",
        sim.legacy_socket_url()
    )
}

#[tokio::test(start_paused = true)]
async fn status_changes_go_to_the_sockets_of_that_order_only() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    sim.add_order(OrderSpec::new(42).then_after(Duration::from_secs(1), "paid"));
    let mut a = ws_connect(&url(&sim, 42)).await.expect("upgrade");
    let mut b = ws_connect(&url(&sim, 43)).await.expect("upgrade");
    let stats = sim.wait_until(|s| s.legacy_live == 2).await;
    assert_eq!(stats.legacy_connects, 2);
    // Nothing on open; the timeline step arrives after 1 s.
    assert_eq!(
        next_text(&mut a).await,
        r#"{"order_id":42,"status":"paid"}"#
    );
    sim.set_status(43, "done");
    assert_eq!(
        next_text(&mut b).await,
        r#"{"order_id":43,"status":"done"}"#
    );
    sim.set_status(42, "done");
    assert_eq!(
        next_text(&mut a).await,
        r#"{"order_id":42,"status":"done"}"#
    );
    assert_eq!(sim.stats().legacy_pushes_sent, 3);
    // The client may send anything; it is ignored.
    send(&mut a, "hello").await;
    sim.set_status(42, "canceled");
    assert_eq!(
        next_text(&mut a).await,
        r#"{"order_id":42,"status":"canceled"}"#
    );
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn orders_without_push_are_not_sent() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    sim.add_order(OrderSpec::new(42).push(false));
    let mut ws = ws_connect(&url(&sim, 42)).await.expect("upgrade");
    sim.wait_until(|s| s.legacy_live == 1).await;
    sim.set_status(42, "done");
    assert_eq!(
        next_frame_within(&mut ws, Duration::from_secs(30)).await,
        None
    );
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn bad_requests_are_not_upgraded() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    for bad in [
        format!("{}?order_id=x&project_id=1001", sim.legacy_socket_url()),
        format!("{}?order_id=42", sim.legacy_socket_url()),
        format!("{}?order_id=42&project_id=5", sim.legacy_socket_url()),
    ] {
        assert!(ws_connect(&bad).await.is_err(), "{bad}");
    }
    let mut http = HttpClient::connect(sim.addr()).await;
    let response = http
        .get("/sub/order/status?order_id=42&project_id=5", None)
        .await
        .expect("response");
    assert_eq!(response.status, 400); // not an upgrade request
    assert_eq!(sim.stats().legacy_connects, 0);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn refuse_close_reset_silent_and_raw_faults() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    sim.faults().legacy_refuse(1);
    assert!(ws_connect(&url(&sim, 42)).await.is_err());
    assert_eq!(sim.stats().legacy_handshakes_failed, 1);

    let mut ws = ws_connect(&url(&sim, 42)).await.expect("upgrade");
    sim.wait_until(|s| s.legacy_live == 1).await;
    sim.faults().legacy_send_raw("not json");
    assert_eq!(next_text(&mut ws).await, "not json");

    sim.faults().legacy_silent(true);
    sim.set_status(42, "paid");
    assert_eq!(
        next_frame_within(&mut ws, Duration::from_secs(30)).await,
        None
    );
    sim.faults().legacy_silent(false);
    sim.set_status(42, "done");
    assert_eq!(
        next_text(&mut ws).await,
        r#"{"order_id":42,"status":"done"}"#
    );

    sim.faults().legacy_close_all(4001);
    assert_eq!(next_close(&mut ws).await.0, 4001);

    let mut ws = ws_connect(&url(&sim, 42)).await.expect("upgrade");
    sim.wait_until(|s| s.legacy_live == 1).await;
    sim.faults().legacy_reset_all();
    assert_eq!(next_frame(&mut ws).await, Frame::Broken);
    sim.wait_until(|s| s.legacy_live == 0).await;
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_closes_legacy_sockets_with_1001() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    let mut ws = ws_connect(&url(&sim, 42)).await.expect("upgrade");
    sim.wait_until(|s| s.legacy_live == 1).await;
    let (close, ()) = tokio::join!(next_close(&mut ws), sim.shutdown());
    assert_eq!(close.0, 1001);
}
