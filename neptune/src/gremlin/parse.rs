//! The Gremlin-Groovy parser: tokens to a spanned syntax tree of method chains.
//!
//! Gremlin text is a sequence of statements; each is an expression: a literal, a list
//! `[a, b]`, a map `[k: v]`, or a chain of segments `a.b(args).c` (`g.V().out('x')`,
//! `P.gt(3)`, `T.id`, `__.in()`, `out()`). What a chain *means* (a traversal, a predicate, a
//! token) is decided by [`super::compile`], which keeps this grammar small and every error
//! positioned. The tree prints back to text that parses to the same tree ([`std::fmt::Display`]).

use std::fmt;

use super::lexer::{Tok, Token, lex};
use crate::error::{Error, Result, Span};
use crate::value::Value;

/// One statement's expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A literal value.
    Lit(Value, Span),
    /// `[a, b]`.
    List(Vec<Expr>, Span),
    /// `[k: v, …]` (and `[:]`).
    Map(Vec<(Expr, Expr)>, Span),
    /// `a.b(…).c`.
    Chain(Vec<Segment>),
    /// A Groovy closure, kept only to be rejected with its position.
    Closure(Span),
}

/// One segment of a chain: a name and, if called, its arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// The identifier.
    pub name: String,
    /// Arguments, or `None` for a bare name (`T.id`, a variable).
    pub args: Option<Vec<Expr>>,
    /// Where the segment is.
    pub span: Span,
}

/// A parsed script: statements separated by `;`, optionally `x = …` assignments.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    /// `(variable, expression)` pairs; the variable is set for assignments.
    pub statements: Vec<(Option<String>, Expr)>,
}

impl Expr {
    /// Where the expression is.
    pub fn span(&self) -> Span {
        match self {
            Expr::Lit(_, s) | Expr::List(_, s) | Expr::Map(_, s) | Expr::Closure(s) => *s,
            Expr::Chain(segs) => match (segs.first(), segs.last()) {
                (Some(a), Some(b)) => Span::new(a.span.start, b.span.end),
                _ => Span::default(),
            },
        }
    }
}

/// Parses a script.
pub fn parse(src: &str) -> Result<Script> {
    let toks = lex(src)?;
    let mut p = Parser { src, toks, pos: 0 };
    let mut statements = Vec::new();
    loop {
        while p.eat(&Tok::Semi) {}
        if p.peek().is_none() {
            break;
        }
        let mut var = None;
        if let (Some(Tok::Ident(name)), Some(Tok::Assign)) =
            (p.peek(), p.toks.get(p.pos + 1).map(|t| &t.tok))
        {
            var = Some(name.clone());
            p.pos += 2;
        }
        let e = p.expr(0)?;
        statements.push((var, e));
        if p.peek().is_some() && !p.eat(&Tok::Semi) {
            return Err(p.unexpected("';' or the end of the query"));
        }
    }
    if statements.is_empty() {
        return Err(Error::malformed(
            src,
            Span::new(0, src.len()),
            "empty query",
        ));
    }
    Ok(Script { statements })
}

/// Nesting deeper than this is rejected rather than risking the stack.
const MAX_DEPTH: usize = 200;

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    fn span(&self) -> Span {
        self.toks
            .get(self.pos)
            .map(|t| t.span)
            .unwrap_or(Span::new(self.src.len(), self.src.len()))
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn unexpected(&self, wanted: &str) -> Error {
        match self.toks.get(self.pos) {
            Some(t) => Error::malformed(
                self.src,
                t.span,
                format!(
                    "expected {wanted} but found '{}'",
                    &self.src[t.span.start..t.span.end]
                ),
            ),
            None => Error::malformed(
                self.src,
                self.span(),
                format!("expected {wanted} but the query ended"),
            ),
        }
    }

    fn expect(&mut self, t: &Tok, wanted: &str) -> Result<Span> {
        let s = self.span();
        if self.eat(t) {
            Ok(s)
        } else {
            Err(self.unexpected(wanted))
        }
    }

    fn expr(&mut self, depth: usize) -> Result<Expr> {
        if depth > MAX_DEPTH {
            return Err(Error::malformed(
                self.src,
                self.span(),
                "query nested too deeply",
            ));
        }
        let start = self.span();
        let Some(tok) = self.peek().cloned() else {
            return Err(self.unexpected("an expression"));
        };
        match tok {
            Tok::Str(s) => {
                self.pos += 1;
                self.maybe_chain_on_literal(Expr::Lit(Value::str(&s), start))
            }
            Tok::Num(v) => {
                self.pos += 1;
                Ok(Expr::Lit(v, start))
            }
            Tok::LBracket => self.list_or_map(depth),
            Tok::LBrace => {
                let mut level = 0usize;
                while let Some(t) = self.peek() {
                    match t {
                        Tok::LBrace => level += 1,
                        Tok::RBrace => level -= 1,
                        _ => {}
                    }
                    self.pos += 1;
                    if level == 0 {
                        break;
                    }
                }
                let end = self
                    .toks
                    .get(self.pos.saturating_sub(1))
                    .map(|t| t.span.end)
                    .unwrap_or(start.end);
                Ok(Expr::Closure(Span::new(start.start, end)))
            }
            Tok::Ident(_) => self.chain(depth),
            _ => Err(self.unexpected("an expression")),
        }
    }

    fn maybe_chain_on_literal(&mut self, lit: Expr) -> Result<Expr> {
        if self.peek() == Some(&Tok::Dot) {
            return Err(Error::malformed(
                self.src,
                self.span(),
                "method calls on literals are not supported",
            ));
        }
        Ok(lit)
    }

    fn chain(&mut self, depth: usize) -> Result<Expr> {
        let mut segs = Vec::new();
        loop {
            let span = self.span();
            let name = match self.peek() {
                Some(Tok::Ident(n)) => n.clone(),
                _ => return Err(self.unexpected("a name")),
            };
            self.pos += 1;
            // `new Date(…)` style constructors: fold `new X` into one segment named `new X`.
            let name = if name == "new" {
                match self.peek() {
                    Some(Tok::Ident(cls)) => {
                        let cls = cls.clone();
                        self.pos += 1;
                        format!("new {cls}")
                    }
                    _ => return Err(self.unexpected("a class name after 'new'")),
                }
            } else {
                name
            };
            let mut end = self
                .toks
                .get(self.pos - 1)
                .map(|t| t.span.end)
                .unwrap_or(span.end);
            let args = if self.eat(&Tok::LParen) {
                let mut args = Vec::new();
                if !self.eat(&Tok::RParen) {
                    loop {
                        // Groovy named arguments (`new SeedStrategy(seed: 1)`): the name is dropped.
                        if let (Some(Tok::Ident(_)), Some(Tok::Colon)) =
                            (self.peek(), self.toks.get(self.pos + 1).map(|t| &t.tok))
                        {
                            self.pos += 2;
                        }
                        args.push(self.expr(depth + 1)?);
                        if self.eat(&Tok::RParen) {
                            break;
                        }
                        self.expect(&Tok::Comma, "',' or ')'")?;
                    }
                }
                end = self
                    .toks
                    .get(self.pos - 1)
                    .map(|t| t.span.end)
                    .unwrap_or(end);
                Some(args)
            } else {
                None
            };
            // Groovy's trailing closure, `map{ it.get() }`: kept so compile can reject it.
            let args = if self.peek() == Some(&Tok::LBrace) {
                let c = self.expr(depth + 1)?;
                end = c.span().end;
                let mut a = args.unwrap_or_default();
                a.push(c);
                Some(a)
            } else {
                args
            };
            segs.push(Segment {
                name,
                args,
                span: Span::new(span.start, end),
            });
            if !self.eat(&Tok::Dot) {
                break;
            }
        }
        Ok(Expr::Chain(segs))
    }

    fn list_or_map(&mut self, depth: usize) -> Result<Expr> {
        let start = self.expect(&Tok::LBracket, "'['")?;
        if self.eat(&Tok::Colon) {
            let end = self.expect(&Tok::RBracket, "']'")?;
            return Ok(Expr::Map(Vec::new(), Span::new(start.start, end.end)));
        }
        if let Some(end) = self
            .peek()
            .filter(|t| **t == Tok::RBracket)
            .map(|_| self.span())
        {
            self.pos += 1;
            return Ok(Expr::List(Vec::new(), Span::new(start.start, end.end)));
        }
        let first = self.map_key_or_expr(depth)?;
        if self.eat(&Tok::Colon) {
            let mut pairs = vec![(first, self.expr(depth + 1)?)];
            while self.eat(&Tok::Comma) {
                let k = self.map_key_or_expr(depth)?;
                self.expect(&Tok::Colon, "':'")?;
                pairs.push((k, self.expr(depth + 1)?));
            }
            let end = self.expect(&Tok::RBracket, "',' or ']'")?;
            return Ok(Expr::Map(pairs, Span::new(start.start, end.end)));
        }
        let mut items = vec![first];
        while self.eat(&Tok::Comma) {
            items.push(self.expr(depth + 1)?);
        }
        let end = self.expect(&Tok::RBracket, "',' or ']'")?;
        Ok(Expr::List(items, Span::new(start.start, end.end)))
    }

    /// Groovy map keys may be bare words (`[name: 'x']`) or parenthesised expressions (`[(T.id): 1]`).
    fn map_key_or_expr(&mut self, depth: usize) -> Result<Expr> {
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let e = self.expr(depth + 1)?;
            self.expect(&Tok::RParen, "')'")?;
            return Ok(e);
        }
        if let (Some(Tok::Ident(name)), Some(Tok::Colon)) = (
            self.peek().cloned(),
            self.toks.get(self.pos + 1).map(|t| &t.tok),
        ) {
            let span = self.span();
            self.pos += 1;
            return Ok(Expr::Lit(Value::str(&name), span));
        }
        self.expr(depth + 1)
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Lit(v, _) => write_literal(f, v),
            Expr::List(items, _) => {
                f.write_str("[")?;
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{e}")?;
                }
                f.write_str("]")
            }
            Expr::Map(pairs, _) if pairs.is_empty() => f.write_str("[:]"),
            Expr::Map(pairs, _) => {
                f.write_str("[")?;
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "({k}): {v}")?;
                }
                f.write_str("]")
            }
            Expr::Chain(segs) => {
                for (i, s) in segs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(&s.name)?;
                    if let Some(args) = &s.args {
                        f.write_str("(")?;
                        for (j, a) in args.iter().enumerate() {
                            if j > 0 {
                                f.write_str(", ")?;
                            }
                            write!(f, "{a}")?;
                        }
                        f.write_str(")")?;
                    }
                }
                Ok(())
            }
            Expr::Closure(_) => f.write_str("{ }"),
        }
    }
}

fn write_literal(f: &mut fmt::Formatter<'_>, v: &Value) -> fmt::Result {
    match v {
        Value::Str(s) => {
            f.write_str("'")?;
            for c in s.chars() {
                match c {
                    '\'' => f.write_str("\\'")?,
                    '\\' => f.write_str("\\\\")?,
                    '\n' => f.write_str("\\n")?,
                    '\r' => f.write_str("\\r")?,
                    '\t' => f.write_str("\\t")?,
                    '$' => f.write_str("\\$")?,
                    c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
                    c => write!(f, "{c}")?,
                }
            }
            f.write_str("'")
        }
        Value::Int(i) => write!(f, "{i}"),
        Value::Long(l) => write!(f, "{l}L"),
        Value::Double(d) if d.is_finite() => write!(f, "{d:?}d"),
        Value::Float(x) if x.is_finite() => write!(f, "{x:?}f"),
        Value::Bool(b) => write!(f, "{b}"),
        _ => f.write_str("null"),
    }
}

impl fmt::Display for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (var, e)) in self.statements.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            if let Some(v) = var {
                write!(f, "{v} = ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_chains_lists_and_maps() {
        let s = parse("g.V().has('age', P.gt(30)).out(\"knows\").values('name')").unwrap();
        let Expr::Chain(segs) = &s.statements[0].1 else {
            panic!("not a chain")
        };
        assert_eq!(
            segs.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            vec!["g", "V", "has", "out", "values"]
        );
        let s = parse("g.inject([1, 2], [a: 1, (T.id): 'x'], [:])").unwrap();
        assert_eq!(
            s.to_string(),
            "g.inject([1, 2], ('a'): 1, (T.id): 'x'], [:])"
                .replace("inject([1, 2], (", "inject([1, 2], [(")
        );
    }

    #[test]
    fn errors_are_positioned() {
        let e = parse("g.V().out(").unwrap_err();
        assert!(e.to_string().contains("the query ended"), "{e}");
        let e = parse("g.V() g.E()").unwrap_err();
        assert!(e.to_string().contains("at position 6"), "{e}");
        assert!(parse("").is_err());
        assert!(parse(&"[".repeat(1000)).is_err());
    }

    #[test]
    fn round_trips() {
        for q in [
            "g.V().has('name', within('a', 'b')).limit(2L)",
            "x = g.V(1).as('a'); g.V().select('a').by(__.values('n'))",
            "g.inject(1.5d, -3, 'it\\'s')",
        ] {
            let a = parse(q).unwrap();
            let b = parse(&a.to_string()).unwrap();
            assert_eq!(a.to_string(), b.to_string());
        }
    }
}
