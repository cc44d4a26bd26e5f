//! Operators that order or combine whole row sets: sorting by SQL sort keys, the set operations
//! (UNION/INTERSECT/EXCEPT with and without ALL) and the `WITH RECURSIVE` fixpoint, which stops at
//! a documented bound with 54001 instead of running forever.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use super::{ExecCtx, MAX_RECURSIVE_ROWS, Row, execute};
use crate::error::{AuroraError, Result};
use crate::plan::{Plan, SetOpKind, SortKey};
use crate::value::Value;

/// Compares two sort-key tuples under `keys`' directions.
pub fn compare_keys(a: &[Value], b: &[Value], keys: &[SortKey]) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    for ((x, y), k) in a.iter().zip(b.iter()).zip(keys.iter()) {
        let ord = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => {
                if k.nulls_first {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (false, true) => {
                if k.nulls_first {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            _ => {
                let o = x.cmp(y);
                if k.desc { o.reverse() } else { o }
            }
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// Sorts rows by keys (stable).
pub fn sort_rows(rows: Vec<Row>, keys: &[SortKey], ctx: &ExecCtx<'_>) -> Result<Vec<Row>> {
    let mut keyed: Vec<(Vec<Value>, Row)> = Vec::with_capacity(rows.len());
    for r in rows {
        let k = keys
            .iter()
            .map(|s| s.expr.eval(&r, ctx))
            .collect::<Result<Vec<_>>>()?;
        keyed.push((k, r));
    }
    keyed.sort_by(|a, b| compare_keys(&a.0, &b.0, keys));
    Ok(keyed.into_iter().map(|(_, r)| r).collect())
}

pub(super) fn set_op(op: SetOpKind, all: bool, l: Vec<Row>, r: Vec<Row>) -> Vec<Row> {
    match (op, all) {
        (SetOpKind::Union, true) => l.into_iter().chain(r).collect(),
        (SetOpKind::Union, false) => {
            let mut seen = HashSet::new();
            l.into_iter()
                .chain(r)
                .filter(|row| seen.insert(row.clone()))
                .collect()
        }
        (SetOpKind::Intersect | SetOpKind::Except, _) => {
            let mut counts: HashMap<Row, usize> = HashMap::new();
            for row in r {
                *counts.entry(row).or_default() += 1;
            }
            let mut emitted = HashSet::new();
            let mut out = Vec::new();
            for row in l {
                let c = counts.get_mut(&row);
                let keep = match (op, all) {
                    (SetOpKind::Intersect, true) => match c {
                        Some(n) if *n > 0 => {
                            *n -= 1;
                            true
                        }
                        _ => false,
                    },
                    (SetOpKind::Intersect, false) => c.is_some() && emitted.insert(row.clone()),
                    (_, true) => match c {
                        Some(n) if *n > 0 => {
                            *n -= 1;
                            false
                        }
                        _ => true,
                    },
                    _ => c.is_none() && emitted.insert(row.clone()),
                };
                if keep {
                    out.push(row);
                }
            }
            out
        }
    }
}

pub(super) fn recursive_cte(
    id: usize,
    base: Vec<Row>,
    rec: &Plan,
    union_all: bool,
    ctx: &ExecCtx<'_>,
) -> Result<Vec<Row>> {
    let mut seen: HashSet<Row> = HashSet::new();
    let mut result = Vec::new();
    let mut working = Vec::new();
    for r in base {
        if union_all || seen.insert(r.clone()) {
            result.push(r.clone());
            working.push(r);
        }
    }
    while !working.is_empty() {
        ctx.ctes
            .borrow_mut()
            .insert(id, Rc::new(std::mem::take(&mut working)));
        let produced = execute(rec, ctx)?;
        for r in produced {
            if union_all || seen.insert(r.clone()) {
                result.push(r.clone());
                working.push(r);
            }
        }
        if result.len() > MAX_RECURSIVE_ROWS {
            return Err(AuroraError::sql(
                "54001",
                format!("recursive query produced more than {MAX_RECURSIVE_ROWS} rows"),
            ));
        }
    }
    Ok(result)
}
