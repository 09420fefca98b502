//! The committed C header must be exactly what cbindgen generates from the current sources
//! (in CI the build does not rewrite it, so a stale header fails here).

#[path = "common/watchdog.rs"]
mod watchdog;

#[test]
fn header_is_current() {
    let _watchdog = watchdog::arm();
    let generated = include_str!(concat!(env!("OUT_DIR"), "/xo_tracker.h"));
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/xo_tracker.h"))
            .expect("include/xo_tracker.h exists");
    assert!(
        generated == committed,
        "include/xo_tracker.h is stale: run `cargo build` outside CI and commit the regenerated header"
    );
}

#[test]
fn header_declares_every_exported_function() {
    let _watchdog = watchdog::arm();
    let header = include_str!("../include/xo_tracker.h");
    for name in [
        "xo_version",
        "xo_abi_version",
        "xo_last_error",
        "xo_result_string",
        "xo_configure",
        "xo_track_order",
        "xo_check_order",
        "xo_cancel",
        "xo_update_token",
        "xo_dispatch",
        "xo_shutdown",
        "xo_set_log_callback",
    ] {
        let declared = [" ", "*"]
            .iter()
            .any(|before| header.contains(&format!("{before}{name}(")));
        assert!(declared, "{name} is missing from the header");
    }
    assert!(header.contains("#ifndef XO_TRACKER_H") && header.contains("extern \"C\""));
}

#[test]
fn header_guards_every_stdc_version_test() {
    let _watchdog = watchdog::arm();
    let header = include_str!("../include/xo_tracker.h");
    let uses = header.matches("__STDC_VERSION__ >=").count();
    let guarded = header
        .matches("defined(__STDC_VERSION__) && __STDC_VERSION__ >=")
        .count();
    assert!(
        uses > 0,
        "the typed-enum conditions are gone: update this test"
    );
    assert_eq!(
        uses, guarded,
        "an unguarded __STDC_VERSION__ breaks -Wundef (MSVC C4668)"
    );
}

/// ABI 1's result codes are frozen: a game built against an earlier header compares against
/// these numbers (the header alone cannot show a change, it is regenerated from the same enum).
#[test]
fn abi_1_result_codes_are_frozen() {
    let _watchdog = watchdog::arm();
    use xo_tracker::ffi::xo_result as r;
    let frozen = [
        (r::Ok, 0),
        (r::NullArgument, -1),
        (r::InvalidArgument, -2),
        (r::InvalidUtf8, -3),
        (r::NotConfigured, -4),
        (r::UnknownHandle, -5),
        (r::Busy, -6),
        (r::InCallback, -7),
        (r::Panic, -8),
        (r::Internal, -9),
        (r::Network, -20),
        (r::Timeout, -21),
        (r::Http, -22),
        (r::Unauthorized, -23),
        (r::NotFound, -24),
        (r::Protocol, -25),
        (r::RateLimited, -26),
        (r::SocketRejected, -27),
        (r::UnknownOrder, -40),
        (r::AlreadyAcknowledged, -41),
        (r::JournalUnavailable, -42),
    ];
    let unknown = xo_tracker::ffi::xo_result_string(1);
    let text = |code: i32| {
        unsafe { std::ffi::CStr::from_ptr(xo_tracker::ffi::xo_result_string(code)) }
            .to_str()
            .unwrap()
            .to_owned()
    };
    let mut texts = std::collections::HashSet::new();
    for (code, value) in frozen {
        assert_eq!(code as i32, value, "{code:?}");
        assert_ne!(
            xo_tracker::ffi::xo_result_string(value),
            unknown,
            "{code:?} has its text"
        );
        assert!(texts.insert(text(value)), "{code:?}: a text of its own");
    }
    assert_eq!(text(1), "unknown result code");
    assert_eq!(xo_tracker::ffi::xo_abi_version(), 1);
}

/// `xo_acknowledge` refuses an order id that is not positive, before anything else.
#[test]
fn acknowledge_refuses_order_ids_that_are_not_positive() {
    let _watchdog = watchdog::arm();
    use xo_tracker::ffi::{journal::xo_acknowledge, xo_result};
    for id in [0, -1, i64::MIN] {
        assert_eq!(xo_acknowledge(id), xo_result::InvalidArgument, "{id}");
    }
}
