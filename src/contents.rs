//! Normalizes the order `content` object, smoothing over the type drift seen in Xsolla's answers:
//! `is_free` as bool or `"true"`/`"false"`, amounts as strings or numbers, prices null or absent.

use serde_json::{Map, Value};

/// Returns the `content` object as compact JSON with `is_free` as a bool, every amount as a string,
/// and `price`/`virtual_price` present (null when absent).
pub fn normalize_contents(content: &Value) -> String {
    let mut content = content.clone();
    if let Some(obj) = content.as_object_mut() {
        normalize_priced(obj);
        if let Some(Value::Array(items)) = obj.get_mut("items") {
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                normalize_priced(item);
            }
        }
    }
    content.to_string()
}

fn normalize_priced(obj: &mut Map<String, Value>) {
    if let Some(v) = obj.get_mut("is_free") {
        *v = Value::Bool(matches!(v, Value::Bool(true)) || v.as_str() == Some("true"));
    }
    for key in ["price", "virtual_price"] {
        let price = obj.entry(key).or_insert(Value::Null);
        if let Some(p) = price.as_object_mut() {
            for amount in ["amount", "amount_without_discount"] {
                if let Some(Value::Number(n)) = p.get(amount) {
                    let text = n.to_string();
                    p.insert(amount.to_owned(), Value::String(text));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smooths_type_drift() {
        let raw: Value = serde_json::from_str(
            r#"{"price":{"amount":30,"amount_without_discount":"30","currency":"USD"},"is_free":"true",
                "items":[{"sku":"a","quantity":1,"is_free":false,"price":{"amount":1.5,"currency":"USD"}}]}"#,
        )
        .unwrap();
        let v: Value = serde_json::from_str(&normalize_contents(&raw)).unwrap();
        assert_eq!(v["price"]["amount"], "30");
        assert_eq!(v["is_free"], true);
        assert_eq!(v["virtual_price"], Value::Null);
        assert_eq!(v["items"][0]["price"]["amount"], "1.5");
        assert_eq!(v["items"][0]["is_free"], false);
        assert_eq!(v["items"][0]["virtual_price"], Value::Null);
    }

    /// Found by the `contents` fuzz target: serde_json's default float parser read the amount
    /// 1.0184467418446475 as the next double, so it was reported as "1.0184467418446477" (and
    /// normalizing the normalized text changed it again). Fixed by `float_roundtrip`.
    #[test]
    fn long_amounts_keep_their_value_and_normalizing_is_stable() {
        let raw: Value = serde_json::from_str(
            r#"{"price":{"amount":1.01844674184464740,"amount_without_discount":0.30000000000000004}}"#,
        )
        .unwrap();
        let once = normalize_contents(&raw);
        let v: Value = serde_json::from_str(&once).unwrap();
        assert_eq!(v["price"]["amount"], "1.0184467418446475");
        assert_eq!(v["price"]["amount_without_discount"], "0.30000000000000004");
        let top: Value = serde_json::from_str("1.01844674184464740").unwrap();
        let twice = normalize_contents(&serde_json::from_str(&normalize_contents(&top)).unwrap());
        assert_eq!(twice, normalize_contents(&top));
    }
}
