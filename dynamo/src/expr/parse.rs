//! Recursive-descent parsers for the five expression kinds.
//!
//! Precedence, loosest first, as DynamoDB documents it: `OR`, `AND`, `NOT`, then comparisons,
//! `BETWEEN`, `IN` and functions, with parentheses overriding. Keywords are case-insensitive;
//! function names are case-sensitive (the checker rejects unknown ones). A syntax error names
//! the offending token and the text around it, as DynamoDB does:
//! `Syntax error; token: "<EOF>", near: "a ="`. Guarantees: never panics, and nesting deeper than
//! [`MAX_NESTING`] is a syntax error rather than a stack overflow.

use super::ast::{Action, CmpOp, Cond, Name, Operand, Path, PathElem, SetValue, Update};
use super::lex::{Tok, Token, lex};

/// The deepest nesting of parentheses and function calls accepted.
pub const MAX_NESTING: usize = 64;

/// A syntax error: the token and the text near it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// The offending token (`<EOF>` at the end).
    pub token: String,
    /// The text around it.
    pub near: String,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Syntax error; token: \"{}\", near: \"{}\"",
            self.token, self.near
        )
    }
}

struct Parser<'a> {
    input: &'a str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
}

type PResult<T> = Result<T, SyntaxError>;

const CLAUSES: [&str; 4] = ["SET", "REMOVE", "ADD", "DELETE"];
const KEYWORDS: [&str; 5] = ["AND", "OR", "NOT", "BETWEEN", "IN"];

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> PResult<Self> {
        let toks = lex(input).map_err(|e| SyntaxError {
            token: e.token,
            near: e.near,
        })?;
        Ok(Parser {
            input,
            toks,
            pos: 0,
            depth: 0,
        })
    }

    fn peek(&self) -> &Tok {
        // `lex` always ends with Eof and the parser never moves past it.
        &self.toks[self.pos.min(self.toks.len() - 1)].tok
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)].tok
    }

    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn is_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    fn error(&self) -> SyntaxError {
        let i = self.pos.min(self.toks.len() - 1);
        let cur = &self.toks[i];
        let prev = i.checked_sub(1).map(|p| &self.toks[p]);
        if cur.tok == Tok::Eof {
            let near = prev.map(|p| &self.input[p.start..p.end]).unwrap_or("");
            return SyntaxError {
                token: "<EOF>".to_owned(),
                near: near.to_owned(),
            };
        }
        let from = prev.map(|p| p.start).unwrap_or(cur.start);
        let to = match self.toks.get(i + 1) {
            Some(n) if n.tok != Tok::Eof => n.end,
            _ => cur.end,
        };
        SyntaxError {
            token: self.input[cur.start..cur.end].to_owned(),
            near: self.input[from..to].to_owned(),
        }
    }

    fn expect(&mut self, t: Tok) -> PResult<()> {
        if *self.peek() == t {
            self.bump();
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            Err(self.error())
        } else {
            Ok(())
        }
    }

    fn end(&self) -> PResult<()> {
        if *self.peek() == Tok::Eof {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    // ---- conditions

    fn or(&mut self) -> PResult<Cond> {
        let mut left = self.and()?;
        while self.is_keyword("OR") {
            self.bump();
            let right = self.and()?;
            left = Cond::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> PResult<Cond> {
        let mut left = self.not()?;
        while self.is_keyword("AND") {
            self.bump();
            let right = self.not()?;
            left = Cond::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> PResult<Cond> {
        if self.is_keyword("NOT") {
            self.bump();
            self.enter()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Cond::Not(Box::new(inner)));
        }
        self.atom()
    }

    fn atom(&mut self) -> PResult<Cond> {
        if *self.peek() == Tok::LParen {
            self.bump();
            self.enter()?;
            let c = self.or()?;
            self.expect(Tok::RParen)?;
            self.depth -= 1;
            return Ok(c);
        }
        let lhs = self.operand()?;
        let op = match self.peek() {
            Tok::Eq => Some(CmpOp::Eq),
            Tok::Ne => Some(CmpOp::Ne),
            Tok::Lt => Some(CmpOp::Lt),
            Tok::Le => Some(CmpOp::Le),
            Tok::Gt => Some(CmpOp::Gt),
            Tok::Ge => Some(CmpOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.bump();
            let rhs = self.operand()?;
            return Ok(Cond::Cmp(op, lhs, rhs));
        }
        if self.is_keyword("BETWEEN") {
            self.bump();
            let lo = self.operand()?;
            if !self.is_keyword("AND") {
                return Err(self.error());
            }
            self.bump();
            let hi = self.operand()?;
            return Ok(Cond::Between(lhs, lo, hi));
        }
        if self.is_keyword("IN") {
            self.bump();
            self.expect(Tok::LParen)?;
            let mut list = vec![self.operand()?];
            while *self.peek() == Tok::Comma {
                self.bump();
                list.push(self.operand()?);
            }
            self.expect(Tok::RParen)?;
            return Ok(Cond::In(lhs, list));
        }
        match lhs {
            Operand::Call(name, args) => Ok(Cond::Call(name, args)),
            _ => Err(self.error()),
        }
    }

    fn operand(&mut self) -> PResult<Operand> {
        match self.peek().clone() {
            Tok::Value(v) => {
                self.bump();
                Ok(Operand::Value(v))
            }
            Tok::Ident(name) if *self.peek_at(1) == Tok::LParen => {
                if KEYWORDS.iter().any(|k| name.eq_ignore_ascii_case(k)) {
                    return Err(self.error());
                }
                self.bump();
                self.bump();
                self.enter()?;
                let mut args = Vec::new();
                if *self.peek() != Tok::RParen {
                    args.push(self.operand()?);
                    while *self.peek() == Tok::Comma {
                        self.bump();
                        args.push(self.operand()?);
                    }
                }
                self.expect(Tok::RParen)?;
                self.depth -= 1;
                Ok(Operand::Call(name, args))
            }
            _ => Ok(Operand::Path(self.path()?)),
        }
    }

    fn name(&mut self, reject: &[&str]) -> PResult<Name> {
        match self.peek().clone() {
            Tok::Ident(s) if !reject.iter().any(|k| s.eq_ignore_ascii_case(k)) => {
                self.bump();
                Ok(Name::Plain(s))
            }
            Tok::Name(s) => {
                self.bump();
                Ok(Name::Placeholder(s))
            }
            _ => Err(self.error()),
        }
    }

    fn path(&mut self) -> PResult<Path> {
        let reject: Vec<&str> = KEYWORDS.iter().chain(CLAUSES.iter()).copied().collect();
        let mut elems = vec![PathElem::Attr(self.name(&reject)?)];
        loop {
            match self.peek() {
                Tok::Dot => {
                    self.bump();
                    elems.push(PathElem::Attr(self.name(&[])?));
                }
                Tok::LBracket => {
                    self.bump();
                    let idx = match self.peek() {
                        Tok::Int(s) => s.parse::<u32>().map_err(|_| self.error())?,
                        _ => return Err(self.error()),
                    };
                    self.bump();
                    self.expect(Tok::RBracket)?;
                    elems.push(PathElem::Index(idx));
                }
                _ => break,
            }
        }
        Ok(Path(elems))
    }

    // ---- updates

    fn clause_keyword(&self) -> Option<&'static str> {
        match self.peek() {
            Tok::Ident(s) => CLAUSES.iter().find(|k| s.eq_ignore_ascii_case(k)).copied(),
            _ => None,
        }
    }

    fn update(&mut self) -> PResult<Update> {
        let mut actions = Vec::new();
        let mut seen: Vec<&'static str> = Vec::new();
        let mut repeated_clause = None;
        loop {
            let Some(clause) = self.clause_keyword() else {
                return Err(self.error());
            };
            if seen.contains(&clause) {
                repeated_clause = repeated_clause.or(Some(clause));
            }
            seen.push(clause);
            self.bump();
            loop {
                actions.push(self.action(clause)?);
                if *self.peek() == Tok::Comma {
                    self.bump();
                } else {
                    break;
                }
            }
            if *self.peek() == Tok::Eof {
                return Ok(Update {
                    actions,
                    repeated_clause,
                });
            }
        }
    }

    fn action(&mut self, clause: &str) -> PResult<Action> {
        let path = self.path()?;
        match clause {
            "SET" => {
                self.expect(Tok::Eq)?;
                let a = self.operand()?;
                let v = match self.peek() {
                    Tok::Plus => {
                        self.bump();
                        SetValue::Plus(a, self.operand()?)
                    }
                    Tok::Minus => {
                        self.bump();
                        SetValue::Minus(a, self.operand()?)
                    }
                    _ => SetValue::Operand(a),
                };
                Ok(Action::Set(path, v))
            }
            "REMOVE" => Ok(Action::Remove(path)),
            _ => {
                let v = match self.peek().clone() {
                    Tok::Value(v) => {
                        self.bump();
                        Operand::Value(v)
                    }
                    _ => return Err(self.error()),
                };
                Ok(if clause == "ADD" {
                    Action::Add(path, v)
                } else {
                    Action::Delete(path, v)
                })
            }
        }
    }
}

/// Parses a condition, filter or key-condition expression.
pub fn parse_condition(input: &str) -> Result<Cond, SyntaxError> {
    let mut p = Parser::new(input)?;
    let c = p.or()?;
    p.end()?;
    Ok(c)
}

/// Parses an update expression.
pub fn parse_update(input: &str) -> Result<Update, SyntaxError> {
    let mut p = Parser::new(input)?;
    p.update()
}

/// Parses a projection expression.
pub fn parse_projection(input: &str) -> Result<Vec<Path>, SyntaxError> {
    let mut p = Parser::new(input)?;
    let mut paths = vec![p.path()?];
    while *p.peek() == Tok::Comma {
        p.bump();
        paths.push(p.path()?);
    }
    p.end()?;
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence() {
        let c = parse_condition("a = :a OR b = :b AND NOT c = :c").unwrap();
        assert!(matches!(c, Cond::Or(_, ref r) if matches!(**r, Cond::And(..))));
        let c = parse_condition("(a = :a OR b = :b) AND c BETWEEN :x AND :y").unwrap();
        assert!(matches!(c, Cond::And(..)));
        let c = parse_condition("a.b[1].#c IN (:a, :b) and attribute_exists(x)").unwrap();
        assert_eq!(
            c.to_string(),
            "(a.b[1].#c IN (:a, :b)) AND (attribute_exists(x))"
        );
    }

    #[test]
    fn syntax_errors_name_token_and_neighbourhood() {
        let e = parse_condition("foo").unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"Syntax error; token: "<EOF>", near: "foo""#
        );
        let e = parse_condition("attribute_not_exists(").unwrap_err();
        assert_eq!(e.to_string(), r#"Syntax error; token: "<EOF>", near: "(""#);
        let e = parse_update("SET a = :a,").unwrap_err();
        assert_eq!(e.to_string(), r#"Syntax error; token: "<EOF>", near: ",""#);
        let e = parse_condition("a = = b").unwrap_err();
        assert_eq!(e.to_string(), r#"Syntax error; token: "=", near: "= = b""#);
        assert!(parse_condition(&"(".repeat(10_000)).is_err());
    }

    #[test]
    fn updates() {
        let u = parse_update(
            "set a = a + :one, b = list_append(b, :l) remove c[2], d ADD e :s DELETE f :t",
        )
        .unwrap();
        assert_eq!(u.actions.len(), 6);
        assert_eq!(
            u.to_string(),
            "SET a = a + :one, b = list_append(b, :l) REMOVE c[2], d ADD e :s DELETE f :t"
        );
        assert!(parse_update("SET").is_err());
        assert!(parse_update("a = :b").is_err());
    }

    #[test]
    fn projections() {
        let p = parse_projection("a, b.c[0], #d").unwrap();
        assert_eq!(super::super::ast::print_projection(&p), "a, b.c[0], #d");
        assert!(parse_projection("a,").is_err());
    }
}
