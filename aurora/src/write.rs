//! Row writes with constraint enforcement: NOT NULL, CHECK, UNIQUE/PRIMARY KEY, FOREIGN KEY
//! (with ON DELETE/ON UPDATE actions), write-write conflict detection, and the redo records
//! each change is made of.
//!
//! Guarantees: every check runs before the change's log records are appended, so a failing row
//! writes nothing; uniqueness and foreign keys are judged on the newest committed-or-own
//! version (not the snapshot), so concurrent transactions cannot both insert the same key; a row
//! (or a unique key) held by another running transaction makes the writer wait for it
//! ([`crate::locks`]), then decide again as PostgreSQL does: READ COMMITTED re-evaluates a row
//! changed meanwhile ([`Outcome::Changed`]), REPEATABLE READ and SERIALIZABLE fail with 40001.

use std::ops::Bound;
use std::sync::Arc;

use crate::catalog::{FkAction, ForeignKey, Table};
use crate::engine::DbState;
use crate::error::{AuroraError, Result};
use crate::locks::{LockStrength, Locked, RowLocks};
use crate::storage::{LogRecord, RowId, TableId, Version, Xid, XidStatus};
use crate::txn::{Isolation, Snapshot, WriteItem, is_mine};
use crate::value::Value;

/// Who is writing.
#[derive(Debug, Clone, Copy)]
pub struct Writer {
    /// Top-level transaction.
    pub top: Xid,
    /// The (sub)transaction id new versions carry.
    pub xid: Xid,
    /// Command id.
    pub cid: u32,
    /// Snapshot of the statement.
    pub snapshot: Snapshot,
    /// Isolation level.
    pub isolation: Isolation,
}

/// Whether a row change went ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Written.
    Done,
    /// The row was already changed by this statement; skipped, as PostgreSQL does.
    AlreadyChanged,
    /// READ COMMITTED only: a transaction this statement waited for changed or deleted the
    /// row and committed. Nothing was written; the caller re-evaluates the row's newest
    /// version under a new snapshot (PostgreSQL's EvalPlanQual).
    Changed,
}

/// A NO ACTION foreign key to re-check at the end of the statement.
#[derive(Debug, Clone)]
pub struct PendingFk {
    child: TableId,
    fk: ForeignKey,
    parent: TableId,
    key: Vec<Value>,
}

/// The row is held by running (sub)transaction `xid` of top-level `top`.
fn held(table: &str, xid: Xid, top: Xid) -> AuroraError {
    AuroraError::RowLocked {
        relation: table.to_string(),
        xid,
        top,
    }
}

fn concurrent_update() -> AuroraError {
    AuroraError::SerializationFailure {
        reason: "concurrent update".into(),
    }
}

/// The newest version that is committed or ours and not deleted by a committed or own
/// transaction; `Err` when another running transaction holds the row.
fn live<'a>(
    st: &'a DbState,
    w: &Writer,
    table: &Table,
    chain: &'a [Version],
) -> Result<Option<&'a Version>> {
    let storage = st.storage.as_ref();
    let Some(v) = chain
        .iter()
        .rev()
        .find(|v| storage.status(v.xmin) != XidStatus::Aborted)
    else {
        return Ok(None);
    };
    match storage.status(v.xmin) {
        XidStatus::InProgress { top } if top != w.top => {
            return Err(held(&table.name, v.xmin, top));
        }
        _ => {}
    }
    if v.xmax != 0 {
        match storage.status(v.xmax) {
            XidStatus::Committed(_) => return Ok(None),
            XidStatus::InProgress { top } if top == w.top => return Ok(None),
            XidStatus::InProgress { top } => return Err(held(&table.name, v.xmax, top)),
            XidStatus::Aborted => {}
        }
    }
    Ok(Some(v))
}

fn key_of(values: &[Value], cols: &[usize]) -> Vec<Value> {
    cols.iter()
        .map(|c| values.get(*c).cloned().unwrap_or(Value::Null))
        .collect()
}

fn detail(table: &Table, cols: &[usize], key: &[Value]) -> String {
    let names: Vec<&str> = cols
        .iter()
        .filter_map(|c| table.columns.get(*c).map(|c| c.name.as_str()))
        .collect();
    let vals: Vec<String> = key.iter().map(|v| v.to_string()).collect();
    format!("Key ({})=({})", names.join(", "), vals.join(", "))
}

/// Rows whose live version has `key` in the index's columns.
fn rows_with_key(
    st: &DbState,
    w: &Writer,
    table: &Table,
    index: u32,
    cols: &[usize],
    key: &[Value],
) -> Result<Vec<(RowId, Arc<[Value]>)>> {
    let mut out = Vec::new();
    for rid in st
        .storage
        .index_range(index, Bound::Included(key), Bound::Included(key))
    {
        let Some(chain) = st.storage.chain(table.id, rid) else {
            continue;
        };
        if let Some(v) = live(st, w, table, chain)?
            && key_of(&v.values, cols) == key
        {
            out.push((rid, v.values.clone()));
        }
    }
    Ok(out)
}

/// The first unique index whose key `values` would duplicate, with the conflicting row.
pub fn unique_conflict(
    st: &DbState,
    w: &Writer,
    table: &Table,
    values: &[Value],
    exclude: Option<RowId>,
    only: Option<&[u32]>,
) -> Result<Option<(u32, RowId)>> {
    for ix in st.catalog.table_indexes(table) {
        if !ix.unique || only.is_some_and(|o| !o.contains(&ix.id)) {
            continue;
        }
        let key = key_of(values, &ix.columns);
        if key.iter().any(Value::is_null) {
            continue;
        }
        for (rid, _) in rows_with_key(st, w, table, ix.id, &ix.columns, &key)? {
            if Some(rid) == exclude {
                continue;
            }
            if w.isolation == Isolation::Serializable
                && let Some(v) = st.storage.chain(table.id, rid).and_then(|c| {
                    c.iter()
                        .rev()
                        .find(|v| st.storage.status(v.xmin) != XidStatus::Aborted)
                })
                && matches!(st.storage.status(v.xmin), XidStatus::Committed(c) if c > w.snapshot.csn)
            {
                return Err(AuroraError::SerializationFailure {
                    reason: "read/write dependencies among transactions".into(),
                });
            }
            return Ok(Some((ix.id, rid)));
        }
    }
    Ok(None)
}

fn unique_error(st: &DbState, table: &Table, index: u32, values: &[Value]) -> AuroraError {
    let ix = st.catalog.indexes.get(&index);
    let cols = ix.map(|i| i.columns.clone()).unwrap_or_default();
    AuroraError::UniqueViolation {
        constraint: ix.map(|i| i.name.clone()).unwrap_or_default(),
        detail: format!(
            "{} already exists.",
            detail(table, &cols, &key_of(values, &cols))
        ),
    }
}

fn check_not_null(table: &Table, values: &[Value]) -> Result<()> {
    for (c, v) in table.columns.iter().zip(values) {
        if c.not_null && v.is_null() {
            return Err(AuroraError::NotNullViolation {
                column: c.name.clone(),
                table: table.name.clone(),
            });
        }
    }
    Ok(())
}

fn parent_exists(st: &DbState, w: &Writer, fk: &ForeignKey, key: &[Value]) -> Result<bool> {
    let parent = st.catalog.table(fk.ref_table)?;
    let index = st
        .catalog
        .table_indexes(parent)
        .into_iter()
        .find(|ix| ix.columns == fk.ref_columns)
        .map(|ix| ix.id)
        .ok_or_else(|| {
            AuroraError::sql(
                "42830",
                format!(
                    "there is no unique constraint matching given keys for referenced table \"{}\"",
                    parent.name
                ),
            )
        })?;
    Ok(!rows_with_key(st, w, parent, index, &fk.ref_columns, key)?.is_empty())
}

fn check_fks(
    st: &DbState,
    w: &Writer,
    table: &Table,
    values: &[Value],
    old: Option<&[Value]>,
) -> Result<()> {
    for fk in &table.foreign_keys {
        let key = key_of(values, &fk.columns);
        if key.iter().any(Value::is_null) || old.is_some_and(|o| key_of(o, &fk.columns) == key) {
            continue;
        }
        if !parent_exists(st, w, fk, &key)? {
            let parent = st.catalog.table(fk.ref_table)?;
            let _ = detail(table, &fk.columns, &key);
            return Err(AuroraError::ForeignKeyViolation {
                message: format!("insert or update on table \"{}\" violates foreign key constraint \"{}\" (not present in table \"{}\")", table.name, fk.name, parent.name)
                    .replace(&format!(" (not present in table \"{}\")", parent.name), ""),
            });
        }
    }
    Ok(())
}

/// Index entries for a new version; with `old`, keys equal to the old version's are skipped
/// (their entry already points at this row).
fn index_records(
    st: &DbState,
    table: &Table,
    rid: RowId,
    values: &[Value],
    old: Option<&[Value]>,
) -> Vec<LogRecord> {
    st.catalog
        .table_indexes(table)
        .into_iter()
        .filter(|ix| old.is_none_or(|o| !same_key(o, values, &ix.columns)))
        .map(|ix| LogRecord::IndexInsert {
            index: ix.id,
            key: key_of(values, &ix.columns),
            row: rid,
        })
        .collect()
}

/// Whether two rows agree exactly (same variants and values) on `cols`.
fn same_key(a: &[Value], b: &[Value], cols: &[usize]) -> bool {
    cols.iter().all(|c| match (a.get(*c), b.get(*c)) {
        (Some(x), Some(y)) => std::mem::discriminant(x) == std::mem::discriminant(y) && x == y,
        _ => false,
    })
}

fn record_write(
    st: &mut DbState,
    w: &Writer,
    table: &Table,
    rid: RowId,
    old: Option<&[Value]>,
    new: Option<&[Value]>,
) {
    if !st.txns.is_serializable(w.top) {
        return;
    }
    let mut keys = Vec::new();
    for ix in st.catalog.table_indexes(table) {
        for vals in old.iter().chain(new.iter()) {
            keys.push((ix.id, key_of(vals, &ix.columns)));
        }
    }
    st.txns.record_write(
        w.top,
        WriteItem {
            table: table.id,
            row: rid,
            keys,
        },
    );
}

/// Inserts a new row (values already cast to the column types and checked by CHECK).
pub fn insert_row(
    st: &mut Locked<'_>,
    w: &Writer,
    table: &Table,
    values: Vec<Value>,
) -> Result<RowId> {
    check_not_null(table, &values)?;
    st.retry(w.top, |st| {
        if let Some((ix, _)) = unique_conflict(st, w, table, &values, None, None)? {
            return Err(unique_error(st, table, ix, &values));
        }
        check_fks(st, w, table, &values, None)
    })?;
    let rid = st.storage.next_row(table.id);
    let records = index_records(st, table, rid, &values, None);
    let values: Arc<[Value]> = values.into();
    record_write(st, w, table, rid, None, Some(&values));
    st.storage.append(LogRecord::InsertVersion {
        table: table.id,
        row: rid,
        version: Version {
            xmin: w.xid,
            cmin: w.cid,
            xmax: 0,
            cmax: 0,
            values,
        },
    });
    for r in records {
        st.storage.append(r);
    }
    Ok(rid)
}

/// Checks that the newest version of a row is the one this statement read and nobody else
/// holds it: `Err(RowLocked)` names the holder to wait for.
fn lock_row(
    st: &DbState,
    locks: &RowLocks,
    w: &Writer,
    table: &Table,
    rid: RowId,
) -> Result<Outcome> {
    let chain = st
        .storage
        .chain(table.id, rid)
        .ok_or_else(|| AuroraError::sql("XX000", "row vanished"))?;
    let storage = st.storage.as_ref();
    // Versions created by rolled-back transactions never existed: lock against the newest
    // version that was not (a rolled-back UPDATE leaves its new version on top of the chain).
    let Some(latest) = chain
        .iter()
        .rev()
        .find(|v| storage.status(v.xmin) != XidStatus::Aborted)
    else {
        return Err(AuroraError::sql("XX000", "row vanished"));
    };
    // A newer version than ours exists, or ours is being deleted.
    if let XidStatus::InProgress { top } = storage.status(latest.xmin) {
        if top == w.top && !w.snapshot.sees(storage, latest) {
            return Ok(Outcome::AlreadyChanged);
        }
        if top != w.top {
            return Err(held(&table.name, latest.xmin, top));
        }
    }
    let changed = || match w.isolation {
        Isolation::ReadCommitted => Ok(Outcome::Changed),
        _ => Err(concurrent_update()),
    };
    if latest.xmax != 0 {
        match storage.status(latest.xmax) {
            XidStatus::Aborted => {}
            XidStatus::InProgress { top } if top == w.top => return Ok(Outcome::AlreadyChanged),
            XidStatus::InProgress { top } => return Err(held(&table.name, latest.xmax, top)),
            XidStatus::Committed(_) => return changed(),
        }
    }
    if !w.snapshot.sees(storage, latest) {
        if is_mine(storage, latest.xmin, w.top) {
            return Ok(Outcome::AlreadyChanged);
        }
        return changed();
    }
    if let Some((xid, top)) = locks.holder(storage, table.id, rid, w.top, LockStrength::Update) {
        return Err(held(&table.name, xid, top));
    }
    Ok(Outcome::Done)
}

/// Replaces a row's values.
#[allow(clippy::too_many_arguments)] // The writer, the row and the cascade state are all needed.
pub fn update_row(
    st: &mut Locked<'_>,
    w: &Writer,
    table: &Table,
    rid: RowId,
    old: &[Value],
    new: Vec<Value>,
    pending: &mut Vec<PendingFk>,
    depth: usize,
) -> Result<Outcome> {
    let locks = st.locks();
    match st.retry(w.top, |st| lock_row(st, locks, w, table, rid))? {
        Outcome::Done => {}
        other => return Ok(other),
    }
    check_not_null(table, &new)?;
    // A unique key the row keeps needs no check: the row held it, and holds it still.
    let changed: Vec<u32> = st
        .catalog
        .table_indexes(table)
        .into_iter()
        .filter(|ix| ix.unique && !same_key(old, &new, &ix.columns))
        .map(|ix| ix.id)
        .collect();
    st.retry(w.top, |st| {
        if !changed.is_empty()
            && let Some((ix, _)) = unique_conflict(st, w, table, &new, Some(rid), Some(&changed))?
        {
            return Err(unique_error(st, table, ix, &new));
        }
        check_fks(st, w, table, &new, Some(old))
    })?;
    parent_side(st, w, table, old, Some(&new), pending, depth)?;
    let records = index_records(st, table, rid, &new, Some(old));
    record_write(st, w, table, rid, Some(old), Some(&new));
    st.storage.append(LogRecord::SetXmax {
        table: table.id,
        row: rid,
        xid: w.xid,
        cid: w.cid,
    });
    st.storage.append(LogRecord::InsertVersion {
        table: table.id,
        row: rid,
        version: Version {
            xmin: w.xid,
            cmin: w.cid,
            xmax: 0,
            cmax: 0,
            values: new.into(),
        },
    });
    for r in records {
        st.storage.append(r);
    }
    let horizon = st.txns.horizon().min(w.snapshot.csn);
    if st.storage.chain(table.id, rid).is_some_and(|c| c.len() > 4) {
        st.storage.append(LogRecord::Prune {
            table: table.id,
            row: rid,
            horizon,
        });
    }
    Ok(Outcome::Done)
}

/// Deletes a row.
pub fn delete_row(
    st: &mut Locked<'_>,
    w: &Writer,
    table: &Table,
    rid: RowId,
    old: &[Value],
    pending: &mut Vec<PendingFk>,
    depth: usize,
) -> Result<Outcome> {
    let locks = st.locks();
    match st.retry(w.top, |st| lock_row(st, locks, w, table, rid))? {
        Outcome::Done => {}
        other => return Ok(other),
    }
    parent_side(st, w, table, old, None, pending, depth)?;
    record_write(st, w, table, rid, Some(old), None);
    st.storage.append(LogRecord::SetXmax {
        table: table.id,
        row: rid,
        xid: w.xid,
        cid: w.cid,
    });
    Ok(Outcome::Done)
}

/// Live rows of `child` whose `cols` equal `key`.
fn referencing_rows(
    st: &DbState,
    w: &Writer,
    child: &Table,
    cols: &[usize],
    key: &[Value],
) -> Result<Vec<(RowId, Arc<[Value]>)>> {
    if let Some(ix) = st
        .catalog
        .table_indexes(child)
        .into_iter()
        .find(|ix| ix.columns.starts_with(cols))
    {
        let mut lower = key.to_vec();
        let mut upper = key.to_vec();
        while upper.len() < ix.columns.len() {
            upper.push(Value::Null);
        }
        lower.truncate(cols.len());
        let mut out = Vec::new();
        for rid in st
            .storage
            .index_range(ix.id, Bound::Included(&lower), Bound::Included(&upper))
        {
            if out.iter().any(|(r, _)| *r == rid) {
                continue;
            }
            if let Some(v) = st
                .storage
                .chain(child.id, rid)
                .map(|c| live(st, w, child, c))
                .transpose()?
                .flatten()
                && key_of(&v.values, cols) == key
            {
                out.push((rid, v.values.clone()));
            }
        }
        return Ok(out);
    }
    let mut out = Vec::new();
    let rids: Vec<RowId> = st.storage.rows(child.id).collect();
    for rid in rids {
        if let Some(v) = st
            .storage
            .chain(child.id, rid)
            .map(|c| live(st, w, child, c))
            .transpose()?
            .flatten()
            && key_of(&v.values, cols) == key
        {
            out.push((rid, v.values.clone()));
        }
    }
    Ok(out)
}

fn fk_error(parent: &Table, fk: &ForeignKey, child: &Table) -> AuroraError {
    AuroraError::ForeignKeyViolation {
        message: format!(
            "update or delete on table \"{}\" violates foreign key constraint \"{}\" on table \"{}\"",
            parent.name, fk.name, child.name
        ),
    }
}

/// Applies the referencing foreign keys' actions when a parent row is deleted (`new` None) or
/// its key changes.
fn parent_side(
    st: &mut Locked<'_>,
    w: &Writer,
    table: &Table,
    old: &[Value],
    new: Option<&[Value]>,
    pending: &mut Vec<PendingFk>,
    depth: usize,
) -> Result<()> {
    if depth > 32 {
        return Err(AuroraError::sql("54001", "foreign key cascade too deep"));
    }
    for (child_id, fk) in st.catalog.referencing(table.id) {
        let key = key_of(old, &fk.ref_columns);
        if key.iter().any(Value::is_null) || new.is_some_and(|n| key_of(n, &fk.ref_columns) == key)
        {
            continue;
        }
        let child = st.catalog.table(child_id)?.clone();
        let action = if new.is_some() {
            fk.on_update
        } else {
            fk.on_delete
        };
        if action == FkAction::NoAction {
            pending.push(PendingFk {
                child: child_id,
                fk: fk.clone(),
                parent: table.id,
                key,
            });
            continue;
        }
        let rows = st.retry(w.top, |st| {
            referencing_rows(st, w, &child, &fk.columns, &key)
        })?;
        if !rows.is_empty() && matches!(action, FkAction::Restrict | FkAction::NoAction) {
            return Err(fk_error(table, &fk, &child));
        }
        for (rid, first) in rows {
            let mut vals = first;
            loop {
                // READ COMMITTED cascades act on the newest committed rows, as PostgreSQL's
                // referential actions do; the other levels keep the transaction snapshot.
                let mut wc = *w;
                if w.isolation == Isolation::ReadCommitted {
                    wc.snapshot.csn = st.txns.csn();
                }
                let outcome = match (action, new) {
                    (FkAction::Cascade, None) => {
                        delete_row(st, &wc, &child, rid, &vals, pending, depth + 1)?
                    }
                    (FkAction::Cascade, Some(n)) => {
                        let mut updated = vals.to_vec();
                        for (c, p) in fk.columns.iter().zip(&fk.ref_columns) {
                            updated[*c] = n[*p].clone();
                        }
                        update_row(st, &wc, &child, rid, &vals, updated, pending, depth + 1)?
                    }
                    _ => {
                        let mut updated = vals.to_vec();
                        for c in &fk.columns {
                            updated[*c] = match action {
                                FkAction::SetDefault => crate::dml::column_default(st, &child, *c)?,
                                _ => Value::Null,
                            };
                        }
                        update_row(st, &wc, &child, rid, &vals, updated, pending, depth + 1)?
                    }
                };
                if outcome != Outcome::Changed {
                    break;
                }
                // Changed while we waited: act on its newest version if it still refers here.
                match st.retry(w.top, |st| live_values(st, w, &child, rid))? {
                    Some(v) if key_of(&v, &fk.columns) == key => vals = v,
                    _ => break,
                }
            }
        }
    }
    Ok(())
}

/// The newest committed-or-own values of a row (`None` when deleted).
fn live_values(
    st: &DbState,
    w: &Writer,
    table: &Table,
    rid: RowId,
) -> Result<Option<Arc<[Value]>>> {
    let Some(chain) = st.storage.chain(table.id, rid) else {
        return Ok(None);
    };
    Ok(live(st, w, table, chain)?.map(|v| v.values.clone()))
}

/// End-of-statement check of NO ACTION foreign keys.
pub fn check_pending(st: &mut Locked<'_>, w: &Writer, pending: &[PendingFk]) -> Result<()> {
    for p in pending {
        st.retry(w.top, |st| {
            let child = st.catalog.table(p.child)?;
            if referencing_rows(st, w, child, &p.fk.columns, &p.key)?.is_empty()
                || parent_exists(st, w, &p.fk, &p.key)?
            {
                return Ok(());
            }
            let parent = st.catalog.table(p.parent)?;
            Err(fk_error(parent, &p.fk, child))
        })?;
    }
    Ok(())
}
