//! The logical/physical plan tree the binder builds and the executor runs, and its EXPLAIN text.
//!
//! Guarantee: every node's output row layout is fixed at bind time; expressions inside a node
//! refer to positions in that node's input (for joins: left columns, then right columns).

use std::fmt::Write as _;
use std::sync::Arc;

use crate::expr::Expr;
use crate::storage::{IndexId, TableId};
use crate::value::Value;

/// A join's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    /// INNER / CROSS.
    Inner,
    /// LEFT OUTER.
    Left,
    /// RIGHT OUTER.
    Right,
    /// FULL OUTER.
    Full,
}

/// An aggregate function call.
#[derive(Debug, Clone)]
pub struct AggCall {
    /// `count`, `sum`, `avg`, `min`, `max`, `string_agg`, `array_agg`, `bool_and`, …
    pub func: String,
    /// Arguments (empty for `count(*)`).
    pub args: Vec<Expr>,
    /// DISTINCT.
    pub distinct: bool,
    /// FILTER (WHERE …).
    pub filter: Option<Expr>,
    /// ORDER BY inside the call (string_agg/array_agg).
    pub order_by: Vec<SortKey>,
}

/// A window frame bound, in rows or (for `RANGE`) peer groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameBound {
    /// UNBOUNDED PRECEDING.
    UnboundedPreceding,
    /// n PRECEDING.
    Preceding(u64),
    /// CURRENT ROW.
    CurrentRow,
    /// n FOLLOWING.
    Following(u64),
    /// UNBOUNDED FOLLOWING.
    UnboundedFollowing,
}

/// A window frame.
#[derive(Debug, Clone)]
pub struct Frame {
    /// ROWS (true) or RANGE (false; offsets other than UNBOUNDED/CURRENT ROW are refused).
    pub rows: bool,
    /// Start.
    pub start: FrameBound,
    /// End.
    pub end: FrameBound,
}

/// A window function call.
#[derive(Debug, Clone)]
pub struct WinCall {
    /// `row_number`, `rank`, `dense_rank`, `lag`, `lead`, `first_value`, `last_value`,
    /// `ntile`, `percent_rank`, `cume_dist`, or an aggregate.
    pub func: String,
    /// Arguments.
    pub args: Vec<Expr>,
    /// PARTITION BY.
    pub partition: Vec<Expr>,
    /// ORDER BY.
    pub order: Vec<SortKey>,
    /// The frame.
    pub frame: Frame,
    /// FILTER (aggregates only).
    pub filter: Option<Expr>,
    /// DISTINCT (aggregates only).
    pub distinct: bool,
}

/// One ORDER BY key.
#[derive(Debug, Clone)]
pub struct SortKey {
    /// The key.
    pub expr: Expr,
    /// DESC.
    pub desc: bool,
    /// NULLS FIRST (defaults: last for ASC, first for DESC).
    pub nulls_first: bool,
}

/// Set operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOpKind {
    /// UNION.
    Union,
    /// INTERSECT.
    Intersect,
    /// EXCEPT.
    Except,
}

/// An index lookup: equality on a key prefix, then an optional range on the next column.
#[derive(Debug, Clone)]
pub struct IndexLookup {
    /// Values for the leading key columns.
    pub eq: Vec<Expr>,
    /// Lower bound on the next column (value, inclusive).
    pub lower: Option<(Expr, bool)>,
    /// Upper bound on the next column (value, inclusive).
    pub upper: Option<(Expr, bool)>,
}

/// A CTE to materialize: (id, name, plan, recursive part and its UNION ALL flag).
pub type CteDef = (usize, String, Plan, Option<(Plan, bool)>);

/// A plan node.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Plan {
    /// Literal rows.
    Values {
        /// Rows of expressions.
        rows: Vec<Vec<Expr>>,
    },
    /// Precomputed rows (system catalogs).
    Rows {
        /// What they are, for EXPLAIN.
        name: String,
        /// The rows.
        rows: Arc<Vec<Vec<Value>>>,
    },
    /// Every visible row of a table.
    SeqScan {
        /// Table id.
        table: TableId,
        /// Table name.
        name: String,
        /// Filter over the table's columns.
        filter: Option<Expr>,
        /// Append the row id as a last column (for UPDATE/DELETE).
        row_id: bool,
    },
    /// Rows found through a B-tree index.
    IndexScan {
        /// Table id.
        table: TableId,
        /// Table name.
        name: String,
        /// Index id.
        index: IndexId,
        /// Index name.
        index_name: String,
        /// Key lookup (expressions over outer/params only).
        lookup: IndexLookup,
        /// Remaining filter.
        filter: Option<Expr>,
        /// Append the row id.
        row_id: bool,
    },
    /// Keeps rows where the predicate holds.
    Filter {
        /// Input.
        input: Box<Plan>,
        /// Predicate.
        predicate: Expr,
    },
    /// Computes new columns.
    Project {
        /// Input.
        input: Box<Plan>,
        /// Output expressions.
        exprs: Vec<Expr>,
    },
    /// A `LATERAL` subquery joined to the rows before it: `right` runs once per left row, with
    /// that row as its enclosing row (`Expr::Outer` depth 1).
    Lateral {
        /// The FROM items before the LATERAL one.
        left: Box<Plan>,
        /// The subquery.
        right: Arc<Plan>,
        /// INNER or LEFT.
        kind: JoinKind,
        /// ON condition over left ++ right.
        on: Option<Expr>,
        /// Width of the subquery's rows.
        right_width: usize,
    },
    /// Nested-loop join.
    NestedLoop {
        /// Outer side.
        left: Box<Plan>,
        /// Inner side.
        right: Box<Plan>,
        /// Kind.
        kind: JoinKind,
        /// ON condition over left ++ right.
        on: Option<Expr>,
        /// Width of left rows.
        left_width: usize,
        /// Width of right rows.
        right_width: usize,
    },
    /// Hash join on equality keys.
    HashJoin {
        /// Probe side.
        left: Box<Plan>,
        /// Build side.
        right: Box<Plan>,
        /// Kind.
        kind: JoinKind,
        /// Keys over left rows.
        left_keys: Vec<Expr>,
        /// Keys over right rows.
        right_keys: Vec<Expr>,
        /// Extra condition over left ++ right.
        residual: Option<Expr>,
        /// Width of left rows.
        left_width: usize,
        /// Width of right rows.
        right_width: usize,
    },
    /// For each left row, look the right table up through an index.
    IndexJoin {
        /// Outer side.
        left: Box<Plan>,
        /// Inner table.
        table: TableId,
        /// Its name.
        name: String,
        /// The index.
        index: IndexId,
        /// Its name.
        index_name: String,
        /// Key values computed from the left row.
        keys: Vec<Expr>,
        /// Kind (inner or left).
        kind: JoinKind,
        /// Extra condition over left ++ right.
        filter: Option<Expr>,
        /// Width of right rows.
        right_width: usize,
    },
    /// GROUP BY and aggregates: output is groups then aggregates.
    Aggregate {
        /// Input.
        input: Box<Plan>,
        /// Grouping expressions.
        groups: Vec<Expr>,
        /// Aggregate calls.
        aggs: Vec<AggCall>,
        /// Grouping sets (ROLLUP, CUBE, GROUPING SETS) as indexes into `groups`; empty for a
        /// plain GROUP BY. A group column outside a row's set is NULL in that row.
        sets: Vec<Vec<usize>>,
    },
    /// Window functions: output is the input row plus one column per call.
    Window {
        /// Input.
        input: Box<Plan>,
        /// Calls.
        calls: Vec<WinCall>,
    },
    /// ORDER BY.
    Sort {
        /// Input.
        input: Box<Plan>,
        /// Keys.
        keys: Vec<SortKey>,
    },
    /// LIMIT/OFFSET.
    Limit {
        /// Input.
        input: Box<Plan>,
        /// LIMIT.
        limit: Option<Expr>,
        /// OFFSET.
        offset: Option<Expr>,
    },
    /// DISTINCT (whole row) or DISTINCT ON (keys; keeps the first row of each key).
    Distinct {
        /// Input.
        input: Box<Plan>,
        /// DISTINCT ON keys.
        on: Option<Vec<Expr>>,
    },
    /// UNION/INTERSECT/EXCEPT.
    SetOp {
        /// Which.
        op: SetOpKind,
        /// ALL.
        all: bool,
        /// Left input.
        left: Box<Plan>,
        /// Right input.
        right: Box<Plan>,
    },
    /// Reads a CTE's materialized rows.
    CteScan {
        /// CTE id.
        id: usize,
        /// Name.
        name: String,
    },
    /// Materializes CTEs, then runs the body.
    With {
        /// The CTEs, in order.
        ctes: Vec<CteDef>,
        /// The body.
        body: Box<Plan>,
    },
    /// `generate_series(start, stop[, step])`.
    Series {
        /// Start.
        start: Expr,
        /// Stop.
        stop: Expr,
        /// Step.
        step: Option<Expr>,
    },
    /// `unnest(array)`.
    Unnest {
        /// The array.
        array: Expr,
    },
}

impl Plan {
    /// One empty row (a SELECT without FROM).
    pub fn one_row() -> Plan {
        Plan::Values { rows: vec![vec![]] }
    }

    /// EXPLAIN text, in PostgreSQL's indented shape.
    pub fn explain(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.explain_into(0, &mut out);
        out
    }

    fn explain_into(&self, depth: usize, out: &mut Vec<String>) {
        let pad = if depth == 0 {
            String::new()
        } else {
            format!("{}->  ", "      ".repeat(depth - 1) + "  ")
        };
        let detail_pad = " ".repeat(if depth == 0 { 2 } else { pad.len() + 2 });
        let mut line = |s: String| out.push(format!("{pad}{s}"));
        let mut details: Vec<String> = Vec::new();
        let children: Vec<&Plan> = match self {
            Plan::Values { rows } => {
                line(if rows.len() == 1 && rows[0].is_empty() {
                    "Result".into()
                } else {
                    format!("Values Scan ({} rows)", rows.len())
                });
                vec![]
            }
            Plan::Rows { name, .. } => {
                line(format!("Seq Scan on {name}"));
                vec![]
            }
            Plan::SeqScan { name, filter, .. } => {
                line(format!("Seq Scan on {name}"));
                if filter.is_some() {
                    details.push("Filter: (predicate)".into());
                }
                vec![]
            }
            Plan::IndexScan {
                name,
                index_name,
                lookup,
                filter,
                ..
            } => {
                line(format!("Index Scan using {index_name} on {name}"));
                let mut cond = format!("{} key column(s) equal", lookup.eq.len());
                if lookup.lower.is_some() || lookup.upper.is_some() {
                    let _ = write!(cond, ", range on next column");
                }
                details.push(format!("Index Cond: ({cond})"));
                if filter.is_some() {
                    details.push("Filter: (predicate)".into());
                }
                vec![]
            }
            Plan::Filter { input, .. } => {
                line("Filter".into());
                vec![input]
            }
            Plan::Project { input, .. } => return input.explain_into(depth, out),
            Plan::Lateral {
                left, right, kind, ..
            } => {
                line(format!("Nested Loop{}", kind_suffix(*kind)));
                vec![left.as_ref(), right.as_ref()]
            }
            Plan::NestedLoop {
                left, right, kind, ..
            } => {
                line(format!("Nested Loop{}", kind_suffix(*kind)));
                vec![left, right]
            }
            Plan::HashJoin {
                left,
                right,
                kind,
                left_keys,
                ..
            } => {
                line(format!(
                    "Hash{} Join",
                    kind_suffix(*kind).replace(" Join", "")
                ));
                details.push(format!("Hash Cond: ({} key(s))", left_keys.len()));
                vec![left, right]
            }
            Plan::IndexJoin {
                left,
                name,
                index_name,
                kind,
                ..
            } => {
                line(format!("Nested Loop{}", kind_suffix(*kind)));
                left.explain_into(depth + 1, out);
                let inner_pad = format!("{}->  ", "      ".repeat(depth) + "  ");
                out.push(format!(
                    "{inner_pad}Index Scan using {index_name} on {name}"
                ));
                return;
            }
            Plan::Aggregate {
                input,
                groups,
                sets,
                ..
            } => {
                line(if !sets.is_empty() {
                    "MixedAggregate".into()
                } else if groups.is_empty() {
                    "Aggregate".into()
                } else {
                    "HashAggregate".into()
                });
                vec![input]
            }
            Plan::Window { input, .. } => {
                line("WindowAgg".into());
                vec![input]
            }
            Plan::Sort { input, .. } => {
                line("Sort".into());
                vec![input]
            }
            Plan::Limit { input, .. } => {
                line("Limit".into());
                vec![input]
            }
            Plan::Distinct { input, on } => {
                line(if on.is_some() {
                    "Unique (DISTINCT ON)".into()
                } else {
                    "HashAggregate (DISTINCT)".into()
                });
                vec![input]
            }
            Plan::SetOp {
                op,
                all,
                left,
                right,
            } => {
                let name = match op {
                    SetOpKind::Union => "Append (UNION)",
                    SetOpKind::Intersect => "SetOp Intersect",
                    SetOpKind::Except => "SetOp Except",
                };
                line(format!("{name}{}", if *all { " ALL" } else { "" }));
                vec![left, right]
            }
            Plan::CteScan { name, .. } => {
                line(format!("CTE Scan on {name}"));
                vec![]
            }
            Plan::With { ctes, body } => {
                body.explain_into(depth, out);
                for (_, name, plan, rec) in ctes {
                    out.push(format!(
                        "{detail_pad}CTE {name}{}",
                        if rec.is_some() { " (recursive)" } else { "" }
                    ));
                    plan.explain_into(depth + 1, out);
                    if let Some((r, _)) = rec {
                        r.explain_into(depth + 1, out);
                    }
                }
                return;
            }
            Plan::Series { .. } => {
                line("Function Scan on generate_series".into());
                vec![]
            }
            Plan::Unnest { .. } => {
                line("Function Scan on unnest".into());
                vec![]
            }
        };
        for d in details {
            out.push(format!("{detail_pad}{d}"));
        }
        for c in children {
            c.explain_into(depth + 1, out);
        }
    }
}

fn kind_suffix(kind: JoinKind) -> &'static str {
    match kind {
        JoinKind::Inner => "",
        JoinKind::Left => " Left Join",
        JoinKind::Right => " Right Join",
        JoinKind::Full => " Full Join",
    }
}
