//! COPY's text and CSV data formats, as PostgreSQL reads and writes them over
//! `COPY … FROM STDIN` / `COPY … TO STDOUT`.
//!
//! * **text**: one row per line, fields separated by the delimiter (tab), NULL written as the
//!   null string (`\N`), and backslash escapes (`\\`, `\t`, `\n`, `\r`, `\b`, `\f`, `\v`,
//!   octal `\ooo`, hex `\xhh`); a line `\.` ends the data.
//! * **csv**: fields separated by the delimiter (`,`), quoted with the quote character (`"`)
//!   when they contain the delimiter, the quote, a newline or a leading/trailing space; inside
//!   quotes the escape character (the quote by default) escapes a quote; an unquoted field equal
//!   to the null string (empty by default) is NULL, a quoted empty string is an empty string;
//!   an optional header line.
//!
//! Guarantees: [`CopyFormat::parse`] takes any text and returns rows or a typed error naming
//! the line (22P04 `bad_copy_file_format`, as PostgreSQL), never a panic; writing rows with
//! [`CopyFormat::write_row`] and parsing them back gives the same values.

use sqlparser::ast::{CopyLegacyCsvOption, CopyLegacyOption, CopyOption};

use crate::error::AuroraError;

/// One field: `None` is SQL NULL.
pub type Field = Option<String>;

/// A COPY data format with its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyFormat {
    /// CSV (else text).
    pub csv: bool,
    /// The field delimiter.
    pub delimiter: char,
    /// The string that stands for NULL.
    pub null: String,
    /// CSV: whether the first line is a header.
    pub header: bool,
    /// CSV quote character.
    pub quote: char,
    /// CSV escape character (inside quotes).
    pub escape: char,
}

impl Default for CopyFormat {
    fn default() -> Self {
        CopyFormat {
            csv: false,
            delimiter: '\t',
            null: "\\N".into(),
            header: false,
            quote: '"',
            escape: '"',
        }
    }
}

fn bad(message: impl Into<String>) -> AuroraError {
    AuroraError::sql("22P04", message)
}

impl CopyFormat {
    /// The format a COPY statement's options describe (binary is refused: 0A000).
    pub fn from_options(
        options: &[CopyOption],
        legacy: &[CopyLegacyOption],
    ) -> Result<CopyFormat, AuroraError> {
        let mut f = CopyFormat::default();
        let (mut delimiter, mut null, mut escape) = (None, None, None);
        for o in options {
            match o {
                CopyOption::Format(name) => match name.value.to_lowercase().as_str() {
                    "text" => f.csv = false,
                    "csv" => f.csv = true,
                    "binary" => {
                        return Err(AuroraError::sql(
                            "0A000",
                            "COPY BINARY is not supported by this server; use text or csv",
                        ));
                    }
                    other => {
                        return Err(AuroraError::sql(
                            "22023",
                            format!("COPY format \"{other}\" not recognized"),
                        ));
                    }
                },
                CopyOption::Delimiter(c) => delimiter = Some(*c),
                CopyOption::Null(s) => null = Some(s.clone()),
                CopyOption::Header(h) => f.header = *h,
                CopyOption::Quote(c) => f.quote = *c,
                CopyOption::Escape(c) => escape = Some(*c),
                // Options about per-column quoting, encoding and freezing do not change what
                // rows mean here.
                _ => {}
            }
        }
        for o in legacy {
            match o {
                CopyLegacyOption::Binary => {
                    return Err(AuroraError::sql(
                        "0A000",
                        "COPY BINARY is not supported by this server; use text or csv",
                    ));
                }
                CopyLegacyOption::Delimiter(c) => delimiter = Some(*c),
                CopyLegacyOption::Null(s) => null = Some(s.clone()),
                CopyLegacyOption::Csv(csv) => {
                    f.csv = true;
                    for c in csv {
                        match c {
                            CopyLegacyCsvOption::Header => f.header = true,
                            CopyLegacyCsvOption::Quote(q) => f.quote = *q,
                            CopyLegacyCsvOption::Escape(e) => escape = Some(*e),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        if f.csv {
            f.delimiter = delimiter.unwrap_or(',');
            f.null = null.unwrap_or_default();
            f.escape = escape.unwrap_or(f.quote);
        } else {
            if f.header {
                return Err(AuroraError::sql(
                    "0A000",
                    "COPY HEADER available only in CSV mode",
                ));
            }
            f.delimiter = delimiter.unwrap_or('\t');
            f.null = null.unwrap_or_else(|| "\\N".into());
        }
        if f.delimiter == '\n' || f.delimiter == '\r' || (!f.csv && f.delimiter == '\\') {
            return Err(AuroraError::sql(
                "22023",
                "COPY delimiter cannot be newline, carriage return or backslash",
            ));
        }
        if f.csv && f.delimiter == f.quote {
            return Err(AuroraError::sql(
                "22023",
                "COPY delimiter and quote must be different",
            ));
        }
        Ok(f)
    }

    /// Parses COPY data into rows (a CSV header line is skipped).
    pub fn parse(&self, data: &str) -> Result<Vec<Vec<Field>>, AuroraError> {
        if self.csv {
            self.parse_csv(data)
        } else {
            self.parse_text(data)
        }
    }

    fn parse_text(&self, data: &str) -> Result<Vec<Vec<Field>>, AuroraError> {
        let mut rows = Vec::new();
        for (n, line) in data.split('\n').enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line == "\\." {
                break;
            }
            if line.is_empty() && n + 1 == data.split('\n').count() {
                break;
            }
            let mut row = Vec::new();
            for raw in line.split(self.delimiter) {
                if raw == self.null {
                    row.push(None);
                } else {
                    row.push(Some(
                        unescape(raw)
                            .map_err(|e| bad(format!("{e} in COPY data, line {}", n + 1)))?,
                    ));
                }
            }
            rows.push(row);
        }
        Ok(rows)
    }

    fn parse_csv(&self, data: &str) -> Result<Vec<Vec<Field>>, AuroraError> {
        let mut rows = Vec::new();
        let mut chars = data.chars().peekable();
        let mut line = 1usize;
        let mut first = true;
        while chars.peek().is_some() {
            let mut row: Vec<Field> = Vec::new();
            let mut field = String::new();
            let mut quoted = false;
            let mut end_of_row = false;
            let start_line = line;
            while !end_of_row {
                match chars.next() {
                    None => end_of_row = true,
                    Some(c) if c == self.quote => {
                        quoted = true;
                        loop {
                            match chars.next() {
                                None => {
                                    return Err(bad(format!(
                                        "unterminated CSV quoted field, line {start_line}"
                                    )));
                                }
                                Some(e)
                                    if e == self.escape && chars.peek() == Some(&self.quote) =>
                                {
                                    chars.next();
                                    field.push(self.quote);
                                }
                                Some(q) if q == self.quote => break,
                                Some(x) => {
                                    if x == '\n' {
                                        line += 1;
                                    }
                                    field.push(x);
                                }
                            }
                        }
                    }
                    Some(c) if c == self.delimiter => {
                        row.push(self.csv_field(std::mem::take(&mut field), quoted));
                        quoted = false;
                    }
                    Some('\n') => {
                        line += 1;
                        end_of_row = true;
                    }
                    Some('\r') if chars.peek() == Some(&'\n') => {}
                    Some(c) => field.push(c),
                }
            }
            row.push(self.csv_field(field, quoted));
            if row.len() == 1 && row[0].as_deref() == Some("\\.") && !quoted {
                break;
            }
            if std::mem::take(&mut first) && self.header {
                continue;
            }
            rows.push(row);
        }
        Ok(rows)
    }

    fn csv_field(&self, field: String, quoted: bool) -> Field {
        (quoted || field != self.null).then_some(field)
    }

    /// Writes one row (without the newline).
    pub fn write_row(&self, row: &[Field]) -> String {
        let mut out = String::new();
        for (i, f) in row.iter().enumerate() {
            if i > 0 {
                out.push(self.delimiter);
            }
            match f {
                None => out.push_str(&self.null),
                Some(v) if self.csv => self.write_csv_field(&mut out, v),
                Some(v) => escape(&mut out, v, self.delimiter),
            }
        }
        out
    }

    /// Writes the header line of `columns` (CSV).
    pub fn write_header(&self, columns: &[String]) -> String {
        let fields: Vec<Field> = columns.iter().cloned().map(Some).collect();
        self.write_row(&fields)
    }

    fn write_csv_field(&self, out: &mut String, v: &str) {
        let needs = v.is_empty() && self.null.is_empty()
            || v == self.null
            || v == "\\."
            || v.starts_with(' ')
            || v.ends_with(' ')
            || v.contains([self.delimiter, self.quote, '\n', '\r'])
            || v.contains(self.escape);
        if !needs {
            out.push_str(v);
            return;
        }
        out.push(self.quote);
        for c in v.chars() {
            if c == self.quote || c == self.escape {
                out.push(self.escape);
            }
            out.push(c);
        }
        out.push(self.quote);
    }
}

fn escape(out: &mut String, v: &str, delimiter: char) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == delimiter => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
}

fn unescape(raw: &str) -> Result<String, &'static str> {
    if !raw.contains('\\') {
        return Ok(raw.to_string());
    }
    let mut out = Vec::with_capacity(raw.len());
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let Some(&next) = bytes.get(i + 1) else {
            return Err("end-of-copy marker corrupt");
        };
        i += 2;
        match next {
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = u32::from(next - b'0');
                for _ in 0..2 {
                    match bytes.get(i) {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            b'x' if bytes.get(i).is_some_and(u8::is_ascii_hexdigit) => {
                let mut v = 0u32;
                for _ in 0..2 {
                    match bytes.get(i).and_then(|d| (*d as char).to_digit(16)) {
                        Some(d) => {
                            v = v * 16 + d;
                            i += 1;
                        }
                        None => break,
                    }
                }
                out.push(v as u8);
            }
            other => out.push(other),
        }
    }
    String::from_utf8(out).map_err(|_| "invalid byte sequence for encoding \"UTF8\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn csv() -> CopyFormat {
        CopyFormat {
            csv: true,
            delimiter: ',',
            null: String::new(),
            ..CopyFormat::default()
        }
    }

    #[test]
    fn text_format_reads_escapes_nulls_and_the_end_marker() {
        let f = CopyFormat::default();
        let rows = f
            .parse("1\ta\\tb\t\\N\n2\tx\\\\y\t\\101\n\\.\nignored\n")
            .unwrap();
        assert_eq!(
            rows,
            vec![
                vec![Some("1".into()), Some("a\tb".into()), None],
                vec![Some("2".into()), Some("x\\y".into()), Some("A".into())],
            ]
        );
    }

    #[test]
    fn csv_reads_quotes_empty_strings_headers_and_multiline_fields() {
        let mut f = csv();
        f.header = true;
        let rows = f
            .parse("id,name\n1,\"a,b\"\n2,\"\"\n3,\n4,\"line\nbreak \"\"q\"\"\"\n")
            .unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0][1].as_deref(), Some("a,b"));
        assert_eq!(rows[1][1].as_deref(), Some(""));
        assert_eq!(rows[2][1], None);
        assert_eq!(rows[3][1].as_deref(), Some("line\nbreak \"q\""));
        assert_eq!(csv().parse("1,\"open").unwrap_err().sqlstate(), "22P04");
    }

    fn field() -> impl Strategy<Value = Field> {
        proptest::option::of("[ -~\t\n\r\\\\é]{0,12}")
    }

    proptest! {
        #[test]
        fn text_rows_round_trip(rows in proptest::collection::vec(proptest::collection::vec(field(), 1..5), 0..6)) {
            let f = CopyFormat::default();
            let data: String = rows.iter().map(|r| f.write_row(r) + "\n").collect();
            let back = f.parse(&data).unwrap();
            // A row of one empty string is an empty line, which text format reads as such.
            prop_assert_eq!(back, rows);
        }

        #[test]
        fn csv_rows_round_trip(rows in proptest::collection::vec(proptest::collection::vec(field(), 1..5), 0..6)) {
            let f = csv();
            let data: String = rows.iter().map(|r| f.write_row(r) + "\n").collect();
            prop_assert_eq!(f.parse(&data).unwrap(), rows);
        }

        #[test]
        fn parsing_never_panics(data in "\\PC{0,80}", csv_mode in any::<bool>()) {
            let f = if csv_mode { csv() } else { CopyFormat::default() };
            let _ = f.parse(&data);
        }
    }
}
