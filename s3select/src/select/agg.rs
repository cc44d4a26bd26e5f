//! Aggregate accumulators (`COUNT`, `SUM`, `AVG`, `MIN`, `MAX`) over the values the evaluator
//! produces, with S3 Select's documented result types.
//!
//! Guarantees: results do not depend on the order rows arrive in or on how a scan is split
//! across threads (partial accumulators merge exactly), except that `MIN`/`MAX` between equal
//! values keep the first seen.

use std::cmp::Ordering;

use super::ast::AggFunc;
use super::decimal::{Decimal, DecimalSum};
use super::eval::{dec_error, overflow};
use super::value::{Num, Value, compare};
use crate::error::{Error, Result};

/// An aggregate's running state.
///
/// `SUM`/`AVG` keep integers, doubles and decimals apart and combine them once at the end,
/// with S3 Select's documented result types: `SUM` of integers is an INT, of doubles a FLOAT,
/// of decimals a DECIMAL; `AVG` of integers or decimals is a DECIMAL (rounded to 38 digits),
/// of doubles a FLOAT. Integers are summed exactly in an `i128` and decimals exactly in a
/// [`DecimalSum`], rounded once at the end, so the result does not depend on row order or on
/// how the scan was split across threads.
#[derive(Debug, Clone)]
pub struct Acc {
    func: AggFunc,
    count: i64,
    int_sum: i128,
    float_sum: f64,
    any_float: bool,
    dec_sum: DecimalSum,
    best: Option<Value<'static>>,
}

fn invalid_type() -> Error {
    Error::select(
        "InvalidDataType",
        "The SQL expression contains a data type that is not valid.",
    )
}

impl Acc {
    /// A fresh accumulator.
    pub fn new(func: AggFunc) -> Acc {
        Acc {
            func,
            count: 0,
            int_sum: 0,
            float_sum: 0.0,
            any_float: false,
            dec_sum: DecimalSum::default(),
            best: None,
        }
    }

    /// Counts one row for `COUNT(*)`.
    pub fn count_row(&mut self) {
        self.count_rows(1);
    }

    /// Counts `n` rows for `COUNT(*)`.
    pub fn count_rows(&mut self, n: i64) {
        if self.func == AggFunc::Count {
            self.count += n;
        }
    }

    /// Adds a value.
    pub fn add(&mut self, v: &Value<'_>) -> Result<()> {
        if v.is_absent() {
            return Ok(());
        }
        match self.func {
            AggFunc::Count => self.count += 1,
            AggFunc::Sum | AggFunc::Avg => match v.as_number() {
                Some(n) => self.add_num(n)?,
                None => return Err(invalid_type()),
            },
            AggFunc::Min | AggFunc::Max => {
                let replace = match &self.best {
                    None => true,
                    Some(b) => match compare(v, b) {
                        Some(o) => {
                            (o == Ordering::Less) == (self.func == AggFunc::Min)
                                && o != Ordering::Equal
                        }
                        None => return Err(invalid_type()),
                    },
                };
                if replace {
                    let owned = match v {
                        // Numeric text compares as a number, so keep it as one.
                        Value::Str(s) => match super::value::parse_number(s) {
                            Some(n) => n.value(),
                            None => v.clone().into_owned(),
                        },
                        other => other.clone().into_owned(),
                    };
                    self.best = Some(owned);
                }
                self.count += 1;
            }
        }
        Ok(())
    }

    /// Adds a number to a `SUM`/`AVG` (what [`Acc::add`] does with a numeric value).
    #[inline]
    pub fn add_num(&mut self, n: Num) -> Result<()> {
        match n {
            Num::Int(i) => self.int_sum += i128::from(i),
            Num::Float(f) => {
                self.any_float = true;
                self.float_sum += f;
            }
            Num::Dec(d) => self.dec_sum.add(d).map_err(dec_error)?,
        }
        self.count += 1;
        Ok(())
    }

    /// Adds `n` integers summing to `sum` (as `n` calls of [`Acc::add_num`] would).
    pub fn add_int_sum(&mut self, sum: i128, n: i64) {
        self.int_sum += sum;
        self.count += n;
    }

    /// Adds the decimals `c × 10^-scale` for each `c` of a column (as that many calls of
    /// [`Acc::add_num`] would).
    pub fn add_dec_column(&mut self, coefficients: &[i128], scale: i32) -> Result<()> {
        self.dec_sum
            .add_coefficients(coefficients, scale)
            .map_err(dec_error)?;
        self.count += coefficients.len() as i64;
        Ok(())
    }

    /// Folds another accumulator of the same function into this one.
    pub fn merge(&mut self, o: &Acc) -> Result<()> {
        self.count += o.count;
        self.int_sum += o.int_sum;
        self.float_sum += o.float_sum;
        self.any_float |= o.any_float;
        self.dec_sum.merge(&o.dec_sum).map_err(dec_error)?;
        if let Some(b) = &o.best {
            let n = self.count;
            self.count -= 1;
            self.add(b)?;
            self.count = n;
        }
        Ok(())
    }

    /// The exact sum of the integers and decimals, with the doubles joined as their shortest
    /// decimal (`None` when their sum is NaN or infinite).
    fn decimal_total(&self) -> Result<Option<Decimal>> {
        let mut t = Decimal::from_parts(self.int_sum, 0).map_err(dec_error)?;
        if !self.dec_sum.is_empty() {
            t = t
                .checked_add(self.dec_sum.total().map_err(dec_error)?)
                .map_err(dec_error)?;
        }
        if self.any_float {
            match Decimal::from_f64(self.float_sum) {
                Some(f) => t = t.checked_add(f).map_err(dec_error)?,
                None => return Ok(None),
            }
        }
        Ok(Some(t))
    }

    /// The result.
    pub fn finish(&self) -> Result<Value<'static>> {
        Ok(match self.func {
            AggFunc::Count => Value::Int(self.count),
            _ if self.count == 0 => Value::Null,
            AggFunc::Sum => {
                if !self.dec_sum.is_empty() {
                    match self.decimal_total()? {
                        Some(t) => Value::Decimal(t),
                        None => Value::Float(self.float_sum),
                    }
                } else if self.any_float {
                    Value::Float(self.float_sum + self.int_sum as f64)
                } else {
                    Value::Int(i64::try_from(self.int_sum).map_err(|_| overflow())?)
                }
            }
            AggFunc::Avg => {
                if self.any_float && self.dec_sum.is_empty() {
                    Value::Float((self.float_sum + self.int_sum as f64) / self.count as f64)
                } else {
                    match self.decimal_total()? {
                        Some(t) => Value::Decimal(
                            t.checked_div(Decimal::from_i64(self.count))
                                .map_err(dec_error)?,
                        ),
                        None => Value::Float(self.float_sum),
                    }
                }
            }
            AggFunc::Min | AggFunc::Max => self.best.clone().unwrap_or(Value::Null),
        })
    }
}
