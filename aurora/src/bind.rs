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

    fn probe_aggregates(
        &mut self,
        items: &[ast::SelectItem],
        order: &[ast::OrderByExpr],
        scope: &Scope,
    ) -> bool {
        let mut ctx = Ctx::plain(scope.clone());
        ctx.probing = true;
        ctx.windows_allowed = true;
        let saved = (self.param_count, self.correlated);
        for item in items {
            let e = match item {
                ast::SelectItem::UnnamedExpr(e)
                | ast::SelectItem::ExprWithAlias { expr: e, .. } => e,
                _ => continue,
            };
            let _ = self.expr(e, &mut ctx);
            if ctx.found_aggregate {
                break;
            }
        }
        for o in order {
            if ctx.found_aggregate {
                break;
            }
            let _ = self.expr(&o.expr, &mut ctx);
        }
        (self.param_count, self.correlated) = saved;
        ctx.found_aggregate
    }

    /// Binds a SELECT with its ORDER BY and LIMIT.
    pub fn select(
        &mut self,
        s: &ast::Select,
        order: &[ast::OrderByExpr],
        limit: Option<Expr>,
        offset: Option<Expr>,
    ) -> Result<(Plan, Columns)> {
        let (from_plan, scope) = if s.from.is_empty() {
            let mut plan = Plan::one_row();
            if let Some(w) = &s.selection {
                let (p, t) = self.expr(w, &mut Ctx::plain(Scope::default()))?;
                if !matches!(t, DataType::Bool | DataType::Unknown) {
                    return Err(AuroraError::datatype_mismatch(format!(
                        "argument of WHERE must be type boolean, not type {t}"
                    )));
                }
                plan = Plan::Filter {
                    input: Box::new(plan),
                    predicate: p,
                };
            }
            (plan, Scope::default())
        } else {
            self.from_where(&s.from, s.selection.as_ref(), None)?
        };
        let named_windows: Vec<(String, ast::WindowSpec)> = s
            .named_window
            .iter()
            .filter_map(|w| match &w.1 {
                ast::NamedWindowExpr::WindowSpec(spec) => Some((ident(&w.0), spec.clone())),
                ast::NamedWindowExpr::NamedWindow(_) => None,
            })
            .collect();
        let group_exprs: Vec<ast::Expr> = match &s.group_by {
            ast::GroupByExpr::Expressions(exprs, mods) if mods.is_empty() => exprs.clone(),
            _ => {
                return Err(AuroraError::unsupported(
                    "GROUP BY ALL, ROLLUP, CUBE and GROUPING SETS",
                ));
            }
        };
        let agg_mode = !group_exprs.is_empty()
            || s.having.is_some()
            || self.probe_aggregates(&s.projection, order, &scope);
        let mut ctx = Ctx::plain(scope.clone());
        ctx.windows_allowed = true;
        ctx.named_windows = named_windows;
        ctx.clause = "SELECT";
        if agg_mode {
            let mut state = AggState {
                input: scope.clone(),
                groups_ast: Vec::new(),
                groups: Vec::new(),
                group_types: Vec::new(),
                aggs: Vec::new(),
                agg_types: Vec::new(),
            };
            for g in &group_exprs {
                let resolved = self.group_item(g, &s.projection, &scope)?;
                let mut gctx = Ctx::plain(scope.clone());
                gctx.clause = "GROUP BY";
                let (b, t) = self.expr(&resolved, &mut gctx)?;
                state.groups_ast.push(resolved);
                state.groups.push(b);
                state.group_types.push(t);
            }
            ctx.agg = Some(state);
        }
        // Select list.
        let mut exprs = Vec::new();
        let mut cols: Columns = Vec::new();
        for item in &s.projection {
            match item {
                ast::SelectItem::UnnamedExpr(e) => {
                    let (b, t) = self.expr(e, &mut ctx)?;
                    exprs.push(b);
                    cols.push((output_name(e), t));
                }
                ast::SelectItem::ExprWithAlias { expr, alias } => {
                    let (b, t) = self.expr(expr, &mut ctx)?;
                    exprs.push(b);
                    cols.push((ident(alias), t));
                }
                ast::SelectItem::ExprWithAliases { .. } => {
                    return Err(AuroraError::unsupported(
                        "multiple aliases for one select item",
                    ));
                }
                ast::SelectItem::Wildcard(_) | ast::SelectItem::QualifiedWildcard(..) => {
                    let qual = match item {
                        ast::SelectItem::QualifiedWildcard(
                            ast::SelectItemQualifiedWildcardKind::ObjectName(n),
                            _,
                        ) => Some(
                            n.0.last()
                                .and_then(|p| p.as_ident())
                                .map(ident)
                                .unwrap_or_default(),
                        ),
                        ast::SelectItem::QualifiedWildcard(..) => {
                            return Err(AuroraError::unsupported("this wildcard form"));
                        }
                        _ => None,
                    };
                    if let Some(q) = &qual {
                        if !scope.has_table(q) {
                            return Err(AuroraError::sql(
                                "42P01",
                                format!("missing FROM-clause entry for table \"{q}\""),
                            ));
                        }
                    } else if scope.cols.is_empty() {
                        return Err(AuroraError::sql(
                            "42601",
                            "SELECT * with no tables specified is not valid",
                        ));
                    }
                    for (i, c) in scope.cols.iter().enumerate() {
                        if c.hidden || (qual.is_some() && c.table != qual) || c.name == "ctid" {
                            continue;
                        }
                        let (b, t) = if ctx.agg.is_some() {
                            let tname = c.table.clone();
                            self.expr(&column_ast(tname.as_deref(), &c.name), &mut ctx)?
                        } else {
                            (Expr::Column(i), c.ty.clone())
                        };
                        exprs.push(b);
                        cols.push((c.name.clone(), t));
                    }
                }
            }
        }
        let visible = exprs.len();
        let having = match &s.having {
            Some(h) => {
                ctx.clause = "HAVING";
                ctx.windows_allowed = false;
                let (b, t) = self.expr(h, &mut ctx)?;
                if !matches!(t, DataType::Bool | DataType::Unknown) {
                    return Err(AuroraError::datatype_mismatch(format!(
                        "argument of HAVING must be type boolean, not type {t}"
                    )));
                }
                ctx.windows_allowed = true;
                Some(b)
            }
            None => None,
        };
        ctx.clause = "ORDER BY";
        let mut keys = Vec::new();
        for o in order {
            let expr = self.select_ref(&o.expr, &cols, &mut exprs, &mut ctx, visible)?;
            keys.push(make_key(expr, o));
        }
        let distinct_on = match &s.distinct {
            Some(ast::Distinct::On(list)) => {
                let mut on = Vec::new();
                for e in list {
                    on.push(self.select_ref(e, &cols, &mut exprs, &mut ctx, visible)?);
                }
                Some(on)
            }
            _ => None,
        };
        // Assemble.
        let mut plan = from_plan;
        let base = match ctx.agg.take() {
            Some(agg) => {
                let width = agg.groups.len() + agg.aggs.len();
                plan = Plan::Aggregate {
                    input: Box::new(plan),
                    groups: agg.groups,
                    aggs: agg.aggs,
                };
                width
            }
            None => scope.cols.len(),
        };
        if let Some(h) = having {
            plan = Plan::Filter {
                input: Box::new(plan),
                predicate: h,
            };
        }
        let relocate = |e: &Expr| {
            e.remap(&|i| {
                if i >= WIN_BASE {
                    base + (i - WIN_BASE)
                } else {
                    i
                }
            })
        };
        if !ctx.windows.is_empty() {
            let calls = std::mem::take(&mut ctx.windows);
            plan = Plan::Window {
                input: Box::new(plan),
                calls,
            };
        }
        let exprs: Vec<Expr> = exprs.iter().map(relocate).collect();
        let keys: Vec<SortKey> = keys
            .into_iter()
            .map(|k| SortKey {
                expr: relocate(&k.expr),
                ..k
            })
            .collect();
        plan = Plan::Project {
            input: Box::new(plan),
            exprs,
        };
        let width = cols.len();
        match (&s.distinct, distinct_on) {
            (Some(ast::Distinct::Distinct), _) => {
                if keys
                    .iter()
                    .any(|k| matches!(k.expr, Expr::Column(c) if c >= visible))
                {
                    return Err(AuroraError::sql(
                        "42P10",
                        "for SELECT DISTINCT, ORDER BY expressions must appear in select list",
                    ));
                }
                plan = Plan::Distinct {
                    input: Box::new(plan),
                    on: None,
                };
                if !keys.is_empty() {
                    plan = Plan::Sort {
                        input: Box::new(plan),
                        keys,
                    };
                }
            }
            (_, Some(on)) => {
                if !keys.is_empty() {
                    plan = Plan::Sort {
                        input: Box::new(plan),
                        keys,
                    };
                }
                plan = Plan::Distinct {
                    input: Box::new(plan),
                    on: Some(on.iter().map(relocate).collect()),
                };
            }
            _ => {
                if !keys.is_empty() {
                    plan = Plan::Sort {
                        input: Box::new(plan),
                        keys,
                    };
                }
            }
        }
        if limit.is_some() || offset.is_some() {
            plan = Plan::Limit {
                input: Box::new(plan),
                limit,
                offset,
            };
        }
        if let Plan::Project { exprs, .. } = &plan
            && exprs.len() > width
        {
            // Only reachable when nothing was stacked on top; trim in place.
        }
        if plan_width_exceeds(&plan, width) {
            plan = Plan::Project {
                input: Box::new(plan),
                exprs: (0..width).map(Expr::Column).collect(),
            };
        }
        Ok((plan, cols))
    }

    /// ORDER BY / DISTINCT ON item: an output position, an output name, or an expression
    /// (added as a hidden column when not already selected).
    fn select_ref(
        &mut self,
        e: &ast::Expr,
        cols: &Columns,
        exprs: &mut Vec<Expr>,
        ctx: &mut Ctx,
        visible: usize,
    ) -> Result<Expr> {
        if let Some(i) = output_ref(e, cols)? {
            return Ok(Expr::Column(i));
        }
        let (b, _) = self.expr(e, ctx)?;
        let dbg = format!("{b:?}");
        if let Some(k) = exprs.iter().position(|x| format!("{x:?}") == dbg) {
            return Ok(Expr::Column(k));
        }
        let _ = visible;
        exprs.push(b);
        Ok(Expr::Column(exprs.len() - 1))
    }

    /// GROUP BY item: a select-list position or alias means that select item.
    fn group_item(
        &self,
        g: &ast::Expr,
        projection: &[ast::SelectItem],
        scope: &Scope,
    ) -> Result<ast::Expr> {
        let item_expr = |i: usize| match projection.get(i) {
            Some(ast::SelectItem::UnnamedExpr(e))
            | Some(ast::SelectItem::ExprWithAlias { expr: e, .. }) => Some(e.clone()),
            _ => None,
        };
        if let ast::Expr::Value(v) = g
            && let ast::Value::Number(n, _) = &v.value
        {
            let pos: usize = n.parse().unwrap_or(0);
            return item_expr(pos.wrapping_sub(1)).ok_or_else(|| {
                AuroraError::sql(
                    "42P10",
                    format!("GROUP BY position {n} is not in select list"),
                )
            });
        }
        if let ast::Expr::Identifier(i) = g {
            let name = ident(i);
            if scope.resolve(None, &name)?.is_none() {
                for (k, item) in projection.iter().enumerate() {
                    if let ast::SelectItem::ExprWithAlias { alias, .. } = item
                        && ident(alias) == name
                    {
                        return item_expr(k).ok_or(AuroraError::UndefinedColumn { name });
                    }
                }
            }
        }
        Ok(g.clone())
    }

    /// Binds FROM and WHERE into a joined, filtered plan. `target` is a DML target leaf placed
    /// first (with its row id).
    pub fn from_where(
        &mut self,
        from: &[ast::TableWithJoins],
        selection: Option<&ast::Expr>,
        target: Option<crate::planner::Leaf>,
    ) -> Result<(Plan, Scope)> {
        let mut leaves = Vec::new();
        let mut pre_bound: Vec<Expr> = Vec::new();
        let mut on_ast: Vec<ast::Expr> = Vec::new();
        if let Some(t) = target {
            leaves.push(t);
        }
        for twj in from {
            let outer = twj.joins.iter().any(|j| !is_inner(&j.join_operator));
            if outer {
                leaves.push(self.join_tree(twj)?);
                continue;
            }
            leaves.push(self.table_factor(&twj.relation)?);
            for j in &twj.joins {
                let mut leaf = self.table_factor(&j.relation)?;
                let left_width: usize = leaves.iter().map(|l| l.scope.cols.len()).sum();
                let left_scope = Scope {
                    cols: leaves.iter().flat_map(|l| l.scope.cols.clone()).collect(),
                };
                match constraint(&j.join_operator) {
                    Some(ast::JoinConstraint::On(e)) => on_ast.push(e.clone()),
                    Some(c @ (ast::JoinConstraint::Using(_) | ast::JoinConstraint::Natural)) => {
                        pre_bound.extend(using_conditions(
                            c,
                            &left_scope,
                            &mut leaf.scope,
                            left_width,
                        )?);
                    }
                    _ => {}
                }
                leaves.push(leaf);
            }
        }
        let combined = Scope {
            cols: leaves.iter().flat_map(|l| l.scope.cols.clone()).collect(),
        };
        let mut conjuncts = pre_bound;
        for e in on_ast.iter().chain(selection) {
            let mut ctx = Ctx::plain(combined.clone());
            ctx.clause = if selection.is_some_and(|s| std::ptr::eq(s, e)) {
                "WHERE"
            } else {
                "JOIN conditions"
            };
            let (b, t) = self.expr(e, &mut ctx)?;
            if !matches!(t, DataType::Bool | DataType::Unknown) {
                return Err(AuroraError::datatype_mismatch(format!(
                    "argument of {} must be type boolean, not type {t}",
                    if ctx.clause == "WHERE" {
                        "WHERE"
                    } else {
                        "JOIN/ON"
                    }
                )));
            }
            split_and(b, &mut conjuncts);
        }
        let plan = crate::planner::plan_joins(self.catalog, leaves, conjuncts)?;
        Ok((plan, combined))
    }

    fn join_tree(&mut self, twj: &ast::TableWithJoins) -> Result<crate::planner::Leaf> {
        let mut cur = self.table_factor(&twj.relation)?;
        for j in &twj.joins {
            let mut right = self.table_factor(&j.relation)?;
            let kind = join_kind(&j.join_operator)?;
            let lw = cur.scope.cols.len();
            let mut conds = Vec::new();
            match constraint(&j.join_operator) {
                Some(ast::JoinConstraint::On(e)) => {
                    let combined = Scope {
                        cols: cur
                            .scope
                            .cols
                            .iter()
                            .chain(right.scope.cols.iter())
                            .cloned()
                            .collect(),
                    };
                    let mut ctx = Ctx::plain(combined);
                    ctx.clause = "JOIN conditions";
                    let (b, t) = self.expr(e, &mut ctx)?;
                    if !matches!(t, DataType::Bool | DataType::Unknown) {
                        return Err(AuroraError::datatype_mismatch(format!(
                            "argument of JOIN/ON must be type boolean, not type {t}"
                        )));
                    }
                    split_and(b, &mut conds);
                }
                Some(c @ (ast::JoinConstraint::Using(_) | ast::JoinConstraint::Natural)) => {
                    conds.extend(using_conditions(c, &cur.scope, &mut right.scope, lw)?);
                }
                _ => {}
            }
            cur = crate::planner::join_leaves(self.catalog, cur, right, kind, conds)?;
        }
        Ok(cur)
    }

    /// Binds one FROM item.
    pub fn table_factor(&mut self, tf: &ast::TableFactor) -> Result<crate::planner::Leaf> {
        use crate::planner::Leaf;
        match tf {
            ast::TableFactor::Table {
                name, alias, args, ..
            } => {
                let (schema, rel) = crate::catalog::split_name(name)?;
                let alias_name = alias.as_ref().map(|a| ident(&a.name));
                let rename = |mut cols: Columns| -> Columns {
                    if let Some(a) = alias {
                        for (i, c) in a.columns.iter().enumerate() {
                            if let Some(col) = cols.get_mut(i) {
                                col.0 = ident(&c.name);
                            }
                        }
                    }
                    cols
                };
                if let Some(args) = args {
                    let mut bound = Vec::new();
                    for a in &args.args {
                        if let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) = a {
                            bound.push(self.expr(e, &mut Ctx::plain(Scope::default()))?);
                        }
                    }
                    let table = alias_name.clone().unwrap_or_else(|| rel.clone());
                    let (plan, ty) = match (rel.as_str(), bound.len()) {
                        ("generate_series", 2 | 3) => {
                            let t = if bound.iter().any(|(_, t)| *t == DataType::Int8) {
                                DataType::Int8
                            } else {
                                DataType::Int4
                            };
                            let mut it = bound.into_iter().map(|(e, et)| coerce(e, &et, &t));
                            let start =
                                it.next().transpose()?.unwrap_or(Expr::Literal(Value::Null));
                            let stop = it.next().transpose()?.unwrap_or(Expr::Literal(Value::Null));
                            let step = it.next().transpose()?;
                            (Plan::Series { start, stop, step }, t)
                        }
                        ("unnest", 1) => {
                            let (e, t) = bound.remove(0);
                            let inner = match t {
                                DataType::Array(inner) => *inner,
                                _ => DataType::Text,
                            };
                            (Plan::Unnest { array: e }, inner)
                        }
                        _ => {
                            return Err(AuroraError::undefined_function(format!(
                                "function {rel} does not exist"
                            )));
                        }
                    };
                    let cols = rename(vec![(rel.clone(), ty)]);
                    return Ok(Leaf::plan(plan, Scope::from_output(Some(&table), &cols)));
                }
                let table_name = alias_name.clone().unwrap_or_else(|| rel.clone());
                if schema.is_none()
                    && let Some(cte) = self.ctes.iter().rev().find(|c| c.name == rel).cloned()
                {
                    let cols = rename(cte.cols.clone());
                    return Ok(Leaf::plan(
                        Plan::CteScan {
                            id: cte.id,
                            name: rel,
                        },
                        Scope::from_output(Some(&table_name), &cols),
                    ));
                }
                if let Some((cols, rows)) =
                    crate::sysinfo::table(self.catalog, schema.as_deref(), &rel)
                {
                    let cols = rename(cols);
                    let plan = Plan::Rows {
                        name: rel.clone(),
                        rows: std::sync::Arc::new(rows),
                    };
                    return Ok(Leaf::plan(
                        plan,
                        Scope::from_output(Some(&table_name), &cols),
                    ));
                }
                match self.catalog.lookup(&schema, &rel) {
                    Some(crate::catalog::Relation::Table(id)) => {
                        let t = self.catalog.table(id)?;
                        let cols = rename(
                            t.columns
                                .iter()
                                .map(|c| (c.name.clone(), c.ty.clone()))
                                .collect(),
                        );
                        Ok(Leaf::base(
                            t.id,
                            t.name.clone(),
                            Scope::from_output(Some(&table_name), &cols),
                            false,
                        ))
                    }
                    Some(crate::catalog::Relation::View(id)) => {
                        let view = self
                            .catalog
                            .views
                            .get(&id)
                            .cloned()
                            .ok_or_else(|| AuroraError::UndefinedTable { name: rel.clone() })?;
                        // A view's body sees no enclosing query.
                        let saved = std::mem::take(&mut self.outer);
                        let r = self.query(&view.query);
                        self.outer = saved;
                        let (plan, mut cols) = r?;
                        for (i, n) in view.columns.iter().enumerate() {
                            if let Some(c) = cols.get_mut(i) {
                                c.0 = n.clone();
                            }
                        }
                        let cols = rename(cols);
                        Ok(Leaf::plan(
                            plan,
                            Scope::from_output(Some(&table_name), &cols),
                        ))
                    }
                    _ => Err(AuroraError::UndefinedTable { name: rel }),
                }
            }
            ast::TableFactor::Derived {
                lateral,
                subquery,
                alias,
                ..
            } => {
                if *lateral {
                    return Err(AuroraError::unsupported("LATERAL"));
                }
                let (plan, mut cols) = self.query(subquery)?;
                let name = alias.as_ref().map(|a| ident(&a.name));
                if let Some(a) = alias {
                    for (i, c) in a.columns.iter().enumerate() {
                        if let Some(col) = cols.get_mut(i) {
                            col.0 = ident(&c.name);
                        }
                    }
                }
                Ok(Leaf::plan(plan, Scope::from_output(name.as_deref(), &cols)))
            }
            ast::TableFactor::UNNEST {
                alias,
                array_exprs,
                with_offset: false,
                with_ordinality: false,
                ..
            } if array_exprs.len() == 1 => {
                let (e, t) = self.expr(&array_exprs[0], &mut Ctx::plain(Scope::default()))?;
                let inner = match t {
                    DataType::Array(inner) => *inner,
                    _ => DataType::Text,
                };
                let table = alias
                    .as_ref()
                    .map(|a| ident(&a.name))
                    .unwrap_or_else(|| "unnest".into());
                let col = alias
                    .as_ref()
                    .and_then(|a| a.columns.first())
                    .map(|c| ident(&c.name))
                    .unwrap_or_else(|| "unnest".into());
                Ok(Leaf::plan(
                    Plan::Unnest { array: e },
                    Scope::from_output(Some(&table), &[(col, inner)]),
                ))
            }
            ast::TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                let mut leaf = self.join_tree(table_with_joins)?;
                if let Some(a) = alias {
                    let name = ident(&a.name);
                    for c in &mut leaf.scope.cols {
                        c.table = Some(name.clone());
                    }
                }
                Ok(leaf)
            }
            other => Err(AuroraError::unsupported(format!("FROM item {other}"))),
        }
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
