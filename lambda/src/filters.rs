//! Event filtering for event source mappings (`FilterCriteria`): each filter's `Pattern` is a
//! JSON document in Lambda's filter syntax, and a record reaches the function only when at least
//! one pattern matches it; the others are dropped (a stream mapping moves past them).
//!
//! Syntax, as Lambda documents it: a pattern is an object whose keys name fields of the record;
//! a value is either a nested object (a field inside) or a non-empty array of conditions, any of
//! which may match — a literal (string, number, boolean or `null`: equality), `{"prefix": s}`,
//! `{"suffix": s}`, `{"equals-ignore-case": s}`, `{"anything-but": literal | [literals] |
//! {"prefix": s} | {"suffix": s}}`, `{"numeric": [op, n (, op, n)]}` with `=`, `<`, `<=`, `>`,
//! `>=`, and `{"exists": bool}`; `"$or": [pattern, pattern, …]` combines alternatives. A field
//! holding an array matches when any element does. At most 5 filters of at most 4096 characters
//! each (Lambda's default quota).
//!
//! Guarantee: a malformed pattern is refused when the mapping is created or updated, with
//! Lambda's `InvalidParameterValueException` ("Invalid filter pattern definition."), so a mapping
//! never silently drops every record because of a typo; matching never panics.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{LambdaError, Result};

/// Filters per mapping (Lambda's default quota).
pub const MAX_FILTERS: usize = 5;
/// Characters per pattern.
pub const MAX_PATTERN_CHARS: usize = 4096;

/// `FilterCriteria` as the API carries it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FilterCriteria {
    /// Up to five filters.
    #[serde(default)]
    pub filters: Vec<Filter>,
}

/// One filter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Filter {
    /// The pattern, a JSON document as text.
    #[serde(default)]
    pub pattern: Option<String>,
}

fn invalid() -> LambdaError {
    LambdaError::InvalidParameterValue("Invalid filter pattern definition.".into())
}

/// Validated patterns, ready to match records.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CompiledFilters {
    patterns: Vec<Map<String, Value>>,
}

impl CompiledFilters {
    /// Validates `criteria` (`None` or no filters: every record passes).
    pub fn compile(criteria: Option<&FilterCriteria>) -> Result<CompiledFilters> {
        let Some(c) = criteria else {
            return Ok(CompiledFilters::default());
        };
        if c.filters.len() > MAX_FILTERS {
            return Err(LambdaError::InvalidParameterValue(format!(
                "The number of filters exceeds the limit of {MAX_FILTERS}."
            )));
        }
        let mut patterns = Vec::with_capacity(c.filters.len());
        for f in &c.filters {
            let text = f.pattern.as_deref().ok_or_else(invalid)?;
            patterns.push(parse_pattern(text)?);
        }
        Ok(CompiledFilters { patterns })
    }

    /// Whether any pattern matches `record` (true when there are none).
    pub fn matches(&self, record: &Value) -> bool {
        self.patterns.is_empty() || self.patterns.iter().any(|p| object_matches(p, record))
    }
}

/// Parses and validates one pattern.
pub fn parse_pattern(text: &str) -> Result<Map<String, Value>> {
    if text.chars().count() > MAX_PATTERN_CHARS {
        return Err(invalid());
    }
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
        return Err(invalid());
    };
    check_object(&map, 0)?;
    Ok(map)
}

fn check_object(map: &Map<String, Value>, depth: usize) -> Result<()> {
    if map.is_empty() || depth > 32 {
        return Err(invalid());
    }
    for (k, v) in map {
        match (k.as_str(), v) {
            ("$or", Value::Array(alternatives)) => {
                if alternatives.len() < 2 {
                    return Err(invalid());
                }
                for a in alternatives {
                    let Value::Object(m) = a else {
                        return Err(invalid());
                    };
                    check_object(m, depth + 1)?;
                }
            }
            (_, Value::Object(m)) => check_object(m, depth + 1)?,
            (_, Value::Array(conds)) if !conds.is_empty() => {
                for c in conds {
                    check_condition(c)?;
                }
            }
            _ => return Err(invalid()),
        }
    }
    Ok(())
}

fn is_literal(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

fn check_condition(c: &Value) -> Result<()> {
    let Value::Object(m) = c else {
        return Ok(());
    };
    let mut it = m.iter();
    let (Some((op, arg)), None) = (it.next(), it.next()) else {
        return Err(invalid());
    };
    let ok = match (op.as_str(), arg) {
        ("prefix" | "suffix" | "equals-ignore-case", Value::String(_)) => true,
        ("exists", Value::Bool(_)) => true,
        ("anything-but", Value::Array(vs)) => !vs.is_empty() && vs.iter().all(is_literal),
        ("anything-but", Value::Object(inner)) => {
            inner.len() == 1
                && matches!(
                    inner.iter().next(),
                    Some((k, Value::String(_))) if k == "prefix" || k == "suffix"
                )
        }
        ("anything-but", v) => is_literal(v),
        ("numeric", Value::Array(parts)) => numeric_ops(parts).is_some(),
        _ => false,
    };
    if ok { Ok(()) } else { Err(invalid()) }
}

/// `[op, n]` or `[op, n, op, n]` as (operator, bound) pairs.
fn numeric_ops(parts: &[Value]) -> Option<Vec<(&str, f64)>> {
    if !(parts.len() == 2 || parts.len() == 4) {
        return None;
    }
    parts
        .chunks(2)
        .map(|pair| match pair {
            [Value::String(op), Value::Number(n)]
                if matches!(op.as_str(), "=" | "<" | "<=" | ">" | ">=") =>
            {
                Some((op.as_str(), n.as_f64()?))
            }
            _ => None,
        })
        .collect()
}

fn object_matches(pattern: &Map<String, Value>, value: &Value) -> bool {
    pattern.iter().all(|(k, cond)| {
        if k == "$or"
            && let Value::Array(alternatives) = cond
        {
            return alternatives.iter().any(|a| match a {
                Value::Object(m) => object_matches(m, value),
                _ => false,
            });
        }
        let field = value.as_object().and_then(|o| o.get(k));
        match cond {
            Value::Object(nested) => field.is_some_and(|f| object_matches(nested, f)),
            Value::Array(conds) => conds.iter().any(|c| condition_matches(c, field)),
            _ => false,
        }
    })
}

fn literal_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn condition_matches(cond: &Value, field: Option<&Value>) -> bool {
    if let Value::Object(m) = cond
        && let Some(Value::Bool(want)) = m.get("exists")
    {
        return field.is_some() == *want;
    }
    match field {
        None => false,
        Some(Value::Array(items)) => items.iter().any(|i| leaf_matches(cond, i)),
        Some(v) => leaf_matches(cond, v),
    }
}

fn leaf_matches(cond: &Value, v: &Value) -> bool {
    let Value::Object(m) = cond else {
        return literal_eq(cond, v);
    };
    let Some((op, arg)) = m.iter().next() else {
        return false;
    };
    match (op.as_str(), arg, v) {
        ("prefix", Value::String(p), Value::String(s)) => s.starts_with(p.as_str()),
        ("suffix", Value::String(p), Value::String(s)) => s.ends_with(p.as_str()),
        ("equals-ignore-case", Value::String(p), Value::String(s)) => p.eq_ignore_ascii_case(s),
        ("anything-but", Value::Array(vs), v) => !vs.iter().any(|x| literal_eq(x, v)),
        ("anything-but", Value::Object(inner), Value::String(s)) => match inner.iter().next() {
            Some((k, Value::String(p))) if k == "prefix" => !s.starts_with(p.as_str()),
            Some((k, Value::String(p))) if k == "suffix" => !s.ends_with(p.as_str()),
            _ => false,
        },
        ("anything-but", Value::Object(_), _) => true,
        ("anything-but", x, v) => !literal_eq(x, v),
        ("numeric", Value::Array(parts), Value::Number(n)) => {
            let (Some(ops), Some(x)) = (numeric_ops(parts), n.as_f64()) else {
                return false;
            };
            ops.iter().all(|(op, bound)| match *op {
                "=" => x == *bound,
                "<" => x < *bound,
                "<=" => x <= *bound,
                ">" => x > *bound,
                _ => x >= *bound,
            })
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn filters(patterns: &[&str]) -> Result<CompiledFilters> {
        CompiledFilters::compile(Some(&FilterCriteria {
            filters: patterns
                .iter()
                .map(|p| Filter {
                    pattern: Some((*p).into()),
                })
                .collect(),
        }))
    }

    #[test]
    fn dynamodb_record_patterns() {
        let insert = json!({"eventName": "INSERT", "dynamodb": {"NewImage": {"status": {"S": "active"}, "n": {"N": "5"}}, "SequenceNumber": "100"}});
        let modify =
            json!({"eventName": "MODIFY", "dynamodb": {"NewImage": {"status": {"S": "closed"}}}});
        let f = filters(&[r#"{"eventName": ["INSERT"]}"#]).unwrap();
        assert!(f.matches(&insert) && !f.matches(&modify));
        let f = filters(&[r#"{"dynamodb": {"NewImage": {"status": {"S": [{"prefix": "act"}]}}}}"#])
            .unwrap();
        assert!(f.matches(&insert) && !f.matches(&modify));
        let f = filters(&[r#"{"eventName": [{"anything-but": ["INSERT", "REMOVE"]}]}"#]).unwrap();
        assert!(!f.matches(&insert) && f.matches(&modify));
        let f =
            filters(&[r#"{"dynamodb": {"NewImage": {"n": {"N": [{"exists": true}]}}}}"#]).unwrap();
        assert!(f.matches(&insert) && !f.matches(&modify));
        let f = filters(&[r#"{"$or": [{"eventName": ["MODIFY"]}, {"eventName": [{"equals-ignore-case": "insert"}]}]}"#]).unwrap();
        assert!(f.matches(&insert) && f.matches(&modify));
        let f = filters(&[r#"{"v": [{"numeric": [">", 0, "<=", 5]}]}"#]).unwrap();
        assert!(f.matches(&json!({"v": 5})) && !f.matches(&json!({"v": 6})));
        assert!(f.matches(&json!({"v": [9, 3]})), "any element of an array");
        // Several filters: any one may match.
        let f = filters(&[
            r#"{"eventName": ["REMOVE"]}"#,
            r#"{"eventName": ["MODIFY"]}"#,
        ])
        .unwrap();
        assert!(!f.matches(&insert) && f.matches(&modify));
        assert!(CompiledFilters::compile(None).unwrap().matches(&insert));
    }

    #[test]
    fn malformed_patterns_are_refused() {
        for bad in [
            "",
            "null",
            "[1]",
            "{}",
            r#"{"a": []}"#,
            r#"{"a": "x"}"#,
            r#"{"a": [{"prefix": 1}]}"#,
            r#"{"a": [{"numeric": [">"]}]}"#,
            r#"{"a": [{"numeric": ["!", 1]}]}"#,
            r#"{"a": [{"bogus": 1}]}"#,
            r#"{"a": [{"prefix": "x", "suffix": "y"}]}"#,
            r#"{"$or": [{"a": [1]}]}"#,
            r#"{"eventName": ["INSERT"=123}]"#,
        ] {
            let e = filters(&[bad]).unwrap_err();
            assert_eq!(e.to_string(), "Invalid filter pattern definition.", "{bad}");
        }
        let six = [r#"{"a": [1]}"#; 6];
        assert!(filters(&six).is_err());
    }
}
