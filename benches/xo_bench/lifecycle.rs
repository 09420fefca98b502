//! Start-up and shutdown.
//!
//! Start-up: each sample is a fresh process (`--role startup`) that loads the library (with
//! `dlopen` when `XO_BENCH_CDYLIB` names the built `libxo_tracker.so`, as a game engine does;
//! otherwise the statically linked copy), then times `xo_configure`, the first
//! `xo_track_order` (which creates the runtime, the TLS configuration and the HTTP client), a
//! second one, the first event, and `xo_shutdown`.
//!
//! Shutdown: `xo_shutdown` with N live trackers that have all connected (Centrifugo: one shared
//! connection; legacy: N sockets).

use std::ffi::{c_char, c_void, CString};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use xo_tracker::ffi::{self, xo_config, xo_event_callback};

use crate::host::{self, on_event, Host, Setup, TOKEN, TRANSPORT_CENTRIFUGO, TRANSPORT_LEGACY};
use crate::measure::{fmt_ns, summarize, wait_for};
use crate::sim_proc::{SimOptions, SimProc};
use crate::{note, row, Mode, Verdict};

type ConfigureFn = unsafe extern "C" fn(*const xo_config) -> i32;
type TrackFn = unsafe extern "C" fn(i64, *const c_char, xo_event_callback, *mut c_void) -> i64;
type ShutdownFn = extern "C" fn() -> i32;

/// The entry points a host uses, from the shared library or from the static copy.
struct Api {
    configure: ConfigureFn,
    track: TrackFn,
    shutdown: ShutdownFn,
}

unsafe extern "C" fn static_configure(config: *const xo_config) -> i32 {
    // SAFETY: forwarded unchanged.
    unsafe { ffi::xo_configure(config) as i32 }
}

unsafe extern "C" fn static_track(
    order_id: i64,
    token: *const c_char,
    callback: xo_event_callback,
    userdata: *mut c_void,
) -> i64 {
    // SAFETY: forwarded unchanged.
    unsafe { ffi::xo_track_order(order_id, token, callback, userdata) }
}

extern "C" fn static_shutdown() -> i32 {
    ffi::xo_shutdown() as i32
}

/// Loads `path` with dlopen and looks up the three entry points.
fn load(path: &str) -> Result<Api, String> {
    let c_path = CString::new(path).map_err(|e| e.to_string())?;
    // SAFETY: dlopen/dlsym with NUL-terminated names; the library stays loaded (never closed).
    unsafe {
        let lib = libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
        if lib.is_null() {
            return Err(format!("dlopen {path} failed"));
        }
        let symbol = |name: &str| -> Result<*mut c_void, String> {
            let c_name = CString::new(name).map_err(|e| e.to_string())?;
            let p = libc::dlsym(lib, c_name.as_ptr());
            if p.is_null() {
                Err(format!("{name} not found in {path}"))
            } else {
                Ok(p)
            }
        };
        Ok(Api {
            configure: std::mem::transmute::<*mut c_void, ConfigureFn>(symbol("xo_configure")?),
            track: std::mem::transmute::<*mut c_void, TrackFn>(symbol("xo_track_order")?),
            shutdown: std::mem::transmute::<*mut c_void, ShutdownFn>(symbol("xo_shutdown")?),
        })
    }
}

/// `--role startup --sim ADDR [--cdylib PATH]`: one fresh-process sample, printed as
/// `STARTUP load configure first second first_event shutdown` (nanoseconds).
pub fn startup_child(args: &[String]) -> ExitCode {
    match startup_sample(args) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("startup sample: {e}");
            ExitCode::FAILURE
        }
    }
}

fn startup_sample(args: &[String]) -> Result<String, String> {
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let addr = value("--sim").ok_or("--sim ADDR is required")?;
    let t = Instant::now();
    let api = match value("--cdylib") {
        Some(path) => load(&path)?,
        None => Api {
            configure: static_configure,
            track: static_track,
            shutdown: static_shutdown,
        },
    };
    let load_ns = t.elapsed().as_nanos();

    let t = Instant::now();
    // SAFETY: the config and its strings live during the call.
    let configured = host::with_config(&Setup::new(&addr), |c| unsafe { (api.configure)(c) })?;
    let configure_ns = t.elapsed().as_nanos();
    if configured != 0 {
        return Err(format!("xo_configure returned {configured}"));
    }
    let host = Host::leak(false);
    let token = CString::new(TOKEN).map_err(|e| e.to_string())?;
    let userdata = host as *const Host as *mut c_void;
    let t = Instant::now();
    // SAFETY: a NUL-terminated token, a thread-safe callback and a leaked userdata.
    let first = unsafe { (api.track)(1, token.as_ptr(), Some(on_event), userdata) };
    let first_ns = t.elapsed().as_nanos();
    let t2 = Instant::now();
    // SAFETY: as above.
    let second = unsafe { (api.track)(2, token.as_ptr(), Some(on_event), userdata) };
    let second_ns = t2.elapsed().as_nanos();
    if first <= 0 || second <= 0 {
        return Err(format!("xo_track_order returned {first}, {second}"));
    }
    if !wait_for(Duration::from_secs(10), Duration::from_micros(100), || {
        Host::get(&host.connected) + host.statuses() > 0
    }) {
        return Err("no event within 10 s".into());
    }
    let event_ns = t.elapsed().as_nanos();
    let t = Instant::now();
    let stopped = (api.shutdown)();
    let shutdown_ns = t.elapsed().as_nanos();
    if stopped != 0 {
        return Err(format!("xo_shutdown returned {stopped}"));
    }
    Ok(format!(
        "STARTUP {load_ns} {configure_ns} {first_ns} {second_ns} {event_ns} {shutdown_ns}"
    ))
}

pub fn startup(mode: Mode) -> Result<(), String> {
    const BENCH: &str = "startup";
    let samples = if mode.quick() { 3 } else { 30 };
    let sim = SimProc::start(&SimOptions {
        orders: 2,
        ping_secs: 25,
        proxy: false,
    })?;
    let cdylib = std::env::var("XO_BENCH_CDYLIB")
        .ok()
        .filter(|p| std::path::Path::new(p).is_file());
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut columns: Vec<Vec<u64>> = vec![Vec::new(); 6];
    for _ in 0..samples {
        let mut command = Command::new(&exe);
        command
            .args(["--role", "startup", "--sim", &sim.addr])
            .stdin(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some(path) = &cdylib {
            command.args(["--cdylib", path]);
        }
        let output = command.output().map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&output.stdout);
        let line = text
            .lines()
            .find(|l| l.starts_with("STARTUP "))
            .ok_or_else(|| format!("a startup sample failed: {:?}", output.status))?;
        for (column, value) in columns.iter_mut().zip(line.split_whitespace().skip(1)) {
            column.push(value.parse().map_err(|_| format!("bad sample {line}"))?);
        }
    }
    let stats: Vec<_> = columns.iter_mut().map(|c| summarize(c)).collect();
    let how = if cdylib.is_some() {
        "the built cdylib, loaded with dlopen"
    } else {
        "the statically linked library"
    };
    let p50_max = |i: usize| format!("{} (max {})", fmt_ns(stats[i].p50), fmt_ns(stats[i].max));
    row(
        BENCH,
        &format!("first xo_track_order in a fresh process (creates the runtime), p50 of {samples}"),
        &p50_max(2),
        "< 5 ms",
        Verdict::of(stats[2].p50 < 5_000_000),
    );
    row(
        BENCH,
        "load (dlopen) / xo_configure / second xo_track_order, p50",
        &format!(
            "{} / {} / {}",
            if cdylib.is_some() {
                fmt_ns(stats[0].p50)
            } else {
                "(static)".to_owned()
            },
            fmt_ns(stats[1].p50),
            fmt_ns(stats[3].p50)
        ),
        "",
        Verdict::Info,
    );
    row(
        BENCH,
        "first event (socket connected or status) after the first xo_track_order, p50",
        &fmt_ns(stats[4].p50),
        "",
        Verdict::Info,
    );
    note(
        BENCH,
        &format!(
            "library: {how}; xo_shutdown with 2 trackers p50 {}",
            fmt_ns(stats[5].p50)
        ),
    );
    Ok(())
}

pub fn shutdown(mode: Mode) -> Result<(), String> {
    const BENCH: &str = "shutdown";
    let (n, reps) = if mode.quick() { (100, 1) } else { (1_000, 5) };
    let sim = SimProc::start(&SimOptions {
        orders: n,
        ping_secs: 25,
        proxy: false,
    })?;
    for (transport, kind) in [
        (TRANSPORT_CENTRIFUGO, "Centrifugo, one shared connection"),
        (TRANSPORT_LEGACY, "legacy, one socket each"),
    ] {
        let mut samples = Vec::new();
        for _ in 0..reps {
            let mut setup = Setup::new(&sim.addr);
            setup.transport = transport;
            host::configure(&setup)?;
            let host = Host::leak(false);
            for id in 1..=n {
                host.track(id)?;
            }
            let count = n as u64;
            if !wait_for(Duration::from_secs(60), Duration::from_millis(5), || {
                Host::get(&host.connected) >= count && host.statuses() >= count
            }) {
                return Err(format!("{kind}: the trackers did not settle"));
            }
            std::thread::sleep(Duration::from_millis(300));
            let t = Instant::now();
            host::shutdown()?;
            samples.push(t.elapsed().as_nanos() as u64);
            std::thread::sleep(Duration::from_millis(300));
        }
        let s = summarize(&mut samples);
        row(
            BENCH,
            &format!("xo_shutdown with {n} live trackers ({kind}), p50 of {reps}"),
            &format!("{} (max {})", fmt_ns(s.p50), fmt_ns(s.max)),
            "< 100 ms",
            Verdict::of(s.max < 100_000_000),
        );
    }
    Ok(())
}
