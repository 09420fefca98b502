//! Runs a world with panics caught, and shrinks a failing world to a minimal one.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;
use std::time::{Duration, Instant};

use xo_tracker::time::Time;
use xo_tracker::Timing;

use super::run::{Report, Sim, Violation};
use super::world::World;

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Panics inside a simulated run are findings, not noise: keep them off stderr while searching.
fn install_quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                default(info);
            }
        }));
    });
}

/// Runs `world`; a panic is the "no panic" violation.
pub fn check(world: &World) -> Result<Report, Violation> {
    install_quiet_hook();
    QUIET.with(|q| q.set(true));
    let result = catch_unwind(AssertUnwindSafe(|| Sim::new(world, false).run()));
    QUIET.with(|q| q.set(false));
    result.unwrap_or_else(|panic| {
        let text = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default();
        Err(Violation {
            invariant: "no panic",
            detail: text,
            at: Time::ZERO,
        })
    })
}

/// The trace of a run of `world` (inputs and actions with their times).
pub fn trace(world: &World) -> (Vec<String>, Option<Violation>) {
    install_quiet_hook();
    QUIET.with(|q| q.set(true));
    let mut sim = Sim::new(world, true);
    let result = catch_unwind(AssertUnwindSafe(|| sim.run()));
    QUIET.with(|q| q.set(false));
    let violation = match result {
        Ok(Ok(_)) => None,
        Ok(Err(v)) => Some(v),
        Err(_) => Some(Violation {
            invariant: "no panic",
            detail: String::new(),
            at: Time::ZERO,
        }),
    };
    (sim.trace().to_vec(), violation)
}

/// A smaller world that breaks the same invariant (delta debugging over the items, then simpler
/// settings and shorter timelines), within a bounded number of runs and time.
pub fn shrink(world: &World, invariant: &str) -> World {
    let started = Instant::now();
    let mut runs = 0u32;
    let mut fails = |w: &World| {
        runs += 1;
        runs <= 5000
            && started.elapsed() < Duration::from_secs(60)
            && check(w).is_err_and(|v| v.invariant == invariant)
    };
    let mut best = world.clone();
    // ddmin over the items.
    let mut n = 2usize;
    while !best.items.is_empty() {
        let len = best.items.len();
        let chunk = len.div_ceil(n);
        let mut reduced = false;
        let mut start = 0;
        while start < best.items.len() {
            let mut candidate = best.clone();
            let end = (start + chunk).min(candidate.items.len());
            candidate.items.drain(start..end);
            if fails(&candidate) {
                best = candidate;
                reduced = true;
            } else {
                start += chunk;
            }
        }
        if reduced {
            n = n.saturating_sub(1).max(2);
        } else if chunk == 1 {
            break;
        } else {
            n = (n * 2).min(len);
        }
    }
    // Simpler settings, one at a time.
    let simplifications: [fn(&mut World); 6] = [
        |w| w.shared_hub = false,
        |w| w.base_latency = 0,
        |w| w.push_latency = 0,
        |w| w.tokens.truncate(1),
        |w| w.known_after = Some(0),
        |w| w.timing = Timing::default(),
    ];
    for simplify in simplifications {
        let mut candidate = best.clone();
        simplify(&mut candidate);
        if candidate != best && fails(&candidate) {
            best = candidate;
        }
    }
    // Shorter timelines.
    for _ in 0..12 {
        let mut candidate = best.clone();
        candidate.items = candidate.items.iter().map(|i| i.scaled(1, 2)).collect();
        candidate.horizon = candidate.horizon.max(1);
        if candidate == best || !fails(&candidate) {
            break;
        }
        best = candidate;
    }
    best
}
