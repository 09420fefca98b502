//! A Centrifugo text frame (or a binary frame that is UTF-8 JSON), as `transport::centrifugo`
//! decodes it: never a panic; every decoded value within its bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xo_tracker::events::Status;
use xo_tracker::limits;
use xo_tracker::transport::centrifugo::decode_frame;
use xo_tracker::transport::Inbound;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut out = Vec::new();
    decode_frame(&text, &mut out);
    assert!(out.len() <= text.len());
    for m in &out {
        match m {
            Inbound::ErrorReply { message, .. } => {
                assert!(message.chars().count() <= limits::MAX_SCANNED_CHARS)
            }
            Inbound::Disconnect { reason, .. } => {
                assert!(reason.chars().count() <= limits::MAX_SCANNED_CHARS)
            }
            Inbound::Status {
                status: Status::Other(s),
                ..
            } => assert!(s.chars().count() <= limits::MAX_STATUS_CHARS),
            Inbound::ConnectReply { ping_secs, .. } => {
                if let Some(p) = limits::ping_interval(*ping_secs) {
                    assert!(p >= limits::MIN_PING && p <= limits::MAX_PING);
                }
            }
            _ => {}
        }
    }
});
