//! What a tracker reports: status changes, transport changes, token requests and one final event.

/// An order status as Xsolla reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Created, not paid.
    New,
    /// Paid, not yet delivered (not a success yet).
    Paid,
    /// Delivered: the only success.
    Done,
    /// Canceled or refunded.
    Canceled,
    /// An unpaid order that expired.
    Expired,
    /// A status this library does not know; reported raw, tracking continues.
    Other(String),
}

impl Status {
    /// Parses Xsolla's status string, ignoring letter case and surrounding blanks (`"DONE"` is
    /// done). An unknown status keeps its text, cut to `limits::MAX_STATUS_CHARS` characters.
    pub fn parse(raw: &str) -> Status {
        let trimmed = raw.trim();
        let known = [
            ("new", Status::New),
            ("paid", Status::Paid),
            ("done", Status::Done),
            ("canceled", Status::Canceled),
            ("cancelled", Status::Canceled),
            ("expired", Status::Expired),
        ];
        known
            .into_iter()
            .find(|(name, _)| trimmed.eq_ignore_ascii_case(name))
            .map(|(_, status)| status)
            .unwrap_or_else(|| {
                Status::Other(crate::limits::cut(trimmed, crate::limits::MAX_STATUS_CHARS))
            })
    }

    /// The status string as Xsolla sends it.
    pub fn as_str(&self) -> &str {
        match self {
            Status::New => "new",
            Status::Paid => "paid",
            Status::Done => "done",
            Status::Canceled => "canceled",
            Status::Expired => "expired",
            Status::Other(s) => s,
        }
    }

    /// The outcome this status ends tracking with, if it is final.
    pub fn final_outcome(&self) -> Option<Outcome> {
        match self {
            Status::Done => Some(Outcome::Done),
            Status::Canceled => Some(Outcome::Canceled),
            Status::Expired => Some(Outcome::Expired),
            _ => None,
        }
    }
}

/// How tracking ended (or, for a one-shot check, `None` when it succeeded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Not a final event.
    None,
    /// The order was delivered: grant the items.
    Done,
    /// The order was canceled or refunded.
    Canceled,
    /// The unpaid order expired.
    Expired,
    /// No final status arrived within the polling or overall deadline.
    TimedOut,
    /// Xsolla does not know this order (confirmed by a second request).
    NotFound,
    /// The token was refused and no new token came in time.
    Unauthorized,
    /// Tracking failed for another reason (see the error).
    Failed,
}

/// How status updates are reaching the tracker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportState {
    /// The push socket is connected (first connection of this tracker).
    SocketConnected,
    /// The socket is unavailable (or not configured): polling over HTTP.
    Polling,
    /// The socket is back after a period of polling; polling stopped.
    SocketRestored,
    /// The socket was re-opened on its periodic schedule without a gap.
    SocketReestablished,
}

/// A classified failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The connection failed or broke.
    Network,
    /// A request or handshake took too long.
    Timeout,
    /// An unexpected HTTP answer.
    Http,
    /// The token was refused.
    Unauthorized,
    /// The order does not exist.
    NotFound,
    /// The server sent something that does not follow the protocol.
    Protocol,
    /// A library task failed (a bug): the tracker ended with `Outcome::Failed` instead of hanging.
    Panic,
    /// An unexpected internal failure (for example a task that ended without its final event).
    Internal,
    /// The server asked us to slow down.
    RateLimited,
    /// The socket server refused our credentials; it will not be retried with this token.
    SocketRejected,
}

/// An error attached to an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorInfo {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// The HTTP status, or 0.
    pub http_status: u16,
    /// A human-readable description (never contains the token).
    pub message: String,
}

impl ErrorInfo {
    /// An error that no HTTP answer caused (`http_status` 0).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ErrorInfo {
        ErrorInfo {
            kind,
            http_status: 0,
            message: message.into(),
        }
    }
}

/// What an event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// The order's status changed; `status` holds it.
    StatusChanged,
    /// The transport changed; `transport` holds the new state and `error` the reason, if any.
    TransportChanged,
    /// The token was refused: call `update_token` within the token wait, or tracking ends as unauthorized.
    TokenExpired,
    /// The last event of a tracker; `outcome` says how it ended.
    Final,
    /// The answer to a one-shot check (also the last event of that request).
    CheckResult,
}

/// Where an event comes from (set on every event of a handle).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Origin {
    /// An order tracked in this process with `track` (or a one-shot check).
    #[default]
    Live,
    /// An order from the journal: tracked or done in an earlier run (or earlier in this one) and
    /// not acknowledged yet, resumed or redelivered by `resume_pending`.
    Redelivered,
    /// A purchase this device never tracked, restored from Xsolla's Events API.
    Restored,
}

/// One event for one tracker or check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The tracker or check handle.
    pub handle: u64,
    /// The order.
    pub order_id: i64,
    /// What happened.
    pub kind: EventKind,
    /// The latest known status, if any.
    pub status: Option<Status>,
    /// For `Final` and `CheckResult`; otherwise `Outcome::None`.
    pub outcome: Outcome,
    /// For `TransportChanged`.
    pub transport: Option<TransportState>,
    /// Why something failed, if it did.
    pub error: Option<ErrorInfo>,
    /// The order contents as JSON (on `Final` with `Done`, and on a successful `CheckResult`).
    pub contents: Option<String>,
    /// Where the event comes from.
    pub origin: Origin,
}

impl Event {
    /// Whether this is the last event its handle will get.
    pub fn is_last(&self) -> bool {
        matches!(self.kind, EventKind::Final | EventKind::CheckResult)
    }
}
