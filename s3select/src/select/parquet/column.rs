//! Typed access to the columns of a decoded Arrow batch: each column is downcast once per batch
//! ([`Col`]), dictionary-encoded text stays a dictionary (keys into the row group's distinct
//! values), and a row of the batch is a [`Row`] for the evaluator ([`PqRow`]).
//!
//! Guarantees: a dictionary key outside its dictionary reads as NULL here and is refused as
//! `ParquetParsingError` by [`Col::check`] before a batch is evaluated, so no input can make
//! an access panic.

use std::borrow::Cow;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::types::{Decimal32Type, Decimal64Type, Decimal128Type, Decimal256Type};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Decimal128Array, DictionaryArray, Float64Array, Int32Array,
    Int64Array, StringArray, StringViewArray,
};
use arrow_schema::{DataType, TimeUnit};
use chrono::{DateTime, FixedOffset};

use crate::select::decimal::Decimal;
use crate::select::eval::Row;
use crate::select::value::{Num, Timestamp, TsPrecision, Value};

/// A column of a batch, downcast once: the common types get a direct accessor, the rest go
/// through [`cell`].
pub(super) enum Col<'a> {
    Bool(&'a BooleanArray),
    I32(&'a Int32Array),
    I64(&'a Int64Array),
    F64(&'a Float64Array),
    /// A DECIMAL column of up to 38 digits, with its scale.
    Dec(&'a Decimal128Array, i32),
    Str(&'a StringArray),
    View(&'a StringViewArray),
    /// Dictionary-encoded text: the keys and the distinct values.
    Dict(&'a DictionaryArray<Int32Type>, &'a StringArray),
    Other(&'a ArrayRef),
}

impl<'a> Col<'a> {
    pub(super) fn new(a: &'a ArrayRef) -> Col<'a> {
        match a.data_type() {
            DataType::Boolean => Col::Bool(a.as_boolean()),
            DataType::Int32 => Col::I32(a.as_primitive::<Int32Type>()),
            DataType::Int64 => Col::I64(a.as_primitive::<Int64Type>()),
            DataType::Float64 => Col::F64(a.as_primitive::<Float64Type>()),
            DataType::Decimal128(_, scale) => {
                Col::Dec(a.as_primitive::<Decimal128Type>(), i32::from(*scale))
            }
            DataType::Utf8 => Col::Str(a.as_string::<i32>()),
            DataType::Utf8View => Col::View(a.as_string_view()),
            DataType::Dictionary(k, v) if **k == DataType::Int32 && **v == DataType::Utf8 => {
                let d = a.as_dictionary::<Int32Type>();
                match d.values().as_string_opt::<i32>() {
                    Some(values) => Col::Dict(d, values),
                    None => Col::Other(a),
                }
            }
            _ => Col::Other(a),
        }
    }

    /// Row `r` as a number, for integer and double columns (`None` for NULL and other types).
    #[inline]
    pub(super) fn num(&self, r: usize) -> Option<Num> {
        match self {
            Col::I64(a) if !a.is_null(r) => Some(Num::Int(a.value(r))),
            Col::I32(a) if !a.is_null(r) => Some(Num::Int(i64::from(a.value(r)))),
            Col::F64(a) if !a.is_null(r) => Some(Num::Float(a.value(r))),
            Col::Dec(a, scale) if !a.is_null(r) => {
                Decimal::from_parts(a.value(r), *scale).ok().map(Num::Dec)
            }
            _ => None,
        }
    }

    #[inline]
    pub(super) fn get(&self, r: usize) -> Value<'a> {
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
            Col::Dec(a, scale) => typed!(a, decimal(a.value(r), *scale)),
            Col::Str(a) => typed!(a, Value::Str(Cow::Borrowed(a.value(r)))),
            Col::View(a) => typed!(a, Value::Str(Cow::Borrowed(a.value(r)))),
            Col::Dict(..) => match self.text(r) {
                Some(s) => Value::Str(Cow::Borrowed(s)),
                None => Value::Null,
            },
            Col::Other(a) => cell(a, r),
        }
    }

    /// Row `r` of a text column (`None` for NULL and other types).
    #[inline]
    pub(super) fn text(&self, r: usize) -> Option<&'a str> {
        match self {
            Col::Str(a) if !a.is_null(r) => Some(a.value(r)),
            Col::View(a) if !a.is_null(r) => Some(a.value(r)),
            Col::Dict(d, values) if !d.is_null(r) => {
                let k = usize::try_from(d.keys().value(r)).ok()?;
                (k < values.len() && !values.is_null(k)).then(|| values.value(k))
            }
            _ => None,
        }
    }

    /// Refuses a dictionary column with a key outside its dictionary (a corrupt file).
    pub(super) fn check(&self) -> bool {
        let Col::Dict(d, values) = self else {
            return true;
        };
        let n = values.len();
        let keys = d.keys();
        let in_range = |k: i32| usize::try_from(k).is_ok_and(|k| k < n);
        // Keys under NULL slots are usually in range too: one branch-free pass first.
        let (lo, hi) = keys
            .values()
            .iter()
            .fold((i32::MAX, i32::MIN), |(lo, hi), &k| (lo.min(k), hi.max(k)));
        keys.is_empty()
            || (in_range(lo) && in_range(hi))
            || (0..keys.len()).all(|r| keys.is_null(r) || in_range(keys.value(r)))
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
        // Parquet DECIMAL (INT32, INT64, FIXED_LEN_BYTE_ARRAY or BYTE_ARRAY), exactly.
        DataType::Decimal32(_, scale) => decimal(
            i128::from(a.as_primitive::<Decimal32Type>().value(r)),
            i32::from(*scale),
        ),
        DataType::Decimal64(_, scale) => decimal(
            i128::from(a.as_primitive::<Decimal64Type>().value(r)),
            i32::from(*scale),
        ),
        DataType::Decimal128(_, scale) => decimal(
            a.as_primitive::<Decimal128Type>().value(r),
            i32::from(*scale),
        ),
        DataType::Decimal256(_, scale) => {
            let (lo, hi) = a.as_primitive::<Decimal256Type>().value(r).to_parts();
            match Decimal::from_i256_parts(lo, hi, i32::from(*scale)) {
                Ok(d) => Value::Decimal(d),
                Err(_) => Value::Null,
            }
        }
        _ => Value::Missing,
    }
}

/// A stored DECIMAL value: exact up to 38 digits (a corrupt file's wider value is rounded).
fn decimal(v: i128, scale: i32) -> Value<'static> {
    match Decimal::from_parts(v, scale) {
        Ok(d) => Value::Decimal(d),
        // Only a scale outside i32 fails, which an i8 Arrow scale cannot reach.
        Err(_) => Value::Null,
    }
}

pub(super) struct PqRow<'c, 'a> {
    pub(super) cols: &'c [Col<'a>],
    pub(super) names: &'c [&'a str],
    pub(super) slot_cols: &'c [Option<usize>],
    pub(super) r: usize,
}

impl<'a> Row<'a> for PqRow<'_, 'a> {
    fn slot(&self, i: usize) -> Value<'a> {
        match self.slot_cols.get(i).copied().flatten() {
            Some(c) => self.cols.get(c).map_or(Value::Missing, |c| c.get(self.r)),
            None => Value::Missing,
        }
    }

    fn raw(&self, i: usize) -> Option<&'a [u8]> {
        self.cols
            .get(self.slot_cols.get(i).copied().flatten()?)?
            .text(self.r)
            .map(str::as_bytes)
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
