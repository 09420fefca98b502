//! The library's process-wide state: the configuration, and a lazily created tokio runtime with
//! its engine. It can be shut down and configured again (the Unity Editor keeps native libraries
//! loaded across play sessions).

use std::sync::{Mutex, MutexGuard, RwLock};
use std::time::Duration;

use tokio::runtime::Runtime;

use crate::config::Config;
use crate::dispatch::in_listener;
use crate::engine::{Engine, Error};
use crate::sync::lock;

/// How long shutdown waits for the runtime's threads.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

struct Running {
    runtime: Runtime,
    engine: Engine,
}

struct Library {
    config: Option<Config>,
    running: Option<Running>,
    /// Engines that a shutdown or configure in progress is stopping: cancels still reach them (and
    /// wait for their callbacks), and a concurrent shutdown waits for them, until they are stopped.
    stopping: Vec<Engine>,
    /// What the host last said about the app; a new engine starts in this state.
    app_active: bool,
}

static LIBRARY: Mutex<Library> = Mutex::new(Library {
    config: None,
    running: None,
    stopping: Vec::new(),
    app_active: true,
});

/// Held shared while a tracker or check is being started, exclusively while the configuration or
/// the running engine is swapped: a start never lands on an engine that is being stopped.
static STARTS: RwLock<()> = RwLock::new(());

fn library() -> MutexGuard<'static, Library> {
    lock(&LIBRARY)
}

/// Sets the configuration for the trackers started from now on. Fails with `Busy` while an
/// earlier configuration still has work (running trackers, or events waiting for dispatch), and
/// with `InListener` inside a callback; either way nothing changes.
pub fn configure(config: Config) -> Result<(), Error> {
    if in_listener() {
        return Err(Error::InListener("configure"));
    }
    config.validate().map_err(Error::InvalidArgument)?;
    let idle = {
        let _swap = STARTS.write().unwrap_or_else(|e| e.into_inner());
        let mut lib = library();
        if lib.running.as_ref().is_some_and(|r| r.engine.has_work()) {
            return Err(Error::Busy(
                "trackers are running or have undispatched events: cancel them or call shutdown before configuring again"
                    .into(),
            ));
        }
        lib.config = Some(config);
        lib.take_running()
    };
    match idle {
        Some(old) => stop(old),
        None => Ok(()),
    }
}

/// Runs `start` with the engine (starting the runtime on first use); configure and shutdown wait
/// until it returns, so what it starts belongs to an engine that stays up.
pub fn start_with<R>(start: impl FnOnce(&Engine) -> Result<R, Error>) -> Result<R, Error> {
    let _start = STARTS.read().unwrap_or_else(|e| e.into_inner());
    start(&engine()?)
}

/// The engine, starting the runtime on first use.
fn engine() -> Result<Engine, Error> {
    let mut lib = library();
    if let Some(running) = &lib.running {
        return Ok(running.engine.clone());
    }
    let config = lib.config.clone().ok_or(Error::NotConfigured)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.worker_threads)
        .max_blocking_threads(2)
        .thread_name("xo-worker")
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the runtime: {e}")))?;
    let engine = Engine::new(config, runtime.handle().clone())?;
    engine.set_app_active(lib.app_active);
    lib.running = Some(Running {
        runtime,
        engine: engine.clone(),
    });
    Ok(engine)
}

/// Mobile lifecycle: pauses (`false`) or resumes (`true`) every tracker, now and for engines
/// started later.
pub fn set_app_active(active: bool) {
    let mut lib = library();
    lib.app_active = active;
    if let Some(running) = &lib.running {
        running.engine.set_app_active(active);
    }
}

/// The host says connectivity came back: check and reconnect now.
pub fn network_changed() {
    if let Some(running) = &library().running {
        running.engine.network_changed();
    }
}

/// The engine that owns existing handles: the running one, or the one a shutdown in progress is
/// stopping. Never starts a runtime.
pub fn engine_for_handles() -> Option<Engine> {
    let lib = library();
    lib.running
        .as_ref()
        .map(|r| r.engine.clone())
        .or_else(|| lib.stopping.last().cloned())
}

/// Cancels every tracker, stops the runtime and waits (bounded) for its threads; clears the
/// configuration, the app state (back to active) and the log sink, so that nothing of the host's
/// survives into the next session. Idempotent.
pub fn shutdown() -> Result<(), Error> {
    if in_listener() {
        return Err(Error::InListener("shutdown"));
    }
    let running = {
        let _swap = STARTS.write().unwrap_or_else(|e| e.into_inner());
        let mut lib = library();
        lib.config = None;
        lib.app_active = true;
        lib.take_running()
    };
    let stopped = match running {
        Some(running) => stop(running),
        None => Ok(()),
    };
    // Another thread may still be stopping an engine: no callback may run once this returns.
    let others: Vec<Engine> = library().stopping.clone();
    for engine in others {
        engine.shutdown()?;
    }
    crate::log::set_sink(None, crate::log::Level::Error);
    stopped
}

impl Library {
    /// Takes the running engine out to stop it, listing it in `stopping` until `stop` is done.
    fn take_running(&mut self) -> Option<Running> {
        let running = self.running.take()?;
        self.stopping.push(running.engine.clone());
        Some(running)
    }
}

/// Stops an engine taken with `take_running`, and its runtime.
fn stop(running: Running) -> Result<(), Error> {
    let engine = running.engine.clone();
    let stopped = stop_runtime(running);
    library().stopping.retain(|e| !e.is(&engine));
    stopped
}

fn stop_runtime(running: Running) -> Result<(), Error> {
    running.engine.shutdown()?;
    let runtime = running.runtime;
    // A runtime must not be dropped inside another runtime's context (the host may be async too):
    // shut it down from a fresh thread and wait for that.
    match std::thread::Builder::new()
        .name("xo-shutdown".into())
        .spawn(move || runtime.shutdown_timeout(SHUTDOWN_TIMEOUT))
    {
        Ok(thread) => thread
            .join()
            .map_err(|_| Error::Internal("runtime shutdown panicked".into())),
        Err(e) => Err(Error::Internal(format!(
            "cannot start the shutdown thread: {e}"
        ))),
    }
}
