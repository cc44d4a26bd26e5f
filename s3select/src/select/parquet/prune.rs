//! Row-group pruning by column-chunk statistics: the `column op literal` conjuncts of WHERE
//! whose truth the min/max of a chunk can decide.
//!
//! Guarantees: a row group is skipped only when every row of it makes some conjunct of WHERE
//! false (never NULL or an error): numeric bounds are used only on integer and floating-point
//! columns (not decimals, dates or timestamps, whose stored integers are not the values the
//! evaluator sees), `CAST(c AS INT)` only over integer columns (a cast truncates fractions, so
//! the bounds of a double column do not bound it), and text bounds only for `=`.

use arrow_schema::DataType;
use parquet::file::statistics::Statistics;

use crate::select::ast::{BinOp, CastType};
use crate::select::eval::BExpr;
use crate::select::value::Value;

/// The literal side of a prunable conjunct.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Lit {
    /// A number (compared with numeric bounds).
    Num(f64),
    /// Text (compared with text bounds, for `=` only).
    Text(Box<[u8]>),
}

/// A conjunct `column op literal`, with the column as a file column index.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Pred {
    pub(super) col: usize,
    pub(super) op: BinOp,
    pub(super) lit: Lit,
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

fn is_int(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
    )
}

fn is_float(t: &DataType) -> bool {
    matches!(t, DataType::Float32 | DataType::Float64)
}

/// The prunable conjuncts of `filter`; `types[c]` is file column `c`'s Arrow type.
pub(super) fn predicates(
    filter: Option<&BExpr>,
    file_cols: &[Option<usize>],
    types: &[DataType],
) -> Vec<Pred> {
    // The column side: a plain slot or a numeric cast of one, with whether it is numeric.
    let col = |e: &BExpr| -> Option<(usize, bool)> {
        let (slot, cast) = match e {
            BExpr::Slot(i, steps) if steps.is_empty() => (*i, None),
            BExpr::Cast(x, t @ (CastType::Int | CastType::Float | CastType::Decimal)) => match &**x
            {
                BExpr::Slot(i, steps) if steps.is_empty() => (*i, Some(*t)),
                _ => return None,
            },
            _ => return None,
        };
        let c = file_cols.get(slot).copied().flatten()?;
        let t = types.get(c)?;
        let numeric = match cast {
            None | Some(CastType::Float | CastType::Decimal) => is_int(t) || is_float(t),
            Some(_) => is_int(t),
        };
        let text = cast.is_none() && *t == DataType::Utf8;
        (numeric || text).then_some((c, numeric))
    };
    let lit = |e: &BExpr, numeric: bool| -> Option<Lit> {
        match e {
            BExpr::Lit(Value::Int(i)) if numeric => Some(Lit::Num(*i as f64)),
            BExpr::Lit(Value::Float(f)) if numeric && f.is_finite() => Some(Lit::Num(*f)),
            // A decimal of at most 15 digits orders against doubles and integers (below 2^53)
            // exactly as its nearest double does (see `Decimal::to_f64_comparable`).
            BExpr::Lit(Value::Decimal(d)) if numeric => d.to_f64_comparable().map(Lit::Num),
            BExpr::Lit(Value::Str(s)) if !numeric => Some(Lit::Text(s.as_bytes().into())),
            _ => None,
        }
    };
    fn walk(e: &BExpr, out: &mut Vec<Pred>, f: &dyn Fn(&BExpr, BinOp, &BExpr) -> Option<Pred>) {
        match e {
            BExpr::Binary(BinOp::And, a, b) => {
                walk(a, out, f);
                walk(b, out, f);
            }
            BExpr::Binary(
                op @ (BinOp::Eq | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge),
                a,
                b,
            ) => {
                if let Some(p) = f(a, *op, b).or_else(|| f(b, flip(*op), a)) {
                    out.push(p);
                }
            }
            _ => {}
        }
    }
    let one = |a: &BExpr, op: BinOp, b: &BExpr| -> Option<Pred> {
        let (c, numeric) = col(a)?;
        let l = lit(b, numeric)?;
        (numeric || op == BinOp::Eq).then_some(Pred { col: c, op, lit: l })
    };
    let mut out = Vec::new();
    if let Some(f) = filter {
        walk(f, &mut out, &one);
    }
    out
}

/// Whether the statistics prove `p` false for every row of the chunk.
pub(super) fn excluded(s: &Statistics, p: &Pred) -> bool {
    match &p.lit {
        Lit::Num(lit) => excluded_num(s, p.op, *lit),
        Lit::Text(lit) => match s {
            Statistics::ByteArray(v) => match (v.min_opt(), v.max_opt()) {
                (Some(min), Some(max)) => {
                    p.op == BinOp::Eq && (&lit[..] < min.data() || &lit[..] > max.data())
                }
                _ => false,
            },
            _ => false,
        },
    }
}

fn excluded_num(s: &Statistics, op: BinOp, lit: f64) -> bool {
    let (min, max) = match s {
        Statistics::Int32(v) => (
            v.min_opt().map(|x| f64::from(*x)),
            v.max_opt().map(|x| f64::from(*x)),
        ),
        Statistics::Int64(v) => (
            v.min_opt().map(|x| *x as f64),
            v.max_opt().map(|x| *x as f64),
        ),
        Statistics::Float(v) => (
            v.min_opt().map(|x| f64::from(*x)),
            v.max_opt().map(|x| f64::from(*x)),
        ),
        Statistics::Double(v) => (v.min_opt().copied(), v.max_opt().copied()),
        _ => (None, None),
    };
    let (Some(min), Some(max)) = (min, max) else {
        return false;
    };
    // Beyond 2^53 an integer's conversion to f64 rounds, and a rounded bound could exclude a
    // row that matches.
    const EXACT: f64 = 9.0e15;
    if min.is_nan() || max.is_nan() || min.abs() > EXACT || max.abs() > EXACT || lit.abs() > EXACT {
        return false;
    }
    match op {
        BinOp::Eq => lit < min || lit > max,
        BinOp::Lt => min >= lit,
        BinOp::Le => min > lit,
        BinOp::Gt => max <= lit,
        BinOp::Ge => max < lit,
        _ => false,
    }
}
