//! Values on the PostgreSQL wire: type OIDs, the text and binary encodings of every type the
//! engine stores, and the decoding of Bind parameters.
//!
//! Guarantees: [`encode`] writes exactly PostgreSQL's text output (the engine's `Display`) or
//! its binary send format; [`decode`] accepts PostgreSQL's binary receive format for the same
//! types and turns any malformed input into a 22P03/08P01 [`AuroraError`], never a panic
//! (property-tested and fuzzed: `aurora/fuzz` target `pgwire_param`).

use std::sync::Arc;

use bigdecimal::BigDecimal;
use bytes::{BufMut, BytesMut};

use crate::cast::{self, CastMode};
use crate::error::{AuroraError, Result};
use crate::types::DataType;
use crate::value::{Interval, Value};

/// Days from 1970-01-01 (the engine's epoch) to 2000-01-01 (PostgreSQL's).
const PG_EPOCH_DAYS: i32 = 10_957;
/// Microseconds from 1970-01-01 to 2000-01-01.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
/// Longest numeric PostgreSQL accepts: 131 072 digits before the point, 16 383 after.
const MAX_NUMERIC_GROUPS: i64 = 32_768 + 4_096;
/// Deepest array nesting PostgreSQL allows (MAXDIM).
const MAX_ARRAY_DIMS: i32 = 6;

/// Text (0) or binary (1), as format codes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireFormat {
    /// PostgreSQL's text input/output.
    Text,
    /// PostgreSQL's binary send/receive.
    Binary,
}

impl WireFormat {
    /// The format a code names (08P01 for anything but 0 and 1, as PostgreSQL).
    pub fn from_code(code: i16) -> Result<WireFormat> {
        match code {
            0 => Ok(WireFormat::Text),
            1 => Ok(WireFormat::Binary),
            other => Err(protocol(format!("unsupported format code: {other}"))),
        }
    }
}

/// Picks the format of column/parameter `i` from a Bind message's codes: none means text, one
/// applies to all, otherwise one per item (08P01 when the count does not match).
pub fn format_at(codes: &[i16], i: usize, count: usize, what: &str) -> Result<WireFormat> {
    match codes.len() {
        0 => Ok(WireFormat::Text),
        1 => WireFormat::from_code(codes[0]),
        n if n == count => codes
            .get(i)
            .map_or(Ok(WireFormat::Text), |c| WireFormat::from_code(*c)),
        n => Err(protocol(format!(
            "bind message has {n} {what} formats but query has {count} {what}s"
        ))),
    }
}

fn protocol(message: String) -> AuroraError {
    AuroraError::sql("08P01", message)
}

fn bad_binary(type_name: &str) -> AuroraError {
    AuroraError::sql(
        "22P03",
        format!("incorrect binary data format in bind parameter of type {type_name}"),
    )
}

/// The OID PostgreSQL gives a type, arrays included.
pub fn type_oid(ty: &DataType) -> u32 {
    match ty {
        DataType::Array(inner) => match &**inner {
            DataType::Bool => 1000,
            DataType::Bytea => 1001,
            DataType::Int2 => 1005,
            DataType::Int4 => 1007,
            DataType::Text | DataType::Unknown => 1009,
            DataType::Char(_) => 1014,
            DataType::Varchar(_) => 1015,
            DataType::Int8 => 1016,
            DataType::Float4 => 1021,
            DataType::Float8 => 1022,
            DataType::Timestamp => 1115,
            DataType::Date => 1182,
            DataType::Time => 1183,
            DataType::TimestampTz => 1185,
            DataType::Interval => 1187,
            DataType::Numeric(_) => 1231,
            DataType::Uuid => 2951,
            DataType::Json => 199,
            DataType::Jsonb => 3807,
            // Nested arrays are multi-dimensional arrays of the element type.
            DataType::Array(_) => type_oid(inner),
        },
        other => other.oid(),
    }
}

/// The engine type for an OID a client names (`None` for 0, "unspecified", and OIDs of
/// types the engine does not store).
pub fn type_for_oid(oid: u32) -> Option<DataType> {
    let scalar = |oid: u32| -> Option<DataType> {
        Some(match oid {
            16 => DataType::Bool,
            17 => DataType::Bytea,
            18 | 19 | 25 | 1042 => DataType::Text,
            20 => DataType::Int8,
            21 => DataType::Int2,
            23 => DataType::Int4,
            114 => DataType::Json,
            700 => DataType::Float4,
            701 => DataType::Float8,
            705 => DataType::Unknown,
            1043 => DataType::Varchar(None),
            1082 => DataType::Date,
            1083 => DataType::Time,
            1114 => DataType::Timestamp,
            1184 => DataType::TimestampTz,
            1186 => DataType::Interval,
            1700 => DataType::Numeric(None),
            2950 => DataType::Uuid,
            3802 => DataType::Jsonb,
            _ => return None,
        })
    };
    let element = match oid {
        1000 => 16,
        1001 => 17,
        1005 => 21,
        1007 => 23,
        1009 | 1014 => 25,
        1015 => 1043,
        1016 => 20,
        1021 => 700,
        1022 => 701,
        1115 => 1114,
        1182 => 1082,
        1183 => 1083,
        1185 => 1184,
        1187 => 1186,
        1231 => 1700,
        2951 => 2950,
        199 => 114,
        3807 => 3802,
        _ => return scalar(oid),
    };
    scalar(element).map(|t| DataType::Array(Box::new(t)))
}

/// `pg_attribute.atttypmod` for a type (-1 when it has no modifier).
pub fn type_modifier(ty: &DataType) -> i32 {
    match ty {
        DataType::Varchar(Some(n)) | DataType::Char(n) => (*n as i32).saturating_add(4),
        DataType::Numeric(Some((p, s))) => (((*p as i32) << 16) | *s as i32).saturating_add(4),
        _ => -1,
    }
}

/// `pg_type.typlen`: the fixed width, or -1 for variable-width types.
pub fn type_size(ty: &DataType) -> i16 {
    match ty {
        DataType::Bool => 1,
        DataType::Int2 => 2,
        DataType::Int4 | DataType::Float4 | DataType::Date => 4,
        DataType::Int8
        | DataType::Float8
        | DataType::Time
        | DataType::Timestamp
        | DataType::TimestampTz => 8,
        DataType::Interval | DataType::Uuid => 16,
        _ => -1,
    }
}

/// Whether a runtime value already has the representation of `ty`.
fn conforms(v: &Value, ty: &DataType) -> bool {
    matches!(
        (v, ty),
        (Value::Null, _)
            | (_, DataType::Unknown)
            | (Value::Bool(_), DataType::Bool)
            | (Value::Int2(_), DataType::Int2)
            | (Value::Int4(_), DataType::Int4)
            | (Value::Int8(_), DataType::Int8)
            | (Value::Numeric(_), DataType::Numeric(_))
            | (Value::Float4(_), DataType::Float4)
            | (Value::Float8(_), DataType::Float8)
            | (
                Value::Text(_),
                DataType::Text | DataType::Varchar(_) | DataType::Char(_)
            )
            | (Value::Bytea(_), DataType::Bytea)
            | (Value::Date(_), DataType::Date)
            | (Value::Time(_), DataType::Time)
            | (Value::Timestamp(_), DataType::Timestamp)
            | (Value::TimestampTz(_), DataType::TimestampTz)
            | (Value::Interval(_), DataType::Interval)
            | (Value::Uuid(_), DataType::Uuid)
            | (Value::Json(_), DataType::Json | DataType::Jsonb)
            | (Value::Array(_), DataType::Array(_))
    )
}

/// Appends one DataRow field (length word and bytes, or -1 for NULL) for `v` as `ty`.
///
/// A value whose runtime representation differs from the described type (the engine may
/// compute `bigint` where the description promised `integer`) is cast first, so the client
/// always receives the type RowDescription announced.
pub fn encode(buf: &mut BytesMut, v: &Value, ty: &DataType, format: WireFormat) -> Result<()> {
    if v.is_null() {
        buf.put_i32(-1);
        return Ok(());
    }
    // An untyped column (`SELECT 'a'`) is described as text.
    let ty = if *ty == DataType::Unknown {
        &DataType::Text
    } else {
        ty
    };
    let owned;
    let v = if conforms(v, ty) {
        v
    } else {
        owned = cast::cast(v, ty, CastMode::Explicit)?;
        &owned
    };
    let at = buf.len();
    buf.put_i32(0);
    match format {
        WireFormat::Text => buf.put_slice(v.to_string().as_bytes()),
        WireFormat::Binary => encode_binary(buf, v, ty)?,
    }
    let len = i32::try_from(buf.len() - at - 4)
        .map_err(|_| AuroraError::sql("54000", "out of memory: value too large to send"))?;
    buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

fn encode_binary(buf: &mut BytesMut, v: &Value, ty: &DataType) -> Result<()> {
    match v {
        Value::Null => {}
        Value::Bool(b) => buf.put_u8(u8::from(*b)),
        Value::Int2(i) => buf.put_i16(*i),
        Value::Int4(i) => buf.put_i32(*i),
        Value::Int8(i) => buf.put_i64(*i),
        Value::Float4(f) => buf.put_f32(*f),
        Value::Float8(f) => buf.put_f64(*f),
        Value::Numeric(d) => encode_numeric(buf, d),
        Value::Text(s) => buf.put_slice(s.as_bytes()),
        Value::Bytea(b) => buf.put_slice(b),
        Value::Date(d) => buf.put_i32(d.saturating_sub(PG_EPOCH_DAYS)),
        Value::Time(t) => buf.put_i64(*t),
        Value::Timestamp(t) | Value::TimestampTz(t) => {
            buf.put_i64(t.saturating_sub(PG_EPOCH_MICROS))
        }
        Value::Interval(i) => {
            buf.put_i64(i.micros);
            buf.put_i32(i.days);
            buf.put_i32(i.months);
        }
        Value::Uuid(u) => buf.put_u128(*u),
        Value::Json(j) => {
            if *ty != DataType::Json {
                // jsonb's binary format is a version byte, then the text.
                buf.put_u8(1);
            }
            buf.put_slice(crate::json::format_jsonb(j).as_bytes());
        }
        Value::Array(_) => encode_array(buf, v, ty)?,
    }
    Ok(())
}

fn element_type(ty: &DataType) -> DataType {
    match ty {
        DataType::Array(inner) => element_type(inner),
        other => other.clone(),
    }
}

fn encode_array(buf: &mut BytesMut, v: &Value, ty: &DataType) -> Result<()> {
    let elem = element_type(ty);
    // Dimensions: follow the first element down while it is an array.
    let mut dims = Vec::new();
    let mut probe = v;
    while let Value::Array(items) = probe {
        dims.push(items.len());
        match items.first() {
            Some(first @ Value::Array(_)) => probe = first,
            _ => break,
        }
    }
    let mut leaves = Vec::new();
    flatten(v, &dims, &mut leaves)?;
    let has_null = leaves.iter().any(|l| l.is_null());
    if leaves.is_empty() {
        buf.put_i32(0);
        buf.put_i32(0);
        buf.put_u32(type_oid(&elem));
        return Ok(());
    }
    buf.put_i32(dims.len() as i32);
    buf.put_i32(i32::from(has_null));
    buf.put_u32(type_oid(&elem));
    for d in &dims {
        buf.put_i32(*d as i32);
        buf.put_i32(1);
    }
    for leaf in leaves {
        encode(buf, leaf, &elem, WireFormat::Binary)?;
    }
    Ok(())
}

fn flatten<'v>(v: &'v Value, dims: &[usize], out: &mut Vec<&'v Value>) -> Result<()> {
    match (v, dims.split_first()) {
        (Value::Array(items), Some((n, rest))) => {
            if items.len() != *n {
                return Err(AuroraError::sql(
                    "2202E",
                    "multidimensional arrays must have array expressions with matching dimensions",
                ));
            }
            for item in items.iter() {
                flatten(item, rest, out)?;
            }
            Ok(())
        }
        (Value::Array(_), None) => Err(AuroraError::sql(
            "2202E",
            "multidimensional arrays must have array expressions with matching dimensions",
        )),
        (leaf, _) => {
            out.push(leaf);
            Ok(())
        }
    }
}

fn encode_numeric(buf: &mut BytesMut, d: &BigDecimal) {
    let (int, scale) = d.as_bigint_and_exponent();
    let negative = int.sign() == bigdecimal::num_bigint::Sign::Minus;
    let mut digits = int.magnitude().to_string();
    let mut scale = scale;
    if scale < 0 {
        digits.push_str(&"0".repeat(scale.unsigned_abs() as usize));
        scale = 0;
    }
    let scale = scale as usize;
    if digits.len() <= scale {
        digits = format!("{}{digits}", "0".repeat(scale - digits.len() + 1));
    }
    let (int_part, frac_part) = digits.split_at(digits.len() - scale);
    let int_pad = (4 - int_part.len() % 4) % 4;
    let int_part = format!("{}{int_part}", "0".repeat(int_pad));
    let frac_pad = (4 - frac_part.len() % 4) % 4;
    let frac_part = format!("{frac_part}{}", "0".repeat(frac_pad));
    let group = |s: &str| -> Vec<i16> {
        s.as_bytes()
            .chunks(4)
            .map(|c| c.iter().fold(0i16, |acc, b| acc * 10 + i16::from(b - b'0')))
            .collect()
    };
    let mut groups = group(&int_part);
    let int_groups = groups.len() as i64;
    groups.extend(group(&frac_part));
    let mut weight = int_groups - 1;
    let lead = groups.iter().take_while(|g| **g == 0).count();
    groups.drain(..lead);
    weight -= lead as i64;
    while groups.last() == Some(&0) {
        groups.pop();
    }
    if groups.is_empty() {
        weight = 0;
    }
    buf.put_i16(groups.len() as i16);
    buf.put_i16(weight as i16);
    buf.put_u16(if negative && !groups.is_empty() {
        0x4000
    } else {
        0
    });
    buf.put_u16(scale as u16);
    for g in groups {
        buf.put_i16(g);
    }
}

/// A cursor over a binary value that fails (never panics) when it runs short.
struct Reader<'a> {
    bytes: &'a [u8],
    type_name: &'a str,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.bytes.len() < n {
            return Err(bad_binary(self.type_name));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn i16(&mut self) -> Result<i16> {
        Ok(i16::from_be_bytes(self.array()?))
    }

    fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    fn end(&self) -> Result<()> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(bad_binary(self.type_name))
        }
    }
}

/// Decodes one Bind parameter of type `ty` (`Unknown` and text types stay text, so the engine
/// coerces it as it would an untyped literal).
pub fn decode(bytes: Option<&[u8]>, ty: &DataType, format: WireFormat) -> Result<Value> {
    let Some(bytes) = bytes else {
        return Ok(Value::Null);
    };
    match format {
        WireFormat::Text => {
            let s = std::str::from_utf8(bytes).map_err(|_| {
                AuroraError::sql("22021", "invalid byte sequence for encoding \"UTF8\"")
            })?;
            Ok(Value::text(s))
        }
        WireFormat::Binary => decode_binary(bytes, ty, 0),
    }
}

fn decode_binary(bytes: &[u8], ty: &DataType, depth: u32) -> Result<Value> {
    let name = ty.to_string();
    let mut r = Reader {
        bytes,
        type_name: &name,
    };
    let text = |b: &[u8]| -> Result<Arc<str>> {
        std::str::from_utf8(b)
            .map(Arc::from)
            .map_err(|_| AuroraError::sql("22021", "invalid byte sequence for encoding \"UTF8\""))
    };
    let v = match ty {
        DataType::Bool => match r.array::<1>()? {
            [0] => Value::Bool(false),
            [1] => Value::Bool(true),
            _ => return Err(bad_binary(&name)),
        },
        DataType::Int2 => Value::Int2(r.i16()?),
        DataType::Int4 => Value::Int4(r.i32()?),
        DataType::Int8 => Value::Int8(r.i64()?),
        DataType::Float4 => Value::Float4(f32::from_be_bytes(r.array()?)),
        DataType::Float8 => Value::Float8(f64::from_be_bytes(r.array()?)),
        DataType::Text | DataType::Varchar(_) | DataType::Char(_) | DataType::Unknown => {
            return Ok(Value::Text(text(bytes)?));
        }
        DataType::Bytea => return Ok(Value::Bytea(Arc::from(bytes))),
        DataType::Date => Value::Date(
            r.i32()?
                .checked_add(PG_EPOCH_DAYS)
                .ok_or_else(|| AuroraError::out_of_range("date"))?,
        ),
        DataType::Time => Value::Time(r.i64()?),
        DataType::Timestamp | DataType::TimestampTz => {
            let t = r
                .i64()?
                .checked_add(PG_EPOCH_MICROS)
                .ok_or_else(|| AuroraError::out_of_range("timestamp"))?;
            if *ty == DataType::Timestamp {
                Value::Timestamp(t)
            } else {
                Value::TimestampTz(t)
            }
        }
        DataType::Interval => {
            let micros = r.i64()?;
            let days = r.i32()?;
            let months = r.i32()?;
            Value::Interval(Interval {
                months,
                days,
                micros,
            })
        }
        DataType::Uuid => Value::Uuid(u128::from_be_bytes(r.array()?)),
        DataType::Json => {
            return cast::cast(&Value::Text(text(bytes)?), ty, CastMode::Explicit);
        }
        DataType::Jsonb => {
            if r.array::<1>()? != [1] {
                return Err(AuroraError::sql(
                    "22P03",
                    "unsupported jsonb version number",
                ));
            }
            return cast::cast(&Value::Text(text(r.bytes)?), ty, CastMode::Explicit);
        }
        DataType::Numeric(_) => decode_numeric(&mut r)?,
        DataType::Array(_) => decode_array(&mut r, ty, depth)?,
    };
    r.end()?;
    Ok(v)
}

fn decode_numeric(r: &mut Reader<'_>) -> Result<Value> {
    let ndigits = r.i16()?;
    let weight = i64::from(r.i16()?);
    let sign = r.i16()? as u16;
    let dscale = r.i16()?;
    if ndigits < 0 || dscale < 0 || !(-MAX_NUMERIC_GROUPS..=MAX_NUMERIC_GROUPS).contains(&weight) {
        return Err(bad_binary("numeric"));
    }
    match sign {
        0 | 0x4000 => {}
        0xC000 | 0xD000 | 0xF000 => {
            return Err(AuroraError::sql(
                "0A000",
                "NaN and infinite numeric values are not supported",
            ));
        }
        _ => {
            return Err(AuroraError::sql(
                "22P03",
                "invalid sign in external \"numeric\" value",
            ));
        }
    }
    let mut text = String::with_capacity(ndigits as usize * 4 + 8);
    let mut groups = Vec::with_capacity(ndigits as usize);
    for _ in 0..ndigits {
        let g = r.i16()?;
        if !(0..10_000).contains(&g) {
            return Err(AuroraError::sql(
                "22P03",
                "invalid digit in external \"numeric\" value",
            ));
        }
        groups.push(g);
    }
    if sign == 0x4000 {
        text.push('-');
    }
    // The value is sum(groups[i] * 10000^(weight - i)): write the integer groups, a point,
    // then the fraction groups, padding with zero groups on either side as the weight says.
    let int_groups = weight + 1;
    if int_groups <= 0 {
        text.push('0');
    } else {
        for i in 0..int_groups {
            let g = groups.get(i as usize).copied().unwrap_or(0);
            if i == 0 {
                text.push_str(&g.to_string());
            } else {
                text.push_str(&format!("{g:04}"));
            }
        }
    }
    text.push('.');
    let mut i = int_groups;
    while i < groups.len() as i64 {
        let g = if i < 0 { 0 } else { groups[i as usize] };
        text.push_str(&format!("{g:04}"));
        i += 1;
    }
    text.push('0');
    let d: BigDecimal = text.parse().map_err(|_| bad_binary("numeric"))?;
    Ok(Value::Numeric(d.with_scale(i64::from(dscale))))
}

fn decode_array(r: &mut Reader<'_>, ty: &DataType, depth: u32) -> Result<Value> {
    let ndim = r.i32()?;
    let _flags = r.i32()?;
    let elem_oid = r.array::<4>().map(u32::from_be_bytes)?;
    if !(0..=MAX_ARRAY_DIMS).contains(&ndim) || depth > 0 {
        return Err(AuroraError::sql(
            "22P03",
            format!("invalid number of dimensions: {ndim}"),
        ));
    }
    let elem = element_type(ty);
    if let Some(sent) = type_for_oid(elem_oid)
        && type_oid(&sent) != type_oid(&elem)
        && !matches!(elem, DataType::Unknown)
    {
        return Err(AuroraError::sql(
            "42804",
            format!("wrong element type: {elem_oid}"),
        ));
    }
    let elem = type_for_oid(elem_oid).unwrap_or(elem);
    let mut dims = Vec::with_capacity(ndim as usize);
    let mut total: usize = 1;
    for _ in 0..ndim {
        let n = r.i32()?;
        let _lower = r.i32()?;
        if n < 0 {
            return Err(bad_binary("array"));
        }
        total = total
            .checked_mul(n as usize)
            .filter(|t| *t <= r.bytes.len() / 4 + 1)
            .ok_or_else(|| bad_binary("array"))?;
        dims.push(n as usize);
    }
    if ndim == 0 {
        return Ok(Value::Array(Arc::new(Vec::new())));
    }
    let mut leaves = Vec::with_capacity(total);
    for _ in 0..total {
        let len = r.i32()?;
        if len < 0 {
            leaves.push(Value::Null);
        } else {
            let bytes = r.take(len as usize)?;
            leaves.push(decode_binary(bytes, &elem, depth + 1)?);
        }
    }
    Ok(nest(&mut leaves.into_iter(), &dims))
}

fn nest(leaves: &mut impl Iterator<Item = Value>, dims: &[usize]) -> Value {
    match dims.split_first() {
        Some((n, [])) => Value::Array(Arc::new(leaves.take(*n).collect())),
        Some((n, rest)) => Value::Array(Arc::new((0..*n).map(|_| nest(leaves, rest)).collect())),
        None => Value::Array(Arc::new(Vec::new())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn roundtrip(v: &Value, ty: &DataType) -> Value {
        let mut buf = BytesMut::new();
        encode(&mut buf, v, ty, WireFormat::Binary).unwrap();
        let len = i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
        if len < 0 {
            return Value::Null;
        }
        decode(Some(&buf[4..]), ty, WireFormat::Binary).unwrap()
    }

    #[test]
    fn numeric_binary_matches_postgresql() {
        // SELECT '12345.678'::numeric in binary: ndigits 3, weight 1, scale 3, 1 2345 6780.
        let mut buf = BytesMut::new();
        encode_numeric(&mut buf, &"12345.678".parse().unwrap());
        assert_eq!(
            &buf[..],
            &[0, 3, 0, 1, 0, 0, 0, 3, 0, 1, 0x09, 0x29, 0x1a, 0x7c]
        );
        for s in [
            "0",
            "-0.5",
            "100000000",
            "0.0001",
            "-123456789.987654321",
            "1e-20",
            "5e10",
        ] {
            let d: BigDecimal = s.parse().unwrap();
            let back = roundtrip(&Value::Numeric(d.clone()), &DataType::Numeric(None));
            assert_eq!(back.to_string(), Value::Numeric(d).to_string(), "{s}");
        }
    }

    #[test]
    fn dates_and_timestamps_use_the_2000_epoch() {
        let mut buf = BytesMut::new();
        encode(
            &mut buf,
            &Value::Date(PG_EPOCH_DAYS),
            &DataType::Date,
            WireFormat::Binary,
        )
        .unwrap();
        assert_eq!(&buf[..], &[0, 0, 0, 4, 0, 0, 0, 0]);
        let t = Value::TimestampTz(1_700_000_000_000_000);
        assert_eq!(
            roundtrip(&t, &DataType::TimestampTz).to_string(),
            t.to_string()
        );
    }

    #[test]
    fn arrays_round_trip_with_nulls_and_dimensions() {
        let ty = DataType::Array(Box::new(DataType::Int4));
        let v = Value::Array(Arc::new(vec![Value::Int4(1), Value::Null, Value::Int4(3)]));
        assert_eq!(roundtrip(&v, &ty).to_string(), "{1,NULL,3}");
        let m = Value::Array(Arc::new(vec![
            Value::Array(Arc::new(vec![Value::Int4(1), Value::Int4(2)])),
            Value::Array(Arc::new(vec![Value::Int4(3), Value::Int4(4)])),
        ]));
        let back = roundtrip(&m, &ty);
        assert_eq!(back.to_string(), m.to_string());
        let empty = Value::Array(Arc::new(vec![]));
        assert_eq!(roundtrip(&empty, &ty).to_string(), "{}");
    }

    #[test]
    fn values_are_cast_to_the_described_type() {
        let mut buf = BytesMut::new();
        encode(
            &mut buf,
            &Value::Int4(7),
            &DataType::Int8,
            WireFormat::Binary,
        )
        .unwrap();
        assert_eq!(&buf[..], &[0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 7]);
        let mut buf = BytesMut::new();
        encode(
            &mut buf,
            &Value::Bool(true),
            &DataType::Bool,
            WireFormat::Text,
        )
        .unwrap();
        assert_eq!(&buf[..], b"\0\0\0\x01t");
    }

    #[test]
    fn malformed_binary_is_a_typed_error() {
        let e = decode(Some(&[0, 1]), &DataType::Int4, WireFormat::Binary).unwrap_err();
        assert_eq!(e.sqlstate(), "22P03");
        assert!(decode(Some(&[2]), &DataType::Bool, WireFormat::Binary).is_err());
        assert!(format_at(&[0, 1], 2, 3, "parameter").is_err());
        assert!(WireFormat::from_code(7).is_err());
    }

    fn scalar() -> impl Strategy<Value = (Value, DataType)> {
        prop_oneof![
            any::<bool>().prop_map(|b| (Value::Bool(b), DataType::Bool)),
            any::<i16>().prop_map(|i| (Value::Int2(i), DataType::Int2)),
            any::<i32>().prop_map(|i| (Value::Int4(i), DataType::Int4)),
            any::<i64>().prop_map(|i| (Value::Int8(i), DataType::Int8)),
            (-1e15f64..1e15).prop_map(|f| (Value::Float8(f), DataType::Float8)),
            "[a-zA-Z0-9 ,{}\"]{0,12}".prop_map(|s| (Value::text(s), DataType::Text)),
            proptest::collection::vec(any::<u8>(), 0..16)
                .prop_map(|b| (Value::Bytea(Arc::from(b)), DataType::Bytea)),
            (-100_000i32..100_000).prop_map(|d| (Value::Date(d), DataType::Date)),
            (-4_000_000_000_000_000i64..4_000_000_000_000_000)
                .prop_map(|t| (Value::Timestamp(t), DataType::Timestamp)),
            any::<u128>().prop_map(|u| (Value::Uuid(u), DataType::Uuid)),
            (any::<i64>(), -30i64..30).prop_map(|(m, s)| (
                Value::Numeric(BigDecimal::new(m.into(), s)),
                DataType::Numeric(None)
            )),
        ]
    }

    proptest! {
        #[test]
        fn binary_encoding_round_trips((v, ty) in scalar()) {
            prop_assert_eq!(roundtrip(&v, &ty).to_string(), v.to_string());
        }

        #[test]
        fn arrays_round_trip(items in proptest::collection::vec(proptest::option::of(any::<i64>()), 0..8)) {
            let v = Value::Array(Arc::new(items.into_iter().map(|i| i.map_or(Value::Null, Value::Int8)).collect()));
            let ty = DataType::Array(Box::new(DataType::Int8));
            prop_assert_eq!(roundtrip(&v, &ty).to_string(), v.to_string());
        }

        #[test]
        fn decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64), oid in prop_oneof![Just(16u32), Just(20), Just(23), Just(1700), Just(1007), Just(1009), Just(3802), Just(1186), Just(2950), Just(1082), Just(1231)]) {
            if let Some(ty) = type_for_oid(oid) {
                let _ = decode(Some(&bytes), &ty, WireFormat::Binary);
                let _ = decode(Some(&bytes), &ty, WireFormat::Text);
            }
        }
    }
}
