//! Window functions: ranking, offsets, first/last/nth value and aggregates over frames.
//!
//! Guarantees: the default frame is PostgreSQL's (`RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT
//! ROW` with ORDER BY, so peers share a value; the whole partition without it); rows come out
//! ordered by the first window's partition and order keys, as PostgreSQL's WindowAgg emits them.

use crate::agg::{Acc, is_aggregate};
use crate::error::{AuroraError, Result};
use crate::exec::{ExecCtx, Row, compare_keys};
use crate::plan::{FrameBound, SortKey, WinCall};
use crate::value::Value;

/// Names of the non-aggregate window functions.
pub const WINDOW_FUNCTIONS: &[&str] = &[
    "row_number",
    "rank",
    "dense_rank",
    "percent_rank",
    "cume_dist",
    "ntile",
    "lag",
    "lead",
    "first_value",
    "last_value",
    "nth_value",
];

/// Whether `name` can only be used as a window function.
pub fn is_window_only(name: &str) -> bool {
    WINDOW_FUNCTIONS.contains(&name)
}

/// Appends one column per call to every row.
pub fn window(rows: Vec<Row>, calls: &[WinCall], ctx: &ExecCtx<'_>) -> Result<Vec<Row>> {
    let n = rows.len();
    let mut results: Vec<Vec<Value>> = vec![Vec::with_capacity(calls.len()); n];
    let mut first_order: Option<Vec<usize>> = None;
    for call in calls {
        // Sort row positions by (partition, order).
        let mut keyed: Vec<(Vec<Value>, Vec<Value>, usize)> = Vec::with_capacity(n);
        for (i, r) in rows.iter().enumerate() {
            let p = call
                .partition
                .iter()
                .map(|e| e.eval(r, ctx))
                .collect::<Result<Vec<_>>>()?;
            let o = call
                .order
                .iter()
                .map(|k| k.expr.eval(r, ctx))
                .collect::<Result<Vec<_>>>()?;
            keyed.push((p, o, i));
        }
        let part_keys: Vec<SortKey> = call
            .partition
            .iter()
            .map(|e| SortKey {
                expr: e.clone(),
                desc: false,
                nulls_first: false,
            })
            .collect();
        keyed.sort_by(|a, b| {
            compare_keys(&a.0, &b.0, &part_keys).then_with(|| compare_keys(&a.1, &b.1, &call.order))
        });
        if first_order.is_none() {
            first_order = Some(keyed.iter().map(|k| k.2).collect());
        }
        let mut start = 0;
        while start < n {
            let mut end = start + 1;
            while end < n && keyed[end].0 == keyed[start].0 {
                end += 1;
            }
            let part = &keyed[start..end];
            let values = eval_partition(call, part, &rows, ctx)?;
            for (k, v) in part.iter().zip(values) {
                results[k.2].push(v);
            }
            start = end;
        }
    }
    let order = first_order.unwrap_or_else(|| (0..n).collect());
    let mut rows: Vec<Option<Row>> = rows.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(n);
    for i in order {
        if let Some(mut r) = rows[i].take() {
            r.append(&mut results[i]);
            out.push(r);
        }
    }
    Ok(out)
}

type Keyed = (Vec<Value>, Vec<Value>, usize);

fn eval_partition(
    call: &WinCall,
    part: &[Keyed],
    rows: &[Row],
    ctx: &ExecCtx<'_>,
) -> Result<Vec<Value>> {
    let m = part.len();
    // Peer groups: rows with equal ORDER BY keys.
    let mut peer_start = vec![0usize; m];
    let mut peer_end = vec![0usize; m];
    let mut i = 0;
    while i < m {
        let mut j = i + 1;
        while j < m && part[j].1 == part[i].1 {
            j += 1;
        }
        for k in i..j {
            peer_start[k] = i;
            peer_end[k] = j;
        }
        i = j;
    }
    let row = |k: usize| &rows[part[k].2];
    let arg = |k: usize, a: usize| -> Result<Value> {
        match call.args.get(a) {
            Some(e) => e.eval(row(k), ctx),
            None => Ok(Value::Null),
        }
    };
    let mut out = Vec::with_capacity(m);
    match call.func.as_str() {
        "row_number" => out.extend((0..m).map(|k| Value::Int8(k as i64 + 1))),
        "rank" => out.extend((0..m).map(|k| Value::Int8(peer_start[k] as i64 + 1))),
        "dense_rank" => {
            let mut rank = 0;
            for (k, start) in peer_start.iter().enumerate() {
                if *start == k {
                    rank += 1;
                }
                out.push(Value::Int8(rank));
            }
        }
        "percent_rank" => out.extend((0..m).map(|k| {
            Value::Float8(if m <= 1 {
                0.0
            } else {
                peer_start[k] as f64 / (m - 1) as f64
            })
        })),
        "cume_dist" => out.extend((0..m).map(|k| Value::Float8(peer_end[k] as f64 / m as f64))),
        "ntile" => {
            for k in 0..m {
                let buckets = arg(k, 0)?.as_i64().unwrap_or(1);
                if buckets <= 0 {
                    return Err(AuroraError::sql(
                        "22014",
                        "argument of ntile must be greater than zero",
                    ));
                }
                let b = buckets as usize;
                let (size, extra) = (m / b, m % b);
                // The first `extra` buckets hold one more row.
                let big = (size + 1) * extra;
                let bucket = if k < big {
                    k / (size + 1)
                } else {
                    extra + (k - big) / size.max(1)
                };
                out.push(Value::Int4(bucket as i32 + 1));
            }
        }
        "lag" | "lead" => {
            for k in 0..m {
                let off = if call.args.len() > 1 {
                    arg(k, 1)?.as_i64().unwrap_or(1)
                } else {
                    1
                };
                let target = if call.func == "lag" {
                    k as i64 - off
                } else {
                    k as i64 + off
                };
                out.push(if target >= 0 && (target as usize) < m {
                    arg(target as usize, 0)?
                } else {
                    arg(k, 2)?
                });
            }
        }
        _ => {
            for k in 0..m {
                let (lo, hi) = frame_bounds(call, k, m, &peer_start, &peer_end);
                let v = match call.func.as_str() {
                    "first_value" => {
                        if lo < hi {
                            arg(lo, 0)?
                        } else {
                            Value::Null
                        }
                    }
                    "last_value" => {
                        if lo < hi {
                            arg(hi - 1, 0)?
                        } else {
                            Value::Null
                        }
                    }
                    "nth_value" => {
                        let nth = arg(k, 1)?.as_i64().unwrap_or(1);
                        if nth <= 0 {
                            return Err(AuroraError::sql(
                                "22016",
                                "argument of nth_value must be greater than zero",
                            ));
                        }
                        let idx = lo + nth as usize - 1;
                        if idx < hi { arg(idx, 0)? } else { Value::Null }
                    }
                    f if is_aggregate(f) => {
                        let mut acc = Acc::new(call.distinct);
                        for j in lo..hi {
                            if let Some(filter) = &call.filter
                                && !filter.holds(row(j), ctx)?
                            {
                                continue;
                            }
                            let args = call
                                .args
                                .iter()
                                .map(|e| e.eval(row(j), ctx))
                                .collect::<Result<Vec<_>>>()?;
                            acc.add(f, &args, Vec::new())?;
                        }
                        acc.finish(f, &[])?
                    }
                    other => {
                        return Err(AuroraError::undefined_function(format!(
                            "function {other} does not exist"
                        )));
                    }
                };
                out.push(v);
            }
        }
    }
    Ok(out)
}

fn frame_bounds(
    call: &WinCall,
    k: usize,
    m: usize,
    peer_start: &[usize],
    peer_end: &[usize],
) -> (usize, usize) {
    let f = &call.frame;
    let lo = match f.start {
        FrameBound::UnboundedPreceding => 0,
        FrameBound::Preceding(n) => k.saturating_sub(n as usize),
        FrameBound::CurrentRow => {
            if f.rows {
                k
            } else {
                peer_start[k]
            }
        }
        FrameBound::Following(n) => (k + n as usize).min(m),
        FrameBound::UnboundedFollowing => m,
    };
    let hi = match f.end {
        FrameBound::UnboundedPreceding => 0,
        FrameBound::Preceding(n) => (k + 1).saturating_sub(n as usize),
        FrameBound::CurrentRow => {
            if f.rows {
                k + 1
            } else {
                peer_end[k]
            }
        }
        FrameBound::Following(n) => (k + 1 + n as usize).min(m),
        FrameBound::UnboundedFollowing => m,
    };
    (lo, hi.max(lo))
}
