//! The control API under `/_sim/` (used by the binary's clients: C, C++, C# tests and the demo).
//!
//! Every answer is `200 {"ok":true,...}` or `400 {"ok":false,"error":"..."}`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::faults::Faults;
use crate::http::{Request, Response};
use crate::orders::{self, OrderSpec};
use crate::state::Shared;

/// Path prefix of the control API.
pub(crate) const PREFIX: &str = "/_sim/";

type Fields = Map<String, Value>;

/// Handles `<method> /_sim/<endpoint>`. The flag asks the caller to stop the simulator once the
/// response has been written.
pub(crate) fn handle(shared: &Arc<Shared>, request: &Request, endpoint: &str) -> (Response, bool) {
    let result = match (request.method.as_str(), endpoint) {
        ("GET", "stats") => Ok(stats(shared)),
        ("POST", "shutdown") => return (ok(json!({})), true),
        ("POST", "order") => body(request).and_then(|b| add_order(shared, &b)),
        ("POST", "status") => body(request).and_then(|b| set_status(shared, &b)),
        ("POST", "fault") => body(request).and_then(|b| fault(shared, &b)),
        ("POST", "expire_token") => body(request).and_then(|b| {
            shared.expire_token(str_field(&b, "token")?);
            Ok(json!({}))
        }),
        _ => Err(format!(
            "unknown control endpoint {} {}{endpoint}",
            request.method, PREFIX
        )),
    };
    let response = match result {
        Ok(extra) => ok(extra),
        Err(error) => Response::json(400, json!({"ok": false, "error": error}).to_string()),
    };
    (response, false)
}

/// `200 {"ok":true}` merged with the fields of `extra`.
fn ok(extra: Value) -> Response {
    let mut object = Map::new();
    object.insert("ok".to_owned(), Value::Bool(true));
    if let Value::Object(fields) = extra {
        object.extend(fields);
    }
    Response::json(200, Value::Object(object).to_string())
}

fn stats(shared: &Shared) -> Value {
    shared.stats().to_json()
}

fn body(request: &Request) -> Result<Fields, String> {
    let text = if request.body.is_empty() {
        "{}"
    } else {
        std::str::from_utf8(&request.body).map_err(|_| "body is not UTF-8".to_owned())?
    };
    match serde_json::from_str(text) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) => Err("body is not a JSON object".to_owned()),
        Err(e) => Err(format!("body is not JSON: {e}")),
    }
}

fn i64_field(b: &Fields, name: &str) -> Result<i64, String> {
    b.get(name)
        .and_then(Value::as_i64)
        .ok_or_else(|| format!("`{name}` must be an integer"))
}

fn u64_field_or(b: &Fields, name: &str, default: u64) -> Result<u64, String> {
    match b.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_u64()
            .ok_or_else(|| format!("`{name}` must be a non-negative integer")),
    }
}

fn u32_field_or(b: &Fields, name: &str, default: u32) -> Result<u32, String> {
    let value = u64_field_or(b, name, u64::from(default))?;
    u32::try_from(value).map_err(|_| format!("`{name}` is too large"))
}

fn u16_field(b: &Fields, name: &str) -> Result<u16, String> {
    b.get(name)
        .and_then(Value::as_u64)
        .and_then(|v| u16::try_from(v).ok())
        .ok_or_else(|| format!("`{name}` must be an integer in 0..=65535"))
}

fn str_field<'a>(b: &'a Fields, name: &str) -> Result<&'a str, String> {
    b.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("`{name}` must be a string"))
}

fn str_field_or<'a>(b: &'a Fields, name: &str, default: &'a str) -> Result<&'a str, String> {
    match b.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(_) => str_field(b, name),
    }
}

fn bool_field_or(b: &Fields, name: &str, default: bool) -> Result<bool, String> {
    match b.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_bool()
            .ok_or_else(|| format!("`{name}` must be a boolean")),
    }
}

/// `{"order_id":42,"status":"new","timeline":[{"after_ms":2000,"status":"paid"}],"push":true}`,
/// plus an optional `content` (or `contents`) object.
fn add_order(shared: &Arc<Shared>, b: &Fields) -> Result<Value, String> {
    let mut spec = OrderSpec::new(i64_field(b, "order_id")?)
        .status(str_field_or(b, "status", "new")?)
        .push(bool_field_or(b, "push", true)?);
    if let Some(content) = b.get("content").or_else(|| b.get("contents")) {
        spec = spec.contents(content.clone());
    }
    match b.get("timeline") {
        None | Some(Value::Null) => {}
        Some(Value::Array(steps)) => {
            for step in steps {
                let Value::Object(step) = step else {
                    return Err("`timeline` entries must be objects".to_owned());
                };
                let after = Duration::from_millis(u64_field_or(step, "after_ms", 0)?);
                spec = spec.then_after(after, str_field(step, "status")?);
            }
        }
        Some(_) => return Err("`timeline` must be an array".to_owned()),
    }
    orders::add_order(shared, spec);
    Ok(json!({}))
}

/// `{"order_id":42,"status":"done"}`.
fn set_status(shared: &Shared, b: &Fields) -> Result<Value, String> {
    orders::set_status(shared, i64_field(b, "order_id")?, str_field(b, "status")?);
    Ok(json!({}))
}

/// `{"fault":"<name>", ...parameters}` with the names and parameters of [`Faults`]; `n`
/// defaults to 1, `temporary` to false, `message`, `reason` and `text` to "".
fn fault(shared: &Arc<Shared>, b: &Fields) -> Result<Value, String> {
    let faults = Faults::new(Arc::clone(shared));
    let n = || u32_field_or(b, "n", 1);
    let on = || bool_field_or(b, "on", true);
    let text = |name| str_field_or(b, name, "");
    let order_id = || i64_field(b, "order_id");
    match str_field(b, "fault")? {
        "centrifugo_refuse" => faults.centrifugo_refuse(n()?),
        "centrifugo_garbage_handshake" => faults.centrifugo_garbage_handshake(n()?),
        "centrifugo_reject_connect" => faults.centrifugo_reject_connect(
            n()?,
            u32_field_or(b, "code", 0)?,
            text("message")?,
            bool_field_or(b, "temporary", false)?,
        ),
        "centrifugo_close_all" => {
            faults.centrifugo_close_all(u16_field(b, "code")?, text("reason")?)
        }
        "centrifugo_reset_all" => faults.centrifugo_reset_all(),
        "centrifugo_silent" => faults.centrifugo_silent(on()?),
        "centrifugo_send_raw" => faults.centrifugo_send_raw(str_field(b, "text")?),
        "centrifugo_batch" => faults.centrifugo_batch(on()?),
        "legacy_refuse" => faults.legacy_refuse(n()?),
        "legacy_close_all" => faults.legacy_close_all(u16_field(b, "code")?),
        "legacy_reset_all" => faults.legacy_reset_all(),
        "legacy_silent" => faults.legacy_silent(on()?),
        "legacy_send_raw" => faults.legacy_send_raw(str_field(b, "text")?),
        "http_error" => faults.http_error(order_id()?, n()?, u16_field(b, "status")?),
        "http_rate_limit" => {
            faults.http_rate_limit(order_id()?, n()?, u64_field_or(b, "retry_after_secs", 1)?)
        }
        "http_delay" => faults.http_delay(
            order_id()?,
            n()?,
            Duration::from_millis(u64_field_or(b, "delay_ms", 0)?),
        ),
        "http_drop" => faults.http_drop(order_id()?, n()?),
        "clear" => faults.clear(),
        other => return Err(format!("unknown fault `{other}`")),
    }
    Ok(json!({}))
}
