//! DynamoDB's expression language: lexer, parser, checker, evaluator and update applier.
//!
//! [`compile`] takes a request's expression strings and placeholder maps, validates them the way
//! DynamoDB does (placeholder syntax, value validity, syntax, reserved words, undefined and
//! unused placeholders) and returns the parsed trees, or the exact `ValidationException` text.

pub mod ast;
pub mod check;
pub mod eval;
pub mod lex;
pub mod parse;
pub mod reserved;
pub mod update;

use std::collections::HashMap;

pub use ast::{Action, CmpOp, Cond, Name, Operand, Path, PathElem, SetValue, Update};
pub use eval::Ctx;

use crate::error::Error;
use crate::value::{AttributeValue, validate};

/// The longest expression DynamoDB accepts, in bytes.
pub const MAX_EXPRESSION_SIZE: usize = 4096;

/// The expression parameters of one request.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sources<'a> {
    /// `UpdateExpression`.
    pub update: Option<&'a str>,
    /// `ConditionExpression`.
    pub condition: Option<&'a str>,
    /// `KeyConditionExpression`.
    pub key_condition: Option<&'a str>,
    /// `FilterExpression`.
    pub filter: Option<&'a str>,
    /// `ProjectionExpression`.
    pub projection: Option<&'a str>,
    /// `ExpressionAttributeNames`.
    pub names: Option<&'a HashMap<String, String>>,
    /// `ExpressionAttributeValues`.
    pub values: Option<&'a HashMap<String, AttributeValue>>,
}

/// A request's parsed and checked expressions.
#[derive(Debug, Default, Clone)]
pub struct Compiled {
    /// The update.
    pub update: Option<Update>,
    /// The condition.
    pub condition: Option<Cond>,
    /// The key condition.
    pub key_condition: Option<Cond>,
    /// The filter.
    pub filter: Option<Cond>,
    /// The projection.
    pub projection: Option<Vec<Path>>,
}

fn valid_key(k: &str, sigil: char) -> bool {
    let mut chars = k.chars();
    chars.next() == Some(sigil)
        && k.len() > 1
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn prepare(kind: &str, src: &str) -> Result<(), Error> {
    if src.is_empty() {
        return Err(Error::validation(format!(
            "Invalid {kind}: The expression can not be empty;"
        )));
    }
    if src.len() > MAX_EXPRESSION_SIZE {
        return Err(Error::validation(format!(
            "Invalid {kind}: Expression size has exceeded the maximum allowed size; expression size: {}",
            src.len()
        )));
    }
    Ok(())
}

/// Parses and checks a request's expressions.
pub fn compile(s: &Sources<'_>) -> Result<Compiled, Error> {
    if let Some(names) = s.names {
        if names.is_empty() {
            return Err(Error::validation(
                "ExpressionAttributeNames must not be empty",
            ));
        }
        if let Some(k) = names.keys().find(|k| !valid_key(k, '#')) {
            return Err(Error::validation(format!(
                "ExpressionAttributeNames contains invalid key: Syntax error; key: \"{k}\""
            )));
        }
    }
    if let Some(values) = s.values {
        if values.is_empty() {
            return Err(Error::validation(
                "ExpressionAttributeValues must not be empty",
            ));
        }
        if let Some(k) = values.keys().find(|k| !valid_key(k, ':')) {
            return Err(Error::validation(format!(
                "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{k}\""
            )));
        }
        for (k, v) in values {
            validate(v).map_err(|m| {
                Error::validation(format!(
                    "ExpressionAttributeValues contains invalid value: {m} for key {k}"
                ))
            })?;
        }
    }
    let mut checker = check::Checker::new(s.names, s.values);
    let mut out = Compiled::default();
    let fail = |kind: &str, msg: String| Error::validation(format!("Invalid {kind}: {msg}"));
    if let Some(src) = s.update {
        prepare("UpdateExpression", src)?;
        let u = parse::parse_update(src).map_err(|e| fail("UpdateExpression", e.to_string()))?;
        checker
            .check_update(&u)
            .map_err(|m| fail("UpdateExpression", m))?;
        out.update = Some(u);
    }
    for (kind, src, slot) in [
        ("ConditionExpression", s.condition, &mut out.condition),
        (
            "KeyConditionExpression",
            s.key_condition,
            &mut out.key_condition,
        ),
        ("FilterExpression", s.filter, &mut out.filter),
    ] {
        if let Some(src) = src {
            prepare(kind, src)?;
            let c = parse::parse_condition(src).map_err(|e| fail(kind, e.to_string()))?;
            checker.check_condition(&c).map_err(|m| fail(kind, m))?;
            *slot = Some(c);
        }
    }
    if let Some(src) = s.projection {
        prepare("ProjectionExpression", src)?;
        let p = parse::parse_projection(src)
            .map_err(|e| fail("ProjectionExpression", e.to_string()))?;
        checker
            .check_projection(&p)
            .map_err(|m| fail("ProjectionExpression", m))?;
        out.projection = Some(p);
    }
    if let Some(names) = s.names {
        let mut unused: Vec<&str> = names
            .keys()
            .filter(|k| !checker.used_names.contains(*k))
            .map(String::as_str)
            .collect();
        if !unused.is_empty() {
            unused.sort_unstable();
            return Err(Error::validation(format!(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                unused.join(", ")
            )));
        }
    }
    if let Some(values) = s.values {
        let mut unused: Vec<&str> = values
            .keys()
            .filter(|k| !checker.used_values.contains(*k))
            .map(String::as_str)
            .collect();
        if !unused.is_empty() {
            unused.sort_unstable();
            return Err(Error::validation(format!(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                unused.join(", ")
            )));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn values(pairs: &[(&str, AttributeValue)]) -> HashMap<String, AttributeValue> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.clone()))
            .collect()
    }

    fn err(s: Sources<'_>) -> String {
        compile(&s).unwrap_err().to_string()
    }

    #[test]
    fn dynamodb_messages() {
        let v = values(&[(":v", AttributeValue::int(1))]);
        let n = names(&[("#n", "x")]);
        assert_eq!(
            err(Sources {
                condition: Some("a = :v"),
                values: Some(&values(&[
                    (":v", AttributeValue::int(1)),
                    (":w", AttributeValue::int(2))
                ])),
                ..Default::default()
            }),
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"
        );
        assert_eq!(
            err(Sources {
                condition: Some("#m = :v"),
                values: Some(&v),
                ..Default::default()
            }),
            "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #m"
        );
        assert_eq!(
            err(Sources {
                condition: Some("name = :v"),
                values: Some(&v),
                ..Default::default()
            }),
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: name"
        );
        assert_eq!(
            err(Sources {
                condition: Some("a = :v"),
                values: Some(&v),
                names: Some(&n),
                ..Default::default()
            }),
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#n}"
        );
        assert_eq!(
            err(Sources {
                update: Some("SET a = :v SET b = :v"),
                values: Some(&v),
                ..Default::default()
            }),
            "Invalid UpdateExpression: The \"SET\" section can only be used once in an update expression;"
        );
        assert_eq!(
            err(Sources {
                update: Some("SET a = :v, a.b = :v"),
                values: Some(&v),
                ..Default::default()
            }),
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"
        );
        assert_eq!(
            err(Sources {
                condition: Some("begins_with(a, :v)"),
                values: Some(&v),
                ..Default::default()
            }),
            "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"
        );
        assert_eq!(
            err(Sources {
                condition: Some("foo(a)"),
                ..Default::default()
            }),
            "Invalid ConditionExpression: Invalid function name; function: foo"
        );
        assert_eq!(
            err(Sources {
                condition: Some(""),
                ..Default::default()
            }),
            "Invalid ConditionExpression: The expression can not be empty;"
        );
        assert_eq!(
            err(Sources {
                condition: Some("a = :v"),
                values: Some(&values(&[(":v", AttributeValue::Ss(vec![]))])),
                ..Default::default()
            }),
            "ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: An string set  may not be empty for key :v"
        );
        assert_eq!(
            err(Sources {
                update: Some("ADD a :v"),
                values: Some(&values(&[(":v", AttributeValue::s("x"))])),
                ..Default::default()
            }),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING"
        );
        assert_eq!(
            err(Sources {
                condition: Some("a = a"),
                ..Default::default()
            }),
            "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [a]"
        );
    }
}
