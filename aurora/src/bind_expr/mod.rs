//! Binding expressions: names to column positions, literals to typed values, operators and
//! functions checked against the types PostgreSQL accepts.
//!
//! Guarantees: an untyped literal (`'2024-01-01'`, `'42'`) takes the type its context demands,
//! as PostgreSQL's `unknown` literals do, and bad text fails at bind time with 22P02; comparing
//! incompatible types is 42883 `operator does not exist: text = integer`; an ungrouped column in
//! a grouped query is 42803.

use std::sync::Arc;

use sqlparser::ast::{self, BinaryOperator as B, UnaryOperator as U};

use crate::agg::is_aggregate;
use crate::bind::{Binder, Ctx, WIN_BASE};
use crate::cast::{self, CastMode};
use crate::catalog::ident;
use crate::error::{AuroraError, Result};
use crate::expr::Expr;
use crate::ops::BinOp;
use crate::plan::{AggCall, Frame, FrameBound, SortKey, WinCall};
use crate::types::{Category, DataType};
use crate::value::Value;
use crate::window::is_window_only;

/// A bound expression and its static type.
pub type Typed = (Expr, DataType);

fn bool_type_check(t: &DataType, what: &str) -> Result<()> {
    if matches!(t, DataType::Bool | DataType::Unknown) {
        Ok(())
    } else {
        Err(AuroraError::datatype_mismatch(format!(
            "argument of {what} must be type boolean, not type {t}"
        )))
    }
}

/// Coerces a bound expression of type `from` to `to` where PostgreSQL would do it implicitly:
/// literals are converted now, parameters and other unknowns get a cast.
pub fn coerce(e: Expr, from: &DataType, to: &DataType) -> Result<Expr> {
    if from == to || *to == DataType::Unknown {
        return Ok(e);
    }
    match (&e, from) {
        (Expr::Literal(v), _)
            if !v.is_null() && (*from == DataType::Unknown || from.category() == to.category()) =>
        {
            Ok(Expr::Literal(cast::cast(v, to, CastMode::Explicit)?))
        }
        (Expr::Literal(Value::Null), _) => Ok(e),
        (_, DataType::Unknown) => Ok(Expr::Cast(Box::new(e), to.clone())),
        _ => Ok(e),
    }
}

fn binop(op: &B) -> Result<BinOp> {
    Ok(match op {
        B::Plus => BinOp::Add,
        B::Minus => BinOp::Sub,
        B::Multiply => BinOp::Mul,
        B::Divide => BinOp::Div,
        B::Modulo => BinOp::Mod,
        B::PGExp => BinOp::Pow,
        B::Eq => BinOp::Eq,
        B::NotEq => BinOp::NotEq,
        B::Lt => BinOp::Lt,
        B::LtEq => BinOp::LtEq,
        B::Gt => BinOp::Gt,
        B::GtEq => BinOp::GtEq,
        B::And => BinOp::And,
        B::Or => BinOp::Or,
        B::StringConcat => BinOp::Concat,
        B::BitwiseAnd => BinOp::BitAnd,
        B::BitwiseOr => BinOp::BitOr,
        B::PGBitwiseXor => BinOp::BitXor,
        B::PGBitwiseShiftLeft => BinOp::Shl,
        B::PGBitwiseShiftRight => BinOp::Shr,
        B::Arrow => BinOp::JsonGet,
        B::LongArrow => BinOp::JsonGetText,
        B::HashArrow => BinOp::JsonPath,
        B::HashLongArrow => BinOp::JsonPathText,
        B::AtArrow => BinOp::Contains,
        B::ArrowAt => BinOp::ContainedBy,
        B::Question => BinOp::HasKey,
        B::QuestionPipe => BinOp::HasAnyKey,
        B::QuestionAnd => BinOp::HasAllKeys,
        B::PGRegexMatch => BinOp::Regex {
            insensitive: false,
            negated: false,
        },
        B::PGRegexIMatch => BinOp::Regex {
            insensitive: true,
            negated: false,
        },
        B::PGRegexNotMatch => BinOp::Regex {
            insensitive: false,
            negated: true,
        },
        B::PGRegexNotIMatch => BinOp::Regex {
            insensitive: true,
            negated: true,
        },
        B::PGStartsWith => BinOp::StartsWith,
        // `OPERATOR(pg_catalog.~)`: psql's schema-qualified spelling of an operator.
        B::PGCustomBinaryOperator(parts)
            if parts.len() == 2 && parts[0].eq_ignore_ascii_case("pg_catalog") =>
        {
            let plain = match parts[1].as_str() {
                "~" => B::PGRegexMatch,
                "~*" => B::PGRegexIMatch,
                "!~" => B::PGRegexNotMatch,
                "!~*" => B::PGRegexNotIMatch,
                "=" => B::Eq,
                "<>" => B::NotEq,
                "<" => B::Lt,
                "<=" => B::LtEq,
                ">" => B::Gt,
                ">=" => B::GtEq,
                "||" => B::StringConcat,
                "+" => B::Plus,
                "-" => B::Minus,
                _ => {
                    return Err(AuroraError::undefined_function(format!(
                        "operator does not exist: {}",
                        parts.join(".")
                    )));
                }
            };
            return binop(&plain);
        }
        other => {
            return Err(AuroraError::undefined_function(format!(
                "operator does not exist: {other}"
            )));
        }
    })
}

fn binary_type(op: BinOp, l: &DataType, r: &DataType) -> Result<DataType> {
    use DataType as T;
    let undefined = || {
        AuroraError::undefined_function(format!("operator does not exist: {l} {} {r}", op.symbol()))
    };
    if op.is_comparison()
        || matches!(
            op,
            BinOp::Regex { .. }
                | BinOp::StartsWith
                | BinOp::Contains
                | BinOp::ContainedBy
                | BinOp::HasKey
                | BinOp::HasAnyKey
                | BinOp::HasAllKeys
        )
    {
        if op.is_comparison() && *l != T::Unknown && *r != T::Unknown && T::common(l, r).is_none() {
            return Err(undefined());
        }
        return Ok(T::Bool);
    }
    Ok(match op {
        BinOp::And | BinOp::Or => T::Bool,
        BinOp::Concat => match (l, r) {
            (T::Jsonb | T::Json, _) | (_, T::Jsonb | T::Json) => T::Jsonb,
            (T::Array(_), _) => l.clone(),
            (_, T::Array(_)) => r.clone(),
            (T::Bytea, T::Bytea) => T::Bytea,
            _ => T::Text,
        },
        BinOp::JsonGet | BinOp::JsonPath => T::Jsonb,
        BinOp::JsonGetText | BinOp::JsonPathText => T::Text,
        _ => match (l.category(), r.category()) {
            (Category::Numeric, Category::Numeric) => {
                if op == BinOp::Pow {
                    if matches!(l, T::Numeric(_)) || matches!(r, T::Numeric(_)) {
                        T::Numeric(None)
                    } else {
                        T::Float8
                    }
                } else {
                    T::common(l, r).ok_or_else(undefined)?
                }
            }
            _ if *l == T::Unknown && r.category() == Category::Numeric => r.clone(),
            _ if *r == T::Unknown && l.category() == Category::Numeric => l.clone(),
            (Category::DateTime, Category::Numeric) if *l == T::Date => T::Date,
            (Category::DateTime, Category::DateTime) if op == BinOp::Sub => {
                if *l == T::Date && *r == T::Date {
                    T::Int4
                } else {
                    T::Interval
                }
            }
            (Category::DateTime, Category::Timespan) | (Category::Timespan, Category::DateTime) => {
                let t = if l.category() == Category::DateTime {
                    l
                } else {
                    r
                };
                match t {
                    T::Date => T::Timestamp,
                    T::Time => T::Time,
                    other => other.clone(),
                }
            }
            (Category::Timespan, _) | (_, Category::Timespan) => T::Interval,
            (Category::DateTime, Category::DateTime) => T::Timestamp,
            (Category::Other, _) if matches!(l, T::Jsonb | T::Json) => T::Jsonb,
            (Category::Numeric | Category::Other, Category::Numeric | Category::Other)
                if matches!(
                    op,
                    BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor | BinOp::Shl | BinOp::Shr
                ) =>
            {
                l.clone()
            }
            _ if *l == T::Unknown || *r == T::Unknown => T::Unknown,
            _ => return Err(undefined()),
        },
    })
}

/// The column name PostgreSQL gives an unaliased select item.
pub fn output_name(e: &ast::Expr) -> String {
    match e {
        ast::Expr::Identifier(i) => ident(i),
        ast::Expr::CompoundIdentifier(parts) => {
            parts.last().map(ident).unwrap_or_else(|| "?column?".into())
        }
        ast::Expr::Function(f) => f
            .name
            .0
            .last()
            .and_then(|p| p.as_ident())
            .map(ident)
            .unwrap_or_else(|| "?column?".into()),
        ast::Expr::Cast {
            expr, data_type, ..
        } => match output_name(expr).as_str() {
            "?column?" => DataType::from_ast(data_type)
                .map(|t| t.base_name())
                .unwrap_or_else(|_| "?column?".into()),
            n => n.to_string(),
        },
        ast::Expr::Nested(inner) => output_name(inner),
        ast::Expr::Case { .. } => "case".into(),
        ast::Expr::Exists { .. } => "exists".into(),
        ast::Expr::Subquery(q) => match q.body.as_ref() {
            ast::SetExpr::Select(s) => match s.projection.first() {
                Some(ast::SelectItem::UnnamedExpr(e)) => output_name(e),
                Some(ast::SelectItem::ExprWithAlias { alias, .. }) => ident(alias),
                _ => "?column?".into(),
            },
            _ => "?column?".into(),
        },
        ast::Expr::Extract { .. } => "extract".into(),
        ast::Expr::Substring { .. } => "substring".into(),
        ast::Expr::Trim { .. } => "btrim".into(),
        ast::Expr::Position { .. } => "position".into(),
        ast::Expr::Ceil { .. } => "ceil".into(),
        ast::Expr::Floor { .. } => "floor".into(),
        ast::Expr::Array(_) => "array".into(),
        ast::Expr::Value(v) if matches!(v.value, ast::Value::Boolean(_)) => "bool".into(),
        ast::Expr::Interval(_) => "interval".into(),
        ast::Expr::TypedString(t) => DataType::from_ast(&t.data_type)
            .map(|t| t.base_name())
            .unwrap_or_else(|_| "?column?".into()),
        _ => "?column?".into(),
    }
}

/// Parses a numeric literal into the narrowest PostgreSQL type.
pub fn number_literal(s: &str) -> Result<Typed> {
    if let Ok(i) = s.parse::<i64>() {
        return Ok(match i32::try_from(i) {
            Ok(v) => (Expr::Literal(Value::Int4(v)), DataType::Int4),
            Err(_) => (Expr::Literal(Value::Int8(i)), DataType::Int8),
        });
    }
    let d = cast::parse_numeric(s).map_err(|_| AuroraError::Syntax {
        message: format!("syntax error at or near \"{s}\""),
    })?;
    Ok((Expr::Literal(Value::Numeric(d)), DataType::Numeric(None)))
}

fn datetime_field(f: &ast::DateTimeField) -> String {
    f.to_string()
        .to_lowercase()
        .trim_end_matches('s')
        .to_string()
}

impl Binder<'_> {
    /// Binds an expression.
    pub fn expr(&mut self, e: &ast::Expr, ctx: &mut Ctx) -> Result<Typed> {
        if let Some(agg) = &ctx.agg
            && !matches!(e, ast::Expr::Value(_))
            && let Some(i) = agg.groups_ast.iter().position(|g| g == e)
        {
            return Ok((Expr::Column(i), agg.group_types[i].clone()));
        }
        self.enter()?;
        let r = self.expr_inner(e, ctx);
        self.leave();
        r
    }

    fn expr_inner(&mut self, e: &ast::Expr, ctx: &mut Ctx) -> Result<Typed> {
        use ast::Expr as E;
        match e {
            E::Identifier(i) => self.column(None, &ident(i), ctx),
            E::CompoundIdentifier(parts) => {
                let names: Vec<String> = parts.iter().map(ident).collect();
                match names.as_slice() {
                    [t, c] => self.column(Some(t), c, ctx),
                    [_, t, c] | [_, _, t, c] => self.column(Some(t), c, ctx),
                    _ => Err(AuroraError::sql(
                        "42601",
                        format!("improper qualified name: {e}"),
                    )),
                }
            }
            E::Value(v) => self.literal(&v.value),
            E::Nested(inner) => self.expr(inner, ctx),
            // The engine compares text bytewise, which is the C collation; PostgreSQL's
            // `default` collation of a C-locale database is the same.
            E::Collate { expr, collation } => {
                crate::pg_catalog::check_collation(&collation.to_string())?;
                self.expr(expr, ctx)
            }
            E::BinaryOp { left, op, right } => {
                let op = binop(op)?;
                let (l, lt) = self.expr(left, ctx)?;
                let (r, rt) = self.expr(right, ctx)?;
                self.binary(op, (l, lt), (r, rt))
            }
            E::UnaryOp { op, expr } => {
                let (x, t) = self.expr(expr, ctx)?;
                match op {
                    U::Not => {
                        bool_type_check(&t, "NOT")?;
                        Ok((
                            Expr::Not(Box::new(coerce(x, &t, &DataType::Bool)?)),
                            DataType::Bool,
                        ))
                    }
                    U::Minus => match x {
                        Expr::Literal(v) if !v.is_null() && t != DataType::Unknown => {
                            // Fold `-2147483648` into an int4 the way PostgreSQL's lexer does.
                            let folded = crate::ops::negate(&v)?;
                            let folded = match (&folded, &v) {
                                (Value::Int8(n), Value::Int8(_)) if i32::try_from(*n).is_ok() => {
                                    Value::Int4(*n as i32)
                                }
                                _ => folded,
                            };
                            let ty = folded.data_type();
                            Ok((
                                Expr::Literal(folded),
                                if matches!(ty, DataType::Numeric(_)) {
                                    t
                                } else {
                                    ty
                                },
                            ))
                        }
                        _ => Ok((
                            Expr::Neg(Box::new(coerce(x, &t, &DataType::Numeric(None))?)),
                            if t == DataType::Unknown {
                                DataType::Numeric(None)
                            } else {
                                t
                            },
                        )),
                    },
                    U::Plus => Ok((x, t)),
                    U::PGSquareRoot => Ok((Expr::Func("sqrt".into(), vec![x]), DataType::Float8)),
                    U::PGAbs => Ok((Expr::Func("abs".into(), vec![x]), t)),
                    U::BitwiseNot => Ok((
                        Expr::Binary {
                            op: BinOp::BitXor,
                            left: Box::new(x),
                            right: Box::new(Expr::Literal(Value::Int8(-1))),
                        },
                        t,
                    )),
                    other => Err(AuroraError::undefined_function(format!(
                        "operator does not exist: {other} {t}"
                    ))),
                }
            }
            E::IsNull(x) | E::IsNotNull(x) => {
                let (b, _) = self.expr(x, ctx)?;
                Ok((
                    Expr::IsNull(Box::new(b), matches!(e, E::IsNotNull(_))),
                    DataType::Bool,
                ))
            }
            E::IsTrue(x)
            | E::IsNotTrue(x)
            | E::IsFalse(x)
            | E::IsNotFalse(x)
            | E::IsUnknown(x)
            | E::IsNotUnknown(x) => {
                let (b, t) = self.expr(x, ctx)?;
                bool_type_check(&t, "IS TRUE")?;
                let b = Box::new(coerce(b, &t, &DataType::Bool)?);
                Ok((
                    match e {
                        E::IsTrue(_) => Expr::IsBool(b, true, false),
                        E::IsNotTrue(_) => Expr::IsBool(b, true, true),
                        E::IsFalse(_) => Expr::IsBool(b, false, false),
                        E::IsNotFalse(_) => Expr::IsBool(b, false, true),
                        E::IsUnknown(_) => Expr::IsNull(b, false),
                        _ => Expr::IsNull(b, true),
                    },
                    DataType::Bool,
                ))
            }
            E::IsDistinctFrom(a, b) | E::IsNotDistinctFrom(a, b) => {
                let (x, xt) = self.expr(a, ctx)?;
                let (y, yt) = self.expr(b, ctx)?;
                let t = DataType::common(&xt, &yt).ok_or_else(|| {
                    AuroraError::undefined_function(format!("operator does not exist: {xt} = {yt}"))
                })?;
                Ok((
                    Expr::IsDistinct(
                        Box::new(coerce(x, &xt, &t)?),
                        Box::new(coerce(y, &yt, &t)?),
                        matches!(e, E::IsNotDistinctFrom(..)),
                    ),
                    DataType::Bool,
                ))
            }
            E::In {
                expr,
                target: ast::InTarget::List(list),
                negated,
                ..
            } => {
                let (x, xt) = self.expr(expr, ctx)?;
                let mut items = Vec::with_capacity(list.len());
                let mut t = xt.clone();
                let mut bound = Vec::new();
                for item in list {
                    let (b, bt) = self.expr(item, ctx)?;
                    t = DataType::common(&t, &bt).ok_or_else(|| {
                        AuroraError::undefined_function(format!(
                            "operator does not exist: {xt} = {bt}"
                        ))
                    })?;
                    bound.push((b, bt));
                }
                for (b, bt) in bound {
                    items.push(coerce(b, &bt, &t)?);
                }
                Ok((
                    Expr::InList(Box::new(coerce(x, &xt, &t)?), items, *negated),
                    DataType::Bool,
                ))
            }
            E::In {
                expr,
                target: ast::InTarget::Subquery(subquery),
                negated,
                ..
            } => {
                let (x, xt) = self.expr(expr, ctx)?;
                let (plan, cols, correlated) = self.subquery(subquery, ctx)?;
                if cols.len() != 1 {
                    return Err(AuroraError::sql("42601", "subquery has too many columns"));
                }
                let st = cols[0].1.clone();
                if DataType::common(&xt, &st).is_none() {
                    return Err(AuroraError::undefined_function(format!(
                        "operator does not exist: {xt} = {st}"
                    )));
                }
                Ok((
                    Expr::InSubquery(Box::new(coerce(x, &xt, &st)?), plan, *negated, correlated),
                    DataType::Bool,
                ))
            }
            E::In {
                expr,
                target: ast::InTarget::Unnest(array_expr),
                negated,
                ..
            } => {
                let (x, _) = self.expr(expr, ctx)?;
                let (a, _) = self.expr(array_expr, ctx)?;
                let any = Expr::AnyArray {
                    left: Box::new(x),
                    op: BinOp::Eq,
                    right: Box::new(a),
                    all: false,
                };
                Ok((
                    if *negated {
                        Expr::Not(Box::new(any))
                    } else {
                        any
                    },
                    DataType::Bool,
                ))
            }
            E::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let x = self.expr(expr, ctx)?;
                let lo = self.expr(low, ctx)?;
                let hi = self.expr(high, ctx)?;
                let (ge, _) = self.binary(BinOp::GtEq, x.clone(), lo)?;
                let (le, _) = self.binary(BinOp::LtEq, x, hi)?;
                let both = Expr::Binary {
                    op: BinOp::And,
                    left: Box::new(ge),
                    right: Box::new(le),
                };
                Ok((
                    if *negated {
                        Expr::Not(Box::new(both))
                    } else {
                        both
                    },
                    DataType::Bool,
                ))
            }
            E::Like {
                negated,
                expr,
                pattern,
                escape_char,
                any: false,
            }
            | E::ILike {
                negated,
                expr,
                pattern,
                escape_char,
                any: false,
            } => {
                let (x, _) = self.expr(expr, ctx)?;
                let (p, _) = self.expr(pattern, ctx)?;
                let escape = match escape_char {
                    Some(c) => Some(Box::new(self.expr(c, ctx)?.0)),
                    None => None,
                };
                Ok((
                    Expr::Like {
                        expr: Box::new(x),
                        pattern: Box::new(p),
                        escape,
                        insensitive: matches!(e, E::ILike { .. }),
                        negated: *negated,
                    },
                    DataType::Bool,
                ))
            }
            E::AnyOp {
                left,
                compare_op,
                right,
                ..
            }
            | E::AllOp {
                left,
                compare_op,
                right,
            } => {
                let all = matches!(e, E::AllOp { .. });
                let op = binop(compare_op)?;
                let (l, lt) = self.expr(left, ctx)?;
                if let E::Subquery(q) = right.as_ref() {
                    let (plan, _, _) = self.subquery(q, ctx)?;
                    return Ok((
                        Expr::AnySubquery {
                            left: Box::new(l),
                            op,
                            plan,
                            all,
                        },
                        DataType::Bool,
                    ));
                }
                let (r, rt) = self.expr(right, ctx)?;
                let r = match (&rt, &r) {
                    (DataType::Unknown, _) => {
                        coerce(r, &rt, &DataType::Array(Box::new(lt.clone())))?
                    }
                    _ => r,
                };
                Ok((
                    Expr::AnyArray {
                        left: Box::new(l),
                        op,
                        right: Box::new(r),
                        all,
                    },
                    DataType::Bool,
                ))
            }
            E::Cast {
                expr, data_type, ..
            } => {
                if let Some(f) = crate::pg_catalog::reg_cast(data_type) {
                    let (x, xt) = self.expr(expr, ctx)?;
                    let t = crate::functions::return_type(f, std::slice::from_ref(&xt))?;
                    return Ok((Expr::Func(f.into(), vec![x]), t));
                }
                let t = DataType::from_ast(data_type)?;
                let (x, xt) = self.expr(expr, ctx)?;
                if let Expr::Literal(v) = &x
                    && (xt == DataType::Unknown || !v.is_null())
                {
                    return Ok((Expr::Literal(cast::cast(v, &t, CastMode::Explicit)?), t));
                }
                Ok((Expr::Cast(Box::new(x), t.clone()), t))
            }
            E::TypedString(ts) => {
                let t = DataType::from_ast(&ts.data_type)?;
                let (v, _) = self.literal(&ts.value.value)?;
                let Expr::Literal(v) = v else {
                    return Err(AuroraError::sql("42601", "bad typed literal"));
                };
                Ok((Expr::Literal(cast::cast(&v, &t, CastMode::Explicit)?), t))
            }
            E::Interval(iv) => {
                let (x, _) = self.expr(&iv.value, ctx)?;
                let text = match &x {
                    Expr::Literal(v) => cast::text_of(v).to_string(),
                    _ => {
                        return Ok((
                            Expr::Cast(Box::new(x), DataType::Interval),
                            DataType::Interval,
                        ));
                    }
                };
                let text = match &iv.leading_field {
                    Some(f) if iv.last_field.is_none() => format!("{text} {}", datetime_field(f)),
                    _ => text,
                };
                Ok((
                    Expr::Literal(cast::cast(
                        &Value::text(text),
                        &DataType::Interval,
                        CastMode::Explicit,
                    )?),
                    DataType::Interval,
                ))
            }
            E::Extract { field, expr, .. } => {
                let (x, _) = self.expr(expr, ctx)?;
                let f = match field {
                    ast::DateTimeField::Custom(i) => ident(i),
                    other => datetime_field(other),
                };
                Ok((
                    Expr::Func("extract".into(), vec![Expr::Literal(Value::text(f)), x]),
                    DataType::Numeric(None),
                ))
            }
            E::Ceil { expr, .. } | E::Floor { expr, .. } => {
                let (x, t) = self.expr(expr, ctx)?;
                let name = if matches!(e, E::Ceil { .. }) {
                    "ceil"
                } else {
                    "floor"
                };
                let t = crate::functions::return_type(name, &[t])?;
                Ok((Expr::Func(name.into(), vec![x]), t))
            }
            E::Position { expr, r#in } => {
                let (needle, _) = self.expr(expr, ctx)?;
                let (hay, _) = self.expr(r#in, ctx)?;
                Ok((
                    Expr::Func("strpos".into(), vec![hay, needle]),
                    DataType::Int4,
                ))
            }
            E::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                let mut args = vec![self.expr(expr, ctx)?.0];
                args.push(match substring_from {
                    Some(f) => self.expr(f, ctx)?.0,
                    None => Expr::Literal(Value::Int4(1)),
                });
                if let Some(f) = substring_for {
                    args.push(self.expr(f, ctx)?.0);
                }
                Ok((Expr::Func("substring".into(), args), DataType::Text))
            }
            E::Trim {
                expr,
                trim_where,
                trim_what,
                trim_characters,
            } => {
                let mut args = vec![self.expr(expr, ctx)?.0];
                if let Some(w) = trim_what {
                    args.push(self.expr(w, ctx)?.0);
                } else if let Some(chars) = trim_characters.as_ref().and_then(|c| c.first()) {
                    args.push(self.expr(chars, ctx)?.0);
                }
                let name = match trim_where {
                    Some(ast::TrimWhereField::Leading) => "ltrim",
                    Some(ast::TrimWhereField::Trailing) => "rtrim",
                    _ => "btrim",
                };
                Ok((Expr::Func(name.into(), args), DataType::Text))
            }
            E::Overlay {
                expr,
                overlay_what,
                overlay_from,
                overlay_for,
            } => {
                let mut args = vec![
                    self.expr(expr, ctx)?.0,
                    self.expr(overlay_what, ctx)?.0,
                    self.expr(overlay_from, ctx)?.0,
                ];
                if let Some(f) = overlay_for {
                    args.push(self.expr(f, ctx)?.0);
                }
                Ok((Expr::Func("overlay".into(), args), DataType::Text))
            }
            E::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                let op = match operand {
                    Some(o) => Some(self.expr(o, ctx)?),
                    None => None,
                };
                let mut whens = Vec::new();
                let mut results = Vec::new();
                for cw in conditions {
                    let (c, ct) = self.expr(&cw.condition, ctx)?;
                    if op.is_none() {
                        bool_type_check(&ct, "CASE/WHEN")?;
                    }
                    whens.push((c, ct));
                    results.push(self.expr(&cw.result, ctx)?);
                }
                let otherwise = match else_result {
                    Some(x) => Some(self.expr(x, ctx)?),
                    None => None,
                };
                let mut t = DataType::Unknown;
                for (_, rt) in results.iter().chain(otherwise.iter()) {
                    t = DataType::common(&t, rt).ok_or_else(|| {
                        AuroraError::datatype_mismatch(format!(
                            "CASE types {t} and {rt} cannot be matched"
                        ))
                    })?;
                }
                if t == DataType::Unknown {
                    t = DataType::Text;
                }
                let op_t = op.as_ref().map(|o| o.1.clone());
                let mut bound_whens = Vec::new();
                for ((c, ct), (r, rt)) in whens.into_iter().zip(results) {
                    let c = match &op_t {
                        Some(ot) => coerce(c, &ct, ot)?,
                        None => c,
                    };
                    bound_whens.push((c, coerce(r, &rt, &t)?));
                }
                let otherwise = match otherwise {
                    Some((x, xt)) => Some(Box::new(coerce(x, &xt, &t)?)),
                    None => None,
                };
                Ok((
                    Expr::Case {
                        operand: op.map(|o| Box::new(o.0)),
                        whens: bound_whens,
                        otherwise,
                    },
                    t,
                ))
            }
            E::Exists { subquery, negated } => {
                let (plan, _, correlated) = self.subquery(subquery, ctx)?;
                Ok((Expr::Exists(plan, *negated, correlated), DataType::Bool))
            }
            E::Subquery(q) => {
                let (plan, cols, correlated) = self.subquery(q, ctx)?;
                if cols.len() != 1 {
                    return Err(AuroraError::sql(
                        "42601",
                        "subquery must return only one column",
                    ));
                }
                Ok((Expr::Scalar(plan, correlated), cols[0].1.clone()))
            }
            E::Array(arr) => {
                let mut items = Vec::new();
                let mut t = DataType::Unknown;
                for x in &arr.elem {
                    let (b, bt) = self.expr(x, ctx)?;
                    t = DataType::common(&t, &bt).ok_or_else(|| {
                        AuroraError::datatype_mismatch(format!(
                            "ARRAY types {t} and {bt} cannot be matched"
                        ))
                    })?;
                    items.push((b, bt));
                }
                if t == DataType::Unknown {
                    t = DataType::Text;
                }
                let items = items
                    .into_iter()
                    .map(|(b, bt)| coerce(b, &bt, &t))
                    .collect::<Result<Vec<_>>>()?;
                Ok((Expr::Array(items), DataType::Array(Box::new(t))))
            }
            E::CompoundFieldAccess { root, access_chain } => {
                let (mut x, mut t) = self.expr(root, ctx)?;
                for access in access_chain {
                    match access {
                        ast::AccessExpr::Subscript(ast::Subscript::Index { index }) => {
                            let (i, _) = self.expr(index, ctx)?;
                            x = Expr::Subscript(Box::new(x), Box::new(i));
                            t = match t {
                                DataType::Array(inner) => *inner,
                                other => other,
                            };
                        }
                        _ => return Err(AuroraError::unsupported("array slices and field access")),
                    }
                }
                Ok((x, t))
            }
            E::Function(f) => self.function(f, ctx),
            E::Tuple(_) => Err(AuroraError::unsupported(
                "row constructors outside comparisons",
            )),
            other => Err(AuroraError::unsupported(format!("expression {other}"))),
        }
    }

    /// Binds one ORDER BY item as a sort key (no output-column lookup).
    pub fn sort_key(&mut self, o: &ast::OrderByExpr, ctx: &mut Ctx) -> Result<SortKey> {
        let (expr, _) = self.expr(&o.expr, ctx)?;
        Ok(make_key(expr, o))
    }

    fn column(&mut self, table: Option<&String>, name: &str, ctx: &mut Ctx) -> Result<Typed> {
        if let Some(agg) = &ctx.agg {
            if let Some(k) = agg.input.resolve(table.map(|s| s.as_str()), name)? {
                if let Some(i) = agg
                    .groups
                    .iter()
                    .position(|g| matches!(g, Expr::Column(c) if *c == k))
                {
                    return Ok((Expr::Column(i), agg.group_types[i].clone()));
                }
                let qual = agg.input.cols[k]
                    .table
                    .clone()
                    .map(|t| format!("{t}."))
                    .unwrap_or_default();
                return Err(AuroraError::sql(
                    "42803",
                    format!(
                        "column \"{qual}{name}\" must appear in the GROUP BY clause or be used in an aggregate function"
                    ),
                ));
            }
        } else if let Some(k) = ctx.scope.resolve(table.map(|s| s.as_str()), name)? {
            return Ok((Expr::Column(k), ctx.scope.cols[k].ty.clone()));
        }
        for (depth, scope) in self.outer.iter().rev().enumerate() {
            if let Some(k) = scope.resolve(table.map(|s| s.as_str()), name)? {
                self.correlated = true;
                return Ok((
                    Expr::Outer {
                        depth: depth + 1,
                        index: k,
                    },
                    scope.cols[k].ty.clone(),
                ));
            }
        }
        if let Some(t) = table {
            if !ctx.scope.has_table(t) && !self.outer.iter().any(|s| s.has_table(t)) {
                return Err(AuroraError::sql(
                    "42P01",
                    format!("missing FROM-clause entry for table \"{t}\""),
                ));
            }
            return Err(AuroraError::UndefinedColumn {
                name: format!("{t}.{name}"),
            });
        }
        Err(AuroraError::UndefinedColumn {
            name: name.to_string(),
        })
    }
}

/// A sort key from a bound expression and the item's options.
pub fn make_key(expr: Expr, o: &ast::OrderByExpr) -> SortKey {
    let desc = o
        .options
        .sort
        .as_ref()
        .is_some_and(|s| matches!(s, ast::OrderBySort::Desc));
    SortKey {
        expr,
        desc,
        nulls_first: o.options.nulls_first.unwrap_or(desc),
    }
}

fn operand_type(op: BinOp, other: &DataType) -> DataType {
    match (op, other) {
        (
            BinOp::JsonGet
            | BinOp::JsonGetText
            | BinOp::JsonPath
            | BinOp::JsonPathText
            | BinOp::HasKey
            | BinOp::HasAnyKey
            | BinOp::HasAllKeys,
            _,
        ) => DataType::Jsonb,
        (BinOp::Add | BinOp::Sub, DataType::Interval) => DataType::Interval,
        _ => other.clone(),
    }
}

fn operand_type_right(op: BinOp, left: &DataType) -> DataType {
    match (op, left) {
        (BinOp::JsonGet | BinOp::JsonGetText | BinOp::HasKey, _) => DataType::Text,
        (BinOp::JsonPath | BinOp::JsonPathText | BinOp::HasAnyKey | BinOp::HasAllKeys, _) => {
            DataType::Array(Box::new(DataType::Text))
        }
        (
            BinOp::Add | BinOp::Sub,
            DataType::Date | DataType::Timestamp | DataType::TimestampTz | DataType::Time,
        ) => DataType::Interval,
        (BinOp::Sub, DataType::Jsonb | DataType::Json) => DataType::Text,
        (BinOp::Mul | BinOp::Div, DataType::Interval) => DataType::Float8,
        _ => left.clone(),
    }
}

fn agg_type(name: &str, types: &[DataType]) -> Result<DataType> {
    let t = types.first().cloned().unwrap_or(DataType::Unknown);
    Ok(match name {
        "count" => DataType::Int8,
        "sum" => match t {
            DataType::Int2 | DataType::Int4 => DataType::Int8,
            DataType::Int8 | DataType::Numeric(_) => DataType::Numeric(None),
            DataType::Float4 | DataType::Float8 => DataType::Float8,
            DataType::Interval => DataType::Interval,
            DataType::Unknown => DataType::Numeric(None),
            other => {
                return Err(AuroraError::undefined_function(format!(
                    "function sum({other}) does not exist"
                )));
            }
        },
        "avg" => match t {
            DataType::Float4 | DataType::Float8 => DataType::Float8,
            DataType::Interval => DataType::Interval,
            t if t.numeric_rank().is_some() || t == DataType::Unknown => DataType::Numeric(None),
            other => {
                return Err(AuroraError::undefined_function(format!(
                    "function avg({other}) does not exist"
                )));
            }
        },
        "min" | "max" => t,
        "string_agg" => DataType::Text,
        "array_agg" => DataType::Array(Box::new(t)),
        "bool_and" | "bool_or" | "every" => DataType::Bool,
        "json_agg" | "jsonb_agg" => DataType::Jsonb,
        _ => match t {
            DataType::Float4 | DataType::Float8 => DataType::Float8,
            _ => DataType::Numeric(None),
        },
    })
}

mod call;
mod operators;
