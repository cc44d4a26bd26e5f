//! The Gremlin-Groovy lexer: query text to spanned tokens.
//!
//! Covers what Gremlin clients send as script text: identifiers, single- and double-quoted
//! strings with Java escapes, numbers with Groovy's type suffixes (`1L`, `1.0d`, `2f`, `3i`,
//! `4g`/`4n`, `1.5m`), and punctuation. Closures (`{ … }`) are lexed so the parser can reject
//! them with a position. Never panics; any stray character is a typed error.

use crate::error::{Error, Result, Span};
use crate::value::Value;

/// A token kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// An identifier or keyword.
    Ident(String),
    /// A string literal (unescaped).
    Str(String),
    /// A number literal, already typed.
    Num(Value),
    /// `.`
    Dot,
    /// `,`
    Comma,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `:`
    Colon,
    /// `;`
    Semi,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `=`
    Assign,
}

/// A token and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// What.
    pub tok: Tok,
    /// Where.
    pub span: Span,
}

/// Splits `src` into tokens.
pub fn lex(src: &str) -> Result<Vec<Token>> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                if i >= bytes.len() {
                    return Err(Error::malformed(
                        src,
                        Span::new(start, src.len()),
                        "unterminated comment",
                    ));
                }
                i += 2;
                continue;
            }
            b'\'' | b'"' => {
                let (s, end) = lex_string(src, i)?;
                out.push(Token {
                    tok: Tok::Str(s),
                    span: Span::new(start, end),
                });
                i = end;
                continue;
            }
            b'0'..=b'9' => {
                let (v, end) = lex_number(src, i, false)?;
                out.push(Token {
                    tok: Tok::Num(v),
                    span: Span::new(start, end),
                });
                i = end;
                continue;
            }
            b'-' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let (v, end) = lex_number(src, i + 1, true)?;
                out.push(Token {
                    tok: Tok::Num(v),
                    span: Span::new(start, end),
                });
                i = end;
                continue;
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c == b'$' => {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'$')
                {
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Ident(src[start..i].to_owned()),
                    span: Span::new(start, i),
                });
                continue;
            }
            _ => {}
        }
        let tok = match c {
            b'.' => Tok::Dot,
            b',' => Tok::Comma,
            b'(' => Tok::LParen,
            b')' => Tok::RParen,
            b'[' => Tok::LBracket,
            b']' => Tok::RBracket,
            b':' => Tok::Colon,
            b';' => Tok::Semi,
            b'{' => Tok::LBrace,
            b'}' => Tok::RBrace,
            b'=' => Tok::Assign,
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(Error::malformed(
                    src,
                    Span::new(i, i + ch.len_utf8()),
                    format!("unexpected character '{ch}'"),
                ));
            }
        };
        out.push(Token {
            tok,
            span: Span::new(start, start + 1),
        });
        i += 1;
    }
    Ok(out)
}

fn lex_string(src: &str, start: usize) -> Result<(String, usize)> {
    let quote = src.as_bytes()[start] as char;
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((off, ch)) = chars.next() {
        let pos = start + 1 + off;
        if ch == quote {
            return Ok((out, pos + 1));
        }
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        let Some((_, esc)) = chars.next() else { break };
        match esc {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            '0' => out.push('\0'),
            '\\' | '\'' | '"' | '$' => out.push(esc),
            'u' => {
                let hex: String = chars.by_ref().take(4).map(|(_, c)| c).collect();
                let code = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                match code {
                    Some(c) if hex.len() == 4 => out.push(c),
                    _ => {
                        return Err(Error::malformed(
                            src,
                            Span::new(pos, pos + 6),
                            "invalid unicode escape",
                        ));
                    }
                }
            }
            other => {
                return Err(Error::malformed(
                    src,
                    Span::new(pos, pos + 2),
                    format!("invalid escape '\\{other}'"),
                ));
            }
        }
    }
    Err(Error::malformed(
        src,
        Span::new(start, src.len()),
        "unterminated string literal",
    ))
}

fn lex_number(src: &str, start: usize, negative: bool) -> Result<(Value, usize)> {
    let bytes = src.as_bytes();
    let mut i = start;
    let mut is_float = false;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    if i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
        is_float = true;
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        let mut j = i + 1;
        if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
            j += 1;
        }
        if j < bytes.len() && bytes[j].is_ascii_digit() {
            is_float = true;
            i = j;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    let text = format!("{}{}", if negative { "-" } else { "" }, &src[start..i]);
    let span_start = if negative { start - 1 } else { start };
    let suffix = bytes.get(i).copied().filter(u8::is_ascii_alphabetic);
    let bad = |what: &str| {
        Error::malformed(
            src,
            Span::new(span_start, i + 1),
            format!("invalid {what} literal '{text}'"),
        )
    };
    let value = match suffix.map(|c| c.to_ascii_lowercase()) {
        Some(b'l') | Some(b'g') | Some(b'n') if !is_float => {
            Value::Long(text.parse().map_err(|_| bad("long"))?)
        }
        Some(b'i') if !is_float => Value::Int(text.parse().map_err(|_| bad("integer"))?),
        Some(b'd') | Some(b'm') => Value::Double(text.parse().map_err(|_| bad("double"))?),
        Some(b'f') => Value::Float(text.parse().map_err(|_| bad("float"))?),
        Some(_) => {
            return Err(Error::malformed(
                src,
                Span::new(span_start, i + 1),
                format!("invalid number suffix in '{}'", &src[span_start..=i]),
            ));
        }
        None if is_float => Value::Double(text.parse().map_err(|_| bad("double"))?),
        None => match text.parse::<i32>() {
            Ok(n) => Value::Int(n),
            Err(_) => Value::Long(text.parse().map_err(|_| bad("integer"))?),
        },
    };
    let end = if suffix.is_some() { i + 1 } else { i };
    if bytes
        .get(end)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    {
        return Err(Error::malformed(
            src,
            Span::new(span_start, end + 1),
            "invalid number literal",
        ));
    }
    Ok((value, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn numbers_carry_groovy_types() {
        assert_eq!(
            toks("1 2L 1.5 1.5d 2f -3 4i"),
            vec![
                Tok::Num(Value::Int(1)),
                Tok::Num(Value::Long(2)),
                Tok::Num(Value::Double(1.5)),
                Tok::Num(Value::Double(1.5)),
                Tok::Num(Value::Float(2.0)),
                Tok::Num(Value::Int(-3)),
                Tok::Num(Value::Int(4)),
            ]
        );
        assert_eq!(
            toks("3000000000"),
            vec![Tok::Num(Value::Long(3_000_000_000))]
        );
    }

    #[test]
    fn strings_unescape_and_errors_have_positions() {
        assert_eq!(
            toks(r#"'a\'b' "c\n""#),
            vec![Tok::Str("a'b".into()), Tok::Str("c\n".into())]
        );
        let e = lex("g.V('abc").unwrap_err();
        assert!(
            e.to_string()
                .contains("unterminated string literal at position 4"),
            "{e}"
        );
        assert!(lex("g.V() # x").is_err());
        assert!(lex("12abc").is_err());
    }
}
