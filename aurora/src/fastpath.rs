//! The primary-key point lookup, run without the general executor.
//!
//! `SELECT cols FROM t WHERE pk = $1` is the most frequent statement of OLTP workloads. Its plan
//! is an index scan on a unique index with every key column fixed by a parameter or a constant,
//! a filter that only repeats those equalities, and a projection of plain columns. For that
//! shape [`PointSelect`] probes the index with one encoded key, checks visibility on the row's
//! version chain and copies the projected values straight into the result: no execution
//! context, no intermediate row vectors.
//!
//! Guarantee: a [`PointSelect`] returns exactly the rows the general executor returns for the
//! same plan (same snapshot rules, same re-check of the key on the fetched version, same cast
//! of parameters), so it is only an optimisation.

use std::sync::Arc;

use crate::cast::{self, CastMode};
use crate::engine::{ColumnInfo, DbState, QueryResult};
use crate::error::{AuroraError, Result};
use crate::expr::Expr;
use crate::ops::{self, BinOp};
use crate::plan::Plan;
use crate::storage::{IndexId, TableId};
use crate::txn::Snapshot;
use crate::value::Value;

/// A point lookup through a unique index.
#[derive(Debug, Clone)]
pub struct PointSelect {
    table: TableId,
    index: IndexId,
    /// The key, one expression per index column (parameters, constants, casts of them).
    key: Vec<Expr>,
    /// `column = expression` checks the plan's filter makes on the fetched version.
    checks: Vec<(usize, Expr)>,
    /// Projected columns (`None`: every column).
    project: Option<Vec<usize>>,
}

/// Whether `e` is computed from parameters and constants alone, in a way [`eval`] handles.
fn is_const(e: &Expr) -> bool {
    match e {
        Expr::Literal(_) | Expr::Param(_) => true,
        Expr::Cast(inner, _) => is_const(inner),
        _ => false,
    }
}

/// Evaluates an expression accepted by [`is_const`], as `Expr::eval` would.
fn eval(e: &Expr, params: &[Value]) -> Result<Value> {
    match e {
        Expr::Literal(v) => Ok(v.clone()),
        Expr::Param(i) => params
            .get(*i)
            .cloned()
            .ok_or_else(|| AuroraError::sql("08P01", format!("there is no parameter ${}", i + 1))),
        Expr::Cast(inner, ty) => cast::cast(&eval(inner, params)?, ty, CastMode::Explicit),
        _ => Err(AuroraError::sql("XX000", "not a constant expression")),
    }
}

/// Splits a conjunction into `column = constant` checks; `None` if anything else is in it.
fn equality_checks(e: &Expr, out: &mut Vec<(usize, Expr)>) -> Option<()> {
    match e {
        Expr::Binary {
            op: BinOp::And,
            left,
            right,
        } => {
            equality_checks(left, out)?;
            equality_checks(right, out)
        }
        Expr::Binary {
            op: BinOp::Eq,
            left,
            right,
        } => match (left.as_ref(), right.as_ref()) {
            (Expr::Column(c), k) | (k, Expr::Column(c)) if is_const(k) => {
                out.push((*c, k.clone()));
                Some(())
            }
            _ => None,
        },
        _ => None,
    }
}

impl PointSelect {
    /// The fast form of `plan`, when it has the point-lookup shape.
    pub fn detect(plan: &Plan) -> Option<PointSelect> {
        let (scan, project) = match plan {
            Plan::Project { input, exprs } => {
                let cols = exprs
                    .iter()
                    .map(|e| match e {
                        Expr::Column(c) => Some(*c),
                        _ => None,
                    })
                    .collect::<Option<Vec<usize>>>()?;
                (input.as_ref(), Some(cols))
            }
            other => (other, None),
        };
        let Plan::IndexScan {
            table,
            index,
            lookup,
            filter,
            row_id: false,
            ..
        } = scan
        else {
            return None;
        };
        if lookup.lower.is_some() || lookup.upper.is_some() || lookup.eq.is_empty() {
            return None;
        }
        if !lookup.eq.iter().all(is_const) {
            return None;
        }
        let mut checks = Vec::new();
        if let Some(f) = filter {
            equality_checks(f, &mut checks)?;
        }
        Some(PointSelect {
            table: *table,
            index: *index,
            key: lookup.eq.clone(),
            checks,
            project,
        })
    }

    /// Runs the lookup under `snapshot`; the caller checked that the catalog is the one the
    /// plan was made under.
    pub fn run(
        &self,
        st: &DbState,
        snapshot: Snapshot,
        params: &[Value],
        columns: &Arc<[ColumnInfo]>,
    ) -> Result<QueryResult> {
        // A one-column key (the usual primary key) is probed without building a key vector.
        let (single, multi);
        let key: &[Value] = if let [only] = self.key.as_slice() {
            single = eval(only, params)?;
            std::slice::from_ref(&single)
        } else {
            multi = self
                .key
                .iter()
                .map(|e| eval(e, params))
                .collect::<Result<Vec<_>>>()?;
            &multi
        };
        if key.iter().any(Value::is_null) {
            return Ok(QueryResult::with_columns(
                "SELECT 0".into(),
                columns.clone(),
                Vec::new(),
                0,
            ));
        }
        let storage = st.storage.as_ref();
        let mut rows = Vec::new();
        let mut failure = None;
        storage.index_eq(self.index, key, &mut |rid| {
            if failure.is_some() {
                return;
            }
            let Some(chain) = storage.chain(self.table, rid) else {
                return;
            };
            let Some(v) = snapshot.visible(storage, chain) else {
                return;
            };
            // The checks are evaluated here, per fetched version (almost always one), so a
            // lookup allocates nothing for them.
            for (c, e) in &self.checks {
                let have = v.values.get(*c).unwrap_or(&Value::Null);
                let ok = eval(e, params).and_then(|want| ops::binary(BinOp::Eq, have, &want));
                match ok {
                    Ok(Value::Bool(true)) => {}
                    Ok(_) => return,
                    Err(e) => {
                        failure = Some(e);
                        return;
                    }
                }
            }
            rows.push(match &self.project {
                Some(cols) => {
                    let mut row = Vec::with_capacity(cols.len());
                    row.extend(
                        cols.iter()
                            .map(|c| v.values.get(*c).cloned().unwrap_or(Value::Null)),
                    );
                    row
                }
                None => v.values.to_vec(),
            });
        });
        if let Some(e) = failure {
            return Err(e);
        }
        let n = rows.len() as u64;
        let tag = if n == 1 {
            "SELECT 1".to_string()
        } else {
            format!("SELECT {n}")
        };
        Ok(QueryResult::with_columns(tag, columns.clone(), rows, n))
    }
}
