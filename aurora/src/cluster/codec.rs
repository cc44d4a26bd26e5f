//! The byte encoding of page records: what an instance ships to storage as a redo payload.
//!
//! Guarantees: `encode(decode(encode(r))) == encode(r)` for every record (a property test checks it), and
//! `decode` of any byte string returns a record or a [`DecodeError`], never panics and never
//! allocates more than the input can describe (lengths are checked against the bytes left).
//! The format is little-endian, length-prefixed, with one tag byte per record and per value; it
//! is stable within a volume's life (six copies, readers and secondary regions decode it).

use std::sync::Arc;

use bigdecimal::BigDecimal;

use crate::storage::{IndexId, RowId, TableId, Version};
use crate::value::{Interval, Value};

/// A transaction id in the volume's global space (`origin << 40 | local`).
pub type GlobalXid = u64;

/// One redo record, addressed to one page.
#[derive(Debug, Clone)]
pub enum PageRecord {
    /// A DDL statement, appended to the catalog page.
    Ddl {
        /// The statement text.
        text: String,
    },
    /// A writer incarnation registers its transaction-id origin (catalog page).
    Origin {
        /// The origin.
        origin: u32,
    },
    /// A sequence's logged state (sequences page).
    Sequence {
        /// The sequence id.
        id: u32,
        /// The value logged ahead.
        last: i64,
        /// Whether `last` was handed out.
        called: bool,
    },
    /// A transaction id starts (clog page).
    Begin {
        /// The id.
        xid: GlobalXid,
        /// Its top-level transaction.
        top: GlobalXid,
    },
    /// Transaction ids commit (clog page).
    Commit {
        /// The ids on this page.
        xids: Vec<GlobalXid>,
    },
    /// Transaction ids roll back (clog page).
    Abort {
        /// The ids on this page.
        xids: Vec<GlobalXid>,
    },
    /// A new row version (heap page).
    InsertVersion {
        /// The table.
        table: TableId,
        /// The row.
        row: RowId,
        /// The version, with global xids.
        version: Version,
    },
    /// Marks a row's newest version deleted (heap page).
    SetXmax {
        /// The table.
        table: TableId,
        /// The row.
        row: RowId,
        /// The deleter (global).
        xid: GlobalXid,
        /// Its command id.
        cid: u32,
    },
    /// A row's whole version chain after pruning (heap page): a physical image, so applying it
    /// needs no commit log.
    ReplaceChain {
        /// The table.
        table: TableId,
        /// The row.
        row: RowId,
        /// The versions, oldest first, with global xids.
        chain: Vec<Version>,
    },
    /// Every row on the page gains a trailing column.
    AddColumn {
        /// The table.
        table: TableId,
        /// The value.
        value: Value,
    },
    /// Every row on the page loses a column.
    DropColumn {
        /// The table.
        table: TableId,
        /// The position.
        index: u32,
    },
    /// An index entry (index page).
    IndexInsert {
        /// The index.
        index: IndexId,
        /// The key.
        key: Vec<Value>,
        /// The row.
        row: RowId,
    },
}

/// A payload that is not a page record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed redo payload: {reason}")]
pub struct DecodeError {
    /// What was wrong.
    pub reason: String,
}

fn bad(reason: impl Into<String>) -> DecodeError {
    DecodeError {
        reason: reason.into(),
    }
}

/// Encodes a record.
pub fn encode(record: &PageRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    match record {
        PageRecord::Ddl { text } => {
            out.push(1);
            put_str(&mut out, text);
        }
        PageRecord::Origin { origin } => {
            out.push(2);
            out.extend_from_slice(&origin.to_le_bytes());
        }
        PageRecord::Sequence { id, last, called } => {
            out.push(3);
            out.extend_from_slice(&id.to_le_bytes());
            out.extend_from_slice(&last.to_le_bytes());
            out.push(u8::from(*called));
        }
        PageRecord::Begin { xid, top } => {
            out.push(4);
            out.extend_from_slice(&xid.to_le_bytes());
            out.extend_from_slice(&top.to_le_bytes());
        }
        PageRecord::Commit { xids } | PageRecord::Abort { xids } => {
            out.push(if matches!(record, PageRecord::Commit { .. }) {
                5
            } else {
                6
            });
            put_len(&mut out, xids.len());
            for x in xids {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        PageRecord::InsertVersion {
            table,
            row,
            version,
        } => {
            out.push(7);
            out.extend_from_slice(&table.to_le_bytes());
            out.extend_from_slice(&row.to_le_bytes());
            put_version(&mut out, version);
        }
        PageRecord::SetXmax {
            table,
            row,
            xid,
            cid,
        } => {
            out.push(8);
            out.extend_from_slice(&table.to_le_bytes());
            out.extend_from_slice(&row.to_le_bytes());
            out.extend_from_slice(&xid.to_le_bytes());
            out.extend_from_slice(&cid.to_le_bytes());
        }
        PageRecord::ReplaceChain { table, row, chain } => {
            out.push(9);
            out.extend_from_slice(&table.to_le_bytes());
            out.extend_from_slice(&row.to_le_bytes());
            put_len(&mut out, chain.len());
            for v in chain {
                put_version(&mut out, v);
            }
        }
        PageRecord::AddColumn { table, value } => {
            out.push(10);
            out.extend_from_slice(&table.to_le_bytes());
            put_value(&mut out, value);
        }
        PageRecord::DropColumn { table, index } => {
            out.push(11);
            out.extend_from_slice(&table.to_le_bytes());
            out.extend_from_slice(&index.to_le_bytes());
        }
        PageRecord::IndexInsert { index, key, row } => {
            out.push(12);
            out.extend_from_slice(&index.to_le_bytes());
            out.extend_from_slice(&row.to_le_bytes());
            put_values(&mut out, key);
        }
    }
    out
}

/// Decodes a record; the whole input must be consumed.
pub fn decode(bytes: &[u8]) -> Result<PageRecord, DecodeError> {
    let mut r = Reader { buf: bytes };
    let rec = match r.u8()? {
        1 => PageRecord::Ddl { text: r.string()? },
        2 => PageRecord::Origin { origin: r.u32()? },
        3 => PageRecord::Sequence {
            id: r.u32()?,
            last: r.i64()?,
            called: r.bool()?,
        },
        4 => PageRecord::Begin {
            xid: r.u64()?,
            top: r.u64()?,
        },
        tag @ (5 | 6) => {
            let n = r.len(8)?;
            let xids = (0..n).map(|_| r.u64()).collect::<Result<Vec<_>, _>>()?;
            if tag == 5 {
                PageRecord::Commit { xids }
            } else {
                PageRecord::Abort { xids }
            }
        }
        7 => PageRecord::InsertVersion {
            table: r.u32()?,
            row: r.u64()?,
            version: r.version()?,
        },
        8 => PageRecord::SetXmax {
            table: r.u32()?,
            row: r.u64()?,
            xid: r.u64()?,
            cid: r.u32()?,
        },
        9 => {
            let (table, row) = (r.u32()?, r.u64()?);
            let n = r.len(25)?;
            let chain = (0..n).map(|_| r.version()).collect::<Result<Vec<_>, _>>()?;
            PageRecord::ReplaceChain { table, row, chain }
        }
        10 => PageRecord::AddColumn {
            table: r.u32()?,
            value: r.value(0)?,
        },
        11 => PageRecord::DropColumn {
            table: r.u32()?,
            index: r.u32()?,
        },
        12 => {
            let (index, row) = (r.u32()?, r.u64()?);
            PageRecord::IndexInsert {
                index,
                row,
                key: r.values(0)?,
            }
        }
        t => return Err(bad(format!("unknown record tag {t}"))),
    };
    if !r.buf.is_empty() {
        return Err(bad(format!("{} trailing bytes", r.buf.len())));
    }
    Ok(rec)
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u32).to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn put_version(out: &mut Vec<u8>, v: &Version) {
    out.extend_from_slice(&v.xmin.to_le_bytes());
    out.extend_from_slice(&v.cmin.to_le_bytes());
    out.extend_from_slice(&v.xmax.to_le_bytes());
    out.extend_from_slice(&v.cmax.to_le_bytes());
    put_values(out, &v.values);
}

fn put_values(out: &mut Vec<u8>, values: &[Value]) {
    put_len(out, values.len());
    for v in values {
        put_value(out, v);
    }
}

/// Encodes one value: a tag byte, then its data.
pub fn put_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.push(0),
        Value::Bool(b) => {
            out.push(1);
            out.push(u8::from(*b));
        }
        Value::Int2(i) => {
            out.push(2);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Value::Int4(i) => {
            out.push(3);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Value::Int8(i) => {
            out.push(4);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Value::Numeric(d) => {
            out.push(5);
            put_str(out, &d.to_string());
        }
        Value::Float4(f) => {
            out.push(6);
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        Value::Float8(f) => {
            out.push(7);
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        Value::Text(s) => {
            out.push(8);
            put_str(out, s);
        }
        Value::Bytea(b) => {
            out.push(9);
            put_len(out, b.len());
            out.extend_from_slice(b);
        }
        Value::Date(d) => {
            out.push(10);
            out.extend_from_slice(&d.to_le_bytes());
        }
        Value::Time(t) => {
            out.push(11);
            out.extend_from_slice(&t.to_le_bytes());
        }
        Value::Timestamp(t) => {
            out.push(12);
            out.extend_from_slice(&t.to_le_bytes());
        }
        Value::TimestampTz(t) => {
            out.push(13);
            out.extend_from_slice(&t.to_le_bytes());
        }
        Value::Interval(i) => {
            out.push(14);
            out.extend_from_slice(&i.months.to_le_bytes());
            out.extend_from_slice(&i.days.to_le_bytes());
            out.extend_from_slice(&i.micros.to_le_bytes());
        }
        Value::Uuid(u) => {
            out.push(15);
            out.extend_from_slice(&u.to_le_bytes());
        }
        Value::Json(j) => {
            out.push(16);
            put_str(out, &j.to_string());
        }
        Value::Array(a) => {
            out.push(17);
            put_values(out, a);
        }
        // `Value` is non-exhaustive; a variant added later is shipped as its text form.
        #[allow(unreachable_patterns)]
        other => {
            out.push(8);
            put_str(out, &other.to_string());
        }
    }
}

/// Nesting limit for arrays, so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 32;

struct Reader<'a> {
    buf: &'a [u8],
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        if self.buf.len() < n {
            return Err(bad("unexpected end of payload"));
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(bad(format!("invalid boolean byte {b}"))),
        }
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// A count of items that each take at least `min_size` bytes: refused if the input is too
    /// short to hold them, so a forged count cannot make us allocate.
    fn len(&mut self, min_size: usize) -> Result<usize, DecodeError> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_size.max(1)) > self.buf.len() {
            return Err(bad(format!("length {n} exceeds the payload")));
        }
        Ok(n)
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let n = self.len(1)?;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| bad("invalid UTF-8 in string"))
    }

    fn version(&mut self) -> Result<Version, DecodeError> {
        let xmin = self.u64()?;
        let cmin = self.u32()?;
        let xmax = self.u64()?;
        let cmax = self.u32()?;
        let values: Arc<[Value]> = self.values(0)?.into();
        Ok(Version {
            xmin,
            cmin,
            xmax,
            cmax,
            values,
        })
    }

    fn values(&mut self, depth: usize) -> Result<Vec<Value>, DecodeError> {
        let n = self.len(1)?;
        (0..n).map(|_| self.value(depth)).collect()
    }

    fn value(&mut self, depth: usize) -> Result<Value, DecodeError> {
        Ok(match self.u8()? {
            0 => Value::Null,
            1 => Value::Bool(self.bool()?),
            2 => Value::Int2(i16::from_le_bytes(self.array()?)),
            3 => Value::Int4(i32::from_le_bytes(self.array()?)),
            4 => Value::Int8(self.i64()?),
            5 => {
                let s = self.string()?;
                Value::Numeric(
                    s.parse::<BigDecimal>()
                        .map_err(|_| bad(format!("invalid numeric {s:?}")))?,
                )
            }
            6 => Value::Float4(f32::from_bits(self.u32()?)),
            7 => Value::Float8(f64::from_bits(self.u64()?)),
            8 => Value::Text(self.string()?.into()),
            9 => {
                let n = self.len(1)?;
                Value::Bytea(self.take(n)?.into())
            }
            10 => Value::Date(i32::from_le_bytes(self.array()?)),
            11 => Value::Time(self.i64()?),
            12 => Value::Timestamp(self.i64()?),
            13 => Value::TimestampTz(self.i64()?),
            14 => Value::Interval(Interval {
                months: i32::from_le_bytes(self.array()?),
                days: i32::from_le_bytes(self.array()?),
                micros: self.i64()?,
            }),
            15 => Value::Uuid(u128::from_le_bytes(self.array()?)),
            16 => {
                let s = self.string()?;
                Value::Json(Arc::new(
                    serde_json::from_str(&s).map_err(|_| bad("invalid JSON value"))?,
                ))
            }
            17 => {
                if depth >= MAX_DEPTH {
                    return Err(bad("arrays nested too deeply"));
                }
                Value::Array(Arc::new(self.values(depth + 1)?))
            }
            t => return Err(bad(format!("unknown value tag {t}"))),
        })
    }
}
