//! The on-disk record format: `[u32 length][u32 CRC-32 of the payload][payload]`, little endian,
//! after an 8-byte file header. The payload is one JSON object (an [`Op`]). Decoding stops at the
//! first record that is incomplete, too long, fails its checksum or does not parse: what comes
//! before it is the last complete state (a torn write at the tail, or any corruption, loses only
//! what follows it).

use serde_json::{json, Value};

/// The first bytes of every journal file (format version 1).
pub const MAGIC: &[u8; 8] = b"XOJRNL1\n";

/// The largest payload accepted; a longer length field is corruption.
pub(crate) const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;

/// One change of the journal's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// The host started tracking `order` for `user`.
    Track {
        /// The order id.
        order: i64,
        /// The user scope (never a token).
        user: String,
    },
    /// The order is done: its final event must be delivered until acknowledged.
    Done {
        /// The order id.
        order: i64,
        /// The user scope.
        user: String,
        /// The normalised contents JSON, when known.
        contents: Option<String>,
        /// The Xsolla event id, for an order restored from the Events API.
        event_id: Option<i64>,
    },
    /// The host acknowledged the order: never deliver it again.
    Ack {
        /// The order id.
        order: i64,
    },
    /// A final other than done was delivered: the order is forgotten.
    Forget {
        /// The order id.
        order: i64,
    },
}

impl Op {
    fn to_json(&self) -> Value {
        match self {
            Op::Track { order, user } => json!({"t": "track", "o": order, "u": user}),
            Op::Done {
                order,
                user,
                contents,
                event_id,
            } => json!({"t": "done", "o": order, "u": user, "c": contents, "e": event_id}),
            Op::Ack { order } => json!({"t": "ack", "o": order}),
            Op::Forget { order } => json!({"t": "forget", "o": order}),
        }
    }

    fn from_json(v: &Value) -> Option<Op> {
        let order = v.get("o")?.as_i64().filter(|o| *o > 0)?;
        let user = || v.get("u").and_then(Value::as_str).map(str::to_owned);
        Some(match v.get("t")?.as_str()? {
            "track" => Op::Track {
                order,
                user: user()?,
            },
            "done" => Op::Done {
                order,
                user: user()?,
                contents: match v.get("c") {
                    None | Some(Value::Null) => None,
                    Some(c) => Some(c.as_str()?.to_owned()),
                },
                event_id: match v.get("e") {
                    None | Some(Value::Null) => None,
                    Some(e) => Some(e.as_i64()?),
                },
            },
            "ack" => Op::Ack { order },
            "forget" => Op::Forget { order },
            _ => return None,
        })
    }
}

/// Encodes one record (length, checksum, payload).
pub fn encode(op: &Op) -> Vec<u8> {
    let payload = op.to_json().to_string().into_bytes();
    let mut out = Vec::with_capacity(8 + payload.len());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

/// What a journal file holds.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Decoded {
    /// Every complete record, in order.
    pub ops: Vec<Op>,
    /// How many bytes (header included) those records span.
    pub valid_len: usize,
    /// Whether bytes after `valid_len` were ignored (torn tail or corruption), or the header was wrong.
    pub damaged: bool,
}

/// Decodes a whole file. Never panics, whatever the bytes.
pub fn decode(bytes: &[u8]) -> Decoded {
    if bytes.is_empty() {
        return Decoded::default();
    }
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Decoded {
            damaged: true,
            ..Decoded::default()
        };
    }
    let mut at = MAGIC.len();
    let mut ops = Vec::new();
    while let Some((op, next)) = decode_one(bytes, at) {
        ops.push(op);
        at = next;
    }
    Decoded {
        ops,
        valid_len: at,
        damaged: at != bytes.len(),
    }
}

fn decode_one(bytes: &[u8], at: usize) -> Option<(Op, usize)> {
    let head = bytes.get(at..at.checked_add(8)?)?;
    let len = u32::from_le_bytes(head[..4].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(head[4..8].try_into().ok()?);
    if len > MAX_PAYLOAD_BYTES {
        return None;
    }
    let end = at + 8 + len;
    let payload = bytes.get(at + 8..end)?;
    if crc32(payload) != crc {
        return None;
    }
    let value: Value = serde_json::from_slice(payload).ok()?;
    Some((Op::from_json(&value)?, end))
}

/// CRC-32 (IEEE 802.3, the one of zip and PNG).
pub fn crc32(bytes: &[u8]) -> u32 {
    static TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    let mut crc = !0u32;
    for &b in bytes {
        crc = TABLE[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_standard_check_value() {
        let _watchdog = crate::test_watchdog::arm();
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn round_trips_and_stops_at_a_torn_tail() {
        let _watchdog = crate::test_watchdog::arm();
        let ops = vec![
            Op::Track {
                order: 5,
                user: "sub:a".into(),
            },
            Op::Done {
                order: 5,
                user: "sub:a".into(),
                contents: Some("{\"items\":[]}".into()),
                event_id: Some(9),
            },
            Op::Ack { order: 5 },
            Op::Forget { order: 6 },
        ];
        let mut file = MAGIC.to_vec();
        for op in &ops {
            file.extend(encode(op));
        }
        let full = decode(&file);
        assert_eq!(full.ops, ops);
        assert!(!full.damaged);
        let torn = decode(&file[..file.len() - 3]);
        assert_eq!(torn.ops, ops[..3]);
        assert!(torn.damaged);
        let mut flipped = file.clone();
        flipped[MAGIC.len() + 10] ^= 0x40;
        assert!(decode(&flipped).ops.is_empty());
        assert!(decode(b"garbage!garbage").damaged);
    }
}
