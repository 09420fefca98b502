//! Recovery of the purchase journal: random truncations and bit flips of the file always open to
//! a prefix of the committed state and never panic (property tests), and a fault-injecting store
//! (short writes, fsync errors, ENOSPC, failed compactions, power loss) plugged in through the
//! `Storage` trait never loses a committed record nor makes the journal fail to open.

#[path = "common/watchdog.rs"]
mod watchdog;

use std::io;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use xo_tracker::journal::record::{self, Op, MAGIC};
use xo_tracker::journal::{Journal, State, Storage};

/// A simulated disk: what survives power loss (`durable`) and what was written but not synced.
#[derive(Default)]
struct Disk {
    durable: Vec<u8>,
    volatile: Vec<u8>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Faults {
    /// Fail the n-th append (1-based) after writing only half of it (a short write).
    short_write_at: Option<u32>,
    /// Fail the n-th sync.
    sync_error_at: Option<u32>,
    /// The disk is full after this many bytes in total.
    capacity: Option<usize>,
    /// Fail the n-th replace (compaction), after the rename when `renamed`.
    replace_error_at: Option<(u32, bool)>,
}

struct FaultyStorage {
    disk: Arc<Mutex<Disk>>,
    faults: Faults,
    appends: u32,
    syncs: u32,
    replaces: u32,
}

impl FaultyStorage {
    fn new(disk: Arc<Mutex<Disk>>, faults: Faults) -> FaultyStorage {
        FaultyStorage {
            disk,
            faults,
            appends: 0,
            syncs: 0,
            replaces: 0,
        }
    }
}

fn enospc() -> io::Error {
    io::Error::from_raw_os_error(28)
}

impl Storage for FaultyStorage {
    fn load(&mut self) -> io::Result<Vec<u8>> {
        let disk = self.disk.lock().unwrap();
        Ok([disk.durable.as_slice(), disk.volatile.as_slice()].concat())
    }

    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.appends += 1;
        let mut disk = self.disk.lock().unwrap();
        if self.faults.short_write_at == Some(self.appends) {
            disk.volatile.extend_from_slice(&bytes[..bytes.len() / 2]);
            return Err(io::Error::new(io::ErrorKind::WriteZero, "short write"));
        }
        if let Some(capacity) = self.faults.capacity {
            let used = disk.durable.len() + disk.volatile.len();
            if used + bytes.len() > capacity {
                let room = capacity.saturating_sub(used);
                disk.volatile.extend_from_slice(&bytes[..room]);
                return Err(enospc());
            }
        }
        disk.volatile.extend_from_slice(bytes);
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        self.syncs += 1;
        if self.faults.sync_error_at == Some(self.syncs) {
            return Err(io::Error::other("fsync failed (EIO)"));
        }
        let mut disk = self.disk.lock().unwrap();
        let volatile = std::mem::take(&mut disk.volatile);
        disk.durable.extend(volatile);
        Ok(())
    }

    fn replace(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.replaces += 1;
        let mut disk = self.disk.lock().unwrap();
        if let Some((at, renamed)) = self.faults.replace_error_at {
            if at == self.replaces {
                if renamed {
                    disk.durable = bytes.to_vec();
                    disk.volatile.clear();
                }
                return Err(enospc());
            }
        }
        if self.faults.capacity.is_some_and(|c| bytes.len() > c) {
            return Err(enospc());
        }
        disk.durable = bytes.to_vec();
        disk.volatile.clear();
        Ok(())
    }
}

/// Everything written to the file (synced or not), as a crash without power loss leaves it.
fn written(disk: &Arc<Mutex<Disk>>) -> Vec<u8> {
    let d = disk.lock().unwrap();
    [d.durable.as_slice(), d.volatile.as_slice()].concat()
}

/// One journal call of the model.
#[derive(Clone, Debug)]
enum Call {
    Track(i64, u8),
    Done(i64, bool),
    Ack(i64),
    Forget(i64),
}

fn call() -> impl Strategy<Value = Call> {
    let order = 1i64..12;
    prop_oneof![
        (order.clone(), 0u8..3).prop_map(|(o, u)| Call::Track(o, u)),
        (order.clone(), any::<bool>()).prop_map(|(o, c)| Call::Done(o, c)),
        order.clone().prop_map(Call::Ack),
        order.prop_map(Call::Forget),
    ]
}

fn user(u: u8) -> String {
    format!("sub:user-{u}")
}

/// Runs a call on the journal; returns whether it must be durable once it returned.
fn run(journal: &Journal, call: &Call) -> bool {
    match call {
        Call::Track(o, u) => {
            journal.track(*o, &user(*u));
            true
        }
        Call::Done(o, c) => {
            let contents = c.then(|| format!("{{\"items\":[{{\"sku\":\"gem-{o}\"}}]}}"));
            journal.done(*o, &user(0), contents, None);
            true
        }
        Call::Ack(o) => {
            journal.acknowledge(*o);
            true
        }
        Call::Forget(o) => {
            journal.forget(*o);
            false
        }
    }
}

/// The state after each prefix of `calls` (index k: after the first k calls), from a healthy
/// in-memory journal.
fn prefix_states(calls: &[Call]) -> Vec<State> {
    let disk = Arc::new(Mutex::new(Disk::default()));
    let journal = Journal::with_storage(Box::new(FaultyStorage::new(disk, Faults::default())));
    let mut states = vec![journal.state()];
    for c in calls {
        run(&journal, c);
        states.push(journal.state());
    }
    states
}

/// The property tests are bounded by count (cases) AND by time: once this process has spent
/// this long in them, the remaining cases pass without running.
fn out_of_time() -> bool {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed() > Duration::from_secs(30)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Truncating the file anywhere opens to exactly a prefix of the committed records.
    #[test]
    fn truncation_opens_to_a_prefix(calls in prop::collection::vec(call(), 0..40), cut in any::<prop::sample::Index>()) {
        if out_of_time() { return Ok(()); }
        let states = prefix_states(&calls);
        let disk = Arc::new(Mutex::new(Disk::default()));
        let journal = Journal::with_storage(Box::new(FaultyStorage::new(disk.clone(), Faults::default())));
        for c in &calls { run(&journal, c); }
        drop(journal);
        let bytes = written(&disk);
        let cut = cut.index(bytes.len() + 1);
        let reopened_disk = Arc::new(Mutex::new(Disk { durable: bytes[..cut].to_vec(), volatile: vec![] }));
        let reopened = Journal::with_storage(Box::new(FaultyStorage::new(reopened_disk, Faults::default())));
        prop_assert!(reopened.problem().is_none());
        let recovered = reopened.state();
        // Compaction may have folded several calls into one snapshot record: any prefix state.
        prop_assert!(states.contains(&recovered), "recovered state is not a prefix state");
        if cut == bytes.len() {
            prop_assert_eq!(&recovered, states.last().unwrap());
        }
    }

    /// Flipping bits anywhere never panics and opens to a prefix state; the journal keeps working.
    #[test]
    fn bit_flips_open_to_a_prefix(calls in prop::collection::vec(call(), 1..40), flips in prop::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..4)) {
        if out_of_time() { return Ok(()); }
        let states = prefix_states(&calls);
        let disk = Arc::new(Mutex::new(Disk::default()));
        let journal = Journal::with_storage(Box::new(FaultyStorage::new(disk.clone(), Faults::default())));
        for c in &calls { run(&journal, c); }
        drop(journal);
        let mut bytes = written(&disk);
        for (at, bit) in &flips {
            let i = at.index(bytes.len());
            bytes[i] ^= 1 << bit;
        }
        let decoded = record::decode(&bytes);
        prop_assert!(decoded.valid_len <= bytes.len());
        let reopened_disk = Arc::new(Mutex::new(Disk { durable: bytes, volatile: vec![] }));
        let reopened = Journal::with_storage(Box::new(FaultyStorage::new(reopened_disk.clone(), Faults::default())));
        prop_assert!(reopened.problem().is_none(), "a corrupted file still opens");
        prop_assert!(states.contains(&reopened.state()));
        reopened.track(99, "sub:after");
        prop_assert!(reopened.entry(99).is_some(), "and keeps working");
        let again = Journal::with_storage(Box::new(FaultyStorage::new(reopened_disk, Faults::default())));
        prop_assert!(again.entry(99).is_some(), "the repaired file holds new records");
    }

    /// Arbitrary bytes as a journal file: never a panic, always opens.
    #[test]
    fn fuzzed_files_open(mut bytes in prop::collection::vec(any::<u8>(), 0..512), with_magic in any::<bool>()) {
        if out_of_time() { return Ok(()); }
        if with_magic { bytes.splice(0..0, MAGIC.iter().copied()); }
        let disk = Arc::new(Mutex::new(Disk { durable: bytes, volatile: vec![] }));
        let journal = Journal::with_storage(Box::new(FaultyStorage::new(disk, Faults::default())));
        prop_assert!(journal.problem().is_none());
        prop_assert!(journal.state().entries.len() <= 512);
    }

    /// Short writes, fsync errors, a full disk and failed compactions, then power loss: the
    /// journal reports one problem and goes on in memory; what was durable before the fault is
    /// recovered (a prefix state at least as long as the last durable call); reopening works.
    #[test]
    fn faults_then_power_loss_keep_every_committed_record(
        calls in prop::collection::vec(call(), 1..60),
        kind in 0u8..4,
        at in 1u32..40,
        capacity in 8usize..2000,
        renamed in any::<bool>(),
        keep_volatile in any::<prop::sample::Index>(),
    ) {
        if out_of_time() { return Ok(()); }
        let faults = match kind {
            0 => Faults { short_write_at: Some(at), ..Faults::default() },
            1 => Faults { sync_error_at: Some(at), ..Faults::default() },
            2 => Faults { capacity: Some(capacity), ..Faults::default() },
            _ => Faults { replace_error_at: Some((1 + at % 4, renamed)), ..Faults::default() },
        };
        let states = prefix_states(&calls);
        let disk = Arc::new(Mutex::new(Disk::default()));
        // Compact after 128 bytes of growth: compactions (and their faults) happen mid-sequence.
        let journal = Journal::with_storage_compacting_after(Box::new(FaultyStorage::new(disk.clone(), faults)), 128);
        let mut committed = 0; // calls known durable (returned with the journal healthy)
        let mut failed = journal.problem().is_some();
        for (i, c) in calls.iter().enumerate() {
            let durable = run(&journal, c);
            if journal.problem().is_some() {
                failed = true;
            } else if durable && states[i + 1] != states[i] {
                // (A call that changed nothing wrote nothing, so it made nothing durable.)
                committed = i + 1;
            }
        }
        prop_assert_eq!(&journal.state(), states.last().unwrap(), "memory stays right after a fault");
        if failed {
            prop_assert!(journal.problem().unwrap().contains("journal"));
        }
        drop(journal);
        // Power loss: the durable bytes plus any prefix of the unsynced ones survive.
        let surviving = {
            let d = disk.lock().unwrap();
            let keep = keep_volatile.index(d.volatile.len() + 1);
            [d.durable.as_slice(), &d.volatile[..keep]].concat()
        };
        let reopened_disk = Arc::new(Mutex::new(Disk { durable: surviving, volatile: vec![] }));
        let reopened = Journal::with_storage(Box::new(FaultyStorage::new(reopened_disk, Faults::default())));
        prop_assert!(reopened.problem().is_none(), "the journal never fails to open");
        let recovered = reopened.state();
        let k = states.iter().rposition(|s| *s == recovered);
        prop_assert!(k.is_some(), "recovered state is a prefix state");
        // Several prefixes can share one state (a no-op call): the latest one must be late enough.
        prop_assert!(k.unwrap() >= committed, "lost a committed call: recovered prefix {:?} < {}", k, committed);
    }
}

#[test]
fn enospc_at_open_means_memory_only_with_a_clear_problem() {
    let _watchdog = watchdog::arm();
    let disk = Arc::new(Mutex::new(Disk::default()));
    let journal = Journal::with_storage(Box::new(FaultyStorage::new(
        disk,
        Faults {
            capacity: Some(0),
            ..Faults::default()
        },
    )));
    let problem = journal.problem().expect("reported");
    assert!(problem.contains("compact"), "{problem}");
    assert!(journal.track(1, "sub:a"));
    assert!(journal.entry(1).is_some(), "tracking still works in memory");
}

#[test]
fn the_encoding_is_stable() {
    let _watchdog = watchdog::arm();
    // A file written by this version must open in later ones: pin the bytes of one record.
    let bytes = record::encode(&Op::Ack { order: 7 });
    assert_eq!(&bytes[8..], br#"{"o":7,"t":"ack"}"#);
    assert_eq!(
        u32::from_le_bytes(bytes[4..8].try_into().unwrap()),
        record::crc32(&bytes[8..])
    );
}
