//! Parquet input through arrow's `parquet` crate: only the columns the query names are read
//! (projection pushdown), row groups whose statistics prove the WHERE clause false are skipped,
//! and rows reach the evaluator as typed values straight from the Arrow arrays.
//!
//! Guarantees: a file that is not Parquet is `ParquetParsingError`; column types the dialect
//! has no value for are `UnsupportedParquetType`; memory is bounded by one record batch.

use std::borrow::Cow;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use bytes::Bytes;
use chrono::{DateTime, FixedOffset};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::file::statistics::Statistics;

use super::ast::{BinOp, CastType};
use super::eval::{BExpr, Row, Slot};
use super::plan::{Plan, Sink, Writer};
use super::value::{Timestamp, TsPrecision, Value};
use crate::error::{Error, Result};

fn parsing() -> Error {
    Error::select(
        "ParquetParsingError",
        "Error parsing the Parquet file. Please check the file and try again.",
    )
}

/// An open Parquet object being scanned.
pub struct ParquetSource {
    reader: ParquetRecordBatchReader,
    /// For each plan slot, the column index in the projected batches.
    slot_cols: Vec<Option<usize>>,
    rows_total: u64,
    rows_read: u64,
    scanned_total: u64,
    processed_total: u64,
    /// Row groups skipped by statistics (for tests and stats).
    pub skipped_row_groups: usize,
}

impl ParquetSource {
    /// Opens `data` for `plan`.
    pub fn open(data: Bytes, plan: &Plan) -> Result<ParquetSource> {
        let builder = ParquetRecordBatchReaderBuilder::try_new(data).map_err(|_| parsing())?;
        let meta = builder.metadata().clone();
        let schema = builder.schema().clone();
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
        let mut groups = Vec::new();
        let mut skipped = 0;
        let (mut scanned, mut processed, mut rows) = (0u64, 0u64, 0u64);
        for (i, rg) in meta.row_groups().iter().enumerate() {
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
            groups.push(i);
            rows += rg.num_rows().max(0) as u64;
            for &c in &wanted {
                if let Some(col) = rg.columns().get(c) {
                    scanned += col.compressed_size().max(0) as u64;
                    processed += col.uncompressed_size().max(0) as u64;
                }
            }
        }
        let mask = ProjectionMask::roots(builder.parquet_schema(), wanted.iter().copied());
        let reader = builder
            .with_projection(mask)
            .with_row_groups(groups)
            .with_batch_size(8192)
            .build()
            .map_err(|_| parsing())?;
        Ok(ParquetSource {
            reader,
            slot_cols,
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

    /// Runs the next record batch through `sink`; `Ok(false)` at the end.
    pub fn step(&mut self, sink: &mut Sink<'_>) -> Result<bool> {
        if sink.done {
            return Ok(false);
        }
        let Some(batch) = self.reader.next() else {
            return Ok(false);
        };
        let batch = batch.map_err(|_| parsing())?;
        self.rows_read += batch.num_rows() as u64;
        let names: Vec<String> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let cols: Vec<ArrayRef> = batch.columns().to_vec();
        run_batch(&batch, &cols, &names, &self.slot_cols, sink)?;
        Ok(true)
    }
}

fn run_batch(
    batch: &RecordBatch,
    cols: &[ArrayRef],
    names: &[String],
    slot_cols: &[Option<usize>],
    sink: &mut Sink<'_>,
) -> Result<()> {
    for r in 0..batch.num_rows() {
        if sink.done {
            break;
        }
        let row = PqRow {
            cols,
            names,
            slot_cols,
            r,
        };
        let star = |out: &mut Vec<u8>, w: &Writer| {
            let vals: Vec<Value<'_>> = (0..cols.len()).map(|c| cell(&cols[c], r)).collect();
            w.write(out, names.iter().map(String::as_str).zip(vals.iter()));
        };
        sink.row(&row, &star)?;
    }
    Ok(())
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

struct PqRow<'a> {
    cols: &'a [ArrayRef],
    names: &'a [String],
    slot_cols: &'a [Option<usize>],
    r: usize,
}

impl<'a> Row<'a> for PqRow<'a> {
    fn slot(&self, i: usize) -> Value<'a> {
        match self.slot_cols.get(i).copied().flatten() {
            Some(c) => cell(&self.cols[c], self.r),
            None => Value::Missing,
        }
    }

    fn whole(&self) -> Value<'a> {
        Value::Struct(
            self.names
                .iter()
                .zip(self.cols)
                .map(|(n, c)| (Cow::Borrowed(n.as_str()), cell(c, self.r)))
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
