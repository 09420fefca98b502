//! The tracking engine: starts trackers and checks on a tokio runtime, and cancels them.
//!
//! Plain Rust: it runs on whatever runtime handle it is given (the library's own in production,
//! a test's paused-clock runtime in tests) and knows nothing of C.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::FutureExt;
use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio::task::AbortHandle;

use crate::api::ApiClient;
use crate::config::Config;
use crate::dispatch::{in_listener, Dispatcher, Listener};
use crate::events::Origin;
use crate::events::{ErrorInfo, ErrorKind, Event, EventKind, Outcome};
use crate::journal::delivery::Purchases;
use crate::net::Network;
use crate::secret::Token;
use crate::sync::lock;
use crate::tracker;
use crate::transport::centrifugo::CentrifugoHubs;
use crate::transport::SocketSettings;
use crate::{limits, supervise};

/// Handles are unique in the process, across shutdowns, so a stale one is never mistaken for a new one.
static NEXT_HANDLE: AtomicU64 = AtomicU64::new(1);

/// Why an engine call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// An argument is out of range or malformed; the text says which.
    InvalidArgument(String),
    /// No tracker or check has this handle (never existed, finished, or cancelled).
    UnknownHandle(u64),
    /// The call is not allowed from inside an event or log callback.
    InListener(&'static str),
    /// The library is not configured (or was shut down, which clears the configuration).
    NotConfigured,
    /// The engine was shut down.
    ShutDown,
    /// The call conflicts with live trackers; the text says what to do.
    Busy(String),
    /// Something failed inside the library.
    Internal(String),
    /// The journal does not know this order (never tracked with a journal, or already forgotten).
    UnknownOrder(i64),
    /// The order was acknowledged: it is never tracked or delivered again.
    AlreadyAcknowledged(i64),
    /// The journal cannot write to disk (the text says why): the call took effect in memory only.
    JournalUnavailable(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument(why) => write!(f, "invalid argument: {why}"),
            Error::UnknownHandle(h) => write!(f, "unknown handle {h}: it never existed, already delivered its final event, or was cancelled"),
            Error::InListener(what) => write!(f, "{what} cannot be called from inside an event or log callback"),
            Error::NotConfigured => write!(f, "the library is not configured: call xo_configure first (xo_shutdown clears the configuration)"),
            Error::ShutDown => write!(f, "the library was shut down; configure it again to track orders"),
            Error::Busy(why) => write!(f, "busy: {why}"),
            Error::Internal(why) => write!(f, "internal error: {why}"),
            Error::UnknownOrder(o) => write!(f, "order {o} is not in the journal: it was never tracked with a journal, or its final event was delivered and it was forgotten"),
            Error::AlreadyAcknowledged(o) => write!(f, "order {o} was already acknowledged: it is never tracked or delivered again"),
            Error::JournalUnavailable(why) => write!(f, "the journal is unavailable, purchases are kept in memory only: {why}"),
        }
    }
}

impl std::error::Error for Error {}

/// State shared by the engine and its trackers.
pub struct Shared {
    /// The configuration the engine was built with.
    pub config: Arc<Config>,
    /// The HTTP client.
    pub api: ApiClient,
    /// Shared Centrifugo connections.
    pub hubs: CentrifugoHubs,
    /// Socket settings.
    pub sockets: Arc<SocketSettings>,
    /// Event delivery.
    pub dispatcher: Dispatcher,
    /// The purchase journal, when configured.
    pub purchases: Option<Purchases>,
}

struct Task {
    abort: AbortHandle,
    token: Option<watch::Sender<Token>>,
}

/// What the host says about the app and the network, watched by every tracker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifecycle {
    /// False while the app is in the background: sockets closed, polling stopped, deadlines frozen.
    pub active: bool,
    /// Bumped each time the host says connectivity came back.
    pub network_epoch: u64,
}

/// Tracks orders; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    shared: Arc<Shared>,
    lifecycle: Arc<watch::Sender<Lifecycle>>,
    tasks: Arc<Mutex<HashMap<u64, Task>>>,
    runtime: Handle,
}

impl Engine {
    /// Builds an engine that spawns its work on `runtime`.
    pub fn new(config: Config, runtime: Handle) -> Result<Engine, Error> {
        config.validate().map_err(Error::InvalidArgument)?;
        let net = Arc::new(Network::new(&config).map_err(Error::InvalidArgument)?);
        let api = ApiClient::new(&config, &net).map_err(Error::Internal)?;
        let purchases = Purchases::open(&config, &net).map_err(Error::Internal)?;
        let sockets = Arc::new(SocketSettings {
            net,
            timing: config.timing,
            wake: tokio::sync::Notify::new(),
        });
        let hubs = CentrifugoHubs::new(
            config.centrifugo_url.clone(),
            config.project_id,
            sockets.clone(),
        );
        let dispatcher = Dispatcher::new(config.delivery);
        let shared = Arc::new(Shared {
            config: Arc::new(config),
            api,
            hubs,
            sockets,
            dispatcher,
            purchases,
        });
        let lifecycle = watch::Sender::new(Lifecycle {
            active: true,
            network_epoch: 0,
        });
        Ok(Engine {
            shared,
            lifecycle: Arc::new(lifecycle),
            tasks: Arc::default(),
            runtime,
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// Starts tracking `order_id`; `listener` gets every event of the returned handle, the last one final.
    /// With a journal, the order is recorded (durably) before this returns.
    pub fn track(&self, order_id: i64, token: Token, listener: Listener) -> Result<u64, Error> {
        self.track_as(order_id, token, listener, Origin::Live)
    }

    /// `track`, stamping `origin` on the events (journal hook).
    pub(crate) fn track_as(
        &self,
        order_id: i64,
        token: Token,
        listener: Listener,
        origin: Origin,
    ) -> Result<u64, Error> {
        check_order_id(order_id)?;
        let listener = match &self.shared.purchases {
            Some(p) => p.prepare_track(order_id, &token, origin, listener)?,
            None => listener,
        };
        let handle = self.register(listener)?;
        if let Some(p) = &self.shared.purchases {
            p.set_live(order_id, handle);
        }
        let (token_tx, token_rx) = watch::channel(token);
        let lifecycle = self.lifecycle.subscribe();
        let work = tracker::track(self.shared.clone(), handle, order_id, token_rx, lifecycle);
        self.spawn(handle, order_id, EventKind::Final, work, Some(token_tx));
        Ok(handle)
    }

    /// Asks once for the order's status and contents; `listener` gets exactly one `CheckResult`.
    pub fn check(&self, order_id: i64, token: Token, listener: Listener) -> Result<u64, Error> {
        check_order_id(order_id)?;
        let handle = self.register(listener)?;
        self.spawn(
            handle,
            order_id,
            EventKind::CheckResult,
            tracker::check(self.shared.clone(), handle, order_id, token),
            None,
        );
        Ok(handle)
    }

    /// Stops a tracker or check. Once this returns, its listener is never called again (unless this
    /// is called from inside that listener, whose current call then simply finishes).
    pub fn cancel(&self, handle: u64) -> Result<(), Error> {
        let task = lock(&self.tasks).remove(&handle);
        if let Some(task) = &task {
            task.abort.abort();
        }
        // A handle whose last event was delivered is finished even if its task is still winding down.
        if !self.shared.dispatcher.remove(handle) {
            return Err(Error::UnknownHandle(handle));
        }
        Ok(())
    }

    /// Replaces the token of a live tracker (after a `TokenExpired` event, or before it expires).
    pub fn update_token(&self, handle: u64, token: Token) -> Result<(), Error> {
        let tasks = lock(&self.tasks);
        match tasks.get(&handle).and_then(|t| t.token.as_ref()) {
            Some(tx) => {
                tx.send_replace(token);
                Ok(())
            }
            None => Err(Error::UnknownHandle(handle)),
        }
    }

    /// Mobile lifecycle: `false` when the app goes to the background (sockets close, polling
    /// stops, deadlines freeze, trackers are kept); `true` when it returns (every tracked order is
    /// requested at once, then sockets reconnect).
    pub fn set_app_active(&self, active: bool) {
        self.lifecycle
            .send_if_modified(|l| std::mem::replace(&mut l.active, active) != active);
    }

    /// Connectivity came back: every tracker requests its order now, and sockets waiting out a
    /// reconnect delay retry at once.
    pub fn network_changed(&self) {
        self.lifecycle.send_modify(|l| l.network_epoch += 1);
        self.shared.sockets.wake.notify_waiters();
    }

    /// Queued delivery: runs up to `max` pending listener calls on this thread.
    pub fn dispatch(&self, max: usize) -> Result<usize, Error> {
        if in_listener() {
            return Err(Error::InListener("dispatch"));
        }
        Ok(self.shared.dispatcher.dispatch(max))
    }

    /// How many events wait for `dispatch`.
    pub fn pending_events(&self) -> usize {
        self.shared.dispatcher.pending()
    }

    /// How many trackers and checks are running.
    pub fn active(&self) -> usize {
        lock(&self.tasks).len()
    }

    /// Whether `other` is a clone of this engine.
    pub fn is(&self, other: &Engine) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Whether anything is unfinished: running trackers or checks, or handles whose last event
    /// has not been delivered yet (queued delivery). A task is registered before it is spawned
    /// and leaves the task list before its handle is freed (`spawn`, `cancel`), so the handles
    /// say it all.
    pub fn has_work(&self) -> bool {
        self.shared.dispatcher.registered() > 0
    }

    /// How many shared Centrifugo connections are open or opening.
    pub fn centrifugo_connections(&self) -> usize {
        self.shared.hubs.connection_count()
    }

    /// Cancels everything; no listener runs once this returns. Further calls fail with `ShutDown`.
    pub fn shutdown(&self) -> Result<(), Error> {
        if in_listener() {
            return Err(Error::InListener("shutdown"));
        }
        self.shared.dispatcher.close();
        for (_, task) in lock(&self.tasks).drain() {
            task.abort.abort();
        }
        if let Some(p) = &self.shared.purchases {
            p.shutdown();
        }
        Ok(())
    }

    /// The runtime the engine spawns on (journal and restore glue).
    pub(crate) fn runtime(&self) -> &Handle {
        &self.runtime
    }

    /// The shared state (journal glue in `crate::journal::resume`).
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Registers a listener for a new handle.
    pub(crate) fn register(&self, listener: Listener) -> Result<u64, Error> {
        let handle = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
        self.shared
            .dispatcher
            .register(handle, listener)
            .map_err(|_| Error::ShutDown)?;
        Ok(handle)
    }

    /// Runs a tracker or check under supervision: its last event is delivered when it returns
    /// one; if it panics, a `last_kind` event with `Outcome::Failed` and `ErrorKind::Panic` takes
    /// its place. Either way the handle is freed: no task ends without its last event. With a
    /// journal, a last `DONE` is durable before it can be delivered.
    pub(crate) fn spawn(
        &self,
        handle: u64,
        order_id: i64,
        last_kind: EventKind,
        work: impl std::future::Future<Output = Option<Event>> + Send + 'static,
        token: Option<watch::Sender<Token>>,
    ) {
        let tasks = self.tasks.clone();
        let shared = self.shared.clone();
        let mut live = lock(&self.tasks);
        // `map`, not `async move { work.await; .. }`: the latter stores the future twice (~1.7 KiB
        // more per tracker, measured by the scale benchmark).
        let label = match last_kind {
            EventKind::CheckResult => "check",
            _ => "tracker",
        };
        let joined = self
            .runtime
            .spawn(supervise::catch(label, work).map(move |ended| {
                lock(&tasks).remove(&handle);
                let last = match ended {
                    Ok(last) => last,
                    Err(panic) => Some(failed_event(handle, order_id, last_kind, &panic)),
                };
                if let Some(last) = last {
                    if let Some(purchases) = &shared.purchases {
                        purchases.before_final(&last); // a DONE is durable before delivery
                    }
                    shared.dispatcher.emit(last);
                }
            }));
        live.insert(
            handle,
            Task {
                abort: joined.abort_handle(),
                token,
            },
        );
    }
}

/// The last event that replaces a task's lost one when the task panicked.
fn failed_event(handle: u64, order_id: i64, kind: EventKind, panic: &str) -> Event {
    let message = format!(
        "internal error: the library's task for this order failed ({panic}); tracking stopped"
    );
    Event {
        handle,
        order_id,
        kind,
        status: None,
        outcome: Outcome::Failed,
        transport: None,
        origin: Origin::Live,
        error: Some(ErrorInfo::new(
            ErrorKind::Panic,
            limits::cut(&message, limits::MAX_QUOTED_CHARS),
        )),
        contents: None,
    }
}

fn check_order_id(order_id: i64) -> Result<(), Error> {
    if order_id <= 0 {
        return Err(Error::InvalidArgument(format!(
            "order_id must be positive, got {order_id}"
        )));
    }
    Ok(())
}
