//! Conversions between types: text input parsing and PostgreSQL's cast rules.
//!
//! Guarantees: NULL casts to NULL of any type; integer overflow raises 22003 (`integer out of
//! range`); bad text raises 22P02 (`invalid input syntax for type integer: "x"`); numeric to
//! integer rounds half away from zero and float to integer rounds half to even, as PostgreSQL
//! does; an assignment into `varchar(n)` longer than n raises 22001, while an explicit cast
//! truncates.

use std::str::FromStr;
use std::sync::Arc;

use bigdecimal::{BigDecimal, RoundingMode, ToPrimitive};

use crate::datetime;
use crate::error::{AuroraError, Result};
use crate::types::DataType;
use crate::value::{Interval, Value};

/// Why a cast happens: the rules for length limits differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CastMode {
    /// `CAST(x AS t)` / `x::t`: silently truncates strings.
    Explicit,
    /// Storing into a column: a too-long string is an error.
    Assignment,
}

/// Casts `v` to `ty`.
pub fn cast(v: &Value, ty: &DataType, mode: CastMode) -> Result<Value> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    Ok(match ty {
        DataType::Unknown => v.clone(),
        DataType::Bool => match v {
            Value::Bool(_) => v.clone(),
            Value::Int2(_) | Value::Int4(_) | Value::Int8(_) => Value::Bool(v.as_i64() != Some(0)),
            Value::Text(s) => Value::Bool(parse_bool(s)?),
            _ => return Err(cannot_cast(v, ty)),
        },
        DataType::Int2 => {
            Value::Int2(to_int(v, "smallint", i16::MIN as i64, i16::MAX as i64)? as i16)
        }
        DataType::Int4 => {
            Value::Int4(to_int(v, "integer", i32::MIN as i64, i32::MAX as i64)? as i32)
        }
        DataType::Int8 => Value::Int8(to_int(v, "bigint", i64::MIN, i64::MAX)?),
        DataType::Numeric(typmod) => {
            let d = match v {
                Value::Text(s) => parse_numeric(s)?,
                Value::Float4(_) | Value::Float8(_) => {
                    let f = v.as_f64().unwrap_or(0.0);
                    if f.is_nan() || f.is_infinite() {
                        return Err(AuroraError::unsupported(
                            "casting NaN or Infinity to numeric",
                        ));
                    }
                    BigDecimal::from_str(&crate::value::format_float(
                        f,
                        matches!(v, Value::Float4(_)),
                    ))
                    .map_err(|_| cannot_cast(v, ty))?
                }
                other => other.as_decimal().ok_or_else(|| cannot_cast(v, ty))?,
            };
            Value::Numeric(apply_typmod(d, *typmod)?)
        }
        DataType::Float4 => Value::Float4(to_float(v, "real")? as f32),
        DataType::Float8 => Value::Float8(to_float(v, "double precision")?),
        DataType::Text => Value::text(text_of(v)),
        DataType::Varchar(len) => {
            let s = text_of(v);
            match len {
                Some(n) if s.chars().count() > *n as usize => {
                    let trimmed = s.trim_end_matches(' ');
                    if mode == CastMode::Explicit || trimmed.chars().count() <= *n as usize {
                        Value::text(s.chars().take(*n as usize).collect::<String>())
                    } else {
                        return Err(AuroraError::sql(
                            "22001",
                            format!("value too long for type character varying({n})"),
                        ));
                    }
                }
                _ => Value::text(s),
            }
        }
        DataType::Char(n) => {
            let s = text_of(v);
            let count = s.chars().count();
            let n = *n as usize;
            if count > n {
                if mode == CastMode::Assignment && s.chars().skip(n).any(|c| c != ' ') {
                    return Err(AuroraError::sql(
                        "22001",
                        format!("value too long for type character({n})"),
                    ));
                }
                Value::text(s.chars().take(n).collect::<String>())
            } else {
                Value::text(format!("{s}{}", " ".repeat(n - count)))
            }
        }
        DataType::Bytea => match v {
            Value::Bytea(_) => v.clone(),
            Value::Text(s) => Value::Bytea(parse_bytea(s)?.into()),
            _ => return Err(cannot_cast(v, ty)),
        },
        DataType::Date => match v {
            Value::Date(_) => v.clone(),
            Value::Timestamp(t) | Value::TimestampTz(t) => {
                Value::Date(t.div_euclid(86_400_000_000) as i32)
            }
            Value::Text(s) => Value::Date(datetime::parse_date(s)?),
            _ => return Err(cannot_cast(v, ty)),
        },
        DataType::Time => match v {
            Value::Time(_) => v.clone(),
            Value::Timestamp(t) | Value::TimestampTz(t) => {
                Value::Time(t.rem_euclid(86_400_000_000))
            }
            Value::Interval(i) => Value::Time(i.micros.rem_euclid(86_400_000_000)),
            Value::Text(s) => Value::Time(datetime::parse_time(s)?),
            _ => return Err(cannot_cast(v, ty)),
        },
        DataType::Timestamp => match v {
            Value::Timestamp(_) => v.clone(),
            Value::TimestampTz(t) => Value::Timestamp(*t),
            Value::Date(d) => Value::Timestamp(*d as i64 * 86_400_000_000),
            Value::Text(s) => Value::Timestamp(datetime::parse_timestamp(s, false)?),
            _ => return Err(cannot_cast(v, ty)),
        },
        DataType::TimestampTz => match v {
            Value::TimestampTz(_) => v.clone(),
            Value::Timestamp(t) => Value::TimestampTz(*t),
            Value::Date(d) => Value::TimestampTz(*d as i64 * 86_400_000_000),
            Value::Text(s) => Value::TimestampTz(datetime::parse_timestamp(s, true)?),
            _ => return Err(cannot_cast(v, ty)),
        },
        DataType::Interval => match v {
            Value::Interval(_) => v.clone(),
            Value::Time(t) => Value::Interval(Interval {
                months: 0,
                days: 0,
                micros: *t,
            }),
            Value::Text(s) => Value::Interval(datetime::parse_interval(s)?),
            _ => return Err(cannot_cast(v, ty)),
        },
        DataType::Uuid => match v {
            Value::Uuid(_) => v.clone(),
            Value::Text(s) => Value::Uuid(parse_uuid(s)?),
            _ => return Err(cannot_cast(v, ty)),
        },
        DataType::Jsonb | DataType::Json => match v {
            Value::Json(_) => v.clone(),
            Value::Text(s) => Value::Json(Arc::new(crate::json::parse(s)?)),
            _ => return Err(cannot_cast(v, ty)),
        },
        DataType::Array(inner) => match v {
            Value::Array(items) => Value::Array(Arc::new(
                items
                    .iter()
                    .map(|i| cast(i, inner, mode))
                    .collect::<Result<_>>()?,
            )),
            Value::Text(s) => Value::Array(Arc::new(parse_array(s, inner)?)),
            _ => return Err(cannot_cast(v, ty)),
        },
    })
}

fn cannot_cast(v: &Value, ty: &DataType) -> AuroraError {
    AuroraError::sql(
        "42846",
        format!("cannot cast type {} to {ty}", v.data_type()),
    )
}

/// The text form of a value (its output representation).
pub fn text_of(v: &Value) -> Arc<str> {
    match v {
        Value::Text(s) => s.clone(),
        other => other.to_string().into(),
    }
}

/// PostgreSQL's boolean input: `t`, `true`, `yes`, `on`, `1` and their opposites, any prefix.
pub fn parse_bool(s: &str) -> Result<bool> {
    let t = s.trim().to_ascii_lowercase();
    let matches = |word: &str| !t.is_empty() && word.starts_with(t.as_str());
    if t == "1" || matches("true") || matches("yes") || t == "on" {
        Ok(true)
    } else if t == "0" || matches("false") || matches("no") || t == "off" || t == "of" {
        Ok(false)
    } else {
        Err(AuroraError::invalid_input("boolean", s))
    }
}

fn to_int(v: &Value, name: &str, min: i64, max: i64) -> Result<i64> {
    let out = || AuroraError::out_of_range(name);
    let n = match v {
        Value::Int2(_) | Value::Int4(_) | Value::Int8(_) => v.as_i64().unwrap_or(0),
        Value::Bool(b) => *b as i64,
        Value::Numeric(d) => d
            .with_scale_round(0, RoundingMode::HalfUp)
            .to_i64()
            .ok_or_else(out)?,
        Value::Float4(_) | Value::Float8(_) => {
            let f = v.as_f64().unwrap_or(0.0).round_ties_even();
            if !f.is_finite() || f < min as f64 || f > max as f64 {
                return Err(out());
            }
            f as i64
        }
        Value::Text(s) => {
            let t = s.trim();
            t.parse::<i64>().map_err(|e| {
                if matches!(
                    e.kind(),
                    std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow
                ) {
                    AuroraError::sql(
                        "22003",
                        format!("value \"{s}\" is out of range for type {name}"),
                    )
                } else {
                    AuroraError::invalid_input(name, s)
                }
            })?
        }
        _ => return Err(cannot_cast(v, &DataType::Int8)),
    };
    if n < min || n > max {
        if let Value::Text(s) = v {
            return Err(AuroraError::sql(
                "22003",
                format!("value \"{s}\" is out of range for type {name}"),
            ));
        }
        return Err(out());
    }
    Ok(n)
}

fn to_float(v: &Value, name: &str) -> Result<f64> {
    match v {
        Value::Text(s) => {
            let t = s.trim().to_ascii_lowercase();
            match t.as_str() {
                "nan" => Ok(f64::NAN),
                "infinity" | "inf" | "+infinity" => Ok(f64::INFINITY),
                "-infinity" | "-inf" => Ok(f64::NEG_INFINITY),
                _ => t
                    .parse::<f64>()
                    .map_err(|_| AuroraError::invalid_input(name, s)),
            }
        }
        Value::Bool(_) => Err(cannot_cast(v, &DataType::Float8)),
        other => other
            .as_f64()
            .ok_or_else(|| cannot_cast(v, &DataType::Float8)),
    }
}

/// Parses numeric text (`12.50`, `-1e3`, ` 7 `).
pub fn parse_numeric(s: &str) -> Result<BigDecimal> {
    let t = s.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("nan") || t.to_ascii_lowercase().contains("inf") {
        return Err(AuroraError::invalid_input("numeric", s));
    }
    let d = BigDecimal::from_str(t).map_err(|_| AuroraError::invalid_input("numeric", s))?;
    // Scientific input has a negative scale; PostgreSQL displays such values with scale 0.
    Ok(if d.fractional_digit_count() < 0 {
        d.with_scale(0)
    } else {
        d
    })
}

/// Rounds to `numeric(p, s)` and checks the precision (22003 `numeric field overflow`).
pub fn apply_typmod(d: BigDecimal, typmod: Option<(u32, u32)>) -> Result<BigDecimal> {
    let Some((p, s)) = typmod else { return Ok(d) };
    let r = d.with_scale_round(s as i64, RoundingMode::HalfUp);
    let int_digits = {
        let (int, _) = r.with_scale(0).as_bigint_and_exponent();
        let digits = int.magnitude().to_string();
        if digits == "0" {
            0
        } else {
            digits.len() as u32
        }
    };
    if int_digits + s > p {
        return Err(AuroraError::sql("22003", "numeric field overflow"));
    }
    Ok(r)
}

fn parse_bytea(s: &str) -> Result<Vec<u8>> {
    if let Some(hex) = s.strip_prefix("\\x") {
        if hex.len() % 2 != 0 {
            return Err(AuroraError::invalid_input("bytea", s));
        }
        (0..hex.len())
            .step_by(2)
            .map(|i| {
                u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16)
                    .map_err(|_| AuroraError::invalid_input("bytea", s))
            })
            .collect()
    } else {
        Ok(s.as_bytes().to_vec())
    }
}

/// Parses a UUID in its hyphenated, braced or plain-hex form.
pub fn parse_uuid(s: &str) -> Result<u128> {
    let hex: String = s
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .chars()
        .filter(|c| *c != '-')
        .collect();
    if hex.len() != 32 {
        return Err(AuroraError::invalid_input("uuid", s));
    }
    u128::from_str_radix(&hex, 16).map_err(|_| AuroraError::invalid_input("uuid", s))
}

/// Parses an array literal `{1,2,NULL,"a b"}`.
fn parse_array(s: &str, inner: &DataType) -> Result<Vec<Value>> {
    let t = s.trim();
    let body = t
        .strip_prefix('{')
        .and_then(|b| b.strip_suffix('}'))
        .ok_or_else(|| AuroraError::sql("22P02", format!("malformed array literal: \"{s}\"")))?;
    let mut items = Vec::new();
    if body.trim().is_empty() {
        return Ok(items);
    }
    let mut cur = String::new();
    let mut quoted = false;
    let mut was_quoted = false;
    let mut chars = body.chars();
    let mut push = |cur: &mut String, was_quoted: &mut bool| -> Result<()> {
        let raw = if *was_quoted {
            cur.clone()
        } else {
            cur.trim().to_string()
        };
        items.push(if !*was_quoted && raw.eq_ignore_ascii_case("null") {
            Value::Null
        } else {
            cast(&Value::text(raw), inner, CastMode::Explicit)?
        });
        cur.clear();
        *was_quoted = false;
        Ok(())
    };
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                was_quoted = true;
            }
            '\\' if quoted => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ',' if !quoted => push(&mut cur, &mut was_quoted)?,
            c => cur.push(c),
        }
    }
    push(&mut cur, &mut was_quoted)?;
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_follow_postgresql() {
        let c = |v: Value, t: DataType| cast(&v, &t, CastMode::Explicit);
        assert_eq!(
            c(Value::text("42"), DataType::Int4).ok(),
            Some(Value::Int4(42))
        );
        assert_eq!(
            c(Value::text("x"), DataType::Int4)
                .err()
                .map(|e| e.to_string()),
            Some("invalid input syntax for type integer: \"x\"".into())
        );
        assert_eq!(
            c(Value::Int8(1 << 40), DataType::Int4)
                .err()
                .map(|e| e.to_string()),
            Some("integer out of range".into())
        );
        assert_eq!(
            c(
                Value::Numeric("2.5".parse().unwrap_or_default()),
                DataType::Int4
            )
            .ok(),
            Some(Value::Int4(3))
        );
        assert_eq!(
            c(Value::Float8(2.5), DataType::Int4).ok(),
            Some(Value::Int4(2))
        );
        assert_eq!(
            c(Value::text("yes"), DataType::Bool).ok(),
            Some(Value::Bool(true))
        );
        let long = cast(
            &Value::text("abcdef"),
            &DataType::Varchar(Some(3)),
            CastMode::Assignment,
        );
        assert_eq!(long.err().map(|e| e.sqlstate()), Some("22001"));
        let r = apply_typmod("123.456".parse().unwrap_or_default(), Some((5, 2)));
        assert_eq!(r.ok().map(|d| d.to_string()), Some("123.46".into()));
        assert!(apply_typmod("1234.5".parse().unwrap_or_default(), Some((5, 2))).is_err());
        let arr = c(
            Value::text("{1,2,NULL}"),
            DataType::Array(Box::new(DataType::Int4)),
        );
        assert_eq!(arr.ok().map(|a| a.to_string()), Some("{1,2,NULL}".into()));
    }
}
