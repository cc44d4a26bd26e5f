//! JSONB: PostgreSQL's output format and its operators (`->`, `->>`, `#>`, `#>>`, `@>`, `<@`,
//! `?`, `?|`, `?&`, `||`, `-`).
//!
//! Guarantee: output matches PostgreSQL's jsonb text (`{"a": 1, "b": [1, 2]}`, keys ordered by
//! length then bytes, as jsonb stores them).

use serde_json::Value as J;

use crate::error::{AuroraError, Result};

/// Parses JSON text (22P02 on invalid input, as PostgreSQL reports it).
pub fn parse(s: &str) -> Result<J> {
    serde_json::from_str(s).map_err(|_| AuroraError::invalid_input("json", s))
}

/// jsonb's text output.
pub fn format_jsonb(v: &J) -> String {
    let mut out = String::new();
    write(v, &mut out);
    out
}

fn write(v: &J, out: &mut String) {
    match v {
        J::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)));
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&J::String((*k).clone()).to_string());
                out.push_str(": ");
                if let Some(val) = map.get(*k) {
                    write(val, out);
                }
            }
            out.push('}');
        }
        J::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// A key or index step for `->`.
#[derive(Debug, Clone)]
pub enum Step {
    /// An object key.
    Key(String),
    /// An array index (negative counts from the end).
    Index(i64),
}

/// `json -> step`.
pub fn get<'a>(v: &'a J, step: &Step) -> Option<&'a J> {
    match (v, step) {
        (J::Object(map), Step::Key(k)) => map.get(k),
        (J::Array(items), Step::Index(i)) => {
            let idx = if *i < 0 { items.len() as i64 + i } else { *i };
            usize::try_from(idx).ok().and_then(|i| items.get(i))
        }
        (J::Array(items), Step::Key(k)) => k.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    }
}

/// `json #> path`.
pub fn get_path<'a>(v: &'a J, path: &[String]) -> Option<&'a J> {
    let mut cur = v;
    for p in path {
        cur = match cur {
            J::Array(_) => get(cur, &Step::Index(p.parse().ok()?))?,
            _ => get(cur, &Step::Key(p.clone()))?,
        };
    }
    Some(cur)
}

/// `->>`: the text of a JSON value (strings unquoted, null as SQL NULL).
pub fn as_text(v: &J) -> Option<String> {
    match v {
        J::Null => None,
        J::String(s) => Some(s.clone()),
        other => Some(format_jsonb(other)),
    }
}

/// `a @> b`: containment, PostgreSQL's rules (arrays contain elements regardless of order).
pub fn contains(a: &J, b: &J) -> bool {
    match (a, b) {
        (J::Object(x), J::Object(y)) => y
            .iter()
            .all(|(k, vb)| x.get(k).is_some_and(|va| contains(va, vb))),
        (J::Array(x), J::Array(y)) => y.iter().all(|vb| x.iter().any(|va| contains(va, vb))),
        (J::Array(x), scalar) if !scalar.is_array() && !scalar.is_object() => {
            x.iter().any(|va| va == scalar)
        }
        (x, y) => x == y,
    }
}

/// `a ? key`: a top-level key, or a string element of an array.
pub fn has_key(a: &J, key: &str) -> bool {
    match a {
        J::Object(map) => map.contains_key(key),
        J::Array(items) => items.iter().any(|i| i.as_str() == Some(key)),
        J::String(s) => s == key,
        _ => false,
    }
}

/// `a || b`: object merge or array concatenation.
pub fn concat(a: &J, b: &J) -> J {
    match (a, b) {
        (J::Object(x), J::Object(y)) => {
            let mut m = x.clone();
            for (k, v) in y {
                m.insert(k.clone(), v.clone());
            }
            J::Object(m)
        }
        (J::Array(x), J::Array(y)) => J::Array(x.iter().chain(y).cloned().collect()),
        (J::Array(x), y) => J::Array(
            x.iter()
                .cloned()
                .chain(std::iter::once(y.clone()))
                .collect(),
        ),
        (x, J::Array(y)) => J::Array(
            std::iter::once(x.clone())
                .chain(y.iter().cloned())
                .collect(),
        ),
        (x, y) => J::Array(vec![x.clone(), y.clone()]),
    }
}

/// `a - key` / `a - index`.
pub fn remove(a: &J, step: &Step) -> Result<J> {
    Ok(match (a, step) {
        (J::Object(m), Step::Key(k)) => {
            let mut m = m.clone();
            m.remove(k);
            J::Object(m)
        }
        (J::Array(items), Step::Key(k)) => J::Array(
            items
                .iter()
                .filter(|i| i.as_str() != Some(k))
                .cloned()
                .collect(),
        ),
        (J::Array(items), Step::Index(i)) => {
            let idx = if *i < 0 { items.len() as i64 + i } else { *i };
            J::Array(
                items
                    .iter()
                    .enumerate()
                    .filter(|(n, _)| *n as i64 != idx)
                    .map(|(_, v)| v.clone())
                    .collect(),
            )
        }
        _ => return Err(AuroraError::sql("22023", "cannot delete from scalar")),
    })
}

/// `jsonb_typeof`.
pub fn type_of(v: &J) -> &'static str {
    match v {
        J::Null => "null",
        J::Bool(_) => "boolean",
        J::Number(_) => "number",
        J::String(_) => "string",
        J::Array(_) => "array",
        J::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_and_operators() {
        let v = parse(r#"{"bb": [1, 2], "a": {"c": "x"}}"#).unwrap_or(J::Null);
        assert_eq!(format_jsonb(&v), r#"{"a": {"c": "x"}, "bb": [1, 2]}"#);
        assert!(contains(&v, &parse(r#"{"bb": [2]}"#).unwrap_or(J::Null)));
        assert!(has_key(&v, "bb"));
        assert_eq!(
            get_path(&v, &["a".into(), "c".into()]).and_then(as_text),
            Some("x".into())
        );
        assert!(parse("{").is_err());
    }
}
