//! Attribute values: the ten DynamoDB types, their JSON wire form, validation and size.
//!
//! [`AttributeValue`] serializes to and from DynamoDB's JSON (`{"S":"x"}`, `{"N":"1.5"}`,
//! `{"B":"<base64>"}`, `{"SS":[…]}`, `{"M":{…}}`, `{"NULL":true}` …). Deserialization enforces
//! what DynamoDB rejects while reading a request (more than one type, no type, bad numbers); the
//! remaining rules (empty sets, duplicates, `NULL: false`, nesting depth) are checked by
//! [`validate`], which the engine runs on every value it stores or compares. Sizes follow
//! DynamoDB's documented accounting ([`item_size`]).

use std::collections::HashMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::number::Number;

/// An item: attribute names to values.
pub type Item = HashMap<String, AttributeValue>;

/// The most levels of nesting DynamoDB allows in a document.
pub const MAX_DEPTH: usize = 32;
/// The largest item, in bytes.
pub const MAX_ITEM_SIZE: usize = 400 * 1024;

/// A marker that lets the wire layer tell a validation failure found while deserializing from a
/// malformed-JSON failure (`SerializationException`).
pub(crate) const VALIDATION_MARK: &str = "\u{1}VALIDATION\u{1}";

/// One DynamoDB attribute value.
#[derive(Clone, Debug)]
pub enum AttributeValue {
    /// A string.
    S(String),
    /// A number.
    N(Number),
    /// Binary.
    B(Vec<u8>),
    /// A string set.
    Ss(Vec<String>),
    /// A number set.
    Ns(Vec<Number>),
    /// A binary set.
    Bs(Vec<Vec<u8>>),
    /// A map.
    M(Item),
    /// A list.
    L(Vec<AttributeValue>),
    /// Null (always `true` when valid).
    Null(bool),
    /// A boolean.
    Bool(bool),
}

/// The type of a value, as DynamoDB names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// String.
    S,
    /// Number.
    N,
    /// Binary.
    B,
    /// String set.
    Ss,
    /// Number set.
    Ns,
    /// Binary set.
    Bs,
    /// Map.
    M,
    /// List.
    L,
    /// Null.
    Null,
    /// Boolean.
    Bool,
}

impl ValueType {
    /// DynamoDB's short name (`S`, `NS`, `NULL`, `BOOL` …).
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::S => "S",
            ValueType::N => "N",
            ValueType::B => "B",
            ValueType::Ss => "SS",
            ValueType::Ns => "NS",
            ValueType::Bs => "BS",
            ValueType::M => "M",
            ValueType::L => "L",
            ValueType::Null => "NULL",
            ValueType::Bool => "BOOL",
        }
    }

    /// Parses a short name.
    pub fn parse(s: &str) -> Option<ValueType> {
        Some(match s {
            "S" => ValueType::S,
            "N" => ValueType::N,
            "B" => ValueType::B,
            "SS" => ValueType::Ss,
            "NS" => ValueType::Ns,
            "BS" => ValueType::Bs,
            "M" => ValueType::M,
            "L" => ValueType::L,
            "NULL" => ValueType::Null,
            "BOOL" => ValueType::Bool,
            _ => return None,
        })
    }

    /// The long name update-expression errors use (`STRING`, `NUMBER` …).
    pub fn long_name(self) -> &'static str {
        match self {
            ValueType::S => "STRING",
            ValueType::N => "NUMBER",
            ValueType::B => "BINARY",
            ValueType::Ss => "STRING SET",
            ValueType::Ns => "NUMBER SET",
            ValueType::Bs => "BINARY SET",
            ValueType::M => "MAP",
            ValueType::L => "LIST",
            ValueType::Null => "NULL",
            ValueType::Bool => "BOOLEAN",
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AttributeValue {
    /// A string value.
    pub fn s(v: impl Into<String>) -> Self {
        AttributeValue::S(v.into())
    }

    /// A number value from its text; panics are impossible, bad text is an error.
    pub fn n(v: &str) -> Result<Self, crate::number::NumberError> {
        Ok(AttributeValue::N(v.parse()?))
    }

    /// A number value from an integer.
    pub fn int(v: i64) -> Self {
        AttributeValue::N(Number::from_i64(v))
    }

    /// The value's type.
    pub fn value_type(&self) -> ValueType {
        match self {
            AttributeValue::S(_) => ValueType::S,
            AttributeValue::N(_) => ValueType::N,
            AttributeValue::B(_) => ValueType::B,
            AttributeValue::Ss(_) => ValueType::Ss,
            AttributeValue::Ns(_) => ValueType::Ns,
            AttributeValue::Bs(_) => ValueType::Bs,
            AttributeValue::M(_) => ValueType::M,
            AttributeValue::L(_) => ValueType::L,
            AttributeValue::Null(_) => ValueType::Null,
            AttributeValue::Bool(_) => ValueType::Bool,
        }
    }

    /// The string, if this is `S`.
    pub fn as_s(&self) -> Option<&str> {
        match self {
            AttributeValue::S(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is `N`.
    pub fn as_n(&self) -> Option<&Number> {
        match self {
            AttributeValue::N(n) => Some(n),
            _ => None,
        }
    }

    /// A short rendering for error messages, as DynamoDB prints values (`{S:abc}`).
    pub fn describe(&self) -> String {
        match self {
            AttributeValue::S(s) => format!("{{S:{s}}}"),
            AttributeValue::N(n) => format!("{{N:{n}}}"),
            AttributeValue::B(b) => format!("{{B:{}}}", B64.encode(b)),
            AttributeValue::Bool(b) => format!("{{BOOL:{b}}}"),
            AttributeValue::Null(_) => "{NULL:true}".to_owned(),
            other => format!("{{{}:…}}", other.value_type()),
        }
    }
}

fn set_eq<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

impl PartialEq for AttributeValue {
    /// Equality as DynamoDB's `=` sees it: sets compare without regard to order.
    fn eq(&self, other: &Self) -> bool {
        use AttributeValue::*;
        match (self, other) {
            (S(a), S(b)) => a == b,
            (N(a), N(b)) => a == b,
            (B(a), B(b)) => a == b,
            (Ss(a), Ss(b)) => set_eq(a, b),
            (Ns(a), Ns(b)) => set_eq(a, b),
            (Bs(a), Bs(b)) => set_eq(a, b),
            (M(a), M(b)) => a == b,
            (L(a), L(b)) => a == b,
            (Null(a), Null(b)) => a == b,
            (Bool(a), Bool(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for AttributeValue {}

// ---------------------------------------------------------------------------------------------
// Validation and size

/// Checks the rules DynamoDB applies to every value: non-empty sets without duplicates,
/// `NULL: true`, nesting at most [`MAX_DEPTH`] levels. The error text is DynamoDB's.
pub fn validate(v: &AttributeValue) -> Result<(), String> {
    validate_depth(v, 1)
}

fn validate_depth(v: &AttributeValue, depth: usize) -> Result<(), String> {
    const P: &str = "One or more parameter values were invalid: ";
    match v {
        AttributeValue::Ss(s) => {
            if s.is_empty() {
                return Err(format!("{P}An string set  may not be empty"));
            }
            if has_dups(s) {
                return Err(format!(
                    "{P}Input collection [{}] contains duplicates.",
                    s.join(", ")
                ));
            }
        }
        AttributeValue::Ns(s) => {
            if s.is_empty() {
                return Err(format!("{P}An number set  may not be empty"));
            }
            if has_dups(s) {
                let shown: Vec<String> = s.iter().map(Number::to_string).collect();
                return Err(format!(
                    "{P}Input collection [{}] contains duplicates.",
                    shown.join(", ")
                ));
            }
        }
        AttributeValue::Bs(s) => {
            if s.is_empty() {
                return Err(format!("{P}Binary sets should not be empty"));
            }
            if has_dups(s) {
                return Err(format!("{P}Input collection contains duplicates"));
            }
        }
        AttributeValue::Null(false) => {
            return Err(format!(
                "{P}Null attribute value types must have the value of true"
            ));
        }
        AttributeValue::M(m) => {
            if depth >= MAX_DEPTH {
                return Err("Nesting Levels have exceeded supported limits".to_owned());
            }
            for v in m.values() {
                validate_depth(v, depth + 1)?;
            }
        }
        AttributeValue::L(l) => {
            if depth >= MAX_DEPTH {
                return Err("Nesting Levels have exceeded supported limits".to_owned());
            }
            for v in l {
                validate_depth(v, depth + 1)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn has_dups<T: PartialEq>(s: &[T]) -> bool {
    // Sets are small in practice; a quadratic check avoids requiring Hash/Ord of every type.
    if s.len() > 64 {
        for (i, a) in s.iter().enumerate() {
            if s[i + 1..].contains(a) {
                return true;
            }
        }
        return false;
    }
    s.iter().enumerate().any(|(i, a)| s[..i].contains(a))
}

fn number_size(n: &Number) -> usize {
    if n.is_zero() {
        return 1;
    }
    // DynamoDB stores numbers as base-100 digits plus an exponent byte (and a sign byte when
    // negative); how the digits pair up depends on the decimal point's position.
    let digits = n.digits() as usize;
    let aligned_extra =
        usize::from(digits.is_multiple_of(2) && n.adjusted_exponent().rem_euclid(2) == 0);
    1 + digits.div_ceil(2) + aligned_extra + usize::from(n.is_negative())
}

/// The size of one value, in bytes, as DynamoDB accounts it.
pub fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.len(),
        AttributeValue::Ss(s) => s.iter().map(String::len).sum(),
        AttributeValue::Ns(s) => s.iter().map(number_size).sum(),
        AttributeValue::Bs(s) => s.iter().map(Vec::len).sum(),
        AttributeValue::Null(_) | AttributeValue::Bool(_) => 1,
        AttributeValue::L(l) => 3 + l.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, v)| 1 + k.len() + value_size(v))
                .sum::<usize>()
        }
    }
}

/// The size of an item: attribute name lengths plus value sizes.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

// ---------------------------------------------------------------------------------------------
// JSON

impl Serialize for AttributeValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        match self {
            AttributeValue::S(v) => m.serialize_entry("S", v)?,
            AttributeValue::N(v) => m.serialize_entry("N", &v.to_string())?,
            AttributeValue::B(v) => m.serialize_entry("B", &B64.encode(v))?,
            AttributeValue::Ss(v) => m.serialize_entry("SS", v)?,
            AttributeValue::Ns(v) => {
                m.serialize_entry("NS", &v.iter().map(Number::to_string).collect::<Vec<_>>())?
            }
            AttributeValue::Bs(v) => {
                m.serialize_entry("BS", &v.iter().map(|b| B64.encode(b)).collect::<Vec<_>>())?
            }
            AttributeValue::M(v) => m.serialize_entry("M", v)?,
            AttributeValue::L(v) => m.serialize_entry("L", v)?,
            AttributeValue::Null(v) => m.serialize_entry("NULL", v)?,
            AttributeValue::Bool(v) => m.serialize_entry("BOOL", v)?,
        }
        m.end()
    }
}

fn validation_err<E: de::Error>(msg: impl fmt::Display) -> E {
    E::custom(format_args!("{VALIDATION_MARK}{msg}{VALIDATION_MARK}"))
}

fn parse_number<E: de::Error>(s: &str) -> Result<Number, E> {
    s.parse::<Number>().map_err(validation_err)
}

fn decode_b64<E: de::Error>(s: &str) -> Result<Vec<u8>, E> {
    B64.decode(s)
        .map_err(|_| E::custom("only base-64-encoded strings are convertible to bytes"))
}

struct AvVisitor;

impl<'de> Visitor<'de> for AvVisitor {
    type Value = AttributeValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an AttributeValue object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AttributeValue, A::Error> {
        let mut out: Option<AttributeValue> = None;
        let mut many = false;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let v = match key.as_ref() {
                "S" => Some(AttributeValue::S(map.next_value()?)),
                "N" => {
                    let s: std::borrow::Cow<'de, str> = map.next_value()?;
                    Some(AttributeValue::N(parse_number(&s)?))
                }
                "B" => {
                    let s: std::borrow::Cow<'de, str> = map.next_value()?;
                    Some(AttributeValue::B(decode_b64(&s)?))
                }
                "SS" => Some(AttributeValue::Ss(map.next_value()?)),
                "NS" => {
                    let v: Vec<std::borrow::Cow<'de, str>> = map.next_value()?;
                    Some(AttributeValue::Ns(
                        v.iter()
                            .map(|s| parse_number(s))
                            .collect::<Result<_, _>>()?,
                    ))
                }
                "BS" => {
                    let v: Vec<std::borrow::Cow<'de, str>> = map.next_value()?;
                    Some(AttributeValue::Bs(
                        v.iter().map(|s| decode_b64(s)).collect::<Result<_, _>>()?,
                    ))
                }
                "M" => Some(AttributeValue::M(map.next_value()?)),
                "L" => Some(AttributeValue::L(map.next_value()?)),
                "NULL" => Some(AttributeValue::Null(map.next_value()?)),
                "BOOL" => Some(AttributeValue::Bool(map.next_value()?)),
                _ => {
                    // Unknown members are ignored, as the service's deserializer does.
                    map.next_value::<de::IgnoredAny>()?;
                    None
                }
            };
            if let Some(v) = v {
                if out.is_some() {
                    many = true;
                }
                out = Some(v);
            }
        }
        if many {
            return Err(validation_err(
                "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
            ));
        }
        out.ok_or_else(|| validation_err("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"))
    }
}

impl<'de> Deserialize<'de> for AttributeValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(AvVisitor)
    }
}

/// If a deserialization error message carries a validation failure, its DynamoDB text.
pub(crate) fn validation_message(err: &str) -> Option<String> {
    let start = err.find(VALIDATION_MARK)? + VALIDATION_MARK.len();
    let len = err[start..].find(VALIDATION_MARK)?;
    Some(err[start..start + len].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn av(json: &str) -> Result<AttributeValue, String> {
        serde_json::from_str(json)
            .map_err(|e| validation_message(&e.to_string()).unwrap_or_else(|| e.to_string()))
    }

    #[test]
    fn json_round_trips() {
        for j in [
            r#"{"S":"x"}"#,
            r#"{"N":"1.5"}"#,
            r#"{"B":"AAE="}"#,
            r#"{"SS":["a","b"]}"#,
            r#"{"NS":["1","2"]}"#,
            r#"{"BS":["AA=="]}"#,
            r#"{"M":{"a":{"BOOL":true}}}"#,
            r#"{"L":[{"NULL":true},{"S":"y"}]}"#,
        ] {
            let v = av(j).unwrap();
            assert_eq!(serde_json::to_string(&v).unwrap(), j);
        }
    }

    #[test]
    fn rejects_like_dynamodb() {
        assert_eq!(
            av(r#"{"S":"a","N":"1"}"#).unwrap_err(),
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
        );
        assert_eq!(
            av("{}").unwrap_err(),
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        );
        assert_eq!(
            av(r#"{"N":"x"}"#).unwrap_err(),
            "The parameter cannot be converted to a numeric value: x"
        );
        assert_eq!(
            validate(&av(r#"{"SS":[]}"#).unwrap()).unwrap_err(),
            "One or more parameter values were invalid: An string set  may not be empty"
        );
        assert!(
            validate(&av(r#"{"SS":["a","a"]}"#).unwrap())
                .unwrap_err()
                .contains("contains duplicates")
        );
        assert!(validate(&AttributeValue::Null(false)).is_err());
        let mut deep = AttributeValue::S("x".into());
        for _ in 0..40 {
            deep = AttributeValue::L(vec![deep]);
        }
        assert!(validate(&deep).is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(value_size(&AttributeValue::s("abc")), 3);
        assert_eq!(value_size(&AttributeValue::int(0)), 1);
        assert_eq!(value_size(&AttributeValue::int(1)), 2);
        assert_eq!(value_size(&AttributeValue::int(-1)), 3);
        let mut item = Item::new();
        item.insert("id".into(), AttributeValue::s("abc"));
        assert_eq!(item_size(&item), 5);
    }
}
