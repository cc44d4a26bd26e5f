//! The PartiQL lexer: identifiers (bare or `"quoted"`), `'strings'`, numbers, `?` parameters and
//! punctuation including `<<` `>>` for set literals. Never panics.

/// A token.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A bare identifier or keyword.
    Ident(String),
    /// A `"quoted"` identifier.
    Quoted(String),
    /// A `'string'`.
    Str(String),
    /// A number literal as written.
    Num(String),
    /// `?`
    Param,
    /// Punctuation or an operator (`(`, `<=`, `<<`, `!=` …).
    Sym(&'static str),
    /// End of input.
    Eof,
}

const SYMS: [&str; 22] = [
    "<<", ">>", "<=", ">=", "<>", "!=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "=", "<", ">",
    "*", ";", "+", "-",
];

/// Splits a statement into tokens; the error names the offending character.
pub fn lex(input: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let b = input.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'\'' || c == b'"' {
            let quote = c;
            let mut s = Vec::new();
            i += 1;
            loop {
                match b.get(i) {
                    None => {
                        return Err(format!(
                            "unterminated {} literal",
                            if quote == b'\'' {
                                "string"
                            } else {
                                "identifier"
                            }
                        ));
                    }
                    Some(&q) if q == quote => {
                        if b.get(i + 1) == Some(&quote) {
                            s.push(quote);
                            i += 2;
                        } else {
                            i += 1;
                            break;
                        }
                    }
                    Some(&x) => {
                        s.push(x);
                        i += 1;
                    }
                }
            }
            let s = String::from_utf8(s).map_err(|_| "invalid UTF-8".to_owned())?;
            out.push(if quote == b'\'' {
                Tok::Str(s)
            } else {
                Tok::Quoted(s)
            });
            continue;
        }
        let neg_num = c == b'-'
            && b.get(i + 1).is_some_and(u8::is_ascii_digit)
            && !matches!(
                out.last(),
                Some(Tok::Num(_) | Tok::Ident(_) | Tok::Quoted(_) | Tok::Sym(")") | Tok::Sym("]"))
            );
        if c.is_ascii_digit() || neg_num {
            let start = i;
            i += 1;
            while i < b.len()
                && (b[i].is_ascii_digit()
                    || b[i] == b'.'
                    || b[i] == b'e'
                    || b[i] == b'E'
                    || ((b[i] == b'-' || b[i] == b'+') && (b[i - 1] == b'e' || b[i - 1] == b'E')))
            {
                i += 1;
            }
            out.push(Tok::Num(input[start..i].to_owned()));
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(input[start..i].to_owned()));
            continue;
        }
        if c == b'?' {
            out.push(Tok::Param);
            i += 1;
            continue;
        }
        match SYMS.iter().find(|s| input[i..].starts_with(**s)) {
            Some(s) => {
                out.push(Tok::Sym(s));
                i += s.len();
            }
            None => {
                let ch = input[i..].chars().next().unwrap_or('?');
                return Err(format!("unexpected character '{ch}'"));
            }
        }
    }
    out.push(Tok::Eof);
    Ok(out)
}
