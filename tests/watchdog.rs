//! The test watchdog (tests/common/watchdog.rs) turns a hang into a failure that names the test.
//!
//! The test runs this very test binary again, filtered to itself, with `XO_WATCHDOG_CHILD` set: the
//! child then does what hung the suite before (a busy loop under a paused tokio clock, which no
//! tokio timeout can end) under a 1 s watchdog, and must fail with its name within seconds.

#[path = "common/watchdog.rs"]
mod watchdog;

use std::process::Command;
use std::time::{Duration, Instant};

const CHILD: &str = "XO_WATCHDOG_CHILD";
const NAME: &str = "watchdog_turns_a_hang_into_a_named_failure";

#[test]
fn watchdog_turns_a_hang_into_a_named_failure() {
    if std::env::var_os(CHILD).is_some() {
        hang_under_a_paused_clock();
    }
    let _watchdog = watchdog::arm();
    let started = Instant::now();
    let output = Command::new(std::env::current_exe().expect("the test binary's path"))
        .args(["--exact", NAME, "--nocapture", "--test-threads", "1"])
        .env(CHILD, "1")
        .output()
        .expect("run the test binary again");
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(watchdog::EXIT_STATUS),
        "the hanging child must fail with status {}; stderr:\n{stderr}",
        watchdog::EXIT_STATUS
    );
    assert!(
        stderr.contains(&format!(
            "test {NAME} FAILED: still running after its 1 s wall-clock watchdog"
        )),
        "the failure names the test and the watchdog; stderr:\n{stderr}"
    );
    assert!(
        elapsed < Duration::from_secs(60),
        "the 1 s watchdog fired late: {elapsed:?}"
    );
}

/// What made the suite hang: a task that never yields to the timer under a paused clock. Only
/// the wall-clock watchdog can end it (by ending the process).
fn hang_under_a_paused_clock() -> ! {
    let _watchdog = watchdog::arm_for(Duration::from_secs(1));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a paused-clock runtime");
    runtime.block_on(async {
        // A tokio timeout would not help: the paused clock never reaches it.
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                std::hint::black_box(0u64);
                tokio::task::yield_now().await;
            }
        })
        .await;
    });
    unreachable!("the busy loop never ends; the watchdog ends the process")
}
