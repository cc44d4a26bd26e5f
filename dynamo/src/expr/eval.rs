//! Evaluating conditions and projections against an item.
//!
//! Semantics follow DynamoDB: a comparison between different types is false (`<>` true); `<`,
//! `<=`, `>`, `>=` and `BETWEEN` order numbers numerically and strings and binaries by bytes and
//! are false for other types; a missing attribute makes every comparison false except `<>`.
//! Evaluation never fails: the checker has already rejected what DynamoDB rejects statically.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;

use super::ast::{CmpOp, Cond, Name, Operand, Path, PathElem};
use crate::value::{AttributeValue, Item, ValueType};

/// The placeholder maps an expression is evaluated with.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ctx<'a> {
    /// `ExpressionAttributeNames`.
    pub names: Option<&'a HashMap<String, String>>,
    /// `ExpressionAttributeValues`.
    pub values: Option<&'a HashMap<String, AttributeValue>>,
}

impl<'a> Ctx<'a> {
    /// Resolves a name as written to the attribute name.
    pub fn name<'n>(&self, n: &'n Name) -> Option<&'n str>
    where
        'a: 'n,
    {
        match n {
            Name::Plain(s) => Some(s),
            Name::Placeholder(p) => self.names.and_then(|m| m.get(p)).map(String::as_str),
        }
    }

    /// Resolves a value placeholder.
    pub fn value(&self, v: &str) -> Option<&'a AttributeValue> {
        self.values.and_then(|m| m.get(v))
    }
}

/// The value at `path` in `item`, if there is one.
pub fn resolve<'i>(item: &'i Item, path: &Path, ctx: &Ctx<'_>) -> Option<&'i AttributeValue> {
    let mut elems = path.0.iter();
    let mut cur = match elems.next()? {
        PathElem::Attr(n) => item.get(ctx.name(n)?)?,
        PathElem::Index(_) => return None,
    };
    for e in elems {
        cur = match (e, cur) {
            (PathElem::Attr(n), AttributeValue::M(m)) => m.get(ctx.name(n)?)?,
            (PathElem::Index(i), AttributeValue::L(l)) => l.get(*i as usize)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// The value of an operand, if it has one.
pub fn operand<'i>(
    o: &'i Operand,
    item: &'i Item,
    ctx: &Ctx<'i>,
) -> Option<Cow<'i, AttributeValue>> {
    match o {
        Operand::Path(p) => resolve(item, p, ctx).map(Cow::Borrowed),
        Operand::Value(v) => ctx.value(v).map(Cow::Borrowed),
        Operand::Literal(v) => Some(Cow::Borrowed(v)),
        Operand::Call(name, args) if name == "size" => {
            let v = operand(args.first()?, item, ctx)?;
            size(&v).map(|n| Cow::Owned(AttributeValue::int(n as i64)))
        }
        Operand::Call(..) => None,
    }
}

/// `size()` of a value: string length, binary length, element count.
pub fn size(v: &AttributeValue) -> Option<usize> {
    Some(match v {
        AttributeValue::S(s) => s.chars().count(),
        AttributeValue::B(b) => b.len(),
        AttributeValue::Ss(s) => s.len(),
        AttributeValue::Ns(s) => s.len(),
        AttributeValue::Bs(s) => s.len(),
        AttributeValue::L(l) => l.len(),
        AttributeValue::M(m) => m.len(),
        _ => return None,
    })
}

/// Orders two values of the same scalar type (N, S, B); `None` otherwise.
pub fn compare(a: &AttributeValue, b: &AttributeValue) -> Option<Ordering> {
    match (a, b) {
        (AttributeValue::N(x), AttributeValue::N(y)) => Some(x.cmp(y)),
        (AttributeValue::S(x), AttributeValue::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (AttributeValue::B(x), AttributeValue::B(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn cmp(op: CmpOp, a: Option<&AttributeValue>, b: Option<&AttributeValue>) -> bool {
    match op {
        CmpOp::Eq => matches!((a, b), (Some(x), Some(y)) if x == y),
        CmpOp::Ne => !matches!((a, b), (Some(x), Some(y)) if x == y),
        _ => {
            let (Some(x), Some(y)) = (a, b) else {
                return false;
            };
            match compare(x, y) {
                Some(o) => match op {
                    CmpOp::Lt => o == Ordering::Less,
                    CmpOp::Le => o != Ordering::Greater,
                    CmpOp::Gt => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                },
                None => false,
            }
        }
    }
}

/// `begins_with(a, b)`.
pub fn begins_with(a: &AttributeValue, b: &AttributeValue) -> bool {
    match (a, b) {
        (AttributeValue::S(x), AttributeValue::S(y)) => x.starts_with(y.as_str()),
        (AttributeValue::B(x), AttributeValue::B(y)) => x.starts_with(y),
        _ => false,
    }
}

/// `contains(a, b)`: substring, set membership or list element.
pub fn contains(a: &AttributeValue, b: &AttributeValue) -> bool {
    match (a, b) {
        (AttributeValue::S(x), AttributeValue::S(y)) => x.contains(y.as_str()),
        (AttributeValue::B(x), AttributeValue::B(y)) => {
            y.is_empty() || x.windows(y.len()).any(|w| w == y.as_slice())
        }
        (AttributeValue::Ss(x), AttributeValue::S(y)) => x.contains(y),
        (AttributeValue::Ns(x), AttributeValue::N(y)) => x.contains(y),
        (AttributeValue::Bs(x), AttributeValue::B(y)) => x.contains(y),
        (AttributeValue::L(x), y) => x.contains(y),
        _ => false,
    }
}

/// Evaluates a condition against an item (an empty item when there is none).
pub fn eval(c: &Cond, item: &Item, ctx: &Ctx<'_>) -> bool {
    match c {
        Cond::And(a, b) => eval(a, item, ctx) && eval(b, item, ctx),
        Cond::Or(a, b) => eval(a, item, ctx) || eval(b, item, ctx),
        Cond::Not(a) => !eval(a, item, ctx),
        Cond::Cmp(op, a, b) => {
            let (x, y) = (operand(a, item, ctx), operand(b, item, ctx));
            cmp(*op, x.as_deref(), y.as_deref())
        }
        Cond::Between(a, lo, hi) => {
            let (Some(v), Some(lo), Some(hi)) = (
                operand(a, item, ctx),
                operand(lo, item, ctx),
                operand(hi, item, ctx),
            ) else {
                return false;
            };
            matches!(compare(&v, &lo), Some(Ordering::Greater | Ordering::Equal))
                && matches!(compare(&v, &hi), Some(Ordering::Less | Ordering::Equal))
        }
        Cond::In(a, list) => {
            let Some(v) = operand(a, item, ctx) else {
                return false;
            };
            list.iter()
                .any(|x| operand(x, item, ctx).is_some_and(|x| *x == *v))
        }
        Cond::Call(name, args) => {
            let arg = |i: usize| args.get(i).and_then(|a| operand(a, item, ctx));
            match name.as_str() {
                "attribute_exists" => arg(0).is_some(),
                "attribute_not_exists" => arg(0).is_none(),
                "attribute_type" => match (arg(0), arg(1)) {
                    (Some(v), Some(t)) => {
                        t.as_s().and_then(ValueType::parse) == Some(v.value_type())
                    }
                    _ => false,
                },
                "begins_with" => {
                    matches!((arg(0), arg(1)), (Some(a), Some(b)) if begins_with(&a, &b))
                }
                "contains" => matches!((arg(0), arg(1)), (Some(a), Some(b)) if contains(&a, &b)),
                _ => false,
            }
        }
    }
}

/// Resolved path steps, for projection and update.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// A map key or attribute.
    Key(String),
    /// A list index.
    Index(usize),
}

/// Resolves a path's names; `None` if a placeholder is undefined.
pub fn steps(path: &Path, ctx: &Ctx<'_>) -> Option<Vec<Step>> {
    path.0
        .iter()
        .map(|e| match e {
            PathElem::Attr(n) => ctx.name(n).map(|s| Step::Key(s.to_owned())),
            PathElem::Index(i) => Some(Step::Index(*i as usize)),
        })
        .collect()
}

/// Applies a projection: the item restricted to `paths`, keeping document structure (selected
/// list elements keep their order and are packed together, as DynamoDB returns them).
pub fn project(item: &Item, paths: &[Path], ctx: &Ctx<'_>) -> Item {
    let mut out = Item::new();
    // Collect the steps, then merge list selections so indexes refer to the source list.
    let mut all: Vec<Vec<Step>> = paths.iter().filter_map(|p| steps(p, ctx)).collect();
    all.sort();
    for s in &all {
        let Some((Step::Key(first), rest)) = s.split_first() else {
            continue;
        };
        let Some(src) = item.get(first) else { continue };
        let Some(v) = extract(src, rest) else {
            continue;
        };
        match out.get_mut(first) {
            Some(existing) => merge(existing, v),
            None => {
                out.insert(first.clone(), v);
            }
        }
    }
    out
}

fn extract(v: &AttributeValue, rest: &[Step]) -> Option<AttributeValue> {
    let Some((step, tail)) = rest.split_first() else {
        return Some(v.clone());
    };
    match (step, v) {
        (Step::Key(k), AttributeValue::M(m)) => {
            let inner = extract(m.get(k)?, tail)?;
            Some(AttributeValue::M(Item::from([(k.clone(), inner)])))
        }
        (Step::Index(i), AttributeValue::L(l)) => {
            let inner = extract(l.get(*i)?, tail)?;
            Some(AttributeValue::L(vec![inner]))
        }
        _ => None,
    }
}

fn merge(into: &mut AttributeValue, from: AttributeValue) {
    match (into, from) {
        (AttributeValue::M(a), AttributeValue::M(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (AttributeValue::L(a), AttributeValue::L(b)) => a.extend(b),
        _ => {}
    }
}
