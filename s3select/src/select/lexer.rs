//! The S3 Select SQL lexer: turns an expression into tokens with 1-based line and column.
//!
//! Guarantees: never panics on any input; every error is an S3 Select lexer error
//! (`LexerInvalidChar`, `LexerInvalidLiteral`, `LexerInvalidOperator`, `LexerInvalidIONLiteral`)
//! carrying the position of the offending character. Keywords are recognised
//! case-insensitively; double-quoted identifiers keep their case and may contain `""`.

use crate::error::{Error, Position, Result};

/// A token kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// An identifier or keyword as written; `quoted` for `"double-quoted"` identifiers.
    Ident { text: String, quoted: bool },
    /// An integer literal (digits only).
    Int(String),
    /// A decimal or exponent literal.
    Float(String),
    /// A `'single-quoted'` string literal, unescaped.
    Str(String),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `,`
    Comma,
    /// `.`
    Dot,
    /// `*`
    Star,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `/`
    Slash,
    /// `%`
    Percent,
    /// `=`
    Eq,
    /// `<>` or `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `||`
    Concat,
    /// End of input.
    Eof,
}

impl Tok {
    /// How S3 names a token in messages.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident { text, .. } => format!("IDENTIFIER:{text}"),
            Tok::Int(s) | Tok::Float(s) => format!("LITERAL:{s}"),
            Tok::Str(s) => format!("LITERAL:'{s}'"),
            Tok::Eof => "EOF".into(),
            other => format!("OPERATOR:{}", other.symbol()),
        }
    }

    fn symbol(&self) -> &'static str {
        match self {
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Comma => ",",
            Tok::Dot => ".",
            Tok::Star => "*",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Slash => "/",
            Tok::Percent => "%",
            Tok::Eq => "=",
            Tok::Ne => "<>",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::Concat => "||",
            _ => "",
        }
    }

    /// Whether this is the keyword `kw` (unquoted, case-insensitive).
    pub fn is_kw(&self, kw: &str) -> bool {
        matches!(self, Tok::Ident { text, quoted: false } if text.eq_ignore_ascii_case(kw))
    }
}

/// A token and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// What it is.
    pub tok: Tok,
    /// Where it starts.
    pub pos: Position,
}

/// Splits `sql` into tokens, ending with [`Tok::Eof`].
pub fn lex(sql: &str) -> Result<Vec<Token>> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line, mut col) = (0usize, 1u32, 1u32);
    while i < chars.len() {
        let c = chars[i];
        let pos = Position { line, column: col };
        let start = i;
        let push = |tok: Tok, out: &mut Vec<Token>| out.push(Token { tok, pos });
        match c {
            '\n' => {
                i += 1;
                line += 1;
                col = 1;
                continue;
            }
            c if c.is_whitespace() => {
                i += 1;
            }
            '-' if chars.get(i + 1) == Some(&'-') => {
                // A line comment runs to the end of the line.
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                loop {
                    if i + 1 >= chars.len() {
                        return Err(Error::parse(
                            "LexerInvalidChar",
                            "The SQL expression contains a character that is not valid.",
                            pos,
                        ));
                    }
                    if chars[i] == '*' && chars[i + 1] == '/' {
                        i += 2;
                        break;
                    }
                    if chars[i] == '\n' {
                        line += 1;
                        col = 0;
                    }
                    i += 1;
                    col += 1;
                }
                col += 2;
                continue;
            }
            '(' | ')' | '[' | ']' | ',' | '.' | '*' | '+' | '-' | '/' | '%' | '='
                if !(c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let tok = match c {
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    '[' => Tok::LBracket,
                    ']' => Tok::RBracket,
                    ',' => Tok::Comma,
                    '.' => Tok::Dot,
                    '*' => Tok::Star,
                    '+' => Tok::Plus,
                    '-' => Tok::Minus,
                    '/' => Tok::Slash,
                    '%' => Tok::Percent,
                    _ => Tok::Eq,
                };
                push(tok, &mut out);
                i += 1;
            }
            '<' | '>' | '!' | '|' => {
                let next = chars.get(i + 1).copied();
                let (tok, len) = match (c, next) {
                    ('<', Some('=')) => (Tok::Le, 2),
                    ('<', Some('>')) => (Tok::Ne, 2),
                    ('<', _) => (Tok::Lt, 1),
                    ('>', Some('=')) => (Tok::Ge, 2),
                    ('>', _) => (Tok::Gt, 1),
                    ('!', Some('=')) => (Tok::Ne, 2),
                    ('|', Some('|')) => (Tok::Concat, 2),
                    _ => {
                        return Err(Error::parse(
                            "LexerInvalidOperator",
                            "The SQL expression contains an operator that is not valid.",
                            pos,
                        ));
                    }
                };
                push(tok, &mut out);
                i += len;
            }
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(Error::parse(
                                "LexerInvalidLiteral",
                                "The SQL expression contains a literal that is not valid.",
                                pos,
                            ));
                        }
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            if *ch == '\n' {
                                line += 1;
                                col = 0;
                            }
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                push(Tok::Str(s), &mut out);
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(Error::parse(
                                "LexerInvalidLiteral",
                                "The SQL expression contains a literal that is not valid.",
                                pos,
                            ));
                        }
                        Some('"') if chars.get(i + 1) == Some(&'"') => {
                            s.push('"');
                            i += 2;
                        }
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                push(
                    Tok::Ident {
                        text: s,
                        quoted: true,
                    },
                    &mut out,
                );
            }
            '`' => {
                return Err(Error::parse(
                    "LexerInvalidIONLiteral",
                    "The SQL expression contains an operator that is not valid.",
                    pos,
                ));
            }
            c if c.is_ascii_digit() || c == '.' => {
                let mut s = String::new();
                let mut float = false;
                while let Some(&d) = chars.get(i) {
                    if d.is_ascii_digit() {
                        s.push(d);
                    } else if d == '.' && !float && !s.contains(['e', 'E']) {
                        float = true;
                        s.push(d);
                    } else if (d == 'e' || d == 'E') && !s.contains(['e', 'E']) {
                        float = true;
                        s.push(d);
                        if let Some(&sign) = chars.get(i + 1)
                            && (sign == '+' || sign == '-')
                        {
                            s.push(sign);
                            i += 1;
                        }
                    } else {
                        break;
                    }
                    i += 1;
                }
                if chars.get(i).is_some_and(|d| d.is_alphabetic() || *d == '_')
                    || s.ends_with(['e', 'E', '+', '-'])
                {
                    return Err(Error::parse(
                        "LexerInvalidLiteral",
                        "The SQL expression contains a literal that is not valid.",
                        pos,
                    ));
                }
                push(if float { Tok::Float(s) } else { Tok::Int(s) }, &mut out);
            }
            c if c.is_alphabetic() || c == '_' || c == '$' => {
                let mut s = String::new();
                while let Some(&d) = chars.get(i) {
                    if d.is_alphanumeric() || d == '_' || d == '$' {
                        s.push(d);
                        i += 1;
                    } else {
                        break;
                    }
                }
                push(
                    Tok::Ident {
                        text: s,
                        quoted: false,
                    },
                    &mut out,
                );
            }
            _ => {
                return Err(Error::parse(
                    "LexerInvalidChar",
                    "The SQL expression contains a character that is not valid.",
                    pos,
                ));
            }
        }
        col += (i - start) as u32;
    }
    out.push(Token {
        tok: Tok::Eof,
        pos: Position { line, column: col },
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_positions() {
        let t = lex("SELECT s.\"A b\", 'it''s' FROM S3Object s\nWHERE x <> 1.5e3").unwrap();
        assert_eq!(
            t[0].tok,
            Tok::Ident {
                text: "SELECT".into(),
                quoted: false
            }
        );
        assert_eq!(
            t[3].tok,
            Tok::Ident {
                text: "A b".into(),
                quoted: true
            }
        );
        assert_eq!(t[5].tok, Tok::Str("it's".into()));
        let ne = t.iter().find(|t| t.tok == Tok::Ne).unwrap();
        assert_eq!(ne.pos, Position { line: 2, column: 9 });
        assert!(matches!(t.last().map(|t| &t.tok), Some(Tok::Eof)));
        assert!(lex("SELECT #").is_err());
        assert!(lex("SELECT 'open").is_err());
        assert!(lex("SELECT 12abc").is_err());
    }
}
