//! Fault injection: the [`Faults`] handle and the state it edits.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use crate::state::{ConnCommand, Shared};

/// An error reply for a Centrifugo connect command (`centrifugo_reject_connect`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ConnectRejection {
    pub code: u32,
    pub message: String,
    pub temporary: bool,
}

/// What happens to one Get-order request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum HttpFault {
    /// Answer this status with Xsolla's error body.
    Error(u16),
    /// Answer 429 with this `Retry-After` (seconds).
    RateLimit(u64),
    /// Answer normally after this (tokio) delay.
    Delay(Duration),
    /// Close the TCP connection without answering.
    Drop,
}

/// Pending faults. Counters are "the next n"; setting one replaces the previous value.
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    pub centrifugo_refuse: u32,
    pub centrifugo_garbage: u32,
    pub centrifugo_reject: Option<(u32, ConnectRejection)>,
    pub centrifugo_silent: bool,
    pub centrifugo_batch: bool,
    pub legacy_refuse: u32,
    pub legacy_silent: bool,
    /// Per order: a FIFO of (fault, remaining count).
    pub http: HashMap<i64, VecDeque<(HttpFault, u32)>>,
}

/// How to answer the next Centrifugo upgrade request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum HandshakeFault {
    Refuse,
    Garbage,
}

impl FaultState {
    /// Consumes one Centrifugo handshake fault, if any (refusals first).
    pub(crate) fn take_centrifugo_handshake(&mut self) -> Option<HandshakeFault> {
        if take_one(&mut self.centrifugo_refuse) {
            Some(HandshakeFault::Refuse)
        } else if take_one(&mut self.centrifugo_garbage) {
            Some(HandshakeFault::Garbage)
        } else {
            None
        }
    }

    /// Consumes one legacy refusal, if any.
    pub(crate) fn take_legacy_refuse(&mut self) -> bool {
        take_one(&mut self.legacy_refuse)
    }

    /// Consumes one connect rejection, if any.
    pub(crate) fn take_connect_rejection(&mut self) -> Option<ConnectRejection> {
        let (remaining, rejection) = self.centrifugo_reject.as_mut()?;
        let rejection = rejection.clone();
        *remaining -= 1;
        if *remaining == 0 {
            self.centrifugo_reject = None;
        }
        Some(rejection)
    }

    /// Consumes the next queued HTTP fault of this order, if any.
    pub(crate) fn take_http(&mut self, order_id: i64) -> Option<HttpFault> {
        let queue = self.http.get_mut(&order_id)?;
        let (fault, remaining) = queue.front_mut()?;
        let fault = *fault;
        *remaining -= 1;
        if *remaining == 0 {
            queue.pop_front();
        }
        if queue.is_empty() {
            self.http.remove(&order_id);
        }
        Some(fault)
    }

    fn queue_http(&mut self, order_id: i64, n: u32, fault: HttpFault) {
        if n > 0 {
            self.http.entry(order_id).or_default().push_back((fault, n));
        }
    }
}

fn take_one(counter: &mut u32) -> bool {
    if *counter > 0 {
        *counter -= 1;
        true
    } else {
        false
    }
}

/// Fault-injection handle returned by [`Sim::faults`](crate::Sim::faults).
///
/// Every setter takes effect at once. "The next n" counters replace any previous value of the
/// same setter (0 cancels); HTTP faults queue per order in call order; the `*_all` and
/// `*_send_raw` actions apply to the connections open at the time of the call.
#[derive(Clone, Debug)]
pub struct Faults {
    shared: Arc<Shared>,
}

impl Faults {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Faults { shared }
    }

    fn edit(&self, f: impl FnOnce(&mut FaultState)) {
        f(&mut self.shared.lock().faults);
    }

    fn centrifugo_broadcast(&self, cmd: ConnCommand) {
        let state = self.shared.lock();
        for conn in state.centrifugo.values() {
            let _ = conn.tx.send(cmd.clone());
        }
    }

    fn legacy_broadcast(&self, cmd: ConnCommand) {
        let state = self.shared.lock();
        for conn in state.legacy.values() {
            let _ = conn.tx.send(cmd.clone());
        }
    }

    /// The next `n` Centrifugo upgrade requests get `HTTP/1.1 503` and the TCP connection is closed.
    pub fn centrifugo_refuse(&self, n: u32) {
        self.edit(|f| f.centrifugo_refuse = n);
    }

    /// The next `n` Centrifugo upgrade requests get non-HTTP garbage bytes, then the connection
    /// is closed (a handshake failure, as a TLS failure would be).
    pub fn centrifugo_garbage_handshake(&self, n: u32) {
        self.edit(|f| f.centrifugo_garbage = n);
    }

    /// The next `n` connect commands get the error reply
    /// `{"id":<id>,"error":{"code":code,"message":message,"temporary":temporary}}`,
    /// then the socket is closed with code 3500.
    pub fn centrifugo_reject_connect(
        &self,
        n: u32,
        code: u32,
        message: impl Into<String>,
        temporary: bool,
    ) {
        let rejection = ConnectRejection {
            code,
            message: message.into(),
            temporary,
        };
        self.edit(|f| f.centrifugo_reject = (n > 0).then_some((n, rejection)));
    }

    /// Sends a close frame with `code` and `reason` on every live Centrifugo connection.
    pub fn centrifugo_close_all(&self, code: u16, reason: impl Into<String>) {
        self.centrifugo_broadcast(ConnCommand::Close(code, reason.into()));
    }

    /// Resets every live Centrifugo connection (TCP RST, no close frame).
    pub fn centrifugo_reset_all(&self) {
        self.centrifugo_broadcast(ConnCommand::Reset);
    }

    /// While `on`, Centrifugo connections send no messages at all (no pings, pushes or replies;
    /// pushes are dropped, not delayed) but stay open. Closes still happen.
    pub fn centrifugo_silent(&self, on: bool) {
        self.edit(|f| f.centrifugo_silent = on);
    }

    /// Sends one text frame with exactly `text` on every live Centrifugo connection
    /// (authenticated or not, even while silent).
    pub fn centrifugo_send_raw(&self, text: impl Into<String>) {
        self.centrifugo_broadcast(ConnCommand::Raw(text.into()));
    }

    /// While `on`, every status push is sent in one frame with a ping (`"{}\n{push}"`), and the
    /// pushes of status changes that happened between the upgrade and the connect command
    /// follow the connect reply in its frame (without batching those are not delivered).
    pub fn centrifugo_batch(&self, on: bool) {
        self.edit(|f| f.centrifugo_batch = on);
    }

    /// The next `n` legacy upgrade requests get `HTTP/1.1 503` and the TCP connection is closed.
    pub fn legacy_refuse(&self, n: u32) {
        self.edit(|f| f.legacy_refuse = n);
    }

    /// Sends a close frame with `code` (empty reason) on every live legacy socket.
    pub fn legacy_close_all(&self, code: u16) {
        self.legacy_broadcast(ConnCommand::Close(code, String::new()));
    }

    /// Resets every live legacy socket (TCP RST, no close frame).
    pub fn legacy_reset_all(&self) {
        self.legacy_broadcast(ConnCommand::Reset);
    }

    /// While `on`, legacy sockets send nothing (status messages are dropped) but stay open.
    pub fn legacy_silent(&self, on: bool) {
        self.edit(|f| f.legacy_silent = on);
    }

    /// Sends one text frame with exactly `text` on every live legacy socket.
    pub fn legacy_send_raw(&self, text: impl Into<String>) {
        self.legacy_broadcast(ConnCommand::Raw(text.into()));
    }

    /// The next `n` Get-order requests for `order_id` are answered with `status` and Xsolla's
    /// error body for it.
    pub fn http_error(&self, order_id: i64, n: u32, status: u16) {
        self.edit(|f| f.queue_http(order_id, n, HttpFault::Error(status)));
    }

    /// The next `n` Get-order requests for `order_id` get 429 with `Retry-After: retry_after_secs`.
    pub fn http_rate_limit(&self, order_id: i64, n: u32, retry_after_secs: u64) {
        self.edit(|f| f.queue_http(order_id, n, HttpFault::RateLimit(retry_after_secs)));
    }

    /// The next `n` Get-order requests for `order_id` are answered normally after `delay`
    /// (tokio time).
    pub fn http_delay(&self, order_id: i64, n: u32, delay: Duration) {
        self.edit(|f| f.queue_http(order_id, n, HttpFault::Delay(delay)));
    }

    /// The next `n` Get-order requests for `order_id` get no response: the TCP connection is
    /// closed.
    pub fn http_drop(&self, order_id: i64, n: u32) {
        self.edit(|f| f.queue_http(order_id, n, HttpFault::Drop));
    }

    /// Cancels every pending fault and turns the silent and batch modes off.
    pub fn clear(&self) {
        self.edit(|f| *f = FaultState::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_faults_are_consumed_in_order() {
        let _watchdog = crate::test_watchdog::arm();
        let mut f = FaultState::default();
        f.queue_http(1, 2, HttpFault::Error(500));
        f.queue_http(1, 0, HttpFault::Drop); // n = 0 queues nothing
        f.queue_http(1, 1, HttpFault::RateLimit(3));
        f.queue_http(2, 1, HttpFault::Drop);
        assert_eq!(f.take_http(1), Some(HttpFault::Error(500)));
        assert_eq!(f.take_http(1), Some(HttpFault::Error(500)));
        assert_eq!(f.take_http(1), Some(HttpFault::RateLimit(3)));
        assert_eq!(f.take_http(1), None);
        assert_eq!(f.take_http(2), Some(HttpFault::Drop));
        assert!(f.http.is_empty());
    }

    #[test]
    fn counters_count_down() {
        let _watchdog = crate::test_watchdog::arm();
        let mut f = FaultState {
            centrifugo_refuse: 1,
            centrifugo_garbage: 1,
            centrifugo_reject: Some((
                2,
                ConnectRejection {
                    code: 100,
                    message: "m".to_owned(),
                    temporary: true,
                },
            )),
            ..FaultState::default()
        };
        assert_eq!(f.take_centrifugo_handshake(), Some(HandshakeFault::Refuse));
        assert_eq!(f.take_centrifugo_handshake(), Some(HandshakeFault::Garbage));
        assert_eq!(f.take_centrifugo_handshake(), None);
        assert!(f.take_connect_rejection().is_some());
        assert!(f.take_connect_rejection().is_some());
        assert!(f.take_connect_rejection().is_none());
        assert!(!f.take_legacy_refuse());
    }
}
