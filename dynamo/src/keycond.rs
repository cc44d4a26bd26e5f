//! Key conditions: checking a KeyConditionExpression (or KeyConditions) the way DynamoDB does
//! and turning it into the partition key and sort-key bounds a Query reads.

use crate::error::{Error, Result};
use crate::expr::{self, CmpOp, Cond, Ctx, Operand, PathElem};
use crate::key::{KeyVal, Schema, Sk};
use crate::value::AttributeValue;

/// The range condition on a sort key.
#[derive(Debug, Clone)]
pub enum RangeCond {
    /// `sk op v`.
    Cmp(CmpOp, KeyVal),
    /// `sk BETWEEN a AND b`.
    Between(KeyVal, KeyVal),
    /// `begins_with(sk, v)`.
    BeginsWith(AttributeValue),
}

/// A key condition, analysed.
#[derive(Debug, Clone)]
pub struct KeyCond {
    /// The partition key value.
    pub hash: KeyVal,
    /// The sort-key condition.
    pub range: Option<RangeCond>,
}

fn kc_err(msg: &str) -> Error {
    Error::validation(format!("Invalid KeyConditionExpression: {msg}"))
}

fn operand_value<'a>(o: &'a Operand, ctx: &Ctx<'a>) -> Option<&'a AttributeValue> {
    match o {
        Operand::Value(v) => ctx.value(v),
        Operand::Literal(v) => Some(v),
        _ => None,
    }
}

/// Splits a key condition into per-attribute conditions with DynamoDB's checks.
fn flatten<'c>(
    c: &'c Cond,
    out: &mut Vec<(String, &'c Cond)>,
    ctx: &Ctx<'_>,
    legacy: bool,
) -> Result<()> {
    let err = |m: &str| {
        if legacy {
            Error::validation(m)
        } else {
            kc_err(m)
        }
    };
    let attr_of = |ops: &[&Operand]| -> Result<String> {
        let mut name = None;
        for o in ops {
            match o {
                Operand::Path(p) => {
                    if name.is_some() {
                        return Err(err(
                            "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition",
                        ));
                    }
                    if p.0.len() > 1 {
                        return Err(err(
                            "KeyConditionExpressions cannot have conditions on nested attributes",
                        ));
                    }
                    if let Some(PathElem::Attr(n)) = p.0.first() {
                        name = ctx.name(n).map(str::to_owned);
                    }
                }
                Operand::Call(..) => {
                    return Err(err(
                        "KeyConditionExpressions cannot contain nested operations",
                    ));
                }
                _ => {}
            }
        }
        name.ok_or_else(|| {
            err("Invalid condition in KeyConditionExpression: No key attribute specified")
        })
    };
    match c {
        Cond::And(a, b) => {
            flatten(a, out, ctx, legacy)?;
            flatten(b, out, ctx, legacy)
        }
        Cond::Or(..) => Err(err("Invalid operator used in KeyConditionExpression: OR")),
        Cond::Not(..) => Err(err("Invalid operator used in KeyConditionExpression: NOT")),
        Cond::In(..) => Err(err("Invalid operator used in KeyConditionExpression: IN")),
        Cond::Cmp(CmpOp::Ne, ..) => Err(err("Invalid operator used in KeyConditionExpression: <>")),
        Cond::Cmp(_, a, b) => {
            let name = attr_of(&[a, b])?;
            push_unique(out, name, c, &err)
        }
        Cond::Between(a, lo, hi) => {
            if !matches!(a, Operand::Path(_)) {
                return Err(err(
                    "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand",
                ));
            }
            let name = attr_of(&[a, lo, hi])?;
            push_unique(out, name, c, &err)
        }
        Cond::Call(f, args) if f == "begins_with" => {
            if !matches!(args.first(), Some(Operand::Path(_))) {
                return Err(err(
                    "Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand",
                ));
            }
            let ops: Vec<&Operand> = args.iter().collect();
            let name = attr_of(&ops)?;
            push_unique(out, name, c, &err)
        }
        Cond::Call(f, _) => Err(err(&format!(
            "Invalid operator used in KeyConditionExpression: {f}"
        ))),
    }
}

fn push_unique<'c>(
    out: &mut Vec<(String, &'c Cond)>,
    name: String,
    c: &'c Cond,
    err: &dyn Fn(&str) -> Error,
) -> Result<()> {
    if out.iter().any(|(n, _)| *n == name) {
        return Err(err(
            "KeyConditionExpressions must only contain one condition per key",
        ));
    }
    out.push((name, c));
    Ok(())
}

pub fn analyse(c: &Cond, schema: &Schema, ctx: &Ctx<'_>, legacy: bool) -> Result<KeyCond> {
    let mut parts = Vec::new();
    flatten(c, &mut parts, ctx, legacy)?;
    if parts.len() > 2 {
        return Err(Error::validation("Conditions can be of length 1 or 2 only"));
    }
    let missed =
        |n: &str| Error::validation(format!("Query condition missed key schema element: {n}"));
    let mismatch = || {
        Error::validation(
            "One or more parameter values were invalid: Condition parameter type does not match schema type",
        )
    };
    let mut hash = None;
    let mut range = None;
    for (name, cond) in &parts {
        if *name == schema.hash.name {
            let Cond::Cmp(CmpOp::Eq, a, b) = cond else {
                return Err(Error::validation("Query key condition not supported"));
            };
            let v = operand_value(a, ctx)
                .or_else(|| operand_value(b, ctx))
                .ok_or_else(mismatch)?;
            hash = Some(schema.hash_val(v).ok_or_else(mismatch)?);
        } else if schema.range.as_ref().is_some_and(|r| r.name == *name) {
            let conv = |o: &Operand| {
                operand_value(o, ctx)
                    .and_then(|v| schema.range_val(v))
                    .ok_or_else(mismatch)
            };
            range = Some(match cond {
                Cond::Cmp(op, a, b) => {
                    // `:v < sk` means `sk > :v`.
                    if matches!(a, Operand::Path(_)) {
                        RangeCond::Cmp(*op, conv(b)?)
                    } else {
                        let flipped = match op {
                            CmpOp::Lt => CmpOp::Gt,
                            CmpOp::Le => CmpOp::Ge,
                            CmpOp::Gt => CmpOp::Lt,
                            CmpOp::Ge => CmpOp::Le,
                            o => *o,
                        };
                        RangeCond::Cmp(flipped, conv(a)?)
                    }
                }
                Cond::Between(_, lo, hi) => RangeCond::Between(conv(lo)?, conv(hi)?),
                Cond::Call(_, args) => {
                    let v = args
                        .get(1)
                        .and_then(|o| operand_value(o, ctx))
                        .ok_or_else(mismatch)?;
                    conv(&args[1])?;
                    if schema
                        .range
                        .as_ref()
                        .is_some_and(|r| r.ty == crate::key::KeyType::N)
                    {
                        return Err(Error::validation(
                            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
                        ));
                    }
                    RangeCond::BeginsWith(v.clone())
                }
                _ => return Err(Error::validation("Query key condition not supported")),
            });
        } else {
            return Err(missed(
                schema
                    .range
                    .as_ref()
                    .filter(|_| hash.is_some() || parts.len() == 1)
                    .map_or(&schema.hash.name, |r| &r.name),
            ));
        }
    }
    let hash = hash.ok_or_else(|| missed(&schema.hash.name))?;
    Ok(KeyCond { hash, range })
}

/// Sort-key bounds: (lower, lower inclusive, upper, upper inclusive).
pub fn sk_bounds(r: &Option<RangeCond>) -> (Sk, bool, Sk, bool) {
    match r {
        None | Some(RangeCond::BeginsWith(_)) => match r {
            Some(RangeCond::BeginsWith(AttributeValue::S(s))) => {
                (Sk::Val(KeyVal::S(s.as_str().into())), true, Sk::Max, true)
            }
            Some(RangeCond::BeginsWith(AttributeValue::B(b))) => {
                (Sk::Val(KeyVal::B(b.as_slice().into())), true, Sk::Max, true)
            }
            _ => (Sk::Min, true, Sk::Max, true),
        },
        Some(RangeCond::Between(a, b)) => (Sk::Val(a.clone()), true, Sk::Val(b.clone()), true),
        Some(RangeCond::Cmp(op, v)) => {
            let v = Sk::Val(v.clone());
            match op {
                CmpOp::Eq => (v.clone(), true, v, true),
                CmpOp::Lt => (Sk::Min, true, v, false),
                CmpOp::Le => (Sk::Min, true, v, true),
                CmpOp::Gt => (v, false, Sk::Max, true),
                _ => (v, true, Sk::Max, true),
            }
        }
    }
}

pub fn sk_matches(r: &Option<RangeCond>, sk: &Sk) -> bool {
    match (r, sk) {
        (Some(RangeCond::BeginsWith(p)), Sk::Val(v)) => expr::eval::begins_with(&v.to_value(), p),
        _ => true,
    }
}
