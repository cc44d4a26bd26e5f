//! The legacy (pre-expression) parameters, translated into the expression trees so that one
//! evaluator serves both: `Expected` and `QueryFilter`/`ScanFilter` (with `ConditionalOperator`)
//! become conditions, `AttributeUpdates` an update, `AttributesToGet` a projection, and
//! `KeyConditions` a key condition.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::expr::{Action, CmpOp, Cond, Name, Operand, Path, PathElem, SetValue, Update};
use crate::model_data::{AttributeValueUpdate, Condition, ExpectedAttributeValue};
use crate::value::{AttributeValue, ValueType, validate};

const P: &str = "One or more parameter values were invalid: ";

fn path(name: &str) -> Path {
    Path(vec![PathElem::Attr(Name::Plain(name.to_owned()))])
}

fn lit(v: &AttributeValue) -> Operand {
    Operand::Literal(v.clone())
}

fn check_value(v: &AttributeValue) -> Result<()> {
    validate(v).map_err(Error::Validation)
}

/// Rejects a request that mixes expression and legacy parameters, or gives placeholders without
/// expressions, with DynamoDB's messages. `value_exprs` are the expression members that may use
/// `ExpressionAttributeValues` (all but ProjectionExpression).
pub fn check_params(
    exprs: &[(&str, bool)],
    legacy: &[(&str, bool)],
    names: bool,
    values: bool,
) -> Result<()> {
    // The common request uses no legacy parameter and no placeholders: nothing can be wrong.
    if !names && !values && legacy.iter().all(|(_, u)| !*u) {
        return Ok(());
    }
    let used: Vec<&str> = exprs.iter().filter(|(_, u)| *u).map(|(n, _)| *n).collect();
    let legacy_used: Vec<&str> = legacy.iter().filter(|(_, u)| *u).map(|(n, _)| *n).collect();
    if !used.is_empty() && !legacy_used.is_empty() {
        return Err(Error::validation(format!(
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{{}}} Expression parameters: {{{}}}",
            legacy_used.join(", "),
            used.join(", ")
        )));
    }
    if names && used.is_empty() {
        return Err(Error::validation(
            "ExpressionAttributeNames can only be specified when using expressions",
        ));
    }
    let value_exprs: Vec<&(&str, bool)> = exprs
        .iter()
        .filter(|(n, _)| *n != "ProjectionExpression")
        .collect();
    if values && !value_exprs.is_empty() && value_exprs.iter().all(|(_, u)| !*u) {
        let names: Vec<&str> = value_exprs.iter().map(|(n, _)| *n).collect();
        let verb = if names.len() > 1 { "are" } else { "is" };
        return Err(Error::validation(format!(
            "ExpressionAttributeValues can only be specified when using expressions: {} {verb} null",
            names.join(" and ")
        )));
    }
    Ok(())
}

fn arity(op: &str) -> Option<(usize, usize)> {
    Some(match op {
        "EQ" | "NE" | "LE" | "LT" | "GE" | "GT" | "CONTAINS" | "NOT_CONTAINS" | "BEGINS_WITH" => {
            (1, 1)
        }
        "NULL" | "NOT_NULL" => (0, 0),
        "IN" => (1, usize::MAX),
        "BETWEEN" => (2, 2),
        _ => return None,
    })
}

/// One legacy comparison on attribute `name`.
pub fn comparison(name: &str, op: &str, args: &[AttributeValue]) -> Result<Cond> {
    let (min, max) = arity(op).ok_or_else(|| {
        Error::validation(format!(
            "1 validation error detected: Value '{op}' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
        ))
    })?;
    if args.len() < min || args.len() > max {
        return Err(Error::validation(format!(
            "{P}Invalid number of argument(s) for the {op} ComparisonOperator"
        )));
    }
    for a in args {
        check_value(a)?;
    }
    let scalar = |v: &AttributeValue, ops: &[ValueType]| -> Result<()> {
        if ops.contains(&v.value_type()) {
            Ok(())
        } else {
            Err(Error::validation(format!(
                "{P}ComparisonOperator {op} is not valid for {} AttributeValue type",
                v.value_type()
            )))
        }
    };
    let p = Operand::Path(path(name));
    Ok(match op {
        "EQ" => Cond::Cmp(CmpOp::Eq, p, lit(&args[0])),
        "NE" => Cond::Cmp(CmpOp::Ne, p, lit(&args[0])),
        "LE" | "LT" | "GE" | "GT" => {
            scalar(&args[0], &[ValueType::S, ValueType::N, ValueType::B])?;
            let c = match op {
                "LE" => CmpOp::Le,
                "LT" => CmpOp::Lt,
                "GE" => CmpOp::Ge,
                _ => CmpOp::Gt,
            };
            Cond::Cmp(c, p, lit(&args[0]))
        }
        "NULL" => Cond::Call("attribute_not_exists".into(), vec![p]),
        "NOT_NULL" => Cond::Call("attribute_exists".into(), vec![p]),
        "CONTAINS" => {
            scalar(&args[0], &[ValueType::S, ValueType::N, ValueType::B])?;
            Cond::Call("contains".into(), vec![p, lit(&args[0])])
        }
        "NOT_CONTAINS" => {
            scalar(&args[0], &[ValueType::S, ValueType::N, ValueType::B])?;
            Cond::Not(Box::new(Cond::Call(
                "contains".into(),
                vec![p, lit(&args[0])],
            )))
        }
        "BEGINS_WITH" => {
            scalar(&args[0], &[ValueType::S, ValueType::B])?;
            Cond::Call("begins_with".into(), vec![p, lit(&args[0])])
        }
        "IN" => {
            let t = args[0].value_type();
            if args.iter().any(|a| a.value_type() != t) {
                return Err(Error::validation(format!(
                    "{P}AttributeValues inside AttributeValueList must be of same type"
                )));
            }
            Cond::In(p, args.iter().map(lit).collect())
        }
        _ => {
            if args[0].value_type() != args[1].value_type() {
                return Err(Error::validation(format!(
                    "{P}AttributeValues inside AttributeValueList must be of same type"
                )));
            }
            scalar(&args[0], &[ValueType::S, ValueType::N, ValueType::B])?;
            if crate::expr::eval::compare(&args[0], &args[1]) == Some(std::cmp::Ordering::Greater) {
                return Err(Error::validation(
                    "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound",
                ));
            }
            Cond::Between(p, lit(&args[0]), lit(&args[1]))
        }
    })
}

fn combine(conds: Vec<Cond>, op: Option<&str>) -> Result<Option<Cond>> {
    let or = match op {
        None | Some("AND") => false,
        Some("OR") => true,
        Some(other) => {
            return Err(Error::validation(format!(
                "1 validation error detected: Value '{other}' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [OR, AND]"
            )));
        }
    };
    Ok(conds.into_iter().reduce(|a, b| {
        if or {
            Cond::Or(Box::new(a), Box::new(b))
        } else {
            Cond::And(Box::new(a), Box::new(b))
        }
    }))
}

fn sorted<T>(m: &HashMap<String, T>) -> Vec<(&String, &T)> {
    let mut v: Vec<(&String, &T)> = m.iter().collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v
}

/// `Expected` (with `ConditionalOperator`) as a condition.
pub fn expected(
    exp: &HashMap<String, ExpectedAttributeValue>,
    op: Option<&str>,
) -> Result<Option<Cond>> {
    let mut conds = Vec::new();
    for (name, e) in sorted(exp) {
        let c = match (
            &e.comparison_operator,
            e.exists,
            &e.value,
            &e.attribute_value_list,
        ) {
            (Some(_), Some(_), _, _) => {
                return Err(Error::validation(format!(
                    "{P}Exists and ComparisonOperator cannot be used together for Attribute: {name}"
                )));
            }
            (Some(_), None, Some(_), Some(_)) => {
                return Err(Error::validation(format!(
                    "{P}Value and AttributeValueList cannot be used together for Attribute: {name}"
                )));
            }
            (Some(cop), None, v, list) => {
                let args: Vec<AttributeValue> = match (v, list) {
                    (Some(v), _) => vec![v.clone()],
                    (None, Some(l)) => l.clone(),
                    (None, None) => Vec::new(),
                };
                comparison(name, cop, &args)?
            }
            (None, _, _, Some(_)) => {
                return Err(Error::validation(format!(
                    "{P}AttributeValueList can only be used with a ComparisonOperator for Attribute: {name}"
                )));
            }
            (None, Some(false), Some(_), None) => {
                return Err(Error::validation(format!(
                    "{P}Value cannot be used when Exists is false for Attribute: {name}"
                )));
            }
            (None, Some(false), None, None) => Cond::Call(
                "attribute_not_exists".into(),
                vec![Operand::Path(path(name))],
            ),
            (None, _, Some(v), None) => {
                check_value(v)?;
                Cond::Cmp(CmpOp::Eq, Operand::Path(path(name)), lit(v))
            }
            (None, _, None, None) => {
                return Err(Error::validation(format!(
                    "{P}Value must be provided when Exists is true for Attribute: {name}"
                )));
            }
        };
        conds.push(c);
    }
    combine(conds, op)
}

/// `QueryFilter`/`ScanFilter`/`KeyConditions` (with `ConditionalOperator`) as a condition.
pub fn conditions(m: &HashMap<String, Condition>, op: Option<&str>) -> Result<Option<Cond>> {
    let mut conds = Vec::new();
    for (name, c) in sorted(m) {
        let cop = c.comparison_operator.as_deref().ok_or_else(|| {
            Error::validation("1 validation error detected: Value null at 'comparisonOperator' failed to satisfy constraint: Member must not be null".to_owned())
        })?;
        conds.push(comparison(
            name,
            cop,
            c.attribute_value_list.as_deref().unwrap_or_default(),
        )?);
    }
    combine(conds, op)
}

/// `AttributeUpdates` as an update; `key` names the key attributes, which may not be updated.
pub fn attribute_updates(
    m: &HashMap<String, AttributeValueUpdate>,
    key: &[&str],
) -> Result<Update> {
    let mut actions = Vec::new();
    for (name, u) in sorted(m) {
        if key.contains(&name.as_str()) {
            return Err(Error::validation(format!(
                "{P}Cannot update attribute {name}. This attribute is part of the key"
            )));
        }
        if let Some(v) = &u.value {
            check_value(v)?;
        }
        let p = path(name);
        let action = match (u.action.as_deref().unwrap_or("PUT"), &u.value) {
            ("PUT", Some(v)) => Action::Set(p, SetValue::Operand(lit(v))),
            ("PUT", None) | ("ADD", None) => {
                return Err(Error::validation(format!(
                    "{P}Only DELETE action is allowed when no attribute value is specified"
                )));
            }
            ("DELETE", None) => Action::Remove(p),
            ("DELETE", Some(v)) => match v.value_type() {
                ValueType::Ss | ValueType::Ns | ValueType::Bs => Action::Delete(p, lit(v)),
                t => {
                    return Err(Error::validation(format!(
                        "{P}DELETE action with value is not supported for the type {t}"
                    )));
                }
            },
            ("ADD", Some(v)) => match v.value_type() {
                ValueType::N | ValueType::Ss | ValueType::Ns | ValueType::Bs => {
                    Action::Add(p, lit(v))
                }
                ValueType::L => {
                    let existing = Operand::Call(
                        "if_not_exists".into(),
                        vec![
                            Operand::Path(p.clone()),
                            Operand::Literal(AttributeValue::L(vec![])),
                        ],
                    );
                    Action::Set(
                        p,
                        SetValue::Operand(Operand::Call(
                            "list_append".into(),
                            vec![existing, lit(v)],
                        )),
                    )
                }
                t => {
                    return Err(Error::validation(format!(
                        "{P}ADD action is not supported for the type {t}"
                    )));
                }
            },
            (other, _) => {
                return Err(Error::validation(format!(
                    "1 validation error detected: Value '{other}' at 'attributeUpdates.{name}.member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]"
                )));
            }
        };
        actions.push(action);
    }
    Ok(Update {
        actions,
        repeated_clause: None,
    })
}

/// `AttributesToGet` as a projection.
pub fn attributes_to_get(names: &[String]) -> Result<Vec<Path>> {
    let mut seen = std::collections::HashSet::new();
    for n in names {
        if !seen.insert(n) {
            return Err(Error::validation(format!(
                "{P}Duplicate value in attribute name: {n}"
            )));
        }
    }
    Ok(names.iter().map(|n| path(n)).collect())
}
