//! Splitting CSV text into records, as RFC 4180 says (the Gremlin load format's encoding).
//!
//! Fields are borrowed from the input; only a field that needs unquoting (an opening quote,
//! a doubled quote, a `\r` outside quotes) is copied. A record never panics on any bytes: bad
//! UTF-8 and an unterminated quote are errors, and every call consumes at least one byte.
//!
//! The input is checked for UTF-8 once, as a whole ([`CsvText::new`]); plain fields of a valid
//! file are then sliced without a per-field check (which cost as much as the splitting itself).
//! Only a file that is not valid UTF-8 is checked field by field, so the bad field's line is
//! the one reported.

use std::borrow::Cow;

/// CSV input: its bytes, and the same bytes as text when the whole input is valid UTF-8.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CsvText<'a> {
    bytes: &'a [u8],
    text: Option<&'a str>,
}

impl<'a> CsvText<'a> {
    /// Wraps `bytes`, checking them for UTF-8 once.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        CsvText {
            bytes,
            text: std::str::from_utf8(bytes).ok(),
        }
    }

    /// The input's bytes.
    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The input's length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    /// The plain field `start..end` (no quotes inside) as text.
    #[inline]
    fn plain(&self, start: usize, end: usize) -> std::result::Result<&'a str, String> {
        match self.text {
            // Delimiters are ASCII, so `start` and `end` are character boundaries.
            Some(t) => t.get(start..end),
            None => self
                .bytes
                .get(start..end)
                .and_then(|b| std::str::from_utf8(b).ok()),
        }
        .ok_or_else(|| "Invalid UTF-8 in field".to_owned())
    }
}

/// Splits one CSV record starting at `pos` into `fields` (borrowed from `src` unless a field
/// needs unquoting); returns the next position.
pub(crate) fn next_record<'a>(
    src: &CsvText<'a>,
    mut pos: usize,
    fields: &mut Vec<Cow<'a, str>>,
) -> std::result::Result<usize, String> {
    let data = src.bytes;
    fields.clear();
    loop {
        let start = pos;
        // Fast path: a plain field runs to the next delimiter and is borrowed as is.
        while let Some(&c) = data.get(pos) {
            if matches!(c, b',' | b'\n' | b'\r' | b'"') {
                break;
            }
            pos += 1;
        }
        // Quotes (opening, or literal inside an unquoted field) and `\r` take the slow path.
        let plain = matches!(data.get(pos), None | Some(b',' | b'\n'));
        let end = if plain {
            fields.push(Cow::Borrowed(src.plain(start, pos)?));
            pos
        } else {
            let (f, p) = slow_field(data, start)?;
            fields.push(Cow::Owned(f));
            p
        };
        match data.get(end) {
            Some(b',') => pos = end + 1,
            Some(b'\n') => return Ok(end + 1),
            _ => return Ok(end),
        }
    }
}

/// One field by RFC 4180 rules from `pos` (quotes, doubled quotes, `\r` dropped outside
/// quotes); returns it and the position of the delimiter (or the end) that ends it.
fn slow_field(data: &[u8], mut pos: usize) -> std::result::Result<(String, usize), String> {
    let mut cur: Vec<u8> = Vec::new();
    let mut in_quotes = false;
    while let Some(&c) = data.get(pos) {
        if in_quotes {
            if c == b'"' {
                if data.get(pos + 1) == Some(&b'"') {
                    cur.push(b'"');
                    pos += 1;
                } else {
                    in_quotes = false;
                }
            } else {
                cur.push(c);
            }
        } else {
            match c {
                b'"' if cur.is_empty() => in_quotes = true,
                b',' | b'\n' => break,
                b'\r' => {}
                _ => cur.push(c),
            }
        }
        pos += 1;
    }
    if in_quotes {
        return Err("Unterminated quoted field".into());
    }
    let f = String::from_utf8(cur).map_err(|_| "Invalid UTF-8 in field".to_owned())?;
    Ok((f, pos))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The RFC 4180 encoding the parser reads.
    fn encode(fields: &[String]) -> String {
        fields
            .iter()
            .map(|f| {
                if f.contains([',', '"', '\n', '\r']) || f.starts_with(' ') {
                    format!("\"{}\"", f.replace('"', "\"\""))
                } else {
                    f.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    proptest::proptest! {
        #[test]
        fn records_round_trip(rows in proptest::collection::vec(proptest::collection::vec("[a-z,\" \r\n\u{e9}]{0,6}", 1..5), 1..5), crlf in proptest::bool::ANY) {
            let text: String = rows
                .iter()
                .map(|r| encode(r) + if crlf { "\r\n" } else { "\n" })
                .collect();
            let mut pos = 0;
            let mut fields = Vec::new();
            for row in &rows {
                pos = next_record(&CsvText::new(text.as_bytes()), pos, &mut fields).unwrap();
                let got: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
                proptest::prop_assert_eq!(&got, row);
            }
            proptest::prop_assert_eq!(pos, text.len());
        }

        #[test]
        fn any_bytes_parse_or_fail_cleanly(data in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let mut pos = 0;
            let mut fields = Vec::new();
            let src = CsvText::new(&data);
            while pos < data.len() {
                match next_record(&src, pos, &mut fields) {
                    Ok(p) => {
                        proptest::prop_assert!(p > pos);
                        pos = p;
                    }
                    Err(_) => break,
                }
            }
        }
    }
}
