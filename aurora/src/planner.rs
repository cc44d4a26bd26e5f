//! Access paths and join order: chooses index scans for equality and range predicates, index
//! nested-loop joins where the inner table has an index on the join key, hash joins for other
//! equi-joins, and nested loops otherwise.
//!
//! The join order is cost-free but sensible: start from the table with the most selective index
//! predicate, then repeatedly add a table connected by a join condition (preferring one that can
//! be probed through an index), falling back to the written order. Predicates are pushed to the
//! lowest node that has their columns; predicates holding subqueries stay on top, where the row
//! layout is the written one their correlated references were bound against.
//!
//! Guarantee: the plan's output row is always the FROM items' columns in written order.

use crate::bind::{Scope, ScopeCol};
use crate::catalog::Catalog;
use crate::error::{AuroraError, Result};
use crate::expr::Expr;
use crate::ops::BinOp;
use crate::plan::{IndexLookup, JoinKind, Plan};
use crate::storage::TableId;
use crate::types::DataType;

/// A FROM item before planning.
#[derive(Debug, Clone)]
pub struct Leaf {
    /// What it reads.
    pub kind: LeafKind,
    /// Its columns.
    pub scope: Scope,
}

/// A leaf's source.
#[derive(Debug, Clone)]
pub enum LeafKind {
    /// A base table (access path chosen later).
    Base {
        /// Table id.
        table: TableId,
        /// Name.
        name: String,
        /// Emit the row id as a last column.
        row_id: bool,
    },
    /// An already planned input.
    Plan(Box<Plan>),
}

impl Leaf {
    /// A base-table leaf; with `row_id`, a hidden `ctid` column is appended.
    pub fn base(table: TableId, name: String, mut scope: Scope, row_id: bool) -> Leaf {
        if row_id {
            let qual = scope.cols.first().and_then(|c| c.table.clone());
            scope.cols.push(ScopeCol {
                table: qual,
                name: "ctid".into(),
                ty: DataType::Int8,
                hidden: true,
            });
        }
        Leaf {
            kind: LeafKind::Base {
                table,
                name,
                row_id,
            },
            scope,
        }
    }

    /// A planned leaf.
    pub fn plan(plan: Plan, scope: Scope) -> Leaf {
        Leaf {
            kind: LeafKind::Plan(Box::new(plan)),
            scope,
        }
    }
}

fn and_all(mut v: Vec<Expr>) -> Option<Expr> {
    let first = v.pop()?;
    Some(v.into_iter().rev().fold(first, |acc, e| Expr::Binary {
        op: BinOp::And,
        left: Box::new(e),
        right: Box::new(acc),
    }))
}

/// `Column(c) op e` with `e` free of columns and subqueries, normalised to the column side.
fn column_compare(e: &Expr) -> Option<(usize, BinOp, &Expr)> {
    let Expr::Binary { op, left, right } = e else {
        return None;
    };
    let flip = |op: BinOp| match op {
        BinOp::Lt => BinOp::Gt,
        BinOp::LtEq => BinOp::GtEq,
        BinOp::Gt => BinOp::Lt,
        BinOp::GtEq => BinOp::LtEq,
        other => other,
    };
    if !matches!(
        op,
        BinOp::Eq | BinOp::Lt | BinOp::LtEq | BinOp::Gt | BinOp::GtEq
    ) {
        return None;
    }
    let free = |x: &Expr| !x.uses_columns() && !x.has_subquery();
    match (left.as_ref(), right.as_ref()) {
        (Expr::Column(c), other) if free(other) => Some((*c, *op, other)),
        (other, Expr::Column(c)) if free(other) => Some((*c, flip(*op), other)),
        _ => None,
    }
}

/// The best index lookup for a table under local predicates, with a selectivity score.
fn choose_index(
    catalog: &Catalog,
    table: TableId,
    preds: &[Expr],
) -> Option<(u32, String, IndexLookup, u32)> {
    let t = catalog.tables.get(&table)?;
    let mut best: Option<(u32, String, IndexLookup, u32)> = None;
    for ix in catalog.table_indexes(t) {
        let mut eq = Vec::new();
        for col in &ix.columns {
            match preds
                .iter()
                .filter_map(column_compare)
                .find(|(c, op, _)| c == col && *op == BinOp::Eq)
            {
                Some((_, _, e)) => eq.push(e.clone()),
                None => break,
            }
        }
        let (mut lower, mut upper) = (None, None);
        if let Some(next) = ix.columns.get(eq.len()) {
            for (c, op, e) in preds.iter().filter_map(column_compare) {
                if c != *next {
                    continue;
                }
                match op {
                    BinOp::Gt | BinOp::GtEq if lower.is_none() => {
                        lower = Some((e.clone(), op == BinOp::GtEq))
                    }
                    BinOp::Lt | BinOp::LtEq if upper.is_none() => {
                        upper = Some((e.clone(), op == BinOp::LtEq))
                    }
                    _ => {}
                }
            }
        }
        let full_unique = ix.unique && eq.len() == ix.columns.len();
        let score = if full_unique {
            1000
        } else {
            eq.len() as u32 * 10
                + if lower.is_some() || upper.is_some() {
                    5
                } else {
                    0
                }
        };
        if score > 0 && best.as_ref().is_none_or(|b| score > b.3) {
            best = Some((
                ix.id,
                ix.name.clone(),
                IndexLookup { eq, lower, upper },
                score,
            ));
        }
    }
    best
}

fn access(catalog: &Catalog, leaf: Leaf, preds: Vec<Expr>) -> Plan {
    match leaf.kind {
        LeafKind::Base {
            table,
            name,
            row_id,
        } => match choose_index(catalog, table, &preds) {
            Some((index, index_name, lookup, _)) => Plan::IndexScan {
                table,
                name,
                index,
                index_name,
                lookup,
                filter: and_all(preds),
                row_id,
            },
            None => Plan::SeqScan {
                table,
                name,
                filter: and_all(preds),
                row_id,
            },
        },
        LeafKind::Plan(p) => match and_all(preds) {
            Some(predicate) => Plan::Filter {
                input: p,
                predicate,
            },
            None => *p,
        },
    }
}

fn leaf_score(catalog: &Catalog, leaf: &Leaf, preds: &[Expr]) -> u32 {
    match &leaf.kind {
        LeafKind::Base { table, .. } => {
            choose_index(catalog, *table, preds)
                .map(|b| b.3)
                .unwrap_or(0)
                + u32::from(!preds.is_empty())
        }
        LeafKind::Plan(_) => u32::from(!preds.is_empty()),
    }
}

/// Equality between an expression over the left (< lw) and a right column (>= lw).
fn equi_key(e: &Expr, lw: usize) -> Option<(Expr, usize)> {
    let Expr::Binary {
        op: BinOp::Eq,
        left,
        right,
    } = e
    else {
        return None;
    };
    let side = |x: &Expr| {
        let mut lo = false;
        let mut hi = false;
        x.visit_columns(&mut |c| if c < lw { lo = true } else { hi = true });
        (lo, hi)
    };
    if e.has_subquery() {
        return None;
    }
    match (left.as_ref(), right.as_ref()) {
        (l, Expr::Column(r)) if *r >= lw && side(l) == (true, false) => Some((l.clone(), *r - lw)),
        (Expr::Column(r), l) if *r >= lw && side(l) == (true, false) => Some((l.clone(), *r - lw)),
        _ => None,
    }
}

fn index_join_keys(
    catalog: &Catalog,
    table: TableId,
    keys: &[(Expr, usize)],
) -> Option<(u32, String, Vec<Expr>)> {
    let t = catalog.tables.get(&table)?;
    let mut best: Option<(u32, String, Vec<Expr>, usize)> = None;
    for ix in catalog.table_indexes(t) {
        let mut exprs = Vec::new();
        for col in &ix.columns {
            match keys.iter().find(|(_, r)| r == col) {
                Some((l, _)) => exprs.push(l.clone()),
                None => break,
            }
        }
        let score = exprs.len() * 2 + usize::from(ix.unique && exprs.len() == ix.columns.len());
        if !exprs.is_empty() && best.as_ref().is_none_or(|b| score > b.3) {
            best = Some((ix.id, ix.name.clone(), exprs, score));
        }
    }
    best.map(|(a, b, c, _)| (a, b, c))
}

/// Joins a planned left input with a leaf; `conds` are over left ++ right, `right_local` over
/// the right leaf alone (pushed into its scan).
fn join(
    catalog: &Catalog,
    left: Plan,
    lw: usize,
    right: Leaf,
    right_local: Vec<Expr>,
    kind: JoinKind,
    conds: Vec<Expr>,
) -> Plan {
    let rw = right.scope.cols.len();
    let keys: Vec<(Expr, usize)> = conds.iter().filter_map(|c| equi_key(c, lw)).collect();
    if let (
        LeafKind::Base {
            table,
            name,
            row_id: false,
        },
        JoinKind::Inner | JoinKind::Left,
    ) = (&right.kind, kind)
        && let Some((index, index_name, key_exprs)) = index_join_keys(catalog, *table, &keys)
    {
        let mut all = conds.clone();
        all.extend(right_local.iter().map(|e| e.remap(&|c| c + lw)));
        return Plan::IndexJoin {
            left: Box::new(left),
            table: *table,
            name: name.clone(),
            index,
            index_name,
            keys: key_exprs,
            kind,
            filter: and_all(all),
            right_width: rw,
        };
    }
    let right_plan = access(catalog, right, right_local);
    if keys.is_empty() {
        return Plan::NestedLoop {
            left: Box::new(left),
            right: Box::new(right_plan),
            kind,
            on: and_all(conds),
            left_width: lw,
            right_width: rw,
        };
    }
    let residual: Vec<Expr> = conds
        .into_iter()
        .filter(|c| equi_key(c, lw).is_none())
        .collect();
    let (left_keys, right_keys): (Vec<Expr>, Vec<Expr>) =
        keys.into_iter().map(|(l, r)| (l, Expr::Column(r))).unzip();
    Plan::HashJoin {
        left: Box::new(left),
        right: Box::new(right_plan),
        kind,
        left_keys,
        right_keys,
        residual: and_all(residual),
        left_width: lw,
        right_width: rw,
    }
}

/// An explicit join of two leaves in written order (outer joins).
pub fn join_leaves(
    catalog: &Catalog,
    left: Leaf,
    right: Leaf,
    kind: JoinKind,
    conds: Vec<Expr>,
) -> Result<Leaf> {
    let lw = left.scope.cols.len();
    let scope = Scope {
        cols: left
            .scope
            .cols
            .iter()
            .chain(right.scope.cols.iter())
            .cloned()
            .collect(),
    };
    let left_plan = access(catalog, left, Vec::new());
    // Conditions on the right side alone may filter its rows before a LEFT join, never before
    // a RIGHT or FULL one (those rows must survive unmatched).
    let (mut right_local, mut rest) = (Vec::new(), Vec::new());
    for c in conds {
        let mut only_right = true;
        let mut any = false;
        c.visit_columns(&mut |x| {
            any = true;
            if x < lw {
                only_right = false;
            }
        });
        if kind == JoinKind::Left && any && only_right && !c.has_subquery() {
            right_local.push(c.remap(&|x| x - lw));
        } else {
            rest.push(c);
        }
    }
    let plan = join(catalog, left_plan, lw, right, right_local, kind, rest);
    Ok(Leaf::plan(plan, scope))
}

/// Plans inner joins of `leaves` under `conjuncts` (over the leaves' columns in written order).
pub fn plan_joins(catalog: &Catalog, leaves: Vec<Leaf>, conjuncts: Vec<Expr>) -> Result<Plan> {
    let n = leaves.len();
    if n > 64 {
        return Err(AuroraError::sql(
            "54000",
            "too many FROM items (at most 64)",
        ));
    }
    let widths: Vec<usize> = leaves.iter().map(|l| l.scope.cols.len()).collect();
    let offsets: Vec<usize> = widths
        .iter()
        .scan(0, |acc, w| {
            let o = *acc;
            *acc += w;
            Some(o)
        })
        .collect();
    let total: usize = widths.iter().sum();
    let leaf_of = |c: usize| offsets.iter().rposition(|o| *o <= c).unwrap_or(0);
    let mut local: Vec<Vec<Expr>> = vec![Vec::new(); n];
    let mut multi: Vec<(Expr, u64)> = Vec::new();
    let mut top = Vec::new();
    for c in conjuncts {
        if c.has_subquery() {
            top.push(c);
            continue;
        }
        let mut mask = 0u64;
        c.visit_columns(&mut |x| mask |= 1 << leaf_of(x));
        if mask == 0 {
            top.push(c);
        } else if mask.count_ones() == 1 {
            let i = mask.trailing_zeros() as usize;
            let off = offsets[i];
            local[i].push(c.remap(&|x| x - off));
        } else {
            multi.push((c, mask));
        }
    }
    let mut leaves: Vec<Option<Leaf>> = leaves.into_iter().map(Some).collect();
    let scores: Vec<u32> = leaves
        .iter()
        .zip(&local)
        .map(|(l, p)| l.as_ref().map(|l| leaf_score(catalog, l, p)).unwrap_or(0))
        .collect();
    let first = (0..n)
        .max_by(|a, b| scores[*a].cmp(&scores[*b]).then(b.cmp(a)))
        .unwrap_or(0);
    let mut layout: Vec<usize> = vec![usize::MAX; total];
    let mut width = 0;
    let place = |i: usize, width: &mut usize, layout: &mut Vec<usize>| {
        for k in 0..widths[i] {
            layout[offsets[i] + k] = *width + k;
        }
        *width += widths[i];
    };
    let Some(first_leaf) = leaves[first].take() else {
        return Err(AuroraError::sql("XX000", "planner lost a FROM item"));
    };
    let mut plan = access(catalog, first_leaf, std::mem::take(&mut local[first]));
    place(first, &mut width, &mut layout);
    let mut joined = 1u64 << first;
    let mut used = vec![false; multi.len()];
    for _ in 1..n {
        let connected = |j: usize| {
            multi
                .iter()
                .any(|(_, m)| m & (1 << j) != 0 && m & !(joined | 1 << j) == 0)
        };
        let candidates: Vec<usize> = (0..n).filter(|j| leaves[*j].is_some()).collect();
        let index_joinable = |j: usize| {
            let Some(Leaf {
                kind: LeafKind::Base { table, .. },
                ..
            }) = leaves[j].as_ref()
            else {
                return false;
            };
            let keys: Vec<(Expr, usize)> = multi
                .iter()
                .filter(|(_, m)| m & (1 << j) != 0 && m & !(joined | 1 << j) == 0)
                .filter_map(|(c, _)| {
                    let mapped = c.remap(&|x| {
                        if leaf_of(x) == j {
                            width + x - offsets[j]
                        } else {
                            layout[x]
                        }
                    });
                    equi_key(&mapped, width)
                })
                .collect();
            index_join_keys(catalog, *table, &keys).is_some()
        };
        let next = candidates
            .iter()
            .copied()
            .find(|j| connected(*j) && index_joinable(*j))
            .or_else(|| candidates.iter().copied().find(|j| connected(*j)))
            .or_else(|| candidates.first().copied());
        let Some(j) = next else { break };
        let Some(leaf) = leaves[j].take() else { break };
        let mut conds: Vec<Expr> = Vec::new();
        for (k, (c, m)) in multi.iter().enumerate() {
            if !used[k] && m & !(joined | 1 << j) == 0 {
                used[k] = true;
                conds.push(c.remap(&|x| {
                    if leaf_of(x) == j {
                        width + x - offsets[j]
                    } else {
                        layout[x]
                    }
                }));
            }
        }
        plan = join(
            catalog,
            plan,
            width,
            leaf,
            std::mem::take(&mut local[j]),
            JoinKind::Inner,
            conds,
        );
        place(j, &mut width, &mut layout);
        joined |= 1 << j;
    }
    if layout.iter().enumerate().any(|(i, p)| *p != i) {
        plan = Plan::Project {
            input: Box::new(plan),
            exprs: layout.iter().map(|p| Expr::Column(*p)).collect(),
        };
    }
    if let Some(predicate) = and_all(top) {
        plan = Plan::Filter {
            input: Box::new(plan),
            predicate,
        };
    }
    Ok(plan)
}
