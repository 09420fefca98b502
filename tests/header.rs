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
