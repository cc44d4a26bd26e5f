//! The binder: turns a parsed query into a [`Plan`], resolving names against the catalog and
//! the enclosing scopes (correlated subqueries), grouping, windows, ORDER BY, DISTINCT and set
//! operations.
//!
//! Guarantees: output column names follow PostgreSQL (`?column?`, the column or function name,
//! or the alias); `ORDER BY` may name output columns, positions or any input expression;
//! recursion depth is bounded (54001) so hostile input cannot overflow the stack.

use sqlparser::ast;

use crate::bind_expr::{Typed, coerce, make_key, output_name};
use crate::catalog::{Catalog, ident};
use crate::error::{AuroraError, Result};
use crate::expr::Expr;
use crate::plan::{AggCall, Plan, SetOpKind, SortKey, WinCall};
use crate::types::DataType;
use crate::value::Value;

/// Window-function references are bound as `Column(WIN_BASE + n)` and moved behind the window
/// node's input once the input's width is known.
pub const WIN_BASE: usize = 1 << 40;

/// How deep expressions and subqueries may nest.
const MAX_DEPTH: usize = 200;

/// A column visible by name.
#[derive(Debug, Clone)]
pub struct ScopeCol {
    /// Table name or alias that qualifies it.
    pub table: Option<String>,
    /// Column name.
    pub name: String,
    /// Type.
    pub ty: DataType,
    /// Merged away by `USING`/`NATURAL` (reachable only qualified, not in `*`).
    pub hidden: bool,
}

/// The columns of a row, by position.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Columns in row order.
    pub cols: Vec<ScopeCol>,
}

impl Scope {
    /// A scope for the output of a query.
    pub fn from_output(table: Option<&str>, cols: &[(String, DataType)]) -> Scope {
        Scope {
            cols: cols
                .iter()
                .map(|(n, t)| ScopeCol {
                    table: table.map(str::to_string),
                    name: n.clone(),
                    ty: t.clone(),
                    hidden: false,
                })
                .collect(),
        }
    }

    /// Finds a column; 42702 when an unqualified name matches more than one.
    pub fn resolve(&self, table: Option<&str>, name: &str) -> Result<Option<usize>> {
        let mut found = None;
        for (i, c) in self.cols.iter().enumerate() {
            if c.name != name {
                continue;
            }
            match table {
                Some(t) if c.table.as_deref() != Some(t) => continue,
                None if c.hidden => continue,
                _ => {}
            }
            if found.is_some() {
                return Err(AuroraError::sql(
                    "42702",
                    format!("column reference \"{name}\" is ambiguous"),
                ));
            }
            found = Some(i);
        }
        Ok(found)
    }

    /// Whether a table name qualifies any column.
    pub fn has_table(&self, t: &str) -> bool {
        self.cols.iter().any(|c| c.table.as_deref() == Some(t))
    }
}

/// Grouping state while binding a grouped query's select list, HAVING and ORDER BY.
#[derive(Debug, Clone)]
pub struct AggState {
    /// The rows being grouped.
    pub input: Scope,
    /// GROUP BY items as written (an identical expression maps to the group column).
    pub groups_ast: Vec<ast::Expr>,
    /// GROUP BY items bound on the input.
    pub groups: Vec<Expr>,
    /// Their types.
    pub group_types: Vec<DataType>,
    /// Aggregate calls found so far.
    pub aggs: Vec<AggCall>,
    /// Their result types.
    pub agg_types: Vec<DataType>,
}

impl AggState {
    /// The scope of the aggregate node's output (for correlated subqueries).
    fn output_scope(&self) -> Scope {
        let mut cols = Vec::new();
        for (g, t) in self.groups.iter().zip(&self.group_types) {
            let (table, name) = match g {
                Expr::Column(k) => (
                    self.input.cols[*k].table.clone(),
                    self.input.cols[*k].name.clone(),
                ),
                _ => (None, "?column?".into()),
            };
            cols.push(ScopeCol {
                table,
                name,
                ty: t.clone(),
                hidden: false,
            });
        }
        for t in &self.agg_types {
            cols.push(ScopeCol {
                table: None,
                name: "?column?".into(),
                ty: t.clone(),
                hidden: true,
            });
        }
        Scope { cols }
    }
}

/// Binding context of one clause.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Columns in scope.
    pub scope: Scope,
    /// Grouping, when the query aggregates.
    pub agg: Option<AggState>,
    /// Window calls found.
    pub windows: Vec<WinCall>,
    /// Whether window functions may appear.
    pub windows_allowed: bool,
    /// Looking for aggregates only (select list probe).
    pub probing: bool,
    /// Set by the probe.
    pub found_aggregate: bool,
    /// The clause name for error messages.
    pub clause: &'static str,
    /// `WINDOW w AS (…)` definitions.
    pub named_windows: Vec<(String, ast::WindowSpec)>,
}

impl Ctx {
    /// A context with a scope and nothing else.
    pub fn plain(scope: Scope) -> Ctx {
        Ctx {
            scope,
            agg: None,
            windows: Vec::new(),
            windows_allowed: false,
            probing: false,
            found_aggregate: false,
            clause: "WHERE",
            named_windows: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
struct CteDef {
    name: String,
    id: usize,
    cols: Vec<(String, DataType)>,
}

/// Output columns of a bound query.
pub type Columns = Vec<(String, DataType)>;

/// Binds statements against one catalog.
#[derive(Debug)]
pub struct Binder<'a> {
    /// The catalog.
    pub catalog: &'a Catalog,
    /// Enclosing query scopes (innermost last).
    pub outer: Vec<Scope>,
    ctes: Vec<CteDef>,
    next_cte: usize,
    /// Highest `$n` seen.
    pub param_count: usize,
    /// Set when an outer column is referenced.
    pub correlated: bool,
    depth: usize,
    /// Give base tables in FROM a hidden `ctid` column (for `SELECT … FOR UPDATE`).
    pub row_ids: bool,
}

impl<'a> Binder<'a> {
    /// A binder over `catalog`.
    pub fn new(catalog: &'a Catalog) -> Self {
        Binder {
            catalog,
            outer: Vec::new(),
            ctes: Vec::new(),
            next_cte: 0,
            param_count: 0,
            correlated: false,
            depth: 0,
            row_ids: false,
        }
    }

    /// Counts nesting; 54001 past the limit.
    pub fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(AuroraError::sql("54001", "stack depth limit exceeded"));
        }
        Ok(())
    }

    /// Leaves a nesting level.
    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Binds a subquery used inside an expression of `ctx`.
    pub fn subquery(
        &mut self,
        q: &ast::Query,
        ctx: &Ctx,
    ) -> Result<(std::sync::Arc<Plan>, Columns, bool)> {
        let scope = match &ctx.agg {
            Some(agg) => agg.output_scope(),
            None => ctx.scope.clone(),
        };
        let saved = self.correlated;
        self.correlated = false;
        self.outer.push(scope);
        self.enter()?;
        let r = self.query(q);
        self.leave();
        self.outer.pop();
        let correlated = self.correlated;
        self.correlated = saved || correlated;
        let (plan, cols) = r?;
        Ok((std::sync::Arc::new(plan), cols, correlated))
    }

    /// Binds a query.
    pub fn query(&mut self, q: &ast::Query) -> Result<(Plan, Columns)> {
        let mark = self.ctes.len();
        let r = self.query_inner(q);
        self.ctes.truncate(mark);
        r
    }

    fn query_inner(&mut self, q: &ast::Query) -> Result<(Plan, Columns)> {
        let mut with_defs = Vec::new();
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                with_defs.push(self.cte(cte, with.recursive)?);
            }
        }
        let order: Vec<ast::OrderByExpr> = match &q.order_by {
            Some(ob) => match &ob.kind {
                ast::OrderByKind::Expressions(items) => items.clone(),
                ast::OrderByKind::All(_) => return Err(AuroraError::unsupported("ORDER BY ALL")),
            },
            None => Vec::new(),
        };
        let (limit, offset) = self.limit(q)?;
        let (mut plan, cols) = match q.body.as_ref() {
            ast::SetExpr::Select(s) => self.select(s, &order, limit, offset)?,
            other => {
                let (mut plan, cols) = self.set_expr(other)?;
                if !order.is_empty() {
                    let scope = Scope::from_output(None, &cols);
                    let mut keys = Vec::new();
                    for o in &order {
                        let expr = match output_ref(&o.expr, &cols)? {
                            Some(i) => Expr::Column(i),
                            None => self.expr(&o.expr, &mut Ctx::plain(scope.clone()))?.0,
                        };
                        keys.push(make_key(expr, o));
                    }
                    plan = Plan::Sort {
                        input: Box::new(plan),
                        keys,
                    };
                }
                if limit.is_some() || offset.is_some() {
                    plan = Plan::Limit {
                        input: Box::new(plan),
                        limit,
                        offset,
                    };
                }
                (plan, cols)
            }
        };
        if !with_defs.is_empty() {
            plan = Plan::With {
                ctes: with_defs,
                body: Box::new(plan),
            };
        }
        Ok((plan, cols))
    }

    fn limit(&mut self, q: &ast::Query) -> Result<(Option<Expr>, Option<Expr>)> {
        let bind = |e: &ast::Expr, binder: &mut Self| -> Result<Expr> {
            let (x, t) = binder.expr(e, &mut Ctx::plain(Scope::default()))?;
            coerce(x, &t, &DataType::Int8)
        };
        let (mut limit, mut offset) = (None, None);
        match &q.limit_clause {
            Some(ast::LimitClause::LimitOffset {
                limit: l,
                offset: o,
                ..
            }) => {
                if let Some(l) = l {
                    limit = Some(bind(l, self)?);
                }
                if let Some(o) = o {
                    offset = Some(bind(&o.value, self)?);
                }
            }
            Some(ast::LimitClause::OffsetCommaLimit {
                offset: o,
                limit: l,
            }) => {
                limit = Some(bind(l, self)?);
                offset = Some(bind(o, self)?);
            }
            None => {}
        }
        if let Some(f) = &q.fetch {
            limit = match &f.quantity {
                Some(e) => Some(bind(e, self)?),
                None => Some(Expr::Literal(Value::Int8(1))),
            };
        }
        Ok((limit, offset))
    }

    fn cte(&mut self, cte: &ast::Cte, recursive: bool) -> Result<crate::plan::CteDef> {
        let name = ident(&cte.alias.name);
        let id = self.next_cte;
        self.next_cte += 1;
        let rename = |cols: Columns| -> Columns {
            cols.into_iter()
                .enumerate()
                .map(|(i, (n, t))| {
                    (
                        cte.alias
                            .columns
                            .get(i)
                            .map(|c| ident(&c.name))
                            .unwrap_or(n),
                        t,
                    )
                })
                .collect()
        };
        if recursive
            && let ast::SetExpr::SetOperation {
                left,
                op: ast::SetOperator::Union,
                set_quantifier,
                right,
            } = cte.query.body.as_ref()
            && refers_to(right, &name)
        {
            let (base, cols) = self.set_expr(left)?;
            let cols = rename(cols);
            self.ctes.push(CteDef {
                name: name.clone(),
                id,
                cols: cols.clone(),
            });
            let (rec, rcols) = self.set_expr(right)?;
            if rcols.len() != cols.len() {
                return Err(AuroraError::sql(
                    "42601",
                    "each UNION query must have the same number of columns",
                ));
            }
            let all = matches!(set_quantifier, ast::SetQuantifier::All);
            return Ok((id, name, base, Some((rec, all))));
        }
        let (plan, cols) = self.query(&cte.query)?;
        self.ctes.push(CteDef {
            name: name.clone(),
            id,
            cols: rename(cols),
        });
        Ok((id, name, plan, None))
    }

    /// Binds a query body without ORDER BY/LIMIT.
    pub fn set_expr(&mut self, body: &ast::SetExpr) -> Result<(Plan, Columns)> {
        self.enter()?;
        let r = self.set_expr_inner(body);
        self.leave();
        r
    }

    fn set_expr_inner(&mut self, body: &ast::SetExpr) -> Result<(Plan, Columns)> {
        match body {
            ast::SetExpr::Select(s) => self.select(s, &[], None, None),
            ast::SetExpr::Query(q) => self.query(q),
            ast::SetExpr::Values(v) => self.values(v),
            ast::SetExpr::SetOperation {
                left,
                op,
                set_quantifier,
                right,
            } => {
                let (lp, lc) = self.set_expr(left)?;
                let (rp, rc) = self.set_expr(right)?;
                let op_name = match op {
                    ast::SetOperator::Union => SetOpKind::Union,
                    ast::SetOperator::Intersect => SetOpKind::Intersect,
                    ast::SetOperator::Except | ast::SetOperator::Minus => SetOpKind::Except,
                };
                let word = match op_name {
                    SetOpKind::Union => "UNION",
                    SetOpKind::Intersect => "INTERSECT",
                    SetOpKind::Except => "EXCEPT",
                };
                if lc.len() != rc.len() {
                    return Err(AuroraError::sql(
                        "42601",
                        format!("each {word} query must have the same number of columns"),
                    ));
                }
                let mut cols = Vec::new();
                let (mut lcast, mut rcast) = (Vec::new(), Vec::new());
                for (i, ((ln, lt), (_, rt))) in lc.iter().zip(rc.iter()).enumerate() {
                    let t = DataType::common(lt, rt).ok_or_else(|| {
                        AuroraError::datatype_mismatch(format!(
                            "{word} types {lt} and {rt} cannot be matched"
                        ))
                    })?;
                    let t = if t == DataType::Unknown {
                        DataType::Text
                    } else {
                        t
                    };
                    lcast.push(cast_col(i, lt, &t));
                    rcast.push(cast_col(i, rt, &t));
                    cols.push((ln.clone(), t));
                }
                let wrap = |p: Plan, casts: Vec<Expr>| {
                    if casts
                        .iter()
                        .enumerate()
                        .all(|(i, e)| matches!(e, Expr::Column(c) if *c == i))
                    {
                        p
                    } else {
                        Plan::Project {
                            input: Box::new(p),
                            exprs: casts,
                        }
                    }
                };
                let all = matches!(set_quantifier, ast::SetQuantifier::All);
                Ok((
                    Plan::SetOp {
                        op: op_name,
                        all,
                        left: Box::new(wrap(lp, lcast)),
                        right: Box::new(wrap(rp, rcast)),
                    },
                    cols,
                ))
            }
            other => Err(AuroraError::unsupported(format!("query body {other}"))),
        }
    }

    fn values(&mut self, v: &ast::Values) -> Result<(Plan, Columns)> {
        let mut rows: Vec<Vec<Typed>> = Vec::new();
        for row in &v.rows {
            let mut out = Vec::new();
            for e in &row.content {
                out.push(self.expr(e, &mut Ctx::plain(Scope::default()))?);
            }
            if let Some(first) = rows.first()
                && first.len() != out.len()
            {
                return Err(AuroraError::sql(
                    "42601",
                    "VALUES lists must all be the same length",
                ));
            }
            rows.push(out);
        }
        let width = rows.first().map(|r| r.len()).unwrap_or(0);
        let mut types = vec![DataType::Unknown; width];
        for r in &rows {
            for (i, (_, t)) in r.iter().enumerate() {
                types[i] = DataType::common(&types[i], t).ok_or_else(|| {
                    AuroraError::datatype_mismatch(format!(
                        "VALUES types {} and {t} cannot be matched",
                        types[i]
                    ))
                })?;
            }
        }
        for t in &mut types {
            if *t == DataType::Unknown {
                *t = DataType::Text;
            }
        }
        let rows = rows
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .zip(types.iter())
                    .map(|((e, et), t)| coerce(e, &et, t))
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        let cols = types
            .into_iter()
            .enumerate()
            .map(|(i, t)| (format!("column{}", i + 1), t))
            .collect();
        Ok((Plan::Values { rows }, cols))
    }
}

fn plan_width_exceeds(plan: &Plan, width: usize) -> bool {
    match plan {
        Plan::Project { exprs, .. } => exprs.len() > width,
        Plan::Sort { input, .. } | Plan::Limit { input, .. } | Plan::Distinct { input, .. } => {
            plan_width_exceeds(input, width)
        }
        _ => false,
    }
}

fn cast_col(i: usize, from: &DataType, to: &DataType) -> Expr {
    if from == to || *from == DataType::Unknown && *to == DataType::Text {
        Expr::Column(i)
    } else {
        Expr::Cast(Box::new(Expr::Column(i)), to.clone())
    }
}

/// An output-column reference: a 1-based position or an output name.
fn output_ref(e: &ast::Expr, cols: &Columns) -> Result<Option<usize>> {
    match e {
        ast::Expr::Value(v) => {
            if let ast::Value::Number(n, _) = &v.value {
                let pos: usize = n.parse().unwrap_or(0);
                if pos == 0 || pos > cols.len() {
                    return Err(AuroraError::sql(
                        "42P10",
                        format!("ORDER BY position {n} is not in select list"),
                    ));
                }
                return Ok(Some(pos - 1));
            }
            Ok(None)
        }
        ast::Expr::Identifier(i) => Ok(cols.iter().position(|(n, _)| *n == ident(i))),
        _ => Ok(None),
    }
}

fn column_ast(table: Option<&str>, name: &str) -> ast::Expr {
    let quoted = |s: &str| ast::Ident::with_quote('"', s);
    match table {
        Some(t) => ast::Expr::CompoundIdentifier(vec![quoted(t), quoted(name)]),
        None => ast::Expr::Identifier(quoted(name)),
    }
}

/// Splits a conjunction into its terms.
pub fn split_and(e: Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::Binary {
            op: crate::ops::BinOp::And,
            left,
            right,
        } => {
            split_and(*left, out);
            split_and(*right, out);
        }
        other => out.push(other),
    }
}

fn is_inner(op: &ast::JoinOperator) -> bool {
    matches!(
        op,
        ast::JoinOperator::Join(_) | ast::JoinOperator::Inner(_) | ast::JoinOperator::CrossJoin(_)
    )
}

fn constraint(op: &ast::JoinOperator) -> Option<&ast::JoinConstraint> {
    match op {
        ast::JoinOperator::Join(c)
        | ast::JoinOperator::Inner(c)
        | ast::JoinOperator::Left(c)
        | ast::JoinOperator::LeftOuter(c)
        | ast::JoinOperator::Right(c)
        | ast::JoinOperator::RightOuter(c)
        | ast::JoinOperator::FullOuter(c)
        | ast::JoinOperator::CrossJoin(c) => Some(c),
        _ => None,
    }
}

fn join_kind(op: &ast::JoinOperator) -> Result<crate::plan::JoinKind> {
    use crate::plan::JoinKind;
    Ok(match op {
        ast::JoinOperator::Join(_)
        | ast::JoinOperator::Inner(_)
        | ast::JoinOperator::CrossJoin(_) => JoinKind::Inner,
        ast::JoinOperator::Left(_) | ast::JoinOperator::LeftOuter(_) => JoinKind::Left,
        ast::JoinOperator::Right(_) | ast::JoinOperator::RightOuter(_) => JoinKind::Right,
        ast::JoinOperator::FullOuter(_) => JoinKind::Full,
        other => return Err(AuroraError::unsupported(format!("join {other:?}"))),
    })
}

/// Equality conditions for `USING (…)` / `NATURAL`, hiding the right side's copies.
fn using_conditions(
    c: &ast::JoinConstraint,
    left: &Scope,
    right: &mut Scope,
    left_width: usize,
) -> Result<Vec<Expr>> {
    let names: Vec<String> = match c {
        ast::JoinConstraint::Using(cols) => cols
            .iter()
            .map(|n| {
                n.0.last()
                    .and_then(|p| p.as_ident())
                    .map(ident)
                    .unwrap_or_default()
            })
            .collect(),
        _ => right
            .cols
            .iter()
            .filter(|rc| !rc.hidden && left.resolve(None, &rc.name).ok().flatten().is_some())
            .map(|rc| rc.name.clone())
            .collect(),
    };
    let mut out = Vec::new();
    for n in names {
        let l = left.resolve(None, &n)?.ok_or_else(|| {
            AuroraError::sql(
                "42703",
                format!("column \"{n}\" specified in USING clause does not exist in left table"),
            )
        })?;
        let r = right.resolve(None, &n)?.ok_or_else(|| {
            AuroraError::sql(
                "42703",
                format!("column \"{n}\" specified in USING clause does not exist in right table"),
            )
        })?;
        right.cols[r].hidden = true;
        out.push(Expr::Binary {
            op: crate::ops::BinOp::Eq,
            left: Box::new(Expr::Column(l)),
            right: Box::new(Expr::Column(left_width + r)),
        });
    }
    Ok(out)
}

/// Whether a query body mentions a table name (for recursive CTE detection).
fn refers_to(body: &ast::SetExpr, name: &str) -> bool {
    body.to_string()
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .any(|w| w == name)
}

mod from;
mod grouping;
mod select;
