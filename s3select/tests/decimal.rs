//! Exact DECIMAL: the decimal arithmetic against an i128 reference (proptest), and the SQL
//! surface over CSV — CAST, literals, promotion with INT and FLOAT, comparison, aggregates and
//! how results print.

use bytes::Bytes;
use nubis_core::{Env, Region};
use nubis_s3select::select::decimal::Decimal;
use nubis_s3select::select::{CsvInput, FileHeaderInfo, InputFormat, OutputFormat, SelectRequest};
use nubis_s3select::{PutObject, S3, ServiceError};
use proptest::prelude::*;

fn dec(c: i64, scale: i32) -> Decimal {
    Decimal::from_parts(i128::from(c), scale).unwrap()
}

/// `c × 10^-s` aligned to scale `to ≥ s`, exactly (the test ranges keep it under 10^31).
fn align(c: i64, s: i32, to: i32) -> i128 {
    i128::from(c) * 10i128.pow((to - s) as u32)
}

fn digits(v: u128) -> u32 {
    v.checked_ilog10().map_or(1, |l| l + 1)
}

/// `a ÷ b` by schoolbook long division on i128: 38 significant digits, half to even; an exact
/// quotient keeps the fewest fraction digits at or above `sa - sb`.
fn reference_div(ca: i128, sa: i32, cb: i64, sb: i32) -> (i128, i64) {
    let neg = (ca < 0) != (cb < 0);
    let (x, y) = (ca.unsigned_abs(), u128::from(cb.unsigned_abs()));
    let (mut q, mut r) = (x / y, x % y);
    let mut scale = i64::from(sa) - i64::from(sb);
    // r < y < 10^15 keeps r × 10 small; q stops at 38 digits (under 10^38).
    while r != 0 && (q == 0 || digits(q) < 38) {
        r *= 10;
        q = q * 10 + r / y;
        r %= y;
        scale += 1;
    }
    if r != 0 {
        // The 39th digit and whatever follows it decide the rounding.
        r *= 10;
        let next = r / y;
        r %= y;
        if next > 5 || (next == 5 && (r != 0 || q % 2 == 1)) {
            q += 1;
            if q == 10u128.pow(38) {
                q /= 10;
                scale -= 1;
            }
        }
    }
    let c = q as i128;
    (if neg { -c } else { c }, scale)
}

fn parts(d: Decimal) -> (i128, i64) {
    (d.coefficient(), i64::from(d.scale()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn decimal_arithmetic_agrees_with_an_i128_reference(
        ca in -999_999_999_999_999i64..=999_999_999_999_999,
        sa in -3i32..=15,
        cb in -999_999_999_999_999i64..=999_999_999_999_999,
        sb in -3i32..=15,
    ) {
        let (a, b) = (dec(ca, sa), dec(cb, sb));
        let s = sa.max(sb);
        let (x, y) = (align(ca, sa, s), align(cb, sb, s));
        prop_assert_eq!(parts(a.checked_add(b).unwrap()), (x + y, i64::from(s)));
        prop_assert_eq!(parts(a.checked_sub(b).unwrap()), (x - y, i64::from(s)));
        prop_assert_eq!(
            parts(a.checked_mul(b).unwrap()),
            (i128::from(ca) * i128::from(cb), i64::from(sa) + i64::from(sb))
        );
        prop_assert_eq!(a.cmp(&b), x.cmp(&y));
        if cb == 0 {
            prop_assert!(a.checked_div(b).is_err());
            prop_assert!(a.checked_rem(b).is_err());
        } else {
            prop_assert_eq!(parts(a.checked_div(b).unwrap()), reference_div(i128::from(ca), sa, cb, sb));
            // The remainder's value (its scale follows PartiQL and is checked elsewhere).
            let r = a.checked_rem(b).unwrap();
            prop_assert_eq!(r, Decimal::from_parts(x % y, s).unwrap());
        }
        // Text round trip keeps the value and the scale.
        let back = Decimal::parse(&a.to_string()).unwrap();
        prop_assert_eq!(back, a);
        prop_assert_eq!(parts(back).0 * 10i128.pow((a.scale() - back.scale()).max(0) as u32), parts(a).0 * 10i128.pow((back.scale() - a.scale()).max(0) as u32));
    }

    #[test]
    fn a_double_becomes_its_shortest_decimal(
        f in prop_oneof![any::<f64>(), (-1e6f64..1e6), (0i64..10_000_000).prop_map(|c| c as f64 / 100.0)],
    ) {
        if f.is_finite() {
            // Rust's `{:e}` prints the shortest digits that read back as `f`.
            prop_assert_eq!(Decimal::from_f64(f), Decimal::parse(&format!("{f:e}")));
        } else {
            prop_assert_eq!(Decimal::from_f64(f), None);
        }
    }

    #[test]
    fn doubles_compare_with_decimals_as_their_shortest_decimal(
        c in -999_999_999_999_999i64..=999_999_999_999_999,
        s in 0i32..=17,
        f in prop_oneof![any::<f64>(), (-1e6f64..1e6)],
    ) {
        let d = dec(c, s);
        let by_decimal = Decimal::from_f64(f).map(|fd| d.cmp(&fd));
        let v = nubis_s3select::select::value::compare_num(
            nubis_s3select::select::value::Num::Dec(d),
            nubis_s3select::select::value::Num::Float(f),
        );
        if let Some(o) = by_decimal {
            prop_assert_eq!(v, Some(o));
        }
    }
}

/// `a × b` for digit strings, by schoolbook multiplication.
fn mul_digits(a: &str, b: &str) -> String {
    let (a, b): (Vec<u32>, Vec<u32>) = (
        a.bytes().rev().map(|c| u32::from(c - b'0')).collect(),
        b.bytes().rev().map(|c| u32::from(c - b'0')).collect(),
    );
    let mut out = vec![0u32; a.len() + b.len()];
    for (i, x) in a.iter().enumerate() {
        let mut carry = 0;
        for (j, y) in b.iter().enumerate() {
            let t = out[i + j] + x * y + carry;
            out[i + j] = t % 10;
            carry = t / 10;
        }
        let mut k = i + b.len();
        while carry > 0 {
            let t = out[k] + carry;
            out[k] = t % 10;
            carry = t / 10;
            k += 1;
        }
    }
    let s: String = out
        .iter()
        .rev()
        .map(|d| char::from(b'0' + *d as u8))
        .collect();
    let t = s.trim_start_matches('0');
    if t.is_empty() { "0".into() } else { t.into() }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Results past 38 digits round half to even: the 384-bit path of `checked_mul` and
    /// `checked_add` agrees with reading the exact result's digits back through `parse`.
    #[test]
    fn wide_results_round_like_parsing_their_exact_digits(
        a in 1u128..10u128.pow(38),
        b in 1u128..10u128.pow(38),
        sa in -20i32..40,
        sb in -20i32..40,
        neg in any::<bool>(),
    ) {
        let sign = if neg { -1 } else { 1 };
        let x = Decimal::from_parts(sign * a as i128, sa).unwrap();
        let y = Decimal::from_parts(b as i128, sb).unwrap();
        let exact = format!("{}{}e{}", if neg { "-" } else { "" }, mul_digits(&a.to_string(), &b.to_string()), -(i64::from(sa) + i64::from(sb)));
        let want = Decimal::parse(&exact).unwrap();
        let got = x.checked_mul(y).unwrap();
        prop_assert_eq!(got, want);
        prop_assert_eq!(got.scale(), want.scale());
        // A 38-digit dividend over a divisor under 10^15, against long division.
        let small = (b % 999_999_999_999_999) as i64 + 1;
        let q = x.checked_div(Decimal::from_parts(i128::from(small), sb).unwrap()).unwrap();
        prop_assert_eq!(parts(q), reference_div(sign * a as i128, sa, small, sb));
        if sa == sb && !neg {
            // Same scale: the exact sum has at most 39 digits, within u128.
            let exact = format!("{}e{}", a + b, -i64::from(sa));
            let want = Decimal::parse(&exact).unwrap();
            let got = x.checked_add(y).unwrap();
            prop_assert_eq!(got, want);
            prop_assert_eq!(got.scale(), want.scale());
        }
    }
}

fn store() -> S3 {
    let s3 = S3::new(Env::default());
    s3.create_bucket(&Region::US_EAST_1, "dec", None).unwrap();
    let csv = "a,b,f\n0.1,0.2,0.5\n12345678901234567890.123456789012345678,1,2.5\n-7.25,3,1e3\n";
    s3.put_object(PutObject::new("dec", "d.csv", Bytes::from(csv)))
        .unwrap();
    s3.put_object(PutObject::new(
        "dec",
        "ints.csv",
        Bytes::from("n\n1\n2\n2\n"),
    ))
    .unwrap();
    s3
}

fn run(s3: &S3, key: &str, sql: &str, output: OutputFormat) -> Result<String, String> {
    let input = InputFormat::Csv(CsvInput {
        file_header_info: FileHeaderInfo::Use,
        ..Default::default()
    });
    let mut req = SelectRequest::new(sql, input);
    req.output = output;
    s3.select_object_content_to_end("dec", key, &req)
        .map(|(out, _)| String::from_utf8_lossy(&out).into_owned())
        .map_err(|e| e.code().to_owned())
}

fn csv(s3: &S3, sql: &str) -> String {
    run(s3, "d.csv", sql, OutputFormat::Csv(Default::default())).unwrap_or_else(|e| e)
}

#[test]
fn cast_to_decimal_is_exact() {
    let s3 = store();
    assert_eq!(
        csv(
            &s3,
            "SELECT CAST(a AS DECIMAL), CAST(a AS NUMERIC) FROM S3Object"
        ),
        "0.1,0.1\n12345678901234567890.123456789012345678,12345678901234567890.123456789012345678\n-7.25,-7.25\n"
    );
    // Precision and scale, when given, are ignored (as S3 Select documents).
    assert_eq!(
        csv(&s3, "SELECT CAST(a AS DECIMAL(5, 2)) FROM S3Object LIMIT 1"),
        "0.1\n"
    );
    // Exact sums, where doubles would print 0.30000000000000004.
    assert_eq!(
        csv(
            &s3,
            "SELECT CAST(a AS DECIMAL) + CAST(b AS DECIMAL) FROM S3Object"
        ),
        "0.3\n12345678901234567891.123456789012345678\n-4.25\n"
    );
    assert_eq!(
        csv(
            &s3,
            "SELECT CAST(a AS DECIMAL) * 2, CAST(a AS DECIMAL) / 4, -CAST(a AS DECIMAL) FROM S3Object LIMIT 1"
        ),
        "0.2,0.025,-0.1\n"
    );
    assert_eq!(
        csv(&s3, "SELECT CAST('x' AS DECIMAL) FROM S3Object"),
        "CastFailed"
    );
    assert_eq!(
        csv(&s3, "SELECT CAST(a AS DECIMAL) / 0 FROM S3Object"),
        "ExternalEvalException"
    );
    // Back out of DECIMAL: INT truncates, FLOAT rounds to the nearest double, STRING is exact.
    assert_eq!(
        csv(
            &s3,
            "SELECT CAST(CAST(a AS DECIMAL) AS INT), CAST(CAST(a AS DECIMAL) AS FLOAT), CAST(CAST(a AS DECIMAL) AS STRING) FROM S3Object WHERE b = '3'"
        ),
        "-7,-7.25,-7.25\n"
    );
}

#[test]
fn literals_are_decimals_and_promotion_follows_partiql() {
    let s3 = store();
    // A literal with a point is a DECIMAL: 0.1 + 0.2 is exactly 0.3.
    assert_eq!(csv(&s3, "SELECT 0.1 + 0.2 FROM S3Object LIMIT 1"), "0.3\n");
    assert_eq!(csv(&s3, "SELECT 1.50 FROM S3Object LIMIT 1"), "1.50\n");
    // INT with DECIMAL is a DECIMAL; 7 / 2 with INTs stays an INT.
    assert_eq!(
        csv(&s3, "SELECT 7 / 2, 7.0 / 2, 3 * 1.5 FROM S3Object LIMIT 1"),
        "3,3.5,4.5\n"
    );
    // FLOAT with DECIMAL is a DECIMAL, the double joining as its shortest decimal.
    assert_eq!(
        csv(&s3, "SELECT CAST(f AS FLOAT) + 0.1 FROM S3Object"),
        "0.6\n2.6\n1000.1\n"
    );
    // An integer too large for INT is an exact DECIMAL.
    assert_eq!(
        csv(&s3, "SELECT 99999999999999999999 + 1 FROM S3Object LIMIT 1"),
        "100000000000000000000\n"
    );
    // Numeric text meeting a decimal is read as a decimal, every digit kept.
    assert_eq!(
        csv(
            &s3,
            "SELECT a FROM S3Object WHERE a > 12345678901234567890.123456789012345677"
        ),
        "12345678901234567890.123456789012345678\n"
    );
    assert_eq!(
        csv(
            &s3,
            "SELECT a FROM S3Object WHERE CAST(a AS DECIMAL) = 12345678901234567890.123456789012345678"
        ),
        "12345678901234567890.123456789012345678\n"
    );
    assert_eq!(
        csv(
            &s3,
            "SELECT b FROM S3Object WHERE CAST(f AS FLOAT) = 0.5 OR CAST(a AS DECIMAL) BETWEEN -8 AND -7"
        ),
        "0.2\n3\n"
    );
    assert_eq!(
        csv(
            &s3,
            "SELECT b FROM S3Object WHERE CAST(a AS DECIMAL) IN (0.10, 5)"
        ),
        "0.2\n"
    );
}

#[test]
fn aggregates_have_the_documented_types() {
    let s3 = store();
    // SUM of DECIMAL is an exact DECIMAL; MIN/MAX keep the argument's type.
    assert_eq!(
        csv(
            &s3,
            "SELECT SUM(CAST(a AS DECIMAL)), MIN(CAST(a AS DECIMAL)), MAX(CAST(a AS DECIMAL)) FROM S3Object"
        ),
        "12345678901234567882.973456789012345678,-7.25,12345678901234567890.123456789012345678\n"
    );
    // AVG of INT is a DECIMAL (38 digits, half to even); SUM of INT stays an INT.
    assert_eq!(
        run(
            &s3,
            "ints.csv",
            "SELECT AVG(CAST(n AS INT)), SUM(CAST(n AS INT)) FROM S3Object",
            OutputFormat::Csv(Default::default())
        )
        .unwrap(),
        "1.6666666666666666666666666666666666667,5\n"
    );
    // AVG of FLOAT stays a FLOAT.
    assert_eq!(
        run(
            &s3,
            "ints.csv",
            "SELECT AVG(CAST(n AS FLOAT)) FROM S3Object",
            OutputFormat::Csv(Default::default())
        )
        .unwrap(),
        "1.6666666666666667\n"
    );
    assert_eq!(
        csv(&s3, "SELECT AVG(CAST(b AS DECIMAL)) FROM S3Object"),
        "1.4\n"
    );
}

#[test]
fn json_output_prints_decimals_as_exact_numbers() {
    let s3 = store();
    let json = OutputFormat::Json {
        record_delimiter: b"\n".to_vec(),
    };
    assert_eq!(
        run(
            &s3,
            "d.csv",
            "SELECT CAST(a AS DECIMAL) AS x FROM S3Object",
            json.clone()
        )
        .unwrap(),
        "{\"x\":0.1}\n{\"x\":12345678901234567890.123456789012345678}\n{\"x\":-7.25}\n"
    );
    assert_eq!(
        run(
            &s3,
            "d.csv",
            "SELECT CAST('1e-100' AS DECIMAL) AS x FROM S3Object LIMIT 1",
            json
        )
        .unwrap(),
        "{\"x\":1E-100}\n"
    );
}
