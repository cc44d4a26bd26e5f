//! The JSON reader: a strict, allocation-light JSON parser producing [`Value`]s that borrow
//! unescaped strings from the input, and a structural scanner that finds where a value ends
//! (for DOCUMENT streams) and indexes the top-level fields of an object without parsing the
//! values the query does not touch.
//!
//! Guarantees: never panics and never recurses deeper than [`MAX_DEPTH`]; malformed input is
//! `JSONParsingError`; a record over 1 MB is `OverMaxRecordSize`.

use std::borrow::Cow;

use memchr::{memchr, memchr2};

use super::eval::{Row, Slot, follow};
use super::plan::{MAX_RECORD_BYTES, Sink, Writer};
use super::request::JsonType;
use super::value::Value;
use crate::error::{Error, Result};

/// The deepest nesting accepted.
pub const MAX_DEPTH: usize = 512;

fn bad() -> Error {
    Error::select(
        "JSONParsingError",
        "Error parsing JSON file. Please check the file and try again.",
    )
}

fn too_long() -> Error {
    Error::select(
        "OverMaxRecordSize",
        "The length of a record in the input or result is greater than maxCharsPerRecord of 1 MB.",
    )
}

fn ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// Why a value could not be skipped.
#[derive(Debug, PartialEq, Eq)]
pub enum Skip {
    /// The input ended inside the value.
    Incomplete,
    /// The input is not JSON.
    Invalid,
}

/// Returns the offset just past the string starting at `b[i] == '"'`.
fn skip_string(b: &[u8], i: usize) -> Result<usize, Skip> {
    let mut j = i + 1;
    loop {
        match memchr2(b'"', b'\\', &b[j.min(b.len())..]) {
            None => return Err(Skip::Incomplete),
            Some(o) => {
                j += o;
                if b[j] == b'\\' {
                    j += 2;
                } else {
                    return Ok(j + 1);
                }
            }
        }
    }
}

/// Returns the offset just past the JSON value starting at `i` (after whitespace).
pub fn skip_value(b: &[u8], i: usize) -> Result<usize, Skip> {
    let i = ws(b, i);
    let Some(&c) = b.get(i) else {
        return Err(Skip::Incomplete);
    };
    match c {
        b'"' => skip_string(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = skip_string(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => {
                        depth += 1;
                        if depth > MAX_DEPTH {
                            return Err(Skip::Invalid);
                        }
                    }
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            Err(Skip::Incomplete)
        }
        b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                j += 1;
            }
            // A scalar may end the input; callers that stream decide whether more could follow.
            Ok(j)
        }
        _ => Err(Skip::Invalid),
    }
}

/// Checks that `b` holds exactly one well-formed JSON value, without building it.
pub fn is_valid(b: &[u8]) -> bool {
    if std::str::from_utf8(b).is_err() {
        return false;
    }
    let mut v = Validator {
        b,
        i: 0,
        depth: 0,
        esc: false,
    };
    v.value() && ws(b, v.i) == b.len()
}

struct Validator<'a> {
    b: &'a [u8],
    i: usize,
    depth: usize,
    /// Whether the last string validated had an escape.
    esc: bool,
}

impl Validator<'_> {
    fn value(&mut self) -> bool {
        self.i = ws(self.b, self.i);
        let Some(&c) = self.b.get(self.i) else {
            return false;
        };
        match c {
            b'{' | b'[' => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return false;
                }
                let close = if c == b'{' { b'}' } else { b']' };
                self.i = ws(self.b, self.i + 1);
                if self.b.get(self.i) == Some(&close) {
                    self.i += 1;
                    self.depth -= 1;
                    return true;
                }
                loop {
                    if c == b'{' {
                        self.i = ws(self.b, self.i);
                        if self.b.get(self.i) != Some(&b'"') || !self.string() {
                            return false;
                        }
                        self.i = ws(self.b, self.i);
                        if self.b.get(self.i) != Some(&b':') {
                            return false;
                        }
                        self.i += 1;
                    }
                    if !self.value() {
                        return false;
                    }
                    self.i = ws(self.b, self.i);
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(x) if *x == close => {
                            self.i += 1;
                            self.depth -= 1;
                            return true;
                        }
                        _ => return false,
                    }
                }
            }
            b'"' => self.string(),
            b't' | b'f' | b'n' => {
                let w: &[u8] = match c {
                    b't' => b"true",
                    b'f' => b"false",
                    _ => b"null",
                };
                if self.b.get(self.i..self.i + w.len()) == Some(w) {
                    self.i += w.len();
                    true
                } else {
                    false
                }
            }
            _ => match number_end(self.b, self.i) {
                Some(j) => {
                    self.i = j;
                    true
                }
                None => false,
            },
        }
    }

    /// Validates the string starting at `b[i] == '"'` in one pass: closing quote, escapes,
    /// no raw control characters.
    fn string(&mut self) -> bool {
        let b = self.b;
        let mut j = self.i + 1;
        self.esc = false;
        loop {
            j = super::swar::json_string_stop(b, j);
            let Some(&c) = b.get(j) else {
                return false;
            };
            match c {
                b'"' => {
                    self.i = j + 1;
                    return true;
                }
                b'\\' => match b.get(j + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                        self.esc = true;
                        j += 2
                    }
                    Some(b'u')
                        if b.get(j + 2..j + 6)
                            .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) =>
                    {
                        self.esc = true;
                        j += 6
                    }
                    _ => return false,
                },
                _ => return false,
            }
        }
    }

    /// Validates a whole record, indexing the fields of a top-level object into `idx`.
    fn record(&mut self, idx: &mut FieldIndex) -> bool {
        self.i = ws(self.b, self.i);
        if self.b.get(self.i) != Some(&b'{') {
            return self.value();
        }
        self.i = ws(self.b, self.i + 1);
        if self.b.get(self.i) == Some(&b'}') {
            self.i += 1;
            return true;
        }
        self.depth += 1;
        loop {
            self.i = ws(self.b, self.i);
            let ks = self.i;
            if self.b.get(ks) != Some(&b'"') || !self.string() {
                return false;
            }
            let ke = self.i;
            let esc = self.esc;
            self.i = ws(self.b, self.i);
            if self.b.get(self.i) != Some(&b':') {
                return false;
            }
            self.i = ws(self.b, self.i + 1);
            let vs = self.i;
            if !self.value() {
                return false;
            }
            idx.push((ks + 1, ke - 1, vs, self.i, esc));
            self.i = ws(self.b, self.i);
            match self.b.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    self.depth -= 1;
                    return true;
                }
                _ => return false,
            }
        }
    }
}

/// Checks that `b` holds exactly one well-formed JSON value and, when it is an object, indexes
/// its top-level fields into `idx` (cleared first) in the same pass.
pub fn validate_indexed(b: &[u8], idx: &mut FieldIndex) -> bool {
    idx.clear();
    if std::str::from_utf8(b).is_err() {
        return false;
    }
    let mut v = Validator {
        b,
        i: 0,
        depth: 0,
        esc: false,
    };
    v.record(idx) && ws(b, v.i) == b.len()
}

/// The end of the JSON number starting at `b[start]`, if the syntax is right.
fn number_end(b: &[u8], start: usize) -> Option<usize> {
    let mut j = start;
    if b.get(j) == Some(&b'-') {
        j += 1;
    }
    let digits = j;
    while j < b.len() && b[j].is_ascii_digit() {
        j += 1;
    }
    if j == digits || (b[digits] == b'0' && j - digits > 1) {
        return None;
    }
    if b.get(j) == Some(&b'.') {
        j += 1;
        let f = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j == f {
            return None;
        }
    }
    if matches!(b.get(j), Some(b'e' | b'E')) {
        j += 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let e = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j == e {
            return None;
        }
    }
    Some(j)
}

/// Parses one whole JSON value from `b` (surrounding whitespace allowed).
pub fn parse(b: &[u8]) -> Result<Value<'_>> {
    let mut p = Parser { b, i: 0, depth: 0 };
    let v = p.value()?;
    p.i = ws(b, p.i);
    if p.i != b.len() {
        return Err(bad());
    }
    Ok(v)
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn value(&mut self) -> Result<Value<'a>> {
        self.i = ws(self.b, self.i);
        let Some(&c) = self.b.get(self.i) else {
            return Err(bad());
        };
        match c {
            b'{' => {
                self.nest()?;
                self.i += 1;
                let mut fields = Vec::new();
                self.i = ws(self.b, self.i);
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(Value::Struct(fields));
                }
                loop {
                    self.i = ws(self.b, self.i);
                    if self.b.get(self.i) != Some(&b'"') {
                        return Err(bad());
                    }
                    let k = self.string()?;
                    self.i = ws(self.b, self.i);
                    if self.b.get(self.i) != Some(&b':') {
                        return Err(bad());
                    }
                    self.i += 1;
                    let v = self.value()?;
                    fields.push((k, v));
                    self.i = ws(self.b, self.i);
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            self.depth -= 1;
                            return Ok(Value::Struct(fields));
                        }
                        _ => return Err(bad()),
                    }
                }
            }
            b'[' => {
                self.nest()?;
                self.i += 1;
                let mut items = Vec::new();
                self.i = ws(self.b, self.i);
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(Value::List(items));
                }
                loop {
                    items.push(self.value()?);
                    self.i = ws(self.b, self.i);
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            self.depth -= 1;
                            return Ok(Value::List(items));
                        }
                        _ => return Err(bad()),
                    }
                }
            }
            b'"' => Ok(Value::Str(self.string()?)),
            b't' => self.word(b"true", Value::Bool(true)),
            b'f' => self.word(b"false", Value::Bool(false)),
            b'n' => self.word(b"null", Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(bad()),
        }
    }

    fn nest(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(bad())
        } else {
            Ok(())
        }
    }

    fn word(&mut self, w: &[u8], v: Value<'a>) -> Result<Value<'a>> {
        if self.b.get(self.i..self.i + w.len()) == Some(w) {
            self.i += w.len();
            Ok(v)
        } else {
            Err(bad())
        }
    }

    fn number(&mut self) -> Result<Value<'a>> {
        let start = self.i;
        let j = number_end(self.b, start).ok_or_else(bad)?;
        self.i = j;
        let raw = &self.b[start..j];
        // The bytes are ASCII digits and signs, so this cannot fail.
        let text = std::str::from_utf8(raw).map_err(|_| bad())?;
        if !raw.iter().any(|c| matches!(c, b'.' | b'e' | b'E'))
            && let Ok(i) = text.parse::<i64>()
        {
            return Ok(Value::Int(i));
        }
        text.parse::<f64>().map(Value::Float).map_err(|_| bad())
    }

    fn string(&mut self) -> Result<Cow<'a, str>> {
        let b = self.b;
        let start = self.i + 1;
        let end = skip_string(b, self.i).map_err(|_| bad())?;
        self.i = end;
        let raw = &b[start..end - 1];
        if memchr(b'\\', raw).is_none() {
            if raw.iter().any(|&c| c < 0x20) {
                return Err(bad());
            }
            return std::str::from_utf8(raw)
                .map(Cow::Borrowed)
                .map_err(|_| bad());
        }
        let mut out = String::with_capacity(raw.len());
        let s = std::str::from_utf8(raw).map_err(|_| bad())?;
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                if (c as u32) < 0x20 {
                    return Err(bad());
                }
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some('/') => out.push('/'),
                Some('b') => out.push('\u{8}'),
                Some('f') => out.push('\u{c}'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('u') => {
                    let hex = |chars: &mut std::str::Chars<'_>| -> Result<u32> {
                        let h: String = chars.take(4).collect();
                        if h.len() != 4 {
                            return Err(bad());
                        }
                        u32::from_str_radix(&h, 16).map_err(|_| bad())
                    };
                    let hi = hex(&mut chars)?;
                    let cp = if (0xD800..0xDC00).contains(&hi) {
                        if chars.next() != Some('\\') || chars.next() != Some('u') {
                            return Err(bad());
                        }
                        let lo = hex(&mut chars)?;
                        if !(0xDC00..0xE000).contains(&lo) {
                            return Err(bad());
                        }
                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                    } else {
                        hi
                    };
                    out.push(char::from_u32(cp).ok_or_else(bad)?);
                }
                _ => return Err(bad()),
            }
        }
        Ok(Cow::Owned(out))
    }
}

/// A JSON scanner for one query.
#[derive(Debug, Clone)]
pub struct JsonScanner {
    kind: JsonType,
    slots: Vec<Slot>,
    count_only: bool,
}

/// The top-level fields of an object record: key range, value range, key had escapes.
pub type FieldIndex = Vec<(usize, usize, usize, usize, bool)>;

impl JsonScanner {
    /// A scanner for `kind`.
    pub fn new(kind: JsonType, slots: &[Slot], count_only: bool) -> JsonScanner {
        JsonScanner {
            kind,
            slots: slots.to_vec(),
            count_only,
        }
    }

    /// Whether records can be found by searching for newlines alone.
    pub fn splittable(&self) -> bool {
        self.kind == JsonType::Lines
    }

    /// Runs every complete record of `data` through `sink`; returns the bytes consumed.
    pub fn scan(
        &self,
        data: &[u8],
        last: bool,
        sink: &mut Sink<'_>,
        limit_end: Option<usize>,
    ) -> Result<usize> {
        let stop = limit_end.unwrap_or(usize::MAX);
        let mut index = FieldIndex::new();
        let mut pos = 0;
        while pos < data.len() && pos < stop && !sink.done {
            let (start, end, next) = match self.kind {
                JsonType::Lines => {
                    let (end, next) = match memchr(b'\n', &data[pos..]) {
                        Some(i) => (pos + i, pos + i + 1),
                        None if last => (data.len(), data.len()),
                        None => {
                            if data.len() - pos > MAX_RECORD_BYTES {
                                return Err(too_long());
                            }
                            break;
                        }
                    };
                    let s = ws(data, pos);
                    if s >= end {
                        pos = next;
                        continue;
                    }
                    (s, end, next)
                }
                JsonType::Document => {
                    let s = ws(data, pos);
                    if s >= data.len() {
                        pos = data.len();
                        break;
                    }
                    match skip_value(data, s) {
                        Ok(e)
                            if e == data.len()
                                && !last
                                && !matches!(data[s], b'{' | b'[' | b'"') =>
                        {
                            break;
                        }
                        Ok(e) => (s, e, e),
                        Err(Skip::Incomplete) if !last => {
                            if data.len() - s > MAX_RECORD_BYTES {
                                return Err(too_long());
                            }
                            break;
                        }
                        Err(_) => return Err(bad()),
                    }
                }
            };
            if end - start > MAX_RECORD_BYTES {
                return Err(too_long());
            }
            let rec = &data[start..end];
            if self.count_only && sink.plan.from_path.is_empty() {
                if !is_valid(rec) {
                    return Err(bad());
                }
                for acc in &mut sink.accs {
                    acc.count_row();
                }
            } else if sink.plan.from_path.is_empty() {
                // Validate the whole record (so malformed input fails even where fields go
                // unused) and find its top-level fields in the same pass.
                if !validate_indexed(rec, &mut index) {
                    return Err(bad());
                }
                let row = RawRow {
                    rec,
                    slots: &self.slots,
                    index: &index,
                };
                let star = |out: &mut Vec<u8>, w: &Writer| {
                    write_star(out, w, parse(rec).unwrap_or(Value::Missing))
                };
                sink.row(&row, &star)?;
            } else {
                let v = parse(rec)?;
                for item in expand(v, &sink.plan.from_path) {
                    if sink.done {
                        break;
                    }
                    let row = ValueRow {
                        v: &item,
                        slots: &self.slots,
                    };
                    let star = |out: &mut Vec<u8>, w: &Writer| write_star(out, w, item.clone());
                    sink.row(&row, &star)?;
                }
            }
            pos = next;
        }
        Ok(pos)
    }
}

/// Follows a FROM path, expanding `[*]` into one row per element.
pub fn expand<'a>(v: Value<'a>, path: &[super::ast::PathStep]) -> Vec<Value<'a>> {
    use super::ast::PathStep;
    match path.iter().position(|s| *s == PathStep::Wildcard) {
        None => match follow(v, path) {
            Value::Missing => Vec::new(),
            x => vec![x],
        },
        Some(w) => match follow(v, &path[..w]) {
            Value::List(items) => items
                .into_iter()
                .flat_map(|x| expand(x, &path[w + 1..]))
                .collect(),
            _ => Vec::new(),
        },
    }
}

fn write_star(out: &mut Vec<u8>, w: &Writer, v: Value<'_>) {
    match v {
        Value::Struct(fields) => w.write(out, fields.iter().map(|(k, v)| (k.as_ref(), v))),
        other => w.write(out, std::iter::once(("_1", &other))),
    }
}

/// A row over a raw object record whose top-level fields were indexed while validating it;
/// only the fields the query uses are parsed.
struct RawRow<'a, 's> {
    rec: &'a [u8],
    slots: &'s [Slot],
    index: &'s FieldIndex,
}

impl<'a> RawRow<'a, '_> {
    /// The raw bytes of the value of slot `i`'s field (the first field with that name).
    fn value_bytes(&self, i: usize) -> Option<&'a [u8]> {
        let Some(Slot::Name { name, exact }) = self.slots.get(i) else {
            return None;
        };
        let rec: &'a [u8] = self.rec;
        for &(ks, ke, vs, ve, esc) in self.index {
            let key = &rec[ks..ke];
            let hit = if esc {
                match parse(&rec[ks - 1..ke + 1]) {
                    Ok(Value::Str(k)) => {
                        if *exact {
                            k == name.as_str()
                        } else {
                            k.eq_ignore_ascii_case(name)
                        }
                    }
                    _ => false,
                }
            } else if *exact {
                key == name.as_bytes()
            } else {
                key.eq_ignore_ascii_case(name.as_bytes())
            };
            if hit {
                return Some(&rec[vs..ve]);
            }
        }
        None
    }
}

/// The text of a JSON string token without escapes (validated: UTF-8, no control characters).
fn plain_string(b: &[u8]) -> Option<&[u8]> {
    match b {
        [b'"', inner @ .., b'"'] if memchr(b'\\', inner).is_none() => Some(inner),
        _ => None,
    }
}

impl<'a> Row<'a> for RawRow<'a, '_> {
    fn slot(&self, i: usize) -> Value<'a> {
        match self.value_bytes(i) {
            Some(b) => parse(b).unwrap_or(Value::Missing),
            None => Value::Missing,
        }
    }

    fn whole(&self) -> Value<'a> {
        parse(self.rec).unwrap_or(Value::Missing)
    }

    fn raw(&self, i: usize) -> Option<&'a [u8]> {
        plain_string(self.value_bytes(i)?)
    }

    fn raw_num(&self, i: usize) -> Option<&'a [u8]> {
        let b = self.value_bytes(i)?;
        match b.first() {
            Some(b'-' | b'0'..=b'9') => Some(b),
            _ => plain_string(b),
        }
    }
}

struct ValueRow<'v, 'a, 's> {
    v: &'v Value<'a>,
    slots: &'s [Slot],
}

impl<'a> Row<'a> for ValueRow<'_, 'a, '_> {
    fn slot(&self, i: usize) -> Value<'a> {
        match self.slots.get(i) {
            Some(Slot::Name { name, exact }) => self.v.field(name, *exact),
            Some(Slot::Position(n)) => match self.v {
                Value::List(l) => l.get(n - 1).cloned().unwrap_or(Value::Missing),
                _ => Value::Missing,
            },
            None => Value::Missing,
        }
    }

    fn whole(&self) -> Value<'a> {
        self.v.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let v = parse(br#"{"a": [1, 2.5, "x\u00e9\n"], "b": {"c": null, "d": true}, "e": -0}"#)
            .unwrap();
        assert_eq!(
            v.field("a", true),
            Value::List(vec![
                Value::Int(1),
                Value::Float(2.5),
                Value::Str("x\u{e9}\n".into())
            ])
        );
        assert_eq!(v.field("B", false).field("d", true), Value::Bool(true));
        for bad in [
            "{",
            "[1,]",
            "{\"a\" 1}",
            "01",
            "\"\\x\"",
            "tru",
            "{} x",
            "\"a\u{1}\"",
            "1.",
            "-",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad}");
        }
        for bad in ["{\"a\": }", "[1 2]", "{\"a\":1,}", "\"\\q\""] {
            assert!(!is_valid(bad.as_bytes()), "{bad}");
        }
        assert!(is_valid(
            br#" {"a": [1, -2.5e3, "x\u00e9", {"b": null}], "c": true} "#
        ));
        let deep = "[".repeat(600) + &"]".repeat(600);
        assert!(parse(deep.as_bytes()).is_err());
        assert_eq!(skip_value(b" {\"a\": \"}\"} rest", 0), Ok(11));
        assert_eq!(skip_value(b"{\"a\": ", 0), Err(Skip::Incomplete));
        assert_eq!(skip_value(b"12", 0), Ok(2));
    }
}
