//! Aggregate functions and hash aggregation.
//!
//! Guarantees: PostgreSQL's result types (`count` → bigint, `sum(int4)` → bigint,
//! `sum(int8)`/`avg(int)` → numeric, `avg(float)` → double precision), NULL inputs skipped,
//! `sum`/`avg`/`min`/`max` of no rows are NULL while `count` is 0, and with no GROUP BY exactly
//! one row comes out even from empty input. Groups come out in first-seen order.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use bigdecimal::{BigDecimal, ToPrimitive};

use crate::error::{AuroraError, Result};
use crate::exec::{ExecCtx, Row, compare_keys};
use crate::expr::Expr;
use crate::ops::{self, BinOp};
use crate::plan::AggCall;
use crate::value::Value;

/// Aggregate function names this engine knows.
pub const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "string_agg",
    "array_agg",
    "bool_and",
    "bool_or",
    "every",
    "stddev",
    "stddev_samp",
    "stddev_pop",
    "variance",
    "var_samp",
    "var_pop",
    "json_agg",
    "jsonb_agg",
];

/// Whether `name` is an aggregate.
pub fn is_aggregate(name: &str) -> bool {
    AGGREGATES.contains(&name)
}

/// Running state of one aggregate.
#[derive(Debug, Clone)]
pub struct Acc {
    count: i64,
    value: Value,
    floats: (f64, f64),
    items: Vec<(Vec<Value>, Value, Option<String>)>,
    seen: Option<HashSet<Vec<Value>>>,
}

impl Acc {
    /// A fresh state.
    pub fn new(distinct: bool) -> Acc {
        Acc {
            count: 0,
            value: Value::Null,
            floats: (0.0, 0.0),
            items: Vec::new(),
            seen: distinct.then(HashSet::new),
        }
    }

    /// Feeds one row's evaluated arguments (`args` empty for `count(*)`).
    pub fn add(&mut self, func: &str, args: &[Value], sort_key: Vec<Value>) -> Result<()> {
        if func == "count" && args.is_empty() {
            self.count += 1;
            return Ok(());
        }
        let v = args.first().cloned().unwrap_or(Value::Null);
        if v.is_null() && !matches!(func, "array_agg" | "json_agg" | "jsonb_agg") {
            return Ok(());
        }
        if let Some(seen) = &mut self.seen
            && !seen.insert(args.to_vec())
        {
            return Ok(());
        }
        self.count += 1;
        match func {
            "count" => {}
            "sum" | "avg" => {
                let v = match (&v, func) {
                    (Value::Int2(_) | Value::Int4(_), "sum") => {
                        Value::Int8(v.as_i64().unwrap_or(0))
                    }
                    (Value::Int2(_) | Value::Int4(_) | Value::Int8(_), _) => {
                        Value::Numeric(v.as_decimal().unwrap_or_default())
                    }
                    (Value::Float4(f), _) => Value::Float8(*f as f64),
                    _ => v.clone(),
                };
                self.value = if self.value.is_null() {
                    v
                } else {
                    match ops::binary(BinOp::Add, &self.value, &v) {
                        Ok(s) => s,
                        // A bigint sum that overflows continues in numeric, as PostgreSQL's
                        // numeric accumulator for int8 never overflows.
                        Err(_) => ops::binary(
                            BinOp::Add,
                            &Value::Numeric(self.value.as_decimal().unwrap_or_default()),
                            &Value::Numeric(v.as_decimal().unwrap_or_default()),
                        )?,
                    }
                };
            }
            "min" | "max" => {
                if self.value.is_null() {
                    self.value = v;
                } else {
                    let ord = ops::compare(&v, &self.value)?;
                    if (func == "min" && ord.is_lt()) || (func == "max" && ord.is_gt()) {
                        self.value = v;
                    }
                }
            }
            "bool_and" | "every" | "bool_or" => {
                let b = match v {
                    Value::Bool(b) => b,
                    other => {
                        return Err(AuroraError::undefined_function(format!(
                            "function {func}({}) does not exist",
                            other.data_type()
                        )));
                    }
                };
                self.value = match (&self.value, func) {
                    (Value::Null, _) => Value::Bool(b),
                    (Value::Bool(a), "bool_or") => Value::Bool(*a || b),
                    (Value::Bool(a), _) => Value::Bool(*a && b),
                    _ => Value::Bool(b),
                };
            }
            "stddev" | "stddev_samp" | "stddev_pop" | "variance" | "var_samp" | "var_pop" => {
                let f = v.as_f64().ok_or_else(|| {
                    AuroraError::undefined_function(format!(
                        "function {func}({}) does not exist",
                        v.data_type()
                    ))
                })?;
                self.floats.0 += f;
                self.floats.1 += f * f;
                self.items.push((sort_key, v, None));
            }
            "string_agg" => {
                let sep = args.get(1).map(|s| crate::cast::text_of(s).to_string());
                self.items.push((sort_key, v, sep));
            }
            _ => self.items.push((sort_key, v, None)),
        }
        Ok(())
    }

    /// The final value.
    pub fn finish(&self, func: &str, order: &[crate::plan::SortKey]) -> Result<Value> {
        Ok(match func {
            "count" => Value::Int8(self.count),
            "sum" | "min" | "max" | "bool_and" | "bool_or" | "every" => self.value.clone(),
            "avg" => {
                if self.count == 0 {
                    return Ok(Value::Null);
                }
                ops::binary(
                    BinOp::Div,
                    &self.value,
                    &match self.value {
                        Value::Float8(_) => Value::Float8(self.count as f64),
                        _ => Value::Numeric(BigDecimal::from(self.count)),
                    },
                )?
            }
            "stddev" | "stddev_samp" | "stddev_pop" | "variance" | "var_samp" | "var_pop" => {
                let n = self.count as f64;
                let pop = func.ends_with("_pop");
                if self.count == 0 || (!pop && self.count < 2) {
                    return Ok(Value::Null);
                }
                // Two-pass over the kept values for accuracy.
                let mean = self.floats.0 / n;
                let ss: f64 = self
                    .items
                    .iter()
                    .map(|(_, v, _)| (v.as_f64().unwrap_or(0.0) - mean).powi(2))
                    .sum();
                let var = ss / if pop { n } else { n - 1.0 };
                let r = if func.starts_with("stddev") {
                    var.sqrt()
                } else {
                    var
                };
                let float_input = self
                    .items
                    .iter()
                    .any(|(_, v, _)| matches!(v, Value::Float4(_) | Value::Float8(_)));
                if float_input {
                    Value::Float8(r)
                } else {
                    let d = BigDecimal::try_from(r).unwrap_or_default();
                    Value::Numeric(d.with_scale_round(16, bigdecimal::RoundingMode::HalfUp))
                }
            }
            _ => {
                if self.items.is_empty() {
                    return Ok(Value::Null);
                }
                let mut items: Vec<&(Vec<Value>, Value, Option<String>)> =
                    self.items.iter().collect();
                if !order.is_empty() {
                    items.sort_by(|a, b| compare_keys(&a.0, &b.0, order));
                }
                match func {
                    "string_agg" => {
                        let mut s = String::new();
                        for (i, (_, v, sep)) in items.iter().enumerate() {
                            if i > 0 {
                                s.push_str(sep.as_deref().unwrap_or(""));
                            }
                            s.push_str(&crate::cast::text_of(v));
                        }
                        Value::text(s)
                    }
                    "array_agg" => {
                        Value::Array(Arc::new(items.iter().map(|(_, v, _)| v.clone()).collect()))
                    }
                    _ => Value::Json(Arc::new(serde_json::Value::Array(
                        items.iter().map(|(_, v, _)| to_json(v)).collect(),
                    ))),
                }
            }
        })
    }
}

/// A value as JSON (for `json_agg`, `to_jsonb`).
pub fn to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int2(_) | Value::Int4(_) | Value::Int8(_) => J::from(v.as_i64().unwrap_or(0)),
        Value::Numeric(d) => d
            .to_string()
            .parse::<serde_json::Number>()
            .map(J::Number)
            .unwrap_or_else(|_| J::from(d.to_f64().unwrap_or(0.0))),
        Value::Float4(_) | Value::Float8(_) => {
            serde_json::Number::from_f64(v.as_f64().unwrap_or(0.0))
                .map(J::Number)
                .unwrap_or(J::Null)
        }
        Value::Json(j) => j.as_ref().clone(),
        Value::Array(items) => J::Array(items.iter().map(to_json).collect()),
        other => J::String(other.to_string()),
    }
}

/// Hash aggregation over `input`'s rows, fed one borrowed row at a time (see
/// [`crate::exec::visit`]): one output row per group (group values, then aggregate values).
///
/// Per row it allocates nothing but what an aggregate keeps (`array_agg` items, DISTINCT
/// sets): the group key and the arguments are evaluated into reused buffers, an existing
/// group is found by a borrowed key, and a single integer group column is hashed as an
/// `i64` until a value of another kind shows up.
pub fn aggregate(
    input: &crate::plan::Plan,
    groups: &[Expr],
    aggs: &[AggCall],
    sets: &[Vec<usize>],
    ctx: &ExecCtx<'_>,
) -> Result<Vec<Row>> {
    let all: Vec<usize> = (0..groups.len()).collect();
    let sets: Vec<&[usize]> = if sets.is_empty() {
        vec![all.as_slice()]
    } else {
        sets.iter().map(Vec::as_slice).collect()
    };
    // One grouper per grouping set; every input row feeds each of them.
    let mut gs: Vec<Grouper<'_>> = sets
        .iter()
        .map(|set| Grouper {
            groups,
            active: (0..groups.len()).map(|i| set.contains(&i)).collect(),
            aggs,
            ints: Some(HashMap::new()),
            index: HashMap::new(),
            states: Vec::new(),
            key: Vec::with_capacity(groups.len()),
            args: Vec::new(),
        })
        .collect();
    crate::exec::visit(input, ctx, &mut |row| {
        for g in gs.iter_mut() {
            g.feed(row, ctx)?;
        }
        Ok(())
    })?;
    let mut out = Vec::new();
    for g in gs {
        out.extend(g.finish()?);
    }
    Ok(out)
}

/// `GROUPING(e1, …, en)`: bit n-1-i is set when ei is not grouped in the row's set. The call's
/// arguments are the indexes of its group expressions.
fn grouping_bits(call: &AggCall, active: &[bool]) -> Value {
    let mut bits = 0i32;
    for a in &call.args {
        let idx = match a {
            Expr::Literal(Value::Int4(i)) => *i as usize,
            _ => 0,
        };
        bits = (bits << 1) | i32::from(!active.get(idx).copied().unwrap_or(true));
    }
    Value::Int4(bits)
}

/// The running state of [`aggregate`].
struct Grouper<'p> {
    groups: &'p [Expr],
    /// Which group expressions this grouping set groups by (the others are NULL).
    active: Vec<bool>,
    aggs: &'p [AggCall],
    /// Group slots by a single integer group value; `None` once a key of another kind (or
    /// more than one group column) made `index` the only map.
    ints: Option<HashMap<i64, usize>>,
    /// Group slots by group values.
    index: HashMap<Vec<Value>, usize>,
    /// Each group's values and accumulators, in first-seen order.
    states: Vec<(Vec<Value>, Vec<Acc>)>,
    key: Vec<Value>,
    args: Vec<Value>,
}

impl Grouper<'_> {
    fn new_group(&mut self) -> usize {
        self.states.push((
            self.key.clone(),
            self.aggs.iter().map(|a| Acc::new(a.distinct)).collect(),
        ));
        self.states.len() - 1
    }

    /// The slot of the group in `self.key`, created if new.
    fn slot(&mut self) -> usize {
        if self.key.is_empty() {
            if self.states.is_empty() {
                self.new_group();
            }
            return 0;
        }
        let int = match self.key.as_slice() {
            [Value::Int2(i)] => Some(*i as i64),
            [Value::Int4(i)] => Some(*i as i64),
            [Value::Int8(i)] => Some(*i),
            _ => None,
        };
        if let (Some(ints), Some(i)) = (self.ints.as_ref(), int) {
            if let Some(s) = ints.get(&i) {
                return *s;
            }
            let s = self.new_group();
            if let Some(ints) = self.ints.as_mut() {
                ints.insert(i, s);
            }
            return s;
        }
        if self.ints.take().is_some() {
            // A key of another kind (or shape): from now on every group is found by value.
            for (i, (k, _)) in self.states.iter().enumerate() {
                self.index.insert(k.clone(), i);
            }
        }
        if let Some(s) = self.index.get(self.key.as_slice()) {
            return *s;
        }
        let s = self.new_group();
        self.index.insert(self.key.clone(), s);
        s
    }

    fn feed(&mut self, row: &[Value], ctx: &ExecCtx<'_>) -> Result<()> {
        self.key.clear();
        for (g, on) in self.groups.iter().zip(&self.active) {
            if *on {
                self.key.push(g.eval(row, ctx)?);
            }
        }
        let slot = self.slot();
        for (call, acc) in self.aggs.iter().zip(self.states[slot].1.iter_mut()) {
            if call.func == "grouping" {
                continue;
            }
            if let Some(f) = &call.filter
                && !f.holds(row, ctx)?
            {
                continue;
            }
            self.args.clear();
            for a in &call.args {
                self.args.push(a.eval(row, ctx)?);
            }
            let keys = call
                .order_by
                .iter()
                .map(|k| k.expr.eval(row, ctx))
                .collect::<Result<Vec<_>>>()?;
            acc.add(&call.func, &self.args, keys)?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<Row>> {
        // A set without group expressions (no GROUP BY, or the `()` set) gives one row even
        // from empty input.
        if self.states.is_empty() && !self.active.contains(&true) {
            self.key.clear();
            self.new_group();
        }
        let (aggs, active) = (self.aggs, &self.active);
        self.states
            .into_iter()
            .map(|(key, accs)| {
                // The set's key holds its active groups only; the row has every group column.
                let mut row = Vec::with_capacity(active.len() + aggs.len());
                let mut k = key.into_iter();
                for on in active {
                    row.push(if *on {
                        k.next().unwrap_or(Value::Null)
                    } else {
                        Value::Null
                    });
                }
                for (call, acc) in aggs.iter().zip(accs.iter()) {
                    row.push(if call.func == "grouping" {
                        grouping_bits(call, active)
                    } else {
                        acc.finish(&call.func, &call.order_by)?
                    });
                }
                Ok(row)
            })
            .collect()
    }
}
