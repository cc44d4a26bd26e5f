//! Join operators over materialized inputs: nested loop (any ON condition, every join kind) and
//! hash join (equality keys; NULL keys never match, as SQL requires) over a [`HashTable`] that
//! allocates per distinct key, not per row.

use std::collections::HashMap;

use super::{ExecCtx, Row};
use crate::error::Result;
use crate::expr::Expr;
use crate::plan::JoinKind;
use crate::value::Value;

pub(super) fn nested_loop(
    l: &[Row],
    r: &[Row],
    kind: JoinKind,
    on: Option<&Expr>,
    lw: usize,
    rw: usize,
    ctx: &ExecCtx<'_>,
) -> Result<Vec<Row>> {
    let mut out = Vec::new();
    let mut right_matched = vec![false; r.len()];
    let mut buf: Row = Vec::with_capacity(lw + rw);
    for lr in l {
        let mut matched = false;
        for (j, rr) in r.iter().enumerate() {
            buf.clear();
            buf.extend_from_slice(lr);
            buf.extend_from_slice(rr);
            let ok = match on {
                Some(e) => e.holds(&buf, ctx)?,
                None => true,
            };
            if ok {
                matched = true;
                right_matched[j] = true;
                out.push(buf.clone());
            }
        }
        if !matched && matches!(kind, JoinKind::Left | JoinKind::Full) {
            let mut row = lr.clone();
            row.extend(std::iter::repeat_n(Value::Null, rw));
            out.push(row);
        }
    }
    if matches!(kind, JoinKind::Right | JoinKind::Full) {
        for (j, rr) in r.iter().enumerate() {
            if !right_matched[j] {
                let mut row: Row = std::iter::repeat_n(Value::Null, lw).collect();
                row.extend_from_slice(rr);
                out.push(row);
            }
        }
    }
    Ok(out)
}

/// No next entry in a [`HashTable`] chain.
const NONE: usize = usize::MAX;

/// A hash table over the build (right) side's join keys. Each distinct key maps to the first
/// build row that has it, and `next` chains the rows of one key in input order, so building
/// allocates nothing per row beyond the first row of each key. A single integer key column
/// (the usual foreign key) is hashed as an `i64`; a probe value of another number kind looks
/// in a map of the same chains keyed by [`Value`], built on first need, so cross-kind equality
/// (`int4 = numeric`) is exactly [`Value`]'s.
pub(super) struct HashTable {
    heads: Heads,
    next: Vec<usize>,
    /// The single key's values, when the table is in integer mode (for the fallback map).
    ints: Vec<Value>,
    by_value: std::cell::OnceCell<HashMap<Vec<Value>, usize>>,
}

enum Heads {
    Int(HashMap<i64, usize>),
    General(HashMap<Vec<Value>, usize>),
}

/// The value of an integer-typed key.
fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Int2(i) => Some(*i as i64),
        Value::Int4(i) => Some(*i as i64),
        Value::Int8(i) => Some(*i),
        _ => None,
    }
}

impl HashTable {
    /// Builds the table over `rows` keyed by `keys`; rows with a NULL key are left out (they
    /// never match).
    pub(super) fn build(rows: &[Row], keys: &[Expr], ctx: &ExecCtx<'_>) -> Result<HashTable> {
        let mut next = vec![NONE; rows.len()];
        if let [key] = keys {
            let vals = rows
                .iter()
                .map(|r| key.eval(r, ctx))
                .collect::<Result<Vec<_>>>()?;
            if vals.iter().all(|v| v.is_null() || int_of(v).is_some()) {
                let mut heads: HashMap<i64, usize> = HashMap::with_capacity(rows.len());
                // Rows are linked from the last to the first, so a chain runs in input order.
                for (j, v) in vals.iter().enumerate().rev() {
                    if let Some(i) = int_of(v)
                        && let Some(h) = heads.insert(i, j)
                    {
                        next[j] = h;
                    }
                }
                return Ok(HashTable {
                    heads: Heads::Int(heads),
                    next,
                    ints: vals,
                    by_value: std::cell::OnceCell::new(),
                });
            }
        }
        let mut heads: HashMap<Vec<Value>, usize> = HashMap::with_capacity(rows.len());
        let mut buf: Vec<Value> = Vec::with_capacity(keys.len());
        for (j, r) in rows.iter().enumerate().rev() {
            buf.clear();
            for k in keys {
                buf.push(k.eval(r, ctx)?);
            }
            if buf.iter().any(Value::is_null) {
                continue;
            }
            match heads.get_mut(buf.as_slice()) {
                Some(h) => {
                    next[j] = *h;
                    *h = j;
                }
                None => {
                    heads.insert(buf.clone(), j);
                }
            }
        }
        Ok(HashTable {
            heads: Heads::General(heads),
            next,
            ints: Vec::new(),
            by_value: std::cell::OnceCell::new(),
        })
    }

    /// The first build row matching the probe row's key (`key` is a reused buffer).
    pub(super) fn first(
        &self,
        row: &[Value],
        keys: &[Expr],
        key: &mut Vec<Value>,
        ctx: &ExecCtx<'_>,
    ) -> Result<Option<usize>> {
        key.clear();
        for k in keys {
            let v = k.eval(row, ctx)?;
            if v.is_null() {
                return Ok(None);
            }
            key.push(v);
        }
        Ok(match &self.heads {
            Heads::Int(heads) => match key.as_slice() {
                [v] => match int_of(v) {
                    Some(i) => heads.get(&i).copied(),
                    None => self.fallback(heads).get(key.as_slice()).copied(),
                },
                _ => None,
            },
            Heads::General(heads) => heads.get(key.as_slice()).copied(),
        })
    }

    /// The next build row with the same key as `j`.
    pub(super) fn next(&self, j: usize) -> Option<usize> {
        self.next.get(j).copied().filter(|&n| n != NONE)
    }

    /// The integer-mode chains keyed by [`Value`], for a probe of another number kind.
    fn fallback(&self, heads: &HashMap<i64, usize>) -> &HashMap<Vec<Value>, usize> {
        self.by_value.get_or_init(|| {
            heads
                .values()
                .filter_map(|&h| self.ints.get(h).map(|v| (vec![v.clone()], h)))
                .collect()
        })
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn hash_join(
    l: &[Row],
    r: &[Row],
    kind: JoinKind,
    lk: &[Expr],
    rk: &[Expr],
    residual: Option<&Expr>,
    (lw, rw): (usize, usize),
    ctx: &ExecCtx<'_>,
) -> Result<Vec<Row>> {
    let table = HashTable::build(r, rk, ctx)?;
    let mut out = Vec::new();
    let mut right_matched = vec![false; r.len()];
    let mut key = Vec::with_capacity(lk.len());
    for lr in l {
        let mut matched = false;
        let mut j = table.first(lr, lk, &mut key, ctx)?;
        while let Some(jj) = j {
            j = table.next(jj);
            let mut row = Vec::with_capacity(lw + rw);
            row.extend_from_slice(lr);
            row.extend_from_slice(&r[jj]);
            if let Some(f) = residual
                && !f.holds(&row, ctx)?
            {
                continue;
            }
            matched = true;
            right_matched[jj] = true;
            out.push(row);
        }
        if !matched && matches!(kind, JoinKind::Left | JoinKind::Full) {
            let mut row = lr.clone();
            row.extend(std::iter::repeat_n(Value::Null, rw));
            out.push(row);
        }
    }
    if matches!(kind, JoinKind::Right | JoinKind::Full) {
        for (j, rr) in r.iter().enumerate() {
            if !right_matched[j] {
                let mut row: Row = std::iter::repeat_n(Value::Null, lw).collect();
                row.extend_from_slice(rr);
                out.push(row);
            }
        }
    }
    Ok(out)
}
