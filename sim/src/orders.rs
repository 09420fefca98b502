//! Orders: their specification, their timelines, and status changes fanned out to the sockets.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::task::AbortHandle;

use crate::state::{ConnCommand, Shared};
use crate::{centrifugo, legacy};

/// Description of an order for [`Sim::add_order`](crate::Sim::add_order).
///
/// ```
/// use std::time::Duration;
/// let spec = xo_sim::OrderSpec::new(42)
///     .status("new")
///     .then_after(Duration::from_secs(2), "paid")
///     .then_after(Duration::from_secs(1), "done");
/// assert_eq!(spec.order_id(), 42);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct OrderSpec {
    order_id: i64,
    status: String,
    timeline: Vec<(Duration, String)>,
    contents: Value,
    push: bool,
}

impl OrderSpec {
    /// An order with status `"new"`, the sample contents, no timeline, pushes on.
    pub fn new(order_id: i64) -> Self {
        OrderSpec {
            order_id,
            status: "new".to_owned(),
            timeline: Vec::new(),
            contents: sample_contents(),
            push: true,
        }
    }

    /// The initial status (default `"new"`).
    pub fn status(mut self, status: impl Into<String>) -> Self {
        self.status = status.into();
        self
    }

    /// Appends a timeline step: `delay` after the previous step (the first: after `add_order`)
    /// the status becomes `status`, exactly as if `set_status` had been called.
    pub fn then_after(mut self, delay: Duration, status: impl Into<String>) -> Self {
        self.timeline.push((delay, status.into()));
        self
    }

    /// The `content` object returned by Get order (default: [`sample_contents`]).
    pub fn contents(mut self, contents: Value) -> Self {
        self.contents = contents;
        self
    }

    /// Whether status changes of this order are pushed on the sockets (default true). When
    /// false only Get order sees them.
    pub fn push(mut self, push: bool) -> Self {
        self.push = push;
        self
    }

    /// The order id.
    pub fn order_id(&self) -> i64 {
        self.order_id
    }
}

/// The default `content` object, the example of the protocol document.
pub fn sample_contents() -> Value {
    json!({
        "price": {"amount": "30", "amount_without_discount": "30", "currency": "USD"},
        "virtual_price": {"amount": "100", "amount_without_discount": "150", "currency": "test_vc"},
        "is_free": false,
        "items": [
            {"sku": "com.xsolla.item_1", "quantity": 1, "is_free": false,
             "price": {"amount": "30", "amount_without_discount": "30", "currency": "USD"}}
        ]
    })
}

/// A stored order.
#[derive(Debug)]
pub(crate) struct Order {
    pub status: String,
    pub contents: Value,
    pub push: bool,
    /// The running timeline task, aborted when the order is replaced.
    timeline: Option<AbortHandle>,
}

impl Drop for Order {
    fn drop(&mut self) {
        if let Some(task) = self.timeline.take() {
            task.abort();
        }
    }
}

/// Stores the order (replacing one with the same id and cancelling its timeline) and starts
/// its timeline. Adding an order pushes nothing.
pub(crate) fn add_order(shared: &Arc<Shared>, spec: OrderSpec) {
    let OrderSpec {
        order_id,
        status,
        timeline,
        contents,
        push,
    } = spec;
    // Insert and spawn under one lock so that a first step with no delay, run at once on another
    // worker, finds this order rather than creating a default one.
    let mut state = shared.lock();
    let timeline_task = (!timeline.is_empty()).then(|| {
        let task_shared = Arc::clone(shared);
        shared.lifecycle.spawn(async move {
            let steps = async {
                for (delay, status) in timeline {
                    tokio::time::sleep(delay).await;
                    set_status(&task_shared, order_id, &status);
                }
            };
            tokio::select! {
                () = steps => {}
                () = task_shared.lifecycle.stopped() => {}
            }
        })
    });
    let order = Order {
        status,
        contents,
        push,
        timeline: timeline_task,
    };
    // The previous order, if any, is dropped here, which aborts its timeline.
    state.orders.insert(order_id, order);
}

/// Sets the status of an order (creating it with the defaults if unknown) and, unless the order
/// has pushes off, pushes it to every Centrifugo connection and every legacy socket of the order.
/// The push happens even if the status did not change.
pub(crate) fn set_status(shared: &Shared, order_id: i64, status: &str) {
    let mut state = shared.lock();
    let order = state.orders.entry(order_id).or_insert_with(|| Order {
        status: String::new(),
        contents: sample_contents(),
        push: true,
        timeline: None,
    });
    order.status = status.to_owned();
    if !order.push {
        return;
    }
    state.channel_offset += 1;
    // Chaos mode sends the status in odd letter case (the same status to every socket).
    let wire = match &shared.chaos {
        Some(c) => c.push_status(order_id, state.channel_offset, status),
        None => status.to_owned(),
    };
    let status = wire.as_str();
    let push = centrifugo::push_message(
        shared.config.project_id,
        order_id,
        status,
        state.channel_offset,
    );
    for conn in state.centrifugo.values() {
        let _ = conn.tx.send(ConnCommand::Push(push.clone()));
    }
    let message = legacy::status_message(order_id, status);
    for conn in state.legacy.values().filter(|c| c.order_id == order_id) {
        let _ = conn.tx.send(ConnCommand::Push(message.clone()));
    }
}
