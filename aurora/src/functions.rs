//! Scalar functions: strings, math, date/time, JSON, arrays, sequences and session information.
//!
//! Guarantees: strict functions return NULL on a NULL argument (as PostgreSQL's strict
//! functions do); an unknown name or arity is 42883 `function f(integer) does not exist`, found
//! at bind time through [`return_type`].

use std::sync::Arc;

use bigdecimal::{BigDecimal, RoundingMode, ToPrimitive};
use md5::Digest;

use crate::cast::{self, CastMode, text_of};
use crate::datetime;
use crate::error::{AuroraError, Result};
use crate::exec::ExecCtx;
use crate::types::DataType;
use crate::value::Value;

fn no_such(name: &str, args: &[DataType]) -> AuroraError {
    let list: Vec<String> = args.iter().map(|t| t.to_string()).collect();
    AuroraError::undefined_function(format!(
        "function {name}({}) does not exist",
        list.join(", ")
    ))
}

/// The result type of `name(args…)`, or 42883 when there is no such function.
pub fn return_type(name: &str, args: &[DataType]) -> Result<DataType> {
    let n = args.len();
    let first = args.first().cloned().unwrap_or(DataType::Unknown);
    let arity = |ok: bool| if ok { Ok(()) } else { Err(no_such(name, args)) };
    Ok(match name {
        "length" | "char_length" | "character_length" | "octet_length" | "strpos" | "position"
        | "ascii" => {
            arity(n == 1 || (n == 2 && matches!(name, "strpos" | "position")))?;
            DataType::Int4
        }
        "lower" | "upper" | "initcap" | "reverse" | "md5" | "chr" | "btrim" | "ltrim" | "rtrim"
        | "trim" | "replace" | "lpad" | "rpad" | "left" | "right" | "repeat" | "split_part"
        | "concat" | "concat_ws" | "substring" | "substr" | "regexp_replace" | "translate"
        | "array_to_string" | "to_char" | "version" | "current_database" | "current_schema"
        | "current_user" | "session_user" | "overlay" | "pg_typeof" | "quote_ident"
        | "quote_literal" => DataType::Text,
        "starts_with" => DataType::Bool,
        "abs" | "ceil" | "ceiling" | "floor" | "sign" => {
            arity(n == 1)?;
            match first {
                DataType::Unknown => DataType::Float8,
                t if t.numeric_rank().is_some() => t,
                _ => return Err(no_such(name, args)),
            }
        }
        "round" | "trunc" => match first {
            DataType::Float4 | DataType::Float8 if n == 1 => DataType::Float8,
            t if t.numeric_rank().is_some() || t == DataType::Unknown => DataType::Numeric(None),
            _ => return Err(no_such(name, args)),
        },
        "mod" | "div" | "gcd" | "lcm" => {
            arity(n == 2)?;
            DataType::common(&first, &args[1]).unwrap_or(DataType::Numeric(None))
        }
        "sqrt" | "cbrt" | "exp" | "ln" | "log" | "log10" | "power" | "pow" | "pi" | "degrees"
        | "radians" | "sin" | "cos" | "tan" | "asin" | "acos" | "atan" | "atan2" | "random" => {
            match (name, &first) {
                (
                    "sqrt" | "exp" | "ln" | "log" | "log10" | "power" | "pow",
                    DataType::Numeric(_),
                ) => DataType::Numeric(None),
                _ => DataType::Float8,
            }
        }
        "now"
        | "current_timestamp"
        | "transaction_timestamp"
        | "statement_timestamp"
        | "clock_timestamp"
        | "to_timestamp" => DataType::TimestampTz,
        "localtimestamp" => DataType::Timestamp,
        "current_date" | "make_date" => DataType::Date,
        "current_time" | "localtime" => DataType::Time,
        "date_part" => DataType::Float8,
        "extract" => DataType::Numeric(None),
        "date_trunc" => match args.get(1) {
            Some(DataType::TimestampTz) => DataType::TimestampTz,
            Some(DataType::Interval) => DataType::Interval,
            _ => DataType::Timestamp,
        },
        "age" => DataType::Interval,
        "jsonb_typeof" | "json_typeof" | "jsonb_pretty" => DataType::Text,
        "jsonb_array_length" | "json_array_length" | "array_length" | "cardinality"
        | "array_position" | "array_upper" | "array_lower" => DataType::Int4,
        "jsonb_build_object" | "json_build_object" | "jsonb_build_array" | "json_build_array"
        | "to_jsonb" | "to_json" | "jsonb_set" | "jsonb_extract_path" | "jsonb_strip_nulls" => {
            DataType::Jsonb
        }
        "jsonb_extract_path_text" => DataType::Text,
        "string_to_array" => DataType::Array(Box::new(DataType::Text)),
        "array_append" | "array_prepend" | "array_cat" | "array_remove" => {
            if matches!(first, DataType::Array(_)) {
                first
            } else {
                args.get(1).cloned().unwrap_or(first)
            }
        }
        "nextval" | "currval" | "setval" | "lastval" => DataType::Int8,
        "nullif" => first,
        "greatest" | "least" => args
            .iter()
            .try_fold(DataType::Unknown, |acc, t| DataType::common(&acc, t))
            .ok_or_else(|| no_such(name, args))?,
        "gen_random_uuid" => DataType::Uuid,
        "encode" => DataType::Text,
        "decode" => DataType::Bytea,
        _ => match crate::pg_catalog::return_type(name, args) {
            Some(t) => t,
            None => return Err(no_such(name, args)),
        },
    })
}

fn text(v: &Value) -> Arc<str> {
    text_of(v)
}

fn int(v: &Value) -> Result<i64> {
    cast::cast(v, &DataType::Int8, CastMode::Explicit).map(|x| x.as_i64().unwrap_or(0))
}

fn float(v: &Value) -> Result<f64> {
    cast::cast(v, &DataType::Float8, CastMode::Explicit).map(|x| x.as_f64().unwrap_or(0.0))
}

/// Functions that still run when an argument is NULL.
fn non_strict(name: &str) -> bool {
    matches!(
        name,
        "concat"
            | "concat_ws"
            | "greatest"
            | "least"
            | "nullif"
            | "jsonb_build_object"
            | "json_build_object"
            | "jsonb_build_array"
            | "json_build_array"
            | "to_jsonb"
            | "to_json"
            | "array_append"
            | "array_prepend"
            | "array_cat"
            | "array_to_string"
    )
}

/// Calls a scalar function.
pub fn call(name: &str, args: &[Value], ctx: &ExecCtx<'_>) -> Result<Value> {
    if !non_strict(name) && args.iter().any(Value::is_null) {
        return Ok(Value::Null);
    }
    let a = |i: usize| args.get(i).cloned().unwrap_or(Value::Null);
    Ok(match name {
        "length" | "char_length" | "character_length" => match a(0) {
            Value::Bytea(b) => Value::Int4(b.len() as i32),
            v => Value::Int4(text(&v).chars().count() as i32),
        },
        "octet_length" => Value::Int4(text(&a(0)).len() as i32),
        "lower" => Value::text(text(&a(0)).to_lowercase()),
        "upper" => Value::text(text(&a(0)).to_uppercase()),
        "initcap" => {
            let mut out = String::new();
            let mut start = true;
            for c in text(&a(0)).chars() {
                if c.is_alphanumeric() {
                    if start {
                        out.extend(c.to_uppercase())
                    } else {
                        out.extend(c.to_lowercase())
                    }
                    start = false;
                } else {
                    out.push(c);
                    start = true;
                }
            }
            Value::text(out)
        }
        "reverse" => Value::text(text(&a(0)).chars().rev().collect::<String>()),
        "md5" => {
            let digest = md5::Md5::digest(text(&a(0)).as_bytes());
            Value::text(
                digest
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>(),
            )
        }
        "ascii" => Value::Int4(text(&a(0)).chars().next().map(|c| c as i32).unwrap_or(0)),
        "chr" => {
            let code = int(&a(0))?;
            let c = u32::try_from(code)
                .ok()
                .and_then(char::from_u32)
                .filter(|_| code != 0);
            Value::text(
                c.ok_or_else(|| {
                    AuroraError::sql(
                        "54000",
                        format!("requested character too large for encoding: {code}"),
                    )
                })?
                .to_string(),
            )
        }
        "strpos" | "position" => {
            let (s, sub) = (text(&a(0)), text(&a(1)));
            Value::Int4(
                s.find(&*sub)
                    .map(|i| s[..i].chars().count() as i32 + 1)
                    .unwrap_or(0),
            )
        }
        "starts_with" => Value::Bool(text(&a(0)).starts_with(&*text(&a(1)))),
        "replace" => Value::text(text(&a(0)).replace(&*text(&a(1)), &text(&a(2)))),
        "translate" => {
            let (from, to): (Vec<char>, Vec<char>) =
                (text(&a(1)).chars().collect(), text(&a(2)).chars().collect());
            let out: String = text(&a(0))
                .chars()
                .filter_map(|c| match from.iter().position(|f| *f == c) {
                    Some(i) => to.get(i).copied(),
                    None => Some(c),
                })
                .collect();
            Value::text(out)
        }
        "btrim" | "trim" | "ltrim" | "rtrim" => {
            let s = text(&a(0));
            let set: Vec<char> = if args.len() > 1 {
                text(&a(1)).chars().collect()
            } else {
                vec![' ']
            };
            let f = |c: char| set.contains(&c);
            Value::text(match name {
                "ltrim" => s.trim_start_matches(f).to_string(),
                "rtrim" => s.trim_end_matches(f).to_string(),
                _ => s.trim_matches(f).to_string(),
            })
        }
        "lpad" | "rpad" => {
            let s: Vec<char> = text(&a(0)).chars().collect();
            let len = int(&a(1))?.max(0) as usize;
            let fill: Vec<char> = if args.len() > 2 {
                text(&a(2)).chars().collect()
            } else {
                vec![' ']
            };
            if s.len() >= len || fill.is_empty() {
                Value::text(s.iter().take(len).collect::<String>())
            } else {
                let pad: String = fill.iter().cycle().take(len - s.len()).collect();
                let body: String = s.iter().collect();
                Value::text(if name == "lpad" {
                    format!("{pad}{body}")
                } else {
                    format!("{body}{pad}")
                })
            }
        }
        "left" | "right" => {
            let s: Vec<char> = text(&a(0)).chars().collect();
            let n = int(&a(1))?;
            let take = if n >= 0 {
                (n as usize).min(s.len())
            } else {
                s.len().saturating_sub((-n) as usize)
            };
            Value::text(if name == "left" {
                s[..take].iter().collect::<String>()
            } else {
                s[s.len() - take..].iter().collect::<String>()
            })
        }
        "repeat" => {
            let n = int(&a(1))?.max(0) as usize;
            let s = text(&a(0));
            if s.len().saturating_mul(n) > 1 << 30 {
                return Err(AuroraError::sql("54000", "requested length too large"));
            }
            Value::text(s.repeat(n))
        }
        "split_part" => {
            let (s, d, n) = (text(&a(0)), text(&a(1)), int(&a(2))?);
            if n == 0 {
                return Err(AuroraError::sql("22023", "field position must not be zero"));
            }
            let parts: Vec<&str> = if d.is_empty() {
                vec![&s]
            } else {
                s.split(&*d).collect()
            };
            let idx = if n > 0 { n - 1 } else { parts.len() as i64 + n };
            Value::text(
                usize::try_from(idx)
                    .ok()
                    .and_then(|i| parts.get(i))
                    .copied()
                    .unwrap_or(""),
            )
        }
        "concat" => Value::text(
            args.iter()
                .filter(|v| !v.is_null())
                .map(|v| text(v).to_string())
                .collect::<String>(),
        ),
        "concat_ws" => {
            if a(0).is_null() {
                return Ok(Value::Null);
            }
            let sep = text(&a(0));
            Value::text(
                args[1..]
                    .iter()
                    .filter(|v| !v.is_null())
                    .map(|v| text(v).to_string())
                    .collect::<Vec<_>>()
                    .join(&sep),
            )
        }
        "substring" | "substr" => {
            let s: Vec<char> = text(&a(0)).chars().collect();
            let start = int(&a(1))?;
            let (from, to) = if args.len() > 2 {
                let len = int(&a(2))?;
                if len < 0 {
                    return Err(AuroraError::sql(
                        "22011",
                        "negative substring length not allowed",
                    ));
                }
                (start, start.saturating_add(len))
            } else {
                (start, i64::MAX)
            };
            let lo = (from.max(1) - 1) as usize;
            let hi = (to.max(1) - 1).min(s.len() as i64) as usize;
            Value::text(if lo < hi {
                s[lo..hi].iter().collect::<String>()
            } else {
                String::new()
            })
        }
        "overlay" => {
            let s: Vec<char> = text(&a(0)).chars().collect();
            let with = text(&a(1));
            let start = (int(&a(2))?.max(1) - 1) as usize;
            let len = if args.len() > 3 {
                int(&a(3))?.max(0) as usize
            } else {
                with.chars().count()
            };
            let head: String = s.iter().take(start).collect();
            let tail: String = s.iter().skip(start + len).collect();
            Value::text(format!("{head}{with}{tail}"))
        }
        "regexp_replace" => {
            let flags = if args.len() > 3 {
                text(&a(3)).to_string()
            } else {
                String::new()
            };
            let re = compile(&text(&a(1)), flags.contains('i'))?;
            let rep = text(&a(2)).replace("\\", "$").replace("$$", "\\");
            let s = text(&a(0));
            Value::text(if flags.contains('g') {
                re.replace_all(&s, rep.as_str()).to_string()
            } else {
                re.replace(&s, rep.as_str()).to_string()
            })
        }
        "quote_ident" => Value::text(format!("\"{}\"", text(&a(0)).replace('"', "\"\""))),
        "quote_literal" => Value::text(format!("'{}'", text(&a(0)).replace('\'', "''"))),
        "to_char" => Value::text(text(&a(0)).to_string()),
        "abs" => match a(0) {
            Value::Int2(v) => Value::Int2(
                v.checked_abs()
                    .ok_or_else(|| AuroraError::out_of_range("smallint"))?,
            ),
            Value::Int4(v) => Value::Int4(
                v.checked_abs()
                    .ok_or_else(|| AuroraError::out_of_range("integer"))?,
            ),
            Value::Int8(v) => Value::Int8(
                v.checked_abs()
                    .ok_or_else(|| AuroraError::out_of_range("bigint"))?,
            ),
            Value::Numeric(d) => Value::Numeric(d.abs()),
            Value::Float4(f) => Value::Float4(f.abs()),
            v => Value::Float8(float(&v)?.abs()),
        },
        "sign" => match a(0) {
            Value::Numeric(d) => Value::Numeric(BigDecimal::from(
                d.sign() as i32 - 1 + (d.sign() == bigdecimal::num_bigint::Sign::NoSign) as i32,
            )),
            v if v.as_i64().is_some() => cast::cast(
                &Value::Int8(v.as_i64().unwrap_or(0).signum()),
                &v.data_type(),
                CastMode::Explicit,
            )?,
            v => Value::Float8(match float(&v)? {
                f if f > 0.0 => 1.0,
                f if f < 0.0 => -1.0,
                _ => 0.0,
            }),
        },
        "ceil" | "ceiling" | "floor" => match a(0) {
            v if v.as_i64().is_some() => v,
            Value::Numeric(d) => Value::Numeric(d.with_scale_round(
                0,
                if name == "floor" {
                    RoundingMode::Floor
                } else {
                    RoundingMode::Ceiling
                },
            )),
            v => {
                let f = float(&v)?;
                Value::Float8(if name == "floor" { f.floor() } else { f.ceil() })
            }
        },
        "round" | "trunc" => {
            let places = if args.len() > 1 { int(&a(1))? } else { 0 };
            let mode = if name == "round" {
                RoundingMode::HalfUp
            } else {
                RoundingMode::Down
            };
            match a(0) {
                Value::Float4(_) | Value::Float8(_) if args.len() == 1 => {
                    let f = float(&a(0))?;
                    Value::Float8(if name == "round" {
                        f.round_ties_even()
                    } else {
                        f.trunc()
                    })
                }
                v => {
                    let d = cast::cast(&v, &DataType::Numeric(None), CastMode::Explicit)?;
                    let Value::Numeric(d) = d else {
                        return Ok(Value::Null);
                    };
                    Value::Numeric(d.with_scale_round(places, mode).with_scale(places.max(0)))
                }
            }
        }
        "mod" => crate::ops::binary(crate::ops::BinOp::Mod, &a(0), &a(1))?,
        "div" => {
            let q = crate::ops::binary(
                crate::ops::BinOp::Div,
                &Value::Numeric(a(0).as_decimal().unwrap_or_default()),
                &Value::Numeric(a(1).as_decimal().unwrap_or_default()),
            )?;
            match q {
                Value::Numeric(d) => Value::Numeric(d.with_scale_round(0, RoundingMode::Down)),
                other => other,
            }
        }
        "gcd" | "lcm" => {
            let (mut x, mut y) = (int(&a(0))?.abs(), int(&a(1))?.abs());
            let (ox, oy) = (x, y);
            while y != 0 {
                (x, y) = (y, x % y);
            }
            let r = if name == "gcd" {
                x
            } else if x == 0 {
                0
            } else {
                (ox / x)
                    .checked_mul(oy)
                    .ok_or_else(|| AuroraError::out_of_range("bigint"))?
            };
            cast::cast(
                &Value::Int8(r),
                &DataType::common(&a(0).data_type(), &a(1).data_type()).unwrap_or(DataType::Int8),
                CastMode::Explicit,
            )?
        }
        "sqrt" | "cbrt" | "exp" | "ln" | "log" | "log10" | "power" | "pow" | "degrees"
        | "radians" | "sin" | "cos" | "tan" | "asin" | "acos" | "atan" | "atan2" => {
            let x = float(&a(0))?;
            let y = if args.len() > 1 {
                Some(float(&a(1))?)
            } else {
                None
            };
            let r = match (name, y) {
                ("sqrt", _) if x < 0.0 => {
                    return Err(AuroraError::sql(
                        "2201F",
                        "cannot take square root of a negative number",
                    ));
                }
                ("sqrt", _) => x.sqrt(),
                ("cbrt", _) => x.cbrt(),
                ("exp", _) => x.exp(),
                ("ln" | "log" | "log10", None) if x <= 0.0 => {
                    return Err(AuroraError::sql(
                        "2201E",
                        if x == 0.0 {
                            "cannot take logarithm of zero"
                        } else {
                            "cannot take logarithm of a negative number"
                        },
                    ));
                }
                ("ln", _) => x.ln(),
                ("log" | "log10", None) => x.log10(),
                ("log", Some(v)) => v.ln() / x.ln(),
                ("power" | "pow", Some(v)) => x.powf(v),
                ("degrees", _) => x.to_degrees(),
                ("radians", _) => x.to_radians(),
                ("sin", _) => x.sin(),
                ("cos", _) => x.cos(),
                ("tan", _) => x.tan(),
                ("asin", _) => x.asin(),
                ("acos", _) => x.acos(),
                ("atan2", Some(v)) => x.atan2(v),
                _ => x.atan(),
            };
            if matches!(a(0), Value::Numeric(_))
                && matches!(
                    name,
                    "sqrt" | "exp" | "ln" | "log" | "log10" | "power" | "pow"
                )
            {
                Value::Numeric(
                    BigDecimal::try_from(r)
                        .map_err(|_| AuroraError::sql("22003", "value out of range: overflow"))?
                        .with_scale_round(16, RoundingMode::HalfUp),
                )
            } else {
                Value::Float8(r)
            }
        }
        "pi" => Value::Float8(std::f64::consts::PI),
        "random" => Value::Float8(ctx.random()),
        "now"
        | "current_timestamp"
        | "transaction_timestamp"
        | "statement_timestamp"
        | "clock_timestamp" => Value::TimestampTz(ctx.now),
        "localtimestamp" => Value::Timestamp(ctx.now),
        "current_date" => Value::Date(ctx.now.div_euclid(86_400_000_000) as i32),
        "current_time" | "localtime" => Value::Time(ctx.now.rem_euclid(86_400_000_000)),
        "to_timestamp" => Value::TimestampTz((float(&a(0))? * 1e6) as i64),
        "make_date" => {
            let d = chrono::NaiveDate::from_ymd_opt(
                int(&a(0))? as i32,
                int(&a(1))? as u32,
                int(&a(2))? as u32,
            )
            .ok_or_else(|| AuroraError::sql("22008", "date field value out of range"))?;
            Value::Date(datetime::days_from_date(d))
        }
        "date_part" | "extract" => {
            let field = text(&a(0)).to_lowercase();
            let v = match a(1) {
                Value::Interval(i) => interval_part(&field, &i)?,
                Value::Time(t) => match field.as_str() {
                    "hour" => (t / 3_600_000_000) as f64,
                    "minute" => ((t / 60_000_000) % 60) as f64,
                    "second" => (t % 60_000_000) as f64 / 1e6,
                    "epoch" => t as f64 / 1e6,
                    _ => {
                        return Err(AuroraError::sql(
                            "22023",
                            format!(
                                "unit \"{field}\" not recognized for type time without time zone"
                            ),
                        ));
                    }
                },
                other => datetime::extract(&field, micros_of(&other)?)?,
            };
            if name == "extract" {
                Value::Numeric(
                    BigDecimal::try_from(v)
                        .unwrap_or_default()
                        .normalized()
                        .with_scale(if v.fract() == 0.0 { 0 } else { 6 })
                        .normalized(),
                )
            } else {
                Value::Float8(v)
            }
        }
        "date_trunc" => {
            let field = text(&a(0)).to_lowercase();
            match a(1) {
                Value::TimestampTz(t) => Value::TimestampTz(datetime::trunc(&field, t)?),
                other => Value::Timestamp(datetime::trunc(&field, micros_of(&other)?)?),
            }
        }
        "age" => {
            let (x, y) = (
                micros_of(&a(0))?,
                if args.len() > 1 {
                    micros_of(&a(1))?
                } else {
                    ctx.now - ctx.now.rem_euclid(86_400_000_000)
                },
            );
            Value::Interval(datetime::diff(x, y))
        }
        "jsonb_typeof" | "json_typeof" => match a(0) {
            Value::Json(j) => Value::text(crate::json::type_of(&j)),
            _ => Value::Null,
        },
        "jsonb_pretty" => match a(0) {
            Value::Json(j) => {
                Value::text(serde_json::to_string_pretty(j.as_ref()).unwrap_or_default())
            }
            _ => Value::Null,
        },
        "jsonb_array_length" | "json_array_length" => match a(0) {
            Value::Json(j) => match j.as_ref() {
                serde_json::Value::Array(items) => Value::Int4(items.len() as i32),
                _ => {
                    return Err(AuroraError::sql(
                        "22023",
                        "cannot get array length of a non-array",
                    ));
                }
            },
            _ => Value::Null,
        },
        "jsonb_build_object" | "json_build_object" => {
            if !args.len().is_multiple_of(2) {
                return Err(AuroraError::sql(
                    "22023",
                    "argument list must have even number of elements",
                ));
            }
            let mut map = serde_json::Map::new();
            for pair in args.chunks(2) {
                if pair[0].is_null() {
                    return Err(AuroraError::sql(
                        "22023",
                        "argument 1: key must not be null",
                    ));
                }
                map.insert(text(&pair[0]).to_string(), crate::agg::to_json(&pair[1]));
            }
            Value::Json(Arc::new(serde_json::Value::Object(map)))
        }
        "jsonb_build_array" | "json_build_array" => Value::Json(Arc::new(
            serde_json::Value::Array(args.iter().map(crate::agg::to_json).collect()),
        )),
        "to_jsonb" | "to_json" => match a(0) {
            Value::Null => Value::Null,
            v => Value::Json(Arc::new(crate::agg::to_json(&v))),
        },
        "jsonb_extract_path" | "jsonb_extract_path_text" => {
            let Value::Json(j) = a(0) else {
                return Ok(Value::Null);
            };
            let path: Vec<String> = args[1..].iter().map(|v| text(v).to_string()).collect();
            match crate::json::get_path(&j, &path) {
                None => Value::Null,
                Some(v) if name == "jsonb_extract_path" => Value::Json(Arc::new(v.clone())),
                Some(v) => crate::json::as_text(v)
                    .map(Value::text)
                    .unwrap_or(Value::Null),
            }
        }
        "jsonb_strip_nulls" => match a(0) {
            Value::Json(j) => Value::Json(Arc::new(strip_nulls(&j))),
            _ => Value::Null,
        },
        "jsonb_set" => {
            let (Value::Json(target), Value::Json(new)) = (a(0), a(2)) else {
                return Ok(Value::Null);
            };
            let path: Vec<String> = match a(1) {
                Value::Array(items) => items.iter().map(|v| text(v).to_string()).collect(),
                other => crate::ops::binary(
                    crate::ops::BinOp::Concat,
                    &Value::Array(Arc::new(vec![])),
                    &other,
                )
                .map(|_| vec![text(&other).to_string()])?,
            };
            let mut t = target.as_ref().clone();
            set_path(&mut t, &path, new.as_ref().clone());
            Value::Json(Arc::new(t))
        }
        "array_length" | "array_upper" => match a(0) {
            Value::Array(items) if !items.is_empty() && int(&a(1))? == 1 => {
                Value::Int4(items.len() as i32)
            }
            _ => Value::Null,
        },
        "array_lower" => match a(0) {
            Value::Array(items) if !items.is_empty() && int(&a(1))? == 1 => Value::Int4(1),
            _ => Value::Null,
        },
        "cardinality" => match a(0) {
            Value::Array(items) => Value::Int4(items.len() as i32),
            _ => Value::Null,
        },
        "array_position" => match a(0) {
            Value::Array(items) => items
                .iter()
                .position(|v| *v == a(1))
                .map(|i| Value::Int4(i as i32 + 1))
                .unwrap_or(Value::Null),
            _ => Value::Null,
        },
        "array_append" | "array_prepend" | "array_cat" | "array_remove" => {
            let items = |v: &Value| match v {
                Value::Array(items) => items.as_ref().clone(),
                _ => Vec::new(),
            };
            Value::Array(Arc::new(match name {
                "array_append" => items(&a(0))
                    .into_iter()
                    .chain(std::iter::once(a(1)))
                    .collect(),
                "array_prepend" => std::iter::once(a(0)).chain(items(&a(1))).collect(),
                "array_cat" => items(&a(0)).into_iter().chain(items(&a(1))).collect(),
                _ => items(&a(0)).into_iter().filter(|v| *v != a(1)).collect(),
            }))
        }
        "array_to_string" => match a(0) {
            Value::Array(items) => {
                let sep = text(&a(1));
                let null_as = if args.len() > 2 && !a(2).is_null() {
                    Some(text(&a(2)).to_string())
                } else {
                    None
                };
                let parts: Vec<String> = items
                    .iter()
                    .filter_map(|v| {
                        if v.is_null() {
                            null_as.clone()
                        } else {
                            Some(text(v).to_string())
                        }
                    })
                    .collect();
                Value::text(parts.join(&sep))
            }
            _ => Value::Null,
        },
        "string_to_array" => {
            let (s, d) = (text(&a(0)), text(&a(1)));
            let parts: Vec<Value> = if s.is_empty() {
                Vec::new()
            } else if d.is_empty() {
                vec![Value::text(s.clone())]
            } else {
                s.split(&*d).map(Value::text).collect()
            };
            Value::Array(Arc::new(parts))
        }
        "nullif" => {
            if !a(0).is_null()
                && !a(1).is_null()
                && crate::ops::compare(&a(0), &a(1))? == std::cmp::Ordering::Equal
            {
                Value::Null
            } else {
                a(0)
            }
        }
        "greatest" | "least" => {
            let mut best = Value::Null;
            for v in args.iter().filter(|v| !v.is_null()) {
                let better = best.is_null() || {
                    let o = crate::ops::compare(v, &best)?;
                    if name == "greatest" {
                        o.is_gt()
                    } else {
                        o.is_lt()
                    }
                };
                if better {
                    best = v.clone();
                }
            }
            best
        }
        "nextval" | "currval" | "setval" | "lastval" => ctx.sequence_call(name, args)?,
        "version" => Value::text("PostgreSQL 16.0 (Nubis Aurora) on x86_64-pc-linux-gnu"),
        "current_database" => Value::text("postgres"),
        "current_schema" => Value::text("public"),
        "current_user" | "session_user" => Value::text("postgres"),
        "pg_typeof" => Value::text(a(0).data_type().to_string()),
        "gen_random_uuid" => Value::Uuid(
            ((ctx.random().to_bits() as u128) << 64 | ctx.random().to_bits() as u128)
                & !(0xf000 << 64)
                | (0x4000 << 64),
        ),
        "encode" => match (a(0), text(&a(1)).as_ref()) {
            (Value::Bytea(b), "hex") => {
                Value::text(b.iter().map(|x| format!("{x:02x}")).collect::<String>())
            }
            (Value::Bytea(b), "escape") => Value::text(String::from_utf8_lossy(&b).to_string()),
            _ => {
                return Err(AuroraError::sql(
                    "22023",
                    format!("unrecognized encoding: \"{}\"", text(&a(1))),
                ));
            }
        },
        "decode" => match text(&a(1)).as_ref() {
            "hex" => cast::cast(
                &Value::text(format!("\\x{}", text(&a(0)))),
                &DataType::Bytea,
                CastMode::Explicit,
            )?,
            "escape" => Value::Bytea(text(&a(0)).as_bytes().to_vec().into()),
            other => {
                return Err(AuroraError::sql(
                    "22023",
                    format!("unrecognized encoding: \"{other}\""),
                ));
            }
        },
        other => match crate::pg_catalog::call(other, args, ctx.catalog) {
            Some(v) => v?,
            None => {
                return Err(AuroraError::undefined_function(format!(
                    "function {other} does not exist"
                )));
            }
        },
    })
}

fn strip_nulls(j: &serde_json::Value) -> serde_json::Value {
    match j {
        serde_json::Value::Object(m) => serde_json::Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(strip_nulls).collect())
        }
        other => other.clone(),
    }
}

fn set_path(t: &mut serde_json::Value, path: &[String], new: serde_json::Value) {
    let Some((first, rest)) = path.split_first() else {
        *t = new;
        return;
    };
    match t {
        serde_json::Value::Object(m) => {
            if rest.is_empty() {
                m.insert(first.clone(), new);
            } else if let Some(child) = m.get_mut(first) {
                set_path(child, rest, new);
            }
        }
        serde_json::Value::Array(items) => {
            if let Ok(i) = first.parse::<i64>() {
                let idx = if i < 0 { items.len() as i64 + i } else { i };
                if let Some(child) = usize::try_from(idx).ok().and_then(|i| items.get_mut(i)) {
                    set_path(child, rest, new);
                }
            }
        }
        _ => {}
    }
}

fn interval_part(field: &str, i: &crate::value::Interval) -> Result<f64> {
    Ok(match field {
        "year" => (i.months / 12) as f64,
        "month" => (i.months % 12) as f64,
        "day" => i.days as f64,
        "hour" => (i.micros / 3_600_000_000) as f64,
        "minute" => ((i.micros / 60_000_000) % 60) as f64,
        "second" => (i.micros % 60_000_000) as f64 / 1e6,
        "epoch" => i.total_micros() as f64 / 1e6 + (i.months as f64 * 30.0 * 86400.0 * 0.0),
        _ => {
            return Err(AuroraError::sql(
                "22023",
                format!("unit \"{field}\" not recognized for type interval"),
            ));
        }
    })
}

fn micros_of(v: &Value) -> Result<i64> {
    match v {
        Value::Date(d) => Ok(*d as i64 * 86_400_000_000),
        Value::Timestamp(t) | Value::TimestampTz(t) => Ok(*t),
        Value::Text(s) => datetime::parse_timestamp(s, false),
        other => Err(AuroraError::datatype_mismatch(format!(
            "cannot extract from type {}",
            other.data_type()
        ))),
    }
}

fn compile(pattern: &str, insensitive: bool) -> Result<regex_lite::Regex> {
    regex_lite::RegexBuilder::new(pattern)
        .case_insensitive(insensitive)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| AuroraError::sql("2201B", format!("invalid regular expression: {e}")))
}

/// POSIX regular-expression match (`~`, `~*`).
pub fn regex_match(s: &str, pattern: &str, insensitive: bool) -> Result<bool> {
    Ok(compile(pattern, insensitive)?.is_match(s))
}

/// SQL LIKE matching with `%`, `_` and an escape character.
pub fn like(s: &str, pattern: &str, escape: Option<char>, insensitive: bool) -> bool {
    let (s, p): (Vec<char>, Vec<char>) = if insensitive {
        (
            s.to_lowercase().chars().collect(),
            pattern.to_lowercase().chars().collect(),
        )
    } else {
        (s.chars().collect(), pattern.chars().collect())
    };
    // Iterative matcher with backtracking to the last `%` (linear in practice, no recursion).
    let (mut si, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() {
            let c = p[pi];
            if Some(c) == escape && pi + 1 < p.len() {
                if p[pi + 1] == s[si] {
                    si += 1;
                    pi += 2;
                    continue;
                }
            } else if c == '%' {
                star = Some((pi, si));
                pi += 1;
                continue;
            } else if c == '_' || c == s[si] {
                si += 1;
                pi += 1;
                continue;
            }
        }
        match star {
            Some((sp, ss)) => {
                pi = sp + 1;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    while pi < p.len() && p[pi] == '%' {
        pi += 1;
    }
    pi == p.len()
}

/// Rounds a numeric to `scale` digits, half away from zero.
pub fn round_numeric(d: &BigDecimal, scale: i64) -> BigDecimal {
    d.with_scale_round(scale, RoundingMode::HalfUp)
}

/// The value as f64 for functions that need it (NaN when not numeric).
pub fn to_f64(v: &Value) -> f64 {
    v.as_f64()
        .or_else(|| v.as_decimal().and_then(|d| d.to_f64()))
        .unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_matches_postgresql() {
        assert!(like("hello", "h%o", Some('\\'), false));
        assert!(like("hello", "h_llo", Some('\\'), false));
        assert!(!like("hello", "h_lo", Some('\\'), false));
        assert!(like("50%", "50\\%", Some('\\'), false));
        assert!(!like("50x", "50\\%", Some('\\'), false));
        assert!(like("HeLLo", "hello", None, true));
        assert!(like("", "%", None, false));
    }
}
