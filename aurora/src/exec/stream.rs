//! Streaming execution: the operators that can hand each row on as a borrowed slice, without
//! materializing their output — scans, filters, projections and the index and hash joins.
//! An aggregate over a join uses this, so a join match costs no allocation: the joined row is
//! built in one reused buffer and consumed before the next is built.
//!
//! Guarantee: [`visit`] calls `emit` with exactly the rows, in exactly the order, that
//! [`execute`] returns for the same plan; operators it does not stream are run by [`execute`]
//! and their rows handed on one by one.

use super::join::HashTable;
use super::{ExecCtx, execute};
use crate::error::Result;
use crate::plan::{IndexLookup, JoinKind, Plan};
use crate::value::Value;

/// Calls `emit` with each row `plan` produces.
pub fn visit(
    plan: &Plan,
    ctx: &ExecCtx<'_>,
    emit: &mut dyn FnMut(&[Value]) -> Result<()>,
) -> Result<()> {
    match plan {
        Plan::SeqScan {
            table,
            filter,
            row_id: false,
            ..
        } => ctx.scan_visit(*table, filter.as_ref(), &mut |_, v| emit(v)),
        Plan::IndexScan {
            table,
            index,
            lookup,
            filter,
            row_id: false,
            ..
        } => ctx.index_visit(*table, *index, lookup, &[], filter.as_ref(), &mut |_, v| {
            emit(v)
        }),
        Plan::Filter { input, predicate } => visit(input, ctx, &mut |r| {
            if predicate.holds(r, ctx)? {
                emit(r)?;
            }
            Ok(())
        }),
        Plan::Project { input, exprs } => {
            let mut buf = Vec::with_capacity(exprs.len());
            visit(input, ctx, &mut |r| {
                buf.clear();
                for e in exprs {
                    buf.push(e.eval(r, ctx)?);
                }
                emit(&buf)
            })
        }
        Plan::IndexJoin {
            left,
            table,
            index,
            keys,
            kind,
            filter,
            right_width,
            ..
        } if matches!(kind, JoinKind::Inner | JoinKind::Left) => {
            let lookup = IndexLookup {
                eq: keys.clone(),
                lower: None,
                upper: None,
            };
            let mut buf: Vec<Value> = Vec::new();
            visit(left, ctx, &mut |lr| {
                let mut matched = false;
                ctx.index_visit(
                    *table,
                    *index,
                    &lookup,
                    lr,
                    filter.as_ref(),
                    &mut |_, rr| {
                        matched = true;
                        buf.clear();
                        buf.extend_from_slice(lr);
                        buf.extend_from_slice(rr);
                        emit(&buf)
                    },
                )?;
                if !matched && *kind == JoinKind::Left {
                    buf.clear();
                    buf.extend_from_slice(lr);
                    buf.extend(std::iter::repeat_n(Value::Null, *right_width));
                    emit(&buf)?;
                }
                Ok(())
            })
        }
        Plan::HashJoin {
            left,
            right,
            kind,
            left_keys,
            right_keys,
            residual,
            left_width,
            right_width,
        } => {
            let r = execute(right, ctx)?;
            let table = HashTable::build(&r, right_keys, ctx)?;
            let mut right_matched = vec![false; r.len()];
            let mut buf: Vec<Value> = Vec::with_capacity(left_width + right_width);
            let mut key = Vec::with_capacity(left_keys.len());
            visit(left, ctx, &mut |lr| {
                let mut matched = false;
                let mut j = table.first(lr, left_keys, &mut key, ctx)?;
                while let Some(jj) = j {
                    buf.clear();
                    buf.extend_from_slice(lr);
                    buf.extend_from_slice(&r[jj]);
                    j = table.next(jj);
                    if let Some(f) = residual
                        && !f.holds(&buf, ctx)?
                    {
                        continue;
                    }
                    matched = true;
                    right_matched[jj] = true;
                    emit(&buf)?;
                }
                if !matched && matches!(kind, JoinKind::Left | JoinKind::Full) {
                    buf.clear();
                    buf.extend_from_slice(lr);
                    buf.extend(std::iter::repeat_n(Value::Null, *right_width));
                    emit(&buf)?;
                }
                Ok(())
            })?;
            if matches!(kind, JoinKind::Right | JoinKind::Full) {
                for (j, rr) in r.iter().enumerate() {
                    if !right_matched[j] {
                        buf.clear();
                        buf.extend(std::iter::repeat_n(Value::Null, *left_width));
                        buf.extend_from_slice(rr);
                        emit(&buf)?;
                    }
                }
            }
            Ok(())
        }
        other => {
            for r in execute(other, ctx)? {
                emit(&r)?;
            }
            Ok(())
        }
    }
}
