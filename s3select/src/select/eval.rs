//! The scalar-expression evaluator: expressions bound to input slots, evaluated over any
//! [`Row`], under a [`Dialect`].
//!
//! The evaluator knows nothing of CSV, JSON or Parquet: a scanner exposes a record as a [`Row`]
//! whose slots the binder ([`bind_expr`]) resolved once per query, so the hot loop never looks a
//! column up by name. The [`Dialect`] names the places where S3 Select's rules differ from other
//! SQL-ish callers (Aurora, IoT rules) that may share this evaluator.
//!
//! Guarantees: evaluation never panics; type and cast failures are S3 Select's error codes;
//! NULL and MISSING propagate with SQL's three-valued logic.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::time::SystemTime;

pub use super::agg::Acc;
use super::ast::{AggFunc, BinOp, CastType, DatePart, Expr, Func, Literal, PathStep, TrimSpec};
use super::decimal::{DecError, Decimal};
use super::functions::{self, LikeMatcher};
use super::value::{Num, Value, compare, equals};
use crate::error::{Error, Result};

/// The rules a caller of the evaluator may choose differently.
pub trait Dialect: Send + Sync + std::fmt::Debug {
    /// Whether a string compared with (or added to) a number is read as a number
    /// (S3 Select: yes, since CSV fields are strings).
    fn coerce_numeric_strings(&self) -> bool {
        true
    }

    /// What `UTCNOW()` returns.
    fn now(&self) -> SystemTime;
}

/// S3 Select's dialect, with the request's clock reading.
#[derive(Debug, Clone, Copy)]
pub struct S3SelectDialect {
    /// The instant of the request.
    pub now: SystemTime,
}

impl Dialect for S3SelectDialect {
    fn now(&self) -> SystemTime {
        self.now
    }
}

/// How a scanner finds a slot in its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    /// `_N`: the N-th field (1-based).
    Position(usize),
    /// A named field; `exact` when the name was double-quoted (case-sensitive).
    Name {
        /// The name.
        name: String,
        /// Case-sensitive match.
        exact: bool,
    },
}

/// A record as the evaluator sees it.
pub trait Row<'a> {
    /// The value of slot `i` (MISSING if the record has no such field).
    fn slot(&self, i: usize) -> Value<'a>;
    /// The whole record.
    fn whole(&self) -> Value<'a>;
    /// The raw bytes of slot `i` when they are its text exactly (an unquoted CSV field), for
    /// the compiled predicates of [`super::fast`]; `None` otherwise.
    fn raw(&self, _i: usize) -> Option<&'a [u8]> {
        None
    }
    /// The raw bytes of slot `i` when the value is text or a number token written in those
    /// bytes (read as a number exactly as its text would be); `None` otherwise.
    fn raw_num(&self, i: usize) -> Option<&'a [u8]> {
        self.raw(i)
    }
    /// The value of slot `i` when it is a typed (not textual) number, for the compiled
    /// predicates; `None` otherwise, NULL included.
    fn num(&self, _i: usize) -> Option<Num> {
        None
    }
}

/// A bound expression.
#[derive(Debug, Clone)]
pub enum BExpr {
    /// A constant.
    Lit(Value<'static>),
    /// A slot, then steps into it.
    Slot(usize, Vec<PathStep>),
    /// The record itself, then steps.
    Record(Vec<PathStep>),
    /// The result of aggregate `i` (only in the projection of an aggregate query).
    Agg(usize),
    /// `-e`
    Neg(Box<BExpr>),
    /// `NOT e`
    Not(Box<BExpr>),
    /// `a op b`
    Binary(BinOp, Box<BExpr>, Box<BExpr>),
    /// LIKE with a constant pattern.
    LikeConst(Box<BExpr>, Box<LikeMatcher>, bool),
    /// LIKE with a computed pattern.
    Like(Box<BExpr>, Box<BExpr>, Option<Box<BExpr>>, bool),
    /// BETWEEN.
    Between(Box<BExpr>, Box<BExpr>, Box<BExpr>, bool),
    /// IN.
    In(Box<BExpr>, Vec<BExpr>, bool),
    /// IS [NOT] NULL.
    IsNull(Box<BExpr>, bool),
    /// IS [NOT] MISSING.
    IsMissing(Box<BExpr>, bool),
    /// CASE.
    Case(Option<Box<BExpr>>, Vec<(BExpr, BExpr)>, Option<Box<BExpr>>),
    /// CAST.
    Cast(Box<BExpr>, CastType),
    /// A function.
    Call(Func, Vec<BExpr>),
    /// SUBSTRING.
    Substring(Box<BExpr>, Box<BExpr>, Option<Box<BExpr>>),
    /// TRIM.
    Trim(TrimSpec, Option<Box<BExpr>>, Box<BExpr>),
    /// EXTRACT.
    Extract(DatePart, Box<BExpr>),
    /// DATE_ADD.
    DateAdd(DatePart, Box<BExpr>, Box<BExpr>),
    /// DATE_DIFF.
    DateDiff(DatePart, Box<BExpr>, Box<BExpr>),
}

/// What the binder needs to know and collects.
#[derive(Debug, Default)]
pub struct Binder {
    /// The FROM alias, if any.
    pub alias: Option<String>,
    /// Slots found so far.
    pub slots: Vec<Slot>,
    /// Aggregates found so far (function and bound argument; `None` is `COUNT(*)`).
    pub aggs: Vec<(AggFunc, Option<BExpr>)>,
}

fn position_of(name: &str) -> Option<usize> {
    name.strip_prefix('_')
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| *n >= 1)
}

impl Binder {
    fn slot(&mut self, s: Slot) -> usize {
        if let Some(i) = self.slots.iter().position(|x| *x == s) {
            return i;
        }
        self.slots.push(s);
        self.slots.len() - 1
    }

    fn path(&mut self, root: &str, quoted: bool, steps: &[PathStep]) -> BExpr {
        let is_alias = match &self.alias {
            Some(a) => a.eq_ignore_ascii_case(root),
            None => root.eq_ignore_ascii_case("S3Object"),
        };
        if is_alias {
            match steps.first() {
                None => BExpr::Record(Vec::new()),
                Some(PathStep::Field { name, quoted }) => {
                    let s = match position_of(name) {
                        Some(n) if !quoted => Slot::Position(n),
                        _ => Slot::Name {
                            name: name.clone(),
                            exact: *quoted,
                        },
                    };
                    BExpr::Slot(self.slot(s), steps[1..].to_vec())
                }
                Some(_) => BExpr::Record(steps.to_vec()),
            }
        } else {
            let s = match position_of(root) {
                Some(n) if !quoted => Slot::Position(n),
                _ => Slot::Name {
                    name: root.to_owned(),
                    exact: quoted,
                },
            };
            BExpr::Slot(self.slot(s), steps.to_vec())
        }
    }
}

fn lit(l: &Literal) -> Value<'static> {
    match l {
        Literal::Null => Value::Null,
        Literal::Missing => Value::Missing,
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Int(i) => Value::Int(*i),
        Literal::Decimal(d) => Value::Decimal(*d),
        Literal::Str(s) => Value::Str(Cow::Owned(s.clone())),
    }
}

/// Binds `e`, registering its slots and aggregates with `b`.
pub fn bind_expr(b: &mut Binder, e: &Expr) -> Result<BExpr> {
    let bx = |b: &mut Binder, e: &Expr| -> Result<Box<BExpr>> { Ok(Box::new(bind_expr(b, e)?)) };
    Ok(match e {
        Expr::Lit(l) => BExpr::Lit(lit(l)),
        Expr::Path {
            root,
            quoted,
            steps,
        } => b.path(root, *quoted, steps),
        Expr::Neg(e) => BExpr::Neg(bx(b, e)?),
        Expr::Not(e) => BExpr::Not(bx(b, e)?),
        Expr::Binary(op, l, r) => BExpr::Binary(*op, bx(b, l)?, bx(b, r)?),
        Expr::Like {
            expr,
            pattern,
            escape,
            negated,
        } => {
            let esc = match escape.as_deref() {
                None => Some(None),
                Some(Expr::Lit(Literal::Str(s))) => Some(Some(s.as_str())),
                Some(_) => None,
            };
            match (pattern.as_ref(), esc) {
                (Expr::Lit(Literal::Str(p)), Some(esc)) => {
                    BExpr::LikeConst(bx(b, expr)?, Box::new(LikeMatcher::new(p, esc)?), *negated)
                }
                _ => BExpr::Like(
                    bx(b, expr)?,
                    bx(b, pattern)?,
                    escape.as_deref().map(|e| bx(b, e)).transpose()?,
                    *negated,
                ),
            }
        }
        Expr::Between {
            expr,
            low,
            high,
            negated,
        } => BExpr::Between(bx(b, expr)?, bx(b, low)?, bx(b, high)?, *negated),
        Expr::In {
            expr,
            list,
            negated,
        } => BExpr::In(
            bx(b, expr)?,
            list.iter()
                .map(|e| bind_expr(b, e))
                .collect::<Result<_>>()?,
            *negated,
        ),
        Expr::IsNull(e, n) => BExpr::IsNull(bx(b, e)?, *n),
        Expr::IsMissing(e, n) => BExpr::IsMissing(bx(b, e)?, *n),
        Expr::Case {
            operand,
            whens,
            otherwise,
        } => BExpr::Case(
            operand.as_deref().map(|e| bx(b, e)).transpose()?,
            whens
                .iter()
                .map(|(w, t)| Ok((bind_expr(b, w)?, bind_expr(b, t)?)))
                .collect::<Result<_>>()?,
            otherwise.as_deref().map(|e| bx(b, e)).transpose()?,
        ),
        Expr::Cast(e, t) => BExpr::Cast(bx(b, e)?, *t),
        Expr::Call(f, args) => BExpr::Call(
            *f,
            args.iter()
                .map(|e| bind_expr(b, e))
                .collect::<Result<_>>()?,
        ),
        Expr::Substring(s, a, l) => BExpr::Substring(
            bx(b, s)?,
            bx(b, a)?,
            l.as_deref().map(|e| bx(b, e)).transpose()?,
        ),
        Expr::Trim(spec, c, s) => BExpr::Trim(
            *spec,
            c.as_deref().map(|e| bx(b, e)).transpose()?,
            bx(b, s)?,
        ),
        Expr::Extract(p, e) => BExpr::Extract(*p, bx(b, e)?),
        Expr::DateAdd(p, n, t) => BExpr::DateAdd(*p, bx(b, n)?, bx(b, t)?),
        Expr::DateDiff(p, x, y) => BExpr::DateDiff(*p, bx(b, x)?, bx(b, y)?),
        Expr::Agg(f, arg) => {
            let arg = arg.as_deref().map(|e| bind_expr(b, e)).transpose()?;
            b.aggs.push((*f, arg));
            BExpr::Agg(b.aggs.len() - 1)
        }
    })
}

/// Follows `steps` into `v`. `[*]` yields a list of every match.
pub fn follow<'a>(v: Value<'a>, steps: &[PathStep]) -> Value<'a> {
    let mut cur = v;
    for (i, s) in steps.iter().enumerate() {
        cur = match s {
            PathStep::Field { name, quoted } => cur.field(name, *quoted),
            PathStep::Key(k) => cur.field(k, true),
            PathStep::Index(n) => match cur {
                Value::List(mut l) if *n >= 0 && (*n as usize) < l.len() => {
                    l.swap_remove(*n as usize)
                }
                _ => Value::Missing,
            },
            PathStep::Wildcard => match cur {
                Value::List(l) => {
                    let rest = &steps[i + 1..];
                    return Value::List(
                        l.into_iter()
                            .map(|x| follow(x, rest))
                            .filter(|x| !matches!(x, Value::Missing))
                            .collect(),
                    );
                }
                _ => Value::Missing,
            },
        };
        if matches!(cur, Value::Missing) {
            return cur;
        }
    }
    cur
}

fn borrow_lit<'a>(v: &'a Value<'static>) -> Value<'a> {
    match v {
        Value::Str(s) => Value::Str(Cow::Borrowed(s.as_ref())),
        other => other.clone(),
    }
}

pub(crate) fn truth(v: &Value<'_>) -> Result<Option<bool>> {
    match v {
        Value::Bool(b) => Ok(Some(*b)),
        Value::Null | Value::Missing => Ok(None),
        Value::Str(s) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Value::Str(s) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        _ => Err(Error::select(
            "InvalidDataType",
            "The SQL expression contains a data type that is not valid.",
        )),
    }
}

fn opt_bool(b: Option<bool>) -> Value<'static> {
    b.map(Value::Bool).unwrap_or(Value::Null)
}

pub(crate) fn overflow() -> Error {
    Error::select(
        "IntegerOverflow",
        "An integer overflow or underflow occurred in the SQL expression.",
    )
}

fn div_by_zero() -> Error {
    Error::select(
        "ExternalEvalException",
        "The query cannot be evaluated. Check the file and try again.",
    )
}

/// The evaluator's error for a failed decimal operation.
pub(crate) fn dec_error(e: DecError) -> Error {
    match e {
        DecError::DivByZero => div_by_zero(),
        DecError::Overflow => overflow(),
    }
}

/// `x op y` on decimals.
fn dec_arith(op: BinOp, x: Decimal, y: Decimal) -> Result<Decimal> {
    match op {
        BinOp::Add => x.checked_add(y),
        BinOp::Sub => x.checked_sub(y),
        BinOp::Mul => x.checked_mul(y),
        BinOp::Div => x.checked_div(y),
        _ => x.checked_rem(y),
    }
    .map_err(dec_error)
}

/// Arithmetic under PartiQL's number tower: INT op INT is an INT (overflow is an error),
/// anything with a DECIMAL is an exact DECIMAL (a FLOAT joins as its shortest decimal), and
/// FLOAT with INT is a FLOAT.
fn arith<'a>(op: BinOp, a: Value<'a>, b: Value<'a>, d: &dyn Dialect) -> Result<Value<'a>> {
    if matches!(a, Value::Missing) || matches!(b, Value::Missing) {
        return Ok(Value::Missing);
    }
    if a.is_absent() || b.is_absent() {
        return Ok(Value::Null);
    }
    let decimal = matches!(a, Value::Decimal(_)) || matches!(b, Value::Decimal(_));
    let num = |v: &Value<'_>| match v {
        Value::Str(_) if !d.coerce_numeric_strings() => None,
        // Text meeting a decimal is read as one, so none of its digits is lost to a double.
        v if decimal => v.as_number_for_decimal(),
        v => v.as_number(),
    };
    let (Some(x), Some(y)) = (num(&a), num(&b)) else {
        return Err(Error::select(
            "InvalidDataType",
            "The SQL expression contains a data type that is not valid.",
        ));
    };
    Ok(match (x, y) {
        (Num::Int(x), Num::Int(y)) => Value::Int(match op {
            BinOp::Add => x.checked_add(y).ok_or_else(overflow)?,
            BinOp::Sub => x.checked_sub(y).ok_or_else(overflow)?,
            BinOp::Mul => x.checked_mul(y).ok_or_else(overflow)?,
            BinOp::Div => {
                if y == 0 {
                    return Err(div_by_zero());
                }
                x.checked_div(y).ok_or_else(overflow)?
            }
            _ => {
                if y == 0 {
                    return Err(div_by_zero());
                }
                x.checked_rem(y).ok_or_else(overflow)?
            }
        }),
        (x, y) => match (decimal, x.dec(), y.dec()) {
            (true, Some(x), Some(y)) => Value::Decimal(dec_arith(op, x, y)?),
            // A NaN or infinite double has no decimal form: with one, the result is a double.
            _ => float_arith(op, x.f64(), y.f64()),
        },
    })
}

fn float_arith(op: BinOp, x: f64, y: f64) -> Value<'static> {
    Value::Float(match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => x / y,
        _ => x % y,
    })
}

/// Evaluates `e` over `row`. `aggs` holds aggregate results when evaluating the projection of an
/// aggregate query.
pub fn eval<'a>(
    e: &'a BExpr,
    row: &dyn Row<'a>,
    d: &dyn Dialect,
    aggs: &'a [Value<'static>],
) -> Result<Value<'a>> {
    let ev = |x: &'a BExpr| eval(x, row, d, aggs);
    Ok(match e {
        BExpr::Lit(v) => borrow_lit(v),
        BExpr::Slot(i, steps) => {
            let v = row.slot(*i);
            if steps.is_empty() {
                v
            } else {
                follow(v, steps)
            }
        }
        BExpr::Record(steps) => follow(row.whole(), steps),
        BExpr::Agg(i) => aggs.get(*i).map(borrow_lit).unwrap_or(Value::Null),
        BExpr::Neg(x) => match ev(x)? {
            Value::Int(i) => Value::Int(i.checked_neg().ok_or_else(overflow)?),
            Value::Float(f) => Value::Float(-f),
            Value::Decimal(d) => Value::Decimal(-d),
            v if v.is_absent() => v,
            v => match v.as_number() {
                Some(Num::Int(i)) => Value::Int(i.checked_neg().ok_or_else(overflow)?),
                Some(Num::Float(f)) => Value::Float(-f),
                Some(Num::Dec(d)) => Value::Decimal(-d),
                None => {
                    return Err(Error::select(
                        "InvalidDataType",
                        "The SQL expression contains a data type that is not valid.",
                    ));
                }
            },
        },
        BExpr::Not(x) => opt_bool(truth(&ev(x)?)?.map(|b| !b)),
        BExpr::Binary(BinOp::And, l, r) => {
            let a = truth(&ev(l)?)?;
            if a == Some(false) {
                return Ok(Value::Bool(false));
            }
            let b = truth(&ev(r)?)?;
            opt_bool(match (a, b) {
                (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            })
        }
        BExpr::Binary(BinOp::Or, l, r) => {
            let a = truth(&ev(l)?)?;
            if a == Some(true) {
                return Ok(Value::Bool(true));
            }
            let b = truth(&ev(r)?)?;
            opt_bool(match (a, b) {
                (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            })
        }
        BExpr::Binary(
            op @ (BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge),
            l,
            r,
        ) => {
            let (a, b) = (ev(l)?, ev(r)?);
            if matches!(a, Value::Missing) || matches!(b, Value::Missing) {
                return Ok(Value::Missing);
            }
            if a.is_absent() || b.is_absent() {
                return Ok(Value::Null);
            }
            match op {
                BinOp::Eq => opt_bool(equals(&a, &b)),
                BinOp::Ne => opt_bool(equals(&a, &b).map(|x| !x)),
                _ => opt_bool(compare(&a, &b).map(|o| match op {
                    BinOp::Lt => o == Ordering::Less,
                    BinOp::Le => o != Ordering::Greater,
                    BinOp::Gt => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                })),
            }
        }
        BExpr::Binary(BinOp::Concat, l, r) => {
            let (a, b) = (ev(l)?, ev(r)?);
            match (functions::text(&a)?, functions::text(&b)?) {
                (Some(x), Some(y)) => Value::Str(Cow::Owned(format!("{x}{y}"))),
                _ => Value::Null,
            }
        }
        BExpr::Binary(op, l, r) => arith(*op, ev(l)?, ev(r)?, d)?,
        BExpr::LikeConst(x, m, neg) => match ev(x)? {
            Value::Str(s) => Value::Bool(m.matches(&s) != *neg),
            v if v.is_absent() => Value::Null,
            v => match functions::text(&v)? {
                Some(s) => Value::Bool(m.matches(&s) != *neg),
                None => Value::Null,
            },
        },
        BExpr::Like(x, p, esc, neg) => {
            let (s, p) = (functions::text(&ev(x)?)?, functions::text(&ev(p)?)?);
            let esc = match esc {
                Some(e) => match functions::text(&ev(e)?)? {
                    Some(e) => Some(e),
                    None => return Ok(Value::Null),
                },
                None => None,
            };
            match (s, p) {
                (Some(s), Some(p)) => {
                    Value::Bool(LikeMatcher::new(&p, esc.as_deref())?.matches(&s) != *neg)
                }
                _ => Value::Null,
            }
        }
        BExpr::Between(x, lo, hi, neg) => {
            let (v, a, b) = (ev(x)?, ev(lo)?, ev(hi)?);
            if v.is_absent() || a.is_absent() || b.is_absent() {
                return Ok(Value::Null);
            }
            let ge = compare(&v, &a).map(|o| o != Ordering::Less);
            let le = compare(&v, &b).map(|o| o != Ordering::Greater);
            opt_bool(match (ge, le) {
                (Some(x), Some(y)) => Some((x && y) != *neg),
                _ => None,
            })
        }
        BExpr::In(x, list, neg) => {
            let v = ev(x)?;
            if v.is_absent() {
                return Ok(Value::Null);
            }
            let mut unknown = false;
            for item in list {
                match equals(&v, &ev(item)?) {
                    Some(true) => return Ok(Value::Bool(!neg)),
                    Some(false) => {}
                    None => unknown = true,
                }
            }
            if unknown {
                Value::Null
            } else {
                Value::Bool(*neg)
            }
        }
        BExpr::IsNull(x, neg) => Value::Bool(ev(x)?.is_absent() != *neg),
        BExpr::IsMissing(x, neg) => Value::Bool(matches!(ev(x)?, Value::Missing) != *neg),
        BExpr::Case(operand, whens, otherwise) => {
            let op = operand.as_deref().map(ev).transpose()?;
            for (w, t) in whens {
                let hit = match &op {
                    Some(o) => equals(o, &ev(w)?) == Some(true),
                    None => truth(&ev(w)?)? == Some(true),
                };
                if hit {
                    return ev(t);
                }
            }
            match otherwise {
                Some(o) => ev(o)?,
                None => Value::Null,
            }
        }
        BExpr::Cast(x, t) => functions::cast(ev(x)?, *t)?,
        BExpr::Call(f, args) => call(*f, args, row, d, aggs)?,
        BExpr::Substring(s, a, l) => {
            let l = l.as_deref().map(ev).transpose()?;
            functions::substring(&ev(s)?, &ev(a)?, l.as_ref())?
        }
        BExpr::Trim(spec, c, s) => {
            let c = c.as_deref().map(ev).transpose()?;
            functions::trim(*spec, c.as_ref(), &ev(s)?)?
        }
        BExpr::Extract(p, x) => functions::extract(*p, &ev(x)?)?,
        BExpr::DateAdd(p, n, t) => functions::date_add(*p, &ev(n)?, &ev(t)?)?,
        BExpr::DateDiff(p, a, b) => functions::date_diff(*p, &ev(a)?, &ev(b)?)?,
    })
}

fn call<'a>(
    f: Func,
    args: &'a [BExpr],
    row: &dyn Row<'a>,
    d: &dyn Dialect,
    aggs: &'a [Value<'static>],
) -> Result<Value<'a>> {
    let arg = |i: usize| -> Result<Value<'a>> {
        match args.get(i) {
            Some(a) => eval(a, row, d, aggs),
            None => Err(Error::select(
                "EvaluatorInvalidArguments",
                "There is an incorrect number of arguments in the function call in the SQL expression.",
            )),
        }
    };
    Ok(match f {
        Func::CharLength => match functions::text(&arg(0)?)? {
            Some(s) => Value::Int(s.chars().count() as i64),
            None => Value::Null,
        },
        Func::Lower => match functions::text(&arg(0)?)? {
            Some(s) => Value::Str(Cow::Owned(s.to_lowercase())),
            None => Value::Null,
        },
        Func::Upper => match functions::text(&arg(0)?)? {
            Some(s) => Value::Str(Cow::Owned(s.to_uppercase())),
            None => Value::Null,
        },
        Func::Coalesce => {
            for i in 0..args.len() {
                let v = arg(i)?;
                if !v.is_absent() {
                    return Ok(v);
                }
            }
            Value::Null
        }
        Func::NullIf => {
            let (a, b) = (arg(0)?, arg(1)?);
            if equals(&a, &b) == Some(true) {
                Value::Null
            } else {
                a
            }
        }
        Func::ToString => functions::to_string(&arg(0)?, &arg(1)?)?,
        Func::ToTimestamp => functions::to_timestamp(&arg(0)?)?,
        Func::UtcNow => functions::utcnow(d.now()),
    })
}

/// Whether a WHERE result keeps the row (only TRUE does).
pub fn keeps(v: &Value<'_>) -> Result<bool> {
    Ok(truth(v)? == Some(true))
}
