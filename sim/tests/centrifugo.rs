//! The Centrifugo endpoint, driven by a raw tokio-tungstenite client.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use tokio::time::Instant;
use xo_sim::{OrderSpec, Sim, SimConfig};

async fn sim() -> Sim {
    Sim::start(SimConfig::default()).await.expect("sim starts")
}

fn push_of(order_id: i64, status: &str) -> impl Fn(&Value) -> bool + '_ {
    move |v: &Value| {
        v["push"]["pub"]["data"]["order_id"] == json!(order_id)
            && v["push"]["pub"]["data"]["status"] == json!(status)
    }
}

#[tokio::test(start_paused = true)]
async fn connect_reply_has_the_documented_shape_and_the_command_is_recorded() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    let mut ws = ws_connect(&sim.centrifugo_url()).await.expect("upgrade");
    let command = connect_command(7, "tok-1", 1001);
    send(&mut ws, &command).await;
    let reply = next_json(&mut ws).await;
    assert_eq!(reply["id"], json!(7));
    let connect = &reply["connect"];
    assert!(connect["client"].as_str().is_some_and(|c| c.len() == 36));
    assert_eq!(connect["version"], json!("xo-sim"));
    assert_eq!(connect["ping"], json!(25));
    assert_eq!(connect["pong"], json!(true));
    // The server-side subscription, without which official Centrifugo clients drop publications.
    assert_eq!(connect["subs"], json!({"orders:1001": {}}));
    assert!(reply.get("error").is_none());

    let stats = sim.stats();
    assert_eq!(stats.centrifugo_connects, 1);
    assert_eq!(stats.centrifugo_connects_accepted, 1);
    assert_eq!(stats.centrifugo_live, 1);
    let recorded: Value = serde_json::from_str(&command).expect("json");
    assert_eq!(stats.centrifugo_connect_commands, vec![recorded]);
    assert_eq!(stats.centrifugo_frames_received, vec![command.clone()]);

    drop(ws);
    sim.wait_until(|s| s.centrifugo_live == 0).await;
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn pings_every_interval_and_counts_pongs() {
    let _watchdog = common::watchdog::arm();
    let sim = Sim::start(SimConfig {
        ping_interval_secs: 5,
        ..SimConfig::default()
    })
    .await
    .expect("sim starts");
    let (mut ws, reply) = centrifugo_connect(&sim.centrifugo_url(), "tok", 1001).await;
    assert_eq!(reply["connect"]["ping"], json!(5));
    let start = Instant::now();
    for i in 1..=3u64 {
        assert_eq!(next_text(&mut ws).await, "{}");
        assert_eq!(start.elapsed(), Duration::from_secs(5 * i));
        send(&mut ws, "{}").await;
    }
    let stats = sim.wait_until(|s| s.pongs_received == 3).await;
    assert_eq!(stats.pings_sent, 3);
    assert_eq!(stats.centrifugo_frames_received[1..], ["{}", "{}", "{}"]);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn pings_can_be_disabled() {
    let _watchdog = common::watchdog::arm();
    let sim = Sim::start(SimConfig {
        ping_interval_secs: 0,
        ..SimConfig::default()
    })
    .await
    .expect("sim starts");
    let (mut ws, reply) = centrifugo_connect(&sim.centrifugo_url(), "tok", 1001).await;
    assert!(reply["connect"].get("ping").is_none());
    assert_eq!(
        next_frame_within(&mut ws, Duration::from_secs(300)).await,
        None
    );
    assert_eq!(sim.stats().pings_sent, 0);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn pushes_go_to_every_connection_of_the_project_with_increasing_offsets() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    sim.add_order(OrderSpec::new(42));
    sim.add_order(OrderSpec::new(43));
    sim.add_order(OrderSpec::new(44).push(false));
    let (mut a, _) = centrifugo_connect(&sim.centrifugo_url(), "tok-a", 1001).await;
    let (mut b, _) = centrifugo_connect(&sim.centrifugo_url(), "tok-b", 1001).await;
    // Upgraded but not connected: receives no push.
    let mut idle = ws_connect(&sim.centrifugo_url()).await.expect("upgrade");

    sim.set_status(42, "paid");
    sim.set_status(44, "paid"); // not pushed
    sim.set_status(43, "done");
    for ws in [&mut a, &mut b] {
        let first = next_json(ws).await;
        assert_eq!(
            first,
            json!({"push":{"channel":"orders:1001","pub":{"data":{"order_id":42,"status":"paid"},"offset":1}}})
        );
        let second = next_json(ws).await;
        assert!(push_of(43, "done")(&second), "{second}");
        assert_eq!(second["push"]["pub"]["offset"], json!(2));
    }
    assert_eq!(sim.stats().pushes_sent, 4);
    assert_eq!(sim.order_status(44).as_deref(), Some("paid"));
    // The unauthenticated connection got nothing before the 10 s connect deadline closes it.
    assert_eq!(next_close(&mut idle).await.0, 3502);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn timeline_steps_are_pushed_at_their_times() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    let (mut ws, _) = centrifugo_connect(&sim.centrifugo_url(), "tok", 1001).await;
    let start = Instant::now();
    sim.add_order(
        OrderSpec::new(42)
            .then_after(Duration::from_secs(2), "paid")
            .then_after(Duration::from_secs(1), "done"),
    );
    assert_eq!(sim.order_status(42).as_deref(), Some("new"));
    assert!(push_of(42, "paid")(&next_json(&mut ws).await));
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert!(push_of(42, "done")(&next_json(&mut ws).await));
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn replacing_an_order_cancels_its_timeline() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    let (mut ws, _) = centrifugo_connect(&sim.centrifugo_url(), "tok", 1001).await;
    sim.add_order(OrderSpec::new(42).then_after(Duration::from_secs(1), "paid"));
    sim.add_order(OrderSpec::new(42).then_after(Duration::from_secs(5), "canceled"));
    let push = next_json(&mut ws).await;
    assert!(push_of(42, "canceled")(&push), "{push}");
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn several_commands_in_one_frame_are_all_handled() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    let mut ws = ws_connect(&sim.centrifugo_url()).await.expect("upgrade");
    send(
        &mut ws,
        &format!("{}\n{{}}\r\n\n{{}}\n", connect_command(1, "tok", 1001)),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["id"], json!(1));
    sim.wait_until(|s| s.pongs_received == 2).await;
    // A ping command gets a ping reply; an unknown method gets error 104.
    send(&mut ws, "{\"id\":2,\"ping\":{}}\n{\"id\":3,\"rpc\":{}}").await;
    assert_eq!(next_json(&mut ws).await, json!({"id":2,"ping":{}}));
    assert_eq!(next_json(&mut ws).await["error"]["code"], json!(104));
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn batch_mode_puts_a_ping_and_a_push_in_one_frame() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    sim.faults().centrifugo_batch(true);
    let mut ws = ws_connect(&sim.centrifugo_url()).await.expect("upgrade");
    sim.wait_until(|s| s.centrifugo_live == 1).await;
    // A change between the upgrade and the connect command follows the connect reply.
    sim.set_status(42, "paid");
    send(&mut ws, &connect_command(1, "tok", 1001)).await;
    let frame = next_text(&mut ws).await;
    let lines: Vec<Value> = frame
        .split('\n')
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2, "{frame}");
    assert_eq!(lines[0]["id"], json!(1));
    assert!(push_of(42, "paid")(&lines[1]));

    sim.set_status(42, "done");
    let frame = next_text(&mut ws).await;
    let (ping, push) = frame.split_once('\n').expect("two messages");
    assert_eq!(ping, "{}");
    assert!(push_of(42, "done")(
        &serde_json::from_str(push).expect("json")
    ));
    let stats = sim.stats();
    assert_eq!((stats.pings_sent, stats.pushes_sent), (1, 2));

    sim.faults().centrifugo_batch(false);
    sim.set_status(42, "canceled");
    assert!(push_of(42, "canceled")(&next_json(&mut ws).await));
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn refused_and_garbage_handshakes_fail_then_service_resumes() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    sim.faults().centrifugo_refuse(1);
    sim.faults().centrifugo_garbage_handshake(1);
    match ws_connect(&sim.centrifugo_url()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 503)
        }
        other => panic!("expected an HTTP 503 handshake error, got {other:?}"),
    }
    assert!(ws_connect(&sim.centrifugo_url()).await.is_err());
    let (_ws, reply) = centrifugo_connect(&sim.centrifugo_url(), "tok", 1001).await;
    assert!(reply.get("connect").is_some());
    let stats = sim.stats();
    assert_eq!(stats.centrifugo_handshakes_failed, 2);
    assert_eq!(stats.centrifugo_connects, 1);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn rejected_connect_gets_the_error_reply_then_close_3500() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    sim.faults()
        .centrifugo_reject_connect(1, 100, "internal server error", true);
    let (mut ws, reply) = centrifugo_connect(&sim.centrifugo_url(), "tok", 1001).await;
    assert_eq!(
        reply,
        json!({"id":1,"error":{"code":100,"message":"internal server error","temporary":true}})
    );
    assert_eq!(next_close(&mut ws).await.0, 3500);
    let (_ws, reply) = centrifugo_connect(&sim.centrifugo_url(), "tok", 1001).await;
    assert!(reply.get("connect").is_some(), "{reply}");
    assert_eq!(sim.stats().centrifugo_connect_commands.len(), 2);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn bad_credentials_get_centrifugo_errors() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    let cases = [("", 1001, 101), ("tok", 999, 103), ("old", 1001, 109)];
    sim.expire_token("old");
    for (token, project, code) in cases {
        let (mut ws, reply) = centrifugo_connect(&sim.centrifugo_url(), token, project).await;
        assert_eq!(reply["id"], json!(1));
        assert_eq!(reply["error"]["code"], json!(code), "{reply}");
        assert_eq!(reply["error"]["temporary"], json!(false));
        assert_eq!(next_close(&mut ws).await.0, 3500);
    }
    assert_eq!(sim.stats().centrifugo_connects_accepted, 0);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn expiring_a_token_closes_its_live_connections_only() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    let (mut a, _) = centrifugo_connect(&sim.centrifugo_url(), "tok-a", 1001).await;
    let (mut b, _) = centrifugo_connect(&sim.centrifugo_url(), "tok-b", 1001).await;
    sim.expire_token("tok-a");
    assert_eq!(next_close(&mut a).await, (3500, "token expired".to_owned()));
    sim.set_status(1, "paid");
    assert!(push_of(1, "paid")(&next_json(&mut b).await));
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn close_all_sends_the_close_frame() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    let (mut a, _) = centrifugo_connect(&sim.centrifugo_url(), "tok", 1001).await;
    let (mut b, _) = centrifugo_connect(&sim.centrifugo_url(), "tok", 1001).await;
    sim.faults().centrifugo_close_all(4000, "bye");
    assert_eq!(next_close(&mut a).await, (4000, "bye".to_owned()));
    assert_eq!(next_close(&mut b).await, (4000, "bye".to_owned()));
    sim.wait_until(|s| s.centrifugo_live == 0).await;
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn reset_all_drops_connections_without_a_close_frame() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    let (mut ws, _) = centrifugo_connect(&sim.centrifugo_url(), "tok", 1001).await;
    sim.faults().centrifugo_reset_all();
    assert_eq!(next_frame(&mut ws).await, Frame::Broken);
    sim.wait_until(|s| s.centrifugo_live == 0).await;
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn silent_mode_sends_nothing_but_keeps_the_connection() {
    let _watchdog = common::watchdog::arm();
    let sim = Sim::start(SimConfig {
        ping_interval_secs: 5,
        ..SimConfig::default()
    })
    .await
    .expect("sim starts");
    let (mut ws, _) = centrifugo_connect(&sim.centrifugo_url(), "tok", 1001).await;
    sim.faults().centrifugo_silent(true);
    sim.set_status(42, "paid");
    assert_eq!(
        next_frame_within(&mut ws, Duration::from_secs(12)).await,
        None
    );
    assert_eq!(sim.stats().pings_sent, 0);
    assert_eq!(sim.stats().centrifugo_live, 1);
    sim.faults().centrifugo_silent(false);
    assert_eq!(next_text(&mut ws).await, "{}");
    sim.set_status(42, "done");
    assert!(push_of(42, "done")(&next_json(&mut ws).await));
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn send_raw_sends_exactly_the_bytes() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    let (mut ws, _) = centrifugo_connect(&sim.centrifugo_url(), "tok", 1001).await;
    let raw = "{not json\n{\"push\":{}}";
    sim.faults().centrifugo_send_raw(raw);
    assert_eq!(next_text(&mut ws).await, raw);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn protocol_violations_and_silence_close_the_connection() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    // Malformed JSON.
    let mut ws = ws_connect(&sim.centrifugo_url()).await.expect("upgrade");
    send(&mut ws, "{oops").await;
    assert_eq!(next_close(&mut ws).await.0, 3501);
    // A command other than connect first.
    let mut ws = ws_connect(&sim.centrifugo_url()).await.expect("upgrade");
    send(&mut ws, r#"{"id":1,"subscribe":{"channel":"x"}}"#).await;
    assert_eq!(next_close(&mut ws).await.0, 3501);
    // No connect command within 10 s.
    let mut ws = ws_connect(&sim.centrifugo_url()).await.expect("upgrade");
    let start = Instant::now();
    assert_eq!(next_close(&mut ws).await, (3502, "stale".to_owned()));
    assert_eq!(start.elapsed(), Duration::from_secs(10));
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_closes_connections_and_the_listener() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    let (mut ws, _) = centrifugo_connect(&sim.centrifugo_url(), "tok", 1001).await;
    let url = sim.centrifugo_url();
    let (close, ()) = tokio::join!(next_close(&mut ws), sim.shutdown());
    assert_eq!(close.0, 3001);
    assert!(ws_connect(&url).await.is_err());
    assert!(sim.is_shut_down());
}

#[tokio::test(start_paused = true)]
async fn frames_larger_than_max_frame_bytes_are_refused() {
    let _watchdog = common::watchdog::arm();
    let sim = Sim::start(SimConfig {
        max_frame_bytes: Some(256),
        ..SimConfig::default()
    })
    .await
    .expect("sim starts");
    let (mut ws, _) = centrifugo_connect(&sim.centrifugo_url(), "tok", 1001).await;
    send(&mut ws, &format!("{{\"pad\":\"{}\"}}", "x".repeat(1000))).await;
    assert_eq!(next_close(&mut ws).await.0, 1009);
    sim.wait_until(|s| s.centrifugo_live == 0).await;
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn bytes_sent_together_with_the_upgrade_request_are_kept() {
    let _watchdog = common::watchdog::arm();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_tungstenite::tungstenite::protocol::Role;

    let sim = sim().await;
    let mut tcp = tokio::net::TcpStream::connect(sim.addr())
        .await
        .expect("connect");
    // The upgrade request and a masked text frame with the connect command, in one write.
    let payload = connect_command(1, "tok", 1001);
    let mask = [0x11u8, 0x22, 0x33, 0x44];
    let mut bytes = b"GET /connection/websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Version: 13\r\n\r\n"
        .to_vec();
    bytes.extend([
        0x81,
        0x80 | u8::try_from(payload.len()).expect("short payload"),
    ]);
    bytes.extend(mask);
    bytes.extend(payload.bytes().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    tcp.write_all(&bytes).await.expect("write");

    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(tcp.read_u8().await.expect("read"));
    }
    let head = String::from_utf8(head).expect("utf-8");
    assert!(
        head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{head}"
    );
    // The RFC 6455 example key and its accept value.
    assert!(head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));

    let mut ws = Ws::from_raw_socket(tcp, Role::Client, None).await;
    let reply = next_json(&mut ws).await;
    assert_eq!(reply["id"], json!(1));
    assert!(reply.get("connect").is_some(), "{reply}");
    sim.shutdown().await;
}
