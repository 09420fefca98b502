//! Parses an Events API answer into restorable purchases, defensively: the protocol is not
//! documented publicly (see the protocol document, section 7), so every field is optional,
//! every list is bounded, and anything unexpected skips that one event, never the whole answer.

use serde_json::{json, Value};

use crate::contents::normalize_contents;

/// Most events taken from one answer.
pub(crate) const MAX_EVENTS: usize = 200;
/// Most items kept per purchase.
pub(crate) const MAX_ITEMS: usize = 100;
/// Longest string kept from an event (a SKU, a currency, an amount).
const MAX_FIELD_BYTES: usize = 256;

/// One purchase found in the events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purchase {
    /// The event id (to mark it processed once acknowledged).
    pub event_id: i64,
    /// The order id: the stable identity of the purchase.
    pub order_id: i64,
    /// The contents, normalised like Get order's `content`.
    pub contents: String,
}

/// The purchases of `project_id` in an answer body. `Err` when the body is not an events answer
/// at all; events that cannot be understood are skipped (no order id, another project, unknown
/// shape). An order seen twice (both shapes) is returned once, with the first event.
pub fn parse_events(body: &[u8], project_id: i64) -> Result<Vec<Purchase>, String> {
    let root: Value =
        serde_json::from_slice(body).map_err(|e| format!("the events answer is not JSON: {e}"))?;
    let events = root
        .get("events")
        .and_then(Value::as_array)
        .ok_or("the events answer has no \"events\" array")?;
    let mut out: Vec<Purchase> = Vec::new();
    for event in events.iter().take(MAX_EVENTS) {
        if let Some(p) = purchase(event, project_id) {
            if !out.iter().any(|q| q.order_id == p.order_id) {
                out.push(p);
            }
        }
    }
    Ok(out)
}

/// Every event id of `project_id` in an answer paired with its order id, whatever it holds (to
/// mark the events of acknowledged orders processed).
pub fn event_orders(body: &[u8], project_id: i64) -> Vec<(i64, i64)> {
    let Ok(root) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    root.get("events")
        .and_then(Value::as_array)
        .map(|events| {
            events
                .iter()
                .take(MAX_EVENTS)
                .filter_map(|e| purchase(e, project_id).map(|p| (p.event_id, p.order_id)))
                .collect()
        })
        .unwrap_or_default()
}

fn purchase(event: &Value, project_id: i64) -> Option<Purchase> {
    let event_id = event.get("id").and_then(Value::as_i64)?;
    let data = event.get("data")?;
    let (order_id, contents) = match data.get("notification_type").and_then(Value::as_str)? {
        "order_paid" => order_paid(data, project_id)?,
        "payment" => payment(data, project_id)?,
        _ => return None,
    };
    (order_id > 0).then(|| Purchase {
        event_id,
        order_id,
        contents: normalize_contents(&contents),
    })
}

/// A project id that is present and different means another project's event.
fn other_project(found: Option<&Value>, project_id: i64) -> bool {
    found
        .and_then(|p| p.as_i64().or_else(|| p.as_str()?.parse().ok()))
        .is_some_and(|p| p != project_id)
}

fn text(v: Option<&Value>) -> Option<String> {
    let s = match v? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (s.len() <= MAX_FIELD_BYTES).then_some(s)
}

/// A price in the contents shape, or null without an amount and a currency.
fn price(
    amount: Option<String>,
    before_discount: Option<String>,
    currency: Option<String>,
) -> Value {
    match (amount, currency) {
        (Some(amount), Some(currency)) => json!({
            "amount_without_discount": before_discount.unwrap_or_else(|| amount.clone()),
            "amount": amount,
            "currency": currency,
        }),
        _ => Value::Null,
    }
}

/// One purchased item in the contents shape (both event shapes): none without a SKU; free, and
/// without a price, when its amount is zero or absent.
fn item(
    sku: Option<&Value>,
    quantity: Option<&Value>,
    amount: Option<String>,
    before_discount: Option<String>,
    currency: Option<String>,
) -> Option<Value> {
    let sku = text(sku)?;
    let quantity = quantity.and_then(Value::as_i64).unwrap_or(1);
    let free = is_zero(&amount);
    let price = if free {
        Value::Null
    } else {
        price(amount, before_discount, currency)
    };
    Some(
        json!({"sku": sku, "quantity": quantity, "is_free": free, "price": price, "virtual_price": null}),
    )
}

fn is_zero(amount: &Option<String>) -> bool {
    amount
        .as_deref()
        .is_none_or(|a| a.parse::<f64>().is_ok_and(|v| v == 0.0))
}

fn order_paid(data: &Value, project_id: i64) -> Option<(i64, Value)> {
    if other_project(data.pointer("/billing/settings/project_id"), project_id) {
        return None;
    }
    let order = data.get("order")?;
    let order_id = order.get("id").and_then(Value::as_i64)?;
    let currency = text(order.get("currency"));
    let amount = text(order.get("amount"));
    let order_free = is_zero(&amount) && currency.is_none();
    let items: Vec<Value> = data
        .get("items")
        .and_then(Value::as_array)?
        .iter()
        .take(MAX_ITEMS)
        .filter_map(|i| {
            item(
                i.get("sku"),
                i.get("quantity"),
                text(i.get("amount")),
                None,
                currency.clone(),
            )
        })
        .collect();
    let total = if order_free {
        Value::Null
    } else {
        price(amount, None, currency)
    };
    Some((
        order_id,
        json!({"price": total, "virtual_price": null, "is_free": order_free, "items": items}),
    ))
}

fn payment(data: &Value, project_id: i64) -> Option<(i64, Value)> {
    if other_project(data.pointer("/settings/project_id"), project_id) {
        return None;
    }
    // Without `purchase.order` there is no order id: SDK 3 then matches by SKU, which is how it
    // grants the wrong purchase. Such an event is left to its `order_paid` twin.
    let order = data.pointer("/purchase/order").filter(|o| o.is_object())?;
    let order_id = order.get("id").and_then(Value::as_i64)?;
    let items: Vec<Value> = order
        .get("lineitems")
        .and_then(Value::as_array)?
        .iter()
        .take(MAX_ITEMS)
        .filter_map(|i| {
            item(
                i.get("sku"),
                i.get("quantity"),
                text(i.pointer("/price/amount")),
                text(i.pointer("/price_before_discount/amount")),
                text(i.pointer("/price/currency")),
            )
        })
        .collect();
    let total = price(
        text(data.pointer("/purchase/total/amount")),
        None,
        text(data.pointer("/purchase/total/currency")),
    );
    let free = items.iter().all(|i| i["is_free"] == true);
    Some((
        order_id,
        json!({"price": total, "virtual_price": null, "is_free": free && !items.is_empty(), "items": items}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_shapes_and_skips_what_it_cannot_trust() {
        let _watchdog = crate::test_watchdog::arm();
        let body = br#"{"events":[
          {"id":1,"status":0,"data":{"notification_type":"order_paid","order":{"id":501,"currency":"USD","amount":"3.98"},
             "items":[{"sku":"gems","quantity":2,"type":"virtual_good","amount":"3.98"}],"billing":{"settings":{"project_id":1001}}}},
          {"id":2,"data":{"notification_type":"payment","purchase":{"id":9,"order":{"id":502,"lineitems":[
             {"id":1,"sku":"sword","quantity":1,"price":{"amount":4.5,"currency":"EUR"},"price_before_discount":{"amount":5,"currency":"EUR"}}]}},
             "settings":{"project_id":1001}}},
          {"id":3,"data":{"notification_type":"payment","purchase":{"id":10,"order":null},"settings":{"project_id":1001}}},
          {"id":4,"data":{"notification_type":"order_paid","order":{"id":503},"items":[],"billing":{"settings":{"project_id":7}}}},
          {"id":5,"data":{"notification_type":"order_paid","order":{"id":501},"items":[]}},
          {"id":"x"}, 17, null,
          {"id":6,"data":{"notification_type":"order_paid","order":{"id":504,"currency":null,"amount":"0","currency_type":"unknown"},
             "items":[{"sku":"gift","quantity":1,"amount":"0"}]}}
        ]}"#;
        let found = parse_events(body, 1001).unwrap();
        let ids: Vec<(i64, i64)> = found.iter().map(|p| (p.event_id, p.order_id)).collect();
        assert_eq!(ids, [(1, 501), (2, 502), (6, 504)]);
        let gems: Value = serde_json::from_str(&found[0].contents).unwrap();
        assert_eq!(gems["items"][0]["sku"], "gems");
        assert_eq!(gems["items"][0]["price"]["amount"], "3.98");
        assert_eq!(gems["price"]["currency"], "USD");
        let sword: Value = serde_json::from_str(&found[1].contents).unwrap();
        assert_eq!(sword["items"][0]["price"]["amount"], "4.5");
        assert_eq!(sword["items"][0]["price"]["amount_without_discount"], "5");
        let gift: Value = serde_json::from_str(&found[2].contents).unwrap();
        assert_eq!(gift["is_free"], true);
        assert_eq!(gift["items"][0]["price"], Value::Null);
        assert!(parse_events(b"{not json", 1001).is_err());
        assert!(parse_events(b"{\"events\":5}", 1001).is_err());
        assert_eq!(
            event_orders(body, 1001).len(),
            4,
            "event 5 too: its order is 501"
        );
    }
}
