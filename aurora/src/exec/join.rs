//! Join operators over materialized inputs: nested loop (any ON condition, every join kind) and
//! hash join (equality keys; NULL keys never match, as SQL requires).

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
    let mut table: HashMap<Vec<Value>, Vec<usize>> = HashMap::with_capacity(r.len());
    for (j, rr) in r.iter().enumerate() {
        let key = rk
            .iter()
            .map(|e| e.eval(rr, ctx))
            .collect::<Result<Vec<_>>>()?;
        if key.iter().any(Value::is_null) {
            continue;
        }
        table.entry(key).or_default().push(j);
    }
    let mut out = Vec::new();
    let mut right_matched = vec![false; r.len()];
    for lr in l {
        let key = lk
            .iter()
            .map(|e| e.eval(lr, ctx))
            .collect::<Result<Vec<_>>>()?;
        let mut matched = false;
        if !key.iter().any(Value::is_null)
            && let Some(js) = table.get(&key)
        {
            for &j in js {
                let mut row = lr.clone();
                row.extend_from_slice(&r[j]);
                if let Some(f) = residual
                    && !f.holds(&row, ctx)?
                {
                    continue;
                }
                matched = true;
                right_matched[j] = true;
                out.push(row);
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
