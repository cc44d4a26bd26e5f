//! Binding function calls: scalar functions, aggregates (with DISTINCT and FILTER) and window
//! functions over their frames.

use super::*;

impl Binder<'_> {
    pub(super) fn function(&mut self, f: &ast::Function, ctx: &mut Ctx) -> Result<Typed> {
        let name = f
            .name
            .0
            .last()
            .and_then(|p| p.as_ident())
            .map(ident)
            .unwrap_or_default();
        let (args, distinct, clauses) = match &f.args {
            ast::FunctionArguments::None => (Vec::new(), false, Vec::new()),
            ast::FunctionArguments::List(list) => (
                list.args.clone(),
                matches!(
                    list.duplicate_treatment,
                    Some(ast::DuplicateTreatment::Distinct)
                ),
                list.clauses.clone(),
            ),
            ast::FunctionArguments::Subquery(q) if name == "array" => {
                return self.expr(&crate::pg_catalog::array_subquery(q)?, ctx);
            }
            ast::FunctionArguments::Subquery(_) => {
                return Err(AuroraError::unsupported("subquery as function argument"));
            }
        };
        let star = args
            .iter()
            .any(|a| matches!(a, ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard)));
        let arg_exprs: Vec<&ast::Expr> = args
            .iter()
            .filter_map(|a| match a {
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Some(e),
                ast::FunctionArg::Named {
                    arg: ast::FunctionArgExpr::Expr(e),
                    ..
                } => Some(e),
                _ => None,
            })
            .collect();
        let mut order_ast: Vec<ast::OrderByExpr> = Vec::new();
        for c in &clauses {
            if let ast::FunctionArgumentClause::OrderBy(o) = c {
                order_ast.extend(o.iter().cloned());
            }
        }
        if f.over.is_some() {
            return self.window_call(&name, &arg_exprs, f, distinct, ctx);
        }
        if is_window_only(&name) {
            return Err(AuroraError::sql(
                "42809",
                format!("window function {name} requires an OVER clause"),
            ));
        }
        if name == "grouping" && f.over.is_none() {
            return self.grouping_call(&arg_exprs, ctx);
        }
        if is_aggregate(&name) {
            let Some(agg) = ctx.agg.as_mut() else {
                if ctx.probing {
                    ctx.found_aggregate = true;
                    return Ok((Expr::Literal(Value::Null), DataType::Unknown));
                }
                return Err(AuroraError::sql(
                    "42803",
                    format!("aggregate functions are not allowed in {}", ctx.clause),
                ));
            };
            let mut input = Ctx::plain(agg.input.clone());
            input.clause = "aggregate function calls";
            let mut bound = Vec::new();
            let mut types = Vec::new();
            for a in &arg_exprs {
                let (b, t) = self.expr(a, &mut input)?;
                bound.push(b);
                types.push(t);
            }
            let filter = match &f.filter {
                Some(fe) => {
                    let (b, t) = self.expr(fe, &mut input)?;
                    bool_type_check(&t, "FILTER")?;
                    Some(b)
                }
                None => None,
            };
            let mut order_by = Vec::new();
            for o in &order_ast {
                order_by.push(self.sort_key(o, &mut input)?);
            }
            if name == "count" && !star && bound.len() != 1 {
                return Err(AuroraError::undefined_function(
                    "function count() does not exist",
                ));
            }
            let t = agg_type(&name, &types)?;
            let call = AggCall {
                func: name,
                args: if star { Vec::new() } else { bound },
                distinct,
                filter,
                order_by,
            };
            let Some(agg) = ctx.agg.as_mut() else {
                return Err(AuroraError::sql("XX000", "aggregate context lost"));
            };
            agg.aggs.push(call);
            agg.agg_types.push(t.clone());
            return Ok((Expr::Column(agg.groups.len() + agg.aggs.len() - 1), t));
        }
        let mut bound = Vec::new();
        let mut types = Vec::new();
        for a in &arg_exprs {
            let (b, t) = self.expr(a, ctx)?;
            bound.push(b);
            types.push(t);
        }
        match name.as_str() {
            "coalesce" => {
                let mut t = DataType::Unknown;
                for at in &types {
                    t = DataType::common(&t, at).ok_or_else(|| {
                        AuroraError::datatype_mismatch(format!(
                            "COALESCE types {t} and {at} cannot be matched"
                        ))
                    })?;
                }
                let args = bound
                    .into_iter()
                    .zip(types.iter())
                    .map(|(b, bt)| coerce(b, bt, &t))
                    .collect::<Result<Vec<_>>>()?;
                Ok((
                    Expr::Coalesce(args),
                    if t == DataType::Unknown {
                        DataType::Text
                    } else {
                        t
                    },
                ))
            }
            "nullif" | "greatest" | "least" => {
                let mut t = DataType::Unknown;
                for at in &types {
                    t = DataType::common(&t, at).ok_or_else(|| {
                        AuroraError::datatype_mismatch(format!(
                            "{name} types {t} and {at} cannot be matched"
                        ))
                    })?;
                }
                let args = bound
                    .into_iter()
                    .zip(types.iter())
                    .map(|(b, bt)| coerce(b, bt, &t))
                    .collect::<Result<Vec<_>>>()?;
                Ok((Expr::Func(name.into(), args), t))
            }
            _ => {
                let t = crate::functions::return_type(&name, &types)?;
                Ok((Expr::Func(Arc::from(name.as_str()), bound), t))
            }
        }
    }

    pub(super) fn window_call(
        &mut self,
        name: &str,
        args: &[&ast::Expr],
        f: &ast::Function,
        distinct: bool,
        ctx: &mut Ctx,
    ) -> Result<Typed> {
        if !ctx.windows_allowed {
            return Err(AuroraError::sql(
                "42P20",
                format!("window functions are not allowed in {}", ctx.clause),
            ));
        }
        if !is_window_only(name) && !is_aggregate(name) {
            return Err(AuroraError::sql(
                "42809",
                format!(
                    "OVER specified, but {name} is not a window function nor an aggregate function"
                ),
            ));
        }
        let spec = match &f.over {
            Some(ast::WindowType::WindowSpec(s)) => s.clone(),
            Some(ast::WindowType::NamedWindow(n)) => ctx
                .named_windows
                .iter()
                .find(|(wn, _)| *wn == ident(n))
                .map(|(_, s)| s.clone())
                .ok_or_else(|| {
                    AuroraError::sql("42704", format!("window \"{}\" does not exist", ident(n)))
                })?,
            None => return Err(AuroraError::sql("XX000", "window without OVER")),
        };
        // Arguments, partitions and ordering see the rows the window runs over.
        let was = ctx.windows_allowed;
        ctx.windows_allowed = false;
        let mut bound = Vec::new();
        let mut types = Vec::new();
        for a in args {
            let (b, t) = self.expr(a, ctx)?;
            bound.push(b);
            types.push(t);
        }
        let mut partition = Vec::new();
        for p in &spec.partition_by {
            partition.push(self.expr(p, ctx)?.0);
        }
        let mut order = Vec::new();
        for o in &spec.order_by {
            order.push(self.sort_key(o, ctx)?);
        }
        let filter = match &f.filter {
            Some(fe) => Some(self.expr(fe, ctx)?.0),
            None => None,
        };
        ctx.windows_allowed = was;
        let frame = match &spec.window_frame {
            None => Frame {
                rows: false,
                start: FrameBound::UnboundedPreceding,
                end: if order.is_empty() {
                    FrameBound::UnboundedFollowing
                } else {
                    FrameBound::CurrentRow
                },
            },
            Some(fr) => {
                let rows = matches!(fr.units, ast::WindowFrameUnits::Rows);
                let bound = |b: &ast::WindowFrameBound, binder: &mut Self| -> Result<FrameBound> {
                    Ok(match b {
                        ast::WindowFrameBound::CurrentRow => FrameBound::CurrentRow,
                        ast::WindowFrameBound::Preceding(None) => FrameBound::UnboundedPreceding,
                        ast::WindowFrameBound::Following(None) => FrameBound::UnboundedFollowing,
                        ast::WindowFrameBound::Preceding(Some(n))
                        | ast::WindowFrameBound::Following(Some(n)) => {
                            if !rows {
                                return Err(AuroraError::unsupported(
                                    "RANGE frames with an offset",
                                ));
                            }
                            let (x, _) = binder.expr(n, &mut Ctx::plain(Default::default()))?;
                            let Expr::Literal(v) = x else {
                                return Err(AuroraError::unsupported("non-constant frame offsets"));
                            };
                            let n = v.as_i64().filter(|n| *n >= 0).ok_or_else(|| {
                                AuroraError::sql(
                                    "22013",
                                    "frame starting offset must not be negative",
                                )
                            })? as u64;
                            if matches!(b, ast::WindowFrameBound::Preceding(_)) {
                                FrameBound::Preceding(n)
                            } else {
                                FrameBound::Following(n)
                            }
                        }
                    })
                };
                let start = bound(&fr.start_bound, self)?;
                let end = match &fr.end_bound {
                    Some(b) => bound(b, self)?,
                    None => FrameBound::CurrentRow,
                };
                Frame { rows, start, end }
            }
        };
        let t = if is_aggregate(name) {
            agg_type(name, &types)?
        } else {
            match name {
                "row_number" | "rank" | "dense_rank" => DataType::Int8,
                "ntile" => DataType::Int4,
                "percent_rank" | "cume_dist" => DataType::Float8,
                _ => types.first().cloned().unwrap_or(DataType::Unknown),
            }
        };
        let call = WinCall {
            func: name.to_string(),
            args: if name == "count" && bound.is_empty() {
                Vec::new()
            } else {
                bound
            },
            partition,
            order,
            frame,
            filter,
            distinct,
        };
        ctx.windows.push(call);
        Ok((Expr::Column(WIN_BASE + ctx.windows.len() - 1), t))
    }
}

impl Binder<'_> {
    /// `GROUPING(e, …)`: which of its arguments (group expressions) a row's grouping set
    /// leaves out, as bits. Bound as an aggregate call whose arguments are the group indexes;
    /// the aggregate node computes it per grouping set.
    fn grouping_call(&mut self, args: &[&ast::Expr], ctx: &mut Ctx) -> Result<Typed> {
        let Some(agg) = ctx.agg.as_mut() else {
            if ctx.probing {
                ctx.found_aggregate = true;
                return Ok((Expr::Literal(Value::Null), DataType::Unknown));
            }
            return Err(AuroraError::sql(
                "42803",
                format!("grouping operations are not allowed in {}", ctx.clause),
            ));
        };
        if args.is_empty() || args.len() > 31 {
            return Err(AuroraError::sql(
                "54023",
                "GROUPING must have fewer than 32 arguments",
            ));
        }
        let mut idx = Vec::with_capacity(args.len());
        for a in args {
            let i = agg
                .groups_ast
                .iter()
                .position(|g| g == *a)
                .ok_or_else(|| {
                    AuroraError::sql(
                        "42803",
                        "arguments to GROUPING must be grouping expressions of the associated query level",
                    )
                })?;
            idx.push(Expr::Literal(Value::Int4(i as i32)));
        }
        agg.aggs.push(AggCall {
            func: "grouping".into(),
            args: idx,
            distinct: false,
            filter: None,
            order_by: Vec::new(),
        });
        agg.agg_types.push(DataType::Int4);
        Ok((
            Expr::Column(agg.groups.len() + agg.aggs.len() - 1),
            DataType::Int4,
        ))
    }
}
