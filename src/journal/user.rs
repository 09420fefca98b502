//! The user an order belongs to, derived from the token without ever storing the token.
//!
//! A JWT (three dot-separated base64url parts) is scoped by its `sub` claim, read WITHOUT
//! verifying the signature: the key only groups orders on this device, it grants nothing (the
//! order requests themselves still carry the token, which Xsolla verifies). Any other token (an
//! opaque Pay Station token, or a JWT without `sub`) maps to one shared scope, [`OPAQUE_USER`]:
//! such tokens identify a payment session, not a player, so their orders are resumed by any
//! `resume_pending` with an opaque token.

use serde_json::Value;

/// The scope of orders tracked with a token that names no user.
pub const OPAQUE_USER: &str = "opaque";

/// The longest `sub` kept; a longer one is treated as naming no user.
const MAX_SUB_BYTES: usize = 256;

/// The user key of a token: `sub:<sub>` for a JWT with a `sub` claim, else [`OPAQUE_USER`].
pub fn user_key(token: &str) -> String {
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return OPAQUE_USER.to_owned();
    };
    let sub = base64url_decode(payload)
        .and_then(|json| serde_json::from_slice::<Value>(&json).ok())
        .and_then(|claims| claims.get("sub").and_then(Value::as_str).map(str::to_owned))
        .filter(|sub| {
            !sub.is_empty() && sub.len() <= MAX_SUB_BYTES && !sub.chars().any(char::is_control)
        });
    match sub {
        Some(sub) => format!("sub:{sub}"),
        None => OPAQUE_USER.to_owned(),
    }
}

/// Decodes unpadded (or padded) base64url; `None` on any other character.
fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    if text.len() > 64 * 1024 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sub_from_a_jwt_and_scopes_other_tokens_together() {
        let _watchdog = crate::test_watchdog::arm();
        // {"sub":"player-1","exp":1}
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGF5ZXItMSIsImV4cCI6MX0.c2ln";
        assert_eq!(user_key(jwt), "sub:player-1");
        assert_eq!(user_key("opaque-paystation-token"), OPAQUE_USER);
        assert_eq!(user_key("a.b.c"), OPAQUE_USER);
        assert_eq!(user_key("a.!!.c"), OPAQUE_USER);
        assert_eq!(user_key("...."), OPAQUE_USER);
    }

    #[test]
    fn decodes_base64url() {
        let _watchdog = crate::test_watchdog::arm();
        assert_eq!(base64url_decode("aGVsbG8").unwrap(), b"hello");
        assert_eq!(base64url_decode("aGVsbG8=").unwrap(), b"hello");
        assert!(base64url_decode("a b").is_none());
    }
}
