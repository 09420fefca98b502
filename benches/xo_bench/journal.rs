//! The purchase journal's costs: one durable write (append + fsync) per recorded status change,
//! a non-durable write (a forget), opening (recovery + compaction) a journal of 1,000 orders, and
//! `resume_pending` of 1,000 orders: redelivery of 1,000 done-unacknowledged ones until the last
//! callback ran (no network), and re-tracking 1,000 unfinished ones (until the call returns).

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use xo_tracker::journal::Journal;
use xo_tracker::{Config, Engine, Event, Token, Transport};

use crate::{note, row, Mode, Verdict};

/// {"sub":"bench-player"}
const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJiZW5jaC1wbGF5ZXIifQ.c2ln";
const CONTENTS: &str = r#"{"price":{"amount":"30","amount_without_discount":"30","currency":"USD"},"virtual_price":null,"is_free":false,"items":[{"sku":"com.xsolla.item_1","quantity":1,"is_free":false,"price":{"amount":"30","amount_without_discount":"30","currency":"USD"},"virtual_price":null}]}"#;

struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        // Under target/ (a real disk), not /tmp (often tmpfs, where fsync costs nothing).
        let base = std::env::var_os("CARGO_TARGET_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::PathBuf::from("target"));
        let dir = base.join(format!("bench-journal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn run(mode: Mode) -> Result<(), String> {
    let n: i64 = if mode.quick() { 50 } else { 1000 };
    let bench = "journal";

    // Durable writes: track (one per order) and done (one per final): append + fsync each.
    let dir = TempDir::new("writes");
    let journal = Journal::open(&dir.0);
    if let Some(problem) = journal.problem() {
        return Err(problem);
    }
    let started = Instant::now();
    for order in 1..=n {
        journal.track(order, "sub:bench");
    }
    let track = started.elapsed() / n as u32;
    let started = Instant::now();
    for order in 1..=n {
        journal.done(order, "sub:bench", Some(CONTENTS.to_owned()), None);
    }
    let done = started.elapsed() / n as u32;
    for order in n + 1..=2 * n {
        journal.track(order, "sub:bench");
    }
    let started = Instant::now();
    for order in n + 1..=2 * n {
        journal.forget(order);
    }
    let forget = started.elapsed() / n as u32;
    row(
        bench,
        "durable write per status change (track), append + fsync",
        &us(track),
        "",
        Verdict::Info,
    );
    row(
        bench,
        "durable write of a done with contents, append + fsync",
        &us(done),
        "",
        Verdict::Info,
    );
    row(
        bench,
        "forget (append, no fsync)",
        &us(forget),
        "",
        Verdict::Info,
    );
    drop(journal);
    let started = Instant::now();
    let reopened = Journal::open(&dir.0);
    let open = started.elapsed();
    row(
        bench,
        &format!("open {n} done orders (recover + compact + 2 fsyncs)"),
        &ms(open),
        "",
        Verdict::Info,
    );
    drop(reopened);

    // resume_pending: redeliver n done orders (no network), and re-track n unfinished ones.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut config = Config::new(1001);
    config.transport = Transport::PollingOnly;
    config.api_base_url = "http://127.0.0.1:9/api".into();
    config.allow_insecure_loopback = true;
    let done_dir = TempDir::new("resume-done");
    {
        let j = Journal::open(&done_dir.0);
        for order in 1..=n {
            j.done(order, "sub:bench-player", Some(CONTENTS.to_owned()), None);
        }
    }
    config.journal_dir = Some(done_dir.0.clone());
    let engine =
        Engine::new(config.clone(), runtime.handle().clone()).map_err(|e| e.to_string())?;
    let delivered = Arc::new((Mutex::new(0i64), Condvar::new()));
    let counter = delivered.clone();
    let started = Instant::now();
    let resumed = engine
        .resume_pending(
            Token::new(JWT).map_err(str::to_owned)?,
            Arc::new(move || {
                let counter = counter.clone();
                Box::new(move |e: &Event| {
                    if e.is_last() {
                        let (count, cv) = &*counter;
                        *count.lock().unwrap() += 1;
                        cv.notify_all();
                    }
                })
            }),
        )
        .map_err(|e| e.to_string())?;
    let call = started.elapsed();
    {
        let (count, cv) = &*delivered;
        let guard = count.lock().unwrap();
        let (guard, timeout) = cv
            .wait_timeout_while(guard, Duration::from_secs(60), |c| *c < n)
            .unwrap();
        if timeout.timed_out() {
            return Err(format!("only {} of {n} redelivered", *guard));
        }
    }
    let all = started.elapsed();
    if resumed != n as usize {
        return Err(format!("resume_pending returned {resumed}, want {n}"));
    }
    row(
        bench,
        &format!("resume_pending: redeliver {n} done orders, until the last callback"),
        &ms(all),
        "",
        Verdict::Info,
    );
    row(
        bench,
        &format!("resume_pending: redeliver {n} done orders, the call itself"),
        &ms(call),
        "",
        Verdict::Info,
    );
    engine.shutdown().map_err(|e| e.to_string())?;

    let pending_dir = TempDir::new("resume-pending");
    {
        let j = Journal::open(&pending_dir.0);
        for order in 1..=n {
            j.track(order, "sub:bench-player");
        }
    }
    config.journal_dir = Some(pending_dir.0.clone());
    let engine = Engine::new(config, runtime.handle().clone()).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let resumed = engine
        .resume_pending(
            Token::new(JWT).map_err(str::to_owned)?,
            Arc::new(|| Box::new(|_: &Event| {})),
        )
        .map_err(|e| e.to_string())?;
    let call = started.elapsed();
    if resumed != n as usize {
        return Err(format!("resume_pending returned {resumed}, want {n}"));
    }
    row(
        bench,
        &format!("resume_pending: re-track {n} unfinished orders (the call)"),
        &ms(call),
        "",
        Verdict::Info,
    );
    engine.shutdown().map_err(|e| e.to_string())?;
    runtime.shutdown_timeout(Duration::from_secs(2));
    note(
        bench,
        "fsync cost depends on the disk: measured on the directory under target/ of this machine",
    );
    Ok(())
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}
