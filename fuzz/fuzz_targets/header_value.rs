//! Header and scalar values from a server: `Retry-After` (at most 60 s), a status string (known
//! in any case, unknown cut to 64 characters), a ping interval (1..=600 s), and server text quoted
//! with a token (at most 200 characters, no 8-byte piece of the token). Never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xo_tracker::events::Status;
use xo_tracker::limits;
use xo_tracker::secret::Token;

/// `quoted` with each `<redacted>` marker, and a marker cut short at the end by the final cut,
/// replaced by NUL: what is left is server text, which must hold no piece of the token.
fn without_markers(quoted: &str) -> String {
    let mut shown = quoted.replace("<redacted>", "\0");
    if let Some(at) = shown.rfind('<') {
        if "<redacted>".starts_with(&shown[at..]) {
            shown.truncate(at);
        }
    }
    shown
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(wait) = limits::parse_retry_after(&text) {
        assert!(wait <= limits::MAX_RETRY_AFTER);
    }
    if let Status::Other(s) = Status::parse(&text) {
        assert!(s.chars().count() <= limits::MAX_STATUS_CHARS);
    }
    let mut secs = [0u8; 8];
    let n = data.len().min(8);
    secs[..n].copy_from_slice(&data[..n]);
    if let Some(p) = limits::ping_interval(u64::from_le_bytes(secs)) {
        assert!(p >= limits::MIN_PING && p <= limits::MAX_PING);
    }
    // The input's first line is the token, the rest the server text that may echo it.
    if let Some((token, rest)) = text.split_once('\n') {
        if let Ok(token) = Token::new(token) {
            let quoted = limits::quote(rest, Some(&token));
            assert!(quoted.chars().count() <= limits::MAX_QUOTED_CHARS);
            let shown = without_markers(&quoted);
            let secret = token.expose().as_bytes();
            if secret.len() >= 8 {
                for piece in secret.windows(8) {
                    assert!(!shown.as_bytes().windows(8).any(|w| w == piece));
                }
            } else {
                assert!(!shown.contains(token.expose()));
            }
        }
    }
});
