//! Binding binary operators (with PostgreSQL's operand coercions and result types) and literals.

use super::*;

impl Binder<'_> {
    /// Binds `left op right`, coercing untyped operands and expanding row comparisons.
    pub fn binary(&mut self, op: BinOp, (l, lt): Typed, (r, rt): Typed) -> Result<Typed> {
        if matches!(op, BinOp::And | BinOp::Or) {
            bool_type_check(&lt, if op == BinOp::And { "AND" } else { "OR" })?;
            bool_type_check(&rt, if op == BinOp::And { "AND" } else { "OR" })?;
            let l = coerce(l, &lt, &DataType::Bool)?;
            let r = coerce(r, &rt, &DataType::Bool)?;
            return Ok((
                Expr::Binary {
                    op,
                    left: Box::new(l),
                    right: Box::new(r),
                },
                DataType::Bool,
            ));
        }
        // Untyped operands take the other side's type (PostgreSQL's unknown-literal rule).
        let (l, r) = match (&lt, &rt) {
            (DataType::Unknown, t) if *t != DataType::Unknown && !matches!(op, BinOp::Concat) => {
                (coerce(l, &lt, &operand_type(op, t))?, r)
            }
            (t, DataType::Unknown) if *t != DataType::Unknown && !matches!(op, BinOp::Concat) => {
                (l, coerce(r, &rt, &operand_type_right(op, t))?)
            }
            _ => (l, r),
        };
        let lt2 = if lt == DataType::Unknown && rt != DataType::Unknown && op != BinOp::Concat {
            operand_type(op, &rt)
        } else {
            lt
        };
        let rt2 = if rt == DataType::Unknown && lt2 != DataType::Unknown && op != BinOp::Concat {
            operand_type_right(op, &lt2)
        } else {
            rt
        };
        let t = binary_type(op, &lt2, &rt2)?;
        // Fold constant arithmetic on literals (keeps index lookups on `id = 1 + 1` possible).
        if let (Expr::Literal(a), Expr::Literal(b)) = (&l, &r)
            && !matches!(op, BinOp::Regex { .. })
            && let Ok(v) = crate::ops::binary(op, a, b)
        {
            return Ok((Expr::Literal(v), t));
        }
        Ok((
            Expr::Binary {
                op,
                left: Box::new(l),
                right: Box::new(r),
            },
            t,
        ))
    }

    pub(super) fn literal(&mut self, v: &ast::Value) -> Result<Typed> {
        use ast::Value as V;
        Ok(match v {
            V::Number(n, _) => number_literal(n)?,
            V::SingleQuotedString(s)
            | V::EscapedStringLiteral(s)
            | V::NationalStringLiteral(s)
            | V::UnicodeStringLiteral(s) => {
                (Expr::Literal(Value::text(s.as_str())), DataType::Unknown)
            }
            V::DollarQuotedString(d) => (
                Expr::Literal(Value::text(d.value.as_str())),
                DataType::Unknown,
            ),
            V::HexStringLiteral(h) => (
                Expr::Literal(cast::cast(
                    &Value::text(format!("\\x{h}")),
                    &DataType::Bytea,
                    CastMode::Explicit,
                )?),
                DataType::Bytea,
            ),
            V::Boolean(b) => (Expr::Literal(Value::Bool(*b)), DataType::Bool),
            V::Null => (Expr::Literal(Value::Null), DataType::Unknown),
            V::Placeholder(p) => {
                let n: usize =
                    p.trim_start_matches('$')
                        .parse()
                        .map_err(|_| AuroraError::Syntax {
                            message: format!("syntax error at or near \"{p}\""),
                        })?;
                if n == 0 || n > 65535 {
                    return Err(AuroraError::sql(
                        "42P02",
                        format!("there is no parameter ${n}"),
                    ));
                }
                if self.param_count < n {
                    self.param_count = n;
                }
                (Expr::Param(n - 1), DataType::Unknown)
            }
            other => return Err(AuroraError::unsupported(format!("literal {other}"))),
        })
    }
}
