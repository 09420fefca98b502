//! The Events API of Xsolla's SDK 3 (`getupdate.xsolla.com`, unconfirmed protocol, see the
//! protocol document section 7): `GET /events?project_id=<p>` answers the caller's unprocessed
//! payment events, `POST /events/<id>/processed?project_id=<p>` marks one processed. With its own
//! faults (5xx, 429, malformed bodies, slow answers) and control endpoints:
//!
//! - `POST /_sim/event` adds an event: `{"id":7,"order_id":123,"shape":"order_paid"|"payment",
//!   "items":[{"sku":"gems","quantity":2,"amount":"1.99"}],"currency":"USD","token":"<only this
//!   user sees it>","project_id":<default: the simulator's>}`, or `{"id":7,"raw":{...}}` to
//!   store any JSON value verbatim as the event item (malformed events).
//! - `POST /_sim/events_fault` queues faults for the next n Events API requests:
//!   `{"fault":"error","status":500,"n":1}`, `{"fault":"rate_limit","retry_after_secs":1}`,
//!   `{"fault":"malformed","text":"{not json"}`, `{"fault":"delay","delay_ms":2000}`,
//!   `{"fault":"clear"}`.
//! - `GET /_sim/events`: `{"ok":true,"events":[{"id":7,"processed":false}],"reads":3,"processed_calls":1}`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::http::{plain_error, Request, Response};
use crate::state::Shared;

/// One stored event.
#[derive(Debug, Clone)]
struct StoredEvent {
    id: i64,
    item: Value,
    token: Option<String>,
    processed: bool,
}

#[derive(Debug, Clone)]
enum Fault {
    Error(u16),
    RateLimit(u64),
    Malformed(String),
    Delay(Duration),
}

/// The Events API's part of the simulator state.
#[derive(Debug, Default)]
pub(crate) struct EventsState {
    events: Vec<StoredEvent>,
    faults: VecDeque<Fault>,
    reads: u32,
    processed_calls: u32,
}

/// Answers Events API and its control requests; `None` for any other path.
pub(crate) async fn route(shared: &Arc<Shared>, request: &Request) -> Option<Response> {
    let path = request.path.as_str();
    match path {
        "/_sim/event" => return Some(control(request, |b| add_event(shared, b))),
        "/_sim/events_fault" => return Some(control(request, |b| add_fault(shared, b))),
        "/_sim/events" if request.method == "GET" => {
            let state = &shared.lock().events;
            let events: Vec<Value> = state
                .events
                .iter()
                .map(|e| json!({"id": e.id, "processed": e.processed}))
                .collect();
            return Some(Response::json(
                200,
                json!({"ok": true, "events": events, "reads": state.reads, "processed_calls": state.processed_calls})
                    .to_string(),
            ));
        }
        _ => {}
    }
    let processed_id = path
        .strip_prefix("/events/")
        .and_then(|rest| rest.strip_suffix("/processed"));
    if path != "/events" && processed_id.is_none() {
        return None;
    }
    let fault = shared.lock().events.faults.pop_front();
    if let Some(response) = apply_fault(fault).await {
        return Some(response);
    }
    let token = bearer(request);
    if token.is_empty() {
        return Some(Response::json(
            401,
            r#"{"statusCode":401,"errorCode":1501,"errorMessage":"[0401-1501]: Authorization failed: Provide authorization"}"#,
        ));
    }
    if request.query_param("project_id") != Some(shared.config.project_id.to_string().as_str()) {
        return Some(plain_error(404));
    }
    let mut state = shared.lock();
    let events = &mut state.events;
    Some(match (request.method.as_str(), processed_id) {
        ("GET", None) => {
            events.reads += 1;
            let items: Vec<Value> = events
                .events
                .iter()
                .filter(|e| !e.processed && e.token.as_deref().is_none_or(|t| t == token))
                .map(|e| e.item.clone())
                .collect();
            Response::json(200, json!({"events": items}).to_string())
        }
        ("POST", Some(id)) => {
            events.processed_calls += 1;
            match id.parse::<i64>().ok().and_then(|id| {
                events
                    .events
                    .iter_mut()
                    .find(|e| e.id == id && e.token.as_deref().is_none_or(|t| t == token))
            }) {
                Some(event) => {
                    event.processed = true;
                    Response::json(200, "{}")
                }
                None => plain_error(404),
            }
        }
        _ => plain_error(405),
    })
}

async fn apply_fault(fault: Option<Fault>) -> Option<Response> {
    match fault? {
        Fault::Error(status) => Some(Response::json(
            status,
            format!(
                r#"{{"statusCode":{status},"errorCode":0,"errorMessage":"Internal Server Error"}}"#
            ),
        )),
        Fault::RateLimit(secs) => Some(
            Response::json(
                429,
                r#"{"statusCode":429,"errorCode":0,"errorMessage":"Too Many Requests"}"#,
            )
            .with_header("Retry-After", secs.to_string()),
        ),
        Fault::Malformed(text) => Some(Response::json(200, text)),
        Fault::Delay(delay) => {
            tokio::time::sleep(delay).await;
            None
        }
    }
}

fn bearer(request: &Request) -> &str {
    request
        .header("authorization")
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .unwrap_or_default()
}

fn control(
    request: &Request,
    f: impl FnOnce(&Map<String, Value>) -> Result<(), String>,
) -> Response {
    let parsed = if request.method != "POST" {
        Err("use POST".to_owned())
    } else {
        match serde_json::from_slice::<Value>(&request.body) {
            Ok(Value::Object(b)) => f(&b),
            _ => Err("the body must be a JSON object".to_owned()),
        }
    };
    match parsed {
        Ok(()) => Response::json(200, r#"{"ok":true}"#),
        Err(e) => Response::json(400, json!({"ok": false, "error": e}).to_string()),
    }
}

/// Adds an event (see the module docs for the fields).
fn add_event(shared: &Shared, b: &Map<String, Value>) -> Result<(), String> {
    let id = b
        .get("id")
        .and_then(Value::as_i64)
        .ok_or("id (integer) is required")?;
    let token = b.get("token").and_then(Value::as_str).map(str::to_owned);
    let item = match b.get("raw") {
        Some(raw) => raw.clone(),
        None => build_item(shared.config.project_id, id, b)?,
    };
    shared.lock().events.events.push(StoredEvent {
        id,
        item,
        token,
        processed: false,
    });
    Ok(())
}

/// An EventItem in one of the two shapes SDK 3 handles.
fn build_item(default_project: i64, id: i64, b: &Map<String, Value>) -> Result<Value, String> {
    let order_id = b
        .get("order_id")
        .and_then(Value::as_i64)
        .ok_or("order_id (integer) is required")?;
    let project = b
        .get("project_id")
        .and_then(Value::as_i64)
        .unwrap_or(default_project);
    let currency = b.get("currency").and_then(Value::as_str).unwrap_or("USD");
    let items = b
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_else(|| vec![json!({"sku": "sim-item", "quantity": 1, "amount": "1.99"})]);
    let shape = b
        .get("shape")
        .and_then(Value::as_str)
        .unwrap_or("order_paid");
    let amount = |i: &Value| {
        i.get("amount")
            .and_then(Value::as_str)
            .unwrap_or("0")
            .to_owned()
    };
    let data = match shape {
        "order_paid" => {
            let total: f64 = items
                .iter()
                .map(|i| amount(i).parse::<f64>().unwrap_or(0.0))
                .sum();
            json!({
                "notification_type": "order_paid",
                "order": {"id": order_id, "status": "paid", "invoice_id": format!("inv-{id}"), "currency": currency,
                          "currency_type": "real", "amount": format!("{total}"), "mode": "default"},
                "items": items.iter().map(|i| json!({"sku": i["sku"], "quantity": i.get("quantity").cloned().unwrap_or(json!(1)),
                                                     "type": "virtual_good", "amount": amount(i)})).collect::<Vec<_>>(),
                "billing": {"notification_type": "payment", "settings": {"project_id": project}}
            })
        }
        "payment" => json!({
            "notification_type": "payment",
            "purchase": {"id": id, "order": {"id": order_id, "lineitems": items.iter().enumerate().map(|(n, i)| json!({
                "id": n + 1, "sku": i["sku"], "quantity": i.get("quantity").cloned().unwrap_or(json!(1)),
                "price": {"amount": amount(i).parse::<f64>().unwrap_or(0.0), "currency": currency},
                "price_before_discount": {"amount": amount(i).parse::<f64>().unwrap_or(0.0), "currency": currency}
            })).collect::<Vec<_>>()}},
            "transaction": {"id": 900_000 + id},
            "settings": {"project_id": project},
            "user": {"id": "sim-user", "external_id": "sim-user"},
            "custom_parameters": {}
        }),
        other => return Err(format!("unknown shape {other} (order_paid or payment)")),
    };
    Ok(json!({"id": id, "status": 0, "created_at": "2026-12-01T00:00:00Z", "data": data}))
}

fn add_fault(shared: &Shared, b: &Map<String, Value>) -> Result<(), String> {
    let n = b.get("n").and_then(Value::as_u64).unwrap_or(1).min(10_000);
    let fault = match b
        .get("fault")
        .and_then(Value::as_str)
        .ok_or("fault is required")?
    {
        "clear" => {
            shared.lock().events.faults.clear();
            return Ok(());
        }
        "error" => Fault::Error(
            b.get("status")
                .and_then(Value::as_u64)
                .unwrap_or(500)
                .clamp(100, 599) as u16,
        ),
        "rate_limit" => Fault::RateLimit(
            b.get("retry_after_secs")
                .and_then(Value::as_u64)
                .unwrap_or(1),
        ),
        "malformed" => Fault::Malformed(
            b.get("text")
                .and_then(Value::as_str)
                .unwrap_or("{\"events\":")
                .to_owned(),
        ),
        "delay" => Fault::Delay(Duration::from_millis(
            b.get("delay_ms").and_then(Value::as_u64).unwrap_or(0),
        )),
        other => return Err(format!("unknown events fault {other}")),
    };
    let mut state = shared.lock();
    for _ in 0..n {
        state.events.faults.push_back(fault.clone());
    }
    Ok(())
}
