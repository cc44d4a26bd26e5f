//! Values of the S3 Select evaluator: PartiQL's MISSING and NULL, booleans, integers, floats,
//! exact decimals, strings, timestamps, lists and structs.
//!
//! A [`Value`] borrows strings from the input record where it can (`Cow::Borrowed`), so
//! evaluating a filter over a CSV field or a JSON string without escapes allocates nothing.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt::Write as _;

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike,
};

pub use super::decimal::Decimal;

/// How precise a timestamp is, which decides how it prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TsPrecision {
    /// `2007T`
    Year,
    /// `2007-02T`
    Month,
    /// `2007-02-23T`
    Day,
    /// `2007-02-23T12:14Z`
    Minute,
    /// `2007-02-23T12:14:33Z`
    Second,
    /// `2007-02-23T12:14:33.079Z` with this many fraction digits (1–9).
    Fraction(u8),
}

/// A timestamp with an offset and a precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    /// The instant and its offset.
    pub dt: DateTime<FixedOffset>,
    /// How it prints.
    pub precision: TsPrecision,
}

impl Timestamp {
    /// Parses S3 Select's timestamp forms (ISO 8601 as Ion writes it): `2007T`, `2007-02T`,
    /// `2007-02-23` or `2007-02-23T`, `2007-02-23T12:14Z`, `…T12:14:33Z`, `…T12:14:33.079+08:00`.
    pub fn parse(s: &str) -> Option<Timestamp> {
        let s = s.trim();
        let utc = FixedOffset::east_opt(0)?;
        let ymd = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d);
        let b = s.as_bytes();
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            s.get(r)
                .filter(|x| x.bytes().all(|c| c.is_ascii_digit()))
                .and_then(|x| x.parse().ok())
        };
        if b.len() == 5 && b[4] == b'T' {
            let d = ymd(num(0..4)? as i32, 1, 1)?;
            return Some(Timestamp {
                dt: utc.from_utc_datetime(&d.and_time(NaiveTime::MIN)),
                precision: TsPrecision::Year,
            });
        }
        if b.len() == 8 && b[4] == b'-' && b[7] == b'T' {
            let d = ymd(num(0..4)? as i32, num(5..7)?, 1)?;
            return Some(Timestamp {
                dt: utc.from_utc_datetime(&d.and_time(NaiveTime::MIN)),
                precision: TsPrecision::Month,
            });
        }
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let date = ymd(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
        if b.len() == 10 || (b.len() == 11 && b[10] == b'T') {
            return Some(Timestamp {
                dt: utc.from_utc_datetime(&date.and_time(NaiveTime::MIN)),
                precision: TsPrecision::Day,
            });
        }
        if b[10] != b'T' || b.len() < 17 || b[13] != b':' {
            return None;
        }
        let (h, mi) = (num(11..13)?, num(14..16)?);
        let mut i = 16;
        let mut sec = 0;
        let mut nanos = 0u32;
        let mut precision = TsPrecision::Minute;
        if b.get(i) == Some(&b':') {
            sec = num(17..19)?;
            i = 19;
            precision = TsPrecision::Second;
            if b.get(i) == Some(&b'.') {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                let digits = j - start;
                if digits == 0 || digits > 9 {
                    return None;
                }
                let frac: u32 = s.get(start..j)?.parse().ok()?;
                nanos = frac * 10u32.pow(9 - digits as u32);
                precision = TsPrecision::Fraction(digits as u8);
                i = j;
            }
        }
        let offset = match s.get(i..)? {
            "Z" | "z" => utc,
            tz if tz.len() == 6
                && (tz.starts_with('+') || tz.starts_with('-'))
                && tz.as_bytes()[3] == b':' =>
            {
                let oh: i32 = tz.get(1..3)?.parse().ok()?;
                let om: i32 = tz.get(4..6)?.parse().ok()?;
                if oh > 23 || om > 59 {
                    return None;
                }
                let secs = (oh * 3600 + om * 60) * if tz.starts_with('-') { -1 } else { 1 };
                FixedOffset::east_opt(secs)?
            }
            _ => return None,
        };
        let t = NaiveTime::from_hms_nano_opt(h, mi, sec, nanos)?;
        let local = NaiveDateTime::new(date, t);
        let dt = offset.from_local_datetime(&local).single()?;
        Some(Timestamp { dt, precision })
    }

    /// Prints in the same ISO form and precision it was read with.
    pub fn to_iso(&self) -> String {
        let d = &self.dt;
        let mut s = String::with_capacity(32);
        match self.precision {
            TsPrecision::Year => {
                let _ = write!(s, "{:04}T", d.year());
                return s;
            }
            TsPrecision::Month => {
                let _ = write!(s, "{:04}-{:02}T", d.year(), d.month());
                return s;
            }
            TsPrecision::Day => {
                let _ = write!(s, "{:04}-{:02}-{:02}T", d.year(), d.month(), d.day());
                return s;
            }
            _ => {}
        }
        let _ = write!(
            s,
            "{:04}-{:02}-{:02}T{:02}:{:02}",
            d.year(),
            d.month(),
            d.day(),
            d.hour(),
            d.minute()
        );
        match self.precision {
            TsPrecision::Second => {
                let _ = write!(s, ":{:02}", d.second());
            }
            TsPrecision::Fraction(n) => {
                let frac = format!("{:09}", d.nanosecond());
                let _ = write!(s, ":{:02}.{}", d.second(), &frac[..usize::from(n.min(9))]);
            }
            _ => {}
        }
        let off = d.offset().local_minus_utc();
        if off == 0 {
            s.push('Z');
        } else {
            let sign = if off < 0 { '-' } else { '+' };
            let a = off.abs();
            let _ = write!(s, "{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60);
        }
        s
    }
}

/// A value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// Absent (a path that leads nowhere).
    Missing,
    /// SQL NULL.
    Null,
    /// A boolean.
    Bool(bool),
    /// A 64-bit integer.
    Int(i64),
    /// A double.
    Float(f64),
    /// An exact decimal (`DECIMAL`/`NUMERIC`).
    Decimal(Decimal),
    /// A string, borrowed from the input when possible.
    Str(Cow<'a, str>),
    /// A timestamp.
    Ts(Timestamp),
    /// A list.
    List(Vec<Value<'a>>),
    /// A struct (field order kept).
    Struct(Vec<(Cow<'a, str>, Value<'a>)>),
}

impl<'a> Value<'a> {
    /// Whether NULL or MISSING.
    pub fn is_absent(&self) -> bool {
        matches!(self, Value::Null | Value::Missing)
    }

    /// A borrowed string value.
    pub fn str(s: &'a str) -> Self {
        Value::Str(Cow::Borrowed(s))
    }

    /// Detaches the value from the input's lifetime.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Missing => Value::Missing,
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(b),
            Value::Int(i) => Value::Int(i),
            Value::Float(f) => Value::Float(f),
            Value::Decimal(d) => Value::Decimal(d),
            Value::Str(s) => Value::Str(Cow::Owned(s.into_owned())),
            Value::Ts(t) => Value::Ts(t),
            Value::List(l) => Value::List(l.into_iter().map(Value::into_owned).collect()),
            Value::Struct(f) => Value::Struct(
                f.into_iter()
                    .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
                    .collect(),
            ),
        }
    }

    /// The field `name` of a struct (case-insensitively unless `exact`), or MISSING.
    pub fn field(&self, name: &str, exact: bool) -> Value<'a> {
        match self {
            Value::Struct(fields) => fields
                .iter()
                .find(|(k, _)| {
                    if exact {
                        k == name
                    } else {
                        k.eq_ignore_ascii_case(name)
                    }
                })
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::Missing),
            _ => Value::Missing,
        }
    }

    /// The type name used in messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Missing => "MISSING",
            Value::Null => "NULL",
            Value::Bool(_) => "BOOL",
            Value::Int(_) => "INT",
            Value::Float(_) => "FLOAT",
            Value::Decimal(_) => "DECIMAL",
            Value::Str(_) => "STRING",
            Value::Ts(_) => "TIMESTAMP",
            Value::List(_) => "LIST",
            Value::Struct(_) => "STRUCT",
        }
    }

    /// The value as a number if it is one, or a string that reads as one.
    pub fn as_number(&self) -> Option<Num> {
        match self {
            Value::Int(i) => Some(Num::Int(*i)),
            Value::Float(f) => Some(Num::Float(*f)),
            Value::Decimal(d) => Some(Num::Dec(*d)),
            Value::Str(s) => parse_number(s),
            _ => None,
        }
    }

    /// The value as a number to combine with a decimal: like [`Value::as_number`], except
    /// that text is read as an exact decimal (so no digit of it is lost to a double).
    pub fn as_number_for_decimal(&self) -> Option<Num> {
        match self {
            Value::Str(s) => Decimal::parse(s).map(Num::Dec),
            v => v.as_number(),
        }
    }

    /// Writes the value as JSON.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Value::Missing | Value::Null => out.extend_from_slice(b"null"),
            Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Int(i) => {
                let _ = write_display(out, i);
            }
            Value::Float(f) => write_float(out, *f),
            Value::Decimal(d) => d.write(out),
            Value::Str(s) => write_json_str(out, s),
            Value::Ts(t) => write_json_str(out, &t.to_iso()),
            Value::List(l) => {
                out.push(b'[');
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    v.write_json(out);
                }
                out.push(b']');
            }
            Value::Struct(fields) => {
                out.push(b'{');
                let mut first = true;
                for (k, v) in fields {
                    if matches!(v, Value::Missing) {
                        continue;
                    }
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    write_json_str(out, k);
                    out.push(b':');
                    v.write_json(out);
                }
                out.push(b'}');
            }
        }
    }

    /// The text of the value in a CSV field (unquoted): NULL and MISSING are empty.
    pub fn write_text(&self, out: &mut Vec<u8>) {
        match self {
            Value::Missing | Value::Null => {}
            Value::Str(s) => out.extend_from_slice(s.as_bytes()),
            Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Int(i) => {
                let _ = write_display(out, i);
            }
            Value::Float(f) => write_float(out, *f),
            Value::Decimal(d) => d.write(out),
            Value::Ts(t) => out.extend_from_slice(t.to_iso().as_bytes()),
            Value::List(_) | Value::Struct(_) => self.write_json(out),
        }
    }
}

fn write_display(out: &mut Vec<u8>, v: &dyn std::fmt::Display) -> std::io::Result<()> {
    use std::io::Write;
    write!(out, "{v}")
}

/// Writes a float the way S3 Select prints it: integral values keep no fraction digits beyond
/// what is needed, non-finite values print as their names.
pub fn write_float(out: &mut Vec<u8>, f: f64) {
    let _ = write_display(out, &f);
}

/// Writes `s` as a JSON string literal.
pub fn write_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &c) in bytes.iter().enumerate() {
        let esc: Option<&[u8]> = match c {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            c if c < 0x20 => None,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        match esc {
            Some(e) => out.extend_from_slice(e),
            None => {
                let _ = write_display(out, &format_args!("\\u{:04x}", c));
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// A number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    /// An integer.
    Int(i64),
    /// A double.
    Float(f64),
    /// An exact decimal.
    Dec(Decimal),
}

impl Num {
    /// As a double.
    pub fn f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
            Num::Dec(d) => d.to_f64(),
        }
    }

    /// As a decimal, as PartiQL promotes a number meeting a decimal (a double becomes its
    /// shortest decimal); `None` for NaN and infinities.
    pub fn dec(self) -> Option<Decimal> {
        match self {
            Num::Int(i) => Some(Decimal::from_i64(i)),
            Num::Float(f) => Decimal::from_f64(f),
            Num::Dec(d) => Some(d),
        }
    }

    /// Into a value.
    pub fn value(self) -> Value<'static> {
        match self {
            Num::Int(i) => Value::Int(i),
            Num::Float(f) => Value::Float(f),
            Num::Dec(d) => Value::Decimal(d),
        }
    }
}

/// Orders two numbers: integers exactly, doubles as doubles, and a decimal against anything
/// exactly after PartiQL's promotion (a double as its shortest decimal).
pub fn compare_num(x: Num, y: Num) -> Option<Ordering> {
    match (x, y) {
        (Num::Int(a), Num::Int(b)) => Some(a.cmp(&b)),
        (Num::Dec(a), Num::Dec(b)) => Some(a.cmp(&b)),
        (Num::Dec(a), Num::Int(b)) => Some(a.cmp(&Decimal::from_i64(b))),
        (Num::Int(a), Num::Dec(b)) => Some(Decimal::from_i64(a).cmp(&b)),
        (Num::Dec(a), Num::Float(f)) => dec_float_cmp(a, f),
        (Num::Float(f), Num::Dec(b)) => dec_float_cmp(b, f).map(Ordering::reverse),
        (a, b) => a.f64().partial_cmp(&b.f64()),
    }
}

/// Orders decimal `d` against double `f` as `d` against `f`'s shortest decimal.
#[inline]
fn dec_float_cmp(d: Decimal, f: f64) -> Option<Ordering> {
    // Up to 15 digits, comparing doubles gives the same order without building a decimal.
    if let Some(x) = d.to_f64_comparable() {
        return x.partial_cmp(&f);
    }
    match Decimal::from_f64(f) {
        Some(y) => Some(d.cmp(&y)),
        None => d.to_f64().partial_cmp(&f),
    }
}

/// Parses an integer or decimal from text (surrounding spaces allowed), fast for the common
/// `[-]digits[.digits]` shape and exact where a double can be.
pub fn parse_number(s: &str) -> Option<Num> {
    let t = s.trim();
    let b = t.as_bytes();
    if b.is_empty() {
        return None;
    }
    let (neg, digits) = match b[0] {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() {
        return None;
    }
    let mut mant: u64 = 0;
    let mut i = 0;
    let mut ndig = 0;
    while i < digits.len() && digits[i].is_ascii_digit() {
        if ndig < 19 {
            mant = mant * 10 + u64::from(digits[i] - b'0');
        }
        ndig += 1;
        i += 1;
    }
    if i == digits.len() && ndig > 0 {
        if ndig <= 18 {
            let v = mant as i64;
            return Some(Num::Int(if neg { -v } else { v }));
        }
        return t
            .parse::<i64>()
            .ok()
            .map(Num::Int)
            .or_else(|| t.parse::<f64>().ok().map(Num::Float));
    }
    if digits[i] == b'.' {
        let mut j = i + 1;
        let mut frac_digits = 0u32;
        while j < digits.len() && digits[j].is_ascii_digit() {
            if ndig < 19 {
                mant = mant * 10 + u64::from(digits[j] - b'0');
                frac_digits += 1;
            }
            ndig += 1;
            j += 1;
        }
        if j == digits.len() && ndig > 0 && ndig < 16 && frac_digits <= 22 {
            // Both the mantissa and 10^k are exact doubles here, so one division rounds correctly.
            const POW10: [f64; 23] = [
                1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
                1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
            ];
            let v = mant as f64 / POW10[frac_digits as usize];
            return Some(Num::Float(if neg { -v } else { v }));
        }
    }
    let lower = t.to_ascii_lowercase();
    if lower.contains("inf") || lower.contains("nan") {
        return None;
    }
    t.parse::<f64>().ok().map(Num::Float)
}

/// Compares two values for ordering: numbers with numbers (strings that read as numbers
/// count as numbers when the other side is a number), strings with strings, booleans,
/// timestamps. `None` when they are not comparable.
pub fn compare(a: &Value<'_>, b: &Value<'_>) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Str(x), Value::Str(y)) => Some(x.as_ref().cmp(y.as_ref())),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Ts(x), Value::Ts(y)) => Some(x.dt.cmp(&y.dt)),
        // A double column against a decimal literal (`CAST(x AS FLOAT) > 1.5`): straight to
        // the double comparison, per row.
        (Value::Float(f), Value::Decimal(d)) => dec_float_cmp(*d, *f).map(Ordering::reverse),
        (Value::Decimal(d), Value::Float(f)) => dec_float_cmp(*d, *f),
        (Value::Decimal(x), Value::Decimal(y)) => Some(x.cmp(y)),
        (Value::Decimal(_), Value::Int(_) | Value::Str(_))
        | (Value::Int(_) | Value::Str(_), Value::Decimal(_)) => {
            compare_num(a.as_number_for_decimal()?, b.as_number_for_decimal()?)
        }
        (Value::Int(_) | Value::Float(_), Value::Str(_))
        | (Value::Str(_), Value::Int(_) | Value::Float(_))
        | (Value::Float(_), Value::Int(_) | Value::Float(_))
        | (Value::Int(_), Value::Float(_)) => compare_num(a.as_number()?, b.as_number()?),
        (Value::Ts(x), Value::Str(s)) => Timestamp::parse(s).map(|y| x.dt.cmp(&y.dt)),
        (Value::Str(s), Value::Ts(y)) => Timestamp::parse(s).map(|x| x.dt.cmp(&y.dt)),
        _ => None,
    }
}

/// SQL equality: `None` (unknown) when either side is NULL/MISSING or the types cannot be
/// compared.
pub fn equals(a: &Value<'_>, b: &Value<'_>) -> Option<bool> {
    match (a, b) {
        (Value::List(x), Value::List(y)) => Some(x == y),
        (Value::Struct(x), Value::Struct(y)) => Some(x == y),
        _ => compare(a, b).map(|o| o == Ordering::Equal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_their_precision() {
        for s in [
            "2007T",
            "2007-02T",
            "2007-02-23T",
            "2007-02-23T12:14Z",
            "2007-02-23T12:14:33Z",
            "2007-02-23T12:14:33.079Z",
            "2007-02-23T12:14:33.079-08:00",
        ] {
            let t = Timestamp::parse(s).unwrap_or_else(|| panic!("{s}"));
            assert_eq!(t.to_iso(), s);
        }
        assert_eq!(
            Timestamp::parse("2007-02-23")
                .map(|t| t.to_iso())
                .as_deref(),
            Some("2007-02-23T")
        );
        assert!(Timestamp::parse("2007-13-01T").is_none());
        assert!(Timestamp::parse("yesterday").is_none());
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("42"), Some(Num::Int(42)));
        assert_eq!(parse_number(" -7 "), Some(Num::Int(-7)));
        assert_eq!(parse_number("12.50"), Some(Num::Float(12.5)));
        assert_eq!(parse_number("0.1"), Some(Num::Float(0.1)));
        assert_eq!(parse_number("1e3"), Some(Num::Float(1000.0)));
        assert_eq!(parse_number("abc"), None);
        assert_eq!(parse_number("nan"), None);
        assert_eq!(parse_number("99999999999999999999"), Some(Num::Float(1e20)));
        assert_eq!(
            compare(&Value::str("10"), &Value::Int(9)),
            Some(Ordering::Greater)
        );
        assert_eq!(
            compare(&Value::str("10"), &Value::str("9")),
            Some(Ordering::Less)
        );
    }

    #[test]
    fn json_output_escapes() {
        let mut out = Vec::new();
        Value::Struct(vec![
            ("a\"".into(), Value::str("x\ny")),
            ("m".into(), Value::Missing),
            ("n".into(), Value::Null),
        ])
        .write_json(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a\"":"x\ny","n":null}"#
        );
    }
}
