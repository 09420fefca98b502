//! The purchase journal through the engine: done orders are redelivered after a restart until
//! acknowledged and never after; unfinished orders are resumed; other finals are forgotten; the
//! directory is locked against a second user and never holds a token.

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use common::*;
use xo_sim::OrderSpec;
use xo_tracker::{Engine, Error, EventKind, Origin, Outcome, Token, Transport};

/// {"sub":"player-7"} as a JWT; its signature part is what must never reach the disk.
const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGF5ZXItNyJ9.SECRET-SIGNATURE-77";
/// Another user.
const OTHER_JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvdGhlciJ9.OTHER-SIGNATURE";

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "xo-journal-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }

    fn assert_no_token(&self) {
        for entry in std::fs::read_dir(&self.0).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            for secret in [JWT, "SECRET-SIGNATURE", TOKEN] {
                assert!(!text.contains(secret), "a token reached the journal");
            }
        }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn engine_on(sim: &xo_sim::Sim, dir: &TempDir) -> Engine {
    let mut config = config_for(sim, Transport::Centrifugo);
    config.journal_dir = Some(dir.0.clone());
    Engine::new(config, tokio::runtime::Handle::current()).unwrap()
}

fn token(t: &str) -> Token {
    Token::new(t).unwrap()
}

/// Resumes and collects the final event of every resumed handle.
async fn resume(engine: &Engine, t: &str) -> Vec<xo_tracker::Event> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let n = engine
        .resume_pending(
            token(t),
            std::sync::Arc::new(move || {
                let tx = tx.clone();
                Box::new(move |e: &xo_tracker::Event| {
                    let _ = tx.send(e.clone());
                })
            }),
        )
        .unwrap();
    let mut finals = Vec::new();
    while finals.len() < n {
        let e = tokio::time::timeout(Duration::from_secs(3600), rx.recv())
            .await
            .expect("every resumed order ends")
            .unwrap();
        if e.is_last() {
            finals.push(e);
        }
    }
    finals
}

#[tokio::test(start_paused = true)]
async fn done_is_redelivered_after_restarts_until_acknowledged_then_never() {
    let _watchdog = common::watchdog::arm();
    let dir = TempDir::new();
    let sim = xo_sim::Sim::start(Default::default()).await.unwrap();
    sim.add_order(OrderSpec::new(11).then_after(Duration::from_secs(1), "done"));
    let engine = engine_on(&sim, &dir).await;
    let (listener, mut rec) = recorder();
    engine.track(11, token(JWT), listener).unwrap();
    let events = rec.until_last().await;
    let last = final_event(&events);
    assert_eq!((last.outcome, last.origin), (Outcome::Done, Origin::Live));
    engine.shutdown().unwrap(); // the game "crashed" before acknowledging
    sim.shutdown().await; // and the network is gone

    for _restart in 0..2 {
        let engine = engine_on(&sim, &dir).await;
        assert_eq!(engine.journal_status(), Ok(()));
        assert!(
            resume(&engine, OTHER_JWT).await.is_empty(),
            "another user's orders are not theirs"
        );
        let finals = resume(&engine, JWT).await;
        assert_eq!(finals.len(), 1);
        assert_eq!(finals[0].order_id, 11);
        assert_eq!(finals[0].outcome, Outcome::Done);
        assert_eq!(finals[0].origin, Origin::Redelivered);
        assert_eq!(
            finals[0].contents, last.contents,
            "the contents come from the journal"
        );
        engine.shutdown().unwrap();
    }

    let engine = engine_on(&sim, &dir).await;
    resume(&engine, JWT).await;
    assert_eq!(engine.acknowledge(11), Ok(()));
    assert_eq!(engine.acknowledge(11), Ok(()), "idempotent");
    assert_eq!(engine.acknowledge(12), Err(Error::UnknownOrder(12)));
    engine.shutdown().unwrap();

    let engine = engine_on(&sim, &dir).await;
    assert!(
        resume(&engine, JWT).await.is_empty(),
        "never after the acknowledgement"
    );
    let (listener, _rec) = recorder();
    assert_eq!(
        engine.track(11, token(JWT), listener),
        Err(Error::AlreadyAcknowledged(11))
    );
    engine.shutdown().unwrap();
    dir.assert_no_token();
}

#[tokio::test(start_paused = true)]
async fn unfinished_orders_are_resumed_and_other_finals_forgotten() {
    let _watchdog = common::watchdog::arm();
    let dir = TempDir::new();
    let sim = xo_sim::Sim::start(Default::default()).await.unwrap();
    sim.add_order(OrderSpec::new(21));
    sim.add_order(OrderSpec::new(22));
    let engine = engine_on(&sim, &dir).await;
    for order in [21, 22] {
        let (listener, _rec) = recorder();
        engine.track(order, token(JWT), listener).unwrap();
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    engine.shutdown().unwrap(); // killed while both were pending
    sim.set_status(21, "done");
    sim.set_status(22, "canceled");

    let engine = engine_on(&sim, &dir).await;
    let mut finals = resume(&engine, JWT).await;
    finals.sort_by_key(|e| e.order_id);
    assert_eq!(finals.len(), 2);
    assert_eq!(
        (finals[0].outcome, finals[0].origin),
        (Outcome::Done, Origin::Redelivered)
    );
    assert!(finals[0].contents.is_some());
    assert_eq!(finals[1].outcome, Outcome::Canceled);
    assert_eq!(
        resume(&engine, JWT).await.len(),
        1,
        "the done one again (not acknowledged), the canceled one is forgotten"
    );
    engine.shutdown().unwrap();
    dir.assert_no_token();
}

#[tokio::test(start_paused = true)]
async fn acknowledging_inside_the_callback_and_resume_skips_live_orders() {
    let _watchdog = common::watchdog::arm();
    let dir = TempDir::new();
    let sim = xo_sim::Sim::start(Default::default()).await.unwrap();
    sim.add_order(OrderSpec::new(31).then_after(Duration::from_secs(2), "done"));
    let engine = engine_on(&sim, &dir).await;
    let inner = engine.clone();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    engine
        .track(
            31,
            token(JWT),
            Box::new(move |e| {
                if e.kind == EventKind::Final {
                    let _ = tx.send(inner.acknowledge(e.order_id));
                }
            }),
        )
        .unwrap();
    assert!(
        resume(&engine, JWT).await.is_empty(),
        "31 is tracked live: not twice"
    );
    let acked = tokio::time::timeout(Duration::from_secs(60), rx.recv())
        .await
        .unwrap();
    assert_eq!(acked, Some(Ok(())));
    engine.shutdown().unwrap();
    let engine = engine_on(&sim, &dir).await;
    assert!(resume(&engine, JWT).await.is_empty());
    engine.shutdown().unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_second_user_of_the_directory_is_refused_and_tracking_still_works() {
    let _watchdog = common::watchdog::arm();
    let dir = TempDir::new();
    let sim = xo_sim::Sim::start(Default::default()).await.unwrap();
    sim.add_order(OrderSpec::new(41).status("done"));
    let first = engine_on(&sim, &dir).await;
    let second = engine_on(&sim, &dir).await;
    assert_eq!(first.journal_status(), Ok(()));
    match second.journal_status() {
        Err(Error::JournalUnavailable(why)) => assert!(why.contains("in use"), "{why}"),
        other => panic!("expected the lock to refuse it, got {other:?}"),
    }
    let (listener, mut rec) = recorder();
    second.track(41, token(JWT), listener).unwrap();
    assert_eq!(outcome(&rec.until_last().await), Outcome::Done);
    assert!(matches!(
        second.acknowledge(41),
        Err(Error::JournalUnavailable(_))
    ));
    first.shutdown().unwrap();
    second.shutdown().unwrap();
    // Released: a new engine gets the journal.
    let third = engine_on(&sim, &dir).await;
    assert_eq!(third.journal_status(), Ok(()));
    third.shutdown().unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_unusable_directory_means_memory_only_with_one_clear_error() {
    let _watchdog = common::watchdog::arm();
    let dir = TempDir::new();
    std::fs::write(&dir.0, b"a file, not a directory").unwrap();
    let sim = xo_sim::Sim::start(Default::default()).await.unwrap();
    sim.add_order(OrderSpec::new(51).status("done"));
    let engine = engine_on(&sim, &dir).await;
    assert!(matches!(
        engine.journal_status(),
        Err(Error::JournalUnavailable(_))
    ));
    let (listener, mut rec) = recorder();
    engine.track(51, token(JWT), listener).unwrap();
    assert_eq!(outcome(&rec.until_last().await), Outcome::Done);
    engine.shutdown().unwrap();
    let _ = std::fs::remove_file(&dir.0);
}

#[tokio::test(start_paused = true)]
async fn without_a_journal_nothing_changes() {
    let _watchdog = common::watchdog::arm();
    let sim = xo_sim::Sim::start(Default::default()).await.unwrap();
    let engine = Engine::new(
        config_for(&sim, Transport::Centrifugo),
        tokio::runtime::Handle::current(),
    )
    .unwrap();
    assert_eq!(
        engine.acknowledge(5),
        Ok(()),
        "no journal: nothing to forget"
    );
    assert!(resume(&engine, JWT).await.is_empty());
    assert!(matches!(
        engine.journal_status(),
        Err(Error::JournalUnavailable(_))
    ));
    engine.shutdown().unwrap();
}
