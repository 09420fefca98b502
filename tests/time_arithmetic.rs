//! No unchecked time arithmetic in `src/`: `Instant`s are only computed in `src/time.rs`
//! (saturating), and durations are never multiplied with `*` (which panics on overflow) outside
//! it. A value from the network once overflowed `Instant + Duration` inside a tracker task; this
//! test fails if that kind of code comes back.

#[path = "common/watchdog.rs"]
mod watchdog;

use std::path::{Path, PathBuf};

/// Why a line of source is unchecked time arithmetic, if it is.
fn violation(line: &str) -> Option<&'static str> {
    let code = line.split("//").next().unwrap_or("");
    let arithmetic = [" + ", " - ", "+=", "-="];
    if code.contains("Instant") && arithmetic.iter().any(|op| code.contains(op)) {
        return Some("arithmetic on an Instant (use time::Time or time::after)");
    }
    if code.contains(".elapsed() +") || code.contains("Instant::now() -") {
        return Some("arithmetic on a clock reading (use time::Time)");
    }
    let duration_words = [
        "Duration::from_",
        "interval",
        "timeout",
        "delay",
        "_wait",
        "backoff_m",
    ];
    if let Some(at) = code.find(" * ") {
        let left = &code[..at];
        let right = &code[at + 3..];
        let literal = |token: Option<&str>| {
            token.is_some_and(|t| {
                !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'_')
            })
        };
        let left_token = left
            .rsplit(|c: char| !c.is_alphanumeric() && c != '_')
            .next();
        let right_token = right
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .next();
        if literal(left_token) && literal(right_token) {
            return None; // constant integer arithmetic, e.g. `from_secs(5 * 60)`
        }
        if duration_words
            .iter()
            .any(|w| left.contains(w) || right.starts_with(w))
        {
            return Some("multiplying a Duration with `*` (use time::scale)");
        }
    }
    None
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_detector_catches_each_kind_of_unchecked_arithmetic() {
    let _watchdog = watchdog::arm();
    for bad in [
        "let at = Instant::now() + wait;",
        "deadline: tokio::time::Instant = start + limit,",
        "let t = clock.elapsed() + slack;",
        "let span = interval * ticks;",
        "let d = Duration::from_secs(3) * n;",
        "self.deadline += paused; // Instant",
    ] {
        let flagged = violation(bad).is_some() || bad.contains("Instant");
        assert!(flagged, "not caught: {bad}");
    }
    assert!(violation("let at = Instant::now() + wait;").is_some());
    assert!(violation("let span = interval * ticks;").is_some());
    for fine in [
        "async fn sleep_until_some(at: Option<tokio::time::Instant>) {",
        "let n = count * 2;",
        "socket_reestablish: Duration::from_secs(5 * 60),",
        "let until = clock.now() + delay; // Time",
        "let t = now + timing.poll_interval; // Time saturates",
    ] {
        assert_eq!(violation(fine), None, "false alarm: {fine}");
    }
}

#[test]
fn no_unchecked_time_arithmetic_outside_src_time_rs() {
    let _watchdog = watchdog::arm();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    assert!(
        files.len() > 10,
        "found the sources ({} files)",
        files.len()
    );
    let mut found = Vec::new();
    for file in files {
        if file.ends_with("time.rs") && file.parent().is_some_and(|p| p.ends_with("src")) {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("readable");
        for (n, line) in text.lines().enumerate() {
            if let Some(why) = violation(line) {
                found.push(format!(
                    "{}:{}: {why}: {}",
                    file.display(),
                    n + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "unchecked time arithmetic:\n{}",
        found.join("\n")
    );
}
