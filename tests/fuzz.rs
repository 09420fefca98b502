//! Property tests (proptest) of every parser that reads network bytes.
//!
//! Inputs are structure-aware: each test draws a *model* of a message (a Centrifugo frame, a legacy
//! message, a Get order body, an HTTP error answer, a header value, a server text with the token
//! echoed in it), encodes it with the small test-side encoder below, and mutates it the ways real
//! servers do (wrong types, huge, negative and fractional numbers, extra fields, odd letter case,
//! unicode, batching with `\n`, truncation). Valid JSON most of the time, so most inputs reach the
//! decoding logic; each test prints the fraction that did and asserts it is high.
//!
//! Oracles compare the decoder's output with what the MODEL says it must be (the model knows what
//! it encoded), plus never-panic, bounded-memory and bound properties: every quoted text is at most
//! 200 characters and holds no 8-byte piece of the token, every duration is within its documented
//! bound. Failures shrink to a minimal input and are persisted under `proptest-regressions/fuzz/`
//! (committed; replayed first on every run).
//!
//! Every test is bounded by case count (`PROPTEST_CASES` overrides it) and by wall time.
//! `fuzz/` holds the libFuzzer targets for the same parsers (`scripts/fuzz.sh`).

#[path = "common/watchdog.rs"]
mod watchdog;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use serde_json::Value;
use xo_tracker::api::{classify_for, parse_order, ApiError};
use xo_tracker::contents::normalize_contents;
use xo_tracker::events::{ErrorKind, Status};
use xo_tracker::limits::{self, parse_retry_after, ping_interval, quote};
use xo_tracker::secret::Token;
use xo_tracker::transport::centrifugo::decode_frame;
use xo_tracker::transport::legacy_socket::decode_message;
use xo_tracker::transport::Inbound;

// ---------------------------------------------------------------------------------------------
// A counting allocator: per-thread current and peak bytes (tests run on several threads), so
// every call can be checked to allocate in proportion to its input.

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

/// The most a parser may allocate for an input of `len` bytes (a JSON tree is a few dozen bytes
/// per input byte at worst).
fn memory_bound(len: usize) -> usize {
    64 * 1024 + 80 * len
}

// ---------------------------------------------------------------------------------------------
// The runner: bounded by count and time, failures persisted, reach measured.

/// Counts of one property run: inputs checked, inputs that got past JSON parsing.
#[derive(Default)]
struct Reach {
    checked: Cell<usize>,
    reached: Cell<usize>,
    skipped: Cell<usize>,
}

impl Reach {
    fn count(&self, reached_logic: bool) {
        self.checked.set(self.checked.get() + 1);
        self.reached
            .set(self.reached.get() + usize::from(reached_logic));
    }
}

/// Wall time one property may take in a debug build (cases past it are skipped and counted).
const TIME_BUDGET: Duration = Duration::from_secs(20);

/// Runs `property` on `cases` inputs drawn from `strategy` (`PROPTEST_CASES` overrides the
/// count), shrinking and persisting any failure to `proptest-regressions/fuzz/<name>.txt`.
/// Returns the reach counts; asserts at least `min_reach` of the inputs got past JSON parsing.
fn check<S: Strategy>(
    name: &'static str,
    cases: u32,
    min_reach: f64,
    strategy: S,
    property: impl Fn(S::Value, &Reach) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(cases);
    let path: &'static str = Box::leak(format!("proptest-regressions/fuzz/{name}.txt").into());
    let config = Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(path))),
        max_shrink_time: 20_000,
        ..Config::default()
    };
    let reach = Reach::default();
    let deadline = Instant::now() + TIME_BUDGET;
    let started = Instant::now();
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |input| {
        if Instant::now() > deadline {
            reach.skipped.set(reach.skipped.get() + 1);
            return Ok(());
        }
        property(input, &reach)
    });
    let (checked, reached) = (reach.checked.get(), reach.reached.get());
    let fraction = reached as f64 / checked.max(1) as f64;
    println!(
        "{name}: {checked} inputs in {:.1?}, {:.1} % reached the logic (past JSON parsing), {} skipped by the time bound",
        started.elapsed(),
        100.0 * fraction,
        reach.skipped.get()
    );
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    assert!(checked > 0, "{name}: no input checked");
    assert!(
        fraction >= min_reach,
        "{name}: only {:.1} % of inputs reached past JSON parsing (want {:.0} %)",
        100.0 * fraction,
        100.0 * min_reach
    );
}

/// Whether a decoded message got past the JSON parser.
fn past_json(m: &Inbound) -> bool {
    !matches!(m, Inbound::Malformed(why) if why.starts_with("not JSON"))
}

// ---------------------------------------------------------------------------------------------
// Field models: how a server may send one field, and what the client must read from it.

/// A number field (ids, codes, ping intervals).
#[derive(Clone, Debug)]
enum Num {
    /// A JSON unsigned integer: read as itself.
    U(u64),
    /// A negative integer: read as 0 (the field's default).
    Neg(i64),
    /// A fractional number (`N.5`): read as 0.
    Frac(u32),
    /// An exponent form (`1eN`): read as 0.
    Exp(u8),
    /// More digits than a u64 holds: read as 0.
    Big(u8),
    /// Digits in a string: read as 0 (not a number).
    Text(u64),
    Bool(bool),
    Null,
    Absent,
}

impl Num {
    fn json(&self) -> Option<String> {
        Some(match self {
            Num::U(n) => n.to_string(),
            Num::Neg(n) => n.to_string(),
            Num::Frac(n) => format!("{n}.5"),
            Num::Exp(n) => format!("1e{n}"),
            Num::Big(extra) => format!("18446744073709551616{}", "7".repeat(*extra as usize)),
            Num::Text(n) => format!("\"{n}\""),
            Num::Bool(b) => b.to_string(),
            Num::Null => "null".into(),
            Num::Absent => return None,
        })
    }

    /// What the client reads: the integer, or 0 for anything that is not a u64.
    fn read(&self) -> u64 {
        match self {
            Num::U(n) => *n,
            _ => 0,
        }
    }
}

fn num() -> impl Strategy<Value = Num> {
    prop_oneof![
        8 => prop_oneof![0..200u64, 0..70_000u64, any::<u64>()].prop_map(Num::U),
        1 => (i64::MIN..0).prop_map(Num::Neg),
        1 => any::<u32>().prop_map(Num::Frac),
        1 => (0..30u8).prop_map(Num::Exp),
        1 => (0..40u8).prop_map(Num::Big),
        1 => any::<u64>().prop_map(Num::Text),
        1 => any::<bool>().prop_map(Num::Bool),
        1 => Just(Num::Null),
        1 => Just(Num::Absent),
    ]
}

/// A boolean field (`pong`, `temporary`).
#[derive(Clone, Debug)]
enum Flag {
    B(bool),
    /// `"true"` as a string: not a bool, read as false.
    Text,
    One,
    Absent,
}

impl Flag {
    fn json(&self) -> Option<String> {
        match self {
            Flag::B(b) => Some(b.to_string()),
            Flag::Text => Some("\"true\"".into()),
            Flag::One => Some("1".into()),
            Flag::Absent => None,
        }
    }
    fn read(&self) -> bool {
        matches!(self, Flag::B(true))
    }
}

fn flag() -> impl Strategy<Value = Flag> {
    prop_oneof![
        6 => any::<bool>().prop_map(Flag::B),
        1 => Just(Flag::Text),
        1 => Just(Flag::One),
        1 => Just(Flag::Absent),
    ]
}

/// Server text: short unicode, control characters, or very long.
fn server_text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "\\PC{0,60}",
        2 => "[a-z \\n\\t\\u{0}\"\\\\é漢😀]{0,40}",
        1 => ("\\PC", 4000..5000usize).prop_map(|(c, n)| c.repeat(n)),
    ]
}

/// A text field (messages, reasons).
#[derive(Clone, Debug)]
enum Txt {
    S(String),
    NotText(Num),
    Absent,
}

impl Txt {
    fn json(&self) -> Option<String> {
        match self {
            Txt::S(s) => Some(encode_str(s)),
            Txt::NotText(n) => n.json(),
            Txt::Absent => None,
        }
    }
    /// What the client reads: the text (at most the scanned length), or empty.
    fn read(&self) -> String {
        match self {
            Txt::S(s) => s.chars().take(limits::MAX_SCANNED_CHARS).collect(),
            Txt::NotText(Num::Text(n)) => n.to_string(),
            _ => String::new(),
        }
    }
}

fn txt() -> impl Strategy<Value = Txt> {
    prop_oneof![
        8 => server_text().prop_map(Txt::S),
        1 => num().prop_map(Txt::NotText),
        1 => Just(Txt::Absent),
    ]
}

/// An order id field.
#[derive(Clone, Debug)]
enum OrderId {
    Int(i64),
    /// The id as a decimal string (Xsolla sends both).
    Str(i64),
    /// Beyond i64: no id.
    Huge(u64),
    Frac(i32),
    Junk(String),
    Bool,
    Absent,
}

impl OrderId {
    fn json(&self) -> Option<String> {
        Some(match self {
            OrderId::Int(n) => n.to_string(),
            OrderId::Str(n) => format!("\"{n}\""),
            OrderId::Huge(n) => n.to_string(),
            OrderId::Frac(n) => format!("{n}.25"),
            OrderId::Junk(s) => encode_str(s),
            OrderId::Bool => "true".into(),
            OrderId::Absent => return None,
        })
    }
    fn read(&self) -> Option<i64> {
        match self {
            OrderId::Int(n) | OrderId::Str(n) => Some(*n),
            _ => None,
        }
    }
}

fn order_id() -> impl Strategy<Value = OrderId> {
    prop_oneof![
        6 => prop_oneof![1..100_000i64, any::<i64>()].prop_map(OrderId::Int),
        3 => any::<i64>().prop_map(OrderId::Str),
        1 => (i64::MAX as u64 + 1..=u64::MAX).prop_map(OrderId::Huge),
        1 => any::<i32>().prop_map(OrderId::Frac),
        1 => "[a-z ]{0,6}|0x1f|\\+|".prop_map(OrderId::Junk),
        1 => Just(OrderId::Bool),
        1 => Just(OrderId::Absent),
    ]
}

/// A status field: a known status in any letter case with blanks around it, an unknown one, or
/// not a string.
#[derive(Clone, Debug)]
enum StatusField {
    Known {
        raw: String,
        means: Status,
    },
    /// Unknown text (starts with `q`, which no known status does; no blanks around it).
    Other(String),
    NotText(Num),
    Absent,
}

impl StatusField {
    fn json(&self) -> Option<String> {
        match self {
            StatusField::Known { raw, .. } => Some(encode_str(raw)),
            StatusField::Other(s) => Some(encode_str(s)),
            StatusField::NotText(n) => n.json(),
            StatusField::Absent => None,
        }
    }
    /// The status the client must report: unknown text is kept, cut to 64 characters.
    fn read(&self) -> Option<Status> {
        match self {
            StatusField::Known { means, .. } => Some(means.clone()),
            StatusField::Other(s) => Some(Status::Other(s.chars().take(64).collect())),
            // Digits in a string are text like any other.
            StatusField::NotText(Num::Text(n)) => Some(Status::Other(n.to_string())),
            _ => None,
        }
    }
}

/// A known status word in random letter case with random blanks around it.
fn known_status() -> impl Strategy<Value = (String, Status)> {
    let words = prop_oneof![
        Just(("new", Status::New)),
        Just(("paid", Status::Paid)),
        Just(("done", Status::Done)),
        Just(("canceled", Status::Canceled)),
        Just(("cancelled", Status::Canceled)),
        Just(("expired", Status::Expired)),
    ];
    let pad = prop_oneof![4 => Just(""), 1 => Just(" "), 1 => Just("\t"), 1 => Just(" \n ")];
    (
        words,
        proptest::collection::vec(prop_oneof![3 => Just(false), 1 => Just(true)], 9),
        pad.clone(),
        pad,
    )
        .prop_map(|((word, status), upper, before, after)| {
            let cased: String = word
                .chars()
                .zip(upper)
                .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
                .collect();
            (format!("{before}{cased}{after}"), status)
        })
}

fn status_field() -> impl Strategy<Value = StatusField> {
    prop_oneof![
        10 => known_status().prop_map(|(raw, means)| StatusField::Known { raw, means }),
        2 => "q[a-zA-Z0-9_é漢😀-]{0,100}".prop_map(StatusField::Other),
        1 => num().prop_map(StatusField::NotText),
        1 => Just(StatusField::Absent),
    ]
}

/// Fields no decoder looks at (Centrifugo and Xsolla add fields over time).
fn extras() -> impl Strategy<Value = Vec<(String, String)>> {
    let value = prop_oneof![
        Just("null".to_owned()),
        Just("[1,{\"a\":[]}]".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        "\\PC{0,10}".prop_map(|s| encode_str(&s)),
    ];
    // A map: each key once (a repeated key would leave only its last value).
    proptest::collection::btree_map("x_[a-z]{1,6}|offset|client|version|info", value, 0..3)
        .prop_map(|m| m.into_iter().collect())
}

// ---------------------------------------------------------------------------------------------
// The test-side encoder: a JSON object from (key, encoded value) pairs, absent fields left out.

fn encode_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn object(fields: &[(&str, Option<String>)], extras: &[(String, String)]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let (front, back) = extras.split_at(extras.len() / 2);
    for (k, v) in front {
        parts.push(format!("{}:{v}", encode_str(k)));
    }
    for (k, v) in fields {
        if let Some(v) = v {
            parts.push(format!("{}:{v}", encode_str(k)));
        }
    }
    for (k, v) in back {
        parts.push(format!("{}:{v}", encode_str(k)));
    }
    format!("{{{}}}", parts.join(","))
}

// ---------------------------------------------------------------------------------------------
// Centrifugo frames.

/// One message a Centrifugo server may send.
#[derive(Clone, Debug)]
enum CMsg {
    Ping,
    Publication {
        channel: String,
        order_id: OrderId,
        status: StatusField,
        offset: Num,
        extras: Vec<(String, String)>,
    },
    Disconnect {
        code: Num,
        reason: Txt,
        with_pub: bool,
    },
    Connect {
        id: Num,
        ping: Num,
        pong: Flag,
        extras: Vec<(String, String)>,
    },
    Error {
        id: Num,
        code: Num,
        message: Txt,
        temporary: Flag,
    },
    /// A reply or push this client has no use for (subscribe replies, joins).
    Unused(&'static str),
    /// JSON that is not an object.
    NotObject(&'static str),
}

impl CMsg {
    fn encode(&self) -> String {
        match self {
            CMsg::Ping => "{}".into(),
            CMsg::Publication {
                channel,
                order_id,
                status,
                offset,
                extras,
            } => {
                let data = object(
                    &[("order_id", order_id.json()), ("status", status.json())],
                    extras,
                );
                let publication = object(&[("data", Some(data)), ("offset", offset.json())], &[]);
                let push = object(
                    &[
                        ("channel", Some(encode_str(channel))),
                        ("pub", Some(publication)),
                    ],
                    &[],
                );
                object(&[("push", Some(push))], &[])
            }
            CMsg::Disconnect {
                code,
                reason,
                with_pub,
            } => {
                let disconnect = object(&[("code", code.json()), ("reason", reason.json())], &[]);
                let publication =
                    with_pub.then(|| r#"{"data":{"order_id":1,"status":"done"}}"#.to_owned());
                let push = object(
                    &[("disconnect", Some(disconnect)), ("pub", publication)],
                    &[],
                );
                object(&[("push", Some(push))], &[])
            }
            CMsg::Connect {
                id,
                ping,
                pong,
                extras,
            } => {
                let connect = object(
                    &[
                        ("client", Some("\"5b0f\"".into())),
                        ("ping", ping.json()),
                        ("pong", pong.json()),
                    ],
                    extras,
                );
                object(&[("id", id.json()), ("connect", Some(connect))], &[])
            }
            CMsg::Error {
                id,
                code,
                message,
                temporary,
            } => {
                let error = object(
                    &[
                        ("code", code.json()),
                        ("message", message.json()),
                        ("temporary", temporary.json()),
                    ],
                    &[],
                );
                object(&[("id", id.json()), ("error", Some(error))], &[])
            }
            CMsg::Unused(text) | CMsg::NotObject(text) => (*text).into(),
        }
    }

    /// What the decoder must make of this message (for `Malformed`, only the variant counts).
    fn expected(&self) -> Inbound {
        match self {
            CMsg::Ping => Inbound::ServerPing,
            CMsg::Publication {
                order_id, status, ..
            } => match (order_id.read(), status.read()) {
                (Some(order_id), Some(status)) => Inbound::Status { order_id, status },
                _ => Inbound::Malformed(String::new()),
            },
            CMsg::Disconnect { code, reason, .. } => Inbound::Disconnect {
                code: code.read().min(u16::MAX as u64) as u16,
                reason: reason.read(),
            },
            CMsg::Connect { id, ping, pong, .. } => Inbound::ConnectReply {
                id: id.read(),
                ping_secs: ping.read(),
                pong: pong.read(),
            },
            CMsg::Error {
                id,
                code,
                message,
                temporary,
            } => Inbound::ErrorReply {
                id: id.read(),
                code: code.read().min(u32::MAX as u64) as u32,
                message: message.read(),
                temporary: temporary.read(),
            },
            CMsg::Unused(_) => Inbound::Ignored,
            CMsg::NotObject(_) => Inbound::Malformed(String::new()),
        }
    }
}

fn centrifugo_message() -> impl Strategy<Value = CMsg> {
    prop_oneof![
        2 => Just(CMsg::Ping),
        8 => ("orders:[0-9]{1,5}|\\PC{0,8}", order_id(), status_field(), num(), extras()).prop_map(
            |(channel, order_id, status, offset, extras)| CMsg::Publication {
                channel,
                order_id,
                status,
                offset,
                extras
            }
        ),
        2 => (num(), txt(), any::<bool>()).prop_map(|(code, reason, with_pub)| CMsg::Disconnect {
            code,
            reason,
            with_pub
        }),
        2 => (num(), num(), flag(), extras()).prop_map(|(id, ping, pong, extras)| CMsg::Connect {
            id,
            ping,
            pong,
            extras
        }),
        2 => (num(), num(), txt(), flag()).prop_map(|(id, code, message, temporary)| CMsg::Error {
            id,
            code,
            message,
            temporary
        }),
        1 => prop_oneof![
            Just(r#"{"id":2,"subscribe":{}}"#),
            Just(r#"{"push":{"channel":"orders:1","join":{"info":{}}}}"#),
            Just(r#"{"push":{"channel":"orders:1","pub":{"offset":1}}}"#),
            Just(r#"{"result":{"Status":"done"}}"#),
        ]
        .prop_map(CMsg::Unused),
        1 => prop_oneof![Just("[]"), Just("[{}]"), Just("42"), Just("\"done\""), Just("null")]
            .prop_map(CMsg::NotObject),
    ]
    .boxed()
}

/// A frame: messages joined by newlines (Centrifugo batches them), the last one sometimes cut.
#[derive(Clone, Debug)]
struct Frame {
    messages: Vec<CMsg>,
    separators: Vec<&'static str>,
    trailing: &'static str,
    /// Cut the last message after this fraction of its bytes (never at 0).
    truncate: Option<f64>,
}

impl Frame {
    fn encode(&self) -> String {
        let mut text = String::new();
        for (i, m) in self.messages.iter().enumerate() {
            if i > 0 {
                text.push_str(self.separators[i % self.separators.len()]);
            }
            let mut line = m.encode();
            if let (Some(f), true) = (self.truncate, i + 1 == self.messages.len()) {
                let mut at = ((line.len() as f64 * f) as usize).clamp(1, line.len() - 1);
                while !line.is_char_boundary(at) {
                    at -= 1;
                }
                line.truncate(at);
            }
            text.push_str(&line);
        }
        text.push_str(self.trailing);
        text
    }

    fn expected(&self) -> Vec<Inbound> {
        let mut out: Vec<Inbound> = self.messages.iter().map(CMsg::expected).collect();
        if self.truncate.is_some() {
            *out.last_mut().unwrap() = Inbound::Malformed(String::new());
        }
        out
    }
}

fn frame() -> impl Strategy<Value = Frame> {
    let sep = prop_oneof![Just("\n"), Just("\n\n"), Just("\r\n"), Just(" \n\t")];
    (
        proptest::collection::vec(centrifugo_message(), 1..5),
        proptest::collection::vec(sep, 1..3),
        prop_oneof![Just(""), Just("\n"), Just("\r\n")],
        prop_oneof![9 => Just(None), 1 => (0.0..1.0f64).prop_map(Some)],
    )
        .prop_map(|(messages, separators, trailing, truncate)| Frame {
            messages,
            separators,
            trailing,
            truncate,
        })
        .boxed()
}

/// Decoded messages equal the model's (any `Malformed` matches any `Malformed`).
fn same(got: &[Inbound], want: &[Inbound]) -> bool {
    got.len() == want.len()
        && got.iter().zip(want).all(|(g, w)| match (g, w) {
            (Inbound::Malformed(_), Inbound::Malformed(_)) => true,
            _ => g == w,
        })
}

/// Bounds that hold for any decoded message, whatever the input.
fn bounded(m: &Inbound) -> Result<(), TestCaseError> {
    match m {
        Inbound::ErrorReply { message, .. } => {
            prop_assert!(message.chars().count() <= limits::MAX_SCANNED_CHARS)
        }
        Inbound::Disconnect { reason, .. } => {
            prop_assert!(reason.chars().count() <= limits::MAX_SCANNED_CHARS)
        }
        Inbound::Status {
            status: Status::Other(s),
            ..
        } => prop_assert!(s.chars().count() <= limits::MAX_STATUS_CHARS, "{s:?}"),
        Inbound::ConnectReply { ping_secs, .. } => {
            let ping = ping_interval(*ping_secs);
            prop_assert!(ping.is_none_or(|p| p >= limits::MIN_PING && p <= limits::MAX_PING));
        }
        Inbound::Malformed(why) => prop_assert!(why.len() <= 300, "{why}"),
        _ => {}
    }
    Ok(())
}

#[test]
fn centrifugo_frames_decode_to_their_model() {
    let _watchdog = watchdog::arm();
    check("centrifugo_frames", 1500, 0.70, frame(), |frame, reach| {
        let text = frame.encode();
        let mut out = Vec::new();
        let ((), peak) = measured(|| decode_frame(&text, &mut out));
        prop_assert!(peak <= memory_bound(text.len()), "{peak} bytes");
        for m in &out {
            reach.count(past_json(m));
            bounded(m)?;
        }
        let want = frame.expected();
        prop_assert!(
            same(&out, &want),
            "frame {text:?}\n got {out:?}\nwant {want:?}"
        );
        Ok(())
    });
}

/// Byte-level damage to valid frames and arbitrary text: never a panic, bounds always hold.
#[test]
fn damaged_centrifugo_frames_stay_bounded() {
    let _watchdog = watchdog::arm();
    let damaged = (
        frame(),
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    )
        .prop_map(|(frame, edits)| {
            let mut bytes = frame.encode().into_bytes();
            for (at, b) in edits {
                if !bytes.is_empty() {
                    let i = at.index(bytes.len());
                    bytes[i] = b;
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        });
    let input = prop_oneof![4 => damaged, 1 => any::<String>()];
    check(
        "damaged_centrifugo_frames",
        1000,
        0.0,
        input,
        |text, reach| {
            let mut out = Vec::new();
            let ((), peak) = measured(|| decode_frame(&text, &mut out));
            prop_assert!(peak <= memory_bound(text.len()), "{peak} bytes");
            prop_assert!(out.len() <= text.len());
            for m in &out {
                reach.count(past_json(m));
                bounded(m)?;
            }
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Legacy socket messages.

#[derive(Clone, Debug)]
struct LegacyMsg {
    order_id: OrderId,
    status: StatusField,
    extras: Vec<(String, String)>,
    /// Keys in another letter case (`Order_Id`): a different key, so the field is missing.
    odd_key_case: bool,
    truncate: Option<f64>,
}

impl LegacyMsg {
    fn encode(&self) -> String {
        let (id_key, status_key) = if self.odd_key_case {
            ("Order_Id", "STATUS")
        } else {
            ("order_id", "status")
        };
        let mut line = object(
            &[
                (id_key, self.order_id.json()),
                (status_key, self.status.json()),
            ],
            &self.extras,
        );
        if let Some(f) = self.truncate {
            let mut at = ((line.len() as f64 * f) as usize).clamp(1, line.len() - 1);
            while !line.is_char_boundary(at) {
                at -= 1;
            }
            line.truncate(at);
        }
        line
    }

    fn expected(&self) -> Option<Inbound> {
        if self.odd_key_case || self.truncate.is_some() {
            return None;
        }
        Some(Inbound::Status {
            order_id: self.order_id.read()?,
            status: self.status.read()?,
        })
    }
}

#[test]
fn legacy_messages_decode_to_their_model() {
    let _watchdog = watchdog::arm();
    let message = (
        order_id(),
        status_field(),
        extras(),
        prop_oneof![9 => Just(false), 1 => Just(true)],
        prop_oneof![9 => Just(None), 1 => (0.0..1.0f64).prop_map(Some)],
    )
        .prop_map(
            |(order_id, status, extras, odd_key_case, truncate)| LegacyMsg {
                order_id,
                status,
                extras,
                odd_key_case,
                truncate,
            },
        );
    check("legacy_messages", 1500, 0.70, message, |msg, reach| {
        let line = msg.encode();
        let (got, peak) = measured(|| decode_message(&line));
        prop_assert!(peak <= memory_bound(line.len()), "{peak} bytes");
        reach.count(past_json(&got));
        bounded(&got)?;
        match msg.expected() {
            Some(want) => prop_assert_eq!(got, want, "{}", line),
            None => prop_assert!(matches!(got, Inbound::Malformed(_)), "{line}: {got:?}"),
        }
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------------
// Get order bodies and their contents.

/// An amount as Xsolla sends it (string or number), and the string the client must report.
#[derive(Clone, Debug)]
enum Amount {
    Str(String),
    Int(u64),
    /// `int.digit` with a non-zero digit (exactly representable as printed).
    Dec(u32, u8),
    Null,
    Absent,
}

impl Amount {
    fn json(&self) -> Option<String> {
        Some(match self {
            Amount::Str(s) => encode_str(s),
            Amount::Int(n) => n.to_string(),
            Amount::Dec(i, d) => format!("{i}.{d}"),
            Amount::Null => "null".into(),
            Amount::Absent => return None,
        })
    }
    fn normalized(&self) -> Option<Value> {
        match self {
            Amount::Str(s) => Some(Value::String(s.clone())),
            Amount::Int(n) => Some(Value::String(n.to_string())),
            Amount::Dec(i, d) => Some(Value::String(format!("{i}.{d}"))),
            Amount::Null => Some(Value::Null),
            Amount::Absent => None,
        }
    }
}

fn amount() -> impl Strategy<Value = Amount> {
    prop_oneof![
        4 => "[0-9]{1,6}(\\.[0-9]{1,2})?|\\PC{0,6}".prop_map(Amount::Str),
        3 => prop_oneof![0..100_000u64, any::<u64>()].prop_map(Amount::Int),
        3 => (0..1_000_000u32, 1..=9u8).prop_map(|(i, d)| Amount::Dec(i, d)),
        1 => Just(Amount::Null),
        1 => Just(Amount::Absent),
    ]
}

#[derive(Clone, Debug)]
enum Price {
    Obj {
        amount: Amount,
        without_discount: Amount,
        currency: String,
    },
    Null,
    Absent,
}

impl Price {
    fn json(&self) -> Option<String> {
        match self {
            Price::Obj {
                amount,
                without_discount,
                currency,
            } => Some(object(
                &[
                    ("amount", amount.json()),
                    ("amount_without_discount", without_discount.json()),
                    ("currency", Some(encode_str(currency))),
                ],
                &[],
            )),
            Price::Null => Some("null".into()),
            Price::Absent => None,
        }
    }
}

fn price() -> impl Strategy<Value = Price> {
    prop_oneof![
        4 => (amount(), amount(), "[A-Z]{3}|").prop_map(|(amount, without_discount, currency)| Price::Obj {
            amount,
            without_discount,
            currency
        }),
        1 => Just(Price::Null),
        1 => Just(Price::Absent),
    ]
}

/// `is_free` as bool, as `"true"`/`"false"`, or as something else.
#[derive(Clone, Debug)]
enum Free {
    B(bool),
    Text(bool),
    Other(&'static str),
    Absent,
}

impl Free {
    fn json(&self) -> Option<String> {
        match self {
            Free::B(b) => Some(b.to_string()),
            Free::Text(b) => Some(format!("\"{b}\"")),
            Free::Other(s) => Some((*s).into()),
            Free::Absent => None,
        }
    }
    fn normalized(&self) -> Option<bool> {
        match self {
            Free::B(b) | Free::Text(b) => Some(*b),
            Free::Other(_) => Some(false),
            Free::Absent => None,
        }
    }
}

fn free() -> impl Strategy<Value = Free> {
    prop_oneof![
        3 => any::<bool>().prop_map(Free::B),
        3 => any::<bool>().prop_map(Free::Text),
        1 => prop_oneof![Just("null"), Just("1"), Just("\"yes\""), Just("{}")].prop_map(Free::Other),
        1 => Just(Free::Absent),
    ]
}

#[derive(Clone, Debug)]
struct Priced {
    price: Price,
    virtual_price: Price,
    is_free: Free,
    extras: Vec<(String, String)>,
}

impl Priced {
    fn fields(&self) -> Vec<(&'static str, Option<String>)> {
        vec![
            ("price", self.price.json()),
            ("virtual_price", self.virtual_price.json()),
            ("is_free", self.is_free.json()),
        ]
    }

    /// Checks a normalized object against this model.
    fn check(&self, got: &Value) -> Result<(), TestCaseError> {
        let obj = got
            .as_object()
            .ok_or_else(|| TestCaseError::fail("not an object"))?;
        prop_assert_eq!(
            obj.get("is_free").map(|v| v.as_bool()),
            self.is_free.normalized().map(Some),
            "is_free in {}",
            got
        );
        for (key, price) in [
            ("price", &self.price),
            ("virtual_price", &self.virtual_price),
        ] {
            let p = obj.get(key);
            match price {
                Price::Obj {
                    amount,
                    without_discount,
                    currency,
                } => {
                    let p = p.and_then(Value::as_object);
                    let p = p.ok_or_else(|| TestCaseError::fail(format!("{key} lost in {got}")))?;
                    prop_assert_eq!(p.get("amount").cloned(), amount.normalized(), "{}", got);
                    prop_assert_eq!(
                        p.get("amount_without_discount").cloned(),
                        without_discount.normalized(),
                        "{}",
                        got
                    );
                    prop_assert_eq!(
                        p.get("currency").and_then(Value::as_str),
                        Some(currency.as_str())
                    );
                }
                Price::Null | Price::Absent => {
                    prop_assert_eq!(p, Some(&Value::Null), "{} must be present and null", key)
                }
            }
        }
        for (k, v) in &self.extras {
            let want: Value = serde_json::from_str(v).unwrap();
            if !["price", "virtual_price", "is_free", "items"].contains(&k.as_str()) {
                prop_assert_eq!(obj.get(k), Some(&want), "extra field {} kept", k);
            }
        }
        Ok(())
    }
}

fn priced() -> impl Strategy<Value = Priced> {
    (price(), price(), free(), extras()).prop_map(|(price, virtual_price, is_free, extras)| {
        Priced {
            price,
            virtual_price,
            is_free,
            extras,
        }
    })
}

#[derive(Clone, Debug)]
struct Contents {
    top: Priced,
    items: Option<Vec<(String, i64, Priced)>>,
}

impl Contents {
    fn encode(&self) -> String {
        let mut fields = self.top.fields();
        if let Some(items) = &self.items {
            let items: Vec<String> = items
                .iter()
                .map(|(sku, quantity, p)| {
                    let mut f = p.fields();
                    f.push(("sku", Some(encode_str(sku))));
                    f.push(("quantity", Some(quantity.to_string())));
                    object(&f, &p.extras)
                })
                .collect();
            fields.push(("items", Some(format!("[{}]", items.join(",")))));
        }
        object(&fields, &self.top.extras)
    }

    fn check(&self, normalized: &str) -> Result<(), TestCaseError> {
        let got: Value = serde_json::from_str(normalized)
            .map_err(|e| TestCaseError::fail(format!("normalized contents not JSON: {e}")))?;
        self.top.check(&got)?;
        if let Some(items) = &self.items {
            let got_items = got["items"]
                .as_array()
                .ok_or_else(|| TestCaseError::fail("items lost"))?;
            prop_assert_eq!(got_items.len(), items.len());
            for ((sku, quantity, p), g) in items.iter().zip(got_items) {
                p.check(g)?;
                prop_assert_eq!(g["sku"].as_str(), Some(sku.as_str()));
                prop_assert_eq!(g["quantity"].as_i64(), Some(*quantity));
            }
        }
        Ok(())
    }
}

fn contents() -> impl Strategy<Value = Contents> {
    (
        priced(),
        proptest::option::weighted(
            0.8,
            proptest::collection::vec(("[a-z0-9_-]{1,12}|\\PC{0,4}", any::<i64>(), priced()), 0..4),
        ),
    )
        .prop_map(|(top, items)| Contents { top, items })
        .boxed()
}

#[test]
fn contents_normalize_to_their_model() {
    let _watchdog = watchdog::arm();
    check("contents", 800, 1.0, contents(), |model, reach| {
        let text = model.encode();
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            TestCaseError::fail(format!("the test encoder made bad JSON ({e}): {text}"))
        })?;
        reach.count(true);
        let (once, peak) = measured(|| normalize_contents(&value));
        prop_assert!(peak <= memory_bound(text.len()), "{peak} bytes");
        model.check(&once)?;
        // Normalizing what was normalized changes nothing.
        let again = normalize_contents(&serde_json::from_str(&once).unwrap());
        prop_assert_eq!(&again, &once);
        Ok(())
    });
}

/// The body's `order_id` compared with the order asked for.
#[derive(Clone, Debug)]
enum BodyId {
    Same,
    SameAsText,
    Other(i64),
    WrongType(&'static str),
    Absent,
}

#[derive(Clone, Debug)]
enum Content {
    Object(Contents),
    NotObject(&'static str),
    Absent,
}

#[derive(Clone, Debug)]
struct OrderBody {
    asked: i64,
    id: BodyId,
    status: StatusField,
    content: Content,
    extras: Vec<(String, String)>,
    truncate: Option<f64>,
}

impl OrderBody {
    fn encode(&self) -> Vec<u8> {
        let id = match &self.id {
            BodyId::Same => Some(self.asked.to_string()),
            BodyId::SameAsText => Some(format!("\"{}\"", self.asked)),
            BodyId::Other(n) => Some(n.to_string()),
            BodyId::WrongType(t) => Some((*t).into()),
            BodyId::Absent => None,
        };
        let content = match &self.content {
            Content::Object(c) => Some(c.encode()),
            Content::NotObject(t) => Some((*t).into()),
            Content::Absent => None,
        };
        let mut body = object(
            &[
                ("order_id", id),
                ("status", self.status.json()),
                ("content", content),
            ],
            &self.extras,
        )
        .into_bytes();
        if let Some(f) = self.truncate {
            body.truncate(((body.len() as f64 * f) as usize).clamp(1, body.len() - 1));
        }
        body
    }

    /// `Some(status)` when the body must parse.
    fn expected(&self) -> Option<Status> {
        let id_ok = match &self.id {
            BodyId::Same | BodyId::SameAsText | BodyId::Absent => true,
            BodyId::Other(n) => *n == self.asked,
            BodyId::WrongType(_) => false,
        };
        (id_ok && self.truncate.is_none())
            .then(|| self.status.read())
            .flatten()
    }
}

fn order_body() -> impl Strategy<Value = OrderBody> {
    let id = prop_oneof![
        6 => Just(BodyId::Same),
        2 => Just(BodyId::SameAsText),
        1 => any::<i64>().prop_map(BodyId::Other),
        1 => prop_oneof![Just("null"), Just("true"), Just("1.0"), Just("[1]"), Just("\"0x1\"")]
            .prop_map(BodyId::WrongType),
        1 => Just(BodyId::Absent),
    ];
    let content = prop_oneof![
        6 => contents().prop_map(Content::Object),
        1 => prop_oneof![Just("null"), Just("[]"), Just("\"x\""), Just("7")].prop_map(Content::NotObject),
        1 => Just(Content::Absent),
    ];
    (
        prop_oneof![1..1_000_000i64, any::<i64>()],
        id,
        status_field(),
        content,
        extras(),
        prop_oneof![9 => Just(None), 1 => (0.0..1.0f64).prop_map(Some)],
    )
        .prop_map(|(asked, id, status, content, extras, truncate)| OrderBody {
            asked,
            id,
            status,
            content,
            extras,
            truncate,
        })
        .boxed()
}

#[test]
fn order_bodies_parse_to_their_model() {
    let _watchdog = watchdog::arm();
    check("order_bodies", 1000, 0.70, order_body(), |body, reach| {
        let bytes = body.encode();
        let (got, peak) = measured(|| parse_order(body.asked, &bytes));
        prop_assert!(peak <= memory_bound(bytes.len()), "{peak} bytes");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        reach.count(!matches!(&got, Err(m) if m.contains("not JSON")));
        match (body.expected(), got) {
            (Some(status), Ok(snap)) => {
                prop_assert_eq!(snap.status, status, "{}", text);
                match (&body.content, snap.contents) {
                    (Content::Object(model), Some(normalized)) => model.check(&normalized)?,
                    (Content::Object(_), None) => prop_assert!(false, "contents lost: {text}"),
                    (_, got) => prop_assert_eq!(got, None, "{}", text),
                }
            }
            (Some(_), Err(e)) => prop_assert!(false, "{text} refused: {e}"),
            (None, Ok(snap)) => prop_assert!(false, "{text} accepted as {snap:?}"),
            (None, Err(e)) => prop_assert!(e.len() <= 400 + text.len().min(400), "{e}"),
        }
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------------
// Server text quoting, token redaction, and HTTP error answers.

/// Characters a token is made of, and characters plain server text is made of: disjoint, and
/// with no UTF-8 lead or continuation byte in common, so plain text can never match the token.
const TOKEN_CHARS: &str = "[A-Za-z0-9._é-]";
const PLAIN_CHARS: &str = "[ !#$%&*+/:;<=>?@^~{}|字€😀]";

fn regex(pattern: &str) -> impl Strategy<Value = String> {
    proptest::string::string_regex(pattern).unwrap()
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => regex(&format!("{TOKEN_CHARS}{{8,64}}")),
        1 => regex(&format!("{TOKEN_CHARS}{{1,7}}")),
        1 => regex(&format!("{TOKEN_CHARS}{{300,1200}}")),
    ]
}

/// A piece of server text: plain, or a part of the token (`start`, `len` in characters).
#[derive(Clone, Debug)]
enum Piece {
    Plain(String),
    Whole,
    Part(prop::sample::Index, usize),
}

/// Server text built from pieces; `Part`s of fewer than 8 bytes are always separated by plain
/// text, so a leak can only come from the longer parts.
fn echo(token: &str, pieces: &[Piece]) -> String {
    let chars: Vec<char> = token.chars().collect();
    let mut text = String::new();
    for p in pieces {
        match p {
            Piece::Plain(s) => text.push_str(s),
            Piece::Whole => text.push_str(token),
            Piece::Part(start, len) => {
                let start = start.index(chars.len());
                let end = (start + len).min(chars.len());
                text.extend(&chars[start..end]);
                text.push('!');
            }
        }
    }
    text
}

fn pieces() -> impl Strategy<Value = Vec<Piece>> {
    let piece = prop_oneof![
        4 => regex(&format!("{PLAIN_CHARS}{{1,80}}")).prop_map(Piece::Plain),
        1 => ("x", 150..400usize).prop_map(|(_, n)| Piece::Plain("#".repeat(n))),
        2 => Just(Piece::Whole),
        3 => (any::<prop::sample::Index>(), 1..40usize).prop_map(|(i, n)| Piece::Part(i, n)),
    ];
    proptest::collection::vec(piece, 0..8)
}

/// `quoted` with each `<redacted>` marker, and a marker cut short at the end by the final cut,
/// replaced by NUL: what is left is server text.
fn without_markers(quoted: &str) -> String {
    let mut shown = quoted.replace("<redacted>", "\u{0}");
    if let Some(at) = shown.rfind('<') {
        if "<redacted>".starts_with(&shown[at..]) {
            shown.truncate(at);
        }
    }
    shown
}

/// Every 8-byte window of `token` that appears in `quoted` outside a `<redacted>` marker.
fn leaks(quoted: &str, token: &str) -> Option<String> {
    let shown = without_markers(quoted);
    let windows: std::collections::HashSet<&[u8]> = token.as_bytes().windows(8).collect();
    shown
        .as_bytes()
        .windows(8)
        .find(|w| windows.contains(w))
        .map(|w| String::from_utf8_lossy(w).into_owned())
}

#[test]
fn quoted_server_text_is_short_and_leaks_no_token_piece() {
    let _watchdog = watchdog::arm();
    let case = (token(), pieces());
    check("quote", 1500, 1.0, case, |(token, pieces), reach| {
        reach.count(true);
        let text = echo(&token, &pieces);
        let secret = Token::new(token.clone()).unwrap();
        let (quoted, peak) = measured(|| quote(&text, Some(&secret)));
        prop_assert!(
            peak <= memory_bound(text.len() + token.len()),
            "{peak} bytes"
        );
        prop_assert!(quoted.chars().count() <= limits::MAX_QUOTED_CHARS);
        if token.len() >= 8 {
            prop_assert!(
                leaks(&quoted, &token).is_none(),
                "{:?} leaks from {:?}",
                leaks(&quoted, &token),
                quoted
            );
        } else {
            // A short token is replaced whole (outside the markers it cannot appear).
            prop_assert!(!without_markers(&quoted).contains(&token), "{quoted}");
        }
        // Text with no token piece of 8+ bytes is only cut, never changed.
        let token_free = pieces.iter().all(|p| match p {
            Piece::Plain(_) => true,
            Piece::Whole => false,
            Piece::Part(..) => false,
        });
        if token_free {
            let head: String = text.chars().take(limits::MAX_QUOTED_CHARS).collect();
            prop_assert_eq!(&quoted, &head);
        }
        // Redaction alone also hides every piece.
        if token.len() >= 8 && text.len() < 20_000 {
            let redacted = secret.redact(&text);
            prop_assert!(leaks(&redacted, &token).is_none(), "{redacted:?}");
        }
        Ok(())
    });
}

/// An HTTP answer to Get order: a status code, a body, a `Retry-After`.
#[derive(Clone, Debug)]
enum AnswerBody {
    /// Xsolla's error body, its `errorMessage` built from pieces of the token.
    Error {
        status_code: Num,
        error_code: Num,
        message: Vec<Piece>,
    },
    /// A body whose `errorMessage` is not text.
    NotText(Num),
    Order(Box<OrderBody>),
    Garbage(Vec<u8>),
}

#[derive(Clone, Debug)]
struct Answer {
    status: u16,
    body: AnswerBody,
    retry_after: Option<Duration>,
    token: String,
}

impl Answer {
    fn body(&self) -> Vec<u8> {
        match &self.body {
            AnswerBody::Error {
                status_code,
                error_code,
                message,
            } => object(
                &[
                    ("statusCode", status_code.json()),
                    ("errorCode", error_code.json()),
                    (
                        "errorMessage",
                        Some(encode_str(&echo(&self.token, message))),
                    ),
                ],
                &[],
            )
            .into_bytes(),
            AnswerBody::NotText(n) => object(&[("errorMessage", n.json())], &[]).into_bytes(),
            AnswerBody::Order(b) => b.encode(),
            AnswerBody::Garbage(bytes) => bytes.clone(),
        }
    }
}

fn answer() -> impl Strategy<Value = Answer> {
    let status = prop_oneof![
        8 => prop_oneof![
            Just(200u16), Just(400), Just(401), Just(403), Just(404), Just(408), Just(422),
            Just(429), Just(500), Just(502), Just(503), Just(504)
        ],
        2 => 0..1000u16,
        1 => any::<u16>(),
    ];
    let body = prop_oneof![
        6 => (num(), num(), pieces()).prop_map(|(status_code, error_code, message)| AnswerBody::Error {
            status_code,
            error_code,
            message
        }),
        1 => num().prop_map(AnswerBody::NotText),
        2 => order_body().prop_map(|b| AnswerBody::Order(Box::new(b))),
        1 => proptest::collection::vec(any::<u8>(), 0..64).prop_map(AnswerBody::Garbage),
    ];
    let retry_after = prop_oneof![
        2 => Just(None),
        3 => (0..120u64).prop_map(|s| Some(Duration::from_secs(s))),
        1 => any::<u64>().prop_map(|s| Some(Duration::from_secs(s))),
        1 => Just(Some(Duration::MAX)),
    ];
    (status, body, retry_after, token()).prop_map(|(status, body, retry_after, token)| Answer {
        status,
        body,
        retry_after,
        token,
    })
}

#[test]
fn http_answers_classify_by_status_and_quote_safely() {
    let _watchdog = watchdog::arm();
    check("http_answers", 1500, 0.70, answer(), |answer, reach| {
        let body = answer.body();
        let token = Token::new(answer.token.clone()).unwrap();
        let (got, peak) =
            measured(|| classify_for(7, answer.status, &body, answer.retry_after, Some(&token)));
        prop_assert!(
            peak <= memory_bound(body.len() + answer.token.len()),
            "{peak} bytes"
        );
        reach.count(serde_json::from_slice::<Value>(&body).is_ok());
        let bounded_wait = answer.retry_after.map(|d| d.min(Duration::from_secs(60)));
        let err = match (answer.status, got) {
            (200, Ok(_)) => return Ok(()),
            (200, Err(ApiError::Transient { info, retry_after })) => {
                prop_assert_eq!(info.kind, ErrorKind::Protocol);
                prop_assert_eq!(retry_after, None);
                prop_assert!(
                    leaks(&info.message, &answer.token).is_none() || answer.token.len() < 8
                );
                return Ok(());
            }
            (401, Err(e @ ApiError::Unauthorized(_))) => e,
            (404, Err(e @ ApiError::NotFound(_))) => e,
            (429 | 408 | 500..=599, Err(ApiError::Transient { info, retry_after })) => {
                prop_assert_eq!(retry_after, bounded_wait, "Retry-After is cut to 60 s");
                ApiError::Transient { info, retry_after }
            }
            (s, Err(e @ ApiError::Fatal(_)))
                if ![200, 401, 404, 408, 429].contains(&s) && !(500..600).contains(&s) =>
            {
                e
            }
            (s, other) => {
                return Err(TestCaseError::fail(format!(
                    "HTTP {s} classified as {other:?}"
                )))
            }
        };
        let info = err.info();
        prop_assert_eq!(info.http_status, answer.status);
        let prefix = format!("HTTP {}: ", answer.status);
        prop_assert!(info.message.starts_with(&prefix), "{}", info.message);
        let detail = &info.message[prefix.len()..];
        prop_assert!(detail.chars().count() <= limits::MAX_QUOTED_CHARS);
        if answer.token.len() >= 8 {
            prop_assert!(leaks(detail, &answer.token).is_none(), "{detail:?}");
        }
        if let AnswerBody::Error { message, .. } = &answer.body {
            if message.iter().all(|p| matches!(p, Piece::Plain(_))) {
                let text = echo(&answer.token, message);
                let head: String = text.chars().take(limits::MAX_QUOTED_CHARS).collect();
                prop_assert_eq!(detail, head.as_str(), "the server's own text is quoted");
            }
        }
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------------
// Header values and status strings.

/// A `Retry-After` value and what the client must make of it.
#[derive(Clone, Debug)]
enum RetryAfter {
    Secs(u64, &'static str),
    /// More digits than a u64 holds (still at most 64 characters): the longest wait.
    Digits(String),
    /// An HTTP date: the longest wait.
    Date(String),
    /// Negative, fractional, words, too long, empty: ignored.
    Bad(String),
}

impl RetryAfter {
    fn text(&self) -> String {
        match self {
            RetryAfter::Secs(n, pad) => format!("{pad}{n}{pad}"),
            RetryAfter::Digits(s) | RetryAfter::Date(s) | RetryAfter::Bad(s) => s.clone(),
        }
    }
    fn expected(&self) -> Option<Duration> {
        match self {
            RetryAfter::Secs(n, _) => Some(Duration::from_secs((*n).min(60))),
            RetryAfter::Digits(_) | RetryAfter::Date(_) => Some(limits::MAX_RETRY_AFTER),
            RetryAfter::Bad(_) => None,
        }
    }
}

fn retry_after() -> impl Strategy<Value = RetryAfter> {
    let pad = prop_oneof![Just(""), Just(" "), Just("\t")];
    prop_oneof![
        4 => (prop_oneof![0..120u64, any::<u64>()], pad).prop_map(|(n, p)| RetryAfter::Secs(n, p)),
        1 => "[1-9][0-9]{20,63}".prop_map(RetryAfter::Digits),
        1 => "(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-3][0-9] (Jan|Feb|Oct|Dec) 20[0-9]{2} [0-2][0-9]:[0-5][0-9]:[0-5][0-9] GMT"
            .prop_map(RetryAfter::Date),
        2 => prop_oneof![
            "-[0-9]{1,20}",
            "[0-9]{1,5}\\.[0-9]{1,3}",
            "[a-zA-Z]{1,10}",
            "[0-9]{65,80}",
            "[0-9]{1,3}[a-z]{1,3}",
            "\\+[0-9]{1,3}",
            "[ \\t]{0,3}",
        ]
        .prop_map(RetryAfter::Bad),
    ]
}

#[test]
fn retry_after_values_parse_to_their_model_and_stay_bounded() {
    let _watchdog = watchdog::arm();
    let input = prop_oneof![
        4 => retry_after().prop_map(|m| (m.text(), Some(m))),
        1 => any::<String>().prop_map(|s| (s, None)),
    ];
    check("retry_after", 2000, 0.0, input, |(text, model), reach| {
        reach.count(model.is_some());
        let got = parse_retry_after(&text);
        prop_assert!(
            got.is_none_or(|d| d <= limits::MAX_RETRY_AFTER),
            "{text:?}: {got:?}"
        );
        if let Some(model) = model {
            prop_assert_eq!(got, model.expected(), "{:?}", text);
        }
        Ok(())
    });
}

#[test]
fn ping_intervals_are_bounded() {
    let _watchdog = watchdog::arm();
    let secs = prop_oneof![0..1000u64, any::<u64>()];
    check("ping_interval", 1000, 0.0, secs, |secs, reach| {
        reach.count(true);
        match ping_interval(secs) {
            None => prop_assert_eq!(secs, 0),
            Some(d) => {
                prop_assert!(d >= limits::MIN_PING && d <= limits::MAX_PING);
                if (1..=600).contains(&secs) {
                    prop_assert_eq!(d, Duration::from_secs(secs));
                }
            }
        }
        Ok(())
    });
}

#[test]
fn statuses_parse_in_any_letter_case() {
    let _watchdog = watchdog::arm();
    let input = prop_oneof![
        3 => status_field().prop_map(|f| match f {
            StatusField::Known { raw, means } => (raw, Some(means)),
            StatusField::Other(s) => (s.clone(), StatusField::Other(s).read()),
            _ => ("new".into(), Some(Status::New)),
        }),
        1 => any::<String>().prop_map(|s| (s, None)),
    ];
    check("status_parse", 2000, 0.0, input, |(raw, want), reach| {
        reach.count(want.is_some());
        let got = Status::parse(&raw);
        if let Status::Other(s) = &got {
            prop_assert!(s.chars().count() <= limits::MAX_STATUS_CHARS);
            prop_assert!(got.final_outcome().is_none(), "unknown text is never final");
        }
        if let Some(want) = want {
            prop_assert_eq!(got, want, "{:?}", raw);
        }
        Ok(())
    });
}
