//! Lays typed order contents out as the C structs `xo_contents`, `xo_item` and `xo_price`, in
//! storage that one event callback borrows and that is freed when the callback returns.

use std::ffi::{c_char, CString};

use super::types::{xo_contents, xo_item, xo_price};
use crate::contents::{typed_contents, Contents, Price};

/// Owns every struct and string `xo_contents` points to. Boxed, so the pointers stay valid for
/// as long as the box lives; dropping it frees everything.
pub struct ContentsStorage {
    /// Every string the prices and items point to (a `CString`'s bytes never move).
    _texts: Vec<CString>,
    /// Every price, indexed by [`Slot`]s.
    _prices: Box<[xo_price]>,
    /// The items `contents.items` points to.
    _items: Box<[xo_item]>,
    contents: xo_contents,
}

impl ContentsStorage {
    /// Reads contents JSON and lays it out; `None` when there is no JSON.
    pub fn from_json(json: Option<&str>) -> Option<Box<Self>> {
        json.map(|json| Self::new(&typed_contents(json)))
    }

    /// Lays out `contents`.
    pub fn new(contents: &Contents) -> Box<Self> {
        let mut texts = Vec::new();
        let mut prices = Vec::new();
        let mut slot = |p: &Option<Price>| -> Option<usize> {
            let p = p.as_ref()?;
            prices.push(xo_price {
                amount: keep(&mut texts, &p.amount),
                amount_without_discount: keep(&mut texts, &p.amount_without_discount),
                currency: keep(&mut texts, &p.currency),
            });
            Some(prices.len() - 1)
        };
        let price = slot(&contents.price);
        let virtual_price = slot(&contents.virtual_price);
        let item_slots: Vec<_> = contents
            .items
            .iter()
            .map(|item| (slot(&item.price), slot(&item.virtual_price)))
            .collect();
        let mut skus: Vec<*const c_char> = Vec::with_capacity(contents.items.len());
        for item in &contents.items {
            skus.push(keep(&mut texts, &item.sku));
        }
        // The prices are final: pointers into the boxed slice stay valid from here on.
        let prices = prices.into_boxed_slice();
        let at = |i: Option<usize>| i.map_or(std::ptr::null(), |i| &prices[i] as *const xo_price);
        let items: Box<[xo_item]> = contents
            .items
            .iter()
            .zip(item_slots)
            .zip(skus)
            .map(|((item, (p, vp)), sku)| xo_item {
                sku,
                quantity: item.quantity,
                is_free: i32::from(item.is_free),
                price: at(p),
                virtual_price: at(vp),
            })
            .collect();
        let contents = xo_contents {
            struct_size: std::mem::size_of::<xo_contents>() as u32,
            is_free: i32::from(contents.is_free),
            price: at(price),
            virtual_price: at(virtual_price),
            items: if items.is_empty() {
                std::ptr::null()
            } else {
                items.as_ptr()
            },
            // typed_contents keeps at most MAX_ITEMS (1000) items.
            item_count: u32::try_from(items.len()).unwrap_or(u32::MAX),
        };
        Box::new(Self {
            _texts: texts,
            _prices: prices,
            _items: items,
            contents,
        })
    }

    /// The `xo_contents` to hand to the host; valid while `self` lives.
    pub fn as_ptr(&self) -> *const xo_contents {
        &self.contents
    }
}

/// Stores `text` as a C string (a NUL inside becomes a space) and returns its pointer.
fn keep(texts: &mut Vec<CString>, text: &str) -> *const c_char {
    let c = CString::new(text.replace('\0', " ")).unwrap_or_default();
    let ptr = c.as_ptr();
    texts.push(c);
    ptr
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;

    use super::*;
    use crate::contents::Price;

    unsafe fn text(p: *const c_char) -> &'static str {
        assert!(!p.is_null());
        CStr::from_ptr(p).to_str().unwrap()
    }

    #[test]
    fn lays_out_prices_and_items() {
        let _watchdog = crate::test_watchdog::arm();
        let json = r#"{"is_free":true,"price":{"amount":"30","currency":"USD"},"virtual_price":null,
            "items":[{"sku":"a\u0000b","quantity":2,"virtual_price":{"amount":"5","amount_without_discount":"6","currency":"gold"}},
                     {"sku":"c","quantity":1,"is_free":true,"price":{"amount":"1","currency":"EUR"}}]}"#;
        let storage = ContentsStorage::from_json(Some(json)).unwrap();
        // SAFETY: every pointer comes from `storage`, alive until the end of the test.
        unsafe {
            let c = &*storage.as_ptr();
            assert_eq!(c.struct_size as usize, std::mem::size_of::<xo_contents>());
            assert_eq!(c.is_free, 1);
            assert_eq!(text((*c.price).amount), "30");
            assert_eq!(text((*c.price).amount_without_discount), "");
            assert!(c.virtual_price.is_null());
            assert_eq!(c.item_count, 2);
            let items = std::slice::from_raw_parts(c.items, 2);
            assert_eq!(text(items[0].sku), "a b");
            assert_eq!(items[0].quantity, 2);
            assert_eq!(items[0].is_free, 0);
            assert!(items[0].price.is_null());
            assert_eq!(text((*items[0].virtual_price).currency), "gold");
            assert_eq!(text((*items[0].virtual_price).amount_without_discount), "6");
            assert_eq!(text(items[1].sku), "c");
            assert_eq!(items[1].is_free, 1);
            assert_eq!(text((*items[1].price).currency), "EUR");
        }
    }

    #[test]
    fn no_items_means_a_null_array() {
        let _watchdog = crate::test_watchdog::arm();
        let storage = ContentsStorage::from_json(Some("{}")).unwrap();
        // SAFETY: as above.
        let c = unsafe { &*storage.as_ptr() };
        assert_eq!(c.item_count, 0);
        assert!(c.items.is_null() && c.price.is_null() && c.virtual_price.is_null());
        assert!(ContentsStorage::from_json(None).is_none());
    }

    /// Reads a laid-out `xo_price` back.
    unsafe fn price_back(p: *const xo_price) -> Option<Price> {
        p.as_ref().map(|p| Price {
            amount: text(p.amount).to_owned(),
            amount_without_discount: text(p.amount_without_discount).to_owned(),
            currency: text(p.currency).to_owned(),
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 256, failure_persistence: None, ..Default::default()
        })]

        #[test]
        fn the_c_layout_mirrors_the_typed_contents(c in crate::contents::strategies::contents()) {
            let _watchdog = crate::test_watchdog::arm();
            if crate::contents::strategies::out_of_time() { return Ok(()); }
            let storage = ContentsStorage::new(&c);
            // SAFETY: every pointer comes from `storage`, alive for this block.
            let back = unsafe {
                let raw = &*storage.as_ptr();
                let items = if raw.item_count == 0 {
                    proptest::prop_assert!(raw.items.is_null());
                    &[][..]
                } else {
                    std::slice::from_raw_parts(raw.items, raw.item_count as usize)
                };
                Contents {
                    is_free: raw.is_free == 1,
                    price: price_back(raw.price),
                    virtual_price: price_back(raw.virtual_price),
                    items: items.iter().map(|i| crate::contents::Item {
                        sku: text(i.sku).to_owned(),
                        quantity: i.quantity,
                        is_free: i.is_free == 1,
                        price: price_back(i.price),
                        virtual_price: price_back(i.virtual_price),
                    }).collect(),
                }
            };
            let mut expected = c;
            let clean = |t: &mut String| *t = t.replace('\0', " ");
            for p in [&mut expected.price, &mut expected.virtual_price].into_iter().flatten() {
                clean(&mut p.amount);
                clean(&mut p.amount_without_discount);
                clean(&mut p.currency);
            }
            for i in &mut expected.items {
                clean(&mut i.sku);
                for p in [&mut i.price, &mut i.virtual_price].into_iter().flatten() {
                    clean(&mut p.amount);
                    clean(&mut p.amount_without_discount);
                    clean(&mut p.currency);
                }
            }
            proptest::prop_assert_eq!(back, expected);
        }
    }
}
