//! The simulated server world: everything the tracker can meet, generated from one seed.
//!
//! A [`World`] is a configuration plus a flat list of timed [`Item`]s (the server's status
//! timeline, HTTP faults, latency, socket behaviour, push faults, token expiry, host actions).
//! Keeping it flat makes shrinking simple: a failing world is cut down by dropping items.

use std::time::Duration;

use xo_tracker::Timing;

/// SplitMix64: every world is reproducible from its seed.
#[derive(Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize].clone()
    }

    /// True with the given probability in percent.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Which push transport the tracker is configured with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushKind {
    /// Polling only.
    None,
    /// Centrifugo: one connection per token, authenticated with it.
    Centrifugo,
    /// The legacy per-order socket (no token).
    Legacy,
}

/// An HTTP answer forced on the GETs that start in a window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The connection failed (refused, reset): a transient network error.
    Network,
    /// An HTTP status with a body and maybe a `Retry-After` header (raw text).
    Http {
        code: u16,
        body: Body,
        retry_after: Option<String>,
    },
}

/// What an answer's body holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    Empty,
    /// Xsolla's error shape with this `errorMessage`.
    XsollaError(String),
    /// Xsolla's error shape echoing a piece of token `token` (`start..start+len`, clamped).
    Echo {
        token: usize,
        start: usize,
        len: usize,
    },
    /// The order as it is now, but with this status text (a stale `new`, an odd status).
    Status(String),
    /// The order as it is now, without `content`.
    NoContents,
    /// The order with another order's id.
    WrongOrder,
    /// Raw bytes (HTML, truncated JSON, binary).
    Raw(Vec<u8>),
}

/// How the socket server behaves towards connects that start in a window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SocketMode {
    /// The connect fails.
    Refuse,
    /// Connects, then the server closes the connection this many ms after it opened.
    DropAfter(u64),
    /// The handshake takes this many ms (beyond the request timeout: the connect times out).
    SlowHandshake(u64),
}

/// What happens to the pushes published in a window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushFault {
    Drop,
    Duplicate,
    /// Delivered this many ms late (reordering them behind later pushes).
    Delay(u64),
}

/// A host call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    Cancel,
    Pause,
    Resume,
    NetworkChanged,
    /// A new token (the next one of `World::tokens`).
    NewToken,
    /// The current token again.
    SameToken,
}

/// One timed element of the world. Times are ms after the tracker started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// The server's order status becomes `raw` (the timeline).
    Status { at: u64, raw: String },
    /// GETs starting in `[from, until)` get this answer.
    Http {
        from: u64,
        until: u64,
        answer: Answer,
    },
    /// GETs starting in `[from, until)` take `ms` (`hang`: never answer, the client misses it).
    Latency {
        from: u64,
        until: u64,
        ms: u64,
        hang: bool,
    },
    /// Socket connects starting in `[from, until)` meet this behaviour.
    Socket {
        from: u64,
        until: u64,
        mode: SocketMode,
    },
    /// Pushes published in `[from, until)` meet this fault.
    Push {
        from: u64,
        until: u64,
        fault: PushFault,
    },
    /// A stale `new` push.
    StalePush { at: u64 },
    /// A push for another order on the same connection (routed away by the hub).
    StrayPush { at: u64 },
    /// The live connection is ended by the server: token expired (Centrifugo 109) or rejected.
    SocketEnd {
        at: u64,
        expired: bool,
        message: String,
    },
    /// Every token issued before `at` is refused from `at` on (401, and 109 on the socket).
    TokenExpires { at: u64 },
    /// The host calls the library.
    Host { at: u64, action: Host },
}

impl Item {
    /// The time the item starts.
    pub fn at(&self) -> u64 {
        match self {
            Item::Status { at, .. }
            | Item::StalePush { at }
            | Item::StrayPush { at }
            | Item::SocketEnd { at, .. }
            | Item::TokenExpires { at }
            | Item::Host { at, .. } => *at,
            Item::Http { from, .. }
            | Item::Latency { from, .. }
            | Item::Socket { from, .. }
            | Item::Push { from, .. } => *from,
        }
    }

    /// The same item at `scale`/`den` of its times (for shrinking timelines).
    pub fn scaled(&self, num: u64, den: u64) -> Item {
        let s = |t: u64| t / den * num + t % den * num / den;
        let mut item = self.clone();
        match &mut item {
            Item::Status { at, .. }
            | Item::StalePush { at }
            | Item::StrayPush { at }
            | Item::SocketEnd { at, .. }
            | Item::TokenExpires { at }
            | Item::Host { at, .. } => *at = s(*at),
            Item::Http { from, until, .. }
            | Item::Latency { from, until, .. }
            | Item::Socket { from, until, .. }
            | Item::Push { from, until, .. } => {
                *from = s(*from);
                *until = s(*until);
            }
        }
        item
    }
}

/// Everything the tracker will meet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct World {
    pub seed: u64,
    pub timing: Timing,
    pub push: PushKind,
    /// Another tracker holds the same Centrifugo connection (it outlives our subscription).
    pub shared_hub: bool,
    pub order_id: i64,
    /// The API knows the order this many ms after the start (`None`: never).
    pub known_after: Option<u64>,
    /// GET latency when no `Latency` item applies.
    pub base_latency: u64,
    /// Push delivery delay when no `Push` item applies.
    pub push_latency: u64,
    /// The order's `content` object (raw JSON).
    pub content: String,
    /// The initial token and the ones the host will give, in order.
    pub tokens: Vec<String>,
    pub items: Vec<Item>,
    /// The run stops here (ms) if the tracker has not ended (a deadline past it is not checked).
    pub horizon: u64,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn token(rng: &mut Rng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    // Mostly Pay Station's 32 characters; sometimes a longer JWT.
    let len = if rng.chance(90) {
        29
    } else {
        60 + rng.below(200) as usize
    };
    let mut t = String::from("eyJ");
    for i in 0..len {
        if i % 40 == 39 {
            t.push('.');
        } else {
            t.push(ALPHABET[rng.below(ALPHABET.len() as u64) as usize] as char);
        }
    }
    t
}

fn duration(rng: &mut Rng, choices: &[u64]) -> Duration {
    Duration::from_millis(rng.pick(choices))
}

fn timing(rng: &mut Rng) -> Timing {
    let default = Timing::default();
    if rng.chance(25) {
        return default;
    }
    let poll_interval = duration(
        rng,
        &[1, 7, 50, 250, 1000, 3000, 3000, 3000, 10_000, 60_000],
    );
    let poll = ms(poll_interval);
    let socket_reestablish = duration(rng, &[1, 1000, 60_000, 300_000, 300_000]);
    let backoff_min = duration(rng, &[1, 20, 500, 500, 500, 5000]);
    let backoff_max = backoff_min.max(duration(rng, &[1, 1000, 20_000, 20_000, 120_000]));
    // Keep the number of steps per run bounded (a 1 ms interval for 30 min is 1.8M GETs).
    let period = poll.min(ms(socket_reestablish)).min(ms(backoff_max)).max(1);
    let budget = period.saturating_mul(1000).max(500);
    let overall_deadline = match rng.below(8) {
        0 => Duration::from_millis(1),
        1 => Duration::MAX,
        2 => Duration::from_millis(poll.saturating_mul(3)),
        _ => duration(rng, &[2000, 30_000, 300_000, 1_800_000]).min(Duration::from_millis(budget)),
    };
    let polling_deadline = match rng.below(6) {
        0 => Duration::from_millis(1),
        1 => Duration::MAX,
        2 => Duration::from_millis(poll.saturating_mul(4)),
        _ => duration(rng, &[1000, 60_000, 600_000]).min(Duration::from_millis(budget)),
    };
    Timing {
        poll_interval,
        socket_reestablish,
        polling_deadline,
        overall_deadline,
        token_wait: duration(rng, &[0, 10, 2000, 60_000, 60_000]),
        request_timeout: duration(rng, &[1, 100, 2000, 10_000, 10_000]),
        backoff_min,
        backoff_max,
        not_found_confirm: duration(rng, &[0, 1, 1000, 1000, 5000, 60_000]),
    }
}

fn odd_case(rng: &mut Rng, s: &str) -> String {
    match rng.below(6) {
        0 => s.to_uppercase(),
        1 => format!(" {s}\t"),
        2 => {
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        }
        _ => s.to_owned(),
    }
}

/// A piece of server text that may echo a token.
fn server_text(rng: &mut Rng, tokens: &[String], known: usize) -> (String, bool) {
    if rng.chance(30) {
        let t = &tokens[rng.below(known as u64) as usize];
        let start = rng.below(t.len() as u64) as usize;
        let len = 8 + rng.below(t.len() as u64) as usize;
        let piece = &t[start..(start + len).min(t.len())];
        (format!("bad token {piece} (see {piece})"), piece.len() >= 8)
    } else {
        (
            rng.pick(&["Internal error", "try later", "Gateway Timeout", "é ü 日本"])
                .to_owned(),
            false,
        )
    }
}

impl World {
    /// The world of `seed`.
    pub fn generate(seed: u64) -> World {
        let rng = &mut Rng(seed);
        let timing = timing(rng);
        let push = rng.pick(&[
            PushKind::None,
            PushKind::Centrifugo,
            PushKind::Centrifugo,
            PushKind::Centrifugo,
            PushKind::Legacy,
        ]);
        let tokens: Vec<String> = (0..1 + rng.below(7)).map(|_| token(rng)).collect();
        // The span of interesting times: a little past the earliest deadline, bounded.
        let span = ms(timing.overall_deadline)
            .min(ms(timing.polling_deadline).saturating_mul(2))
            .min(ms(timing.poll_interval).saturating_mul(1500).max(4000))
            .clamp(50, 2_400_000);
        let span = span + span / 5;
        let t = |rng: &mut Rng| rng.below(span);
        let mut items = Vec::new();

        // The status timeline: new -> paid -> (odd statuses) -> final, or stays.
        let mut at = t(rng) / 4;
        if rng.chance(70) {
            items.push(Item::Status {
                at,
                raw: odd_case(rng, "paid"),
            });
        }
        for _ in 0..rng.below(3) {
            at += t(rng) / 4;
            let raw = match rng.below(5) {
                0 => "processing".to_owned(),
                1 => "x".repeat(100),
                2 => "日本語のステータス".to_owned(),
                3 => {
                    let tk = &tokens[0];
                    tk[..tk.len().min(30)].to_owned()
                }
                _ => "PAID".to_owned(),
            };
            items.push(Item::Status { at, raw });
        }
        if rng.chance(80) {
            at += t(rng) / 3;
            let final_status =
                rng.pick(&["done", "done", "done", "canceled", "cancelled", "expired"]);
            items.push(Item::Status {
                at,
                raw: odd_case(rng, final_status),
            });
        }

        // API lag, sometimes longer than the confirmation window, sometimes forever.
        let confirm = ms(timing.not_found_confirm);
        let known_after = match rng.below(10) {
            0..=4 => Some(0),
            5 | 6 => Some(rng.below(confirm.max(1))),
            7 => Some(confirm.saturating_add(rng.below(span))),
            8 => Some(rng.below(span)),
            _ => None,
        };

        // HTTP faults.
        for _ in 0..rng.below(6) {
            let from = t(rng);
            let until = from + 1 + rng.below(span / 3 + 1);
            let known = 1 + rng.below(tokens.len() as u64) as usize;
            let (text, _) = server_text(rng, &tokens, known);
            let answer = match rng.below(14) {
                0 => Answer::Network,
                1 | 2 => Answer::Http {
                    code: rng.pick(&[500, 502, 503, 504, 408]),
                    body: Body::XsollaError(text),
                    retry_after: rng
                        .chance(30)
                        .then(|| rng.pick(&["1", "0", "3600"]).to_owned()),
                },
                3 | 4 => Answer::Http {
                    code: 429,
                    body: rng.pick(&[Body::Empty, Body::XsollaError("Too many requests".into())]),
                    retry_after: Some(
                        rng.pick(&[
                            "1",
                            "2",
                            "3600",
                            "18446744073709551615",
                            "99999999999999999999999",
                            "Wed, 21 Oct 2015 07:28:00 GMT",
                            "soon",
                            "-1",
                            "",
                        ])
                        .to_owned(),
                    ),
                },
                5 => Answer::Http {
                    code: 401,
                    body: Body::XsollaError(text),
                    retry_after: None,
                },
                6 => Answer::Http {
                    code: rng.pick(&[403, 422, 400, 418]),
                    body: Body::XsollaError(text),
                    retry_after: None,
                },
                7 => Answer::Http {
                    code: 200,
                    body: rng.pick(&[
                        Body::Raw(b"<html>oops</html>".to_vec()),
                        Body::Raw(b"{\"order_id\":1,\"stat".to_vec()),
                        Body::Raw(vec![0xff, 0xfe, 0]),
                        Body::Raw(b"{\"order_id\":1}".to_vec()),
                        Body::Raw(b"[]".to_vec()),
                        Body::WrongOrder,
                        Body::Empty,
                    ]),
                    retry_after: None,
                },
                8 => Answer::Http {
                    code: 200,
                    body: Body::NoContents,
                    retry_after: None,
                },
                9 => Answer::Http {
                    code: 200,
                    body: Body::Status("new".into()),
                    retry_after: None,
                },
                10 => Answer::Http {
                    code: 200,
                    body: Body::Status(rng.pick(&["unknown_state", "", "DONE?", "Paid "]).into()),
                    retry_after: None,
                },
                _ => {
                    let token = rng.below(tokens.len() as u64) as usize;
                    Answer::Http {
                        code: rng.pick(&[401, 403, 500, 429, 404]),
                        body: Body::Echo {
                            token,
                            start: rng.below(40) as usize,
                            len: 8 + rng.below(200) as usize,
                        },
                        retry_after: None,
                    }
                }
            };
            items.push(Item::Http {
                from,
                until,
                answer,
            });
        }

        // Latency and stalls.
        let rt = ms(timing.request_timeout);
        for _ in 0..rng.below(3) {
            let from = t(rng);
            let until = from + 1 + rng.below(span / 4 + 1);
            let ms = match rng.below(4) {
                0 => rt.saturating_add(1 + rng.below(5000)),
                1 => rt / 2,
                _ => rng.below(300),
            };
            items.push(Item::Latency {
                from,
                until,
                ms,
                hang: rng.chance(20),
            });
        }

        // Socket behaviour.
        if push != PushKind::None {
            for _ in 0..rng.below(4) {
                let from = t(rng);
                let until = from + 1 + rng.below(span + 1);
                let mode = match rng.below(4) {
                    0 => SocketMode::Refuse,
                    1 => SocketMode::DropAfter(200),
                    2 => SocketMode::DropAfter(rng.below(40_000)),
                    _ => SocketMode::SlowHandshake(rng.pick(&[10, rt / 2, rt.saturating_add(100)])),
                };
                items.push(Item::Socket { from, until, mode });
            }
            for _ in 0..rng.below(3) {
                let from = t(rng);
                let until = from + 1 + rng.below(span / 2 + 1);
                let fault = match rng.below(3) {
                    0 => PushFault::Drop,
                    1 => PushFault::Duplicate,
                    _ => PushFault::Delay(rng.below(span / 4 + 10)),
                };
                items.push(Item::Push { from, until, fault });
            }
            if rng.chance(20) {
                items.push(Item::StalePush { at: t(rng) });
            }
            if rng.chance(20) {
                items.push(Item::StrayPush { at: t(rng) });
            }
            if rng.chance(15) {
                let (message, _) = server_text(rng, &tokens, 1);
                items.push(Item::SocketEnd {
                    at: t(rng),
                    expired: rng.chance(50),
                    message,
                });
            }
        }

        // Token expiry, often followed by a new token.
        if rng.chance(20) {
            let at = t(rng);
            items.push(Item::TokenExpires { at });
            if rng.chance(60) {
                let after = rng.below(ms(timing.token_wait).saturating_mul(2).max(10));
                items.push(Item::Host {
                    at: at + after,
                    action: Host::NewToken,
                });
            }
        }

        // Host calls.
        for _ in 0..rng.below(5) {
            let at = t(rng);
            let action = match rng.below(12) {
                0 => Host::Cancel,
                1..=3 => {
                    let some = rng.below(span / 3 + 1);
                    let resume = at + rng.pick(&[0, 1, some, 600_000]);
                    items.push(Item::Host {
                        at: resume,
                        action: Host::Resume,
                    });
                    Host::Pause
                }
                4..=6 => Host::NetworkChanged,
                7..=9 => Host::NewToken,
                _ => Host::SameToken,
            };
            items.push(Item::Host { at, action });
        }
        if rng.chance(3) {
            // A host that hammers the library.
            let step = 1 + rng.below(200);
            let action = rng.pick(&[Host::NetworkChanged, Host::SameToken, Host::NewToken]);
            for i in 0..200 {
                items.push(Item::Host {
                    at: i * step,
                    action,
                });
            }
        }

        items.sort_by_key(Item::at);
        let content = rng
            .pick(&[
                r#"{"price":{"amount":"30","amount_without_discount":"30","currency":"USD"},"virtual_price":null,"is_free":"false","items":[{"sku":"gem","quantity":1,"is_free":"false","price":{"amount":30}}]}"#,
                r#"{"is_free":true,"items":[]}"#,
                r#"{}"#,
            ])
            .to_owned();
        World {
            seed,
            timing,
            push,
            shared_hub: rng.chance(30),
            order_id: 1 + rng.below(1 << 40) as i64,
            known_after,
            base_latency: rng.pick(&[0, 1, 30, 200]),
            push_latency: rng.pick(&[0, 1, 20]),
            content,
            tokens,
            items,
            horizon: span.saturating_mul(4),
        }
    }
}
