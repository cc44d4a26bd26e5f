//! Binding a SELECT block: projection, aggregates and GROUP BY/HAVING, windows, DISTINCT [ON]
//! and ORDER BY over its output.

use super::*;

impl Binder<'_> {
    pub(super) fn probe_aggregates(
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
        let (group_exprs, sets) = super::grouping::grouping_sets(&s.group_by)?;
        let agg_mode = !group_exprs.is_empty()
            || !sets.is_empty()
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
                    sets,
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
    pub(super) fn select_ref(
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
    pub(super) fn group_item(
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
}
