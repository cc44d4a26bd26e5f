//! Compiled WHERE clauses: the common `column = 'text'`, `CAST(column AS INT) op n` and
//! `column LIKE 'pattern'` conjuncts are tested on the raw bytes of a field when the scanner
//! can hand them out ([`Row::raw`]: an unquoted CSV field), with no [`Value`] built and no
//! UTF-8 or number conversion beyond what the test needs.
//!
//! Guarantees: the answer is the generic evaluator's, always. Each fast test keeps the bound
//! expression it replaces and falls back to it whenever the raw bytes are not in the simple
//! shape (a quoted or absent field, a number with spaces, a fraction or an exponent, text
//! that is not UTF-8), so NULL/MISSING logic, coercions and errors stay in one place.

use std::cmp::Ordering;

use super::ast::{AggFunc, BinOp, CastType};
use super::decimal::Decimal;
use super::eval::{BExpr, Dialect, Row, eval, truth};
use super::functions::LikeMatcher;
use super::value::{Num, Value};
use crate::error::Result;

/// A compiled predicate.
#[derive(Debug, Clone)]
pub enum Fast {
    /// `slot = 'text'` (`neg`: `<>`); text compares with text byte for byte.
    StrEq {
        /// The slot.
        slot: usize,
        /// The literal's bytes.
        lit: Box<[u8]>,
        /// `<>` / `!=`.
        neg: bool,
        /// The expression it replaces.
        general: BExpr,
    },
    /// `[CAST(] slot [AS INT)] op integer`.
    IntCmp {
        /// The slot.
        slot: usize,
        /// The comparison, with the slot on the left.
        op: BinOp,
        /// The literal.
        lit: i64,
        /// The expression it replaces.
        general: BExpr,
    },
    /// `slot [NOT] LIKE 'constant'`.
    Like {
        /// The slot.
        slot: usize,
        /// The compiled pattern.
        matcher: Box<LikeMatcher>,
        /// `NOT LIKE`.
        neg: bool,
        /// The expression it replaces.
        general: BExpr,
    },
    /// `a AND b`.
    And(Box<Fast>, Box<Fast>),
    /// `a OR b`.
    Or(Box<Fast>, Box<Fast>),
    /// Anything else, through the generic evaluator.
    General(BExpr),
}

fn plain_slot(e: &BExpr) -> Option<usize> {
    match e {
        BExpr::Slot(i, steps) if steps.is_empty() => Some(*i),
        _ => None,
    }
}

fn int_slot(e: &BExpr) -> Option<usize> {
    match e {
        BExpr::Cast(x, CastType::Int) => plain_slot(x),
        x => plain_slot(x),
    }
}

fn flip(op: BinOp) -> BinOp {
    match op {
        BinOp::Lt => BinOp::Gt,
        BinOp::Le => BinOp::Ge,
        BinOp::Gt => BinOp::Lt,
        BinOp::Ge => BinOp::Le,
        o => o,
    }
}

/// Compiles a bound WHERE clause; `None` when no part of it has a fast form.
pub fn compile(e: &BExpr) -> Option<Fast> {
    let f = build(e);
    fn any_fast(f: &Fast) -> bool {
        match f {
            Fast::General(_) => false,
            Fast::And(a, b) | Fast::Or(a, b) => any_fast(a) || any_fast(b),
            _ => true,
        }
    }
    any_fast(&f).then_some(f)
}

fn build(e: &BExpr) -> Fast {
    let general = || Fast::General(e.clone());
    match e {
        BExpr::Binary(BinOp::And, a, b) => Fast::And(Box::new(build(a)), Box::new(build(b))),
        BExpr::Binary(BinOp::Or, a, b) => Fast::Or(Box::new(build(a)), Box::new(build(b))),
        BExpr::Binary(op @ (BinOp::Eq | BinOp::Ne), a, b) => {
            let text = |x: &BExpr| match x {
                // U+FFFD is what invalid UTF-8 in a field reads as, so bytes could differ where
                // the generic comparison finds the texts equal.
                BExpr::Lit(Value::Str(s)) if !s.contains('\u{fffd}') => {
                    Some(s.as_bytes().to_vec().into_boxed_slice())
                }
                _ => None,
            };
            let neg = *op == BinOp::Ne;
            if let (Some(slot), Some(lit)) = (plain_slot(a), text(b)) {
                return Fast::StrEq {
                    slot,
                    lit,
                    neg,
                    general: e.clone(),
                };
            }
            if let (Some(lit), Some(slot)) = (text(a), plain_slot(b)) {
                return Fast::StrEq {
                    slot,
                    lit,
                    neg,
                    general: e.clone(),
                };
            }
            int_cmp(e, *op, a, b).unwrap_or_else(general)
        }
        BExpr::Binary(op @ (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge), a, b) => {
            int_cmp(e, *op, a, b).unwrap_or_else(general)
        }
        BExpr::LikeConst(x, m, neg) => match plain_slot(x) {
            Some(slot) => Fast::Like {
                slot,
                matcher: m.clone(),
                neg: *neg,
                general: e.clone(),
            },
            None => general(),
        },
        _ => general(),
    }
}

fn int_cmp(e: &BExpr, op: BinOp, a: &BExpr, b: &BExpr) -> Option<Fast> {
    match (a, b) {
        (x, BExpr::Lit(Value::Int(lit))) => Some(Fast::IntCmp {
            slot: int_slot(x)?,
            op,
            lit: *lit,
            general: e.clone(),
        }),
        (BExpr::Lit(Value::Int(lit)), x) => Some(Fast::IntCmp {
            slot: int_slot(x)?,
            op: flip(op),
            lit: *lit,
            general: e.clone(),
        }),
        _ => None,
    }
}

/// `[-]digits` (at most 18 digits, so no overflow) as an integer; anything else is `None`.
#[inline]
fn simple_int(raw: &[u8]) -> Option<i64> {
    let (neg, digits) = match raw.first() {
        Some(b'-') => (true, &raw[1..]),
        _ => (false, raw),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(if neg { -v } else { v })
}

fn general_truth<'a>(e: &'a BExpr, row: &dyn Row<'a>, d: &dyn Dialect) -> Result<Option<bool>> {
    truth(&eval(e, row, d, &[])?)
}

/// The truth of `f` over `row` (`None` is NULL/MISSING), exactly as the generic evaluator
/// would find it.
pub fn test<'a>(f: &'a Fast, row: &dyn Row<'a>, d: &dyn Dialect) -> Result<Option<bool>> {
    match f {
        Fast::StrEq {
            slot,
            lit,
            neg,
            general,
        } => match row.raw(*slot) {
            Some(raw) => Ok(Some((raw == &lit[..]) != *neg)),
            None => general_truth(general, row, d),
        },
        Fast::IntCmp {
            slot,
            op,
            lit,
            general,
        } => match row
            .raw_num(*slot)
            .and_then(simple_int)
            .or_else(|| match row.num(*slot) {
                Some(Num::Int(v)) => Some(v),
                _ => None,
            }) {
            Some(v) => {
                let o = v.cmp(lit);
                Ok(Some(match op {
                    BinOp::Eq => o == Ordering::Equal,
                    BinOp::Ne => o != Ordering::Equal,
                    BinOp::Lt => o == Ordering::Less,
                    BinOp::Le => o != Ordering::Greater,
                    BinOp::Gt => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                }))
            }
            None => general_truth(general, row, d),
        },
        Fast::Like {
            slot,
            matcher,
            neg,
            general,
        } => {
            let hit = row.raw(*slot).and_then(|r| {
                matcher
                    .matches_bytes(r)
                    .or_else(|| std::str::from_utf8(r).ok().map(|s| matcher.matches(s)))
            });
            match hit {
                Some(h) => Ok(Some(h != *neg)),
                None => general_truth(general, row, d),
            }
        }
        Fast::And(a, b) => {
            let x = test(a, row, d)?;
            if x == Some(false) {
                return Ok(Some(false));
            }
            Ok(match (x, test(b, row, d)?) {
                (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            })
        }
        Fast::Or(a, b) => {
            let x = test(a, row, d)?;
            if x == Some(true) {
                return Ok(Some(true));
            }
            Ok(match (x, test(b, row, d)?) {
                (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            })
        }
        Fast::General(e) => general_truth(e, row, d),
    }
}

/// A `SUM`/`AVG` argument read straight from a raw field: `slot` or
/// `CAST(slot AS INT|FLOAT|DECIMAL)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FastArg {
    /// The slot.
    pub slot: usize,
    /// The cast around it, if any.
    pub cast: Option<CastType>,
}

/// Compiles the argument of aggregate `func`, when it has a fast form.
pub fn compile_arg(func: AggFunc, arg: Option<&BExpr>) -> Option<FastArg> {
    if !matches!(func, AggFunc::Sum | AggFunc::Avg) {
        return None;
    }
    match arg? {
        BExpr::Cast(x, t @ (CastType::Int | CastType::Float | CastType::Decimal)) => {
            Some(FastArg {
                slot: plain_slot(x)?,
                cast: Some(*t),
            })
        }
        x => Some(FastArg {
            slot: plain_slot(x)?,
            cast: None,
        }),
    }
}

/// `[-]digits[.digits]` read exactly as [`super::value::parse_number`] reads it (at most 18
/// digits for an integer, 15 for a decimal); anything else is `None`.
#[inline]
fn simple_number(raw: &[u8]) -> Option<Num> {
    let (neg, d) = match raw.first() {
        Some(b'-') => (true, &raw[1..]),
        _ => (false, raw),
    };
    let mut mant: u64 = 0;
    let mut i = 0;
    while i < d.len() && d[i].is_ascii_digit() && i < 19 {
        mant = mant * 10 + u64::from(d[i] - b'0');
        i += 1;
    }
    if i == 0 {
        return None;
    }
    if i == d.len() {
        if i > 18 {
            return None;
        }
        let v = mant as i64;
        return Some(Num::Int(if neg { -v } else { v }));
    }
    if d[i] != b'.' {
        return None;
    }
    let mut j = i + 1;
    while j < d.len() && d[j].is_ascii_digit() && j < 17 {
        mant = mant * 10 + u64::from(d[j] - b'0');
        j += 1;
    }
    // Fewer than 16 digits in all, so the mantissa and the power of ten are exact doubles and
    // one division rounds correctly (the same computation as `parse_number`).
    if j != d.len() || j > 16 {
        return None;
    }
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let v = mant as f64 / POW10[j - i - 1];
    Some(Num::Float(if neg { -v } else { v }))
}

/// `[-]digits[.digits]` (at most 18 digits) as the exact decimal `CAST(… AS DECIMAL)` reads,
/// scale included (`12.50` has scale 2); anything else is `None`.
#[inline]
fn simple_decimal(raw: &[u8]) -> Option<Decimal> {
    let (neg, d) = match raw.first() {
        Some(b'-') => (true, &raw[1..]),
        _ => (false, raw),
    };
    if d.is_empty() || d.len() > 19 {
        return None;
    }
    // At most 19 digits: under 10^19, within u64.
    let mut mant: u64 = 0;
    let mut point = None;
    for (i, &c) in d.iter().enumerate() {
        if c.is_ascii_digit() {
            mant = mant * 10 + u64::from(c - b'0');
        } else if c == b'.' && point.is_none() && i > 0 && i + 1 < d.len() {
            point = Some(i);
        } else {
            return None;
        }
    }
    let scale = point.map_or(0, |p| (d.len() - p - 1) as i32);
    let m = i128::from(mant);
    Decimal::from_parts(if neg { -m } else { m }, scale).ok()
}

/// What `CAST(field AS DECIMAL)` yields for a text field whose bytes are `raw`, exactly as the
/// generic evaluator computes it; `None` sends the field through the generic evaluator.
#[inline]
pub fn text_decimal(raw: &[u8]) -> Option<Num> {
    simple_decimal(raw).map(Num::Dec)
}

/// The number `arg` yields for a field whose raw bytes are `raw` (text, or a JSON number
/// token, which reads as a double), exactly as the generic evaluator would compute it; `None`
/// sends the field through the generic evaluator.
#[inline]
pub fn arg_num(arg: &FastArg, raw: &[u8]) -> Option<Num> {
    cast_num(arg, simple_number(raw)?)
}

/// The number `arg` yields for a field holding the number `n` (a typed number, or text that
/// reads as `n` when the cast is not to DECIMAL), as the generic evaluator computes it; `None`
/// where that is an error.
#[inline]
pub fn cast_num(arg: &FastArg, n: Num) -> Option<Num> {
    Some(match (arg.cast, n) {
        (Some(CastType::Float), n) => Num::Float(n.f64()),
        (Some(CastType::Int), Num::Float(f)) if f.is_finite() && f.abs() < 9.2e18 => {
            Num::Int(f.trunc() as i64)
        }
        (Some(CastType::Int), Num::Float(_)) => return None,
        (Some(CastType::Int), Num::Dec(d)) => Num::Int(d.trunc_i64()?),
        (Some(CastType::Decimal), n) => Num::Dec(n.dec()?),
        (_, n) => n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::select::value::parse_number;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn simple_numbers_agree_with_parse_number(s in "-?[0-9]{0,20}(\\.[0-9]{0,20})?") {
            if let Some(n) = simple_number(s.as_bytes()) {
                prop_assert_eq!(Some(n), parse_number(&s));
            }
        }

        #[test]
        fn simple_decimals_agree_with_cast(s in "-?[0-9]{0,20}(\\.[0-9]{0,20})?") {
            if let Some(d) = simple_decimal(s.as_bytes()) {
                let generic = crate::select::functions::cast(Value::str(&s), CastType::Decimal);
                match generic {
                    Ok(Value::Decimal(g)) => {
                        prop_assert_eq!(d, g);
                        prop_assert_eq!(d.scale(), g.scale());
                    }
                    other => prop_assert!(false, "{s}: {other:?}"),
                }
            }
        }

        #[test]
        fn simple_ints_agree_with_parse_number(s in "[-+ ]?[0-9]{0,20}[. ]?") {
            if let Some(n) = simple_int(s.as_bytes()) {
                prop_assert_eq!(Some(Num::Int(n)), parse_number(&s));
            }
        }
    }
}
