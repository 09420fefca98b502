//! An order's `content` object through `contents::normalize_contents`: never a panic; the result
//! is JSON with `is_free` a bool, `price`/`virtual_price` present, every amount a string, and
//! normalizing it again changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use xo_tracker::contents::normalize_contents;

fn check_priced(obj: &serde_json::Map<String, Value>) {
    assert!(obj.get("is_free").is_none_or(Value::is_boolean));
    for key in ["price", "virtual_price"] {
        let price = obj.get(key).expect("price keys are present");
        if let Some(p) = price.as_object() {
            for amount in ["amount", "amount_without_discount"] {
                assert!(
                    !p.get(amount).is_some_and(Value::is_number),
                    "{amount} is a string"
                );
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let once = normalize_contents(&value);
    let parsed: Value = serde_json::from_str(&once).expect("normalized contents are JSON");
    if let Some(obj) = parsed.as_object() {
        check_priced(obj);
        if let Some(Value::Array(items)) = obj.get("items") {
            items
                .iter()
                .filter_map(Value::as_object)
                .for_each(check_priced);
        }
    }
    assert_eq!(
        normalize_contents(&parsed),
        once,
        "normalizing is idempotent"
    );
});
