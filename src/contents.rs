//! Normalizes the order `content` object, smoothing over the type drift seen in Xsolla's answers:
//! `is_free` as bool or `"true"`/`"false"`, amounts as strings or numbers, prices null or absent;
//! and reads the normalised JSON back as typed [`Contents`] (for the C ABI's `xo_contents`).

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

/// At most this many items are read into [`Contents::items`]; the rest are dropped.
pub const MAX_ITEMS: usize = 1000;

/// Longest text kept in a typed field (sku, amount, currency), in bytes; longer text is cut at a
/// character boundary.
pub const MAX_TEXT_BYTES: usize = 256;

/// A price: decimal amounts as text, exactly as Xsolla sent them (`""` when absent).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Price {
    /// The amount paid, e.g. `"30"`.
    pub amount: String,
    /// The amount before discounts.
    pub amount_without_discount: String,
    /// An ISO currency code, or the virtual currency's sku.
    pub currency: String,
}

/// One purchased item.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Item {
    /// The item's sku (`""` when absent).
    pub sku: String,
    /// How many were bought (0 when absent or not an integer).
    pub quantity: i64,
    /// Whether the item was free.
    pub is_free: bool,
    /// The real-money price, if any.
    pub price: Option<Price>,
    /// The virtual-currency price, if any.
    pub virtual_price: Option<Price>,
}

/// The typed order contents.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Contents {
    /// Whether the order was free.
    pub is_free: bool,
    /// The real-money price, if any.
    pub price: Option<Price>,
    /// The virtual-currency price, if any.
    pub virtual_price: Option<Price>,
    /// The items, in order: the first [`MAX_ITEMS`] entries of `items` that are objects.
    pub items: Vec<Item>,
}

/// Reads contents JSON (as made by [`normalize_contents`], or anything else) into [`Contents`].
/// Never fails: a field of the wrong type takes its default, text is cut to [`MAX_TEXT_BYTES`],
/// entries of `items` that are not objects are skipped, and at most [`MAX_ITEMS`] are kept.
pub fn typed_contents(json: &str) -> Contents {
    let value: Value = serde_json::from_str(json).unwrap_or(Value::Null);
    let Some(obj) = value.as_object() else {
        return Contents::default();
    };
    let items = match obj.get("items") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_object)
            .take(MAX_ITEMS)
            .map(|item| Item {
                sku: text(item.get("sku")),
                quantity: integer(item.get("quantity")),
                is_free: flag(item.get("is_free")),
                price: price(item.get("price")),
                virtual_price: price(item.get("virtual_price")),
            })
            .collect(),
        _ => Vec::new(),
    };
    Contents {
        is_free: flag(obj.get("is_free")),
        price: price(obj.get("price")),
        virtual_price: price(obj.get("virtual_price")),
        items,
    }
}

fn flag(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Bool(true))) || v.and_then(Value::as_str) == Some("true")
}

fn integer(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

fn text(v: Option<&Value>) -> String {
    let full = match v {
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Number(n)) => return bounded(&n.to_string()).to_owned(),
        _ => return String::new(),
    };
    bounded(full).to_owned()
}

fn bounded(s: &str) -> &str {
    if s.len() <= MAX_TEXT_BYTES {
        return s;
    }
    let mut end = MAX_TEXT_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn price(v: Option<&Value>) -> Option<Price> {
    let p = v?.as_object()?;
    Some(Price {
        amount: text(p.get("amount")),
        amount_without_discount: text(p.get("amount_without_discount")),
        currency: text(p.get("currency")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smooths_type_drift() {
        let _watchdog = crate::test_watchdog::arm();
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
        let _watchdog = crate::test_watchdog::arm();
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

    #[test]
    fn reads_normalised_contents_as_typed_values() {
        let _watchdog = crate::test_watchdog::arm();
        let raw: Value = serde_json::from_str(
            r#"{"price":{"amount":30,"amount_without_discount":"35","currency":"USD"},"is_free":"false",
                "items":[{"sku":"gem","quantity":2,"is_free":"true","virtual_price":{"amount":"10","currency":"crystal"}},
                         7, {"sku":"sword","quantity":"3","price":{"amount":1.5,"currency":"USD"}}]}"#,
        )
        .unwrap();
        let c = typed_contents(&normalize_contents(&raw));
        let usd = |amount: &str, without: &str| Price {
            amount: amount.into(),
            amount_without_discount: without.into(),
            currency: "USD".into(),
        };
        assert_eq!(
            c,
            Contents {
                is_free: false,
                price: Some(usd("30", "35")),
                virtual_price: None,
                items: vec![
                    Item {
                        sku: "gem".into(),
                        quantity: 2,
                        is_free: true,
                        price: None,
                        virtual_price: Some(Price {
                            amount: "10".into(),
                            amount_without_discount: String::new(),
                            currency: "crystal".into(),
                        }),
                    },
                    Item {
                        sku: "sword".into(),
                        quantity: 3,
                        is_free: false,
                        price: Some(usd("1.5", "")),
                        virtual_price: None,
                    },
                ],
            }
        );
    }

    #[test]
    fn hostile_contents_are_bounded() {
        let _watchdog = crate::test_watchdog::arm();
        assert_eq!(typed_contents("not json"), Contents::default());
        assert_eq!(typed_contents("[1,2]"), Contents::default());
        let long = r"\u00e9".repeat(MAX_TEXT_BYTES); // 2 bytes each once decoded
        let many =
            format!(r#"{{"sku":"{long}","quantity":1e300,"price":"30"}},"#).repeat(MAX_ITEMS + 5);
        let json = format!(r#"{{"is_free":1,"items":[{}{{}}]}}"#, many);
        let c = typed_contents(&json);
        assert_eq!(c.items.len(), MAX_ITEMS);
        assert!(!c.is_free);
        let item = &c.items[0];
        assert_eq!(item.sku, "\u{e9}".repeat(MAX_TEXT_BYTES / 2));
        assert_eq!(item.quantity, 0);
        assert_eq!(item.price, None);
    }
}

/// Strategies for property tests of contents (also used by the C layout's tests).
#[cfg(test)]
pub(crate) mod strategies {
    use proptest::collection::{btree_map, vec};
    use proptest::prelude::*;
    use serde_json::{json, Value};

    use super::{Contents, Item, Price};

    /// Property tests stop doing work after this long, whatever their case count.
    const TIME_BUDGET: std::time::Duration = std::time::Duration::from_secs(20);

    /// Whether this test binary's property tests have used up [`TIME_BUDGET`].
    pub(crate) fn out_of_time() -> bool {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        START.get_or_init(std::time::Instant::now).elapsed() > TIME_BUDGET
    }

    /// Text of at most 64 characters (so at most 256 bytes), any Unicode including NUL.
    fn short_text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9_.-]{0,12}",
            vec(any::<char>(), 0..64).prop_map(|c| c.into_iter().collect()),
        ]
    }

    fn price() -> impl Strategy<Value = Option<Price>> {
        proptest::option::of(
            (short_text(), short_text(), short_text()).prop_map(|(a, w, c)| Price {
                amount: a,
                amount_without_discount: w,
                currency: c,
            }),
        )
    }

    /// Any typed contents within the bounds.
    pub(crate) fn contents() -> impl Strategy<Value = Contents> {
        let item = (short_text(), any::<i64>(), any::<bool>(), price(), price()).prop_map(
            |(sku, quantity, is_free, price, virtual_price)| Item {
                sku,
                quantity,
                is_free,
                price,
                virtual_price,
            },
        );
        (any::<bool>(), price(), price(), vec(item, 0..12)).prop_map(
            |(is_free, price, virtual_price, items)| Contents {
                is_free,
                price,
                virtual_price,
                items,
            },
        )
    }

    fn price_json(p: &Option<Price>) -> Value {
        p.as_ref().map_or(Value::Null, |p| {
            json!({"amount": p.amount, "amount_without_discount": p.amount_without_discount,
                   "currency": p.currency})
        })
    }

    /// The JSON Xsolla would send for `c`.
    pub(crate) fn to_json(c: &Contents) -> Value {
        let items: Vec<Value> = c
            .items
            .iter()
            .map(|i| {
                json!({"sku": i.sku, "quantity": i.quantity, "is_free": i.is_free,
                       "price": price_json(&i.price), "virtual_price": price_json(&i.virtual_price)})
            })
            .collect();
        json!({"is_free": c.is_free, "price": price_json(&c.price),
               "virtual_price": price_json(&c.virtual_price), "items": items})
    }

    /// Any JSON, biased towards the contents' own keys and the type drift seen in the wild.
    pub(crate) fn hostile_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from), // NaN and infinities become null
            prop_oneof!["true|false|-?[0-9]{1,20}(\\.[0-9]{1,4})?", ".{0,300}"]
                .prop_map(Value::String),
        ];
        let key = prop_oneof![
            "price|virtual_price|amount|amount_without_discount|currency|is_free|items|sku|quantity",
            "[a-z]{1,6}",
        ];
        leaf.prop_recursive(4, 96, 10, move |inner| {
            prop_oneof![
                vec(inner.clone(), 0..10).prop_map(Value::Array),
                btree_map(key.clone(), inner, 0..10)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::strategies::{contents, hostile_json, out_of_time, to_json};
    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn typed_contents_round_trip(c in contents()) {
            let _watchdog = crate::test_watchdog::arm();
            if out_of_time() { return Ok(()); }
            prop_assert_eq!(typed_contents(&normalize_contents(&to_json(&c))), c);
        }

        #[test]
        fn hostile_contents_stay_within_bounds(v in hostile_json()) {
            let _watchdog = crate::test_watchdog::arm();
            if out_of_time() { return Ok(()); }
            for json in [normalize_contents(&v), v.to_string()] {
                let c = typed_contents(&json);
                prop_assert!(c.items.len() <= MAX_ITEMS);
                let prices = [&c.price, &c.virtual_price].into_iter().chain(
                    c.items.iter().flat_map(|i| [&i.price, &i.virtual_price]));
                for p in prices.flatten() {
                    for t in [&p.amount, &p.amount_without_discount, &p.currency] {
                        prop_assert!(t.len() <= MAX_TEXT_BYTES);
                    }
                }
                for i in &c.items {
                    prop_assert!(i.sku.len() <= MAX_TEXT_BYTES);
                }
            }
        }
    }
}
