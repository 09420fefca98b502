//! An HTTP answer to Get order (status, `Retry-After`, body) through `api::classify_for` with a
//! token: never a panic; the status decides the class; the quoted server text is at most 200
//! characters and holds no 8-byte piece of the token; the wait is at most 60 s.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use xo_tracker::api::{classify_for, ApiError};
use xo_tracker::limits;
use xo_tracker::secret::Token;

/// A JWT-shaped token; the seed corpus echoes it whole, cut and in pieces.
const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4byJ9.c2lnbmF0dXJlLXBhcnQ";

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let status = u16::from_le_bytes([data[0], data[1]]) % 1000;
    let retry_after = match data[2] {
        0 => None,
        1 => Some(Duration::MAX),
        n => Some(Duration::from_secs(u64::from(n) * 1_000)),
    };
    let body = &data[3..];
    let token = Token::new(TOKEN).unwrap();
    let got = classify_for(7, status, body, retry_after, Some(&token));
    let info = match &got {
        Ok(_) => return,
        Err(e) => e.info(),
    };
    let class_ok = match (status, &got) {
        (200, Err(ApiError::Transient { .. })) => true,
        (401, Err(ApiError::Unauthorized(_))) | (404, Err(ApiError::NotFound(_))) => true,
        (408 | 429 | 500..=599, Err(ApiError::Transient { retry_after, .. })) => {
            retry_after.is_none_or(|d| d <= limits::MAX_RETRY_AFTER)
        }
        (s, Err(ApiError::Fatal(_))) => {
            ![200, 401, 404, 408, 429].contains(&s) && !(500..600).contains(&s)
        }
        _ => false,
    };
    assert!(class_ok, "HTTP {status}: {got:?}");
    if status != 200 {
        let prefix = format!("HTTP {status}: ");
        let detail = info.message.strip_prefix(&prefix).expect("message prefix");
        assert!(detail.chars().count() <= limits::MAX_QUOTED_CHARS);
        // Markers (and one cut short at the end) are the library's, not server text.
        let mut shown = detail.replace("<redacted>", "\0");
        if let Some(at) = shown.rfind('<') {
            if "<redacted>".starts_with(&shown[at..]) {
                shown.truncate(at);
            }
        }
        for piece in TOKEN.as_bytes().windows(8) {
            assert!(
                !shown.as_bytes().windows(8).any(|w| w == piece),
                "token piece leaked: {detail}"
            );
        }
    }
});
