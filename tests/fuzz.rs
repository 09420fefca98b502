//! Fuzzing of the frame and HTTP body parsers, on stable Rust and without dependencies: a
//! deterministic PRNG (SplitMix64) makes inputs from random bytes, random JSON built from the
//! protocol's own vocabulary, mutations of valid messages, and pathological shapes (deep nesting,
//! huge numbers, thousands of lines). 100,000 inputs in all by default (`XO_FUZZ_CASES` scales it,
//! `XO_FUZZ_SEED` changes the seed). Every input must be handled without a panic and with bounded
//! memory: a counting allocator measures the peak bytes each call allocates on its thread.
//!
//! The size caps themselves (64 KiB socket frames, 256 KiB HTTP bodies) are enforced below these
//! parsers, by the WebSocket configuration and the body reader; `tests/fault_matrix.rs` drives
//! them through the simulator (`oversized_frame`, `http_oversized_body`).

#[path = "common/watchdog.rs"]
mod watchdog;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use serde_json::{json, Value};
use xo_tracker::api::{classify, parse_order, ApiError};
use xo_tracker::contents::normalize_contents;
use xo_tracker::transport::centrifugo::decode_frame;
use xo_tracker::transport::legacy_socket::decode_message;
use xo_tracker::transport::Inbound;

// ---------------------------------------------------------------------------------------------
// A counting allocator: per-thread current and peak bytes (tests run on several threads).

struct Counting;

thread_local! {
    static CURRENT: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    let _ = CURRENT.try_with(|c| {
        let now = c.get() + delta;
        c.set(now);
        let _ = PEAK.try_with(|p| {
            if now > p.get() {
                p.set(now)
            }
        });
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        track(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            track(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f`, returning its result and the peak number of bytes it had allocated at once.
fn measured<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = CURRENT.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f();
    let peak = PEAK.with(Cell::get) - base;
    (out, peak.max(0) as usize)
}

// ---------------------------------------------------------------------------------------------
// Inputs.

#[path = "common/rng.rs"]
mod rng;
use rng::Rng;

const KEYS: &[&str] = &[
    "push",
    "pub",
    "data",
    "order_id",
    "status",
    "connect",
    "id",
    "error",
    "code",
    "message",
    "temporary",
    "disconnect",
    "reason",
    "ping",
    "pong",
    "client",
    "version",
    "channel",
    "offset",
    "content",
    "items",
    "price",
    "virtual_price",
    "is_free",
    "amount",
    "amount_without_discount",
    "currency",
    "quantity",
    "sku",
    "statusCode",
    "errorCode",
    "errorMessage",
    "subs",
    "join",
    "leave",
    "",
];
const STRINGS: &[&str] = &[
    "new",
    "paid",
    "done",
    "canceled",
    "expired",
    "in_review",
    "",
    "true",
    "false",
    "30",
    "1.5",
    "USD",
    "9223372036854775807",
    "-1",
    "0",
    "\u{0}",
    "\u{feff}",
    "é",
    "\\n",
    "null",
];
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\n",
    "\r\n",
    " ",
    "\\",
    "\\u0000",
    "\\ud800",
    "null",
    "true",
    "false",
    "-",
    "0",
    "1e999",
    "-0",
    "18446744073709551616",
    "9223372036854775808",
    "{}",
    "[]",
    "\"push\"",
    "\"order_id\"",
    "\"status\"",
    "\"done\"",
    "\u{0}",
    "\u{fffd}",
];

fn random_value(rng: &mut Rng, depth: u32) -> Value {
    let leaf = depth >= 5 || rng.below(3) == 0;
    match rng.below(if leaf { 6 } else { 8 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => json!(rng.next() as i64 >> rng.below(64)),
        3 => json!((rng.next() as f64) / (1u64 << rng.below(64)) as f64),
        4 | 5 => Value::String(if rng.below(8) == 0 {
            "x".repeat(rng.below(3000))
        } else {
            (*rng.pick(STRINGS)).to_owned()
        }),
        6 => Value::Array(
            (0..rng.below(6))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.below(7))
                .map(|_| ((*rng.pick(KEYS)).to_owned(), random_value(rng, depth + 1)))
                .collect(),
        ),
    }
}

/// Valid messages of every kind the parsers know, to mutate.
fn seeds() -> Vec<String> {
    vec![
        r#"{"push":{"channel":"orders:1","pub":{"data":{"order_id":42,"status":"paid"},"offset":3}}}"#.into(),
        r#"{"id":1,"connect":{"client":"c","version":"v","ping":25,"pong":true}}"#.into(),
        r#"{"id":1,"error":{"code":109,"message":"token expired","temporary":false}}"#.into(),
        r#"{"push":{"disconnect":{"code":3500,"reason":"invalid token"}}}"#.into(),
        "{}\n{}\n".into(),
        r#"{"order_id":42,"status":"done"}"#.into(),
        r#"{"order_id":"42","status":"canceled"}"#.into(),
        r#"{"order_id":42,"status":"done","content":{"price":{"amount":"30","amount_without_discount":"30","currency":"USD"},"virtual_price":null,"is_free":"false","items":[{"sku":"a","quantity":1,"is_free":false,"price":{"amount":1.5,"currency":"USD"}}]}}"#.into(),
        r#"{"statusCode":404,"errorCode":9001,"errorMessage":"[0401-9001]: Order not found"}"#.into(),
    ]
}

fn mutate(rng: &mut Rng, input: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(6) {
        let len = input.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                let j = (i + rng.below(16)).min(len);
                input.drain(i..j);
            }
            2 if len > 0 => {
                let i = rng.below(len);
                let j = (i + rng.below(32)).min(len);
                let chunk = input[i..j].to_vec();
                let at = rng.below(len + 1);
                input.splice(at..at, chunk);
            }
            3 => {
                let at = rng.below(len + 1);
                let token = rng.pick(TOKENS).as_bytes().to_vec();
                input.splice(at..at, token);
            }
            4 => input.truncate(rng.below(len + 1)),
            5 => {
                let at = rng.below(len + 1);
                input.insert(at, rng.next() as u8);
            }
            _ => {
                let at = rng.below(len + 1);
                input.splice(at..at, b"\n".iter().copied());
            }
        }
    }
}

/// Pathological shapes: nesting far beyond serde_json's limit, many lines, huge literals.
fn pathological(rng: &mut Rng) -> Vec<u8> {
    let n = 1 + if rng.below(20) == 0 {
        rng.below(60_000)
    } else {
        rng.below(4_000)
    };
    match rng.below(8) {
        0 => "[".repeat(n).into_bytes(),
        1 => format!(
            "{}{}",
            "{\"a\":".repeat(n.min(20_000)),
            "}".repeat(n.min(20_000))
        )
        .into_bytes(),
        2 => "{}\n".repeat(n.min(20_000)).into_bytes(),
        3 => format!(
            "{{\"order_id\":{},\"status\":\"done\"}}",
            "9".repeat(n.min(5000))
        )
        .into_bytes(),
        4 => format!("{{\"order_id\":1,\"status\":\"{}\"}}", "s".repeat(n)).into_bytes(),
        5 => format!("[{}1]", "1,".repeat(n.min(30_000))).into_bytes(),
        6 => "\n\r \t".repeat(n.min(20_000)).into_bytes(),
        _ => (0..n.min(4096)).map(|_| rng.next() as u8).collect(),
    }
}

/// One input: random bytes, random JSON (one or several lines), a mutated seed, or a
/// pathological shape.
fn input(rng: &mut Rng, seeds: &[String]) -> Vec<u8> {
    match rng.below(10) {
        0 => (0..rng.below(256)).map(|_| rng.next() as u8).collect(),
        1..=3 => {
            let lines = 1 + rng.below(3);
            let mut text = String::new();
            for _ in 0..lines {
                text.push_str(&random_value(rng, 0).to_string());
                text.push('\n');
            }
            text.into_bytes()
        }
        4..=8 => {
            let mut bytes = rng.pick(seeds).clone().into_bytes();
            if rng.below(4) == 0 {
                let other = rng.pick(seeds).clone();
                bytes.push(b'\n');
                bytes.extend_from_slice(other.as_bytes());
            }
            mutate(rng, &mut bytes);
            bytes
        }
        _ => pathological(rng),
    }
}

fn cases(default: usize) -> usize {
    let scale: f64 = std::env::var("XO_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .map_or(1.0, |n| n / 100_000.0);
    ((default as f64) * scale).ceil() as usize
}

fn seed(target: u64) -> u64 {
    let base = std::env::var("XO_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x00F0_2202_5EED);
    base ^ target.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Memory a parser may use for an input of `len` bytes: a JSON tree is a few dozen times its text.
fn memory_bound(len: usize) -> usize {
    64 * len + 256 * 1024
}

/// Feeds `n` inputs to `target` (which returns the peak bytes it allocated); a panic or a memory
/// overrun fails with the seed, the case number and the input.
fn fuzz(name: &str, target: u64, n: usize, mut call: impl FnMut(&[u8]) -> usize) {
    let seed = seed(target);
    let mut rng = Rng(seed);
    let seeds = seeds();
    let (mut bytes, mut worst) = (0usize, 0f64);
    for case in 0..n {
        let data = input(&mut rng, &seeds);
        bytes += data.len();
        let shown = || {
            let text = String::from_utf8_lossy(&data[..data.len().min(300)]).into_owned();
            format!(
                "{name}: seed {seed} case {case}, {} bytes: {text:?}",
                data.len()
            )
        };
        let peak = match catch_unwind(AssertUnwindSafe(|| call(&data))) {
            Ok(peak) => peak,
            Err(_) => panic!("panicked on {}", shown()),
        };
        assert!(
            peak <= memory_bound(data.len()),
            "{peak} bytes allocated at once for {}",
            shown()
        );
        worst = worst.max(peak as f64 / (data.len().max(1)) as f64);
    }
    eprintln!("{name}: {n} inputs, {bytes} bytes, seed {seed}, worst peak {worst:.1} bytes per input byte");
}

/// `v` with every non-integer number rounded to 10 significant digits.
fn canon(v: &Value) -> Value {
    match v {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            Value::String(format!("{:.9e}", n.as_f64().unwrap_or(0.0)))
        }
        Value::String(s) => match s.parse::<f64>() {
            Ok(f) if s.contains(['.', 'e', 'E']) => Value::String(format!("{f:.9e}")),
            _ => v.clone(),
        },
        Value::Array(a) => Value::Array(a.iter().map(canon).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), canon(v))).collect()),
        other => other.clone(),
    }
}

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

#[test]
fn centrifugo_frames() {
    let _watchdog = watchdog::arm();
    fuzz("decode_frame", 1, cases(30_000), |data| {
        let text = text(data);
        let lines = text.split('\n').filter(|l| !l.trim().is_empty()).count();
        let (out, peak) = measured(|| {
            let mut out = Vec::new();
            decode_frame(&text, &mut out);
            out
        });
        assert_eq!(out.len(), lines, "one message per non-empty line");
        for m in &out {
            match m {
                Inbound::ErrorReply { message, .. } => assert!(message.chars().count() <= 200),
                Inbound::Malformed(why) => assert!(why.len() <= 300, "{why}"),
                _ => {}
            }
        }
        peak
    });
}

#[test]
fn legacy_messages() {
    let _watchdog = watchdog::arm();
    fuzz("decode_message", 2, cases(20_000), |data| {
        let text = text(data);
        let (out, peak) = measured(|| decode_message(&text));
        if let Inbound::Malformed(why) = &out {
            assert!(why.len() <= 300, "{why}");
        }
        assert!(
            matches!(out, Inbound::Status { .. } | Inbound::Malformed(_)),
            "{out:?}"
        );
        peak
    });
}

#[test]
fn order_bodies() {
    let _watchdog = watchdog::arm();
    fuzz("parse_order", 3, cases(20_000), |data| {
        let (out, peak) = measured(|| parse_order(42, data));
        match out {
            Ok(snapshot) => {
                if let Some(contents) = snapshot.contents {
                    let v: Value = serde_json::from_str(&contents).expect("contents are JSON");
                    assert!(v.is_object());
                }
            }
            Err(message) => assert!(message.len() <= 400, "{message}"),
        }
        peak
    });
}

#[test]
fn http_answers() {
    let _watchdog = watchdog::arm();
    const STATUSES: &[u16] = &[
        200, 200, 200, 204, 301, 400, 401, 403, 404, 408, 418, 422, 429, 500, 502, 503, 599, 0, 999,
    ];
    let mut pick = Rng(seed(99));
    fuzz("classify", 4, cases(10_000), |data| {
        let status = *pick.pick(STATUSES);
        let retry_after = (pick.below(2) == 0).then(|| Duration::from_secs(pick.next() % 100_000));
        let (out, peak) = measured(|| classify(42, status, data, retry_after));
        match (status, &out) {
            (200, Ok(_)) => {}
            (200, Err(ApiError::Transient { .. })) => {}
            (401, Err(ApiError::Unauthorized(_))) => {}
            (404, Err(ApiError::NotFound(_))) => {}
            (408 | 429 | 500..=599, Err(ApiError::Transient { .. })) => {}
            (_, Err(ApiError::Fatal(_))) => {}
            (status, other) => panic!("HTTP {status} classified as {other:?}"),
        }
        if let Err(e) = &out {
            assert_eq!(e.info().http_status, status);
            assert!(
                e.info().message.chars().count() <= 260,
                "{}",
                e.info().message
            );
        }
        peak
    });
}

#[test]
fn contents_normalization() {
    let _watchdog = watchdog::arm();
    let mut rng = Rng(seed(5));
    fuzz("normalize_contents", 5, cases(20_000), |data| {
        // Half the inputs as parsed JSON (when they parse), half as random JSON trees.
        let value = match serde_json::from_slice::<Value>(data) {
            Ok(v) if rng.below(2) == 0 => v,
            _ => random_value(&mut rng, 0),
        };
        let (once, peak) = measured(|| normalize_contents(&value));
        let parsed: Value = serde_json::from_str(&once).expect("normalized contents are JSON");
        // Idempotent, up to float printing (serde_json parses floats to the nearest value only
        // with its `float_roundtrip` feature).
        let twice: Value = serde_json::from_str(&normalize_contents(&parsed)).unwrap();
        assert_eq!(canon(&twice), canon(&parsed), "normalizing is idempotent");
        if let Some(obj) = parsed.as_object() {
            if let Some(free) = obj.get("is_free") {
                assert!(free.is_boolean(), "is_free is a bool: {once}");
            }
            for key in ["price", "virtual_price"] {
                assert!(obj.contains_key(key), "{key} is present: {once}");
            }
        }
        let size = value.to_string().len();
        assert!(
            peak <= memory_bound(size),
            "{peak} bytes for {size} bytes of JSON"
        );
        peak.min(memory_bound(data.len()))
    });
}
