//! The CSV scanner: splits records and fields straight from the input bytes (memchr over the
//! record delimiter, then over the field delimiter), and hands the evaluator borrowed field
//! slices, so a filter runs without materialising rows that it rejects.
//!
//! Honours every `CSVInput` option: `FileHeaderInfo`, `Comments`, `QuoteCharacter`,
//! `QuoteEscapeCharacter`, `FieldDelimiter`, `RecordDelimiter` (one byte or `\r\n`; with `\n`, a
//! `\r` before it is dropped) and `AllowQuotedRecordDelimiter`. Blank lines are skipped.
//!
//! Guarantees: never panics on any bytes; invalid UTF-8 is replaced, not trusted; a record
//! over 1 MB is `OverMaxRecordSize`; an unterminated quote is `CSVEscapingRecordDelimiter` (a
//! record delimiter inside quotes without `AllowQuotedRecordDelimiter`) or `CSVParsingError`.

use std::borrow::Cow;

use memchr::{memchr, memchr_iter, memchr2};

use super::eval::{Row, Slot};
use super::plan::{MAX_RECORD_BYTES, Sink, Writer};
use super::request::{CsvInput, FileHeaderInfo};
use super::swar::Finder3;
use super::value::Value;
use crate::error::{Error, Result};

/// A field: byte range within the record, and whether it was quoted.
type Field = (u32, u32, bool);

/// A CSV scanner for one query.
#[derive(Debug, Clone)]
pub struct CsvScanner {
    cfg: CsvInput,
    delim: u8,
    strip_cr: bool,
    /// Column index for each plan slot.
    slot_cols: Vec<Option<usize>>,
    /// How many fields a record must be split into (`usize::MAX` for all).
    need: usize,
    /// Column names, with `FileHeaderInfo::Use`.
    header: Option<Vec<String>>,
    /// Only `COUNT(*)` over unfiltered records: count records without splitting fields.
    count_only: bool,
}

fn too_long() -> Error {
    Error::select(
        "OverMaxRecordSize",
        "The length of a record in the input or result is greater than maxCharsPerRecord of 1 MB.",
    )
}

impl CsvScanner {
    /// A scanner for `cfg`; call [`CsvScanner::read_header`] before scanning when the input has
    /// a header line.
    pub fn new(cfg: &CsvInput, slots: &[Slot], star: bool, count_only: bool) -> CsvScanner {
        let delim = cfg.record_delimiter.last().copied().unwrap_or(b'\n');
        let mut s = CsvScanner {
            cfg: cfg.clone(),
            delim,
            strip_cr: delim == b'\n',
            slot_cols: Vec::new(),
            need: 0,
            header: None,
            count_only,
        };
        s.bind(slots, star);
        s
    }

    fn bind(&mut self, slots: &[Slot], star: bool) {
        self.slot_cols = slots
            .iter()
            .map(|s| match s {
                Slot::Position(n) => Some(n - 1),
                Slot::Name { name, exact } => self.header.as_ref().and_then(|h| {
                    h.iter().position(|c| {
                        if *exact {
                            c == name
                        } else {
                            c.eq_ignore_ascii_case(name)
                        }
                    })
                }),
            })
            .collect();
        self.need = if star {
            usize::MAX
        } else {
            self.slot_cols
                .iter()
                .flatten()
                .map(|c| c + 1)
                .max()
                .unwrap_or(0)
        };
    }

    /// Whether records can be found by searching for the delimiter alone, so the input can be
    /// cut anywhere at a delimiter (for parallel scans and scan ranges).
    pub fn splittable(&self) -> bool {
        !self.cfg.allow_quoted_record_delimiter
    }

    /// The byte that ends records.
    pub fn delimiter(&self) -> u8 {
        self.delim
    }

    /// Consumes the header line if the input has one; returns the bytes consumed, or `None`
    /// when `data` does not yet hold a whole line and more may come.
    pub fn read_header(
        &mut self,
        data: &[u8],
        last: bool,
        slots: &[Slot],
        star: bool,
    ) -> Result<Option<usize>> {
        if self.cfg.file_header_info == FileHeaderInfo::None {
            return Ok(Some(0));
        }
        let mut pos = 0;
        loop {
            let mut fields = Vec::new();
            let Some(end) = self.record_end(data, pos, last, &mut fields, usize::MAX)? else {
                return Ok(None);
            };
            let rec = self.trim_record(&data[pos..end.0]);
            if rec.is_empty() && end.1 < data.len() || self.is_comment(rec) {
                pos = end.1;
                continue;
            }
            if self.cfg.file_header_info == FileHeaderInfo::Use {
                self.header = Some(
                    fields
                        .iter()
                        .map(|f| field_value(&self.cfg, rec, *f).to_text())
                        .collect(),
                );
            }
            self.bind(slots, star);
            return Ok(Some(end.1));
        }
    }

    fn is_comment(&self, rec: &[u8]) -> bool {
        self.cfg.comments.is_some_and(|c| rec.first() == Some(&c))
    }

    fn trim_record<'a>(&self, rec: &'a [u8]) -> &'a [u8] {
        if self.strip_cr && rec.last() == Some(&b'\r') {
            &rec[..rec.len() - 1]
        } else {
            rec
        }
    }

    /// Finds the record starting at `pos`: `(end of content, start of next record)`, filling
    /// `fields` (offsets relative to `pos`) up to `need` fields. `None` if the record is not
    /// complete in `data` and more input may follow.
    fn record_end(
        &self,
        data: &[u8],
        pos: usize,
        last: bool,
        fields: &mut Vec<Field>,
        need: usize,
    ) -> Result<Option<(usize, usize)>> {
        fields.clear();
        if !self.cfg.allow_quoted_record_delimiter {
            let (end, next) = match memchr(self.delim, &data[pos..]) {
                Some(i) => (pos + i, pos + i + 1),
                None if last => (data.len(), data.len()),
                None => {
                    if data.len() - pos > MAX_RECORD_BYTES {
                        return Err(too_long());
                    }
                    return Ok(None);
                }
            };
            if end - pos > MAX_RECORD_BYTES {
                return Err(too_long());
            }
            if need > 0 {
                let rec = self.trim_record(&data[pos..end]);
                self.split(rec, fields, need, next < data.len() || !last)?;
            }
            return Ok(Some((end, next)));
        }
        // Quote-aware: the record ends at the first delimiter outside quotes.
        let (q, d, fd) = (
            self.cfg.quote_character,
            self.delim,
            self.cfg.field_delimiter,
        );
        let esc = self.cfg.quote_escape_character;
        let mut i = pos;
        let mut field_start = pos;
        let mut quoted = false;
        let mut in_quotes = false;
        loop {
            if i - pos > MAX_RECORD_BYTES {
                return Err(too_long());
            }
            if i >= data.len() {
                if !last {
                    return Ok(None);
                }
                if in_quotes {
                    return Err(Error::select(
                        "CSVParsingError",
                        "An error occurred while parsing the CSV file. Check the file and try again.",
                    ));
                }
                if fields.len() < need && !(i == pos && fields.is_empty()) {
                    fields.push(((field_start - pos) as u32, (i - pos) as u32, quoted));
                }
                return Ok(Some((i, i)));
            }
            let c = data[i];
            if in_quotes {
                if c == esc && esc != q && data.get(i + 1) == Some(&q) {
                    i += 2;
                    continue;
                }
                if c == q {
                    if esc == q && data.get(i + 1) == Some(&q) {
                        i += 2;
                        continue;
                    }
                    in_quotes = false;
                }
                i += 1;
                continue;
            }
            if c == q && i == field_start {
                in_quotes = true;
                quoted = true;
                i += 1;
                continue;
            }
            if c == fd || c == d {
                if fields.len() < need {
                    let mut e = i;
                    if c == d && self.strip_cr && e > field_start && data[e - 1] == b'\r' {
                        e -= 1;
                    }
                    fields.push(((field_start - pos) as u32, (e - pos) as u32, quoted));
                }
                if c == d {
                    let mut end = i;
                    if self.strip_cr && end > pos && data[end - 1] == b'\r' {
                        end -= 1;
                    }
                    return Ok(Some((end, i + 1)));
                }
                field_start = i + 1;
                quoted = false;
            }
            i += 1;
        }
    }

    /// Splits a record (without its delimiter) into fields.
    fn split(
        &self,
        rec: &[u8],
        fields: &mut Vec<Field>,
        need: usize,
        more_follow: bool,
    ) -> Result<()> {
        let (q, fd, esc) = (
            self.cfg.quote_character,
            self.cfg.field_delimiter,
            self.cfg.quote_escape_character,
        );
        let mut start = 0usize;
        while fields.len() < need {
            if rec.get(start) == Some(&q) {
                // A quoted field: find the closing quote, skipping escaped quotes.
                let mut i = start + 1;
                loop {
                    let Some(off) = memchr2(q, esc, &rec[i..]) else {
                        return Err(if more_follow {
                            Error::select(
                                "CSVEscapingRecordDelimiter",
                                "A quoted record delimiter was found in the file. To allow quoted record delimiters, set AllowQuotedRecordDelimiter to 'TRUE'.",
                            )
                        } else {
                            Error::select(
                                "CSVParsingError",
                                "An error occurred while parsing the CSV file. Check the file and try again.",
                            )
                        });
                    };
                    i += off;
                    if rec.get(i + 1) == Some(&q) && (rec[i] == esc) {
                        i += 2;
                        continue;
                    }
                    if rec[i] == q {
                        break;
                    }
                    i += 1;
                }
                let end = match memchr(fd, &rec[i..]) {
                    Some(o) => i + o,
                    None => rec.len(),
                };
                fields.push((start as u32, end as u32, true));
                if end >= rec.len() {
                    return Ok(());
                }
                start = end + 1;
            } else {
                match memchr(fd, &rec[start..]) {
                    Some(o) => {
                        fields.push((start as u32, (start + o) as u32, false));
                        start += o + 1;
                    }
                    None => {
                        fields.push((start as u32, rec.len() as u32, false));
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }

    /// Runs every complete record of `data[..]` through `sink`; returns the bytes consumed.
    /// `limit_end`: records starting at or after this offset are not processed (scan ranges).
    pub fn scan(
        &self,
        data: &[u8],
        last: bool,
        sink: &mut Sink<'_>,
        limit_end: Option<usize>,
    ) -> Result<usize> {
        if self.count_only && self.splittable() {
            return self.count(data, last, sink, limit_end);
        }
        let (q, fd) = (self.cfg.quote_character, self.cfg.field_delimiter);
        if self.splittable() && q != fd && q != self.delim && fd != self.delim {
            return self.scan_fast(data, last, sink, limit_end);
        }
        let mut fields: Vec<Field> = Vec::with_capacity(16);
        let mut pos = 0;
        let stop = limit_end.unwrap_or(usize::MAX);
        let star = self.need == usize::MAX;
        while pos < data.len() && pos < stop && !sink.done {
            let Some((end, next)) = self.record_end(data, pos, last, &mut fields, self.need)?
            else {
                break;
            };
            let rec = self.trim_record(&data[pos..end]);
            let rec = if self.cfg.allow_quoted_record_delimiter {
                &data[pos..end]
            } else {
                rec
            };
            if !rec.is_empty() && !self.is_comment(rec) {
                let row = CsvRow {
                    cfg: &self.cfg,
                    rec,
                    fields: &fields,
                    slot_cols: &self.slot_cols,
                    scanner: self,
                };
                if star {
                    sink.row(&row, &|out, w| self.write_star(out, w, rec, &fields))?;
                } else {
                    sink.row(&row, &|_, _| {})?;
                }
            }
            pos = next;
        }
        Ok(pos)
    }

    /// [`CsvScanner::scan`] for inputs whose records end at every record delimiter: one pass
    /// over the field delimiters, record delimiters and quotes of the whole slice. A record
    /// with a quoted field among the fields the query needs is split again by
    /// [`CsvScanner::split`], so quoting rules live in one place.
    fn scan_fast(
        &self,
        data: &[u8],
        last: bool,
        sink: &mut Sink<'_>,
        limit_end: Option<usize>,
    ) -> Result<usize> {
        let (q, fd, d) = (
            self.cfg.quote_character,
            self.cfg.field_delimiter,
            self.delim,
        );
        let mut fields: Vec<Field> = Vec::with_capacity(16);
        let stop = limit_end.unwrap_or(usize::MAX);
        let star = self.need == usize::MAX;
        let need = self.need;
        let mut seps = Finder3::new(data, 0, fd, d, q);
        let mut pos = 0usize;
        let mut field_start = 0usize;
        let mut requote = false;
        while pos < data.len() && pos < stop && !sink.done {
            let hit = seps.next_hit();
            let (end, next) = match hit {
                Some(i) if data[i] == fd => {
                    if fields.len() < need {
                        fields.push(((field_start - pos) as u32, (i - pos) as u32, false));
                    }
                    field_start = i + 1;
                    continue;
                }
                Some(i) if data[i] == q => {
                    requote |= i == field_start && fields.len() < need;
                    continue;
                }
                Some(i) => (i, i + 1),
                None if last => (data.len(), data.len()),
                None => {
                    if data.len() - pos > MAX_RECORD_BYTES {
                        return Err(too_long());
                    }
                    break;
                }
            };
            if end - pos > MAX_RECORD_BYTES {
                return Err(too_long());
            }
            let rec = self.trim_record(&data[pos..end]);
            if !rec.is_empty() && !self.is_comment(rec) {
                if requote {
                    fields.clear();
                    self.split(rec, &mut fields, need, next < data.len() || !last)?;
                } else if fields.len() < need {
                    // The last field ends where the (trimmed) record does.
                    let fs = (field_start - pos).min(rec.len());
                    fields.push((fs as u32, rec.len() as u32, false));
                }
                let row = CsvRow {
                    cfg: &self.cfg,
                    rec,
                    fields: &fields,
                    slot_cols: &self.slot_cols,
                    scanner: self,
                };
                if star {
                    let fields = &fields;
                    sink.row(&row, &|out, w| self.write_star(out, w, rec, fields))?;
                } else {
                    sink.row(&row, &|_, _| {})?;
                }
            }
            fields.clear();
            requote = false;
            pos = next;
            field_start = next;
        }
        Ok(pos)
    }

    fn write_star(&self, out: &mut Vec<u8>, w: &Writer, rec: &[u8], fields: &[Field]) {
        let vals: Vec<Value<'_>> = fields
            .iter()
            .map(|f| field_value(&self.cfg, rec, *f))
            .collect();
        let names: Vec<Cow<'_, str>> = (0..vals.len()).map(|i| self.column_name(i)).collect();
        w.write(out, names.iter().map(|n| n.as_ref()).zip(vals.iter()));
    }

    fn count(
        &self,
        data: &[u8],
        last: bool,
        sink: &mut Sink<'_>,
        limit_end: Option<usize>,
    ) -> Result<usize> {
        let stop = limit_end.unwrap_or(usize::MAX).min(data.len());
        let mut n: i64 = 0;
        let mut pos = 0usize;
        let comment = self.cfg.comments;
        for i in memchr_iter(self.delim, data) {
            if pos >= stop {
                break;
            }
            if i - pos > MAX_RECORD_BYTES {
                return Err(too_long());
            }
            let len = i - pos;
            let blank = len == 0 || (self.strip_cr && len == 1 && data[pos] == b'\r');
            if !blank && comment.is_none_or(|c| data[pos] != c) {
                n += 1;
            }
            pos = i + 1;
        }
        if last && pos < stop && pos < data.len() {
            let rest = &data[pos..];
            if rest.len() > MAX_RECORD_BYTES {
                return Err(too_long());
            }
            let blank = rest.is_empty() || rest == b"\r";
            if !blank && comment.is_none_or(|c| rest[0] != c) {
                n += 1;
            }
            pos = data.len();
        } else if data.len() - pos > MAX_RECORD_BYTES {
            return Err(too_long());
        }
        for acc in &mut sink.accs {
            acc.count_rows(n);
        }
        Ok(pos)
    }

    fn column_name(&self, i: usize) -> Cow<'_, str> {
        match self.header.as_ref().and_then(|h| h.get(i)) {
            Some(n) => Cow::Borrowed(n.as_str()),
            None => Cow::Owned(format!("_{}", i + 1)),
        }
    }
}

fn utf8(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

fn field_value<'a>(cfg: &CsvInput, rec: &'a [u8], (s, e, quoted): Field) -> Value<'a> {
    let raw = rec.get(s as usize..e as usize).unwrap_or(b"");
    if !quoted {
        return Value::Str(utf8(raw));
    }
    let (q, esc) = (cfg.quote_character, cfg.quote_escape_character);
    // Drop the opening quote, then copy up to the closing quote, unescaping.
    let inner = &raw[1.min(raw.len())..];
    match memchr2(q, esc, inner) {
        Some(i)
            if inner[i] == q
                && (esc != q || inner.get(i + 1) != Some(&q))
                && i + 1 == inner.len() =>
        {
            Value::Str(utf8(&inner[..i]))
        }
        _ => {
            let mut out = Vec::with_capacity(inner.len());
            let mut i = 0;
            let mut closed = false;
            while i < inner.len() {
                let c = inner[i];
                if !closed && c == esc && inner.get(i + 1) == Some(&q) {
                    out.push(q);
                    i += 2;
                    continue;
                }
                if !closed && c == q {
                    closed = true;
                    i += 1;
                    continue;
                }
                out.push(c);
                i += 1;
            }
            Value::Str(Cow::Owned(String::from_utf8_lossy(&out).into_owned()))
        }
    }
}

trait ToText {
    fn to_text(&self) -> String;
}

impl ToText for Value<'_> {
    fn to_text(&self) -> String {
        let mut out = Vec::new();
        self.write_text(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

struct CsvRow<'a, 's> {
    cfg: &'s CsvInput,
    rec: &'a [u8],
    fields: &'s [Field],
    slot_cols: &'s [Option<usize>],
    scanner: &'s CsvScanner,
}

impl<'a> Row<'a> for CsvRow<'a, '_> {
    fn slot(&self, i: usize) -> Value<'a> {
        match self
            .slot_cols
            .get(i)
            .copied()
            .flatten()
            .and_then(|c| self.fields.get(c))
        {
            Some(f) => field_value(self.cfg, self.rec, *f),
            None => Value::Missing,
        }
    }

    fn raw(&self, i: usize) -> Option<&'a [u8]> {
        let (s, e, quoted) = *self
            .slot_cols
            .get(i)
            .copied()
            .flatten()
            .and_then(|c| self.fields.get(c))?;
        if quoted {
            return None;
        }
        self.rec.get(s as usize..e as usize)
    }

    fn whole(&self) -> Value<'a> {
        let mut fields = Vec::new();
        // The whole record is rarely asked for; split it fully here.
        if self
            .scanner
            .split(self.rec, &mut fields, usize::MAX, false)
            .is_err()
        {
            return Value::Missing;
        }
        Value::Struct(
            fields
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    (
                        Cow::Owned(self.scanner.column_name(i).into_owned()),
                        field_value(self.cfg, self.rec, *f),
                    )
                })
                .collect(),
        )
    }
}
