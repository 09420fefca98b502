//! The `xo-sim` binary: its LISTENING line, the control API, and its two ways to exit.
//! These tests run in real time (the binary is another process).

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

/// Starts the binary and reads its first stdout line.
fn spawn(args: &[&str]) -> (Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xo-sim"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn xo-sim");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the first line");
    let addr = line
        .strip_suffix('\n')
        .and_then(|l| l.strip_prefix("XO_SIM_LISTENING 127.0.0.1:"))
        .and_then(|port| port.parse::<u16>().ok())
        .map(|port| SocketAddr::from(([127, 0, 0, 1], port)))
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    (child, addr)
}

/// Waits (real time, bounded) for the process to exit.
async fn wait_exit(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        assert!(Instant::now() < deadline, "xo-sim did not exit");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn serves_the_control_api_and_the_endpoints_until_shutdown() {
    let _watchdog = common::watchdog::arm();
    let (mut child, addr) = spawn(&["--project-id", "7", "--ping-secs", "3"]);
    let mut http = HttpClient::connect(addr).await;
    let mut post = async |path: &str, body: serde_json::Value| {
        let r = http
            .request("POST", path, &[], &body.to_string())
            .await
            .expect("response");
        assert_eq!((r.status, r.json()), (200, json!({"ok": true})), "{path}");
    };
    post("/_sim/order", json!({"order_id": 42, "status": "new"})).await;
    post("/_sim/status", json!({"order_id": 42, "status": "done"})).await;
    post(
        "/_sim/fault",
        json!({"fault": "http_rate_limit", "order_id": 42, "n": 1, "retry_after_secs": 2}),
    )
    .await;

    let mut api = HttpClient::connect(addr).await;
    let r = api
        .get(&order_path(7, 42), Some("tok"))
        .await
        .expect("response");
    assert_eq!((r.status, r.header("retry-after")), (429, Some("2")));
    let r = api
        .get(&order_path(7, 42), Some("tok"))
        .await
        .expect("response");
    assert_eq!((r.status, r.json()["status"].clone()), (200, json!("done")));

    let (ws, reply) =
        centrifugo_connect(&format!("ws://{addr}/connection/websocket"), "tok", 7).await;
    assert_eq!(reply["connect"]["ping"], json!(3));
    drop(ws);

    let r = http
        .request("GET", "/_sim/stats", &[], "")
        .await
        .expect("response");
    let stats = r.json();
    assert_eq!(stats["ok"], json!(true));
    assert_eq!(stats["http_requests"], json!({"42": 2}));
    assert_eq!(stats["centrifugo_connects"], json!(1));

    let r = http
        .request("POST", "/_sim/shutdown", &[], "")
        .await
        .expect("response");
    assert_eq!(r.status, 200);
    assert!(wait_exit(&mut child).await.success());
}

#[tokio::test]
async fn exits_when_stdin_reaches_end_of_file() {
    let _watchdog = common::watchdog::arm();
    let (mut child, addr) = spawn(&[]);
    let mut http = HttpClient::connect(addr).await;
    let r = http
        .request("GET", "/_sim/stats", &[], "")
        .await
        .expect("response");
    assert_eq!(r.status, 200);
    drop(child.stdin.take());
    assert!(wait_exit(&mut child).await.success());
}

#[tokio::test]
async fn rejects_bad_arguments() {
    let _watchdog = common::watchdog::arm();
    let status = Command::new(env!("CARGO_BIN_EXE_xo-sim"))
        .arg("--bogus")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run xo-sim");
    assert_eq!(status.code(), Some(2));
}
