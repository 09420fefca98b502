//! Golden frames: our Centrifugo and legacy-socket codecs against the examples of Centrifugo's
//! protocol documentation, of `../shared/docs/xsolla-protocol.md` and of the message classes in
//! Xsolla's Unity and Unreal store SDKs; and what our client really puts on the wire (recorded by
//! the simulator) against what those SDKs send. Each test names its source; the table in
//! `docs/protocol-fidelity.md` maps every protocol point to these tests.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use xo_sim::OrderSpec;
use xo_tracker::transport::centrifugo::{connect_command, decode_frame};
use xo_tracker::transport::legacy_socket::decode_message;
use xo_tracker::transport::Inbound;
use xo_tracker::{ErrorKind, Outcome, Status, Token, Transport, TransportState};

fn decode(frame: &str) -> Vec<Inbound> {
    let mut out = Vec::new();
    decode_frame(frame, &mut out);
    out
}

fn status(order_id: i64, status: Status) -> Inbound {
    Inbound::Status { order_id, status }
}

fn connect_reply(ping_secs: u64, pong: bool) -> Inbound {
    Inbound::ConnectReply {
        id: 1,
        ping_secs,
        pong,
    }
}

/// The JSON type of every leaf, so that two messages compare by field names and types only.
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        Value::String(_) => json!("string"),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!("integer"),
        Value::Number(_) => json!("number"),
        Value::Bool(_) => json!("bool"),
        Value::Null => json!("null"),
    }
}

/// What Xsolla's Unity SDK (`Assets/Xsolla/Core/OrderTracking/Centrifugo/ConnectionMessage.cs`,
/// serialized by Newtonsoft Json.NET: declaration order, no whitespace) sends as its connect
/// command: `ConnectionMessage { ConnectCommand connect { ConnectionData data { string auth;
/// int project_id; } } int id; }`, with `id = Mathf.Abs(<guid hash>)`.
fn unity_connect_command(auth: &str, project_id: i32, id: i32) -> String {
    format!(r#"{{"connect":{{"data":{{"auth":"{auth}","project_id":{project_id}}}}},"id":{id}}}"#)
}

/// What Xsolla's Unreal SDK (`Source/XsollaStore/Private/XsollaCentrifugoDataModel.h`:
/// `FConnectionMessage { FConnectCommand connect { FConnectionData data { FString auth;
/// int32 project_id; } } int32 id; }`) sends, as a JSON value (its writer's whitespace is
/// stripped of spaces and newlines by `UCentrifugoClient::Send`).
fn unreal_connect_command(auth: &str, project_id: i32, id: i32) -> Value {
    json!({"connect": {"data": {"auth": auth, "project_id": project_id}}, "id": id})
}

/// The pong both SDKs send (`PongMessage = "{}"` in Unity's `CentrifugoClient.cs` and Unreal's
/// `CentrifugoClient.cpp`).
const SDK_PONG: &str = "{}";

// ---------------------------------------------------------------------------------------------
// Outgoing: the connect command

#[test]
fn connect_command_is_byte_for_byte_what_the_unity_sdk_sends() {
    let _watchdog = common::watchdog::arm();
    let token = Token::new("eyJhbGciOi.payload.sig").unwrap();
    let ours = connect_command(&token, 1001);
    // Our id is always 1; Unity's is a positive random int. Everything else is identical bytes.
    assert_eq!(
        ours,
        unity_connect_command("eyJhbGciOi.payload.sig", 1001, 1)
    );
}

#[test]
fn connect_command_has_the_field_names_and_types_of_the_unity_and_unreal_sdks() {
    let _watchdog = common::watchdog::arm();
    let token = Token::new("jwt-token").unwrap();
    let ours: Value = serde_json::from_str(&connect_command(&token, 77_000)).unwrap();
    let unity: Value = serde_json::from_str(&unity_connect_command("x", 1, 2_000_000_000)).unwrap();
    let unreal = unreal_connect_command("x", 1, 123_456);
    assert_eq!(shape(&ours), shape(&unity));
    assert_eq!(shape(&ours), shape(&unreal));
    assert_eq!(
        shape(&ours),
        json!({"connect": {"data": {"auth": "string", "project_id": "integer"}}, "id": "integer"})
    );
    // Centrifugo: `id` is a positive uint32 echoed in the reply (client protocol doc, Command-Reply).
    assert!(ours["id"]
        .as_u64()
        .is_some_and(|id| id > 0 && id <= u64::from(u32::MAX)));
}

#[test]
fn connect_command_escapes_the_token_as_a_json_string() {
    let _watchdog = common::watchdog::arm();
    let token = Token::new(r#"a"b\c"#).unwrap();
    let ours: Value = serde_json::from_str(&connect_command(&token, 1)).unwrap();
    assert_eq!(ours["connect"]["data"]["auth"], json!(r#"a"b\c"#));
}

// ---------------------------------------------------------------------------------------------
// Incoming Centrifugo frames

#[test]
fn connect_reply_of_the_xsolla_protocol_doc() {
    let _watchdog = common::watchdog::arm();
    // xsolla-protocol.md §2 (Centrifugo v3+ JSON protocol).
    let frame = r#"{"id":1,"connect":{"client":"6b1b6e7c-4e7a-4c59-9f0e-6f0b2a5d1c3e","version":"5.4.9","ping":25,"pong":true}}"#;
    assert_eq!(decode(frame), [connect_reply(25, true)]);
}

#[test]
fn connect_reply_with_every_connect_result_field_of_protocol_v2() {
    let _watchdog = common::watchdog::arm();
    // ConnectResult of client.proto (client, version, expires, ttl, data, subs, ping, pong,
    // session, node, time): the fields we do not use are ignored.
    let frame = r#"{"id":1,"connect":{"client":"c1","version":"6.1.0","expires":true,"ttl":3600,"data":{"x":1},"subs":{"orders:1001":{"recoverable":true,"epoch":"abc","offset":12}},"ping":25,"pong":true,"session":"s","node":"n","time":1700000000000}}"#;
    assert_eq!(decode(frame), [connect_reply(25, true)]);
}

#[test]
fn connect_reply_without_ping_or_with_pong_false() {
    let _watchdog = common::watchdog::arm();
    // Pings disabled on the server: no `ping`/`pong` fields (omitted zero values of client.proto).
    assert_eq!(
        decode(r#"{"id":1,"connect":{"client":"c","version":"v"}}"#),
        [connect_reply(0, false)]
    );
    // Pings sent but no pong expected: centrifuge-js answers only when `pong === true`.
    assert_eq!(
        decode(r#"{"id":1,"connect":{"client":"c","ping":25,"pong":false}}"#),
        [connect_reply(25, false)]
    );
}

#[test]
fn error_replies_of_the_centrifugo_docs_and_the_xsolla_protocol_doc() {
    let _watchdog = common::watchdog::arm();
    // xsolla-protocol.md §2.
    assert_eq!(
        decode(r#"{"id":1,"error":{"code":109,"message":"token expired","temporary":false}}"#),
        [Inbound::ErrorReply {
            id: 1,
            code: 109,
            message: "token expired".into(),
            temporary: false
        }]
    );
    // Centrifugo client protocol doc, "Command-Reply" (with its spaces, without `temporary`).
    assert_eq!(
        decode(r#"{"id": 1, "error": {"code": 100, "message": "internal server error"}}"#),
        [Inbound::ErrorReply {
            id: 1,
            code: 100,
            message: "internal server error".into(),
            temporary: false
        }]
    );
    // The same doc's error object with `temporary` (codes doc: 100 and 111 are temporary).
    assert_eq!(
        decode(
            r#"{"id": 1, "error": {"code": 100, "message": "internal server error", "temporary": true}}"#
        ),
        [Inbound::ErrorReply {
            id: 1,
            code: 100,
            message: "internal server error".into(),
            temporary: true
        }]
    );
}

#[test]
fn publication_push_of_the_xsolla_protocol_doc_and_sdks() {
    let _watchdog = common::watchdog::arm();
    // xsolla-protocol.md §2; the shape the Unity (OrderStatusMessage.cs) and Unreal
    // (FOrderStatusMessage) SDKs parse: push.pub.data.{order_id:int, status:string}, pub.offset.
    let frame = r#"{"push":{"channel":"orders:1001","pub":{"data":{"order_id":59614241,"status":"paid"},"offset":7}}}"#;
    assert_eq!(decode(frame), [status(59614241, Status::Paid)]);
}

#[test]
fn server_ping_is_an_empty_object() {
    let _watchdog = common::watchdog::arm();
    // Centrifugo client protocol doc, "Ping Pong"; the Unity/Unreal SDKs compare frames to "{}".
    assert_eq!(decode("{}"), [Inbound::ServerPing]);
    assert_eq!(decode(" { } "), [Inbound::ServerPing]);
}

#[test]
fn several_replies_in_one_frame() {
    let _watchdog = common::watchdog::arm();
    // Centrifugo client protocol doc, "Top level batching": line-delimited JSON, and "server can
    // even send reply to a command and asynchronous message batched together in a one frame".
    let frame = concat!(
        r#"{"id":1,"connect":{"client":"c","version":"v","ping":25,"pong":true}}"#,
        "\n",
        r#"{"push":{"channel":"orders:1001","pub":{"data":{"order_id":5,"status":"paid"},"offset":1}}}"#,
        "\n{}\n",
        r#"{"push":{"channel":"orders:1001","pub":{"data":{"order_id":5,"status":"done"},"offset":2}}}"#,
    );
    assert_eq!(
        decode(frame),
        [
            connect_reply(25, true),
            status(5, Status::Paid),
            Inbound::ServerPing,
            status(5, Status::Done)
        ]
    );
    // The simulator's batch mode: a ping and a push in one frame.
    assert_eq!(
        decode("{}\n{\"push\":{\"channel\":\"orders:1\",\"pub\":{\"data\":{\"order_id\":3,\"status\":\"new\"}}}}"),
        [Inbound::ServerPing, status(3, Status::New)]
    );
}

#[test]
fn trailing_newline_blank_lines_and_crlf() {
    let _watchdog = common::watchdog::arm();
    // centrifuge-js splits on '\n' and skips empty lines; centrifuge-python strips the frame first.
    assert_eq!(decode("{}\n"), [Inbound::ServerPing]);
    assert_eq!(
        decode("\n{}\n\n{}\n"),
        [Inbound::ServerPing, Inbound::ServerPing]
    );
    assert_eq!(
        decode("{\"push\":{\"pub\":{\"data\":{\"order_id\":1,\"status\":\"done\"}}}}\r\n{}\r\n"),
        [status(1, Status::Done), Inbound::ServerPing]
    );
    assert!(decode("").is_empty());
    assert!(decode("\n\n").is_empty());
}

#[test]
fn unknown_fields_and_push_types_are_ignored() {
    let _watchdog = common::watchdog::arm();
    // Publication fields of client.proto we do not use (info, tags, delta, time, channel) and
    // extra data fields.
    let frame = r#"{"push":{"channel":"orders:1001","pub":{"data":{"order_id":8,"status":"canceled","sku":"x","amount":1.5},"offset":3,"info":{"client":"c","user":"u"},"tags":{"k":"v"},"delta":false,"time":1},"future_field":[1,2]}}"#;
    assert_eq!(decode(frame), [status(8, Status::Canceled)]);
    // A status we do not know is reported raw (xsolla-protocol.md §5).
    assert_eq!(
        decode(r#"{"push":{"pub":{"data":{"order_id":8,"status":"refunded"}}}}"#),
        [status(8, Status::Other("refunded".into()))]
    );
    // Other push types (join, leave, message, subscribe, unsubscribe, refresh) and replies to
    // commands we never send (the doc's subscribe example).
    for frame in [
        r#"{"push":{"channel":"orders:1001","join":{"info":{"client":"c","user":"u"}}}}"#,
        r#"{"push":{"channel":"orders:1001","leave":{"info":{"client":"c","user":"u"}}}}"#,
        r#"{"push":{"message":{"data":{"hello":1}}}}"#,
        r#"{"push":{"channel":"orders:1001","subscribe":{"recoverable":false}}}"#,
        r#"{"push":{"channel":"orders:1001","unsubscribe":{"code":2000,"reason":"server unsubscribe"}}}"#,
        r#"{"push":{"refresh":{"expires":true,"ttl":60}}}"#,
        r#"{"id": 1, "subscribe": {}}"#,
        r#"{"id":2,"ping":{}}"#,
    ] {
        assert_eq!(decode(frame), [Inbound::Ignored], "{frame}");
    }
}

#[test]
fn disconnect_push() {
    let _watchdog = common::watchdog::arm();
    // Centrifugo client protocol doc, "Asynchronous pushes": `disconnect` carries code and reason
    // (client.proto Disconnect; protocol v1 also had `reconnect`, ignored).
    assert_eq!(
        decode(r#"{"push":{"disconnect":{"code":3503,"reason":"force disconnect"}}}"#),
        [Inbound::Disconnect {
            code: 3503,
            reason: "force disconnect".into()
        }]
    );
    assert_eq!(
        decode(r#"{"push":{"disconnect":{"code":3001,"reason":"shutdown","reconnect":true}}}"#),
        [Inbound::Disconnect {
            code: 3001,
            reason: "shutdown".into()
        }]
    );
}

#[test]
fn malformed_lines_are_reported_not_fatal_to_the_frame() {
    let _watchdog = common::watchdog::arm();
    assert_eq!(
        decode("{oops\n{}")[1..],
        [Inbound::ServerPing],
        "a bad line does not hide the next one"
    );
    assert!(matches!(decode("{oops")[..], [Inbound::Malformed(_)]));
    assert!(matches!(decode("[1,2]")[..], [Inbound::Malformed(_)]));
    assert!(matches!(
        decode(r#"{"push":{"pub":{"data":{"status":"paid"}}}}"#)[..],
        [Inbound::Malformed(_)]
    ));
}

// ---------------------------------------------------------------------------------------------
// The legacy per-order socket

#[test]
fn legacy_messages_of_the_xsolla_protocol_doc() {
    let _watchdog = common::watchdog::arm();
    // xsolla-protocol.md §3: each message is the order status itself.
    assert_eq!(
        decode_message(r#"{"order_id":59614241,"status":"paid"}"#),
        status(59614241, Status::Paid)
    );
    assert_eq!(
        decode_message(r#"{"order_id": 3, "status": "done"}"#),
        status(3, Status::Done)
    );
    // Unknown fields ignored, order ids as strings accepted (type drift, §4).
    assert_eq!(
        decode_message(
            r#"{"order_id":"4","status":"canceled","project_id":1001,"extra":{"a":[1]}}"#
        ),
        status(4, Status::Canceled)
    );
    assert_eq!(
        decode_message(r#"{"order_id":4,"status":"expired"}"#),
        status(4, Status::Expired)
    );
    assert!(matches!(
        decode_message(r#"{"order_id":4}"#),
        Inbound::Malformed(_)
    ));
    assert!(matches!(decode_message("not json"), Inbound::Malformed(_)));
}

// ---------------------------------------------------------------------------------------------
// What our client really sends, recorded by the simulator

#[tokio::test(start_paused = true)]
async fn what_our_client_sends_matches_the_unity_and_unreal_sdks() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim.add_order(
        OrderSpec::new(61)
            .status("new")
            .then_after(Duration::from_secs(130), "done"),
    );
    let (_, mut rec) = h.track(61);
    let events = rec.until_last().await;
    assert_eq!(outcome(&events), Outcome::Done);
    assert_eq!(transports(&events), [TransportState::SocketConnected]);

    let stats = h.sim.stats();
    let frames = &stats.centrifugo_frames_received;
    // The connect command: the exact bytes of the Unity SDK (with our id), one message per frame.
    assert_eq!(frames[0], unity_connect_command(TOKEN, PROJECT as i32, 1));
    let recorded = &stats.centrifugo_connect_commands[0];
    assert_eq!(shape(recorded), shape(&unreal_connect_command("x", 1, 1)));
    // Then only pongs, each exactly the SDKs' "{}" frame: 130 s at a 25 s interval = 5 pings.
    assert_eq!(stats.pings_sent, 5, "{stats:?}");
    assert_eq!(stats.pongs_received, 5);
    assert_eq!(frames[1..], [SDK_PONG; 5]);
}

#[tokio::test(start_paused = true)]
async fn a_ping_batched_with_a_push_is_answered_with_the_same_pong() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim.add_order(OrderSpec::new(62).status("new"));
    let (_, mut rec) = h.track(62);
    rec.until(|e| e.transport == Some(TransportState::SocketConnected))
        .await;
    h.sim.faults().centrifugo_batch(true);
    h.sim.set_status(62, "paid"); // sent as "{}\n{push}"
    h.sim.wait_until(|s| s.pongs_received >= 1).await;
    h.sim.set_status(62, "done");
    assert_eq!(outcome(&rec.until_last().await), Outcome::Done);
    let stats = h.sim.stats();
    assert_eq!(stats.pings_sent, 2, "{stats:?}");
    assert_eq!(stats.centrifugo_frames_received[1..], [SDK_PONG; 2]);
}

#[tokio::test(start_paused = true)]
async fn disconnect_pushes_follow_the_centrifugo_reconnect_rule() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim.add_order(
        OrderSpec::new(63)
            .status("new")
            .then_after(Duration::from_secs(90), "done"),
    );
    let (_, mut rec) = h.track(63);
    rec.until(|e| e.transport == Some(TransportState::SocketConnected))
        .await;
    // 3001 "shutdown" (non-terminal, codes doc): the client reconnects.
    h.sim
        .faults()
        .centrifugo_send_raw(r#"{"push":{"disconnect":{"code":3001,"reason":"shutdown"}}}"#);
    let events = rec
        .until(|e| e.transport == Some(TransportState::SocketRestored))
        .await;
    assert_eq!(
        transports(&events),
        [TransportState::Polling, TransportState::SocketRestored]
    );
    assert_eq!(h.sim.stats().centrifugo_connects, 2);
    // 3503 "force disconnect" (terminal): no reconnect with these credentials, polling finishes.
    h.sim.faults().centrifugo_send_raw(
        r#"{"push":{"disconnect":{"code":3503,"reason":"force disconnect"}}}"#,
    );
    let events = rec.until_last().await;
    assert_eq!(transports(&events), [TransportState::Polling]);
    let fallback = events
        .iter()
        .find(|e| e.transport == Some(TransportState::Polling))
        .unwrap();
    assert_eq!(
        fallback.error.as_ref().unwrap().kind,
        ErrorKind::SocketRejected
    );
    assert_eq!(outcome(&events), Outcome::Done);
    assert_eq!(
        h.sim.stats().centrifugo_connects,
        2,
        "no reconnect after 3503"
    );
}

#[test]
fn default_endpoints_are_the_ones_xsollas_sdks_use() {
    let _watchdog = common::watchdog::arm();
    // Unity: CentrifugoService.cs `Url`, OrderTrackerByWebsockets.cs `BASE_URL`;
    // Unreal: CentrifugoClient.cpp; xsolla-protocol.md §2-4.
    let config = xo_tracker::Config::new(1001);
    assert_eq!(
        config.centrifugo_url,
        "wss://ws-store.xsolla.com/connection/websocket"
    );
    assert_eq!(
        config.legacy_socket_url,
        "wss://store-ws.xsolla.com/sub/order/status"
    );
    assert_eq!(config.api_base_url, "https://store.xsolla.com/api");
}
