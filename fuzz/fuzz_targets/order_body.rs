//! A Get order 200 body, through `api::parse_order` and `api::classify`: never a panic; a parsed
//! body's contents are JSON with `is_free` a bool and `price`/`virtual_price` present; the two
//! entry points agree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use xo_tracker::api::{classify, parse_order, ApiError};

fuzz_target!(|data: &[u8]| {
    let order_id = 42;
    let parsed = parse_order(order_id, data);
    match (&parsed, classify(order_id, 200, data, None)) {
        (Ok(a), Ok(b)) => assert_eq!(a, &b),
        (Err(_), Err(ApiError::Transient { retry_after, .. })) => assert!(retry_after.is_none()),
        (a, b) => panic!("parse_order {a:?} but classify {b:?}"),
    }
    if let Ok(snapshot) = parsed {
        if let Some(contents) = snapshot.contents {
            let v: Value = serde_json::from_str(&contents).expect("contents are JSON");
            let obj = v.as_object().expect("contents are an object");
            assert!(obj.get("is_free").is_none_or(Value::is_boolean));
            assert!(obj.contains_key("price") && obj.contains_key("virtual_price"));
        }
    }
});
