//! The string and date functions of `Step::Func` (`toUpper`, `concat`, `split`, `asDate`,
//! `dateDiff`, …), applied to one value with the step's evaluated arguments, and the plain-text
//! rendering of values they share with `format()`.
//!
//! Guarantee: a null input gives null (except `concat`, which treats it as empty text, and
//! `asDate`, which rejects it); a value of the wrong type gives TinkerPop's error text.

use crate::error::{Error, Result};
use crate::gremlin::ir::Func;
use crate::value::Value;

fn func_name(f: Func) -> &'static str {
    match f {
        Func::ToUpper => "toUpper",
        Func::ToLower => "toLower",
        Func::Length => "length",
        Func::Trim => "trim",
        Func::LTrim => "lTrim",
        Func::RTrim => "rTrim",
        Func::Reverse => "reverse",
        Func::Concat => "concat",
        Func::Split => "split",
        Func::Substring => "substring",
        Func::Replace => "replace",
        Func::AsString => "asString",
        Func::AsDate => "asDate",
        Func::DateDiff => "dateDiff",
    }
}

pub(super) fn func(f: Func, v: &Value, params: &[Value], local: bool) -> Result<Value> {
    let s = || -> Result<&str> {
        match v {
            Value::Str(s) => Ok(s),
            Value::Null => Ok(""),
            other if f == Func::Concat => Err(Error::Evaluation(format!(
                "String concat() can only take string as argument, encountered {}",
                other.type_name()
            ))),
            other if local => Err(Error::Evaluation(format!(
                "The {}(local) step can only take string or list of strings, encountered {}",
                func_name(f),
                other.type_name()
            ))),
            other => Err(Error::Evaluation(format!(
                "The {}() step can only take string as argument, encountered {}",
                func_name(f),
                other.type_name()
            ))),
        }
    };
    if matches!(v, Value::Null) && !matches!(f, Func::Concat | Func::AsDate) {
        return Ok(Value::Null);
    }
    Ok(match f {
        Func::ToUpper => Value::str(&s()?.to_uppercase()),
        Func::ToLower => Value::str(&s()?.to_lowercase()),
        Func::Length => Value::Int(s()?.chars().count() as i32),
        Func::Trim => Value::str(s()?.trim()),
        Func::LTrim => Value::str(s()?.trim_start()),
        Func::RTrim => Value::str(s()?.trim_end()),
        Func::Reverse => match v {
            Value::Str(x) => Value::str(&x.chars().rev().collect::<String>()),
            Value::List(l) => Value::list(l.iter().rev().cloned().collect()),
            Value::Path(p) => Value::list(p.objects.iter().rev().cloned().collect()),
            other => other.clone(),
        },
        Func::AsString => Value::str(&display(v)),
        Func::AsDate => match v {
            Value::Date(_) => v.clone(),
            Value::Int(i) => Value::Date(i64::from(*i)),
            Value::Long(l) => Value::Date(*l),
            Value::Str(x) => match crate::gremlin::compile::parse_datetime(x) {
                Some(ms) => Value::Date(ms),
                None => {
                    return Err(Error::Evaluation(format!("Can't parse {x} as Date.")));
                }
            },
            other => {
                return Err(Error::Evaluation(format!(
                    "Can't parse {} as Date.",
                    display(other)
                )));
            }
        },
        Func::DateDiff => match (v, params.first()) {
            (Value::Date(a), Some(Value::Date(b))) => Value::Long((a - b).div_euclid(1000)),
            (Value::Date(a), Some(Value::Null) | None) => Value::Long(a.div_euclid(1000)),
            (Value::Date(_), Some(other)) => {
                return Err(Error::Evaluation(format!(
                    "dateDiff accept only datetime, encountered {}",
                    other.type_name()
                )));
            }
            (other, _) => {
                return Err(Error::Evaluation(format!(
                    "dateDiff can only take datetime, encountered {}",
                    other.type_name()
                )));
            }
        },
        Func::Concat
            if matches!(v, Value::Null) && params.iter().all(|p| matches!(p, Value::Null)) =>
        {
            Value::Null
        }
        Func::Concat => {
            let mut out = if matches!(v, Value::Null) {
                String::new()
            } else {
                s()?.to_owned()
            };
            for p in params {
                match p {
                    Value::Str(x) => out.push_str(x),
                    Value::Null => {}
                    Value::List(l) => l
                        .iter()
                        .filter_map(Value::as_str)
                        .for_each(|x| out.push_str(x)),
                    other => out.push_str(&display(other)),
                }
            }
            Value::str(&out)
        }
        Func::Split => {
            let sep = params.first().and_then(Value::as_str).unwrap_or(" ");
            let x = s()?;
            let parts: Vec<Value> = if sep.is_empty() {
                x.chars().map(|c| Value::str(&c.to_string())).collect()
            } else {
                x.split(sep).map(Value::str).collect()
            };
            Value::list(parts)
        }
        Func::Substring => {
            let chars: Vec<char> = s()?.chars().collect();
            let n = chars.len() as i64;
            let norm = |i: i64| if i < 0 { (n + i).max(0) } else { i.min(n) } as usize;
            let start = norm(params.first().and_then(Value::as_i64).unwrap_or(0));
            let end = params
                .get(1)
                .and_then(Value::as_i64)
                .map(norm)
                .unwrap_or(n as usize);
            Value::str(
                &chars
                    .get(start..end.max(start))
                    .unwrap_or(&[])
                    .iter()
                    .collect::<String>(),
            )
        }
        // A null search string matches nothing.
        Func::Replace if matches!(params.first(), None | Some(Value::Null)) => Value::str(s()?),
        Func::Replace => {
            let (from, to) = (
                params.first().and_then(Value::as_str).unwrap_or(""),
                params.get(1).and_then(Value::as_str).unwrap_or(""),
            );
            Value::str(&s()?.replace(from, to))
        }
    })
}

/// Plain text of a value (`asString()`, `concat()`).
pub fn display(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Long(l) => l.to_string(),
        Value::Float(f) => format!("{f:?}"),
        Value::Double(d) => format!("{d:?}"),
        Value::List(l) => format!("[{}]", l.iter().map(display).collect::<Vec<_>>().join(", ")),
        other => format!("{other:?}"),
    }
}
