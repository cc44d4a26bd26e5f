//! The PartiQL parser for DynamoDB's statement forms: `SELECT … FROM "t"[."index"] [WHERE …]`,
//! `INSERT INTO "t" VALUE {…}`, `UPDATE "t" SET …|REMOVE … [WHERE …]`, `DELETE FROM "t" [WHERE …]`.
//!
//! Conditions and updates are built as the expression language's trees with literal operands,
//! so evaluation is shared with the rest of the engine. `?` parameters are bound while parsing.
//!
//! Guarantees: never panics, and nesting (parentheses, `NOT`, function calls, maps, lists, sets)
//! deeper than [`MAX_NESTING`] is an error rather than a stack overflow.

use super::lex::{Tok, lex};
use crate::expr::parse::MAX_NESTING;
use crate::expr::{Action, CmpOp, Cond, Name, Operand, Path, PathElem, SetValue};
use crate::number::Number;
use crate::value::{AttributeValue, Item};

/// A parsed statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// A read.
    Select {
        /// The table.
        table: String,
        /// An index.
        index: Option<String>,
        /// `None` for `*`.
        projection: Option<Vec<Path>>,
        /// The WHERE clause.
        cond: Option<Cond>,
    },
    /// An insert.
    Insert {
        /// The table.
        table: String,
        /// The item.
        item: Item,
    },
    /// An update.
    Update {
        /// The table.
        table: String,
        /// SET and REMOVE actions.
        actions: Vec<Action>,
        /// The WHERE clause.
        cond: Option<Cond>,
    },
    /// A delete.
    Delete {
        /// The table.
        table: String,
        /// The WHERE clause.
        cond: Option<Cond>,
    },
}

struct P<'a> {
    toks: Vec<Tok>,
    pos: usize,
    params: &'a [AttributeValue],
    next_param: usize,
    /// How many nested constructs enclose the current position (see [`P::nested`]).
    depth: usize,
}

type R<T> = Result<T, String>;

impl P<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn kw(&self, k: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s.eq_ignore_ascii_case(k))
    }

    fn eat_kw(&mut self, k: &str) -> bool {
        if self.kw(k) {
            self.bump();
            true
        } else {
            false
        }
    }

    /// Runs one recursive descent step one level deeper. A statement is at most 8 KB, enough
    /// for thousands of `(` or `[`, and each level costs several stack frames: the bound keeps
    /// hostile input from overflowing the stack.
    fn nested<T>(&mut self, step: impl FnOnce(&mut Self) -> R<T>) -> R<T> {
        if self.depth >= MAX_NESTING {
            return Err(format!(
                "unexpected {}: nesting deeper than {MAX_NESTING} levels",
                show(self.peek())
            ));
        }
        self.depth += 1;
        let r = step(self);
        self.depth -= 1;
        r
    }

    fn expect_kw(&mut self, k: &str) -> R<()> {
        if self.eat_kw(k) {
            Ok(())
        } else {
            Err(format!("expected {k}, found {}", show(self.peek())))
        }
    }

    fn sym(&self, s: &str) -> bool {
        matches!(self.peek(), Tok::Sym(x) if *x == s)
    }

    fn eat(&mut self, s: &str) -> bool {
        if self.sym(s) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, s: &str) -> R<()> {
        if self.eat(s) {
            Ok(())
        } else {
            Err(format!("expected '{s}', found {}", show(self.peek())))
        }
    }

    fn name(&mut self) -> R<String> {
        match self.bump() {
            Tok::Ident(s) | Tok::Quoted(s) => Ok(s),
            t => Err(format!("expected a name, found {}", show(&t))),
        }
    }

    fn path(&mut self) -> R<Path> {
        let mut elems = vec![PathElem::Attr(Name::Plain(self.name()?))];
        loop {
            if self.eat(".") {
                elems.push(PathElem::Attr(Name::Plain(self.name()?)));
            } else if self.sym("[") && matches!(self.toks.get(self.pos + 1), Some(Tok::Num(_))) {
                self.bump();
                let Tok::Num(n) = self.bump() else {
                    return Err("expected an index".into());
                };
                elems.push(PathElem::Index(
                    n.parse().map_err(|_| format!("invalid index {n}"))?,
                ));
                self.expect("]")?;
            } else {
                return Ok(Path(elems));
            }
        }
    }

    fn value(&mut self) -> R<AttributeValue> {
        match self.bump() {
            Tok::Str(s) => Ok(AttributeValue::S(s)),
            Tok::Num(n) => n
                .parse::<Number>()
                .map(AttributeValue::N)
                .map_err(|e| e.to_string()),
            Tok::Param => {
                let v = self
                    .params
                    .get(self.next_param)
                    .cloned()
                    .ok_or("Number of parameters in request and statement don't match.")?;
                self.next_param += 1;
                Ok(v)
            }
            Tok::Ident(s) if s.eq_ignore_ascii_case("true") => Ok(AttributeValue::Bool(true)),
            Tok::Ident(s) if s.eq_ignore_ascii_case("false") => Ok(AttributeValue::Bool(false)),
            Tok::Ident(s) if s.eq_ignore_ascii_case("null") => Ok(AttributeValue::Null(true)),
            Tok::Sym("{") => {
                let mut m = Item::new();
                if !self.eat("}") {
                    loop {
                        let k = match self.bump() {
                            Tok::Str(s) => s,
                            t => return Err(format!("expected a string key, found {}", show(&t))),
                        };
                        self.expect(":")?;
                        let v = self.nested(Self::value)?;
                        m.insert(k, v);
                        if self.eat("}") {
                            break;
                        }
                        self.expect(",")?;
                    }
                }
                Ok(AttributeValue::M(m))
            }
            Tok::Sym("[") => {
                let mut l = Vec::new();
                if !self.eat("]") {
                    loop {
                        l.push(self.nested(Self::value)?);
                        if self.eat("]") {
                            break;
                        }
                        self.expect(",")?;
                    }
                }
                Ok(AttributeValue::L(l))
            }
            Tok::Sym("<<") => {
                let mut l = Vec::new();
                loop {
                    l.push(self.nested(Self::value)?);
                    if self.eat(">>") {
                        break;
                    }
                    self.expect(",")?;
                }
                set_of(l)
            }
            t => Err(format!("unexpected {}", show(&t))),
        }
    }

    fn is_value_start(&self) -> bool {
        match self.peek() {
            Tok::Str(_) | Tok::Num(_) | Tok::Param => true,
            Tok::Sym(s) => matches!(*s, "{" | "[" | "<<"),
            Tok::Ident(s) => ["true", "false", "null"]
                .iter()
                .any(|k| s.eq_ignore_ascii_case(k)),
            _ => false,
        }
    }

    fn operand(&mut self) -> R<Operand> {
        if self.is_value_start() {
            return Ok(Operand::Literal(self.value()?));
        }
        if let Tok::Ident(f) = self.peek().clone()
            && self.toks.get(self.pos + 1) == Some(&Tok::Sym("("))
        {
            self.bump();
            self.bump();
            let mut args = vec![self.nested(Self::operand)?];
            while self.eat(",") {
                args.push(self.nested(Self::operand)?);
            }
            self.expect(")")?;
            return Ok(Operand::Call(f.to_ascii_lowercase(), args));
        }
        Ok(Operand::Path(self.path()?))
    }

    fn or(&mut self) -> R<Cond> {
        let mut l = self.and()?;
        while self.eat_kw("OR") {
            l = Cond::Or(Box::new(l), Box::new(self.and()?));
        }
        Ok(l)
    }

    fn and(&mut self) -> R<Cond> {
        let mut l = self.not()?;
        while self.eat_kw("AND") {
            l = Cond::And(Box::new(l), Box::new(self.not()?));
        }
        Ok(l)
    }

    fn not(&mut self) -> R<Cond> {
        if self.eat_kw("NOT") {
            return Ok(Cond::Not(Box::new(self.nested(Self::not)?)));
        }
        if self.eat("(") {
            let c = self.nested(Self::or)?;
            self.expect(")")?;
            return Ok(c);
        }
        let lhs = self.operand()?;
        let op = match self.peek() {
            Tok::Sym("=") => Some(CmpOp::Eq),
            Tok::Sym("<>") | Tok::Sym("!=") => Some(CmpOp::Ne),
            Tok::Sym("<") => Some(CmpOp::Lt),
            Tok::Sym("<=") => Some(CmpOp::Le),
            Tok::Sym(">") => Some(CmpOp::Gt),
            Tok::Sym(">=") => Some(CmpOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.bump();
            return Ok(Cond::Cmp(op, lhs, self.operand()?));
        }
        if self.eat_kw("BETWEEN") {
            let lo = self.operand()?;
            self.expect_kw("AND")?;
            return Ok(Cond::Between(lhs, lo, self.operand()?));
        }
        if self.eat_kw("IN") {
            let close = if self.eat("[") {
                "]"
            } else {
                self.expect("(")?;
                ")"
            };
            let mut list = vec![self.operand()?];
            while self.eat(",") {
                list.push(self.operand()?);
            }
            self.expect(close)?;
            return Ok(Cond::In(lhs, list));
        }
        if self.eat_kw("IS") {
            let negated = self.eat_kw("NOT");
            let f = if self.eat_kw("MISSING") {
                if negated {
                    "attribute_exists"
                } else {
                    "attribute_not_exists"
                }
            } else if self.eat_kw("NULL") {
                let c = Cond::Call(
                    "attribute_type".into(),
                    vec![lhs, Operand::Literal(AttributeValue::S("NULL".into()))],
                );
                return Ok(if negated { Cond::Not(Box::new(c)) } else { c });
            } else {
                return Err(format!(
                    "expected MISSING or NULL, found {}",
                    show(self.peek())
                ));
            };
            return Ok(Cond::Call(f.into(), vec![lhs]));
        }
        match lhs {
            Operand::Call(f, args) => Ok(Cond::Call(f, args)),
            _ => Err(format!(
                "expected a comparison, found {}",
                show(self.peek())
            )),
        }
    }

    fn where_clause(&mut self) -> R<Option<Cond>> {
        if self.eat_kw("WHERE") {
            Ok(Some(self.or()?))
        } else {
            Ok(None)
        }
    }

    fn statement(&mut self) -> R<Statement> {
        let st = if self.eat_kw("SELECT") {
            let projection = if self.eat("*") {
                None
            } else {
                let mut v = vec![self.path()?];
                while self.eat(",") {
                    v.push(self.path()?);
                }
                Some(v)
            };
            self.expect_kw("FROM")?;
            let table = self.name()?;
            let index = if self.eat(".") {
                Some(self.name()?)
            } else {
                None
            };
            Statement::Select {
                table,
                index,
                projection,
                cond: self.where_clause()?,
            }
        } else if self.eat_kw("INSERT") {
            self.expect_kw("INTO")?;
            let table = self.name()?;
            self.expect_kw("VALUE")?;
            match self.value()? {
                AttributeValue::M(item) => Statement::Insert { table, item },
                _ => return Err("INSERT requires a map value".into()),
            }
        } else if self.eat_kw("UPDATE") {
            let table = self.name()?;
            let mut actions = Vec::new();
            loop {
                if self.eat_kw("SET") {
                    let p = self.path()?;
                    self.expect("=")?;
                    let a = self.operand()?;
                    let v = if self.eat("+") {
                        SetValue::Plus(a, self.operand()?)
                    } else if self.eat("-") {
                        SetValue::Minus(a, self.operand()?)
                    } else {
                        SetValue::Operand(a)
                    };
                    actions.push(Action::Set(p, v));
                } else if self.eat_kw("REMOVE") {
                    actions.push(Action::Remove(self.path()?));
                } else {
                    break;
                }
                while self.eat(",") {
                    let p = self.path()?;
                    if self.eat("=") {
                        actions.push(Action::Set(p, SetValue::Operand(self.operand()?)));
                    } else {
                        actions.push(Action::Remove(p));
                    }
                }
            }
            if actions.is_empty() {
                return Err(format!(
                    "expected SET or REMOVE, found {}",
                    show(self.peek())
                ));
            }
            Statement::Update {
                table,
                actions,
                cond: self.where_clause()?,
            }
        } else if self.eat_kw("DELETE") {
            self.expect_kw("FROM")?;
            let table = self.name()?;
            Statement::Delete {
                table,
                cond: self.where_clause()?,
            }
        } else {
            return Err(format!("unexpected {}", show(self.peek())));
        };
        self.eat(";");
        if *self.peek() != Tok::Eof {
            return Err(format!("unexpected {}", show(self.peek())));
        }
        if self.next_param != self.params.len() {
            return Err("Number of parameters in request and statement don't match.".into());
        }
        Ok(st)
    }
}

fn set_of(l: Vec<AttributeValue>) -> R<AttributeValue> {
    if l.iter().all(|v| matches!(v, AttributeValue::S(_))) {
        Ok(AttributeValue::Ss(
            l.into_iter()
                .filter_map(|v| v.as_s().map(str::to_owned))
                .collect(),
        ))
    } else if l.iter().all(|v| matches!(v, AttributeValue::N(_))) {
        Ok(AttributeValue::Ns(
            l.into_iter().filter_map(|v| v.as_n().copied()).collect(),
        ))
    } else if l.iter().all(|v| matches!(v, AttributeValue::B(_))) {
        Ok(AttributeValue::Bs(
            l.into_iter()
                .filter_map(|v| {
                    if let AttributeValue::B(b) = v {
                        Some(b)
                    } else {
                        None
                    }
                })
                .collect(),
        ))
    } else {
        Err("a set's elements must all be strings, numbers or binaries".into())
    }
}

fn show(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => s.clone(),
        Tok::Quoted(s) => format!("\"{s}\""),
        Tok::Str(s) => format!("'{s}'"),
        Tok::Num(n) => n.clone(),
        Tok::Param => "?".into(),
        Tok::Sym(s) => (*s).to_owned(),
        Tok::Eof => "end of statement".into(),
    }
}

/// Parses one statement with its parameters.
pub fn parse(statement: &str, params: &[AttributeValue]) -> Result<Statement, String> {
    let toks = lex(statement)?;
    P {
        toks,
        pos: 0,
        params,
        next_param: 0,
        depth: 0,
    }
    .statement()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements() {
        let s = parse(
            r#"SELECT * FROM "Music" WHERE Artist = 'Acme' AND Year > 2000"#,
            &[],
        )
        .unwrap();
        assert!(
            matches!(s, Statement::Select { ref table, cond: Some(_), .. } if table == "Music")
        );
        let s = parse(
            r#"INSERT INTO Music VALUE {'Artist': ?, 'Tags': <<'a','b'>>, 'n': 1.5}"#,
            &[AttributeValue::s("x")],
        )
        .unwrap();
        assert!(matches!(s, Statement::Insert { ref item, .. } if item.len() == 3));
        let s = parse(r#"UPDATE Music SET Plays = Plays + 1 REMOVE Old WHERE Artist = 'a' AND SongTitle = 'b'"#, &[]).unwrap();
        assert!(matches!(s, Statement::Update { ref actions, .. } if actions.len() == 2));
        assert!(parse("DELETE FROM Music WHERE Artist = ?", &[]).is_err());
        assert!(parse("SELECT FROM", &[]).is_err());
        assert!(parse("SELECT * FROM t WHERE a IS NOT MISSING", &[]).is_ok());
    }

    /// Found by the `partiql` fuzz target's deep-nesting probe: 2000 nested parentheses
    /// overflowed the stack (parentheses, `NOT`, calls, maps, lists and sets all recursed
    /// without bound).
    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let n = 4000;
        let deep = [
            format!(
                "SELECT * FROM T WHERE {}a = 1{}",
                "(".repeat(n),
                ")".repeat(n)
            ),
            format!("SELECT * FROM T WHERE {}a = 1", "NOT ".repeat(n)),
            format!(
                "SELECT * FROM T WHERE {}a{}",
                "size(".repeat(n),
                ")".repeat(n)
            ),
            format!(
                "INSERT INTO T VALUE {{'a': {}{}}}",
                "[".repeat(n),
                "]".repeat(n)
            ),
            format!(
                "INSERT INTO T VALUE {}1{}",
                "{'a': ".repeat(n),
                "}".repeat(n)
            ),
            format!(
                "INSERT INTO T VALUE {{'a': {}'x'{}}}",
                "<<".repeat(n),
                ">>".repeat(n)
            ),
        ];
        for s in &deep {
            let e = parse(s, &[]).unwrap_err();
            assert!(e.contains("nesting deeper than 64 levels"), "{e}");
        }
        // Nesting within the bound still parses.
        let ok = format!(
            "SELECT * FROM T WHERE {}a = 1{}",
            "(".repeat(60),
            ")".repeat(60)
        );
        assert!(parse(&ok, &[]).is_ok());
        let ok = format!(
            "INSERT INTO T VALUE {{'a': {}{}}}",
            "[".repeat(30),
            "]".repeat(30)
        );
        assert!(parse(&ok, &[]).is_ok());
    }
}
