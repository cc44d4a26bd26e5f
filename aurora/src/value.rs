//! Runtime values: one variant per stored type, with a total order and hashing that agree.
//!
//! Guarantees: `Ord`/`Eq`/`Hash` treat numbers by value across integer, numeric and float
//! variants (so `1 = 1.0` groups and joins as PostgreSQL does), sort NULL after everything (the
//! default `ASC NULLS LAST`), and put NaN above every other float as PostgreSQL does. `Display`
//! prints PostgreSQL's text output format.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use bigdecimal::{BigDecimal, ToPrimitive};

use crate::datetime;
use crate::types::DataType;

/// A PostgreSQL interval: months, days and microseconds are kept apart as PostgreSQL does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Interval {
    /// Whole months.
    pub months: i32,
    /// Whole days.
    pub days: i32,
    /// Microseconds.
    pub micros: i64,
}

impl Interval {
    /// The interval as microseconds, with PostgreSQL's 30-day month for comparison.
    pub fn total_micros(&self) -> i128 {
        (self.months as i128 * 30 + self.days as i128) * 86_400_000_000 + self.micros as i128
    }
}

/// A SQL value.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Value {
    /// SQL NULL.
    Null,
    /// `boolean`.
    Bool(bool),
    /// `smallint`.
    Int2(i16),
    /// `integer`.
    Int4(i32),
    /// `bigint`.
    Int8(i64),
    /// `numeric`, exact.
    Numeric(BigDecimal),
    /// `real`.
    Float4(f32),
    /// `double precision`.
    Float8(f64),
    /// Any string type.
    Text(Arc<str>),
    /// `bytea`.
    Bytea(Arc<[u8]>),
    /// `date`: days since 1970-01-01.
    Date(i32),
    /// `time`: microseconds since midnight.
    Time(i64),
    /// `timestamp`: microseconds since 1970-01-01 00:00.
    Timestamp(i64),
    /// `timestamptz`: microseconds since 1970-01-01 00:00 UTC.
    TimestampTz(i64),
    /// `interval`.
    Interval(Interval),
    /// `uuid`.
    Uuid(u128),
    /// `jsonb` / `json`.
    Json(Arc<serde_json::Value>),
    /// An array.
    Array(Arc<Vec<Value>>),
}

impl Value {
    /// A text value.
    pub fn text(s: impl Into<Arc<str>>) -> Value {
        Value::Text(s.into())
    }

    /// Whether this is NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value's own type (`Unknown` for NULL).
    pub fn data_type(&self) -> DataType {
        match self {
            Value::Null => DataType::Unknown,
            Value::Bool(_) => DataType::Bool,
            Value::Int2(_) => DataType::Int2,
            Value::Int4(_) => DataType::Int4,
            Value::Int8(_) => DataType::Int8,
            Value::Numeric(_) => DataType::Numeric(None),
            Value::Float4(_) => DataType::Float4,
            Value::Float8(_) => DataType::Float8,
            Value::Text(_) => DataType::Text,
            Value::Bytea(_) => DataType::Bytea,
            Value::Date(_) => DataType::Date,
            Value::Time(_) => DataType::Time,
            Value::Timestamp(_) => DataType::Timestamp,
            Value::TimestampTz(_) => DataType::TimestampTz,
            Value::Interval(_) => DataType::Interval,
            Value::Uuid(_) => DataType::Uuid,
            Value::Json(_) => DataType::Jsonb,
            Value::Array(items) => DataType::Array(Box::new(
                items
                    .iter()
                    .find(|v| !v.is_null())
                    .map(|v| v.data_type())
                    .unwrap_or(DataType::Text),
            )),
        }
    }

    /// The integer value of an integer variant.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int2(v) => Some(*v as i64),
            Value::Int4(v) => Some(*v as i64),
            Value::Int8(v) => Some(*v),
            _ => None,
        }
    }

    /// The value as a float, for numeric variants.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int2(v) => Some(*v as f64),
            Value::Int4(v) => Some(*v as f64),
            Value::Int8(v) => Some(*v as f64),
            Value::Numeric(d) => d.to_f64(),
            Value::Float4(v) => Some(*v as f64),
            Value::Float8(v) => Some(*v),
            _ => None,
        }
    }

    /// The value as an exact decimal, for integer and numeric variants.
    pub fn as_decimal(&self) -> Option<BigDecimal> {
        match self {
            Value::Int2(v) => Some(BigDecimal::from(*v)),
            Value::Int4(v) => Some(BigDecimal::from(*v)),
            Value::Int8(v) => Some(BigDecimal::from(*v)),
            Value::Numeric(d) => Some(d.clone()),
            _ => None,
        }
    }

    /// The string of a text value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// Ordering rank of the variant family, so values of unrelated types still order totally.
    fn family(&self) -> u8 {
        match self {
            Value::Bool(_) => 0,
            Value::Int2(_)
            | Value::Int4(_)
            | Value::Int8(_)
            | Value::Numeric(_)
            | Value::Float4(_)
            | Value::Float8(_) => 1,
            Value::Text(_) => 2,
            Value::Bytea(_) => 3,
            Value::Date(_) | Value::Timestamp(_) | Value::TimestampTz(_) => 4,
            Value::Time(_) => 5,
            Value::Interval(_) => 6,
            Value::Uuid(_) => 7,
            Value::Json(_) => 8,
            Value::Array(_) => 9,
            Value::Null => 10,
        }
    }

    /// Microseconds since the epoch for the date/timestamp family (dates at midnight).
    fn instant_micros(&self) -> i64 {
        match self {
            Value::Date(d) => *d as i64 * 86_400_000_000,
            Value::Timestamp(t) | Value::TimestampTz(t) => *t,
            _ => 0,
        }
    }

    /// SQL comparison: `None` when either side is NULL.
    pub fn sql_cmp(&self, other: &Value) -> Option<Ordering> {
        if self.is_null() || other.is_null() {
            return None;
        }
        Some(self.cmp(other))
    }
}

fn float_cmp(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

fn numeric_cmp(a: &Value, b: &Value) -> Ordering {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return x.cmp(&y);
    }
    let is_float = |v: &Value| matches!(v, Value::Float4(_) | Value::Float8(_));
    if is_float(a) || is_float(b) {
        return float_cmp(a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
    }
    match (a.as_decimal(), b.as_decimal()) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => Ordering::Equal,
    }
}

fn json_cmp(a: &serde_json::Value, b: &serde_json::Value) -> Ordering {
    a.to_string().cmp(&b.to_string())
}

impl Ord for Value {
    fn cmp(&self, other: &Value) -> Ordering {
        let (fa, fb) = (self.family(), other.family());
        if fa != fb {
            return fa.cmp(&fb);
        }
        match (self, other) {
            (Value::Null, Value::Null) => Ordering::Equal,
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::Text(a), Value::Text(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Value::Bytea(a), Value::Bytea(b)) => a.cmp(b),
            (Value::Time(a), Value::Time(b)) => a.cmp(b),
            (Value::Interval(a), Value::Interval(b)) => a.total_micros().cmp(&b.total_micros()),
            (Value::Uuid(a), Value::Uuid(b)) => a.cmp(b),
            (Value::Json(a), Value::Json(b)) => json_cmp(a, b),
            (Value::Array(a), Value::Array(b)) => a.iter().cmp(b.iter()),
            _ if fa == 1 => numeric_cmp(self, other),
            _ if fa == 4 => self.instant_micros().cmp(&other.instant_micros()),
            _ => Ordering::Equal,
        }
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Value) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let fam = self.family();
        fam.hash(state);
        match self {
            Value::Null => {}
            Value::Bool(b) => b.hash(state),
            Value::Int2(_)
            | Value::Int4(_)
            | Value::Int8(_)
            | Value::Numeric(_)
            | Value::Float4(_)
            | Value::Float8(_) => {
                // Hash every number through one canonical form so equal numbers of different
                // variants land in the same bucket.
                if let Some(i) = self.as_i64() {
                    i.hash(state);
                } else if let Value::Numeric(d) = self {
                    match d.to_i64().filter(|_| d.is_integer()) {
                        Some(i) => i.hash(state),
                        None => d.normalized().to_string().hash(state),
                    }
                } else {
                    let f = self.as_f64().unwrap_or(0.0);
                    if f.fract() == 0.0 && f.abs() < 9.0e18 {
                        (f as i64).hash(state);
                    } else if f.is_nan() {
                        u64::MAX.hash(state);
                    } else {
                        // A non-integral float equal to some numeric would need the numeric's
                        // hash too; render through the decimal form to keep the two consistent.
                        match BigDecimal::try_from(f) {
                            Ok(d) => d.normalized().to_string().hash(state),
                            Err(_) => f.to_bits().hash(state),
                        }
                    }
                }
            }
            Value::Text(s) => s.hash(state),
            Value::Bytea(b) => b.hash(state),
            Value::Date(_) | Value::Timestamp(_) | Value::TimestampTz(_) => {
                self.instant_micros().hash(state)
            }
            Value::Time(t) => t.hash(state),
            Value::Interval(i) => i.total_micros().hash(state),
            Value::Uuid(u) => u.hash(state),
            Value::Json(j) => j.to_string().hash(state),
            Value::Array(a) => a.hash(state),
        }
    }
}

/// Formats a float the way PostgreSQL 12+ does (shortest round-trip digits).
pub fn format_float(v: f64, single: bool) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let s = if single {
        format!("{:e}", v as f32)
    } else {
        format!("{v:e}")
    };
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let limit = if single { 6 } else { 15 };
    if exp < -4 || exp >= limit {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else if single {
        format!("{}", v as f32)
    } else {
        format!("{v}")
    }
}

/// Text of a bytea in PostgreSQL's hex output format.
pub fn format_bytea(b: &[u8]) -> String {
    let mut s = String::with_capacity(2 + b.len() * 2);
    s.push_str("\\x");
    for byte in b {
        s.push_str(&format!("{byte:02x}"));
    }
    s
}

/// Text of a UUID in its canonical hyphenated form.
pub fn format_uuid(u: u128) -> String {
    let h = format!("{u:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn quote_array_elem(s: &str) -> String {
    if s.is_empty()
        || s.eq_ignore_ascii_case("null")
        || s.chars()
            .any(|c| matches!(c, ',' | '{' | '}' | '"' | '\\' | ' '))
    {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        s.to_string()
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Bool(b) => f.write_str(if *b { "t" } else { "f" }),
            Value::Int2(v) => write!(f, "{v}"),
            Value::Int4(v) => write!(f, "{v}"),
            Value::Int8(v) => write!(f, "{v}"),
            Value::Numeric(d) => f.write_str(&d.to_plain_string()),
            Value::Float4(v) => f.write_str(&format_float(*v as f64, true)),
            Value::Float8(v) => f.write_str(&format_float(*v, false)),
            Value::Text(s) => f.write_str(s),
            Value::Bytea(b) => f.write_str(&format_bytea(b)),
            Value::Date(d) => f.write_str(&datetime::format_date(*d)),
            Value::Time(t) => f.write_str(&datetime::format_time(*t)),
            Value::Timestamp(t) => f.write_str(&datetime::format_timestamp(*t)),
            Value::TimestampTz(t) => write!(f, "{}+00", datetime::format_timestamp(*t)),
            Value::Interval(i) => f.write_str(&datetime::format_interval(i)),
            Value::Uuid(u) => f.write_str(&format_uuid(*u)),
            Value::Json(j) => f.write_str(&crate::json::format_jsonb(j)),
            Value::Array(items) => {
                f.write_str("{")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    match item {
                        Value::Null => f.write_str("NULL")?,
                        Value::Text(s) => f.write_str(&quote_array_elem(s))?,
                        other => f.write_str(&quote_array_elem(&other.to_string()))?,
                    }
                }
                f.write_str("}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn numbers_compare_and_hash_by_value() {
        let one = [
            Value::Int4(1),
            Value::Int8(1),
            Value::Numeric(BigDecimal::from(1)),
            Value::Float8(1.0),
        ];
        let set: HashSet<Value> = one.iter().cloned().collect();
        assert_eq!(set.len(), 1);
        assert!(Value::Int4(2) > Value::Numeric("1.5".parse().unwrap_or_default()));
        assert!(Value::Null > Value::Int4(i32::MAX));
        assert!(Value::Float8(f64::NAN) > Value::Float8(f64::INFINITY));
    }

    #[test]
    fn floats_print_like_postgresql() {
        assert_eq!(format_float(0.1, false), "0.1");
        assert_eq!(format_float(1e20, false), "1e+20");
        assert_eq!(format_float(1.5e-5, false), "1.5e-05");
        assert_eq!(format_float(123456.0, false), "123456");
        assert_eq!(
            format_uuid(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
            "01234567-89ab-cdef-0123-456789abcdef"
        );
    }
}
