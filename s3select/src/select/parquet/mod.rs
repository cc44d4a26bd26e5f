//! Parquet input through arrow's `parquet` crate: only the columns the query names are read
//! (projection pushdown), row groups whose statistics prove the WHERE clause false are skipped
//! ([`prune`]), `COUNT(*)` alone is answered from the row-group metadata, row groups are decoded
//! on several threads at once (results kept in file order), and rows reach the evaluator as
//! typed values straight from the Arrow arrays ([`column`]).
//!
//! With a WHERE clause a row group is read in two phases (late materialisation): first only
//! the columns WHERE reads, with dictionary-encoded text kept as dictionaries so that a
//! predicate is evaluated once per distinct value ([`filter`]); then the other columns the
//! query needs, decoded only for the rows that passed. When WHERE reads every needed column
//! the first phase's batches are used directly.
//!
//! `ScanRange` follows S3's rule for Parquet: a row group is processed when its first byte (the
//! start of its first column chunk) lies in the range.
//!
//! Guarantees: a file that is not Parquet is `ParquetParsingError`; column types the dialect
//! has no value for are `UnsupportedParquetType`; memory is bounded by one row group per thread;
//! records and errors come out exactly as a row-by-row scan would produce them.

mod column;
mod filter;
mod prune;

use std::collections::VecDeque;
use std::sync::Arc;

use arrow_array::{Array, BooleanArray, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use bytes::Bytes;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder, RowSelection,
};

use super::ast::{AggFunc, CastType};
use super::eval::Slot;
use super::plan::{Plan, Sink, Writer};
use super::value::Value;
use crate::error::{Error, Result};
use column::{Col, PqRow};
use filter::BatchFilter;

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
    /// The columns the query needs.
    mask: ProjectionMask,
    /// For each plan slot, the column index in batches of `mask`.
    slot_cols: Vec<Option<usize>>,
    /// The columns WHERE reads and its slots' indexes in batches of them, when a row group is
    /// read in two phases (WHERE reads fewer columns than the query needs).
    filter_read: Option<(ProjectionMask, Vec<Option<usize>>)>,
    /// Row groups still to read, in file order.
    groups: VecDeque<usize>,
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

/// The positions of `cols` (sorted file column indexes) for each slot's file column.
fn positions(file_cols: &[Option<usize>], cols: &[usize]) -> Vec<Option<usize>> {
    file_cols
        .iter()
        .map(|c| c.and_then(|c| cols.iter().position(|w| *w == c)))
        .collect()
}

/// The reader metadata with every text column whose chunks all start with a dictionary page
/// read as `Dictionary(Int32, Utf8)`, so predicates can run per distinct value; the plain
/// metadata when there is none (or the reader refuses the schema).
fn with_dictionaries(meta: ArrowReaderMetadata) -> ArrowReaderMetadata {
    let md = meta.metadata();
    let schema = meta.schema();
    let mut changed = false;
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let dict = *f.data_type() == DataType::Utf8
                && md.row_groups().iter().all(|rg| {
                    rg.columns()
                        .get(i)
                        .is_some_and(|c| c.dictionary_page_offset().is_some())
                });
            if dict {
                changed = true;
                f.as_ref().clone().with_data_type(DataType::Dictionary(
                    Box::new(DataType::Int32),
                    Box::new(DataType::Utf8),
                ))
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    // Only flat schemas map Arrow fields one to one onto Parquet columns.
    if !changed || md.file_metadata().schema_descr().num_columns() != fields.len() {
        return meta;
    }
    let schema = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    ArrowReaderMetadata::try_new(
        Arc::clone(md),
        ArrowReaderOptions::new().with_schema(schema),
    )
    .unwrap_or(meta)
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
        // The parquet crate asserts (panics) on a negative page offset or compressed size when it
        // computes a column chunk's byte range; refuse such a footer here, as S3 does, instead.
        let negative = meta.metadata().row_groups().iter().any(|rg| {
            rg.columns().iter().any(|c| {
                c.dictionary_page_offset().is_some_and(|o| o < 0)
                    || c.data_page_offset() < 0
                    || c.compressed_size() < 0
            })
        });
        if negative {
            return Err(parsing());
        }
        let schema = meta.schema().clone();
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let types: Vec<DataType> = schema
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
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
        let slot_cols = positions(&file_cols, &wanted);
        for &c in &wanted {
            check_type(schema.field(c).data_type())?;
        }
        let preds = prune::predicates(plan.filter.as_ref(), &file_cols, &types);
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
            let prunable = preds.iter().any(|p| {
                rg.columns()
                    .get(p.col)
                    .and_then(|c| c.statistics())
                    .is_some_and(|s| prune::excluded(s, p))
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
        // The columns WHERE reads, when they are fewer than the query needs.
        let mut filter_slots = Vec::new();
        let filter_read = match &plan.filter {
            Some(f) if filter::slot_refs(f, &mut filter_slots) => {
                let mut cols: Vec<usize> = filter_slots
                    .iter()
                    .filter_map(|&s| file_cols.get(s).copied().flatten())
                    .collect();
                cols.sort_unstable();
                cols.dedup();
                (cols.len() < wanted.len()).then(|| {
                    let fmask = ProjectionMask::roots(meta.parquet_schema(), cols.iter().copied());
                    (fmask, positions(&file_cols, &cols))
                })
            }
            _ => None,
        };
        let meta = with_dictionaries(meta);
        let mask = ProjectionMask::roots(meta.parquet_schema(), wanted.iter().copied());
        Ok(ParquetSource {
            data,
            meta,
            mask,
            slot_cols,
            filter_read,
            groups,
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

    fn reader(
        &self,
        g: usize,
        mask: &ProjectionMask,
        selection: Option<RowSelection>,
    ) -> Result<ParquetRecordBatchReader> {
        let mut b = ParquetRecordBatchReaderBuilder::new_with_metadata(
            self.data.clone(),
            self.meta.clone(),
        )
        .with_projection(mask.clone())
        .with_row_groups(vec![g])
        .with_batch_size(BATCH_ROWS);
        if let Some(s) = selection {
            b = b.with_row_selection(s);
        }
        b.build().map_err(|_| parsing())
    }

    /// Decodes row group `g` batch by batch into `sink`.
    /// Reads row group `g` into `sink`. The parquet crate asserts on some corrupt pages instead
    /// of returning an error; such a panic is contained here and answered as S3 does, with
    /// `ParquetParsingError`, so damaged input never takes the scan (or its thread) down.
    fn read_group(&self, g: usize, sink: &mut Sink<'_>) -> Result<()> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.decode_group(g, sink)))
            .unwrap_or_else(|_| Err(parsing()))
    }

    fn decode_group(&self, g: usize, sink: &mut Sink<'_>) -> Result<()> {
        let Some(mut filter) = BatchFilter::new(sink) else {
            for batch in self.reader(g, &self.mask, None)? {
                if sink.done {
                    break;
                }
                let batch = batch.map_err(|_| parsing())?;
                run_batch(&batch, &self.slot_cols, None, sink)?;
            }
            return Ok(());
        };
        let Some((fmask, fslots)) = &self.filter_read else {
            // WHERE reads every column the query needs: one pass.
            for batch in self.reader(g, &self.mask, None)? {
                if sink.done {
                    break;
                }
                let batch = batch.map_err(|_| parsing())?;
                run_batch(&batch, &self.slot_cols, Some(&mut filter), sink)?;
            }
            return Ok(());
        };
        // Phase 1: WHERE over its own columns, for the whole row group.
        let mut keep: Vec<bool> = Vec::new();
        let mut failed = None;
        for batch in self.reader(g, fmask, None)? {
            let batch = batch.map_err(|_| parsing())?;
            let schema = batch.schema();
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            let cols = columns(&batch)?;
            let (k, err) = filter.select(&cols, &names, fslots, batch.num_rows(), sink);
            keep.extend(k);
            if err.is_some() {
                failed = err;
                break;
            }
        }
        let kept = keep.iter().filter(|k| **k).count();
        if kept > 0 && !sink.done {
            if count_star_only(sink.plan) {
                for acc in &mut sink.accs {
                    acc.count_rows(i64::try_from(kept).unwrap_or(i64::MAX));
                }
            } else {
                // Phase 2: the needed columns, decoded for the kept rows only.
                keep.resize(self.group_rows(g) as usize, false);
                let selection = RowSelection::from_filters(&[BooleanArray::from(keep)]);
                for batch in self.reader(g, &self.mask, Some(selection))? {
                    if sink.done {
                        break;
                    }
                    let batch = batch.map_err(|_| parsing())?;
                    run_batch(&batch, &self.slot_cols, None, sink)?;
                }
            }
        }
        // The failing row comes after every kept row: it is reached unless LIMIT came first.
        match failed {
            Some(e) if !sink.done => Err(e),
            _ => Ok(()),
        }
    }
}

/// Whether every aggregate is `COUNT(*)` (so a filtered row group needs no column but WHERE's).
fn count_star_only(plan: &Plan) -> bool {
    !plan.aggs.is_empty()
        && plan
            .aggs
            .iter()
            .all(|(f, a)| *f == AggFunc::Count && a.is_none())
}

/// The batch's columns, each downcast once (a dictionary key outside its dictionary is a
/// corrupt file).
fn columns(batch: &RecordBatch) -> Result<Vec<Col<'_>>> {
    let cols: Vec<Col<'_>> = batch.columns().iter().map(Col::new).collect();
    if cols.iter().all(Col::check) {
        Ok(cols)
    } else {
        Err(parsing())
    }
}

/// Runs a batch through `sink`: through `filter` when given (otherwise the rows have passed
/// WHERE already, or there is none).
fn run_batch(
    batch: &RecordBatch,
    slot_cols: &[Option<usize>],
    filter: Option<&mut BatchFilter>,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let schema = batch.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let cols = columns(batch)?;
    let rows = batch.num_rows();
    let (keep, failed) = match filter {
        Some(f) => {
            let (k, e) = f.select(&cols, &names, slot_cols, rows, sink);
            (Some(k), e)
        }
        None => {
            if aggregate_columns(&cols, rows, slot_cols, sink)? {
                return Ok(());
            }
            (None, None)
        }
    };
    if let Some(k) = &keep
        && count_star_only(sink.plan)
    {
        let kept = k.iter().filter(|x| **x).count();
        for acc in &mut sink.accs {
            acc.count_rows(i64::try_from(kept).unwrap_or(i64::MAX));
        }
    } else {
        for r in 0..rows {
            if sink.done {
                break;
            }
            if keep.as_ref().is_some_and(|k| !k[r]) {
                continue;
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
            sink.emit(&row, &star)?;
        }
    }
    match failed {
        Some(e) if !sink.done => Err(e),
        _ => Ok(()),
    }
}

/// Runs an aggregate-only query over whole columns of rows that have passed WHERE (or with no
/// WHERE), when every aggregate is `COUNT(*)` or a compiled `SUM`/`AVG` argument over an
/// integer or double column; `Ok(false)` when the batch must go row by row. NULLs are skipped
/// as the generic path skips them, sums run in row order (so floating-point results are the
/// row-by-row ones, bit for bit), and a value the cast refuses fails with the generic cast's
/// own error.
fn aggregate_columns(
    cols: &[Col<'_>],
    rows: usize,
    slot_cols: &[Option<usize>],
    sink: &mut Sink<'_>,
) -> Result<bool> {
    let plan = sink.plan;
    if plan.aggs.is_empty() {
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
                    Some(c @ (Col::I32(_) | Col::I64(_) | Col::F64(_) | Col::Dec(..))) => {
                        work.push(Some((c, fa)))
                    }
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
        match col {
            Col::I64(a) if a.null_count() == 0 && matches!(fa.cast, None | Some(CastType::Int)) => {
                let sum: i128 = a.values().iter().map(|&v| i128::from(v)).sum();
                acc.add_int_sum(sum, i64::try_from(rows).unwrap_or(i64::MAX));
                continue;
            }
            Col::F64(a)
                if a.null_count() == 0 && matches!(fa.cast, None | Some(CastType::Float)) =>
            {
                for &v in a.values().iter() {
                    acc.add_num(super::value::Num::Float(v))?;
                }
                continue;
            }
            // A DECIMAL column without NULLs summed whole (exactly, like row by row).
            Col::Dec(a, scale)
                if a.null_count() == 0 && matches!(fa.cast, None | Some(CastType::Decimal)) =>
            {
                acc.add_dec_column(a.values(), *scale)?;
                continue;
            }
            _ => {}
        }
        for r in 0..rows {
            let Some(n) = col.num(r) else { continue };
            match super::fast::cast_num(fa, n) {
                Some(x) => acc.add_num(x)?,
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
        | DataType::Decimal32(_, _)
        | DataType::Decimal64(_, _)
        | DataType::Decimal128(_, _)
        | DataType::Decimal256(_, _) => Ok(()),
        _ => Err(Error::select(
            "UnsupportedParquetType",
            "The specified Parquet type is not supported.",
        )),
    }
}
