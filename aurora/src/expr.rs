//! Bound expressions and their evaluation against a row.
//!
//! Guarantees: three-valued logic (`NULL AND false` is false, `NULL OR true` is true, `x IN
//! (…, NULL)` is NULL when nothing matches), CASE/COALESCE/AND/OR evaluate lazily as PostgreSQL
//! does, and a scalar subquery returning more than one row raises 21000.

use std::collections::HashSet;
use std::sync::Arc;

use crate::cast::{self, CastMode};
use crate::error::{AuroraError, Result};
use crate::exec::ExecCtx;
use crate::functions;
use crate::ops::{self, BinOp};
use crate::plan::Plan;
use crate::types::DataType;
use crate::value::Value;

/// A bound expression: column references are positions in the input row.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Expr {
    /// A constant.
    Literal(Value),
    /// A column of the current row.
    Column(usize),
    /// A column of an enclosing query's current row (`depth` 1 is the immediate parent).
    Outer {
        /// Levels up.
        depth: usize,
        /// Column position there.
        index: usize,
    },
    /// `$n` (0-based).
    Param(usize),
    /// A binary operator.
    Binary {
        /// The operator.
        op: BinOp,
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
    },
    /// `NOT e`.
    Not(Box<Expr>),
    /// `-e`.
    Neg(Box<Expr>),
    /// `e IS [NOT] NULL`.
    IsNull(Box<Expr>, bool),
    /// `e IS [NOT] TRUE/FALSE`; (expr, value, negated).
    IsBool(Box<Expr>, bool, bool),
    /// `a IS [NOT] DISTINCT FROM b`; negated = `IS NOT DISTINCT FROM`.
    IsDistinct(Box<Expr>, Box<Expr>, bool),
    /// `CAST(e AS t)`.
    Cast(Box<Expr>, DataType),
    /// `CASE`.
    Case {
        /// `CASE x WHEN …` operand.
        operand: Option<Box<Expr>>,
        /// WHEN/THEN pairs.
        whens: Vec<(Expr, Expr)>,
        /// ELSE.
        otherwise: Option<Box<Expr>>,
    },
    /// A scalar function call (name is lower-case).
    Func(Arc<str>, Vec<Expr>),
    /// `COALESCE(…)` (lazy).
    Coalesce(Vec<Expr>),
    /// `[NOT] LIKE / ILIKE`.
    Like {
        /// The string.
        expr: Box<Expr>,
        /// The pattern.
        pattern: Box<Expr>,
        /// ESCAPE character.
        escape: Option<Box<Expr>>,
        /// ILIKE.
        insensitive: bool,
        /// NOT.
        negated: bool,
    },
    /// `e [NOT] IN (list)`.
    InList(Box<Expr>, Vec<Expr>, bool),
    /// `e [NOT] IN (subquery)`.
    InSubquery(Box<Expr>, Arc<Plan>, bool, bool),
    /// `[NOT] EXISTS (subquery)`; (plan, negated, correlated).
    Exists(Arc<Plan>, bool, bool),
    /// `(subquery)` yielding one value; (plan, correlated).
    Scalar(Arc<Plan>, bool),
    /// `left op ANY/ALL (array)`.
    AnyArray {
        /// Left operand.
        left: Box<Expr>,
        /// The comparison.
        op: BinOp,
        /// The array.
        right: Box<Expr>,
        /// ALL rather than ANY.
        all: bool,
    },
    /// `left op ANY/ALL (subquery)`.
    AnySubquery {
        /// Left operand.
        left: Box<Expr>,
        /// The comparison.
        op: BinOp,
        /// The subquery.
        plan: Arc<Plan>,
        /// ALL rather than ANY.
        all: bool,
    },
    /// `ARRAY[…]`.
    Array(Vec<Expr>),
    /// `arr[i]` (1-based).
    Subscript(Box<Expr>, Box<Expr>),
}

fn truth(v: &Value) -> Result<Option<bool>> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        other => Err(AuroraError::datatype_mismatch(format!(
            "argument of boolean operator must be type boolean, not type {}",
            other.data_type()
        ))),
    }
}

impl Expr {
    /// Evaluates the expression on `row`.
    pub fn eval(&self, row: &[Value], ctx: &ExecCtx<'_>) -> Result<Value> {
        match self {
            Expr::Literal(v) => Ok(v.clone()),
            Expr::Column(i) => Ok(row.get(*i).cloned().unwrap_or(Value::Null)),
            Expr::Outer { depth, index } => Ok(ctx.outer_value(*depth, *index)),
            Expr::Param(i) => ctx.params.get(*i).cloned().ok_or_else(|| {
                AuroraError::sql("08P01", format!("there is no parameter ${}", i + 1))
            }),
            Expr::Binary {
                op: BinOp::And,
                left,
                right,
            } => {
                let l = truth(&left.eval(row, ctx)?)?;
                if l == Some(false) {
                    return Ok(Value::Bool(false));
                }
                let r = truth(&right.eval(row, ctx)?)?;
                Ok(match (l, r) {
                    (_, Some(false)) => Value::Bool(false),
                    (Some(true), Some(true)) => Value::Bool(true),
                    _ => Value::Null,
                })
            }
            Expr::Binary {
                op: BinOp::Or,
                left,
                right,
            } => {
                let l = truth(&left.eval(row, ctx)?)?;
                if l == Some(true) {
                    return Ok(Value::Bool(true));
                }
                let r = truth(&right.eval(row, ctx)?)?;
                Ok(match (l, r) {
                    (_, Some(true)) => Value::Bool(true),
                    (Some(false), Some(false)) => Value::Bool(false),
                    _ => Value::Null,
                })
            }
            Expr::Binary { op, left, right } => {
                ops::binary(*op, &left.eval(row, ctx)?, &right.eval(row, ctx)?)
            }
            Expr::Not(e) => Ok(match truth(&e.eval(row, ctx)?)? {
                Some(b) => Value::Bool(!b),
                None => Value::Null,
            }),
            Expr::Neg(e) => ops::negate(&e.eval(row, ctx)?),
            Expr::IsNull(e, negated) => Ok(Value::Bool(e.eval(row, ctx)?.is_null() != *negated)),
            Expr::IsBool(e, value, negated) => {
                let t = truth(&e.eval(row, ctx)?)?;
                Ok(Value::Bool((t == Some(*value)) != *negated))
            }
            Expr::IsDistinct(a, b, negated) => {
                let (x, y) = (a.eval(row, ctx)?, b.eval(row, ctx)?);
                let distinct = match (x.is_null(), y.is_null()) {
                    (true, true) => false,
                    (true, false) | (false, true) => true,
                    _ => ops::compare(&x, &y)? != std::cmp::Ordering::Equal,
                };
                Ok(Value::Bool(distinct != *negated))
            }
            Expr::Cast(e, ty) => cast::cast(&e.eval(row, ctx)?, ty, CastMode::Explicit),
            Expr::Case {
                operand,
                whens,
                otherwise,
            } => {
                let op = match operand {
                    Some(o) => Some(o.eval(row, ctx)?),
                    None => None,
                };
                for (cond, result) in whens {
                    let hit = match &op {
                        Some(v) => ops::binary(BinOp::Eq, v, &cond.eval(row, ctx)?)?,
                        None => cond.eval(row, ctx)?,
                    };
                    if truth(&hit)? == Some(true) {
                        return result.eval(row, ctx);
                    }
                }
                match otherwise {
                    Some(e) => e.eval(row, ctx),
                    None => Ok(Value::Null),
                }
            }
            Expr::Func(name, args) => {
                let vals = args
                    .iter()
                    .map(|a| a.eval(row, ctx))
                    .collect::<Result<Vec<_>>>()?;
                functions::call(name, &vals, ctx)
            }
            Expr::Coalesce(args) => {
                for a in args {
                    let v = a.eval(row, ctx)?;
                    if !v.is_null() {
                        return Ok(v);
                    }
                }
                Ok(Value::Null)
            }
            Expr::Like {
                expr,
                pattern,
                escape,
                insensitive,
                negated,
            } => {
                let (s, p) = (expr.eval(row, ctx)?, pattern.eval(row, ctx)?);
                if s.is_null() || p.is_null() {
                    return Ok(Value::Null);
                }
                let esc = match escape {
                    Some(e) => {
                        let v = e.eval(row, ctx)?;
                        cast::text_of(&v).chars().next()
                    }
                    None => Some('\\'),
                };
                let m = functions::like(&cast::text_of(&s), &cast::text_of(&p), esc, *insensitive);
                Ok(Value::Bool(m != *negated))
            }
            Expr::InList(e, list, negated) => {
                let v = e.eval(row, ctx)?;
                if v.is_null() {
                    return Ok(Value::Null);
                }
                let mut saw_null = false;
                for item in list {
                    let x = item.eval(row, ctx)?;
                    if x.is_null() {
                        saw_null = true;
                    } else if ops::compare(&v, &x)? == std::cmp::Ordering::Equal {
                        return Ok(Value::Bool(!negated));
                    }
                }
                Ok(if saw_null {
                    Value::Null
                } else {
                    Value::Bool(*negated)
                })
            }
            Expr::InSubquery(e, plan, negated, correlated) => {
                let v = e.eval(row, ctx)?;
                let (set, has_null) = ctx.subquery_set(plan, row, *correlated)?;
                // IN over an empty set is false even for a NULL operand (SQL standard).
                if set.is_empty() && !has_null {
                    return Ok(Value::Bool(*negated));
                }
                if v.is_null() {
                    return Ok(Value::Null);
                }
                if set.contains(&v) {
                    return Ok(Value::Bool(!negated));
                }
                Ok(if has_null {
                    Value::Null
                } else {
                    Value::Bool(*negated)
                })
            }
            Expr::Exists(plan, negated, correlated) => {
                let rows = ctx.subquery(plan, row, *correlated)?;
                Ok(Value::Bool(rows.is_empty() == *negated))
            }
            Expr::Scalar(plan, correlated) => {
                let rows = ctx.subquery(plan, row, *correlated)?;
                match rows.len() {
                    0 => Ok(Value::Null),
                    1 => Ok(rows[0].first().cloned().unwrap_or(Value::Null)),
                    _ => Err(AuroraError::sql(
                        "21000",
                        "more than one row returned by a subquery used as an expression",
                    )),
                }
            }
            Expr::AnyArray {
                left,
                op,
                right,
                all,
            } => {
                let (l, r) = (left.eval(row, ctx)?, right.eval(row, ctx)?);
                let items: Vec<Value> = match r {
                    Value::Null => return Ok(Value::Null),
                    Value::Array(a) => a.as_ref().clone(),
                    other => {
                        return Err(AuroraError::datatype_mismatch(format!(
                            "op ANY/ALL (array) requires array on right side, not {}",
                            other.data_type()
                        )));
                    }
                };
                quantified(&l, *op, items.iter(), *all)
            }
            Expr::AnySubquery {
                left,
                op,
                plan,
                all,
            } => {
                let l = left.eval(row, ctx)?;
                let rows = ctx.subquery(plan, row, true)?;
                quantified(
                    &l,
                    *op,
                    rows.iter().map(|r| r.first().unwrap_or(&Value::Null)),
                    *all,
                )
            }
            Expr::Array(items) => Ok(Value::Array(Arc::new(
                items
                    .iter()
                    .map(|i| i.eval(row, ctx))
                    .collect::<Result<_>>()?,
            ))),
            Expr::Subscript(arr, idx) => {
                let (a, i) = (arr.eval(row, ctx)?, idx.eval(row, ctx)?);
                match (a, i.as_i64()) {
                    (Value::Array(items), Some(i)) if i >= 1 => {
                        Ok(items.get(i as usize - 1).cloned().unwrap_or(Value::Null))
                    }
                    (Value::Json(j), _) => ops::binary(BinOp::JsonGet, &Value::Json(j), &i),
                    _ => Ok(Value::Null),
                }
            }
        }
    }

    /// Evaluates a predicate: only `true` passes (NULL and false do not).
    pub fn holds(&self, row: &[Value], ctx: &ExecCtx<'_>) -> Result<bool> {
        match self.eval(row, ctx)? {
            Value::Bool(b) => Ok(b),
            Value::Null => Ok(false),
            other => Err(AuroraError::datatype_mismatch(format!(
                "argument of WHERE must be type boolean, not type {}",
                other.data_type()
            ))),
        }
    }

    /// Whether the expression reads any column of the current row.
    pub fn uses_columns(&self) -> bool {
        let mut used = false;
        self.visit_columns(&mut |_| used = true);
        used
    }

    /// Whether the expression contains a subquery.
    pub fn has_subquery(&self) -> bool {
        let mut found = false;
        self.walk(&mut |e| {
            if matches!(
                e,
                Expr::InSubquery(..)
                    | Expr::Exists(..)
                    | Expr::Scalar(..)
                    | Expr::AnySubquery { .. }
            ) {
                found = true;
            }
        });
        found
    }

    /// Calls `f` with every column position read.
    pub fn visit_columns(&self, f: &mut dyn FnMut(usize)) {
        self.walk(&mut |e| {
            if let Expr::Column(i) = e {
                f(*i);
            }
        });
    }

    fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Literal(_)
            | Expr::Column(_)
            | Expr::Outer { .. }
            | Expr::Param(_)
            | Expr::Exists(..)
            | Expr::Scalar(..) => vec![],
            Expr::Binary { left, right, .. }
            | Expr::IsDistinct(left, right, _)
            | Expr::Subscript(left, right) => vec![left, right],
            Expr::AnyArray { left, right, .. } => vec![left, right],
            Expr::Not(e)
            | Expr::Neg(e)
            | Expr::IsNull(e, _)
            | Expr::IsBool(e, _, _)
            | Expr::Cast(e, _) => vec![e],
            Expr::InSubquery(e, ..) | Expr::AnySubquery { left: e, .. } => vec![e],
            Expr::Case {
                operand,
                whens,
                otherwise,
            } => {
                let mut v: Vec<&Expr> = operand.iter().map(|b| b.as_ref()).collect();
                for (a, b) in whens {
                    v.push(a);
                    v.push(b);
                }
                v.extend(otherwise.iter().map(|b| b.as_ref()));
                v
            }
            Expr::Func(_, args) | Expr::Coalesce(args) | Expr::Array(args) => args.iter().collect(),
            Expr::Like {
                expr,
                pattern,
                escape,
                ..
            } => {
                let mut v = vec![expr.as_ref(), pattern.as_ref()];
                v.extend(escape.iter().map(|b| b.as_ref()));
                v
            }
            Expr::InList(e, list, _) => std::iter::once(e.as_ref()).chain(list.iter()).collect(),
        }
    }

    /// Pre-order traversal (does not enter subquery plans).
    pub fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        for c in self.children() {
            c.walk(f);
        }
    }

    /// Rewrites column positions through `map` (position → new position).
    pub fn remap(&self, map: &dyn Fn(usize) -> usize) -> Expr {
        let r = |e: &Expr| Box::new(e.remap(map));
        match self {
            Expr::Column(i) => Expr::Column(map(*i)),
            Expr::Binary { op, left, right } => Expr::Binary {
                op: *op,
                left: r(left),
                right: r(right),
            },
            Expr::Not(e) => Expr::Not(r(e)),
            Expr::Neg(e) => Expr::Neg(r(e)),
            Expr::IsNull(e, n) => Expr::IsNull(r(e), *n),
            Expr::IsBool(e, v, n) => Expr::IsBool(r(e), *v, *n),
            Expr::IsDistinct(a, b, n) => Expr::IsDistinct(r(a), r(b), *n),
            Expr::Cast(e, t) => Expr::Cast(r(e), t.clone()),
            Expr::Case {
                operand,
                whens,
                otherwise,
            } => Expr::Case {
                operand: operand.as_ref().map(|o| r(o)),
                whens: whens
                    .iter()
                    .map(|(a, b)| (a.remap(map), b.remap(map)))
                    .collect(),
                otherwise: otherwise.as_ref().map(|o| r(o)),
            },
            Expr::Func(n, args) => {
                Expr::Func(n.clone(), args.iter().map(|a| a.remap(map)).collect())
            }
            Expr::Coalesce(args) => Expr::Coalesce(args.iter().map(|a| a.remap(map)).collect()),
            Expr::Array(args) => Expr::Array(args.iter().map(|a| a.remap(map)).collect()),
            Expr::Like {
                expr,
                pattern,
                escape,
                insensitive,
                negated,
            } => Expr::Like {
                expr: r(expr),
                pattern: r(pattern),
                escape: escape.as_ref().map(|e| r(e)),
                insensitive: *insensitive,
                negated: *negated,
            },
            Expr::InList(e, list, n) => {
                Expr::InList(r(e), list.iter().map(|a| a.remap(map)).collect(), *n)
            }
            Expr::InSubquery(e, p, n, c) => Expr::InSubquery(r(e), p.clone(), *n, *c),
            Expr::AnyArray {
                left,
                op,
                right,
                all,
            } => Expr::AnyArray {
                left: r(left),
                op: *op,
                right: r(right),
                all: *all,
            },
            Expr::AnySubquery {
                left,
                op,
                plan,
                all,
            } => Expr::AnySubquery {
                left: r(left),
                op: *op,
                plan: plan.clone(),
                all: *all,
            },
            Expr::Subscript(a, b) => Expr::Subscript(r(a), r(b)),
            other => other.clone(),
        }
    }
}

fn quantified<'v>(
    l: &Value,
    op: BinOp,
    items: impl Iterator<Item = &'v Value>,
    all: bool,
) -> Result<Value> {
    let mut items = items.peekable();
    // ANY over nothing is false and ALL over nothing is true, whatever the operand.
    if items.peek().is_none() {
        return Ok(Value::Bool(all));
    }
    if l.is_null() {
        return Ok(Value::Null);
    }
    let mut saw_null = false;
    for item in items {
        match ops::binary(op, l, item)? {
            Value::Bool(b) if b != all => return Ok(Value::Bool(b)),
            Value::Null => saw_null = true,
            _ => {}
        }
    }
    Ok(if saw_null {
        Value::Null
    } else {
        Value::Bool(all)
    })
}

/// A set of subquery values for `IN`, with whether a NULL was among them.
pub type ValueSet = (Arc<HashSet<Value>>, bool);
