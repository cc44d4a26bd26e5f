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

fn eval_args(
    call: &AggCall,
    row: &[Value],
    ctx: &ExecCtx<'_>,
) -> Result<Option<(Vec<Value>, Vec<Value>)>> {
    if let Some(f) = &call.filter
        && !f.holds(row, ctx)?
    {
        return Ok(None);
    }
    let args = call
        .args
        .iter()
        .map(|a| a.eval(row, ctx))
        .collect::<Result<Vec<_>>>()?;
    let keys = call
        .order_by
        .iter()
        .map(|k| k.expr.eval(row, ctx))
        .collect::<Result<Vec<_>>>()?;
    Ok(Some((args, keys)))
}

/// Hash aggregation: one output row per group (groups then aggregate values).
pub fn aggregate(
    rows: &[Row],
    groups: &[Expr],
    aggs: &[AggCall],
    ctx: &ExecCtx<'_>,
) -> Result<Vec<Row>> {
    let mut index: HashMap<Vec<Value>, usize> = HashMap::new();
    let mut states: Vec<(Vec<Value>, Vec<Acc>)> = Vec::new();
    for row in rows {
        let key = groups
            .iter()
            .map(|g| g.eval(row, ctx))
            .collect::<Result<Vec<_>>>()?;
        let slot = match index.get(&key) {
            Some(i) => *i,
            None => {
                states.push((
                    key.clone(),
                    aggs.iter().map(|a| Acc::new(a.distinct)).collect(),
                ));
                index.insert(key, states.len() - 1);
                states.len() - 1
            }
        };
        for (call, acc) in aggs.iter().zip(states[slot].1.iter_mut()) {
            if let Some((args, keys)) = eval_args(call, row, ctx)? {
                acc.add(&call.func, &args, keys)?;
            }
        }
    }
    if states.is_empty() && groups.is_empty() {
        states.push((
            Vec::new(),
            aggs.iter().map(|a| Acc::new(a.distinct)).collect(),
        ));
    }
    states
        .into_iter()
        .map(|(mut key, accs)| {
            for (call, acc) in aggs.iter().zip(accs.iter()) {
                key.push(acc.finish(&call.func, &call.order_by)?);
            }
            Ok(key)
        })
        .collect()
}
