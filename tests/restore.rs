//! Restore from Xsolla's Events API (simulated, with faults): purchases this device never saw are
//! delivered once as restored `Done`s with their order id and contents, deduplicated against the
//! journal, redelivered after a restart until acknowledged, and marked processed on the server
//! only after `acknowledge`.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use xo_sim::{OrderSpec, Sim};
use xo_tracker::{Engine, Event, Origin, Outcome, Token, Transport};

/// {"sub":"player-7"}
const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGF5ZXItNyJ9.RESTORE-SECRET-SIG";

fn temp_dir() -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "xo-restore-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn engine(sim: &Sim, dir: &Path, interval: Option<Duration>) -> Engine {
    let mut config = config_for(sim, Transport::PollingOnly);
    config.journal_dir = Some(dir.to_path_buf());
    config.restore.enabled = true;
    config.restore.events_api_url = sim.base_url();
    config.restore.interval = interval;
    Engine::new(config, tokio::runtime::Handle::current()).unwrap()
}

async fn control(sim: &Sim, method: &str, path: &str, body: Value) -> Value {
    let net = xo_tracker::net::Network::new(&xo_tracker::Config::new(1)).unwrap();
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured((**net.tls()).clone())
        .no_proxy()
        .build()
        .unwrap();
    let url = format!("{}{path}", sim.base_url());
    let request = if method == "GET" {
        client.get(url)
    } else {
        client.post(url).body(body.to_string())
    };
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "control call {path}");
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

async fn processed(sim: &Sim) -> Vec<i64> {
    let v = control(sim, "GET", "/_sim/events", json!({})).await;
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["processed"] == true)
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}

struct Deliveries(mpsc::UnboundedReceiver<Event>);

fn resume(engine: &Engine) -> (usize, Deliveries) {
    let (tx, rx) = mpsc::unbounded_channel();
    let n = engine
        .resume_pending(
            Token::new(JWT).unwrap(),
            Arc::new(move || {
                let tx = tx.clone();
                Box::new(move |e: &Event| {
                    let _ = tx.send(e.clone());
                })
            }),
        )
        .unwrap();
    (n, Deliveries(rx))
}

impl Deliveries {
    /// The final events delivered within `window` (virtual time).
    async fn finals_within(&mut self, window: Duration) -> Vec<Event> {
        let mut finals = Vec::new();
        let end = tokio::time::Instant::now() + window;
        while let Ok(Some(e)) = tokio::time::timeout_at(end, self.0.recv()).await {
            if e.is_last() {
                finals.push(e);
            }
        }
        finals.sort_by_key(|e| e.order_id);
        finals
    }
}

#[tokio::test(start_paused = true)]
async fn restored_once_redelivered_until_acknowledged_then_processed() {
    let _watchdog = common::watchdog::arm();
    let dir = temp_dir();
    let sim = Sim::start(Default::default()).await.unwrap();
    let gems = json!({"id": 1, "order_id": 701, "items": [{"sku": "gems", "quantity": 5, "amount": "4.99"}]});
    control(&sim, "POST", "/_sim/event", gems).await;
    control(
        &sim,
        "POST",
        "/_sim/event",
        json!({"id": 2, "order_id": 702, "shape": "payment",
        "items": [{"sku": "sword", "quantity": 1, "amount": "2.5"}]}),
    )
    .await;
    control(
        &sim,
        "POST",
        "/_sim/event",
        json!({"id": 3, "order_id": 703, "project_id": 9}),
    )
    .await;
    control(
        &sim,
        "POST",
        "/_sim/event",
        json!({"id": 4, "raw": {"id": 4, "data": "garbage"}}),
    )
    .await;
    control(
        &sim,
        "POST",
        "/_sim/event",
        json!({"id": 5, "order_id": 704, "token": "someone-else"}),
    )
    .await;

    let first = engine(&sim, &dir, None);
    let (n, mut got) = resume(&first);
    assert_eq!(
        n, 0,
        "nothing in the journal yet: restored ones arrive on their own"
    );
    let finals = got.finals_within(Duration::from_secs(30)).await;
    let ids: Vec<i64> = finals.iter().map(|e| e.order_id).collect();
    assert_eq!(
        ids,
        [701, 702],
        "other projects, other users and garbage are skipped"
    );
    for e in &finals {
        assert_eq!((e.outcome, e.origin), (Outcome::Done, Origin::Restored));
    }
    let contents: Value = serde_json::from_str(finals[0].contents.as_deref().unwrap()).unwrap();
    assert_eq!(contents["items"][0]["sku"], "gems");
    assert_eq!(contents["items"][0]["quantity"], 5);
    assert!(
        processed(&sim).await.is_empty(),
        "processed only after acknowledge"
    );

    assert_eq!(first.acknowledge(701), Ok(()));
    for _ in 0..100 {
        if processed(&sim).await == [1] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(processed(&sim).await, [1]);
    first.shutdown().unwrap();

    // Restart: 702 comes back from the journal (not twice, though its event is still unprocessed).
    let second = engine(&sim, &dir, None);
    let (n, mut got) = resume(&second);
    assert_eq!(n, 1);
    let finals = got.finals_within(Duration::from_secs(30)).await;
    assert_eq!(finals.len(), 1, "{finals:?}");
    assert_eq!(
        (finals[0].order_id, finals[0].origin),
        (702, Origin::Restored)
    );
    assert_eq!(second.acknowledge(702), Ok(()));
    for _ in 0..100 {
        if processed(&sim).await.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(processed(&sim).await, [1, 2]);
    second.shutdown().unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(
            !String::from_utf8_lossy(&text).contains("RESTORE-SECRET"),
            "no token on disk"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(start_paused = true)]
async fn acknowledged_orders_are_not_restored_and_faults_are_retried_at_the_interval() {
    let _watchdog = common::watchdog::arm();
    let dir = temp_dir();
    let sim = Sim::start(Default::default()).await.unwrap();
    sim.add_order(OrderSpec::new(801).status("done"));
    let engine = engine(&sim, &dir, Some(Duration::from_secs(3)));
    // 801 is tracked live and acknowledged before its event shows up.
    let (listener, mut rec) = recorder();
    engine
        .track(801, Token::new(JWT).unwrap(), listener)
        .unwrap();
    assert_eq!(outcome(&rec.until_last().await), Outcome::Done);
    assert_eq!(engine.acknowledge(801), Ok(()));
    control(
        &sim,
        "POST",
        "/_sim/event",
        json!({"id": 10, "order_id": 801}),
    )
    .await;
    control(
        &sim,
        "POST",
        "/_sim/event",
        json!({"id": 11, "order_id": 802}),
    )
    .await;
    for fault in [
        json!({"fault": "error", "status": 503}),
        json!({"fault": "malformed", "text": "{\"events\": [tru"}),
        json!({"fault": "rate_limit", "retry_after_secs": 1}),
        json!({"fault": "delay", "delay_ms": 60000}),
    ] {
        control(&sim, "POST", "/_sim/events_fault", fault).await;
    }
    let (_, mut got) = resume(&engine);
    let finals = got.finals_within(Duration::from_secs(60)).await;
    let ids: Vec<(i64, Origin)> = finals.iter().map(|e| (e.order_id, e.origin)).collect();
    assert_eq!(
        ids,
        [(802, Origin::Restored)],
        "801 was acknowledged; 802 once, after the faults"
    );
    assert_eq!(
        processed(&sim).await,
        [10],
        "the acknowledged order's event is marked processed"
    );
    let reads = control(&sim, "GET", "/_sim/events", json!({})).await["reads"]
        .as_u64()
        .unwrap();
    assert!(reads >= 2, "reads go on at the interval: {reads}");
    engine.shutdown().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
