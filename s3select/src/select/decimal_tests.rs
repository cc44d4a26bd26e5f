//! Unit tests of [`super`]: parsing, printing, arithmetic and rounding, sums.

use super::*;

fn d(s: &str) -> Decimal {
    Decimal::parse(s).unwrap_or_else(|| panic!("{s}"))
}

fn text(x: Decimal) -> String {
    x.to_string()
}

#[test]
fn parses_and_prints_exactly() {
    for s in [
        "0",
        "1.50",
        "-12.345",
        "0.0000000001",
        "12345678901234567890.1234567890123456",
        "99999999999999999999999999999999999999",
        "-0.00",
    ] {
        let want = if s == "-0.00" { "0.00" } else { s };
        assert_eq!(text(d(s)), want);
    }
    assert_eq!(text(d(".5")), "0.5");
    assert_eq!(text(d("5.")), "5");
    assert_eq!(text(d("1e3")), "1000");
    assert_eq!(text(d("1.5E-3")), "0.0015");
    assert_eq!(text(d("1e200")), "1E+200");
    assert_eq!(text(d("-2.5e-100")), "-2.5E-100");
    // 39 significant digits round half to even.
    assert_eq!(
        text(d("1234567890123456789012345678901234567.85")),
        "1234567890123456789012345678901234567.8"
    );
    assert_eq!(
        text(d("1234567890123456789012345678901234567.25")),
        "1234567890123456789012345678901234567.2"
    );
    assert_eq!(
        text(d("999999999999999999999999999999999999999")),
        format!("1{}", "0".repeat(39))
    );
    for bad in ["", "-", ".", "e5", "1e", "1.2.3", "abc", "1x", "nan", "inf"] {
        assert!(Decimal::parse(bad).is_none(), "{bad}");
    }
    assert!(Decimal::parse("1e9999999999").is_none());
    assert_eq!(text(d("0e9999999999")), "0");
}

#[test]
fn arithmetic() {
    assert_eq!(text(d("0.1").checked_add(d("0.2")).unwrap()), "0.3");
    assert_eq!(text(d("1.50").checked_add(d("2")).unwrap()), "3.50");
    assert_eq!(text(d("0.00").checked_add(d("5")).unwrap()), "5.00");
    assert_eq!(text(d("1").checked_sub(d("0.001")).unwrap()), "0.999");
    assert_eq!(text(d("1.5").checked_mul(d("1.5")).unwrap()), "2.25");
    assert_eq!(text(d("1").checked_div(d("4")).unwrap()), "0.25");
    assert_eq!(text(d("6").checked_div(d("2")).unwrap()), "3");
    assert_eq!(text(d("1.00").checked_div(d("2")).unwrap()), "0.50");
    assert_eq!(
        text(d("1").checked_div(d("3")).unwrap()),
        "0.33333333333333333333333333333333333333"
    );
    assert_eq!(
        text(d("2").checked_div(d("3")).unwrap()),
        "0.66666666666666666666666666666666666667"
    );
    assert_eq!(text(d("7.5").checked_rem(d("2")).unwrap()), "1.5");
    assert_eq!(text(d("-7.5").checked_rem(d("2")).unwrap()), "-1.5");
    assert_eq!(d("1").checked_div(d("0")), Err(DecError::DivByZero));
    // Far-apart terms: the sum rounds to the larger one.
    assert_eq!(
        text(d("1e30").checked_add(d("1e-30")).unwrap()),
        "1000000000000000000000000000000"
    );
    assert_eq!(
        text(d("1").checked_sub(d("1e-38")).unwrap()),
        "0.99999999999999999999999999999999999999"
    );
    // 39 nines round up to 38 digits.
    assert_eq!(
        text(d("1").checked_sub(d("1e-39")).unwrap()),
        format!("1.{}", "0".repeat(37))
    );
    let big = d("99999999999999999999999999999999999999");
    assert_eq!(
        text(big.checked_add(d("1")).unwrap()),
        format!("1{}", "0".repeat(38))
    );
    assert_eq!(
        text(big.checked_mul(big).unwrap()),
        format!("{}8{}", "9".repeat(37), "0".repeat(38))
    );
    assert_eq!(
        d("1e-2147483647").checked_mul(d("1e-10")),
        Err(DecError::Overflow)
    );
}

#[test]
fn shortest_decimal_of_a_double() {
    for f in [
        123.45,
        -0.1,
        0.3,
        1e-7,
        5e-324,
        1.7976931348623157e308,
        2.675,
        1.0 / 3.0,
    ] {
        let slow = Decimal::parse(&format!("{f:e}")).unwrap();
        let fast = Decimal::from_f64(f).unwrap();
        assert_eq!(fast, slow, "{f}");
        assert_eq!(fast.to_f64(), f);
    }
}

#[test]
fn sums_are_exact_and_order_free() {
    let big = d("99999999999999999999999999999999999999");
    let mut a = DecimalSum::default();
    for x in [big, big, d("0.5"), -big, -big] {
        a.add(x).unwrap();
    }
    // Exact: rounding each step would have lost the 0.5.
    assert_eq!(text(a.total().unwrap()), "0.5");
    // Split across two sums and merged: the same answer.
    let (mut x, mut y) = (DecimalSum::default(), DecimalSum::default());
    x.add(big).unwrap();
    x.add(d("0.5")).unwrap();
    y.add(-big).unwrap();
    y.add(d("1.25")).unwrap();
    x.merge(&y).unwrap();
    assert_eq!(text(x.total().unwrap()), "1.75");
    // Scales far apart fall back to rounded addition without failing.
    let mut z = DecimalSum::default();
    z.add(d("1e60")).unwrap();
    z.add(d("1e-60")).unwrap();
    z.add(d("0e-999")).unwrap();
    assert_eq!(z.total().unwrap(), d("1e60"));
    assert_eq!(DecimalSum::default().total().unwrap(), Decimal::ZERO);
}

#[test]
fn wide_parquet_values() {
    let v = Decimal::from_i256_parts(12345, 0, 2).unwrap();
    assert_eq!(text(v), "123.45");
    // -1 in two's complement.
    let v = Decimal::from_i256_parts(u128::MAX, -1, 0).unwrap();
    assert_eq!(text(v), "-1");
    // 2^128 = 340282366920938463463374607431768211456 (39 digits) rounds to 38.
    let v = Decimal::from_i256_parts(0, 1, 0).unwrap();
    assert_eq!(text(v), "340282366920938463463374607431768211460");
    // The most negative 256-bit value does not panic.
    assert!(Decimal::from_i256_parts(0, i128::MIN, 0).is_ok());
}

#[test]
fn ordering_and_conversions() {
    assert!(d("1.5") == d("1.50"));
    assert!(d("-2") < d("1e-30"));
    assert!(d("0.1") < d("0.10000000000000000000000000000000000001"));
    assert!(d("-0.1") > d("-0.10000000000000000000000000000000000001"));
    assert_eq!(d("12.5").to_f64(), 12.5);
    assert_eq!(d("0.1").to_f64(), 0.1);
    assert_eq!(d("1e300").to_f64(), 1e300);
    assert_eq!(d("-12.9").trunc_i64(), Some(-12));
    assert_eq!(d("1e30").trunc_i64(), None);
    assert_eq!(Decimal::from_f64(0.1), Some(d("0.1")));
    assert_eq!(Decimal::from_f64(1e20), Some(d("1e20")));
    assert_eq!(Decimal::from_f64(f64::NAN), None);
    assert_eq!(
        Decimal::from_parts(i128::MAX, 0).map(text),
        Ok("170141183460469231731687303715884105730".to_string())
    );
}
