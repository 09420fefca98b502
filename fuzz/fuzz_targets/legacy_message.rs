//! A legacy per-order socket frame, one message per line: never a panic; statuses bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xo_tracker::events::Status;
use xo_tracker::limits;
use xo_tracker::transport::legacy_socket::decode_message;
use xo_tracker::transport::Inbound;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for line in text.split('\n').map(str::trim).filter(|l| !l.is_empty()) {
        if let Inbound::Status {
            status: Status::Other(s),
            ..
        } = decode_message(line)
        {
            assert!(s.chars().count() <= limits::MAX_STATUS_CHARS);
        }
    }
});
