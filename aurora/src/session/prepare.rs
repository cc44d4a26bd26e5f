//! Prepared statements: parse once, keep a SELECT's plan (and its primary-key fast form) or a
//! DML statement's binding while the catalog version is unchanged, and run an autocommit read
//! under a snapshot alone, without a transaction id.

use std::sync::Arc;

use sqlparser::ast::Statement;

use super::{Prepared, Session, parse};
use crate::bind::Binder;
use crate::dml;
use crate::engine::{ColumnInfo, DbState, QueryResult};
use crate::error::{AuroraError, Result};
use crate::exec::{ExecCtx, execute};
use crate::fastpath::PointSelect;
use crate::plan::Plan;
use crate::txn::Snapshot;
use crate::value::Value;

impl Session {
    /// Parses (and for a SELECT, plans) one statement for repeated execution.
    pub fn prepare(&mut self, sql: &str) -> Result<Arc<Prepared>> {
        if let Some(p) = self.plan_cache.get(sql) {
            // A plan made before a catalog change is stale; make a new one.
            if (p.plan.is_none() && p.dml.is_none())
                || p.catalog_version == self.db.state.lock().catalog.version
            {
                return Ok(p.clone());
            }
        }
        let mut stmts = parse(sql)?;
        if stmts.len() != 1 {
            return Err(AuroraError::sql(
                "42601",
                "cannot insert multiple commands into a prepared statement",
            ));
        }
        let stmt = stmts.remove(0);
        let state = self.db.state.lock();
        let (plan, param_count) = match &stmt {
            Statement::Query(q) => {
                let mut b = Binder::new(&state.catalog);
                let (plan, cols) = b.query(q)?;
                let cols: Arc<[ColumnInfo]> = cols
                    .into_iter()
                    .map(|(name, ty)| ColumnInfo { name, ty })
                    .collect();
                // A locking query takes its row locks when it runs, bound again then.
                let plan = q.locks.is_empty().then(|| Arc::new((plan, cols)));
                (plan, b.param_count)
            }
            _ => (None, 0),
        };
        let point = plan
            .as_ref()
            .and_then(|p| PointSelect::detect(&p.0))
            .map(Arc::new);
        // A DML statement that does not bind yet (its table may be created later) is bound
        // again, and its error reported, when it runs.
        let dml = dml::bind(&state, &stmt).and_then(|r| r.ok()).map(Arc::new);
        let p = Arc::new(Prepared {
            stmt,
            plan,
            point,
            dml,
            catalog_version: state.catalog.version,
            param_count,
        });
        drop(state);
        if self.plan_cache.len() > 1024 {
            self.plan_cache.clear();
        }
        self.plan_cache.insert(sql.to_string(), p.clone());
        Ok(p)
    }

    /// Runs a prepared statement.
    pub fn execute_prepared(&mut self, p: &Prepared, params: &[Value]) -> Result<QueryResult> {
        if let Some(plan) = &p.plan
            && self.txn.as_ref().is_none_or(|t| !t.failed)
        {
            let implicit = self.txn.is_none();
            if implicit {
                // Fast path: an autocommit read needs no transaction id, only a snapshot
                // taken under the lock.
                let st = self.db.state.lock();
                if st.catalog.version == p.catalog_version && crate::ddl::txn::owner(&st).is_none()
                {
                    let snap = Snapshot {
                        csn: st.txns.csn(),
                        top: 0,
                        cid: 0,
                    };
                    if let Some(point) = &p.point {
                        return point.run(&st, snap, params, &plan.1);
                    }
                    let now = self.db.now_micros();
                    return run_plan(&st, plan, snap, params, now);
                }
            }
        }
        self.run_bound(&p.stmt, params, Some(p))
    }
}

fn run_plan(
    st: &DbState,
    plan: &(Plan, Arc<[ColumnInfo]>),
    snapshot: Snapshot,
    params: &[Value],
    now: i64,
) -> Result<QueryResult> {
    let ctx = ExecCtx::new(
        st.storage.as_ref(),
        &st.catalog,
        &st.sequences,
        snapshot,
        params,
        now,
    );
    let rows = execute(&plan.0, &ctx)?;
    let n = rows.len() as u64;
    Ok(QueryResult::with_columns(
        format!("SELECT {n}"),
        plan.1.clone(),
        rows,
        n,
    ))
}
