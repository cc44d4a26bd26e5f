//! Operators on values: arithmetic with PostgreSQL's overflow and division rules, comparison,
//! string concatenation, date/time arithmetic and the JSONB operators.
//!
//! Guarantees: integer arithmetic is checked (22003 `integer out of range` / `smallint …` /
//! `bigint …`), division by zero is 22012, NULL in gives NULL out, and `numeric` division uses
//! PostgreSQL's result-scale rule (at least 16 significant digits).

use std::cmp::Ordering;
use std::sync::Arc;

use bigdecimal::{BigDecimal, RoundingMode, ToPrimitive, Zero};

use crate::datetime;
use crate::error::{AuroraError, Result};
use crate::json;
use crate::value::{Interval, Value};

/// Binary operators after binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^`
    Pow,
    /// `=`
    Eq,
    /// `<>`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `AND`
    And,
    /// `OR`
    Or,
    /// `||`
    Concat,
    /// `&`
    BitAnd,
    /// `|`
    BitOr,
    /// `#`
    BitXor,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
    /// `->`
    JsonGet,
    /// `->>`
    JsonGetText,
    /// `#>`
    JsonPath,
    /// `#>>`
    JsonPathText,
    /// `@>`
    Contains,
    /// `<@`
    ContainedBy,
    /// `?`
    HasKey,
    /// `?|`
    HasAnyKey,
    /// `?&`
    HasAllKeys,
    /// `#-` is not provided; `-` on jsonb is handled by `Sub`.
    /// `~` (and `~*`, `!~`, `!~*` with the flags)
    Regex {
        /// `~*`
        insensitive: bool,
        /// `!~`
        negated: bool,
    },
    /// `^@`
    StartsWith,
}

impl BinOp {
    /// Whether this is a comparison returning boolean.
    pub fn is_comparison(&self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::NotEq | BinOp::Lt | BinOp::LtEq | BinOp::Gt | BinOp::GtEq
        )
    }

    /// The operator's SQL spelling.
    pub fn symbol(&self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Pow => "^",
            BinOp::Eq => "=",
            BinOp::NotEq => "<>",
            BinOp::Lt => "<",
            BinOp::LtEq => "<=",
            BinOp::Gt => ">",
            BinOp::GtEq => ">=",
            BinOp::And => "AND",
            BinOp::Or => "OR",
            BinOp::Concat => "||",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "#",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
            BinOp::JsonGet => "->",
            BinOp::JsonGetText => "->>",
            BinOp::JsonPath => "#>",
            BinOp::JsonPathText => "#>>",
            BinOp::Contains => "@>",
            BinOp::ContainedBy => "<@",
            BinOp::HasKey => "?",
            BinOp::HasAnyKey => "?|",
            BinOp::HasAllKeys => "?&",
            BinOp::Regex {
                insensitive: false,
                negated: false,
            } => "~",
            BinOp::Regex {
                insensitive: true,
                negated: false,
            } => "~*",
            BinOp::Regex {
                insensitive: false,
                negated: true,
            } => "!~",
            BinOp::Regex {
                insensitive: true,
                negated: true,
            } => "!~*",
            BinOp::StartsWith => "^@",
        }
    }
}

fn undefined(op: BinOp, a: &Value, b: &Value) -> AuroraError {
    AuroraError::undefined_function(format!(
        "operator does not exist: {} {} {}",
        a.data_type(),
        op.symbol(),
        b.data_type()
    ))
}

/// Evaluates `a op b` for every operator except AND/OR (which the evaluator short-circuits).
pub fn binary(op: BinOp, a: &Value, b: &Value) -> Result<Value> {
    if a.is_null() || b.is_null() {
        return Ok(Value::Null);
    }
    if op.is_comparison() {
        let ord = compare(a, b)?;
        return Ok(Value::Bool(match op {
            BinOp::Eq => ord == Ordering::Equal,
            BinOp::NotEq => ord != Ordering::Equal,
            BinOp::Lt => ord == Ordering::Less,
            BinOp::LtEq => ord != Ordering::Greater,
            BinOp::Gt => ord == Ordering::Greater,
            _ => ord != Ordering::Less,
        }));
    }
    match op {
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod | BinOp::Pow => {
            arith(op, a, b)
        }
        BinOp::Concat => concat(a, b),
        BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor | BinOp::Shl | BinOp::Shr => {
            let (x, y) = (
                a.as_i64().ok_or_else(|| undefined(op, a, b))?,
                b.as_i64().ok_or_else(|| undefined(op, a, b))?,
            );
            let r = match op {
                BinOp::BitAnd => x & y,
                BinOp::BitOr => x | y,
                BinOp::BitXor => x ^ y,
                BinOp::Shl => x.wrapping_shl(y as u32),
                _ => x.wrapping_shr(y as u32),
            };
            Ok(match a {
                Value::Int2(_) => Value::Int2(r as i16),
                Value::Int4(_) => Value::Int4(r as i32),
                _ => Value::Int8(r),
            })
        }
        BinOp::JsonGet | BinOp::JsonGetText => {
            let Value::Json(j) = a else {
                return Err(undefined(op, a, b));
            };
            let step = match b {
                Value::Text(s) => json::Step::Key(s.to_string()),
                other => json::Step::Index(other.as_i64().ok_or_else(|| undefined(op, a, b))?),
            };
            Ok(match (json::get(j, &step), op) {
                (None, _) => Value::Null,
                (Some(v), BinOp::JsonGet) => Value::Json(Arc::new(v.clone())),
                (Some(v), _) => json::as_text(v).map(Value::text).unwrap_or(Value::Null),
            })
        }
        BinOp::JsonPath | BinOp::JsonPathText => {
            let Value::Json(j) = a else {
                return Err(undefined(op, a, b));
            };
            let path = text_array(b)?;
            Ok(match (json::get_path(j, &path), op) {
                (None, _) => Value::Null,
                (Some(v), BinOp::JsonPath) => Value::Json(Arc::new(v.clone())),
                (Some(v), _) => json::as_text(v).map(Value::text).unwrap_or(Value::Null),
            })
        }
        BinOp::Contains | BinOp::ContainedBy => {
            let (x, y) = if op == BinOp::Contains {
                (a, b)
            } else {
                (b, a)
            };
            match (x, y) {
                (Value::Json(x), Value::Json(y)) => Ok(Value::Bool(json::contains(x, y))),
                (Value::Array(x), Value::Array(y)) => {
                    Ok(Value::Bool(y.iter().all(|v| x.contains(v))))
                }
                _ => Err(undefined(op, a, b)),
            }
        }
        BinOp::HasKey | BinOp::HasAnyKey | BinOp::HasAllKeys => {
            let Value::Json(j) = a else {
                return Err(undefined(op, a, b));
            };
            Ok(Value::Bool(match op {
                BinOp::HasKey => json::has_key(j, b.as_str().ok_or_else(|| undefined(op, a, b))?),
                BinOp::HasAnyKey => text_array(b)?.iter().any(|k| json::has_key(j, k)),
                _ => text_array(b)?.iter().all(|k| json::has_key(j, k)),
            }))
        }
        BinOp::Regex {
            insensitive,
            negated,
        } => {
            let (s, p) = (crate::cast::text_of(a), crate::cast::text_of(b));
            let m = crate::functions::regex_match(&s, &p, insensitive)?;
            Ok(Value::Bool(m != negated))
        }
        BinOp::StartsWith => Ok(Value::Bool(
            crate::cast::text_of(a).starts_with(&*crate::cast::text_of(b)),
        )),
        _ => Err(undefined(op, a, b)),
    }
}

fn text_array(v: &Value) -> Result<Vec<String>> {
    match v {
        Value::Array(items) => Ok(items
            .iter()
            .map(|i| crate::cast::text_of(i).to_string())
            .collect()),
        Value::Text(s) => {
            let arr = crate::cast::cast(
                &Value::Text(s.clone()),
                &crate::types::DataType::Array(Box::new(crate::types::DataType::Text)),
                crate::cast::CastMode::Explicit,
            )?;
            text_array(&arr)
        }
        _ => Err(AuroraError::datatype_mismatch("a text array is required")),
    }
}

/// Compares two non-NULL values; 42883 when PostgreSQL has no such comparison.
pub fn compare(a: &Value, b: &Value) -> Result<Ordering> {
    let comparable = match (a, b) {
        _ if a.as_f64().is_some() && b.as_f64().is_some() => true,
        (Value::Text(_), Value::Text(_))
        | (Value::Bool(_), Value::Bool(_))
        | (Value::Bytea(_), Value::Bytea(_)) => true,
        (
            Value::Date(_) | Value::Timestamp(_) | Value::TimestampTz(_),
            Value::Date(_) | Value::Timestamp(_) | Value::TimestampTz(_),
        ) => true,
        (Value::Time(_), Value::Time(_))
        | (Value::Interval(_), Value::Interval(_))
        | (Value::Uuid(_), Value::Uuid(_)) => true,
        (Value::Json(_), Value::Json(_)) | (Value::Array(_), Value::Array(_)) => true,
        _ => false,
    };
    if !comparable {
        return Err(undefined(BinOp::Eq, a, b));
    }
    Ok(a.cmp(b))
}

fn concat(a: &Value, b: &Value) -> Result<Value> {
    match (a, b) {
        (Value::Json(x), Value::Json(y)) => Ok(Value::Json(Arc::new(json::concat(x, y)))),
        (Value::Array(x), Value::Array(y)) => Ok(Value::Array(Arc::new(
            x.iter().chain(y.iter()).cloned().collect(),
        ))),
        (Value::Array(x), y) => Ok(Value::Array(Arc::new(
            x.iter()
                .cloned()
                .chain(std::iter::once(y.clone()))
                .collect(),
        ))),
        (Value::Bytea(x), Value::Bytea(y)) => Ok(Value::Bytea(
            x.iter()
                .chain(y.iter())
                .copied()
                .collect::<Vec<u8>>()
                .into(),
        )),
        (Value::Text(_), _) | (_, Value::Text(_)) => {
            let mut s = crate::cast::text_of(a).to_string();
            s.push_str(&crate::cast::text_of(b));
            Ok(Value::text(s))
        }
        _ => Err(undefined(BinOp::Concat, a, b)),
    }
}

fn int_result(v: i64, a: &Value, b: &Value) -> Result<Value> {
    let wide = |v: &Value| match v {
        Value::Int2(_) => 0,
        Value::Int4(_) => 1,
        _ => 2,
    };
    Ok(match wide(a).max(wide(b)) {
        0 => Value::Int2(i16::try_from(v).map_err(|_| AuroraError::out_of_range("smallint"))?),
        1 => Value::Int4(i32::try_from(v).map_err(|_| AuroraError::out_of_range("integer"))?),
        _ => Value::Int8(v),
    })
}

fn int_name(a: &Value, b: &Value) -> &'static str {
    match (a, b) {
        (Value::Int8(_), _) | (_, Value::Int8(_)) => "bigint",
        (Value::Int4(_), _) | (_, Value::Int4(_)) => "integer",
        _ => "smallint",
    }
}

/// PostgreSQL's result scale for numeric division.
pub fn div_scale(a: &BigDecimal, b: &BigDecimal, q: &BigDecimal) -> i64 {
    let weight = if q.is_zero() {
        0
    } else {
        let (int, exp) = q.abs().as_bigint_and_exponent();
        let digits = int.to_string().len() as i64;
        // log10(|q|) = digits - 1 - exp; PostgreSQL's weight counts base-10000 digits.
        (digits - 1 - exp).div_euclid(4)
    };
    (16 - weight * 4)
        .max(a.fractional_digit_count())
        .max(b.fractional_digit_count())
        .clamp(0, 1000)
}

fn arith(op: BinOp, a: &Value, b: &Value) -> Result<Value> {
    // Integers.
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        let name = int_name(a, b);
        let r = match op {
            BinOp::Add => x.checked_add(y),
            BinOp::Sub => x.checked_sub(y),
            BinOp::Mul => x.checked_mul(y),
            BinOp::Div => {
                if y == 0 {
                    return Err(AuroraError::division_by_zero());
                }
                x.checked_div(y)
            }
            BinOp::Mod => {
                if y == 0 {
                    return Err(AuroraError::division_by_zero());
                }
                Some(x.checked_rem(y).unwrap_or(0))
            }
            _ => {
                let f = (x as f64).powf(y as f64);
                return Ok(Value::Float8(f));
            }
        };
        let r = r.ok_or_else(|| AuroraError::out_of_range(name))?;
        return int_result(r, a, b).map_err(|_| AuroraError::out_of_range(name));
    }
    let is_float = |v: &Value| matches!(v, Value::Float4(_) | Value::Float8(_));
    if a.as_f64().is_some() && b.as_f64().is_some() {
        if is_float(a) || is_float(b) {
            let (x, y) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
            let r = match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mul => x * y,
                BinOp::Div => {
                    if y == 0.0 {
                        return Err(AuroraError::division_by_zero());
                    }
                    x / y
                }
                BinOp::Mod => {
                    if y == 0.0 {
                        return Err(AuroraError::division_by_zero());
                    }
                    x % y
                }
                _ => x.powf(y),
            };
            if r.is_infinite() && x.is_finite() && y.is_finite() {
                return Err(AuroraError::sql("22003", "value out of range: overflow"));
            }
            let single = matches!(
                (a, b),
                (Value::Float4(_), Value::Float4(_))
                    | (Value::Float4(_), Value::Int2(_) | Value::Int4(_))
            );
            return Ok(if single && op != BinOp::Pow {
                Value::Float4(r as f32)
            } else {
                Value::Float8(r)
            });
        }
        let (x, y) = (
            a.as_decimal().unwrap_or_default(),
            b.as_decimal().unwrap_or_default(),
        );
        let r = match op {
            BinOp::Add => x + y,
            BinOp::Sub => x - y,
            BinOp::Mul => x * y,
            BinOp::Div => {
                if y.is_zero() {
                    return Err(AuroraError::division_by_zero());
                }
                let q = &x / &y;
                let scale = div_scale(&x, &y, &q);
                q.with_scale_round(scale, RoundingMode::HalfUp)
            }
            BinOp::Mod => {
                if y.is_zero() {
                    return Err(AuroraError::division_by_zero());
                }
                x % y
            }
            _ => {
                let f = x.to_f64().unwrap_or(0.0).powf(y.to_f64().unwrap_or(0.0));
                let d = BigDecimal::try_from(f)
                    .map_err(|_| AuroraError::sql("22003", "value out of range: overflow"))?;
                d.with_scale_round(16, RoundingMode::HalfUp)
            }
        };
        return Ok(Value::Numeric(r));
    }
    datetime_arith(op, a, b)
}

fn datetime_arith(op: BinOp, a: &Value, b: &Value) -> Result<Value> {
    let day = 86_400_000_000i64;
    Ok(match (op, a, b) {
        (BinOp::Add, Value::Date(d), n) | (BinOp::Add, n, Value::Date(d))
            if n.as_i64().is_some() =>
        {
            Value::Date(
                d.checked_add(n.as_i64().unwrap_or(0) as i32)
                    .ok_or_else(|| AuroraError::sql("22008", "date out of range"))?,
            )
        }
        (BinOp::Sub, Value::Date(d), n) if n.as_i64().is_some() => {
            Value::Date(d - n.as_i64().unwrap_or(0) as i32)
        }
        (BinOp::Sub, Value::Date(x), Value::Date(y)) => Value::Int4(x - y),
        (BinOp::Add | BinOp::Sub, Value::Date(d), Value::Interval(i)) => {
            let sign = if op == BinOp::Add { 1 } else { -1 };
            Value::Timestamp(datetime::add_interval(*d as i64 * day, i, sign)?)
        }
        (BinOp::Add, Value::Interval(i), Value::Date(d)) => {
            Value::Timestamp(datetime::add_interval(*d as i64 * day, i, 1)?)
        }
        (BinOp::Add | BinOp::Sub, Value::Timestamp(t), Value::Interval(i)) => Value::Timestamp(
            datetime::add_interval(*t, i, if op == BinOp::Add { 1 } else { -1 })?,
        ),
        (BinOp::Add | BinOp::Sub, Value::TimestampTz(t), Value::Interval(i)) => Value::TimestampTz(
            datetime::add_interval(*t, i, if op == BinOp::Add { 1 } else { -1 })?,
        ),
        (BinOp::Add, Value::Interval(i), Value::Timestamp(t)) => {
            Value::Timestamp(datetime::add_interval(*t, i, 1)?)
        }
        (BinOp::Add, Value::Date(d), Value::Time(t)) => Value::Timestamp(*d as i64 * day + t),
        (
            BinOp::Sub,
            Value::Timestamp(x) | Value::TimestampTz(x),
            Value::Timestamp(y) | Value::TimestampTz(y),
        ) => Value::Interval(datetime::diff(*x, *y)),
        (BinOp::Add | BinOp::Sub, Value::Time(t), Value::Interval(i)) => {
            let d = if op == BinOp::Add {
                i.micros
            } else {
                -i.micros
            };
            Value::Time((t + d).rem_euclid(day))
        }
        (BinOp::Sub, Value::Time(x), Value::Time(y)) => Value::Interval(Interval {
            months: 0,
            days: 0,
            micros: x - y,
        }),
        (BinOp::Add | BinOp::Sub, Value::Interval(x), Value::Interval(y)) => {
            let s = if op == BinOp::Add { 1 } else { -1 };
            Value::Interval(Interval {
                months: x.months + s * y.months,
                days: x.days + s * y.days,
                micros: x.micros + s as i64 * y.micros,
            })
        }
        (BinOp::Mul | BinOp::Div, Value::Interval(i), n) | (BinOp::Mul, n, Value::Interval(i))
            if n.as_f64().is_some() =>
        {
            let f = n.as_f64().unwrap_or(1.0);
            if op == BinOp::Div && f == 0.0 {
                return Err(AuroraError::division_by_zero());
            }
            let f = if op == BinOp::Div { 1.0 / f } else { f };
            let months = i.months as f64 * f;
            let days = i.days as f64 * f + months.fract() * 30.0;
            let micros = i.micros as f64 * f + days.fract() * day as f64;
            Value::Interval(Interval {
                months: months.trunc() as i32,
                days: days.trunc() as i32,
                micros: micros.round() as i64,
            })
        }
        (BinOp::Sub, Value::Json(j), key) => {
            let step = match key {
                Value::Text(s) => json::Step::Key(s.to_string()),
                other => json::Step::Index(other.as_i64().ok_or_else(|| undefined(op, a, b))?),
            };
            Value::Json(Arc::new(json::remove(j, &step)?))
        }
        _ => return Err(undefined(op, a, b)),
    })
}

/// Unary minus.
pub fn negate(v: &Value) -> Result<Value> {
    Ok(match v {
        Value::Null => Value::Null,
        Value::Int2(x) => Value::Int2(
            x.checked_neg()
                .ok_or_else(|| AuroraError::out_of_range("smallint"))?,
        ),
        Value::Int4(x) => Value::Int4(
            x.checked_neg()
                .ok_or_else(|| AuroraError::out_of_range("integer"))?,
        ),
        Value::Int8(x) => Value::Int8(
            x.checked_neg()
                .ok_or_else(|| AuroraError::out_of_range("bigint"))?,
        ),
        Value::Numeric(d) => Value::Numeric(-d.clone()),
        Value::Float4(f) => Value::Float4(-f),
        Value::Float8(f) => Value::Float8(-f),
        Value::Interval(i) => Value::Interval(Interval {
            months: -i.months,
            days: -i.days,
            micros: -i.micros,
        }),
        other => {
            return Err(AuroraError::undefined_function(format!(
                "operator does not exist: - {}",
                other.data_type()
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_follows_postgresql() {
        assert_eq!(
            binary(BinOp::Div, &Value::Int4(7), &Value::Int4(2)).ok(),
            Some(Value::Int4(3))
        );
        assert_eq!(
            binary(BinOp::Div, &Value::Int4(-7), &Value::Int4(2)).ok(),
            Some(Value::Int4(-3))
        );
        assert_eq!(
            binary(BinOp::Add, &Value::Int4(i32::MAX), &Value::Int4(1))
                .err()
                .map(|e| e.to_string()),
            Some("integer out of range".into())
        );
        assert_eq!(
            binary(BinOp::Div, &Value::Int4(1), &Value::Int4(0))
                .err()
                .map(|e| e.sqlstate()),
            Some("22012")
        );
        let third = binary(
            BinOp::Div,
            &Value::Numeric(1.into()),
            &Value::Numeric(3.into()),
        )
        .ok();
        assert_eq!(
            third.map(|v| v.to_string()),
            Some("0.33333333333333333333".into())
        );
        let ten = binary(
            BinOp::Div,
            &Value::Numeric(10.into()),
            &Value::Numeric(4.into()),
        )
        .ok();
        assert_eq!(
            ten.map(|v| v.to_string()),
            Some("2.5000000000000000".into())
        );
        assert_eq!(
            binary(BinOp::Eq, &Value::Int4(1), &Value::Null).ok(),
            Some(Value::Null)
        );
        assert!(binary(BinOp::Eq, &Value::Int4(1), &Value::text("a")).is_err());
    }
}
