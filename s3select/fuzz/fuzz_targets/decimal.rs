//! Decimal text must never panic when parsed, and a parsed decimal must print back to the same
//! value; arithmetic between any two parsed decimals must never panic either.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nubis_s3select::select::decimal::Decimal;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (a, b) = text.split_once('|').unwrap_or((text, "3"));
    let (Some(x), Some(y)) = (Decimal::parse(a), Decimal::parse(b)) else { return };
    assert_eq!(Decimal::parse(&x.to_string()), Some(x));
    let _ = (x.checked_add(y), x.checked_sub(y), x.checked_mul(y), x.checked_div(y), x.checked_rem(y));
    let _ = (x.to_f64(), x.trunc_i64(), x.cmp(&y), Decimal::from_f64(x.to_f64()));
});
