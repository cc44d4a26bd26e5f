//! Parquet input through arrow's `parquet` crate: only the columns the query names are read
//! (projection pushdown), row groups whose statistics prove the WHERE clause false are skipped,
//! `COUNT(*)` alone is answered from the row-group metadata, row groups are decoded on several
//! threads at once (results kept in file order), and rows reach the evaluator as typed values
//! straight from the Arrow arrays (each column downcast once per batch, not once per cell).
//!
//! `ScanRange` follows S3's rule for Parquet: a row group is processed when its first byte (the
//! start of its first column chunk) lies in the range.
//!
//! Guarantees: a file that is not Parquet is `ParquetParsingError`; column types the dialect
//! has no value for are `UnsupportedParquetType`; memory is bounded by one row group per thread.

use std::borrow::Cow;
use std::collections::VecDeque;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    StringViewArray,
};
use arrow_schema::{DataType, TimeUnit};
use bytes::Bytes;
use chrono::{DateTime, FixedOffset};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::file::statistics::Statistics;

use super::ast::{BinOp, CastType};
use super::eval::{BExpr, Row, Slot};
use super::plan::{Plan, Sink, Writer};
use super::value::{Num, Timestamp, TsPrecision, Value};
use crate::error::{Error, Result};

fn parsing() -> Error {
    Error::select(
        "ParquetParsingError",
        "Error parsing the Parquet file. Please check the file and try again.",
    )
}

/// Rows per decoded batch.
const BATCH_ROWS: usize = 8192;

/// An open Parquet object being scanned.
pub struct ParquetSource {
    data: Bytes,
    meta: ArrowReaderMetadata,
    mask: ProjectionMask,
    /// Row groups still to read, in file order.
    groups: VecDeque<usize>,
    /// For each plan slot, the column index in the projected batches.
    slot_cols: Vec<Option<usize>>,
    /// The query is `COUNT(*)` alone: rows are counted from the metadata.
    count_only: bool,
    threads: usize,
    rows_total: u64,
    rows_read: u64,
    scanned_total: u64,
    processed_total: u64,
    /// Row groups skipped by statistics (for tests and stats).
    pub skipped_row_groups: usize,
}

impl ParquetSource {
    /// Opens `data` for `plan`. `range` is a resolved scan range (row groups starting in it are
    /// read); `count_only` says the plan is `COUNT(*)` with no filter; `threads` row groups are
    /// decoded at once.
    pub fn open(
        data: Bytes,
        plan: &Plan,
        range: Option<(u64, u64)>,
        count_only: bool,
        threads: usize,
    ) -> Result<ParquetSource> {
        let meta =
            ArrowReaderMetadata::load(&data, ArrowReaderOptions::new()).map_err(|_| parsing())?;
        let schema = meta.schema().clone();
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let find = |s: &Slot| -> Option<usize> {
            match s {
                Slot::Position(n) => (*n <= names.len()).then(|| n - 1),
                Slot::Name { name, exact } => names.iter().position(|c| {
                    if *exact {
                        c == name
                    } else {
                        c.eq_ignore_ascii_case(name)
                    }
                }),
            }
        };
        let file_cols: Vec<Option<usize>> = plan.slots.iter().map(find).collect();
        let mut wanted: Vec<usize> = if plan.items.is_none() {
            (0..names.len()).collect()
        } else {
            file_cols.iter().flatten().copied().collect()
        };
        wanted.sort_unstable();
        wanted.dedup();
        // Projected batches hold the wanted columns in file order.
        let slot_cols = file_cols
            .iter()
            .map(|c| c.and_then(|c| wanted.iter().position(|w| *w == c)))
            .collect();
        for &c in &wanted {
            check_type(schema.field(c).data_type())?;
        }
        let preds = predicates(plan.filter.as_ref(), &file_cols);
        let mut groups = VecDeque::new();
        let mut skipped = 0;
        let (mut scanned, mut processed, mut rows) = (0u64, 0u64, 0u64);
        for (i, rg) in meta.metadata().row_groups().iter().enumerate() {
            if let Some((start, stop)) = range {
                let first = rg
                    .columns()
                    .iter()
                    .map(|c| c.byte_range().0)
                    .min()
                    .unwrap_or(0);
                if first < start || first >= stop {
                    continue;
                }
            }
            let prunable = preds.iter().any(|(col, op, lit)| {
                rg.columns()
                    .get(*col)
                    .and_then(|c| c.statistics())
                    .is_some_and(|s| excluded(s, *op, *lit))
            });
            if prunable {
                skipped += 1;
                continue;
            }
            groups.push_back(i);
            rows += rg.num_rows().max(0) as u64;
            for &c in &wanted {
                if let Some(col) = rg.columns().get(c) {
                    scanned += col.compressed_size().max(0) as u64;
                    processed += col.uncompressed_size().max(0) as u64;
                }
            }
        }
        let mask = ProjectionMask::roots(meta.parquet_schema(), wanted.iter().copied());
        Ok(ParquetSource {
            data,
            meta,
            mask,
            groups,
            slot_cols,
            count_only,
            threads: threads.max(1),
            rows_total: rows,
            rows_read: 0,
            scanned_total: scanned,
            processed_total: processed,
            skipped_row_groups: skipped,
        })
    }

    fn share(&self, total: u64) -> u64 {
        if self.rows_total == 0 {
            total
        } else {
            (total as u128 * self.rows_read as u128 / self.rows_total as u128) as u64
        }
    }

    /// Bytes of column chunks read so far.
    pub fn bytes_scanned(&self) -> u64 {
        self.share(self.scanned_total)
    }

    /// Uncompressed bytes of column chunks processed so far.
    pub fn bytes_processed(&self) -> u64 {
        self.share(self.processed_total)
    }

    fn group_rows(&self, g: usize) -> u64 {
        self.meta
            .metadata()
            .row_groups()
            .get(g)
            .map_or(0, |rg| rg.num_rows().max(0) as u64)
    }

    /// Runs the next row groups (one per thread) through `sink`; `Ok(false)` at the end.
    /// Output stays in file order: a later group's records follow an earlier group's, and an
    /// error in one group stops the scan after the records of the groups before it.
    pub fn step(&mut self, sink: &mut Sink<'_>) -> Result<bool> {
        if sink.done || self.groups.is_empty() {
            return Ok(false);
        }
        if self.count_only {
            let rows: u64 = self.groups.iter().map(|&g| self.group_rows(g)).sum();
            self.groups.clear();
            self.rows_read += rows;
            for acc in &mut sink.accs {
                acc.count_rows(i64::try_from(rows).unwrap_or(i64::MAX));
            }
            return Ok(false);
        }
        let n = if sink.plan.limit.is_some() {
            1
        } else {
            self.threads.min(self.groups.len())
        };
        let batch: Vec<usize> = self.groups.drain(..n).collect();
        self.rows_read += batch.iter().map(|&g| self.group_rows(g)).sum::<u64>();
        if n == 1 {
            self.read_group(batch[0], sink)?;
            return Ok(!self.groups.is_empty());
        }
        let plan = sink.plan;
        let this = &*self;
        let parts: Vec<(Result<()>, Sink<'_>)> = std::thread::scope(|s| {
            let handles: Vec<_> = batch
                .iter()
                .map(|&g| {
                    s.spawn(move || {
                        let mut part = Sink::new(plan);
                        let r = this.read_group(g, &mut part);
                        (r, part)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| (Err(Error::Internal), Sink::new(plan)))
                })
                .collect()
        });
        for (r, part) in parts {
            sink.out.extend_from_slice(&part.out);
            sink.emitted += part.emitted;
            sink.merge_aggs(&part)?;
            r?;
        }
        Ok(!self.groups.is_empty())
    }

    /// Decodes row group `g` batch by batch into `sink`.
    fn read_group(&self, g: usize, sink: &mut Sink<'_>) -> Result<()> {
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(
            self.data.clone(),
            self.meta.clone(),
        )
        .with_projection(self.mask.clone())
        .with_row_groups(vec![g])
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|_| parsing())?;
        for batch in reader {
            if sink.done {
                break;
            }
            let batch = batch.map_err(|_| parsing())?;
            run_batch(&batch, &self.slot_cols, sink)?;
        }
        Ok(())
    }
}

fn run_batch(batch: &RecordBatch, slot_cols: &[Option<usize>], sink: &mut Sink<'_>) -> Result<()> {
    let schema = batch.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let cols: Vec<Col<'_>> = batch.columns().iter().map(Col::new).collect();
    if aggregate_columns(&cols, batch.num_rows(), slot_cols, sink)? {
        return Ok(());
    }
    for r in 0..batch.num_rows() {
        if sink.done {
            break;
        }
        let row = PqRow {
            cols: &cols,
            names: &names,
            slot_cols,
            r,
        };
        let star = |out: &mut Vec<u8>, w: &Writer| {
            let vals: Vec<Value<'_>> = cols.iter().map(|c| c.get(r)).collect();
            w.write(out, names.iter().copied().zip(vals.iter()));
        };
        sink.row(&row, &star)?;
    }
    Ok(())
}

/// Runs an aggregate-only query with no WHERE over whole columns, when every aggregate is
/// `COUNT(*)` or a compiled `SUM`/`AVG` argument over an integer or double column; `Ok(false)`
/// when the batch must go row by row. NULLs are skipped as the generic path skips them, and a
/// value the cast refuses fails with the generic cast's own error.
fn aggregate_columns(
    cols: &[Col<'_>],
    rows: usize,
    slot_cols: &[Option<usize>],
    sink: &mut Sink<'_>,
) -> Result<bool> {
    let plan = sink.plan;
    if plan.filter.is_some() || plan.aggs.is_empty() {
        return Ok(false);
    }
    let mut work = Vec::with_capacity(plan.aggs.len());
    for ((_, arg), fa) in plan.aggs.iter().zip(&plan.fast_args) {
        match (arg, fa) {
            (None, _) => work.push(None),
            (Some(_), Some(fa)) => {
                let col = slot_cols
                    .get(fa.slot)
                    .copied()
                    .flatten()
                    .and_then(|c| cols.get(c));
                match col {
                    Some(c @ (Col::I32(_) | Col::I64(_) | Col::F64(_))) => work.push(Some((c, fa))),
                    _ => return Ok(false),
                }
            }
            (Some(_), None) => return Ok(false),
        }
    }
    if sink.done {
        return Ok(true);
    }
    for (acc, w) in sink.accs.iter_mut().zip(work) {
        let Some((col, fa)) = w else {
            acc.count_rows(i64::try_from(rows).unwrap_or(i64::MAX));
            continue;
        };
        for r in 0..rows {
            let Some(n) = col.num(r) else { continue };
            match super::fast::cast_num(fa, n) {
                Some(x) => acc.add_num(x),
                None => {
                    let ty = fa.cast.unwrap_or(CastType::Decimal);
                    super::functions::cast(n.value(), ty)?;
                    return Err(Error::Internal);
                }
            }
        }
    }
    Ok(true)
}

fn check_type(t: &DataType) -> Result<()> {
    match t {
        DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float32
        | DataType::Float64
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Date32
        | DataType::Timestamp(_, _)
        | DataType::Decimal128(_, _) => Ok(()),
        _ => Err(Error::select(
            "UnsupportedParquetType",
            "The specified Parquet type is not supported.",
        )),
    }
}

/// A column of a batch, downcast once: the common types get a direct accessor, the rest go
/// through [`cell`].
enum Col<'a> {
    Bool(&'a BooleanArray),
    I32(&'a Int32Array),
    I64(&'a Int64Array),
    F64(&'a Float64Array),
    Str(&'a StringArray),
    View(&'a StringViewArray),
    Other(&'a ArrayRef),
}

impl<'a> Col<'a> {
    fn new(a: &'a ArrayRef) -> Col<'a> {
        match a.data_type() {
            DataType::Boolean => Col::Bool(a.as_boolean()),
            DataType::Int32 => Col::I32(a.as_primitive::<Int32Type>()),
            DataType::Int64 => Col::I64(a.as_primitive::<Int64Type>()),
            DataType::Float64 => Col::F64(a.as_primitive::<Float64Type>()),
            DataType::Utf8 => Col::Str(a.as_string::<i32>()),
            DataType::Utf8View => Col::View(a.as_string_view()),
            _ => Col::Other(a),
        }
    }

    /// Row `r` as a number, for integer and double columns (`None` for NULL and other types).
    #[inline]
    fn num(&self, r: usize) -> Option<Num> {
        match self {
            Col::I64(a) if !a.is_null(r) => Some(Num::Int(a.value(r))),
            Col::I32(a) if !a.is_null(r) => Some(Num::Int(i64::from(a.value(r)))),
            Col::F64(a) if !a.is_null(r) => Some(Num::Float(a.value(r))),
            _ => None,
        }
    }

    #[inline]
    fn get(&self, r: usize) -> Value<'a> {
        macro_rules! typed {
            ($a:expr, $v:expr) => {
                if $a.is_null(r) { Value::Null } else { $v }
            };
        }
        match self {
            Col::Bool(a) => typed!(a, Value::Bool(a.value(r))),
            Col::I32(a) => typed!(a, Value::Int(i64::from(a.value(r)))),
            Col::I64(a) => typed!(a, Value::Int(a.value(r))),
            Col::F64(a) => typed!(a, Value::Float(a.value(r))),
            Col::Str(a) => typed!(a, Value::Str(Cow::Borrowed(a.value(r)))),
            Col::View(a) => typed!(a, Value::Str(Cow::Borrowed(a.value(r)))),
            Col::Other(a) => cell(a, r),
        }
    }
}

fn ts(secs: i64, nanos: u32, precision: TsPrecision) -> Value<'static> {
    let utc = FixedOffset::east_opt(0);
    match (DateTime::from_timestamp(secs, nanos), utc) {
        (Some(dt), Some(o)) => Value::Ts(Timestamp {
            dt: dt.with_timezone(&o),
            precision,
        }),
        _ => Value::Null,
    }
}
/// The value of row `r` of `a`.
fn cell<'a>(a: &'a ArrayRef, r: usize) -> Value<'a> {
    if a.is_null(r) {
        return Value::Null;
    }
    match a.data_type() {
        DataType::Boolean => Value::Bool(a.as_boolean().value(r)),
        DataType::Int8 => Value::Int(i64::from(a.as_primitive::<Int8Type>().value(r))),
        DataType::Int16 => Value::Int(i64::from(a.as_primitive::<Int16Type>().value(r))),
        DataType::Int32 => Value::Int(i64::from(a.as_primitive::<Int32Type>().value(r))),
        DataType::Int64 => Value::Int(a.as_primitive::<Int64Type>().value(r)),
        DataType::UInt8 => Value::Int(i64::from(a.as_primitive::<UInt8Type>().value(r))),
        DataType::UInt16 => Value::Int(i64::from(a.as_primitive::<UInt16Type>().value(r))),
        DataType::UInt32 => Value::Int(i64::from(a.as_primitive::<UInt32Type>().value(r))),
        DataType::UInt64 => {
            let v = a.as_primitive::<UInt64Type>().value(r);
            i64::try_from(v)
                .map(Value::Int)
                .unwrap_or(Value::Float(v as f64))
        }
        DataType::Float32 => Value::Float(f64::from(a.as_primitive::<Float32Type>().value(r))),
        DataType::Float64 => Value::Float(a.as_primitive::<Float64Type>().value(r)),
        DataType::Utf8 => Value::Str(Cow::Borrowed(a.as_string::<i32>().value(r))),
        DataType::LargeUtf8 => Value::Str(Cow::Borrowed(a.as_string::<i64>().value(r))),
        DataType::Utf8View => Value::Str(Cow::Borrowed(a.as_string_view().value(r))),
        DataType::Date32 => ts(
            i64::from(a.as_primitive::<Date32Type>().value(r)) * 86_400,
            0,
            TsPrecision::Day,
        ),
        DataType::Timestamp(unit, _) => match unit {
            TimeUnit::Second => ts(
                a.as_primitive::<TimestampSecondType>().value(r),
                0,
                TsPrecision::Second,
            ),
            TimeUnit::Millisecond => {
                let v = a.as_primitive::<TimestampMillisecondType>().value(r);
                ts(
                    v.div_euclid(1000),
                    (v.rem_euclid(1000) * 1_000_000) as u32,
                    TsPrecision::Fraction(3),
                )
            }
            TimeUnit::Microsecond => {
                let v = a.as_primitive::<TimestampMicrosecondType>().value(r);
                ts(
                    v.div_euclid(1_000_000),
                    (v.rem_euclid(1_000_000) * 1000) as u32,
                    TsPrecision::Fraction(6),
                )
            }
            TimeUnit::Nanosecond => {
                let v = a.as_primitive::<TimestampNanosecondType>().value(r);
                ts(
                    v.div_euclid(1_000_000_000),
                    v.rem_euclid(1_000_000_000) as u32,
                    TsPrecision::Fraction(9),
                )
            }
        },
        DataType::Decimal128(_, scale) => {
            let v = a
                .as_primitive::<arrow_array::types::Decimal128Type>()
                .value(r);
            if *scale == 0 {
                i64::try_from(v)
                    .map(Value::Int)
                    .unwrap_or(Value::Float(v as f64))
            } else {
                Value::Float(v as f64 / 10f64.powi(i32::from(*scale)))
            }
        }
        _ => Value::Missing,
    }
}

struct PqRow<'c, 'a> {
    cols: &'c [Col<'a>],
    names: &'c [&'a str],
    slot_cols: &'c [Option<usize>],
    r: usize,
}

impl<'a> Row<'a> for PqRow<'_, 'a> {
    fn slot(&self, i: usize) -> Value<'a> {
        match self.slot_cols.get(i).copied().flatten() {
            Some(c) => self.cols.get(c).map_or(Value::Missing, |c| c.get(self.r)),
            None => Value::Missing,
        }
    }

    fn raw(&self, i: usize) -> Option<&'a [u8]> {
        let r = self.r;
        match self.cols.get(self.slot_cols.get(i).copied().flatten()?)? {
            Col::Str(a) if !a.is_null(r) => Some(a.value(r).as_bytes()),
            Col::View(a) if !a.is_null(r) => Some(a.value(r).as_bytes()),
            _ => None,
        }
    }

    fn num(&self, i: usize) -> Option<Num> {
        self.cols
            .get(self.slot_cols.get(i).copied().flatten()?)?
            .num(self.r)
    }

    fn whole(&self) -> Value<'a> {
        Value::Struct(
            self.names
                .iter()
                .zip(self.cols)
                .map(|(n, c)| (Cow::Borrowed(*n), c.get(self.r)))
                .collect(),
        )
    }
}
/// `column op literal` conjuncts of the filter, with the column as a file column index.
fn predicates(filter: Option<&BExpr>, file_cols: &[Option<usize>]) -> Vec<(usize, BinOp, f64)> {
    let mut out = Vec::new();
    fn col(e: &BExpr, file_cols: &[Option<usize>]) -> Option<usize> {
        match e {
            BExpr::Slot(i, steps) if steps.is_empty() => file_cols.get(*i).copied().flatten(),
            BExpr::Cast(x, CastType::Int | CastType::Float | CastType::Decimal) => {
                col(x, file_cols)
            }
            _ => None,
        }
    }
    fn num(e: &BExpr) -> Option<f64> {
        match e {
            BExpr::Lit(Value::Int(i)) => Some(*i as f64),
            BExpr::Lit(Value::Float(f)) => Some(*f),
            _ => None,
        }
    }
    fn flip(op: BinOp) -> BinOp {
        match op {
            BinOp::Lt => BinOp::Gt,
            BinOp::Le => BinOp::Ge,
            BinOp::Gt => BinOp::Lt,
            BinOp::Ge => BinOp::Le,
            o => o,
        }
    }
    fn walk(e: &BExpr, file_cols: &[Option<usize>], out: &mut Vec<(usize, BinOp, f64)>) {
        match e {
            BExpr::Binary(BinOp::And, a, b) => {
                walk(a, file_cols, out);
                walk(b, file_cols, out);
            }
            BExpr::Binary(
                op @ (BinOp::Eq | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge),
                a,
                b,
            ) => {
                if let (Some(c), Some(v)) = (col(a, file_cols), num(b)) {
                    out.push((c, *op, v));
                } else if let (Some(v), Some(c)) = (num(a), col(b, file_cols)) {
                    out.push((c, flip(*op), v));
                }
            }
            _ => {}
        }
    }
    if let Some(f) = filter {
        walk(f, file_cols, &mut out);
    }
    out
}

/// Whether the statistics prove `column op lit` false for every row of the group.
fn excluded(s: &Statistics, op: BinOp, lit: f64) -> bool {
    let (min, max) = match s {
        Statistics::Int32(v) => (
            v.min_opt().map(|x| f64::from(*x)),
            v.max_opt().map(|x| f64::from(*x)),
        ),
        Statistics::Int64(v) => (
            v.min_opt().map(|x| *x as f64),
            v.max_opt().map(|x| *x as f64),
        ),
        Statistics::Float(v) => (
            v.min_opt().map(|x| f64::from(*x)),
            v.max_opt().map(|x| f64::from(*x)),
        ),
        Statistics::Double(v) => (v.min_opt().copied(), v.max_opt().copied()),
        _ => (None, None),
    };
    let (Some(min), Some(max)) = (min, max) else {
        return false;
    };
    match op {
        BinOp::Eq => lit < min || lit > max,
        BinOp::Lt => min >= lit,
        BinOp::Le => min > lit,
        BinOp::Gt => max <= lit,
        BinOp::Ge => max < lit,
        _ => false,
    }
}
