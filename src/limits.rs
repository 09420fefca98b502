//! Bounds for every number, duration and string that comes from the network, applied where it is
//! parsed. A value outside its bound is clamped (durations, counts) or cut (text); nothing from a
//! server can overflow arithmetic, allocate without limit or stall a tracker for an hour.
//!
//! | value | bound |
//! |---|---|
//! | `Retry-After` (seconds or HTTP date) | 0 ..= [`MAX_RETRY_AFTER`] (60 s); unparsable: ignored |
//! | Centrifugo `ping` interval | 0 (no pings) or [`MIN_PING`] ..= [`MAX_PING`] (1 s ..= 600 s) |
//! | error, close and disconnect codes | their wire width (`u32`, `u16`), saturating |
//! | server text quoted in messages and logs | redacted, then at most [`MAX_QUOTED_CHARS`] characters |
//! | status strings | at most [`MAX_STATUS_CHARS`] characters; letter case ignored |
//! | bodies, frames | `api::MAX_BODY_BYTES` (256 KiB), `ws::MAX_MESSAGE_BYTES` (64 KiB) |

use std::time::Duration;

use crate::secret::Token;

/// The longest wait a server's `Retry-After` can impose on a tracker. Longer values are cut to
/// this: a tracker still asks once a minute, so a misconfigured server cannot make it time out
/// after one request.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// The shortest server ping interval honoured (a smaller non-zero value is raised to this).
pub const MIN_PING: Duration = Duration::from_secs(1);
/// The longest server ping interval honoured (a larger value is cut to this).
pub const MAX_PING: Duration = Duration::from_secs(600);
/// Server text (error messages, close reasons) is cut to this many characters after redaction.
pub const MAX_QUOTED_CHARS: usize = 200;
/// Server text is cut to this many characters before redaction (redaction works on bounded input;
/// a token cut here still has every 8-character piece of it redacted).
pub const MAX_SCANNED_CHARS: usize = 4096;
/// Status strings longer than this are cut (they are reported raw to the host).
pub const MAX_STATUS_CHARS: usize = 64;

/// Parses a `Retry-After` header value: delta-seconds (clamped to [`MAX_RETRY_AFTER`]), or an
/// HTTP date, which is taken as "wait the longest honoured time" (comparing it with the server's
/// date needs a clock this library does not trust). Anything else is ignored (`None`).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() || value.len() > 64 {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        // Any number of digits: too many to fit is simply "very long".
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER));
    }
    // An HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT"): recognised by its shape only.
    let looks_like_date = value.ends_with("GMT") && value.contains(',') && value.len() >= 20;
    looks_like_date.then_some(MAX_RETRY_AFTER)
}

/// A server ping interval in seconds, as a liveness rule: `None` for 0 (the server sends no pings),
/// otherwise clamped to [`MIN_PING`] ..= [`MAX_PING`].
pub fn ping_interval(secs: u64) -> Option<Duration> {
    (secs > 0).then(|| Duration::from_secs(secs).clamp(MIN_PING, MAX_PING))
}

/// A number from JSON as a `u32`, saturating (negative or fractional: 0).
pub fn saturating_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A number from JSON as a `u16`, saturating.
pub fn saturating_u16(n: u64) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// The first `max` characters of `s`.
pub fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => s[..at].to_owned(),
        None => s.to_owned(),
    }
}

/// Server text made safe to quote: cut to a scannable size, every piece of `token` of 8 or more
/// characters redacted, then cut to [`MAX_QUOTED_CHARS`]. Redaction comes before the final cut,
/// so a token echoed past the cut cannot leak a part of itself.
pub fn quote(text: &str, token: Option<&Token>) -> String {
    let scanned = cut(text, MAX_SCANNED_CHARS);
    let redacted = match token {
        Some(token) => token.redact(&scanned),
        None => scanned,
    };
    cut(&redacted, MAX_QUOTED_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_bounded() {
        let _watchdog = crate::test_watchdog::arm();
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("3600"), Some(MAX_RETRY_AFTER));
        assert_eq!(
            parse_retry_after("18446744073709551615"),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999999"),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(MAX_RETRY_AFTER)
        );
        // 64 characters is the longest value read; a longer one is refused unread.
        assert_eq!(parse_retry_after(&"9".repeat(64)), Some(MAX_RETRY_AFTER));
        // A date needs all of its shape: a comma, the GMT zone and some length.
        for not_a_date in [
            "GMT",
            "Wed, 21 Oct 2015",
            "Wednesday 21 October 2015 GMT",
            "a, GMT",
        ] {
            assert_eq!(parse_retry_after(not_a_date), None, "{not_a_date:?}");
        }
        for bad in ["", "-1", "1.5", "soon", "12abc", &"9".repeat(65)] {
            assert_eq!(parse_retry_after(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn ping_interval_is_bounded() {
        let _watchdog = crate::test_watchdog::arm();
        assert_eq!(ping_interval(0), None);
        assert_eq!(ping_interval(25), Some(Duration::from_secs(25)));
        assert_eq!(ping_interval(u64::MAX), Some(MAX_PING));
        assert_eq!(saturating_u16(70_000), u16::MAX);
        assert_eq!(saturating_u32(u64::MAX), u32::MAX);
    }

    #[test]
    fn quoting_redacts_before_cutting() {
        let _watchdog = crate::test_watchdog::arm();
        let token = Token::new("abcdefghijklmnopqrstuvwxyz012345").unwrap();
        // The token starts 190 characters in: a cut at 200 before redaction would leak 10 of it.
        let text = format!("{}{}", "x".repeat(190), token.expose());
        let quoted = quote(&text, Some(&token));
        assert!(!quoted.contains("abcdefgh"), "{quoted}");
        assert!(quoted.chars().count() <= MAX_QUOTED_CHARS);
        assert_eq!(cut("héllo", 2), "hé");
        assert_eq!(quote("plain", None), "plain");
    }
}
