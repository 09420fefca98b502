//! Tracks orders end to end through the C ABI and prints every event with a timestamp.
//!
//! Without arguments it starts the embedded simulator and runs three scenarios: an order that
//! succeeds over the socket, one that falls back to polling after a socket fault, and one that the
//! host cancels. With `--project-id`, `--order-id` and `--token` (or `XO_PROJECT_ID`,
//! `XO_ORDER_ID`, `XO_TOKEN`) it tracks a real order against Xsolla's production endpoints.

use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use once_cell::sync::Lazy;
use xo_sim::{OrderSpec, Sim, SimConfig};
use xo_tracker::ffi::*;

static STARTED: Lazy<Instant> = Lazy::new(Instant::now);

/// What the callback needs: a label to print and where to say "final".
struct Scenario {
    label: &'static str,
    finished: mpsc::Sender<&'static str>,
}

unsafe extern "C" fn on_event(userdata: *mut c_void, event: *const xo_event) {
    let scenario = &*(userdata as *const Scenario);
    let e = &*event;
    let text = |p: *const c_char| {
        if p.is_null() {
            String::new()
        } else {
            CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    };
    let what = match e.kind {
        xo_event_kind::StatusChanged => format!("status {}", text(e.status_raw)),
        xo_event_kind::TransportChanged => {
            format!("transport {:?} {}", e.transport_state, text(e.message))
        }
        xo_event_kind::TokenExpired => "token expired: the game should refresh it".to_owned(),
        xo_event_kind::Final => format!(
            "FINAL {:?} {}{}",
            e.outcome,
            text(e.message),
            contents_summary(e.contents_json)
        ),
        xo_event_kind::CheckResult => format!("check {:?} {}", e.outcome, text(e.status_raw)),
    };
    println!(
        "{:>7.3}s  {:<22} order {:<6} {}",
        STARTED.elapsed().as_secs_f64(),
        scenario.label,
        e.order_id,
        what
    );
    if e.kind == xo_event_kind::Final {
        let _ = scenario.finished.send(scenario.label);
    }
}

/// "2 items, 30 USD" from the order contents JSON.
fn contents_summary(json: *const c_char) -> String {
    if json.is_null() {
        return String::new();
    }
    let text = unsafe { CStr::from_ptr(json) }.to_string_lossy();
    let contents: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let items = contents["items"].as_array().map_or(0, Vec::len);
    let price = &contents["price"];
    format!(
        " ({items} item(s), {} {})",
        price["amount"].as_str().unwrap_or("?"),
        price["currency"].as_str().unwrap_or("")
    )
}

fn check(code: xo_result, what: &str) {
    if code != xo_result::Ok {
        let message = unsafe { CStr::from_ptr(xo_last_error()) }.to_string_lossy();
        panic!("{what} failed: {code:?}: {message}");
    }
}

fn track(order_id: i64, token: &str, scenario: &'static Scenario) -> i64 {
    let token = CString::new(token).expect("token has no NUL");
    let handle = unsafe {
        xo_track_order(
            order_id,
            token.as_ptr(),
            Some(on_event),
            scenario as *const Scenario as *mut c_void,
        )
    };
    if handle <= 0 {
        let message = unsafe { CStr::from_ptr(xo_last_error()) }.to_string_lossy();
        panic!("xo_track_order failed: {handle}: {message}");
    }
    handle
}

fn arg(name: &str, env: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| std::env::var(env).ok())
}

fn main() {
    Lazy::force(&STARTED);
    let version = unsafe { CStr::from_ptr(xo_version()) }.to_string_lossy();
    println!("xo-tracker {version} (C ABI {})", xo_abi_version());
    match (
        arg("--project-id", "XO_PROJECT_ID"),
        arg("--order-id", "XO_ORDER_ID"),
        arg("--token", "XO_TOKEN"),
    ) {
        (Some(project), Some(order), Some(token)) => real_order(&project, &order, &token),
        _ => simulated(),
    }
    check(xo_shutdown(), "xo_shutdown");
    println!(
        "{:>7.3}s  shut down cleanly",
        STARTED.elapsed().as_secs_f64()
    );
}

fn real_order(project: &str, order: &str, token: &str) {
    let project_id: i64 = project.parse().expect("--project-id is a number");
    let order_id: i64 = order.parse().expect("--order-id is a number");
    let mut config: xo_config = unsafe { std::mem::zeroed() };
    config.struct_size = std::mem::size_of::<xo_config>() as u32;
    config.project_id = project_id;
    check(unsafe { xo_configure(&config) }, "xo_configure");
    let (tx, rx) = mpsc::channel();
    let scenario: &'static Scenario = Box::leak(Box::new(Scenario {
        label: "real order",
        finished: tx,
    }));
    track(order_id, token, scenario);
    rx.recv().expect("a final event");
}

fn simulated() {
    let sim_runtime = tokio::runtime::Runtime::new().expect("a runtime for the simulator");
    let sim = sim_runtime
        .block_on(Sim::start(SimConfig::default()))
        .expect("the simulator starts");
    println!("simulator on {}", sim.api_base_url());

    let urls: Vec<CString> = [
        sim.centrifugo_url(),
        sim.legacy_socket_url(),
        sim.api_base_url(),
    ]
    .into_iter()
    .map(|u| CString::new(u).expect("URL has no NUL"))
    .collect();
    let mut config: xo_config = unsafe { std::mem::zeroed() };
    config.struct_size = std::mem::size_of::<xo_config>() as u32;
    config.project_id = SimConfig::default().project_id;
    config.centrifugo_url = urls[0].as_ptr();
    config.legacy_socket_url = urls[1].as_ptr();
    config.api_base_url = urls[2].as_ptr();
    config.allow_insecure_loopback = 1;
    check(unsafe { xo_configure(&config) }, "xo_configure");

    let (tx, rx) = mpsc::channel();
    let leak = |label| -> &'static Scenario {
        Box::leak(Box::new(Scenario {
            label,
            finished: tx.clone(),
        }))
    };
    let over_socket = leak("1 push over socket");
    let fallback = leak("2 socket fault->poll");
    let cancelled = leak("3 canceled by host");

    // 1. Paid after 1 s, delivered after 2 s, learned from pushes.
    sim.add_order(
        OrderSpec::new(5001)
            .status("new")
            .then_after(Duration::from_secs(1), "paid")
            .then_after(Duration::from_secs(1), "done"),
    );
    track(5001, "player-one-jwt", over_socket);

    // 3. The player closes the shop before paying: the game cancels tracking (below).
    sim.add_order(OrderSpec::new(5003).status("new"));
    let handle = track(5003, "player-three-jwt", cancelled);
    sim_runtime.block_on(sim.wait_until(|s| s.centrifugo_connects >= 2));

    // 2. The socket server refuses this player's connection: polling every 3 s finds "done".
    sim.faults().centrifugo_refuse(u32::MAX);
    sim.add_order(
        OrderSpec::new(5002)
            .status("new")
            .then_after(Duration::from_secs(4), "done"),
    );
    track(5002, "player-two-jwt", fallback);

    let mut finals = Vec::new();
    while finals.len() < 2 {
        finals.push(
            rx.recv_timeout(Duration::from_secs(60))
                .expect("scenarios 1 and 2 end within a minute"),
        );
    }
    sim.faults().centrifugo_refuse(0);
    check(xo_cancel(handle), "xo_cancel");
    println!(
        "{:>7.3}s  {:<22} order 5003   canceled by the host: no more callbacks",
        STARTED.elapsed().as_secs_f64(),
        cancelled.label
    );
    sim_runtime.block_on(sim.shutdown());
}
