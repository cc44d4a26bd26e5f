//! Memcomparable index keys: an encoding of value tuples whose byte order is the values' order.
//!
//! Guarantees: `encode(a) < encode(b)` implies `a <= b` (the order is monotone), and it is exact
//! (`encode(a) == encode(b)` iff `a == b`) for integers up to 2^53, text, bytea, booleans, dates, times,
//! timestamps and UUIDs; numbers of other kinds are encoded through `f64` and may collide, so
//! readers re-check predicates on fetched rows. An encoded tuple is a prefix of the encoding of
//! any longer tuple that starts with it, and no column encoding starts with `0xFF`, so
//! `prefix ++ [0xFF]` bounds every key with that prefix.

use bigdecimal::ToPrimitive;

use crate::value::Value;

fn push_f64(out: &mut Vec<u8>, f: f64) {
    let f = if f == 0.0 { 0.0 } else { f };
    let bits = if f.is_nan() {
        u64::MAX
    } else {
        let b = f.to_bits();
        if b >> 63 == 1 { !b } else { b | (1 << 63) }
    };
    out.extend_from_slice(&bits.to_be_bytes());
}

fn push_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(&((v as u64) ^ (1 << 63)).to_be_bytes());
}

fn push_bytes(out: &mut Vec<u8>, b: &[u8]) {
    for &c in b {
        out.push(c);
        if c == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0, 1]);
}

fn push_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Bool(b) => {
            out.push(1);
            out.push(*b as u8);
        }
        Value::Int2(_)
        | Value::Int4(_)
        | Value::Int8(_)
        | Value::Numeric(_)
        | Value::Float4(_)
        | Value::Float8(_) => {
            out.push(2);
            // Every number kind shares one f64 order, so equal numbers of different kinds
            // (an int4 probing a numeric index) meet; integers beyond 2^53 may collide.
            let f = match v {
                Value::Numeric(d) => d.to_f64().unwrap_or(f64::NAN),
                other => other.as_f64().unwrap_or(f64::NAN),
            };
            push_f64(out, f);
        }
        Value::Text(s) => {
            out.push(3);
            push_bytes(out, s.as_bytes());
        }
        Value::Bytea(b) => {
            out.push(4);
            push_bytes(out, b);
        }
        Value::Date(_) | Value::Timestamp(_) | Value::TimestampTz(_) => {
            out.push(5);
            let micros = match v {
                Value::Date(d) => *d as i64 * 86_400_000_000,
                Value::Timestamp(t) | Value::TimestampTz(t) => *t,
                _ => 0,
            };
            push_i64(out, micros);
        }
        Value::Time(t) => {
            out.push(6);
            push_i64(out, *t);
        }
        Value::Interval(i) => {
            out.push(7);
            push_i64(
                out,
                i.total_micros().clamp(i64::MIN as i128, i64::MAX as i128) as i64,
            );
        }
        Value::Uuid(u) => {
            out.push(8);
            out.extend_from_slice(&u.to_be_bytes());
        }
        Value::Json(j) => {
            out.push(9);
            push_bytes(out, j.to_string().as_bytes());
        }
        Value::Array(items) => {
            out.push(10);
            for i in items.iter() {
                out.push(1);
                push_value(out, i);
            }
            out.push(0);
        }
        Value::Null => out.push(11),
    }
}

/// The encoded size of a value, exact for the fixed-size kinds and for text and bytea without
/// zero bytes, so the key buffer is allocated once at its final size (an index key is boxed
/// right after, which would otherwise shrink it with a reallocation).
fn size_hint(v: &Value) -> usize {
    match v {
        Value::Null => 1,
        Value::Bool(_) => 2,
        Value::Int2(_)
        | Value::Int4(_)
        | Value::Int8(_)
        | Value::Numeric(_)
        | Value::Float4(_)
        | Value::Float8(_)
        | Value::Date(_)
        | Value::Timestamp(_)
        | Value::TimestampTz(_)
        | Value::Time(_)
        | Value::Interval(_) => 9,
        Value::Uuid(_) => 17,
        Value::Text(s) => s.len() + 3,
        Value::Bytea(b) => b.len() + 3,
        _ => 16,
    }
}

/// Encodes a key tuple.
pub fn encode(key: &[Value]) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.iter().map(size_hint).sum());
    for v in key {
        push_value(&mut out, v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_order_follows_value_order() {
        let vals = [
            Value::Bool(false),
            Value::Int4(-5),
            Value::Int8(0),
            Value::Numeric("0.5".parse().unwrap_or_default()),
            Value::Int2(1),
            Value::Float8(1e10),
            Value::text(""),
            Value::text("a"),
            Value::text("a\0"),
            Value::text("ab"),
            Value::Date(3),
            Value::Null,
        ];
        for w in vals.windows(2) {
            assert!(encode(&w[..1]) < encode(&w[1..]), "{:?} < {:?}", w[0], w[1]);
        }
        assert_eq!(
            encode(&[Value::Int4(7)]),
            encode(&[Value::Numeric(7.into())])
        );
        let two = encode(&[Value::Int4(1), Value::text("x")]);
        assert!(two.starts_with(&encode(&[Value::Int4(1)])));
    }
}
