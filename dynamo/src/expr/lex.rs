//! The expression lexer: turns an expression string into tokens with byte spans.
//!
//! One lexer serves condition, filter, key-condition, projection and update expressions;
//! keywords (`AND`, `SET` …) are plain identifiers here and the parser decides by context.
//! Guarantee: never panics; an unknown character is a syntax error in DynamoDB's shape.

/// A token's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// An attribute name or keyword (`a`, `AND`, `attribute_exists`).
    Ident(String),
    /// `#name`.
    Name(String),
    /// `:value`.
    Value(String),
    /// An unsigned integer (list indexes).
    Int(String),
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
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// End of input.
    Eof,
}

/// A token and where it is in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub tok: Tok,
    /// Byte offset of its first character.
    pub start: usize,
    /// Byte offset just past it.
    pub end: usize,
}

/// A lexing failure: the offending character and the text near it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    /// The character DynamoDB names as the token.
    pub token: String,
    /// The text before and including it.
    pub near: String,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Splits `input` into tokens, ending with [`Tok::Eof`].
pub fn lex(input: &str) -> Result<Vec<Token>, LexError> {
    let mut out: Vec<Token> = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let single = |tok| (tok, i + c.len_utf8());
        let (tok, end) = match c {
            '(' => single(Tok::LParen),
            ')' => single(Tok::RParen),
            '[' => single(Tok::LBracket),
            ']' => single(Tok::RBracket),
            ',' => single(Tok::Comma),
            '.' => single(Tok::Dot),
            '=' => single(Tok::Eq),
            '+' => single(Tok::Plus),
            '-' => single(Tok::Minus),
            '<' | '>' => {
                chars.next();
                let next = chars.peek().map(|&(_, c)| c);
                let (tok, end) = match (c, next) {
                    ('<', Some('>')) => (Tok::Ne, i + 2),
                    ('<', Some('=')) => (Tok::Le, i + 2),
                    ('>', Some('=')) => (Tok::Ge, i + 2),
                    ('<', _) => (Tok::Lt, i + 1),
                    _ => (Tok::Gt, i + 1),
                };
                if end == i + 2 {
                    chars.next();
                }
                out.push(Token { tok, start: i, end });
                continue;
            }
            '#' | ':' => {
                chars.next();
                let mut end = i + 1;
                while let Some(&(j, d)) = chars.peek() {
                    if is_ident_char(d) {
                        end = j + d.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                if end == i + 1 {
                    return Err(lex_error(input, &out, i, c));
                }
                let text = input[i..end].to_owned();
                let tok = if c == '#' {
                    Tok::Name(text)
                } else {
                    Tok::Value(text)
                };
                out.push(Token { tok, start: i, end });
                continue;
            }
            c if c.is_ascii_digit() => {
                let mut end = i;
                while let Some(&(j, d)) = chars.peek() {
                    if d.is_ascii_digit() {
                        end = j + 1;
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(Token {
                    tok: Tok::Int(input[i..end].to_owned()),
                    start: i,
                    end,
                });
                continue;
            }
            c if is_ident_start(c) => {
                let mut end = i;
                while let Some(&(j, d)) = chars.peek() {
                    if is_ident_char(d) {
                        end = j + d.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(Token {
                    tok: Tok::Ident(input[i..end].to_owned()),
                    start: i,
                    end,
                });
                continue;
            }
            _ => return Err(lex_error(input, &out, i, c)),
        };
        chars.next();
        out.push(Token { tok, start: i, end });
    }
    out.push(Token {
        tok: Tok::Eof,
        start: input.len(),
        end: input.len(),
    });
    Ok(out)
}

fn lex_error(input: &str, out: &[Token], at: usize, c: char) -> LexError {
    let from = out.last().map(|t| t.start).unwrap_or(at);
    LexError {
        token: c.to_string(),
        near: input[from..at + c.len_utf8()].to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexes() {
        let toks: Vec<Tok> = lex("#a.b[2] <> :v AND size(x)>=:y")
            .unwrap()
            .into_iter()
            .map(|t| t.tok)
            .collect();
        assert_eq!(toks[0], Tok::Name("#a".into()));
        assert_eq!(toks[3], Tok::LBracket);
        assert_eq!(toks[4], Tok::Int("2".into()));
        assert!(toks.contains(&Tok::Ne));
        assert!(toks.contains(&Tok::Ge));
        assert_eq!(toks.last(), Some(&Tok::Eof));
    }

    #[test]
    fn bad_character() {
        let e = lex("a = $b").unwrap_err();
        assert_eq!(e.token, "$");
        assert_eq!(e.near, "= $");
        assert!(lex("a = :").is_err());
    }
}
