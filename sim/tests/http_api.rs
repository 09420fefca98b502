//! The Get-order endpoint and the control API, driven by a raw HTTP/1.1 client on a TcpStream.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use tokio::time::Instant;
use xo_sim::{OrderSpec, Sim, SimConfig};

async fn sim() -> Sim {
    let sim = Sim::start(SimConfig::default()).await.expect("sim starts");
    sim.add_order(OrderSpec::new(42).status("paid"));
    sim
}

#[tokio::test(start_paused = true)]
async fn get_order_returns_the_documented_body_on_a_keep_alive_connection() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    let mut http = HttpClient::connect(sim.addr()).await;
    for _ in 0..2 {
        let r = http
            .get(&order_path(1001, 42), Some("tok"))
            .await
            .expect("response");
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(
            r.json(),
            json!({
                "order_id": 42,
                "status": "paid",
                "content": {
                    "price": {"amount": "30", "amount_without_discount": "30", "currency": "USD"},
                    "virtual_price": {"amount": "100", "amount_without_discount": "150", "currency": "test_vc"},
                    "is_free": false,
                    "items": [{"sku": "com.xsolla.item_1", "quantity": 1, "is_free": false,
                               "price": {"amount": "30", "amount_without_discount": "30", "currency": "USD"}}]
                }
            })
        );
        assert!(r
            .body
            .starts_with(r#"{"order_id":42,"status":"paid","content":"#));
    }
    sim.set_status(42, "done");
    let r = http
        .get(&order_path(1001, 42), Some("tok"))
        .await
        .expect("response");
    assert_eq!(r.json()["status"], json!("done"));
    let stats = sim.stats();
    assert_eq!(stats.http_requests_for(42), 3);
    assert_eq!(stats.http_auth_headers_seen, 3);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn custom_contents_are_returned() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    sim.add_order(OrderSpec::new(7).contents(json!({"is_free": "true", "items": []})));
    let mut http = HttpClient::connect(sim.addr()).await;
    let r = http
        .get(&order_path(1001, 7), Some("tok"))
        .await
        .expect("response");
    assert_eq!(r.json()["content"], json!({"is_free": "true", "items": []}));
    assert_eq!(r.json()["status"], json!("new"));
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn auth_and_lookup_errors_have_xsolla_bodies() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    sim.expire_token("old");
    let mut http = HttpClient::connect(sim.addr()).await;
    let cases: [(String, Option<&str>, u16, &str); 6] = [
        (
            order_path(1001, 42),
            None,
            401,
            r#"{"statusCode":401,"errorCode":1501,"errorMessage":"[0401-1501]: Authorization failed: Provide authorization"}"#,
        ),
        (
            order_path(1001, 42),
            Some(""),
            401,
            r#"{"statusCode":401,"errorCode":1501,"errorMessage":"[0401-1501]: Authorization failed: Provide authorization"}"#,
        ),
        (
            order_path(1001, 42),
            Some("old"),
            401,
            r#"{"statusCode":401,"errorCode":1020,"errorMessage":"[0401-1020]: Error in Authentication method occurred"}"#,
        ),
        (
            order_path(1001, 99),
            Some("tok"),
            404,
            r#"{"statusCode":404,"errorCode":9001,"errorMessage":"[0401-9001]: Order not found"}"#,
        ),
        (
            order_path(5, 42),
            Some("tok"),
            404,
            r#"{"statusCode":404,"errorCode":9001,"errorMessage":"[0401-9001]: Order not found"}"#,
        ),
        (
            "/nowhere".to_owned(),
            Some("tok"),
            404,
            r#"{"statusCode":404,"errorCode":0,"errorMessage":"Not Found"}"#,
        ),
    ];
    for (path, token, status, body) in cases {
        let r = http.get(&path, token).await.expect("response");
        assert_eq!(
            (r.status, r.body.as_str()),
            (status, body),
            "{path} {token:?}"
        );
    }
    let stats = sim.stats();
    assert_eq!(stats.http_requests_for(42), 4);
    assert_eq!(stats.http_requests_for(99), 1);
    assert_eq!(stats.http_auth_headers_seen, 4);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn http_error_faults_use_xsolla_bodies_then_service_resumes() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    let faults = sim.faults();
    faults.http_error(42, 2, 500);
    faults.http_error(42, 1, 503);
    faults.http_error(42, 1, 422);
    faults.http_error(42, 1, 401);
    let mut http = HttpClient::connect(sim.addr()).await;
    let expected = [
        (
            500,
            r#"{"statusCode":500,"errorCode":0,"errorMessage":"Internal Server Error"}"#,
        ),
        (
            500,
            r#"{"statusCode":500,"errorCode":0,"errorMessage":"Internal Server Error"}"#,
        ),
        (
            503,
            r#"{"statusCode":503,"errorCode":0,"errorMessage":"Internal Server Error"}"#,
        ),
        (
            422,
            r#"{"statusCode":422,"errorCode":1102,"errorMessage":"[0401-1102]: Unprocessable Entity"}"#,
        ),
        (
            401,
            r#"{"statusCode":401,"errorCode":1501,"errorMessage":"[0401-1501]: Authorization failed: Provide authorization"}"#,
        ),
    ];
    for (status, body) in expected {
        // Other orders are not affected.
        let other = http
            .get(&order_path(1001, 43), Some("tok"))
            .await
            .expect("response");
        assert_eq!(other.status, 404);
        let r = http
            .get(&order_path(1001, 42), Some("tok"))
            .await
            .expect("response");
        assert_eq!((r.status, r.body.as_str()), (status, body));
    }
    let r = http
        .get(&order_path(1001, 42), Some("tok"))
        .await
        .expect("response");
    assert_eq!(r.status, 200);
    assert_eq!(sim.stats().http_requests_for(42), 6);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn rate_limit_answers_429_with_retry_after() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    sim.faults().http_rate_limit(42, 1, 7);
    let mut http = HttpClient::connect(sim.addr()).await;
    let r = http
        .get(&order_path(1001, 42), Some("tok"))
        .await
        .expect("response");
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("7"));
    assert_eq!(r.json()["statusCode"], json!(429));
    let r = http
        .get(&order_path(1001, 42), Some("tok"))
        .await
        .expect("response");
    assert_eq!(r.status, 200);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn delay_answers_after_the_delay_in_tokio_time() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    sim.faults().http_delay(42, 1, Duration::from_secs(30));
    let mut http = HttpClient::connect(sim.addr()).await;
    let start = Instant::now();
    let r = http
        .get(&order_path(1001, 42), Some("tok"))
        .await
        .expect("response");
    assert_eq!(r.status, 200);
    assert_eq!(start.elapsed(), Duration::from_secs(30));
    let start = Instant::now();
    http.get(&order_path(1001, 42), Some("tok"))
        .await
        .expect("response");
    assert_eq!(start.elapsed(), Duration::ZERO);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn drop_closes_the_connection_without_a_response() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    sim.faults().http_drop(42, 1);
    let mut http = HttpClient::connect(sim.addr()).await;
    assert!(http.get(&order_path(1001, 42), Some("tok")).await.is_none());
    let mut http = HttpClient::connect(sim.addr()).await;
    let r = http
        .get(&order_path(1001, 42), Some("tok"))
        .await
        .expect("response");
    assert_eq!(r.status, 200);
    assert_eq!(sim.stats().http_requests_for(42), 2);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn faults_queue_in_call_order() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    let faults = sim.faults();
    faults.http_rate_limit(42, 1, 1);
    faults.http_error(42, 1, 502);
    faults.http_delay(42, 1, Duration::from_secs(3));
    let mut http = HttpClient::connect(sim.addr()).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            http.get(&order_path(1001, 42), Some("tok"))
                .await
                .expect("response")
                .status,
        );
    }
    assert_eq!(statuses, [429, 502, 200, 200]);
    faults.http_error(42, 5, 500);
    faults.clear();
    let r = http
        .get(&order_path(1001, 42), Some("tok"))
        .await
        .expect("response");
    assert_eq!(r.status, 200);
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn connection_handling_pipelining_limits_and_idle_timeout() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    // Two pipelined requests in one write get two responses in order.
    let mut http = HttpClient::connect(sim.addr()).await;
    let path = order_path(1001, 42);
    let one = format!("GET {path} HTTP/1.1\r\nAuthorization: Bearer t\r\n\r\n");
    http.send_raw(format!("{one}{}", one.replace("42", "41")).as_bytes())
        .await;
    assert_eq!(http.read_response().await.expect("first").status, 200);
    assert_eq!(http.read_response().await.expect("second").status, 404);

    // `Connection: close` is honoured.
    let r = http
        .request(
            "GET",
            &path,
            &[("Authorization", "Bearer t"), ("Connection", "close")],
            "",
        )
        .await
        .expect("response");
    assert_eq!(r.header("connection"), Some("close"));
    assert!(http.is_closed().await);

    // An oversized head gets 431 and a close.
    let mut http = HttpClient::connect(sim.addr()).await;
    let big = "x".repeat(20 * 1024);
    let r = http
        .request("GET", &path, &[("X-Big", &big)], "")
        .await
        .expect("response");
    assert_eq!(r.status, 431);
    assert!(http.is_closed().await);

    // Garbage gets 400 and a close.
    let mut http = HttpClient::connect(sim.addr()).await;
    http.send_raw(b"\x00\x01 nonsense\r\n\r\n").await;
    assert_eq!(http.read_response().await.expect("response").status, 400);

    // An idle keep-alive connection is closed after 60 s.
    let mut http = HttpClient::connect(sim.addr()).await;
    http.get(&path, Some("t")).await.expect("response");
    let start = Instant::now();
    assert!(http.is_closed().await);
    assert_eq!(start.elapsed(), Duration::from_secs(60));
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn control_api_drives_orders_faults_and_stats() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    let mut http = HttpClient::connect(sim.addr()).await;
    let post = |path: &'static str, body: serde_json::Value| (path, body.to_string());

    let requests = [
        post(
            "/_sim/order",
            json!({"order_id": 5, "status": "new",
            "timeline": [{"after_ms": 2000, "status": "paid"}], "push": true}),
        ),
        post(
            "/_sim/fault",
            json!({"fault": "http_error", "order_id": 5, "n": 1, "status": 500}),
        ),
        post("/_sim/expire_token", json!({"token": "old"})),
    ];
    for (path, body) in &requests {
        let r = http
            .request("POST", path, &[], body)
            .await
            .expect("response");
        assert_eq!(
            (r.status, r.json()),
            (200, json!({"ok": true})),
            "{path} {body}"
        );
    }
    let r = http
        .get(&order_path(1001, 5), Some("tok"))
        .await
        .expect("response");
    assert_eq!(r.status, 500);
    let r = http
        .get(&order_path(1001, 5), Some("old"))
        .await
        .expect("response");
    assert_eq!(r.status, 401);
    // Just after the timeline step (a timer at the same instant may run after this task).
    tokio::time::sleep(Duration::from_millis(2001)).await;
    assert_eq!(sim.order_status(5).as_deref(), Some("paid"));
    let r = http
        .request(
            "POST",
            "/_sim/status",
            &[],
            r#"{"order_id":5,"status":"done"}"#,
        )
        .await
        .expect("response");
    assert_eq!(r.status, 200);
    assert_eq!(sim.order_status(5).as_deref(), Some("done"));

    let r = http
        .request("GET", "/_sim/stats", &[], "")
        .await
        .expect("response");
    let stats = r.json();
    assert_eq!(stats["ok"], json!(true));
    assert_eq!(stats["http_requests"], json!({"5": 2}));
    assert_eq!(stats["http_auth_headers_seen"], json!(2));

    for (path, body) in [
        ("/_sim/fault", r#"{"fault":"nope"}"#),
        ("/_sim/fault", r#"{"fault":"http_error","n":1}"#),
        ("/_sim/order", r#"{"status":"new"}"#),
        ("/_sim/order", "not json"),
        ("/_sim/nothing", "{}"),
    ] {
        let r = http
            .request("POST", path, &[], body)
            .await
            .expect("response");
        assert_eq!(r.status, 400, "{path} {body}");
        assert_eq!(r.json()["ok"], json!(false));
        assert!(r.json()["error"].is_string());
    }

    let r = http
        .request("POST", "/_sim/shutdown", &[], "")
        .await
        .expect("response");
    assert_eq!(r.status, 200);
    tokio::time::timeout(SOON, sim.shutdown_requested())
        .await
        .expect("shutdown requested");
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn expect_100_continue_is_answered_before_the_body() {
    let _watchdog = common::watchdog::arm();
    let sim = sim().await;
    let mut http = HttpClient::connect(sim.addr()).await;
    let body = r#"{"order_id":9,"status":"paid"}"#;
    http.send_raw(
        format!(
            "POST /_sim/status HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(http.read_response().await.expect("interim").status, 100);
    http.send_raw(body.as_bytes()).await;
    assert_eq!(http.read_response().await.expect("final").status, 200);
    assert_eq!(sim.order_status(9).as_deref(), Some("paid"));
    sim.shutdown().await;
}
