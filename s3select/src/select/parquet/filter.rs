//! WHERE over a whole decoded batch at once. Each conjunct/disjunct that reads one column is
//! evaluated column-wise: over a dictionary-encoded column once per distinct value of the
//! column chunk (cached while the row group's dictionary stays the same) and then mapped
//! through the keys; over plain text and integer columns in a tight loop for the compiled
//! `=`, `LIKE` and integer comparisons.
//!
//! Guarantees: the rows kept are exactly those [`Sink::passes`] keeps, with the same error at
//! the same row. A per-value answer is the scalar evaluator's own answer for that value (the
//! leaf reads nothing but its one column, so every row holding the value gets that answer);
//! whenever a row's answer is not known column-wise — a leaf over an unhandled type, a value
//! whose evaluation fails — the whole WHERE is evaluated for that row by [`Sink::passes`], so
//! errors and the evaluation order of AND/OR stay the scalar path's.

use arrow_array::{Array, ArrayRef};

use super::column::{Col, PqRow};
use crate::error::Error;
use crate::select::ast::BinOp;
use crate::select::eval::{BExpr, Dialect, Row};
use crate::select::fast::{self, Fast};
use crate::select::plan::Sink;
use crate::select::value::Value;

const FALSE: u8 = 0;
const TRUE: u8 = 1;
const NULL: u8 = 2;
/// Not known column-wise: the row goes through the scalar path.
const DEFER: u8 = 3;

/// The slots `e` reads, pushed to `out`; `false` when it reads the whole record or steps into
/// a slot (so it cannot be evaluated from one column value).
pub(super) fn slot_refs(e: &BExpr, out: &mut Vec<usize>) -> bool {
    let all = |xs: &[&BExpr], out: &mut Vec<usize>| xs.iter().all(|x| slot_refs(x, out));
    match e {
        BExpr::Lit(_) => true,
        BExpr::Slot(i, steps) => {
            out.push(*i);
            steps.is_empty()
        }
        BExpr::Record(_) | BExpr::Agg(_) => false,
        BExpr::Neg(x) | BExpr::Not(x) | BExpr::IsNull(x, _) | BExpr::IsMissing(x, _) => {
            slot_refs(x, out)
        }
        BExpr::Cast(x, _) | BExpr::LikeConst(x, _, _) | BExpr::Extract(_, x) => slot_refs(x, out),
        BExpr::Binary(_, a, b) | BExpr::DateAdd(_, a, b) | BExpr::DateDiff(_, a, b) => {
            all(&[a, b], out)
        }
        BExpr::Like(a, b, c, _) => {
            all(&[a, b], out) && c.as_deref().is_none_or(|c| slot_refs(c, out))
        }
        BExpr::Between(a, b, c, _) => all(&[a, b, c], out),
        BExpr::In(a, xs, _) => slot_refs(a, out) && xs.iter().all(|x| slot_refs(x, out)),
        BExpr::Case(a, arms, c) => {
            a.as_deref().is_none_or(|a| slot_refs(a, out))
                && arms.iter().all(|(x, y)| all(&[x, y], out))
                && c.as_deref().is_none_or(|c| slot_refs(c, out))
        }
        BExpr::Call(_, xs) => xs.iter().all(|x| slot_refs(x, out)),
        BExpr::Substring(a, b, c) => {
            all(&[a, b], out) && c.as_deref().is_none_or(|c| slot_refs(c, out))
        }
        BExpr::Trim(_, c, s) => c.as_deref().is_none_or(|c| slot_refs(c, out)) && slot_refs(s, out),
    }
}

/// The one slot `e` reads, if it reads exactly one (possibly several times) and nothing else.
fn single_slot(e: &BExpr) -> Option<usize> {
    let mut v = Vec::new();
    if !slot_refs(e, &mut v) {
        return None;
    }
    let first = *v.first()?;
    v.iter().all(|&s| s == first).then_some(first)
}

enum Node {
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Leaf {
        fast: Fast,
        slot: Option<usize>,
        /// The answer for a NULL value, once computed.
        null: Option<u8>,
        /// The answers for the last dictionary seen, which is kept alive here so that its
        /// identity cannot be reused by another allocation.
        dict: Option<(ArrayRef, Vec<u8>)>,
    },
}

fn node(f: &Fast) -> Node {
    match f {
        Fast::And(a, b) => Node::And(Box::new(node(a)), Box::new(node(b))),
        Fast::Or(a, b) => Node::Or(Box::new(node(a)), Box::new(node(b))),
        leaf => {
            let slot = match leaf {
                Fast::StrEq { slot, .. } | Fast::IntCmp { slot, .. } | Fast::Like { slot, .. } => {
                    Some(*slot)
                }
                Fast::General(e) => single_slot(e),
                Fast::And(..) | Fast::Or(..) => None,
            };
            Node::Leaf {
                fast: leaf.clone(),
                slot,
                null: None,
                dict: None,
            }
        }
    }
}

/// A row of one value in one slot, read exactly as [`PqRow`] reads a cell of a text column.
struct OneRow<'a> {
    slot: usize,
    value: Option<&'a str>,
}

impl<'a> Row<'a> for OneRow<'a> {
    fn slot(&self, i: usize) -> Value<'a> {
        match (i == self.slot, self.value) {
            (true, Some(s)) => Value::Str(std::borrow::Cow::Borrowed(s)),
            (true, None) => Value::Null,
            (false, _) => Value::Missing,
        }
    }

    fn whole(&self) -> Value<'a> {
        Value::Missing
    }

    fn raw(&self, i: usize) -> Option<&'a [u8]> {
        (i == self.slot).then_some(self.value?.as_bytes())
    }
}

fn answer(r: crate::error::Result<Option<bool>>) -> u8 {
    match r {
        Ok(Some(true)) => TRUE,
        Ok(Some(false)) => FALSE,
        Ok(None) => NULL,
        Err(_) => DEFER,
    }
}

/// The compiled WHERE of one scan (one per thread: it caches per-dictionary answers).
pub(super) struct BatchFilter {
    root: Node,
}

impl BatchFilter {
    /// The filter for `plan`'s WHERE, if it has one.
    pub(super) fn new(sink: &Sink<'_>) -> Option<BatchFilter> {
        let plan = sink.plan;
        let f = match (&plan.fast_filter, &plan.filter) {
            (Some(f), _) => f.clone(),
            (None, Some(e)) => Fast::General(e.clone()),
            (None, None) => return None,
        };
        Some(BatchFilter { root: node(&f) })
    }

    /// Which of the `rows` rows of a batch pass WHERE, and the error of the first row whose
    /// evaluation failed (rows from it on are not kept).
    pub(super) fn select(
        &mut self,
        cols: &[Col<'_>],
        names: &[&str],
        slot_cols: &[Option<usize>],
        rows: usize,
        sink: &Sink<'_>,
    ) -> (Vec<bool>, Option<Error>) {
        let d = &sink.plan.dialect as &dyn Dialect;
        let states = eval_node(&mut self.root, cols, slot_cols, rows, d);
        if !states.contains(&DEFER) {
            return (states.iter().map(|&s| s == TRUE).collect(), None);
        }
        let mut keep = Vec::with_capacity(rows);
        for (r, s) in states.into_iter().enumerate() {
            let k = match s {
                TRUE => true,
                DEFER => {
                    let row = PqRow {
                        cols,
                        names,
                        slot_cols,
                        r,
                    };
                    match sink.passes(&row) {
                        Ok(k) => k,
                        Err(e) => {
                            keep.resize(rows, false);
                            return (keep, Some(e));
                        }
                    }
                }
                _ => false,
            };
            keep.push(k);
        }
        (keep, None)
    }
}

fn eval_node(
    n: &mut Node,
    cols: &[Col<'_>],
    slot_cols: &[Option<usize>],
    rows: usize,
    d: &dyn Dialect,
) -> Vec<u8> {
    match n {
        Node::And(a, b) => {
            let x = eval_node(a, cols, slot_cols, rows, d);
            combine(x, eval_node(b, cols, slot_cols, rows, d), FALSE, TRUE)
        }
        Node::Or(a, b) => {
            let x = eval_node(a, cols, slot_cols, rows, d);
            combine(x, eval_node(b, cols, slot_cols, rows, d), TRUE, FALSE)
        }
        Node::Leaf {
            fast,
            slot,
            null,
            dict,
        } => {
            let Some(slot) = *slot else {
                return vec![DEFER; rows];
            };
            let Some(col) = slot_cols
                .get(slot)
                .copied()
                .flatten()
                .and_then(|c| cols.get(c))
            else {
                return vec![DEFER; rows];
            };
            let fast: &Fast = fast;
            let null = *null
                .get_or_insert_with(|| answer(fast::test(fast, &OneRow { slot, value: None }, d)));
            leaf(fast, slot, col, rows, null, dict, d)
        }
    }
}

/// Three-valued AND (`absorb` FALSE, `unit` TRUE) or OR (the other way round), row by row;
/// a row deferred on either side is deferred.
fn combine(x: Vec<u8>, y: Vec<u8>, absorb: u8, unit: u8) -> Vec<u8> {
    x.into_iter()
        .zip(y)
        .map(|(p, q)| {
            if p == DEFER || q == DEFER {
                DEFER
            } else if p == absorb || q == absorb {
                absorb
            } else if p == unit && q == unit {
                unit
            } else {
                NULL
            }
        })
        .collect()
}

fn leaf(
    f: &Fast,
    slot: usize,
    col: &Col<'_>,
    rows: usize,
    null: u8,
    dict: &mut Option<(ArrayRef, Vec<u8>)>,
    d: &dyn Dialect,
) -> Vec<u8> {
    let tf = |b: bool| if b { TRUE } else { FALSE };
    match (f, col) {
        (_, Col::Dict(keys, values)) => {
            let same = dict
                .as_ref()
                .is_some_and(|(v, _)| std::sync::Arc::ptr_eq(v, keys.values()));
            if !same {
                let answers = (0..values.len())
                    .map(|k| {
                        let value = (!values.is_null(k)).then(|| values.value(k));
                        answer(fast::test(f, &OneRow { slot, value }, d))
                    })
                    .collect();
                *dict = Some((keys.values().clone(), answers));
            }
            let Some((_, answers)) = dict.as_ref() else {
                return vec![DEFER; rows];
            };
            let k = keys.keys();
            let lookup = |key: i32| {
                usize::try_from(key)
                    .ok()
                    .and_then(|i| answers.get(i))
                    .copied()
                    .unwrap_or(DEFER)
            };
            if k.null_count() == 0 {
                k.values().iter().map(|&key| lookup(key)).collect()
            } else {
                (0..rows)
                    .map(|r| {
                        if k.is_null(r) {
                            null
                        } else {
                            lookup(k.value(r))
                        }
                    })
                    .collect()
            }
        }
        (Fast::StrEq { lit, neg, .. }, Col::Str(_) | Col::View(_)) => (0..rows)
            .map(|r| match col.text(r) {
                Some(t) => tf((t.as_bytes() == &lit[..]) != *neg),
                None => null,
            })
            .collect(),
        (Fast::Like { matcher, neg, .. }, Col::Str(_) | Col::View(_)) => (0..rows)
            .map(|r| match col.text(r) {
                Some(t) => tf(matcher.matches(t) != *neg),
                None => null,
            })
            .collect(),
        (Fast::IntCmp { op, lit, .. }, Col::I64(_) | Col::I32(_)) => {
            let test = |v: i64| {
                tf(match op {
                    BinOp::Eq => v == *lit,
                    BinOp::Ne => v != *lit,
                    BinOp::Lt => v < *lit,
                    BinOp::Le => v <= *lit,
                    BinOp::Gt => v > *lit,
                    _ => v >= *lit,
                })
            };
            match col {
                Col::I64(a) if a.null_count() == 0 => a.values().iter().map(|&v| test(v)).collect(),
                Col::I32(a) if a.null_count() == 0 => {
                    a.values().iter().map(|&v| test(i64::from(v))).collect()
                }
                _ => (0..rows)
                    .map(|r| match col.num(r) {
                        Some(crate::select::value::Num::Int(v)) => test(v),
                        _ => null,
                    })
                    .collect(),
            }
        }
        _ => vec![DEFER; rows],
    }
}
