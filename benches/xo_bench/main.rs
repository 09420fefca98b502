//! xo-tracker benchmarks (`harness = false`): push-to-callback latency against a bare
//! tokio-tungstenite baseline, scale (memory and CPU per tracked order, polling rate), idle cost,
//! start-up and shutdown. Run through `scripts/bench.sh [--quick]`; see BENCHMARKS.md.
//!
//! `xo_bench [--quick|--full] [--only NAME,...]` (quick unless `--full` or cargo bench's
//! `--bench` is given) runs each benchmark in a child process of its
//! own (so memory and threads of one do not pollute the next, and a crash fails only that one),
//! collects the rows they print and prints one Markdown table. The simulator runs in yet another
//! child process (`--role sim`) except for the latency benchmark, which needs it in-process to
//! time pushes without inter-process hops. No benchmark asserts a time: goals are reported.

mod fleet;
mod host;
mod idle;
mod journal;
mod latency;
mod lifecycle;
mod measure;
mod scale;
mod sim_proc;
mod sizes;

use std::io::{BufRead, BufReader};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOC: measure::CountingAlloc = measure::CountingAlloc;

/// Quick mode keeps the benchmarks working (small counts, short windows); full mode measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Quick,
    Full,
}

impl Mode {
    pub fn quick(self) -> bool {
        self == Mode::Quick
    }

    fn name(self) -> &'static str {
        match self {
            Mode::Quick => "quick",
            Mode::Full => "full",
        }
    }
}

/// Every benchmark, in run order.
const BENCHES: &[&str] = &[
    "latency",
    "scale-centrifugo",
    "scale-centrifugo-batched",
    "scale-legacy",
    "scale-polling",
    "idle",
    "startup",
    "shutdown",
    "journal",
    "fleet",
];

/// How a goal fared.
#[derive(Clone, Copy)]
pub enum Verdict {
    Met,
    Missed,
    Info,
}

impl Verdict {
    pub fn of(met: bool) -> Verdict {
        if met {
            Verdict::Met
        } else {
            Verdict::Missed
        }
    }

    fn text(self) -> &'static str {
        match self {
            Verdict::Met => "met",
            Verdict::Missed => "MISSED",
            Verdict::Info => "",
        }
    }
}

/// Prints one result row for the parent to collect.
pub fn row(bench: &str, metric: &str, value: &str, goal: &str, verdict: Verdict) {
    println!(
        "ROW\t{bench}\t{metric}\t{value}\t{goal}\t{}",
        verdict.text()
    );
}

/// Prints a note line (shown under the table).
pub fn note(bench: &str, text: &str) {
    println!("NOTE\t{bench}\t{text}");
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Full under `cargo bench` (which passes `--bench`) or with `--full`; quick otherwise, so
    // that `cargo test --benches` stays short.
    let full = args.iter().any(|a| a == "--full" || a == "--bench");
    let mode = if full && !args.iter().any(|a| a == "--quick") {
        Mode::Full
    } else {
        Mode::Quick
    };
    if let Some(role) = value_of(&args, "--role") {
        return match role.as_str() {
            "sim" => sim_proc::child_main(&args),
            "startup" => lifecycle::startup_child(&args),
            other => {
                eprintln!("unknown role {other}");
                ExitCode::from(2)
            }
        };
    }
    if let Some(name) = value_of(&args, "--run") {
        return match run_one(&name, mode) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{name}: FAILED: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let only: Option<Vec<String>> =
        value_of(&args, "--only").map(|v| v.split(',').map(str::to_owned).collect());
    let selected: Vec<&str> = BENCHES
        .iter()
        .copied()
        .filter(|b| only.as_ref().is_none_or(|o| o.iter().any(|x| x == b)))
        .collect();
    run_all(&selected, mode)
}

fn value_of(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn run_one(name: &str, mode: Mode) -> Result<(), String> {
    match name {
        "latency" => latency::run(mode),
        "scale-centrifugo" => scale::run(mode, host::TRANSPORT_CENTRIFUGO, None),
        "scale-centrifugo-batched" => scale::run(mode, host::TRANSPORT_CENTRIFUGO, Some(100)),
        "scale-legacy" => scale::run(mode, host::TRANSPORT_LEGACY, None),
        "scale-polling" => scale::run(mode, host::TRANSPORT_POLLING, None),
        "idle" => idle::run(mode),
        "startup" => lifecycle::startup(mode),
        "shutdown" => lifecycle::shutdown(mode),
        "journal" => journal::run(mode),
        "fleet" => fleet::run(mode),
        other => Err(format!("unknown benchmark {other}")),
    }
}

struct Row {
    bench: String,
    metric: String,
    value: String,
    goal: String,
    verdict: String,
}

fn run_all(selected: &[&str], mode: Mode) -> ExitCode {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("cannot find this executable: {e}");
            return ExitCode::FAILURE;
        }
    };
    let limit = if mode.quick() {
        Duration::from_secs(60)
    } else {
        Duration::from_secs(900)
    };
    let mut rows: Vec<Row> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let (mut passed, mut failed) = (0, 0);
    println!("xo_bench: {} mode", mode.name());
    for name in selected {
        let started = Instant::now();
        let child = Command::new(&exe)
            .args(["--run", name, &format!("--{}", mode.name())])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{name}: cannot start: {e}");
                failed += 1;
                continue;
            }
        };
        let id = child.id();
        // The watchdog kills a benchmark that hangs; it is told to stand down when it ends.
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let watchdog = std::thread::spawn(move || {
            if done_rx.recv_timeout(limit).is_err() {
                // SAFETY: kill(2) on the pid of our own child.
                unsafe {
                    libc::kill(id as i32, libc::SIGKILL);
                }
                true
            } else {
                false
            }
        });
        let mut own_rows = 0;
        if let Some(stdout) = child.stdout.take() {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let fields: Vec<&str> = line.split('\t').collect();
                match fields.as_slice() {
                    ["ROW", bench, metric, value, goal, verdict] => {
                        own_rows += 1;
                        println!("  {metric}: {value}");
                        rows.push(Row {
                            bench: bench.to_string(),
                            metric: metric.to_string(),
                            value: value.to_string(),
                            goal: goal.to_string(),
                            verdict: verdict.to_string(),
                        });
                    }
                    ["NOTE", bench, text] => {
                        println!("  note: {text}");
                        notes.push(format!("{bench}: {text}"));
                    }
                    _ => println!("  {line}"),
                }
            }
        }
        let status = child.wait();
        let _ = done_tx.send(());
        let killed = watchdog.join().unwrap_or(false);
        let ok = matches!(&status, Ok(s) if s.success()) && own_rows > 0 && !killed;
        let elapsed = started.elapsed().as_secs_f64();
        if ok {
            passed += 1;
            println!("bench {name}: ok ({elapsed:.1} s)");
        } else {
            failed += 1;
            let why = if killed {
                format!("killed after {limit:?}")
            } else {
                format!("{status:?}, {own_rows} rows")
            };
            println!("bench {name}: FAILED ({why}, {elapsed:.1} s)");
        }
    }
    println!();
    println!("| benchmark | metric | result | goal | |");
    println!("|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} |",
            r.bench, r.metric, r.value, r.goal, r.verdict
        );
    }
    if !notes.is_empty() {
        println!();
        for n in &notes {
            println!("- {n}");
        }
    }
    println!();
    println!("xo_bench: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
