//! Regression tests for what an independent Xsolla-like server showed (issue 11), each against
//! real loopback servers: the simulator where it can play the part, and for what it cannot (JSON
//! in binary WebSocket frames, a Retry-After of u64::MAX, error text echoing the token) a small
//! hostile server written here, independently of the library's protocol code.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{final_event, outcome, statuses, transports, Harness};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use xo_sim::OrderSpec;
use xo_tracker::{Engine, ErrorKind, EventKind, Outcome, Transport, TransportState};

const S: fn(u64) -> Duration = Duration::from_secs;
const MS: fn(u64) -> Duration = Duration::from_millis;
/// A 40-character opaque token, as Pay Station issues them.
const LONG_TOKEN: &str = "pstk-0123456789abcdefghijklmnopqrstuvwxyz";

/// Every 8-byte piece of `token` that `text` contains.
fn leaked_pieces(text: &str, token: &str) -> Vec<String> {
    let bytes = token.as_bytes();
    (0..bytes.len().saturating_sub(7))
        .map(|i| &token[i..i + 8])
        .filter(|piece| text.contains(piece))
        .map(str::to_owned)
        .collect()
}

// 1. A number from the server killed a tracker -------------------------------------------------

#[tokio::test(start_paused = true)]
async fn a_retry_after_of_u64_max_does_not_kill_the_tracker() {
    let _watchdog = common::watchdog::arm();
    for transport in [Transport::PollingOnly, Transport::Centrifugo] {
        let h = Harness::start(transport).await;
        h.sim.faults().centrifugo_refuse(1_000);
        h.sim.faults().http_rate_limit(11, 2, u64::MAX);
        h.sim
            .add_order(OrderSpec::new(11).status("new").then_after(S(20), "done"));
        let started = Instant::now();
        let (handle, mut rec) = h.track(11);
        let events = rec.until_last().await;
        assert_eq!(
            outcome(&events),
            Outcome::Done,
            "{transport:?}: {events:#?}"
        );
        // The wait was capped (60 s each), not "forever".
        assert!(
            rec.final_at.unwrap() - started <= S(2 * 60 + 10),
            "{transport:?}"
        );
        assert!(h
            .engine
            .update_token(handle, xo_tracker::Token::new("x").unwrap())
            .is_err());
    }
}

// 2. A false outcome: API replication lag is not "not found" -------------------------------------

#[tokio::test(start_paused = true)]
async fn an_order_the_api_learns_600_ms_late_is_not_reported_not_found() {
    let _watchdog = common::watchdog::arm();
    for transport in [
        Transport::Centrifugo,
        Transport::LegacySocket,
        Transport::PollingOnly,
    ] {
        let h = Harness::start(transport).await;
        let (_, mut rec) = h.track(21);
        tokio::time::sleep(MS(600)).await;
        h.sim
            .add_order(OrderSpec::new(21).status("new").then_after(S(5), "done"));
        let events = rec.until_last().await;
        assert_eq!(
            outcome(&events),
            Outcome::Done,
            "{transport:?}: {events:#?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn an_order_that_never_exists_is_not_found_after_the_confirmation_window() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    let started = Instant::now();
    let (_, mut rec) = h.track(22);
    let events = rec.until_last().await;
    assert_eq!(outcome(&events), Outcome::NotFound);
    let took = rec.final_at.unwrap() - started;
    let confirm = h.engine.config().timing.not_found_confirm;
    assert!(took >= confirm && took <= confirm + S(4), "{took:?}");
}

// 3. Partial token leaks ----------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn server_text_echoing_the_token_past_the_cut_leaks_no_piece_of_it() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    let echo = format!("{} {LONG_TOKEN} and again {LONG_TOKEN}", "x".repeat(190));
    h.sim
        .faults()
        .centrifugo_reject_connect(1, 101, echo, false);
    h.sim
        .add_order(OrderSpec::new(31).status("new").then_after(S(10), "done"));
    let (listener, mut rec) = common::recorder();
    let token = xo_tracker::Token::new(LONG_TOKEN).unwrap();
    h.engine.track(31, token, listener).unwrap();
    let events = rec.until_last().await;
    let polling = events
        .iter()
        .find(|e| e.transport == Some(TransportState::Polling))
        .expect("the refusal moved the tracker to polling");
    let message = &polling.error.as_ref().unwrap().message;
    assert!(message.contains("<redacted"), "{message}");
    for event in &events {
        let text = format!("{event:?}");
        assert_eq!(
            leaked_pieces(&text, LONG_TOKEN),
            Vec::<String>::new(),
            "{text}"
        );
    }
}

// 4. Reconnect storms ---------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn a_server_that_drops_every_connection_at_once_gets_backoff_not_a_storm() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::with(Transport::Centrifugo, |c| c.timing = Default::default()).await;
    h.sim.add_order(OrderSpec::new(41).status("new"));
    let (handle, mut rec) = h.track(41);
    let started = Instant::now();
    // The server closes every connection about 0.2 s after it opens, for 12 s.
    while started.elapsed() < S(12) {
        tokio::time::sleep(MS(200)).await;
        h.sim.faults().centrifugo_close_all(3000, "bye");
    }
    let stats = h.sim.stats();
    let connects = stats.centrifugo_connects;
    let gets = stats.http_requests_for(41);
    assert!(connects <= 8, "{connects} connects in 12 s (was 13)");
    assert!(gets <= 5, "{gets} GETs in 12 s (was 26; one per 3 s is 5)");
    h.engine.cancel(handle).unwrap();
    assert!(
        rec.try_next().is_some(),
        "the tracker reported what happened"
    );
}

// 5. Smaller ones -------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn centrifugo_token_expired_asks_for_a_new_token_while_polling_goes_on() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim
        .faults()
        .centrifugo_reject_connect(1, 109, "token expired", false);
    h.sim
        .add_order(OrderSpec::new(51).status("new").then_after(S(10), "done"));
    let (_, mut rec) = h.track(51);
    let events = rec.until_last().await;
    let asked: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::TokenExpired)
        .collect();
    assert_eq!(asked.len(), 1, "{events:#?}");
    assert_eq!(transports(&events), vec![TransportState::Polling]);
    assert_eq!(outcome(&events), Outcome::Done, "HTTP still worked");
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_of_an_hour_does_not_time_out_polling() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::with(Transport::PollingOnly, |c| {
        c.timing.polling_deadline = S(120);
    })
    .await;
    h.sim.faults().http_rate_limit(52, 1, 3600);
    h.sim
        .add_order(OrderSpec::new(52).status("new").then_after(S(30), "done"));
    let (_, mut rec) = h.track(52);
    let events = rec.until_last().await;
    assert_eq!(outcome(&events), Outcome::Done, "{events:#?}");
}

#[tokio::test(start_paused = true)]
async fn a_stalled_contents_request_still_leaves_room_for_three_attempts() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    h.sim
        .add_order(OrderSpec::new(53).status("paid").then_after(S(2), "done"));
    let (_, mut rec) = h.track(53);
    rec.until(|e| e.transport == Some(TransportState::SocketConnected))
        .await;
    let gets_before = h.sim.stats().http_requests_for(53);
    // Every request from now on stalls past the request timeout.
    h.sim.faults().http_delay(53, 10, S(60));
    let events = rec.until_last().await;
    let last = final_event(&events);
    assert_eq!(last.outcome, Outcome::Done);
    assert!(last.contents.is_none());
    let attempts = h.sim.stats().http_requests_for(53) - gets_before;
    assert!(attempts >= 3, "{attempts} contents attempts");
}

#[tokio::test(start_paused = true)]
async fn stalled_requests_of_other_orders_do_not_delay_a_healthy_final() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::PollingOnly).await;
    for order in 100..112 {
        h.sim.add_order(OrderSpec::new(order).status("new"));
        h.sim.faults().http_delay(order, 1, S(60));
        let _ = h.track(order);
    }
    tokio::time::sleep(MS(10)).await;
    h.sim.add_order(OrderSpec::new(54).status("done"));
    let started = Instant::now();
    let (_, mut rec) = h.track(54);
    let events = rec.until_last().await;
    assert_eq!(outcome(&events), Outcome::Done);
    let took = rec.final_at.unwrap() - started;
    assert!(
        took < MS(500),
        "the healthy order waited {took:?} (was 1.5 s)"
    );
}

#[tokio::test(start_paused = true)]
async fn statuses_in_other_letter_case_are_understood() {
    let _watchdog = common::watchdog::arm();
    for transport in [Transport::Centrifugo, Transport::PollingOnly] {
        let h = Harness::start(transport).await;
        h.sim
            .add_order(OrderSpec::new(55).status("New").then_after(S(5), "DONE"));
        let (_, mut rec) = h.track(55);
        let events = rec.until_last().await;
        assert_eq!(statuses(&events), vec!["new", "done"], "{transport:?}");
        assert_eq!(outcome(&events), Outcome::Done);
    }
}

/// A Centrifugo-like server that speaks only in binary frames: connect reply, then a `done`
/// publication for `order_id` after `push_after`.
async fn binary_centrifugo(order_id: i64, push_after: Duration) -> (String, Arc<AtomicU32>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "ws://{}/connection/websocket",
        listener.local_addr().unwrap()
    );
    let connects = Arc::new(AtomicU32::new(0));
    let counted = connects.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            // Without it a second small frame waits for a real-time delayed ACK while the paused
            // clock runs ahead.
            let _ = tcp.set_nodelay(true);
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                let Some(Ok(_connect)) = ws.next().await else {
                    return;
                };
                let reply =
                    r#"{"id":1,"connect":{"client":"c","version":"v","ping":25,"pong":true}}"#;
                let _ = ws.send(Message::binary(reply.as_bytes().to_vec())).await;
                tokio::time::sleep(push_after).await;
                let push = format!(
                    r#"{{"push":{{"channel":"orders","pub":{{"data":{{"order_id":{order_id},"status":"done"}}}}}}}}"#
                );
                let _ = ws.send(Message::binary(push.into_bytes())).await;
                while let Some(Ok(_)) = ws.next().await {}
            });
        }
    });
    (url, connects)
}

#[tokio::test(start_paused = true)]
async fn json_in_binary_websocket_frames_is_understood() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::Centrifugo).await;
    let (url, connects) = binary_centrifugo(56, S(5)).await;
    let mut config = common::config_for(&h.sim, Transport::Centrifugo);
    config.centrifugo_url = url;
    let engine = Engine::new(config, tokio::runtime::Handle::current()).unwrap();
    // The HTTP API (the simulator) only ever says `paid`: `done` can only come from the push.
    h.sim.add_order(OrderSpec::new(56).status("paid"));
    let (listener, mut rec) = common::recorder();
    engine
        .track(56, xo_tracker::Token::new(common::TOKEN).unwrap(), listener)
        .unwrap();
    let events = rec.until_last().await;
    assert_eq!(
        transports(&events).first(),
        Some(&TransportState::SocketConnected),
        "the binary connect reply was understood: {events:#?}"
    );
    assert_eq!(statuses(&events), vec!["paid", "done"]);
    assert_eq!(outcome(&events), Outcome::Done);
    assert_eq!(connects.load(Ordering::SeqCst), 1, "{events:#?}");
}

/// Reads one request's head (these servers get GETs without a body); None when the peer is gone.
async fn request_head(tcp: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buffer = vec![0u8; 16 * 1024];
    let mut read = 0;
    loop {
        match tcp.read(&mut buffer[read..]).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => read += n,
        }
        let text = String::from_utf8_lossy(&buffer[..read]);
        if text.contains("\r\n\r\n") {
            return Some(text.into_owned());
        }
        if read == buffer.len() {
            return None;
        }
    }
}

/// An HTTP server answering every Get order with 429, `Retry-After: <retry_after>` and an error
/// text echoing the bearer token, `limited` times; then `done`.
async fn hostile_api(limited: u32, retry_after: &'static str) -> (String, Arc<AtomicU32>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicU32::new(0));
    let counted = requests.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let _ = tcp.set_nodelay(true);
            let counted = counted.clone();
            tokio::spawn(async move {
                loop {
                    let Some(head) = request_head(&mut tcp).await else {
                        return;
                    };
                    let token = head
                        .lines()
                        .find_map(|l| l.strip_prefix("authorization: Bearer "))
                        .unwrap_or("")
                        .trim()
                        .to_owned();
                    let n = counted.fetch_add(1, Ordering::SeqCst);
                    let (status, extra, body) = if n < limited {
                        let body = format!(
                            r#"{{"statusCode":429,"errorCode":0,"errorMessage":"{} slow down, {token}"}}"#,
                            "z".repeat(185)
                        );
                        (
                            "429 Too Many Requests",
                            format!("Retry-After: {retry_after}\r\n"),
                            body,
                        )
                    } else {
                        let body = r#"{"order_id":57,"status":"done","content":{"price":null,"virtual_price":null,"is_free":true,"items":[]}}"#.to_owned();
                        ("200 OK", String::new(), body)
                    };
                    let response = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if tcp.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (base, requests)
}

#[tokio::test(start_paused = true)]
async fn a_hostile_api_with_huge_retry_after_and_token_echo_still_gets_a_clean_done() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::PollingOnly).await;
    let (base, requests) = hostile_api(2, "18446744073709551615").await;
    let mut config = common::config_for(&h.sim, Transport::PollingOnly);
    config.api_base_url = base;
    let engine = Engine::new(config, tokio::runtime::Handle::current()).unwrap();
    let lines = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink_lines = lines.clone();
    xo_tracker::log::set_sink(
        Some(Arc::new(move |_, line: &str| {
            sink_lines.lock().unwrap().push(line.to_owned())
        })),
        xo_tracker::log::Level::Debug,
    );
    let (listener, mut rec) = common::recorder();
    engine
        .track(57, xo_tracker::Token::new(LONG_TOKEN).unwrap(), listener)
        .unwrap();
    let events = rec.until_last().await;
    xo_tracker::log::set_sink(None, xo_tracker::log::Level::Debug);
    assert_eq!(outcome(&events), Outcome::Done, "{events:#?}");
    assert_eq!(requests.load(Ordering::SeqCst), 3);
    let lines = lines.lock().unwrap().clone();
    let warned: Vec<_> = lines.iter().filter(|l| l.contains("HTTP 429")).collect();
    assert!(!warned.is_empty(), "the 429s were logged: {lines:#?}");
    for text in lines
        .iter()
        .cloned()
        .chain(events.iter().map(|e| format!("{e:?}")))
    {
        assert_eq!(
            leaked_pieces(&text, LONG_TOKEN),
            Vec::<String>::new(),
            "{text}"
        );
    }
    let _ = ErrorKind::RateLimited;
}

/// An HTTP server answering every request with `body` (200, JSON).
async fn fixed_body_api(body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api", listener.local_addr().unwrap());
    let body = Arc::new(body);
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let _ = tcp.set_nodelay(true);
            let body = body.clone();
            tokio::spawn(async move {
                while request_head(&mut tcp).await.is_some() {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        body.len()
                    );
                    if tcp.write_all(head.as_bytes()).await.is_err()
                        || tcp.write_all(body.as_bytes()).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    base
}

/// A Get order body of exactly the 256 KiB limit is read; one byte more is refused as a
/// protocol error (and never parsed).
#[tokio::test(start_paused = true)]
async fn an_order_body_at_the_size_limit_is_read_and_one_byte_more_is_refused() {
    let _watchdog = common::watchdog::arm();
    let h = Harness::start(Transport::PollingOnly).await;
    let done = r#"{"order_id":58,"status":"done","content":{"price":null,"virtual_price":null,"is_free":true,"items":[]}}"#;
    for extra in [0, 1] {
        let size = xo_tracker::api::MAX_BODY_BYTES + extra;
        let body = format!("{done}{}", " ".repeat(size - done.len()));
        let mut config = common::config_for(&h.sim, Transport::PollingOnly);
        config.api_base_url = fixed_body_api(body).await;
        let engine = Engine::new(config, tokio::runtime::Handle::current()).unwrap();
        let (listener, mut rec) = common::recorder();
        engine
            .check(58, xo_tracker::Token::new(common::TOKEN).unwrap(), listener)
            .unwrap();
        let events = rec.until_last().await;
        let last = events.last().unwrap();
        if extra == 0 {
            assert_eq!(last.outcome, Outcome::Done, "{events:#?}");
        } else {
            assert_eq!(last.outcome, Outcome::Failed, "{events:#?}");
            let error = last.error.as_ref().expect("a reason");
            assert_eq!(error.kind, ErrorKind::Protocol, "{error:?}");
            assert!(error.message.contains("larger than"), "{error:?}");
        }
    }
}
