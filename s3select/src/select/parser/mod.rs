//! The S3 Select SQL parser: a hand-written recursive-descent parser over [`super::lexer`]
//! tokens, producing [`super::ast::Query`].
//!
//! Guarantees: never panics and never recurses without bound (nesting deeper than
//! [`MAX_DEPTH`] is `MaxOperatorsExceeded`); every error is one of S3 Select's documented parse
//! codes with the line and column of the token at fault. Expressions over 256 KB are
//! `ExpressionTooLong`. Operator precedence, loosest first: `OR`; `AND`; `NOT`; comparisons,
//! `LIKE`, `BETWEEN`, `IN`, `IS`; `||`; `+ -`; `* / %`; unary minus.

use super::ast::*;
use super::decimal::Decimal;
use super::lexer::{Tok, Token, lex};
use crate::error::{Error, Position, Result};

/// The longest SQL expression S3 accepts (256 KB).
pub const MAX_EXPRESSION_BYTES: usize = 256 * 1024;
/// The deepest expression nesting accepted.
pub const MAX_DEPTH: usize = 64;

/// Words that cannot be used as unquoted column names at the start of a path.
const RESERVED: &[&str] = &[
    "ALL",
    "AND",
    "ANY",
    "AS",
    "ASC",
    "AVG",
    "BETWEEN",
    "BY",
    "CASE",
    "CAST",
    "COUNT",
    "CROSS",
    "DESC",
    "DISTINCT",
    "ELSE",
    "END",
    "ESCAPE",
    "EXCEPT",
    "EXISTS",
    "FALSE",
    "FROM",
    "FULL",
    "GROUP",
    "HAVING",
    "IN",
    "INNER",
    "INTERSECT",
    "IS",
    "JOIN",
    "LEFT",
    "LIKE",
    "LIMIT",
    "MAX",
    "MIN",
    "MISSING",
    "NOT",
    "NULL",
    "ON",
    "OR",
    "ORDER",
    "OUTER",
    "RIGHT",
    "SELECT",
    "SUM",
    "THEN",
    "TRUE",
    "UNION",
    "WHEN",
    "WHERE",
];

/// Parses a whole S3 Select statement.
pub fn parse_query(sql: &str) -> Result<Query> {
    if sql.len() > MAX_EXPRESSION_BYTES {
        return Err(Error::select(
            "ExpressionTooLong",
            "The SQL expression is too long: The maximum byte-length for the SQL expression is 256 KB.",
        ));
    }
    let tokens = lex(sql)?;
    let mut p = Parser {
        tokens,
        i: 0,
        depth: 0,
    };
    let q = p.query()?;
    Ok(q)
}

/// Parses a single expression (for tests and other dialects).
pub fn parse_expr(sql: &str) -> Result<Expr> {
    let tokens = lex(sql)?;
    let mut p = Parser {
        tokens,
        i: 0,
        depth: 0,
    };
    let e = p.expr()?;
    p.expect_eof()?;
    Ok(e)
}

struct Parser {
    tokens: Vec<Token>,
    i: usize,
    depth: usize,
}

fn unexpected(t: &Token) -> Error {
    match &t.tok {
        Tok::Ident {
            text,
            quoted: false,
        } if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(text)) => Error::parse(
            "ParseUnExpectedKeyword",
            "The SQL expression contains an unexpected keyword.",
            t.pos,
        ),
        Tok::Eof => Error::parse(
            "ParseUnexpectedToken",
            "The SQL expression contains an unexpected token.",
            t.pos,
        ),
        _ => Error::parse(
            "ParseUnexpectedToken",
            "The SQL expression contains an unexpected token.",
            t.pos,
        ),
    }
}

impl Parser {
    fn peek(&self) -> &Token {
        // The token list always ends with Eof and `i` never passes it.
        &self.tokens[self.i.min(self.tokens.len() - 1)]
    }

    fn peek_at(&self, k: usize) -> &Tok {
        &self.tokens[(self.i + k).min(self.tokens.len() - 1)].tok
    }

    fn pos(&self) -> Position {
        self.peek().pos
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.i < self.tokens.len() - 1 {
            self.i += 1;
        }
        t
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if &self.peek().tok == tok {
            self.bump();
            true
        } else {
            false
        }
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.peek().tok.is_kw(kw) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, tok: &Tok, code: &'static str, message: &str) -> Result<()> {
        if self.eat(tok) {
            Ok(())
        } else {
            Err(Error::parse(code, message, self.pos()))
        }
    }

    fn expect_kw(&mut self, kw: &str) -> Result<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(Error::parse(
                "ParseExpectedKeyword",
                "The expected keyword in the SQL expression was not found.",
                self.pos(),
            ))
        }
    }

    fn expect_eof(&mut self) -> Result<()> {
        if matches!(self.peek().tok, Tok::Eof) {
            Ok(())
        } else {
            Err(unexpected(self.peek()))
        }
    }

    fn query(&mut self) -> Result<Query> {
        if !self.eat_kw("SELECT") {
            return Err(Error::parse(
                "ParseUnsupportedSyntax",
                "The SQL expression contains unsupported syntax.",
                self.pos(),
            ));
        }
        if self.peek().tok.is_kw("DISTINCT") {
            return Err(Error::parse(
                "ParseUnsupportedSyntax",
                "The SQL expression contains unsupported syntax.",
                self.pos(),
            ));
        }
        let select = self.projection()?;
        if !self.eat_kw("FROM") {
            return Err(Error::parse(
                "ParseSelectMissingFrom",
                "The SQL expression contains a missing FROM after the SELECT list.",
                self.pos(),
            ));
        }
        let from = self.from()?;
        let where_clause = if self.eat_kw("WHERE") {
            Some(self.expr()?)
        } else {
            None
        };
        if self.peek().tok.is_kw("GROUP") {
            return Err(Error::parse(
                "ParseUnsupportedLiteralsGroupBy",
                "The SQL expression contains an unsupported use of GROUP BY.",
                self.pos(),
            ));
        }
        if self.peek().tok.is_kw("ORDER") {
            return Err(Error::parse(
                "ParseUnsupportedSyntax",
                "The SQL expression contains unsupported syntax.",
                self.pos(),
            ));
        }
        let limit = if self.eat_kw("LIMIT") {
            let pos = self.pos();
            match self.bump().tok {
                Tok::Int(s) => Some(s.parse::<u64>().map_err(|_| {
                    Error::parse(
                        "ParseExpectedNumber",
                        "The expected number in the SQL expression was not found.",
                        pos,
                    )
                })?),
                Tok::Minus => {
                    return Err(Error::select(
                        "EvaluatorNegativeLimit",
                        "LIMIT must not be negative.",
                    ));
                }
                _ => {
                    return Err(Error::parse(
                        "ParseExpectedNumber",
                        "The expected number in the SQL expression was not found.",
                        pos,
                    ));
                }
            }
        } else {
            None
        };
        self.expect_eof()?;
        Ok(Query {
            select,
            from,
            where_clause,
            limit,
        })
    }

    fn projection(&mut self) -> Result<Projection> {
        if self.peek().tok.is_kw("FROM") {
            return Err(Error::parse(
                "ParseEmptySelect",
                "The SQL expression contains an empty SELECT clause.",
                self.pos(),
            ));
        }
        if self.eat(&Tok::Star) {
            if self.peek().tok == Tok::Comma {
                return Err(Error::parse(
                    "ParseAsteriskIsNotAloneInSelectList",
                    "Other expressions are not allowed in the SELECT list when '*' is used without dot notation in the SQL expression.",
                    self.pos(),
                ));
            }
            return Ok(Projection::Star);
        }
        // `alias.*` alone means `*`.
        if let (Tok::Ident { .. }, Tok::Dot, Tok::Star) = (
            self.peek_at(0).clone(),
            self.peek_at(1).clone(),
            self.peek_at(2).clone(),
        ) && !matches!(self.peek_at(3), Tok::Comma)
        {
            self.i += 3;
            return Ok(Projection::Star);
        }
        let mut items = Vec::new();
        loop {
            if self.peek().tok == Tok::Star {
                return Err(Error::parse(
                    "ParseAsteriskIsNotAloneInSelectList",
                    "Other expressions are not allowed in the SELECT list when '*' is used without dot notation in the SQL expression.",
                    self.pos(),
                ));
            }
            let expr = self.expr()?;
            let alias = if self.eat_kw("AS") {
                Some(self.alias_name()?)
            } else if let Tok::Ident { text, quoted } = &self.peek().tok {
                if *quoted || !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(text)) {
                    let t = text.clone();
                    self.bump();
                    Some(t)
                } else {
                    None
                }
            } else {
                None
            };
            items.push(SelectItem { expr, alias });
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        Ok(Projection::Items(items))
    }

    fn alias_name(&mut self) -> Result<String> {
        match &self.peek().tok {
            Tok::Ident { text, quoted }
                if *quoted || !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(text)) =>
            {
                let t = text.clone();
                self.bump();
                Ok(t)
            }
            _ => Err(Error::parse(
                "ParseExpectedIdentForAlias",
                "The expected identifier for the alias in the SQL expression was not found.",
                self.pos(),
            )),
        }
    }

    fn from(&mut self) -> Result<From> {
        let pos = self.pos();
        match self.bump().tok {
            Tok::Ident { text, .. }
                if text.eq_ignore_ascii_case("S3Object") || text.eq_ignore_ascii_case("Object") => {
            }
            _ => {
                return Err(Error::parse(
                    "InvalidDataSource",
                    "The data source type is not valid. Only CSV, JSON, and Parquet are supported.",
                    pos,
                ));
            }
        }
        let mut path = self.steps()?;
        if path.first() == Some(&PathStep::Wildcard) {
            path.remove(0);
        }
        if matches!(self.peek().tok, Tok::Comma) || self.peek().tok.is_kw("JOIN") {
            return Err(Error::parse(
                "ParseMalformedJoin",
                "JOIN is not supported in the SQL expression.",
                self.pos(),
            ));
        }
        let alias = if self.eat_kw("AS") {
            Some(self.alias_name()?)
        } else {
            match &self.peek().tok {
                Tok::Ident { text, quoted }
                    if *quoted || !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(text)) =>
                {
                    let t = text.clone();
                    self.bump();
                    Some(t)
                }
                _ => None,
            }
        };
        if matches!(self.peek().tok, Tok::Comma) || self.peek().tok.is_kw("JOIN") {
            return Err(Error::parse(
                "ParseMalformedJoin",
                "JOIN is not supported in the SQL expression.",
                self.pos(),
            ));
        }
        Ok(From { path, alias })
    }

    fn steps(&mut self) -> Result<Vec<PathStep>> {
        let mut steps = Vec::new();
        loop {
            match self.peek().tok {
                Tok::Dot => {
                    self.bump();
                    let pos = self.pos();
                    match self.bump().tok {
                        Tok::Ident { text, quoted } => {
                            steps.push(PathStep::Field { name: text, quoted })
                        }
                        Tok::Star => {
                            return Err(Error::parse(
                                "ParseInvalidContextForWildcardInSelectList",
                                "The use of * in the SELECT list in the SQL expression is not valid.",
                                pos,
                            ));
                        }
                        _ => {
                            return Err(Error::parse(
                                "ParseInvalidPathComponent",
                                "The SQL expression contains a path component that is not valid.",
                                pos,
                            ));
                        }
                    }
                }
                Tok::LBracket => {
                    self.bump();
                    let pos = self.pos();
                    let step = match self.bump().tok {
                        Tok::Star => PathStep::Wildcard,
                        Tok::Int(s) => PathStep::Index(s.parse().map_err(|_| {
                            Error::parse(
                                "ParseInvalidPathComponent",
                                "The SQL expression contains a path component that is not valid.",
                                pos,
                            )
                        })?),
                        Tok::Str(s) => PathStep::Key(s),
                        _ => {
                            return Err(Error::parse(
                                "ParseInvalidPathComponent",
                                "The SQL expression contains a path component that is not valid.",
                                pos,
                            ));
                        }
                    };
                    self.expect(
                        &Tok::RBracket,
                        "ParseExpectedTokenType",
                        "The expected token in the SQL expression was not found.",
                    )?;
                    steps.push(step);
                }
                _ => return Ok(steps),
            }
        }
    }
}

mod expr;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ServiceError;

    #[test]
    fn a_long_operator_chain_prints_flat_and_parses_back() {
        // Found by the sql_parser fuzz target: a chain parsed flat but printed one level of
        // parentheses per operator, past the nesting limit.
        let chain: Vec<String> = (0..300).map(|i| format!("_{}", i % 9 + 1)).collect();
        let sql = format!(
            "SELECT {} FROM S3Object WHERE {} OR _1 = 'a' || _2 || _3",
            chain.join(" + "),
            chain.join(" * ")
        );
        let q = parse_query(&sql).unwrap();
        let printed = q.to_string();
        assert_eq!(parse_query(&printed).unwrap(), q);
        // Grouping that is not the parser's own is kept.
        let q = parse_query("SELECT _1 - (_2 - _3), (_1 + _2) * _3 FROM S3Object").unwrap();
        assert_eq!(parse_query(&q.to_string()).unwrap(), q);
    }

    fn code(sql: &str) -> String {
        match parse_query(sql) {
            Ok(q) => format!("ok: {q}"),
            Err(e) => e.code().to_owned(),
        }
    }

    #[test]
    fn parses_the_documented_shapes() {
        for sql in [
            "SELECT * FROM S3Object",
            "select s._1, s._2 from s3object s where s._3 > 100",
            "SELECT s.name AS n, UPPER(s.city) FROM S3Object[*].people[*] s WHERE s.age BETWEEN 20 AND 30 LIMIT 5",
            "SELECT COUNT(*), SUM(CAST(s.price AS FLOAT)) FROM S3Object s",
            "SELECT CASE WHEN s.a IS MISSING THEN 'x' ELSE s.a END FROM S3Object s",
            "SELECT TRIM(LEADING '0' FROM s.id), SUBSTRING(s.n, 2, 3), SUBSTRING(s.n FROM 2 FOR 1) FROM S3Object s",
            "SELECT EXTRACT(YEAR FROM TO_TIMESTAMP(s.t)), DATE_ADD(day, 1, UTCNOW()) FROM S3Object s WHERE s.n LIKE 'a\\_%' ESCAPE '\\'",
            "SELECT s.\"Name\" FROM S3Object s WHERE s.x NOT IN ('a', 'b') AND NOT s.y IS NULL",
        ] {
            let q = parse_query(sql).unwrap_or_else(|e| panic!("{sql}: {e:?}"));
            let again = parse_query(&q.to_string()).unwrap_or_else(|e| panic!("{q}: {e:?}"));
            assert_eq!(q, again, "{sql}");
        }
    }

    #[test]
    fn errors_carry_s3_codes_and_positions() {
        assert_eq!(code("SELECT FROM S3Object"), "ParseEmptySelect");
        assert_eq!(code("SELECT a"), "ParseSelectMissingFrom");
        assert_eq!(
            code("SELECT *, a FROM S3Object"),
            "ParseAsteriskIsNotAloneInSelectList"
        );
        assert_eq!(
            code("SELECT SUM(*) FROM S3Object"),
            "ParseUnsupportedCallWithStar"
        );
        assert_eq!(code("SELECT CAST(a) FROM S3Object"), "ParseCastArity");
        assert_eq!(
            code("SELECT CAST(a AS blob) FROM S3Object"),
            "ParseExpectedTypeName"
        );
        assert_eq!(
            code("SELECT a FROM S3Object GROUP BY a"),
            "ParseUnsupportedLiteralsGroupBy"
        );
        assert_eq!(
            code("SELECT a FROM S3Object s, S3Object t"),
            "ParseMalformedJoin"
        );
        assert_eq!(
            code("SELECT a FROM S3Object WHERE"),
            "ParseExpectedExpression"
        );
        assert_eq!(code("SELECT FOO(a) FROM S3Object"), "UnsupportedFunction");
        assert_eq!(
            code("SELECT a FROM S3Object LIMIT -1"),
            "EvaluatorNegativeLimit"
        );
        assert_eq!(
            code("SELECT a FROM S3Object s WHERE a = 1 )"),
            "ParseUnexpectedToken"
        );
        match parse_query("SELECT a\nFROM S3Object WHERE a = = 1") {
            Err(Error::Select {
                code,
                position: Some(p),
                ..
            }) => {
                assert_eq!(code, "ParseExpectedExpression");
                assert_eq!((p.line, p.column), (2, 25));
            }
            other => panic!("{other:?}"),
        }
        let deep = format!(
            "SELECT {}1{} FROM S3Object",
            "(".repeat(500),
            ")".repeat(500)
        );
        assert_eq!(code(&deep), "MaxOperatorsExceeded");
        assert_eq!(
            code(&format!("SELECT '{}' FROM S3Object", "x".repeat(300_000))),
            "ExpressionTooLong"
        );
    }
}
