//! Binding FROM and WHERE: table references, subqueries in FROM, joins and their conditions.

use super::*;
use crate::plan::JoinKind;

impl Binder<'_> {
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
            // `, LATERAL (…)` sees every FROM item before it: they become its left side.
            let first = if is_lateral(&twj.relation) && !leaves.is_empty() {
                let left = self.merge_leaves(std::mem::take(&mut leaves))?;
                self.lateral_leaf(left, &twj.relation, JoinKind::Inner, None)?
            } else {
                self.table_factor(&twj.relation)?
            };
            if outer {
                leaves.push(self.join_chain(first, &twj.joins)?);
                continue;
            }
            leaves.push(first);
            for j in &twj.joins {
                if is_lateral(&j.relation) {
                    match constraint(&j.join_operator) {
                        Some(ast::JoinConstraint::On(e)) => on_ast.push(e.clone()),
                        Some(ast::JoinConstraint::None) | None => {}
                        Some(_) => {
                            return Err(AuroraError::unsupported("USING or NATURAL with LATERAL"));
                        }
                    }
                    let left = self.merge_leaves(std::mem::take(&mut leaves))?;
                    leaves.push(self.lateral_leaf(left, &j.relation, JoinKind::Inner, None)?);
                    continue;
                }
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

    pub(super) fn join_tree(&mut self, twj: &ast::TableWithJoins) -> Result<crate::planner::Leaf> {
        let first = self.table_factor(&twj.relation)?;
        self.join_chain(first, &twj.joins)
    }

    /// Joins `joins` one by one onto `cur`, in written order (outer joins do not reorder).
    fn join_chain(
        &mut self,
        mut cur: crate::planner::Leaf,
        joins: &[ast::Join],
    ) -> Result<crate::planner::Leaf> {
        for j in joins {
            let kind = join_kind(&j.join_operator)?;
            if is_lateral(&j.relation) {
                if !matches!(kind, JoinKind::Inner | JoinKind::Left) {
                    return Err(AuroraError::sql(
                        "42P10",
                        "the combining JOIN type must be INNER or LEFT for a LATERAL reference",
                    ));
                }
                let on = match constraint(&j.join_operator) {
                    Some(ast::JoinConstraint::On(e)) => Some(e),
                    Some(ast::JoinConstraint::None) | None => None,
                    Some(_) => {
                        return Err(AuroraError::unsupported("USING or NATURAL with LATERAL"));
                    }
                };
                cur = self.lateral_leaf(cur, &j.relation, kind, on)?;
                continue;
            }
            let mut right = self.table_factor(&j.relation)?;
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
                name,
                alias,
                args,
                with_ordinality,
                ..
            } => {
                let (schema, rel) = crate::catalog::split_name(name)?;
                if let Some(derived) =
                    crate::pg_catalog::table_function(&rel, args, *with_ordinality, alias)?
                {
                    return self.table_factor(&derived);
                }
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
                    // A function returning a base type names its column after the table alias,
                    // when there is one (`FROM generate_series(1, 3) s` has column `s`).
                    let cols = rename(vec![(table.clone(), ty)]);
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
                            self.row_ids,
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
                // A LATERAL item with nothing before it is an ordinary subquery; one after
                // other items is bound by `lateral_leaf`.
                let _ = lateral;
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

/// Whether a FROM item is a `LATERAL (subquery)`.
fn is_lateral(tf: &ast::TableFactor) -> bool {
    matches!(tf, ast::TableFactor::Derived { lateral: true, .. })
}

impl Binder<'_> {
    /// The FROM items so far as one leaf (their join, planned as usual; the conditions
    /// between them are applied above, with the WHERE clause).
    fn merge_leaves(&mut self, leaves: Vec<crate::planner::Leaf>) -> Result<crate::planner::Leaf> {
        let scope = Scope {
            cols: leaves.iter().flat_map(|l| l.scope.cols.clone()).collect(),
        };
        let plan = crate::planner::plan_joins(self.catalog, leaves, Vec::new())?;
        Ok(crate::planner::Leaf::plan(plan, scope))
    }

    /// `left JOIN LATERAL (subquery)`: the subquery is bound with `left`'s columns as its
    /// enclosing scope and runs once per left row.
    fn lateral_leaf(
        &mut self,
        left: crate::planner::Leaf,
        tf: &ast::TableFactor,
        kind: JoinKind,
        on: Option<&ast::Expr>,
    ) -> Result<crate::planner::Leaf> {
        let ast::TableFactor::Derived {
            subquery, alias, ..
        } = tf
        else {
            return Err(AuroraError::sql("XX000", "LATERAL item is not a subquery"));
        };
        let left_scope = left.scope.clone();
        let left_plan = crate::planner::plan_joins(self.catalog, vec![left], Vec::new())?;
        let saved = self.correlated;
        self.correlated = false;
        self.outer.push(left_scope.clone());
        self.enter()?;
        let r = self.query(subquery);
        self.leave();
        self.outer.pop();
        self.correlated = saved || self.correlated;
        let (plan, mut cols) = r?;
        let name = alias.as_ref().map(|a| ident(&a.name));
        if let Some(a) = alias {
            for (i, c) in a.columns.iter().enumerate() {
                if let Some(col) = cols.get_mut(i) {
                    col.0 = ident(&c.name);
                }
            }
        }
        let right_scope = Scope::from_output(name.as_deref(), &cols);
        let scope = Scope {
            cols: left_scope
                .cols
                .iter()
                .chain(right_scope.cols.iter())
                .cloned()
                .collect(),
        };
        let on = match on {
            Some(e) => {
                let mut ctx = Ctx::plain(scope.clone());
                ctx.clause = "JOIN conditions";
                let (b, t) = self.expr(e, &mut ctx)?;
                if !matches!(t, DataType::Bool | DataType::Unknown) {
                    return Err(AuroraError::datatype_mismatch(format!(
                        "argument of JOIN/ON must be type boolean, not type {t}"
                    )));
                }
                Some(b)
            }
            None => None,
        };
        Ok(crate::planner::Leaf::plan(
            Plan::Lateral {
                left: Box::new(left_plan),
                right: std::sync::Arc::new(plan),
                kind,
                on,
                right_width: cols.len(),
            },
            scope,
        ))
    }
}
