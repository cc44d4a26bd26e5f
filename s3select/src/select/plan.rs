//! A query bound for execution: slots, filter, projection, aggregates, limit, and the output
//! writer that serialises result records.

use super::ast::{AggFunc, CastType, Expr, PathStep, Projection, Query};
use super::eval::{
    Acc, BExpr, Binder, Dialect, Row, S3SelectDialect, Slot, bind_expr, eval, keeps,
};
use super::parser::parse_query;
use super::request::{CsvOutput, OutputFormat, QuoteFields};
use super::value::Value;
use crate::error::{Error, Result};

/// The longest record S3 Select reads or writes (1 MB).
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// A bound query.
#[derive(Debug)]
pub struct Plan {
    /// The slots the scanners must fill.
    pub slots: Vec<Slot>,
    /// WHERE.
    pub filter: Option<BExpr>,
    /// WHERE compiled for raw fields, when some part of it has a fast form.
    pub fast_filter: Option<super::fast::Fast>,
    /// The projection; `None` is `*`.
    pub items: Option<Vec<(String, BExpr)>>,
    /// Aggregates, when the projection has any.
    pub aggs: Vec<(AggFunc, Option<BExpr>)>,
    /// For each aggregate, its argument's fast form over raw fields, if it has one.
    pub fast_args: Vec<Option<super::fast::FastArg>>,
    /// LIMIT.
    pub limit: Option<u64>,
    /// The FROM path after `S3Object`.
    pub from_path: Vec<PathStep>,
    /// The dialect (with the request's clock reading).
    pub dialect: S3SelectDialect,
    /// How records are written.
    pub output: Writer,
}

fn item_name(e: &Expr, index: usize) -> String {
    match e {
        Expr::Path { root, steps, .. } => match steps.last() {
            Some(PathStep::Field { name, .. }) => name.clone(),
            None => root.clone(),
            Some(_) => format!("_{}", index + 1),
        },
        _ => format!("_{}", index + 1),
    }
}

impl Plan {
    /// Parses and binds `sql`.
    pub fn new(sql: &str, output: &OutputFormat, dialect: S3SelectDialect) -> Result<Plan> {
        let q = parse_query(sql)?;
        Self::from_query(&q, output, dialect)
    }

    /// Binds a parsed query.
    pub fn from_query(q: &Query, output: &OutputFormat, dialect: S3SelectDialect) -> Result<Plan> {
        let mut b = Binder {
            alias: q.from.alias.clone(),
            ..Default::default()
        };
        let filter = q
            .where_clause
            .as_ref()
            .map(|w| bind_expr(&mut b, w))
            .transpose()?;
        if !b.aggs.is_empty() {
            return Err(Error::select(
                "UnsupportedSqlStructure",
                "We encountered an unsupported SQL structure. Check the SQL Reference.",
            ));
        }
        let items = match &q.select {
            Projection::Star => None,
            Projection::Items(items) => {
                let any_agg = items.iter().any(|i| i.expr.has_aggregate());
                let mut out = Vec::new();
                for (i, it) in items.iter().enumerate() {
                    if any_agg && !it.expr.has_aggregate() && has_column(&it.expr) {
                        return Err(Error::select(
                            "UnsupportedSqlStructure",
                            "We encountered an unsupported SQL structure. Check the SQL Reference.",
                        ));
                    }
                    let name = it.alias.clone().unwrap_or_else(|| {
                        if any_agg {
                            format!("_{}", i + 1)
                        } else {
                            item_name(&it.expr, i)
                        }
                    });
                    out.push((name, bind_expr(&mut b, &it.expr)?));
                }
                Some(out)
            }
        };
        if items.is_none() && matches!(q.select, Projection::Star) && !b.aggs.is_empty() {
            return Err(Error::select(
                "UnsupportedSqlStructure",
                "We encountered an unsupported SQL structure. Check the SQL Reference.",
            ));
        }
        Ok(Plan {
            slots: b.slots,
            fast_filter: filter.as_ref().and_then(super::fast::compile),
            filter,
            items,
            fast_args: b
                .aggs
                .iter()
                .map(|(f, a)| super::fast::compile_arg(*f, a.as_ref()))
                .collect(),
            aggs: b.aggs,
            limit: q.limit,
            from_path: q.from.path.clone(),
            dialect,
            output: Writer::new(output),
        })
    }

    /// Whether this is an aggregate query (one result record).
    pub fn is_aggregate(&self) -> bool {
        !self.aggs.is_empty()
    }
}

fn has_column(e: &Expr) -> bool {
    let mut found = false;
    e.walk(&mut |x| found |= matches!(x, Expr::Path { .. }));
    found
}

/// Serialises result records.
#[derive(Debug, Clone)]
pub enum Writer {
    /// CSV.
    Csv(CsvOutput),
    /// JSON lines.
    Json(Vec<u8>),
}

impl Writer {
    fn new(o: &OutputFormat) -> Writer {
        match o {
            OutputFormat::Csv(c) => Writer::Csv(c.clone()),
            OutputFormat::Json { record_delimiter } => Writer::Json(record_delimiter.clone()),
        }
    }

    /// Writes one record of named values.
    pub fn write<'v>(
        &self,
        out: &mut Vec<u8>,
        fields: impl Iterator<Item = (&'v str, &'v Value<'v>)>,
    ) {
        match self {
            Writer::Json(delim) => {
                out.push(b'{');
                let mut first = true;
                for (k, v) in fields {
                    if matches!(v, Value::Missing) {
                        continue;
                    }
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    super::value::write_json_str(out, k);
                    out.push(b':');
                    v.write_json(out);
                }
                out.push(b'}');
                out.extend_from_slice(delim);
            }
            Writer::Csv(c) => {
                for (i, (_, v)) in fields.enumerate() {
                    if i > 0 {
                        out.extend_from_slice(&c.field_delimiter);
                    }
                    let start = out.len();
                    v.write_text(out);
                    let needs = c.quote_fields == QuoteFields::Always
                        || out[start..].iter().any(|&b| {
                            b == c.quote_character
                                || b == b'\n'
                                || b == b'\r'
                                || c.field_delimiter.contains(&b)
                                || c.record_delimiter.contains(&b)
                        });
                    if needs {
                        let text = out.split_off(start);
                        out.push(c.quote_character);
                        for &b in &text {
                            if b == c.quote_character {
                                out.push(c.quote_escape_character);
                            }
                            out.push(b);
                        }
                        out.push(c.quote_character);
                    }
                }
                out.extend_from_slice(&c.record_delimiter);
            }
        }
    }
}

/// Per-worker execution state: output bytes, aggregate accumulators, rows emitted.
#[derive(Debug)]
pub struct Sink<'p> {
    /// The plan.
    pub plan: &'p Plan,
    /// Output written so far.
    pub out: Vec<u8>,
    /// Aggregate state.
    pub accs: Vec<Acc>,
    /// Records written so far.
    pub emitted: u64,
    /// Set once LIMIT is reached.
    pub done: bool,
}

impl<'p> Sink<'p> {
    /// A fresh sink.
    pub fn new(plan: &'p Plan) -> Sink<'p> {
        Sink {
            plan,
            out: Vec::with_capacity(64 * 1024),
            accs: plan.aggs.iter().map(|(f, _)| Acc::new(*f)).collect(),
            emitted: 0,
            done: plan.limit == Some(0),
        }
    }

    /// Runs one record through the plan; `star` supplies the `SELECT *` fields.
    pub fn row<'a>(&mut self, row: &dyn Row<'a>, star: &dyn Fn(&mut Vec<u8>, &Writer)) -> Result<()>
    where
        'p: 'a,
    {
        if self.done || !self.passes(row)? {
            return Ok(());
        }
        self.emit(row, star)
    }

    /// Whether `row` satisfies WHERE (true without one).
    pub fn passes<'a>(&self, row: &dyn Row<'a>) -> Result<bool>
    where
        'p: 'a,
    {
        let plan: &'a Plan = self.plan;
        let d = &plan.dialect as &dyn Dialect;
        Ok(if let Some(f) = &plan.fast_filter {
            super::fast::test(f, row, d)? == Some(true)
        } else if let Some(f) = &plan.filter {
            keeps(&eval(f, row, d, &[])?)?
        } else {
            true
        })
    }

    /// Runs a record that has passed WHERE through the aggregates or the projection.
    pub fn emit<'a>(
        &mut self,
        row: &dyn Row<'a>,
        star: &dyn Fn(&mut Vec<u8>, &Writer),
    ) -> Result<()>
    where
        'p: 'a,
    {
        if self.done {
            return Ok(());
        }
        let plan: &'a Plan = self.plan;
        let d = &plan.dialect as &dyn Dialect;
        if !plan.aggs.is_empty() {
            for ((acc, (_, arg)), fa) in self.accs.iter_mut().zip(&plan.aggs).zip(&plan.fast_args) {
                let fast = fa.as_ref().and_then(|fa| match row.raw_num(fa.slot) {
                    // Text cast to DECIMAL keeps its digits and scale; a JSON number token is
                    // a double first, like the value the generic evaluator sees.
                    Some(raw)
                        if fa.cast == Some(CastType::Decimal) && row.raw(fa.slot).is_some() =>
                    {
                        super::fast::text_decimal(raw)
                    }
                    Some(raw) => super::fast::arg_num(fa, raw),
                    None => row.num(fa.slot).and_then(|n| super::fast::cast_num(fa, n)),
                });
                match (arg, fast) {
                    (None, _) => acc.count_row(),
                    (Some(_), Some(n)) => acc.add_num(n)?,
                    (Some(a), None) => acc.add(&eval(a, row, d, &[])?)?,
                }
            }
            return Ok(());
        }
        let start = self.out.len();
        match &plan.items {
            None => star(&mut self.out, &plan.output),
            Some(items) => {
                let mut vals: Vec<Value<'a>> = Vec::with_capacity(items.len());
                for (_, e) in items {
                    vals.push(eval(e, row, d, &[])?);
                }
                plan.output.write(
                    &mut self.out,
                    items.iter().map(|(n, _)| n.as_str()).zip(vals.iter()),
                );
            }
        }
        if self.out.len() - start > MAX_RECORD_BYTES {
            return Err(Error::select(
                "OverMaxRecordSize",
                "The length of a record in the input or result is greater than maxCharsPerRecord of 1 MB.",
            ));
        }
        self.emitted += 1;
        if plan.limit.is_some_and(|l| self.emitted >= l) {
            self.done = true;
        }
        Ok(())
    }

    /// Folds another worker's aggregates into this one.
    pub fn merge_aggs(&mut self, other: &Sink<'_>) -> Result<()> {
        for (a, b) in self.accs.iter_mut().zip(&other.accs) {
            a.merge(b)?;
        }
        Ok(())
    }

    /// Writes the aggregate result record.
    pub fn finish_aggs(&mut self) -> Result<()> {
        if self.plan.aggs.is_empty() || self.plan.limit == Some(0) {
            return Ok(());
        }
        let results: Vec<Value<'static>> = self
            .accs
            .iter()
            .map(|a| a.finish())
            .collect::<Result<_>>()?;
        let Some(items) = &self.plan.items else {
            return Ok(());
        };
        struct NoRow;
        impl<'a> Row<'a> for NoRow {
            fn slot(&self, _: usize) -> Value<'a> {
                Value::Missing
            }
            fn whole(&self) -> Value<'a> {
                Value::Missing
            }
        }
        let mut vals = Vec::with_capacity(items.len());
        for (_, e) in items {
            vals.push(eval(e, &NoRow, &self.plan.dialect, &results)?);
        }
        self.plan.output.write(
            &mut self.out,
            items.iter().map(|(n, _)| n.as_str()).zip(vals.iter()),
        );
        Ok(())
    }
}
