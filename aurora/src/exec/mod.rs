//! The executor: runs a [`Plan`] against a snapshot of storage, one materialized batch per node
//! (a vectorised volcano: each operator consumes its input's rows as one vector).
//!
//! Guarantees: reads see exactly the snapshot's versions; index scans re-check the full
//! predicate on the version they return (index entries may point at older or newer versions);
//! serializable transactions record what they read (table scans and index key ranges) for the
//! SSI check; recursion in `WITH RECURSIVE` stops at a documented bound with 54001 instead of
//! running forever.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::rc::Rc;
use std::sync::Arc;

use crate::catalog::{Catalog, Sequence};
use crate::error::{AuroraError, Result};
use crate::expr::{Expr, ValueSet};
use crate::plan::{IndexLookup, JoinKind, Plan};
use crate::storage::{IndexId, RowId, Storage, TableId};
use crate::txn::{ReadItem, Snapshot};
use crate::value::Value;

mod combine;
mod join;
mod sequences;
mod stream;

pub use combine::{compare_keys, sort_rows};
use combine::{recursive_cte, set_op};
use join::{hash_join, nested_loop};
pub use stream::visit;

/// A row of values.
pub type Row = Vec<Value>;

/// Most rows a recursive CTE may produce before it is stopped.
pub const MAX_RECURSIVE_ROWS: usize = 10_000_000;

/// Everything a running statement reads from.
pub struct ExecCtx<'a> {
    /// Storage.
    pub storage: &'a dyn Storage,
    /// Catalog.
    pub catalog: &'a Catalog,
    /// Sequence counters (they change on reads, outside transactions).
    pub sequences: &'a RefCell<BTreeMap<u32, Sequence>>,
    /// What the statement sees.
    pub snapshot: Snapshot,
    /// `$n` values.
    pub params: &'a [Value],
    /// Transaction start time, microseconds since the epoch (`now()`).
    pub now: i64,
    /// Statement time (`clock_timestamp()` and friends use the same clock reading).
    pub outer: RefCell<Vec<Row>>,
    /// Materialized CTEs.
    pub ctes: RefCell<HashMap<usize, Rc<Vec<Row>>>>,
    cache: RefCell<HashMap<usize, Rc<Vec<Row>>>>,
    set_cache: RefCell<HashMap<usize, ValueSet>>,
    /// Reads to report to the SSI tracker (only when `track_reads`).
    pub reads: RefCell<Vec<ReadItem>>,
    /// Whether the transaction is serializable.
    pub track_reads: bool,
    /// State of `random()` (xorshift, seeded by the session from the engine's `IdGen`).
    pub rng: std::cell::Cell<u64>,
    /// `SKIP LOCKED`: scans leave out rows of these tables held by other transactions.
    pub skip_locked: Option<SkipLocked<'a>>,
    /// A reusable row buffer (index probes build outer row ++ version in it).
    scratch: RefCell<Vec<Value>>,
}

/// What `SELECT … FOR UPDATE SKIP LOCKED` skips.
#[derive(Debug)]
pub struct SkipLocked<'a> {
    /// The row-lock table.
    pub locks: &'a crate::locks::RowLocks,
    /// The locking top-level transaction.
    pub me: crate::storage::Xid,
    /// The lock it wants.
    pub strength: crate::locks::LockStrength,
    /// The locked tables.
    pub tables: Vec<TableId>,
}

impl<'a> ExecCtx<'a> {
    /// A context for one statement.
    pub fn new(
        storage: &'a dyn Storage,
        catalog: &'a Catalog,
        sequences: &'a RefCell<BTreeMap<u32, Sequence>>,
        snapshot: Snapshot,
        params: &'a [Value],
        now: i64,
    ) -> Self {
        ExecCtx {
            storage,
            catalog,
            sequences,
            snapshot,
            params,
            now,
            outer: RefCell::new(Vec::new()),
            ctes: RefCell::new(HashMap::new()),
            cache: RefCell::new(HashMap::new()),
            set_cache: RefCell::new(HashMap::new()),
            reads: RefCell::new(Vec::new()),
            track_reads: false,
            rng: std::cell::Cell::new(0x9E37_79B9_7F4A_7C15 ^ now as u64),
            skip_locked: None,
            scratch: RefCell::new(Vec::new()),
        }
    }

    /// A pseudo-random number in [0, 1).
    pub fn random(&self) -> f64 {
        let mut x = self.rng.get() | 1;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A value of an enclosing row.
    pub fn outer_value(&self, depth: usize, index: usize) -> Value {
        let outer = self.outer.borrow();
        outer
            .len()
            .checked_sub(depth)
            .and_then(|i| outer.get(i))
            .and_then(|r| r.get(index))
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// Runs a subquery with `row` as its enclosing row (cached when uncorrelated).
    pub fn subquery(
        &self,
        plan: &Arc<Plan>,
        row: &[Value],
        correlated: bool,
    ) -> Result<Rc<Vec<Row>>> {
        let key = Arc::as_ptr(plan) as usize;
        if !correlated && let Some(r) = self.cache.borrow().get(&key) {
            return Ok(r.clone());
        }
        self.outer.borrow_mut().push(row.to_vec());
        let result = execute(plan, self);
        self.outer.borrow_mut().pop();
        let rows = Rc::new(result?);
        if !correlated {
            self.cache.borrow_mut().insert(key, rows.clone());
        }
        Ok(rows)
    }

    /// The first-column values of a subquery as a set, for `IN`.
    pub fn subquery_set(
        &self,
        plan: &Arc<Plan>,
        row: &[Value],
        correlated: bool,
    ) -> Result<ValueSet> {
        let key = Arc::as_ptr(plan) as usize;
        if !correlated && let Some(s) = self.set_cache.borrow().get(&key) {
            return Ok(s.clone());
        }
        let rows = self.subquery(plan, row, correlated)?;
        let mut has_null = false;
        let mut set = HashSet::with_capacity(rows.len());
        for r in rows.iter() {
            match r.first() {
                Some(Value::Null) | None => has_null = true,
                Some(v) => {
                    set.insert(v.clone());
                }
            }
        }
        let out = (Arc::new(set), has_null);
        if !correlated {
            self.set_cache.borrow_mut().insert(key, out.clone());
        }
        Ok(out)
    }

    /// Whether SKIP LOCKED leaves this row out.
    fn skipped(&self, table: TableId, rid: RowId) -> bool {
        self.skip_locked.as_ref().is_some_and(|s| {
            s.tables.contains(&table)
                && crate::for_update::holder(self.storage, s.locks, table, rid, s.me, s.strength)
                    .is_some()
        })
    }

    fn record(&self, item: ReadItem) {
        if self.track_reads {
            self.reads.borrow_mut().push(item);
        }
    }

    /// Visible rows of a table (with row ids), filtered.
    pub fn scan_table(&self, table: TableId, filter: Option<&Expr>) -> Result<Vec<(RowId, Row)>> {
        let mut out = Vec::new();
        self.scan_visit(table, filter, &mut |rid, vals| {
            out.push((rid, vals.to_vec()));
            Ok(())
        })?;
        Ok(out)
    }

    /// Calls `emit` with every visible row of a table that passes `filter`, without copying it.
    pub fn scan_visit(
        &self,
        table: TableId,
        filter: Option<&Expr>,
        emit: &mut dyn FnMut(RowId, &[Value]) -> Result<()>,
    ) -> Result<()> {
        self.record(ReadItem::Table(table));
        for rid in self.storage.rows(table) {
            let Some(chain) = self.storage.chain(table, rid) else {
                continue;
            };
            let Some(v) = self.snapshot.visible(self.storage, chain) else {
                continue;
            };
            if let Some(f) = filter
                && !f.holds(&v.values, self)?
            {
                continue;
            }
            if self.skipped(table, rid) {
                continue;
            }
            emit(rid, &v.values)?;
        }
        Ok(())
    }

    /// Calls `emit` with the visible version of each row in `rids` that passes `filter`
    /// (evaluated over `outer ++ version`).
    fn emit_versions(
        &self,
        table: TableId,
        rids: &[RowId],
        outer: &[Value],
        filter: Option<&Expr>,
        emit: &mut dyn FnMut(RowId, &[Value]) -> Result<()>,
    ) -> Result<()> {
        if rids.is_empty() {
            return Ok(());
        }
        // The outer row ++ version buffer for the filter, reused across calls.
        let mut combined = self.scratch.take();
        let r = self.emit_versions_with(table, rids, outer, filter, emit, &mut combined);
        combined.clear();
        self.scratch.replace(combined);
        r
    }

    fn emit_versions_with(
        &self,
        table: TableId,
        rids: &[RowId],
        outer: &[Value],
        filter: Option<&Expr>,
        emit: &mut dyn FnMut(RowId, &[Value]) -> Result<()>,
        combined: &mut Vec<Value>,
    ) -> Result<()> {
        for &rid in rids {
            let Some(chain) = self.storage.chain(table, rid) else {
                continue;
            };
            let Some(v) = self.snapshot.visible(self.storage, chain) else {
                continue;
            };
            if let Some(f) = filter {
                let input: &[Value] = if outer.is_empty() {
                    &v.values
                } else {
                    combined.clear();
                    combined.extend_from_slice(outer);
                    combined.extend_from_slice(&v.values);
                    combined.as_slice()
                };
                if !f.holds(input, self)? {
                    continue;
                }
            }
            if self.skipped(table, rid) {
                continue;
            }
            emit(rid, &v.values)?;
        }
        Ok(())
    }

    /// Visible rows found through an index.
    pub fn index_lookup(
        &self,
        table: TableId,
        index: IndexId,
        lookup: &IndexLookup,
        row: &[Value],
        filter: Option<&Expr>,
    ) -> Result<Vec<(RowId, Row)>> {
        let mut out = Vec::new();
        self.index_visit(table, index, lookup, row, filter, &mut |rid, vals| {
            out.push((rid, vals.to_vec()));
            Ok(())
        })?;
        Ok(out)
    }

    /// Calls `emit` with every visible row found through an index, without copying it.
    pub fn index_visit(
        &self,
        table: TableId,
        index: IndexId,
        lookup: &IndexLookup,
        row: &[Value],
        filter: Option<&Expr>,
        emit: &mut dyn FnMut(RowId, &[Value]) -> Result<()>,
    ) -> Result<()> {
        let width = self
            .catalog
            .indexes
            .get(&index)
            .map(|i| i.columns.len())
            .unwrap_or(1);
        if let [only] = lookup.eq.as_slice()
            && width == 1
            && lookup.lower.is_none()
            && lookup.upper.is_none()
            && !self.track_reads
        {
            // The most frequent probe (a one-column key, e.g. each row of an index join):
            // no key vector, and the first row id kept outside any vector.
            let v = only.eval(row, self)?;
            if v.is_null() {
                return Ok(());
            }
            let (mut first, mut more) = (None, Vec::new());
            self.storage
                .index_eq(index, std::slice::from_ref(&v), &mut |r| {
                    if first.is_none() {
                        first = Some(r);
                    } else {
                        more.push(r);
                    }
                });
            if let Some(r) = first {
                self.emit_versions(table, &[r], row, filter, emit)?;
                self.emit_versions(table, &more, row, filter, emit)?;
            }
            return Ok(());
        }
        let mut prefix = Vec::with_capacity(width);
        for e in &lookup.eq {
            let v = e.eval(row, self)?;
            if v.is_null() {
                return Ok(());
            }
            prefix.push(v);
        }
        if prefix.len() == width && lookup.lower.is_none() && lookup.upper.is_none() {
            // Every key column fixed: a point lookup, no range bounds to build.
            let mut rids = Vec::new();
            self.storage.index_eq(index, &prefix, &mut |r| rids.push(r));
            self.emit_versions(table, &rids, row, filter, emit)?;
            if self.track_reads {
                self.record(ReadItem::Range {
                    table,
                    index,
                    lower: Bound::Included(prefix.clone()),
                    upper: Bound::Included(prefix),
                });
            }
            return Ok(());
        }
        let pad = |mut k: Vec<Value>| {
            while k.len() < width {
                k.push(Value::Null);
            }
            k
        };
        let lower = match &lookup.lower {
            Some((e, inclusive)) => {
                let v = e.eval(row, self)?;
                if v.is_null() {
                    return Ok(());
                }
                let mut k = prefix.clone();
                k.push(v);
                if *inclusive {
                    Bound::Included(k)
                } else {
                    Bound::Excluded(pad(k))
                }
            }
            None if prefix.is_empty() => Bound::Unbounded,
            None => Bound::Included(prefix.clone()),
        };
        let upper = match &lookup.upper {
            Some((e, inclusive)) => {
                let v = e.eval(row, self)?;
                if v.is_null() {
                    return Ok(());
                }
                let mut k = prefix.clone();
                k.push(v);
                if *inclusive {
                    Bound::Included(pad(k))
                } else {
                    Bound::Excluded(k)
                }
            }
            None if prefix.is_empty() => Bound::Unbounded,
            None => Bound::Included(pad(prefix.clone())),
        };
        fn as_ref(b: &Bound<Vec<Value>>) -> Bound<&[Value]> {
            match b {
                Bound::Included(k) => Bound::Included(k.as_slice()),
                Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
                Bound::Unbounded => Bound::Unbounded,
            }
        }
        let rids = self
            .storage
            .index_range(index, as_ref(&lower), as_ref(&upper));
        self.emit_versions(table, &rids, row, filter, emit)?;
        if self.track_reads {
            self.record(ReadItem::Range {
                table,
                index,
                lower,
                upper,
            });
        }
        Ok(())
    }
}

/// Runs a plan to completion.
pub fn execute(plan: &Plan, ctx: &ExecCtx<'_>) -> Result<Vec<Row>> {
    match plan {
        Plan::Values { rows } => rows
            .iter()
            .map(|r| r.iter().map(|e| e.eval(&[], ctx)).collect())
            .collect(),
        Plan::Rows { rows, .. } => Ok(rows.as_ref().clone()),
        Plan::SeqScan {
            table,
            filter,
            row_id,
            ..
        } => Ok(with_row_ids(
            ctx.scan_table(*table, filter.as_ref())?,
            *row_id,
        )),
        Plan::IndexScan {
            table,
            index,
            lookup,
            filter,
            row_id,
            ..
        } => Ok(with_row_ids(
            ctx.index_lookup(*table, *index, lookup, &[], filter.as_ref())?,
            *row_id,
        )),
        Plan::Filter { input, predicate } => {
            let rows = execute(input, ctx)?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                if predicate.holds(&r, ctx)? {
                    out.push(r);
                }
            }
            Ok(out)
        }
        Plan::Project { input, exprs } => {
            // Project straight off a scan's stored versions: no intermediate copy of each row.
            let mut out = Vec::new();
            let mut project = |_: RowId, vals: &[Value]| -> Result<()> {
                out.push(
                    exprs
                        .iter()
                        .map(|e| e.eval(vals, ctx))
                        .collect::<Result<Vec<_>>>()?,
                );
                Ok(())
            };
            match input.as_ref() {
                Plan::SeqScan {
                    table,
                    filter,
                    row_id: false,
                    ..
                } => {
                    ctx.scan_visit(*table, filter.as_ref(), &mut project)?;
                    return Ok(out);
                }
                Plan::IndexScan {
                    table,
                    index,
                    lookup,
                    filter,
                    row_id: false,
                    ..
                } => {
                    ctx.index_visit(*table, *index, lookup, &[], filter.as_ref(), &mut project)?;
                    return Ok(out);
                }
                _ => {}
            }
            let rows = execute(input, ctx)?;
            rows.iter()
                .map(|r| exprs.iter().map(|e| e.eval(r, ctx)).collect())
                .collect()
        }
        Plan::Lateral {
            left,
            right,
            kind,
            on,
            right_width,
        } => {
            let l = execute(left, ctx)?;
            let mut out = Vec::new();
            for lr in l {
                let rows = ctx.subquery(right, &lr, true)?;
                let mut matched = false;
                for rr in rows.iter() {
                    let mut row = Vec::with_capacity(lr.len() + rr.len());
                    row.extend_from_slice(&lr);
                    row.extend_from_slice(rr);
                    if let Some(f) = on
                        && !f.holds(&row, ctx)?
                    {
                        continue;
                    }
                    matched = true;
                    out.push(row);
                }
                if !matched && *kind == JoinKind::Left {
                    let mut row = lr;
                    row.extend(std::iter::repeat_n(Value::Null, *right_width));
                    out.push(row);
                }
            }
            Ok(out)
        }
        Plan::NestedLoop {
            left,
            right,
            kind,
            on,
            left_width,
            right_width,
        } => {
            let (l, r) = (execute(left, ctx)?, execute(right, ctx)?);
            nested_loop(&l, &r, *kind, on.as_ref(), *left_width, *right_width, ctx)
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
            let (l, r) = (execute(left, ctx)?, execute(right, ctx)?);
            hash_join(
                &l,
                &r,
                *kind,
                left_keys,
                right_keys,
                residual.as_ref(),
                (*left_width, *right_width),
                ctx,
            )
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
        } => {
            let l = execute(left, ctx)?;
            let lookup = IndexLookup {
                eq: keys.clone(),
                lower: None,
                upper: None,
            };
            let mut out = Vec::new();
            for lr in l {
                let before = out.len();
                ctx.index_visit(
                    *table,
                    *index,
                    &lookup,
                    &lr,
                    filter.as_ref(),
                    &mut |_, rr| {
                        let mut row = Vec::with_capacity(lr.len() + rr.len());
                        row.extend_from_slice(&lr);
                        row.extend_from_slice(rr);
                        out.push(row);
                        Ok(())
                    },
                )?;
                if out.len() == before && *kind == JoinKind::Left {
                    let mut row = lr;
                    row.extend(std::iter::repeat_n(Value::Null, *right_width));
                    out.push(row);
                }
            }
            Ok(out)
        }
        Plan::Aggregate {
            input,
            groups,
            aggs,
            sets,
        } => crate::agg::aggregate(input, groups, aggs, sets, ctx),
        Plan::Window { input, calls } => {
            let rows = execute(input, ctx)?;
            crate::window::window(rows, calls, ctx)
        }
        Plan::Sort { input, keys } => {
            let rows = execute(input, ctx)?;
            sort_rows(rows, keys, ctx)
        }
        Plan::Limit {
            input,
            limit,
            offset,
        } => {
            let rows = execute(input, ctx)?;
            let count = |e: &Option<Expr>, what: &str| -> Result<Option<usize>> {
                match e {
                    None => Ok(None),
                    Some(e) => match e.eval(&[], ctx)? {
                        Value::Null => Ok(None),
                        v => {
                            let n = crate::cast::cast(
                                &v,
                                &crate::types::DataType::Int8,
                                crate::cast::CastMode::Explicit,
                            )?
                            .as_i64()
                            .unwrap_or(0);
                            if n < 0 {
                                return Err(AuroraError::sql(
                                    "2201W",
                                    format!("{what} must not be negative"),
                                ));
                            }
                            Ok(Some(n as usize))
                        }
                    },
                }
            };
            let off = count(offset, "OFFSET")?.unwrap_or(0);
            let lim = count(limit, "LIMIT")?;
            Ok(rows
                .into_iter()
                .skip(off)
                .take(lim.unwrap_or(usize::MAX))
                .collect())
        }
        Plan::Distinct { input, on } => {
            let rows = execute(input, ctx)?;
            let mut seen = HashSet::with_capacity(rows.len());
            let mut out = Vec::new();
            for r in rows {
                let key = match on {
                    Some(keys) => keys
                        .iter()
                        .map(|k| k.eval(&r, ctx))
                        .collect::<Result<Vec<_>>>()?,
                    None => r.clone(),
                };
                if seen.insert(key) {
                    out.push(r);
                }
            }
            Ok(out)
        }
        Plan::SetOp {
            op,
            all,
            left,
            right,
        } => {
            let (l, r) = (execute(left, ctx)?, execute(right, ctx)?);
            Ok(set_op(*op, *all, l, r))
        }
        Plan::CteScan { id, name } => {
            let ctes = ctx.ctes.borrow();
            let rows = ctes
                .get(id)
                .ok_or_else(|| AuroraError::UndefinedTable { name: name.clone() })?;
            Ok(rows.as_ref().clone())
        }
        Plan::With { ctes, body } => {
            for (id, _, plan, recursive) in ctes {
                let base = execute(plan, ctx)?;
                let rows = match recursive {
                    None => base,
                    Some((rec, union_all)) => recursive_cte(*id, base, rec, *union_all, ctx)?,
                };
                ctx.ctes.borrow_mut().insert(*id, Rc::new(rows));
            }
            execute(body, ctx)
        }
        Plan::Series { start, stop, step } => {
            let (a, b) = (start.eval(&[], ctx)?, stop.eval(&[], ctx)?);
            let s = match step {
                Some(e) => e.eval(&[], ctx)?,
                None => Value::Int4(1),
            };
            if a.is_null() || b.is_null() || s.is_null() {
                return Ok(Vec::new());
            }
            let (x, y, st) = (
                a.as_i64().unwrap_or(0),
                b.as_i64().unwrap_or(0),
                s.as_i64().unwrap_or(1),
            );
            if st == 0 {
                return Err(AuroraError::sql("22023", "step size cannot equal zero"));
            }
            let wide = matches!(a, Value::Int8(_)) || matches!(b, Value::Int8(_));
            let mut out = Vec::new();
            let mut v = x;
            while (st > 0 && v <= y) || (st < 0 && v >= y) {
                if out.len() >= MAX_RECURSIVE_ROWS {
                    return Err(AuroraError::sql(
                        "54000",
                        "generate_series result is too large",
                    ));
                }
                out.push(vec![if wide {
                    Value::Int8(v)
                } else {
                    Value::Int4(v as i32)
                }]);
                match v.checked_add(st) {
                    Some(n) => v = n,
                    None => break,
                }
            }
            Ok(out)
        }
        Plan::Unnest { array } => match array.eval(&[], ctx)? {
            Value::Array(items) => Ok(items.iter().map(|v| vec![v.clone()]).collect()),
            Value::Null => Ok(Vec::new()),
            other => Err(AuroraError::datatype_mismatch(format!(
                "function unnest({}) does not exist",
                other.data_type()
            ))),
        },
    }
}

fn with_row_ids(rows: Vec<(RowId, Row)>, row_id: bool) -> Vec<Row> {
    rows.into_iter()
        .map(|(rid, mut r)| {
            if row_id {
                r.push(Value::Int8(rid as i64));
            }
            r
        })
        .collect()
}
