//! The expression half of the S3 Select parser: precedence climbing from `OR` down to primaries,
//! `CASE`, `CAST`, date parts and function calls. It shares [`Parser`]'s cursor and depth guard.

use super::*;

impl Parser {
    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Error::select(
                "MaxOperatorsExceeded",
                "Failed to parse SQL expression, try reducing complexity. For example, reduce number of operators used.",
            ));
        }
        Ok(())
    }

    pub(super) fn expr(&mut self) -> Result<Expr> {
        self.enter()?;
        let r = self.or();
        self.depth -= 1;
        r
    }

    fn or(&mut self) -> Result<Expr> {
        let mut l = self.and()?;
        while self.eat_kw("OR") {
            let r = self.and()?;
            l = Expr::Binary(BinOp::Or, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn and(&mut self) -> Result<Expr> {
        let mut l = self.not()?;
        while self.eat_kw("AND") {
            let r = self.not()?;
            l = Expr::Binary(BinOp::And, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn not(&mut self) -> Result<Expr> {
        if self.eat_kw("NOT") {
            self.enter()?;
            let e = self.not();
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr> {
        let l = self.concat()?;
        let op = match self.peek().tok {
            Tok::Eq => Some(BinOp::Eq),
            Tok::Ne => Some(BinOp::Ne),
            Tok::Lt => Some(BinOp::Lt),
            Tok::Le => Some(BinOp::Le),
            Tok::Gt => Some(BinOp::Gt),
            Tok::Ge => Some(BinOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.bump();
            let r = self.concat()?;
            return Ok(Expr::Binary(op, Box::new(l), Box::new(r)));
        }
        if self.eat_kw("IS") {
            let negated = self.eat_kw("NOT");
            if self.eat_kw("NULL") {
                return Ok(Expr::IsNull(Box::new(l), negated));
            }
            if self.eat_kw("MISSING") {
                return Ok(Expr::IsMissing(Box::new(l), negated));
            }
            return Err(Error::parse(
                "ParseExpectedKeyword",
                "The expected keyword in the SQL expression was not found.",
                self.pos(),
            ));
        }
        let negated = if self.peek().tok.is_kw("NOT")
            && (self.peek_at(1).is_kw("LIKE")
                || self.peek_at(1).is_kw("BETWEEN")
                || self.peek_at(1).is_kw("IN"))
        {
            self.bump();
            true
        } else {
            false
        };
        if self.eat_kw("LIKE") {
            let pattern = self.concat()?;
            let escape = if self.eat_kw("ESCAPE") {
                Some(Box::new(self.concat()?))
            } else {
                None
            };
            return Ok(Expr::Like {
                expr: Box::new(l),
                pattern: Box::new(pattern),
                escape,
                negated,
            });
        }
        if self.eat_kw("BETWEEN") {
            let low = self.concat()?;
            self.expect_kw("AND")?;
            let high = self.concat()?;
            return Ok(Expr::Between {
                expr: Box::new(l),
                low: Box::new(low),
                high: Box::new(high),
                negated,
            });
        }
        if self.eat_kw("IN") {
            self.expect(
                &Tok::LParen,
                "ParseExpectedLeftParenValueConstructor",
                "The expected left parenthesis in the SQL expression was not found.",
            )?;
            let mut list = vec![self.expr()?];
            while self.eat(&Tok::Comma) {
                list.push(self.expr()?);
            }
            self.expect(
                &Tok::RParen,
                "ParseExpectedTokenType",
                "The expected token in the SQL expression was not found.",
            )?;
            return Ok(Expr::In {
                expr: Box::new(l),
                list,
                negated,
            });
        }
        Ok(l)
    }

    fn concat(&mut self) -> Result<Expr> {
        let mut l = self.additive()?;
        while self.eat(&Tok::Concat) {
            let r = self.additive()?;
            l = Expr::Binary(BinOp::Concat, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn additive(&mut self) -> Result<Expr> {
        let mut l = self.multiplicative()?;
        loop {
            let op = match self.peek().tok {
                Tok::Plus => BinOp::Add,
                Tok::Minus => BinOp::Sub,
                _ => return Ok(l),
            };
            self.bump();
            let r = self.multiplicative()?;
            l = Expr::Binary(op, Box::new(l), Box::new(r));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr> {
        let mut l = self.unary()?;
        loop {
            let op = match self.peek().tok {
                Tok::Star => BinOp::Mul,
                Tok::Slash => BinOp::Div,
                Tok::Percent => BinOp::Mod,
                _ => return Ok(l),
            };
            self.bump();
            let r = self.unary()?;
            l = Expr::Binary(op, Box::new(l), Box::new(r));
        }
    }

    fn unary(&mut self) -> Result<Expr> {
        if self.eat(&Tok::Minus) {
            self.enter()?;
            let e = self.unary();
            self.depth -= 1;
            return Ok(Expr::Neg(Box::new(e?)));
        }
        if self.eat(&Tok::Plus) {
            self.enter()?;
            let e = self.unary();
            self.depth -= 1;
            return e;
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Int(s) => {
                self.bump();
                match s.parse::<i64>() {
                    Ok(i) => Ok(Expr::Lit(Literal::Int(i))),
                    // Beyond INT's range an integer literal is an exact DECIMAL.
                    Err(_) => Decimal::parse(s)
                        .map(|d| Expr::Lit(Literal::Decimal(d)))
                        .ok_or_else(|| {
                            Error::parse(
                                "LexerInvalidLiteral",
                                "The SQL expression contains a literal that is not valid.",
                                t.pos,
                            )
                        }),
                }
            }
            Tok::Float(s) => {
                self.bump();
                Decimal::parse(s)
                    .map(|d| Expr::Lit(Literal::Decimal(d)))
                    .ok_or_else(|| {
                        Error::parse(
                            "LexerInvalidLiteral",
                            "The SQL expression contains a literal that is not valid.",
                            t.pos,
                        )
                    })
            }
            Tok::Str(s) => {
                self.bump();
                Ok(Expr::Lit(Literal::Str(s.clone())))
            }
            Tok::LParen => {
                self.bump();
                let e = self.expr()?;
                self.expect(
                    &Tok::RParen,
                    "ParseExpectedTokenType",
                    "The expected token in the SQL expression was not found.",
                )?;
                Ok(e)
            }
            Tok::Ident { text, quoted: true } => {
                self.bump();
                let steps = self.steps()?;
                Ok(Expr::Path {
                    root: text.clone(),
                    quoted: true,
                    steps,
                })
            }
            Tok::Ident {
                text,
                quoted: false,
            } => {
                let upper = text.to_ascii_uppercase();
                match upper.as_str() {
                    "NULL" => {
                        self.bump();
                        return Ok(Expr::Lit(Literal::Null));
                    }
                    "MISSING" => {
                        self.bump();
                        return Ok(Expr::Lit(Literal::Missing));
                    }
                    "TRUE" | "FALSE" => {
                        self.bump();
                        return Ok(Expr::Lit(Literal::Bool(upper == "TRUE")));
                    }
                    "CASE" => return self.case(),
                    "CAST" => return self.cast(),
                    _ => {}
                }
                if *self.peek_at(1) == Tok::LParen {
                    return self.call(&upper);
                }
                if RESERVED.contains(&upper.as_str())
                    || matches!(upper.as_str(), "SELECT" | "FROM" | "WHERE")
                {
                    return Err(Error::parse(
                        "ParseExpectedExpression",
                        "The expected SQL expression was not found.",
                        t.pos,
                    ));
                }
                self.bump();
                let steps = self.steps()?;
                Ok(Expr::Path {
                    root: text.clone(),
                    quoted: false,
                    steps,
                })
            }
            _ => Err(Error::parse(
                "ParseExpectedExpression",
                "The expected SQL expression was not found.",
                t.pos,
            )),
        }
    }

    fn case(&mut self) -> Result<Expr> {
        self.bump();
        let operand = if self.peek().tok.is_kw("WHEN") {
            None
        } else {
            Some(Box::new(self.expr()?))
        };
        let mut whens = Vec::new();
        while self.eat_kw("WHEN") {
            let w = self.expr()?;
            self.expect_kw("THEN")?;
            let t = self.expr()?;
            whens.push((w, t));
        }
        if whens.is_empty() {
            return Err(Error::parse(
                "ParseExpectedWhenClause",
                "The expected WHEN clause in the SQL expression was not found. CASE is not supported.",
                self.pos(),
            ));
        }
        let otherwise = if self.eat_kw("ELSE") {
            Some(Box::new(self.expr()?))
        } else {
            None
        };
        self.expect_kw("END")?;
        Ok(Expr::Case {
            operand,
            whens,
            otherwise,
        })
    }

    fn cast(&mut self) -> Result<Expr> {
        self.bump();
        self.expect(
            &Tok::LParen,
            "ParseExpectedLeftParenAfterCast",
            "The expected left parenthesis after CAST in the SQL expression was not found.",
        )?;
        let e = self.expr()?;
        if !self.eat_kw("AS") {
            return Err(Error::parse(
                "ParseCastArity",
                "The SQL expression CAST has incorrect arity.",
                self.pos(),
            ));
        }
        let pos = self.pos();
        let ty = match self.bump().tok {
            Tok::Ident { text, .. } => CastType::from_name(&text).ok_or_else(|| {
                Error::parse(
                    "ParseExpectedTypeName",
                    "The expected type name in the SQL expression was not found.",
                    pos,
                )
            })?,
            _ => {
                return Err(Error::parse(
                    "ParseExpectedTypeName",
                    "The expected type name in the SQL expression was not found.",
                    pos,
                ));
            }
        };
        // Optional precision, as in DECIMAL(10, 2), is accepted and ignored.
        if self.eat(&Tok::LParen) {
            while !matches!(self.peek().tok, Tok::RParen | Tok::Eof) {
                let p = self.pos();
                match self.bump().tok {
                    Tok::Int(_) | Tok::Comma => {}
                    _ => {
                        return Err(Error::parse(
                            "ParseInvalidTypeParam",
                            "The SQL expression contains a parameter value that is not valid.",
                            p,
                        ));
                    }
                }
            }
            self.expect(
                &Tok::RParen,
                "ParseExpectedTokenType",
                "The expected token in the SQL expression was not found.",
            )?;
        }
        self.expect(
            &Tok::RParen,
            "ParseExpectedRightParenBuiltinFunctionCall",
            "The expected right parenthesis character in the SQL expression was not found.",
        )?;
        Ok(Expr::Cast(Box::new(e), ty))
    }

    fn close_call(&mut self) -> Result<()> {
        if matches!(self.peek().tok, Tok::RParen) {
            self.bump();
            Ok(())
        } else if matches!(self.peek().tok, Tok::Eof) {
            Err(Error::parse(
                "ParseExpectedRightParenBuiltinFunctionCall",
                "The expected right parenthesis character in the SQL expression was not found.",
                self.pos(),
            ))
        } else {
            Err(Error::parse(
                "ParseExpectedArgumentDelimiter",
                "The expected argument delimiter in the SQL expression was not found.",
                self.pos(),
            ))
        }
    }

    fn date_part(&mut self) -> Result<DatePart> {
        let pos = self.pos();
        match self.bump().tok {
            Tok::Ident { text, .. } => DatePart::from_name(&text).ok_or_else(|| {
                Error::parse(
                    "ParseExpectedDatePart",
                    "The expected date part in the SQL expression was not found.",
                    pos,
                )
            }),
            _ => Err(Error::parse(
                "ParseExpectedDatePart",
                "The expected date part in the SQL expression was not found.",
                pos,
            )),
        }
    }

    fn call(&mut self, name: &str) -> Result<Expr> {
        let name_pos = self.pos();
        self.bump();
        self.bump(); // `(`
        if let Some(agg) = AggFunc::from_name(name) {
            if self.eat(&Tok::Star) {
                if agg != AggFunc::Count {
                    return Err(Error::parse(
                        "ParseUnsupportedCallWithStar",
                        "Only COUNT with (*) as a parameter is supported in the SQL expression.",
                        name_pos,
                    ));
                }
                self.close_call()?;
                return Ok(Expr::Agg(agg, None));
            }
            let arg = self.expr()?;
            if matches!(self.peek().tok, Tok::Comma) {
                return Err(Error::parse(
                    "ParseNonUnaryAgregateFunctionCall",
                    "Only one argument is supported for aggregate functions in the SQL expression.",
                    self.pos(),
                ));
            }
            self.close_call()?;
            if arg.has_aggregate() {
                return Err(Error::parse(
                    "UnsupportedSqlStructure",
                    "We encountered an unsupported SQL structure. Check the SQL Reference.",
                    name_pos,
                ));
            }
            return Ok(Expr::Agg(agg, Some(Box::new(arg))));
        }
        match name {
            "SUBSTRING" => {
                let s = self.expr()?;
                let from_kw = self.eat_kw("FROM");
                if !from_kw {
                    self.expect(
                        &Tok::Comma,
                        "ParseExpectedArgumentDelimiter",
                        "The expected argument delimiter in the SQL expression was not found.",
                    )?;
                }
                let a = self.expr()?;
                let b = if (from_kw && self.eat_kw("FOR")) || (!from_kw && self.eat(&Tok::Comma)) {
                    Some(Box::new(self.expr()?))
                } else {
                    None
                };
                self.close_call()?;
                Ok(Expr::Substring(Box::new(s), Box::new(a), b))
            }
            "TRIM" => {
                let spec = if self.eat_kw("LEADING") {
                    Some(TrimSpec::Leading)
                } else if self.eat_kw("TRAILING") {
                    Some(TrimSpec::Trailing)
                } else if self.eat_kw("BOTH") {
                    Some(TrimSpec::Both)
                } else {
                    None
                };
                if self.eat_kw("FROM") {
                    let s = self.expr()?;
                    self.close_call()?;
                    return Ok(Expr::Trim(
                        spec.unwrap_or(TrimSpec::Both),
                        None,
                        Box::new(s),
                    ));
                }
                let first = self.expr()?;
                if self.eat_kw("FROM") {
                    let s = self.expr()?;
                    self.close_call()?;
                    return Ok(Expr::Trim(
                        spec.unwrap_or(TrimSpec::Both),
                        Some(Box::new(first)),
                        Box::new(s),
                    ));
                }
                if spec.is_some() {
                    return Err(Error::parse(
                        "ParseExpectedKeyword",
                        "The expected keyword in the SQL expression was not found.",
                        self.pos(),
                    ));
                }
                self.close_call()?;
                Ok(Expr::Trim(TrimSpec::Both, None, Box::new(first)))
            }
            "EXTRACT" => {
                let part = self.date_part()?;
                self.expect_kw("FROM")?;
                let e = self.expr()?;
                self.close_call()?;
                Ok(Expr::Extract(part, Box::new(e)))
            }
            "DATE_ADD" | "DATE_DIFF" => {
                let part = self.date_part()?;
                if matches!(part, DatePart::TimezoneHour | DatePart::TimezoneMinute) {
                    return Err(Error::parse(
                        "ParseExpectedDatePart",
                        "The expected date part in the SQL expression was not found.",
                        name_pos,
                    ));
                }
                self.expect(
                    &Tok::Comma,
                    "ParseExpectedArgumentDelimiter",
                    "The expected argument delimiter in the SQL expression was not found.",
                )?;
                let a = self.expr()?;
                self.expect(
                    &Tok::Comma,
                    "ParseExpectedArgumentDelimiter",
                    "The expected argument delimiter in the SQL expression was not found.",
                )?;
                let b = self.expr()?;
                self.close_call()?;
                Ok(if name == "DATE_ADD" {
                    Expr::DateAdd(part, Box::new(a), Box::new(b))
                } else {
                    Expr::DateDiff(part, Box::new(a), Box::new(b))
                })
            }
            _ => {
                let Some(func) = Func::from_name(name) else {
                    return Err(Error::parse(
                        "UnsupportedFunction",
                        "We encountered an unsupported SQL function.",
                        name_pos,
                    ));
                };
                let mut args = Vec::new();
                if !matches!(self.peek().tok, Tok::RParen) {
                    args.push(self.expr()?);
                    while self.eat(&Tok::Comma) {
                        args.push(self.expr()?);
                    }
                }
                self.close_call()?;
                let (min, max) = func.arity();
                if args.len() < min || args.len() > max {
                    return Err(Error::parse(
                        "EvaluatorInvalidArguments",
                        "There is an incorrect number of arguments in the function call in the SQL expression.",
                        name_pos,
                    ));
                }
                Ok(Expr::Call(func, args))
            }
        }
    }
}
