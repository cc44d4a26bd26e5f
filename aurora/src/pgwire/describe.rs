//! What the extended protocol's Describe answers before anything runs: the types of a
//! statement's `$n` parameters (ParameterDescription) and of its result columns
//! (RowDescription).
//!
//! Result columns come from the engine's own binder (a query is bound exactly as execution
//! binds it; `RETURNING` lists are bound as a SELECT over the target tables). Parameter types
//! follow PostgreSQL's rule for untyped parameters: a parameter takes the type its context
//! needs — the other operand of a comparison or arithmetic, the column it is assigned or
//! inserted into, `$1::type`, the element type for `= ANY($1)` — and `text` when nothing
//! decides it. Types a client declares in Parse win over inferred ones.
//!
//! Guarantee: inference never fails a statement the engine would run; only a query the binder
//! rejects (undefined table, type errors) is an error at Parse, as in PostgreSQL.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use sqlparser::ast::{
    self, AssignmentTarget, BinaryOperator, Expr, LimitClause, OnConflictAction, OnInsert,
    SelectItem, SetExpr, Statement, TableFactor, Visit, Visitor,
};

use crate::bind::Binder;
use crate::catalog::{Catalog, Table, ident, split_name};
use crate::error::Result;
use crate::types::DataType;

/// A statement's parameter and result types.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Description {
    /// One type per `$n`, `$1` first.
    pub params: Vec<DataType>,
    /// Result columns (empty for a statement that returns no rows).
    pub columns: Vec<(String, DataType)>,
}

/// Describes `stmt` against `catalog`; `declared[i]` is the type the client gave `$i+1`.
pub fn describe(
    catalog: &Catalog,
    stmt: &Statement,
    declared: &[Option<DataType>],
) -> Result<Description> {
    let mut infer = Infer {
        catalog,
        tables: Vec::new(),
        types: BTreeMap::new(),
        max: 0,
        collecting: true,
    };
    let _ = stmt.visit(&mut infer);
    infer.collecting = false;
    let _ = stmt.visit(&mut infer);
    infer.statement(stmt);
    let count = infer.max.max(declared.len());
    let params = (0..count)
        .map(|i| {
            declared
                .get(i)
                .cloned()
                .flatten()
                .filter(|t| *t != DataType::Unknown)
                .or_else(|| infer.types.get(&i).cloned())
                .unwrap_or(DataType::Text)
        })
        .collect();
    Ok(Description {
        params,
        columns: columns(catalog, stmt)?,
    })
}

fn columns(catalog: &Catalog, stmt: &Statement) -> Result<Vec<(String, DataType)>> {
    let returning_select =
        |items: &[SelectItem], from: String| -> Result<Vec<(String, DataType)>> {
            let list: Vec<String> = items.iter().map(ToString::to_string).collect();
            let sql = format!("SELECT {} FROM {from}", list.join(", "));
            let mut stmts = crate::session::parse(&sql)?;
            match stmts.pop() {
                Some(Statement::Query(q)) => Ok(Binder::new(catalog).query(&q)?.1),
                _ => Ok(Vec::new()),
            }
        };
    Ok(match stmt {
        Statement::Query(q) => Binder::new(catalog).query(q)?.1,
        Statement::Insert(ins) => match (&ins.returning, &ins.table) {
            (Some(items), ast::TableObject::TableName(name)) => {
                let from = match &ins.table_alias {
                    Some(a) => format!("{name} AS {}", a.alias),
                    None => name.to_string(),
                };
                returning_select(items, from)?
            }
            _ => Vec::new(),
        },
        Statement::Update(up) => match &up.returning {
            Some(items) => {
                let mut from = vec![up.table.to_string()];
                if let Some(
                    ast::UpdateTableFromKind::BeforeSet(f) | ast::UpdateTableFromKind::AfterSet(f),
                ) = &up.from
                {
                    from.extend(f.iter().map(ToString::to_string));
                }
                returning_select(items, from.join(", "))?
            }
            None => Vec::new(),
        },
        Statement::Delete(del) => match &del.returning {
            Some(items) => {
                let (ast::FromTable::WithFromKeyword(t) | ast::FromTable::WithoutKeyword(t)) =
                    &del.from;
                let mut from: Vec<String> = t.iter().map(ToString::to_string).collect();
                from.extend(del.using.iter().flatten().map(ToString::to_string));
                returning_select(items, from.join(", "))?
            }
            None => Vec::new(),
        },
        Statement::ShowVariable { variable } => vec![(
            variable.iter().map(ident).collect::<Vec<_>>().join(" "),
            DataType::Text,
        )],
        Statement::Explain { .. } => vec![("QUERY PLAN".into(), DataType::Text)],
        _ => Vec::new(),
    })
}

/// The parameter number (0-based) when `e` is `$n`, looking through parentheses.
fn param(e: &Expr) -> Option<usize> {
    match e {
        Expr::Value(v) => match &v.value {
            ast::Value::Placeholder(p) => p
                .strip_prefix('$')
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| (1..=65_535).contains(n))
                .map(|n| n - 1),
            _ => None,
        },
        Expr::Nested(inner) => param(inner),
        _ => None,
    }
}

struct Infer<'c> {
    catalog: &'c Catalog,
    /// Every table the statement names, with the name it is visible under.
    tables: Vec<(String, &'c Table)>,
    types: BTreeMap<usize, DataType>,
    max: usize,
    collecting: bool,
}

impl<'c> Infer<'c> {
    fn note(&mut self, n: usize, ty: Option<DataType>) {
        if let Some(ty) = ty.filter(|t| *t != DataType::Unknown) {
            self.types.entry(n).or_insert(ty);
        }
    }

    fn table(&self, name: &ast::ObjectName) -> Option<&'c Table> {
        let (schema, name) = split_name(name).ok()?;
        self.catalog.table_by_name(&schema, &name).ok()
    }

    fn column(&self, qualifier: Option<&str>, name: &str) -> Option<DataType> {
        self.tables
            .iter()
            .filter(|(visible, _)| qualifier.is_none_or(|q| q == visible))
            .find_map(|(_, t)| t.columns.iter().find(|c| c.name == name))
            .map(|c| c.ty.clone())
    }

    /// The static type of an operand, where it is evident without binding.
    fn type_of(&self, e: &Expr) -> Option<DataType> {
        match e {
            Expr::Identifier(i) => self.column(None, &ident(i)),
            Expr::CompoundIdentifier(parts) => match parts.as_slice() {
                [.., q, c] => self.column(Some(&ident(q)), &ident(c)),
                _ => None,
            },
            Expr::Value(v) => match &v.value {
                ast::Value::Number(n, _) => Some(if n.contains(['.', 'e', 'E']) {
                    DataType::Numeric(None)
                } else if n.parse::<i32>().is_ok() {
                    DataType::Int4
                } else if n.parse::<i64>().is_ok() {
                    DataType::Int8
                } else {
                    DataType::Numeric(None)
                }),
                ast::Value::Boolean(_) => Some(DataType::Bool),
                _ => None,
            },
            Expr::Cast { data_type, .. } => DataType::from_ast(data_type).ok(),
            Expr::Nested(inner) | Expr::UnaryOp { expr: inner, .. } => self.type_of(inner),
            Expr::BinaryOp { left, op, right } => match op {
                BinaryOperator::Plus
                | BinaryOperator::Minus
                | BinaryOperator::Multiply
                | BinaryOperator::Divide
                | BinaryOperator::Modulo => self.type_of(left).or_else(|| self.type_of(right)),
                BinaryOperator::StringConcat | BinaryOperator::LongArrow => Some(DataType::Text),
                BinaryOperator::Arrow => Some(DataType::Jsonb),
                _ => Some(DataType::Bool),
            },
            _ => None,
        }
    }

    fn expr(&mut self, e: &Expr) {
        if let Some(n) = param(e) {
            self.max = self.max.max(n + 1);
        }
        match e {
            Expr::Cast {
                expr, data_type, ..
            } => {
                if let Some(n) = param(expr) {
                    self.note(n, DataType::from_ast(data_type).ok());
                }
            }
            Expr::BinaryOp { left, op, right } => {
                let fixed = match op {
                    BinaryOperator::And | BinaryOperator::Or => Some(DataType::Bool),
                    BinaryOperator::StringConcat
                    | BinaryOperator::Arrow
                    | BinaryOperator::LongArrow
                    | BinaryOperator::Question => Some(DataType::Text),
                    _ => None,
                };
                if let Some(n) = param(left) {
                    let t = match op {
                        BinaryOperator::And | BinaryOperator::Or => Some(DataType::Bool),
                        BinaryOperator::StringConcat => Some(DataType::Text),
                        _ => self.type_of(right),
                    };
                    self.note(n, t);
                }
                if let Some(n) = param(right) {
                    let t = fixed.or_else(|| self.type_of(left));
                    self.note(n, t);
                }
            }
            Expr::In {
                expr,
                target: ast::InTarget::List(list),
                ..
            } => {
                let t = self.type_of(expr);
                for item in list {
                    if let Some(n) = param(item) {
                        self.note(n, t.clone());
                    }
                }
                if let Some(n) = param(expr) {
                    let t = list.iter().find_map(|i| self.type_of(i));
                    self.note(n, t);
                }
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                let t = self
                    .type_of(expr)
                    .or_else(|| self.type_of(low))
                    .or_else(|| self.type_of(high));
                for x in [expr, low, high] {
                    if let Some(n) = param(x) {
                        self.note(n, t.clone());
                    }
                }
            }
            Expr::Like { expr, pattern, .. } | Expr::ILike { expr, pattern, .. } => {
                for x in [expr, pattern] {
                    if let Some(n) = param(x) {
                        self.note(n, Some(DataType::Text));
                    }
                }
            }
            Expr::AnyOp { left, right, .. } | Expr::AllOp { left, right, .. } => {
                if let Some(n) = param(right) {
                    let t = self.type_of(left).map(|t| DataType::Array(Box::new(t)));
                    self.note(n, t);
                }
                if let Some(n) = param(left) {
                    let t = match self.type_of(right) {
                        Some(DataType::Array(inner)) => Some(*inner),
                        _ => None,
                    };
                    self.note(n, t);
                }
            }
            Expr::IsDistinctFrom(a, b) | Expr::IsNotDistinctFrom(a, b) => {
                if let Some(n) = param(a) {
                    let t = self.type_of(b);
                    self.note(n, t);
                }
                if let Some(n) = param(b) {
                    let t = self.type_of(a);
                    self.note(n, t);
                }
            }
            _ => {}
        }
    }

    fn assignments(&mut self, table: Option<&'c Table>, list: &[ast::Assignment]) {
        let Some(table) = table else { return };
        for a in list {
            if let (AssignmentTarget::ColumnName(col), Some(n)) = (&a.target, param(&a.value)) {
                let name = col.0.last().and_then(|p| p.as_ident()).map(ident);
                let t = name
                    .and_then(|c| table.columns.iter().find(|x| x.name == c))
                    .map(|c| c.ty.clone());
                self.note(n, t);
            }
        }
    }

    fn limit(&mut self, q: &ast::Query) {
        let mut exprs: Vec<&Expr> = Vec::new();
        match &q.limit_clause {
            Some(LimitClause::LimitOffset { limit, offset, .. }) => {
                exprs.extend(limit.iter());
                exprs.extend(offset.iter().map(|o| &o.value));
            }
            Some(LimitClause::OffsetCommaLimit { offset, limit }) => {
                exprs.push(offset);
                exprs.push(limit);
            }
            None => {}
        }
        if let Some(f) = &q.fetch {
            exprs.extend(f.quantity.iter());
        }
        for e in exprs {
            if let Some(n) = param(e) {
                self.note(n, Some(DataType::Int8));
            }
        }
    }

    /// Statement-level contexts: INSERT values and UPDATE/ON CONFLICT assignments.
    fn statement(&mut self, stmt: &Statement) {
        match stmt {
            Statement::Insert(ins) => {
                let ast::TableObject::TableName(name) = &ins.table else {
                    return;
                };
                let Some(table) = self.table(name) else {
                    return;
                };
                let targets: Vec<Option<DataType>> = if ins.columns.is_empty() {
                    table.columns.iter().map(|c| Some(c.ty.clone())).collect()
                } else {
                    ins.columns
                        .iter()
                        .map(|c| {
                            let n = c.0.last().and_then(|p| p.as_ident()).map(ident)?;
                            table
                                .columns
                                .iter()
                                .find(|x| x.name == n)
                                .map(|x| x.ty.clone())
                        })
                        .collect()
                };
                if let Some(source) = &ins.source
                    && let SetExpr::Values(values) = &*source.body
                {
                    for row in &values.rows {
                        for (e, t) in row.iter().zip(&targets) {
                            if let Some(n) = param(e) {
                                self.note(n, t.clone());
                            }
                        }
                    }
                }
                if let Some(OnInsert::OnConflict(c)) = &ins.on
                    && let OnConflictAction::DoUpdate(u) = &c.action
                {
                    self.assignments(Some(table), &u.assignments);
                }
            }
            Statement::Update(up) => {
                let table = match &up.table.relation {
                    TableFactor::Table { name, .. } => self.table(name),
                    _ => None,
                };
                self.assignments(table, &up.assignments);
            }
            _ => {}
        }
    }
}

impl Visitor for Infer<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        if self.collecting
            && let TableFactor::Table { name, alias, .. } = factor
            && let Some(t) = self.table(name)
        {
            let visible = alias
                .as_ref()
                .map(|a| ident(&a.name))
                .unwrap_or_else(|| t.name.clone());
            self.tables.push((visible, t));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ast::ObjectName) -> ControlFlow<()> {
        // INSERT targets and DELETE tables are relations but not table factors.
        if self.collecting
            && let Some(t) = self.table(relation)
            && !self.tables.iter().any(|(_, x)| x.id == t.id)
        {
            self.tables.push((t.name.clone(), t));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, q: &ast::Query) -> ControlFlow<()> {
        if !self.collecting {
            self.limit(q);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        if !self.collecting {
            self.expr(e);
        }
        ControlFlow::Continue(())
    }
}
