//! Gremlin values: what traversers carry, properties hold and GraphSON writes.
//!
//! Two notions of sameness exist, as in TinkerPop: [`Value`]'s `Eq`/`Hash` is Java's `equals`
//! (type-sensitive: `1` and `1L` are different map keys and `dedup()` keeps both), while
//! [`Value::gremlin_eq`] and [`Value::compare`] are the predicate semantics (`P.eq(1)` matches
//! `1L` and `1.0d`; incomparable types simply do not match). [`Value::order`] is the total
//! orderability `order()` uses across types.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use indexmap::{IndexMap, IndexSet};

/// An insertion-ordered map value (`g:Map`).
pub type Map = IndexMap<Value, Value>;

/// The enum tokens traversals can return as values (`T.id`, `T.label`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Token {
    /// `T.id`.
    Id,
    /// `T.label`.
    Label,
    /// `T.key`.
    Key,
    /// `T.value`.
    Value,
    /// `Direction.IN` (an `elementMap()` key).
    In,
    /// `Direction.OUT` (an `elementMap()` key).
    Out,
}

impl Token {
    /// The token's name as GraphSON writes it.
    pub fn name(self) -> &'static str {
        match self {
            Token::Id => "id",
            Token::Label => "label",
            Token::Key => "key",
            Token::Value => "value",
            Token::In => "IN",
            Token::Out => "OUT",
        }
    }
}

/// A vertex property as a value: its owner, key, id and value.
#[derive(Debug, Clone, PartialEq)]
pub struct VertexPropertyValue {
    /// The owning vertex (internal index).
    pub vertex: u32,
    /// The property key.
    pub key: Arc<str>,
    /// The property's id.
    pub id: u64,
    /// The value.
    pub value: Value,
}

/// An edge (or meta-) property as a value.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyValue {
    /// The owning edge (internal index), if it is an edge property.
    pub edge: Option<u32>,
    /// The key.
    pub key: Arc<str>,
    /// The value.
    pub value: Value,
}

/// A traverser's history: the objects it passed and the step labels on each.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PathValue {
    /// Objects, oldest first.
    pub objects: Vec<Value>,
    /// The `as()` labels of each object.
    pub labels: Vec<Vec<Arc<str>>>,
}

/// A Gremlin value.
#[derive(Debug, Clone)]
pub enum Value {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// `g:Int32`.
    Int(i32),
    /// `g:Int64`.
    Long(i64),
    /// `g:Float`.
    Float(f32),
    /// `g:Double`.
    Double(f64),
    /// A string.
    Str(Arc<str>),
    /// `g:Date`: milliseconds since the Unix epoch.
    Date(i64),
    /// `g:List`.
    List(Arc<Vec<Value>>),
    /// `g:Set`, insertion-ordered.
    Set(Arc<IndexSet<Value>>),
    /// `g:Map`, insertion-ordered.
    Map(Arc<Map>),
    /// A vertex (internal index into the graph the query runs on).
    Vertex(u32),
    /// An edge (internal index).
    Edge(u32),
    /// A vertex property.
    VertexProperty(Arc<VertexPropertyValue>),
    /// An edge or meta property.
    Property(Arc<PropertyValue>),
    /// A path.
    Path(Arc<PathValue>),
    /// An enum token such as `T.id`.
    Token(Token),
}

impl Value {
    /// A string value.
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    /// A list value.
    pub fn list(v: Vec<Value>) -> Value {
        Value::List(Arc::new(v))
    }

    /// A map value.
    pub fn map(m: Map) -> Value {
        Value::Map(Arc::new(m))
    }

    /// Whether this is a number.
    pub fn is_number(&self) -> bool {
        matches!(
            self,
            Value::Int(_) | Value::Long(_) | Value::Float(_) | Value::Double(_)
        )
    }

    /// The string inside a string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The number as an `f64`.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Int(i) => Some(f64::from(i)),
            Value::Long(l) => Some(l as f64),
            Value::Float(f) => Some(f64::from(f)),
            Value::Double(d) => Some(d),
            _ => None,
        }
    }

    /// The number as an `i64`, if it is an integer type.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int(i) => Some(i64::from(i)),
            Value::Long(l) => Some(l),
            _ => None,
        }
    }

    /// The items of a list or set, or `None` for anything else.
    pub fn as_items(&self) -> Option<Vec<Value>> {
        match self {
            Value::List(l) => Some(l.as_ref().clone()),
            Value::Set(s) => Some(s.iter().cloned().collect()),
            _ => None,
        }
    }

    /// The name of the value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "Boolean",
            Value::Int(_) => "Integer",
            Value::Long(_) => "Long",
            Value::Float(_) => "Float",
            Value::Double(_) => "Double",
            Value::Str(_) => "String",
            Value::Date(_) => "Date",
            Value::List(_) => "List",
            Value::Set(_) => "Set",
            Value::Map(_) => "Map",
            Value::Vertex(_) => "Vertex",
            Value::Edge(_) => "Edge",
            Value::VertexProperty(_) => "VertexProperty",
            Value::Property(_) => "Property",
            Value::Path(_) => "Path",
            Value::Token(_) => "T",
        }
    }

    /// Predicate equality: numbers by value across types, everything else by `equals`.
    pub fn gremlin_eq(&self, other: &Value) -> bool {
        if self.is_number() && other.is_number() {
            return num_cmp(self, other) == Some(Ordering::Equal);
        }
        match (self, other) {
            (Value::List(a), Value::List(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.gremlin_eq(y))
            }
            _ => self == other,
        }
    }

    /// Predicate comparison: numbers by value, strings, dates and booleans among their own
    /// kind; `None` when the two are not comparable (the predicate is then false).
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        if self.is_number() && other.is_number() {
            return num_cmp(self, other);
        }
        match (self, other) {
            (Value::Str(a), Value::Str(b)) => Some(a.cmp(b)),
            (Value::Date(a), Value::Date(b)) => Some(a.cmp(b)),
            (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    fn type_rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int(_) | Value::Long(_) | Value::Float(_) | Value::Double(_) => 2,
            Value::Date(_) => 3,
            Value::Str(_) => 4,
            Value::Token(_) => 5,
            Value::Vertex(_) => 6,
            Value::Edge(_) => 7,
            Value::VertexProperty(_) => 8,
            Value::Property(_) => 9,
            Value::Path(_) => 10,
            Value::Set(_) => 11,
            Value::List(_) => 12,
            Value::Map(_) => 13,
        }
    }

    /// TinkerPop's total orderability across types (used by `order()`).
    pub fn order(&self, other: &Value) -> Ordering {
        let (ra, rb) = (self.type_rank(), other.type_rank());
        if ra != rb {
            return ra.cmp(&rb);
        }
        match (self, other) {
            (Value::Null, Value::Null) => Ordering::Equal,
            (a, b) if a.is_number() => match num_cmp(a, b) {
                Some(o) => o,
                // NaN sorts after every other number.
                None => a
                    .as_f64()
                    .map(f64::is_nan)
                    .cmp(&b.as_f64().map(f64::is_nan)),
            },
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::Date(a), Value::Date(b)) => a.cmp(b),
            (Value::Str(a), Value::Str(b)) => a.cmp(b),
            (Value::Token(a), Value::Token(b)) => a.cmp(b),
            (Value::Vertex(a), Value::Vertex(b)) | (Value::Edge(a), Value::Edge(b)) => a.cmp(b),
            (Value::VertexProperty(a), Value::VertexProperty(b)) => {
                a.id.cmp(&b.id).then_with(|| a.value.order(&b.value))
            }
            (Value::Property(a), Value::Property(b)) => {
                a.key.cmp(&b.key).then_with(|| a.value.order(&b.value))
            }
            (Value::Path(a), Value::Path(b)) => seq_order(&a.objects, &b.objects),
            (Value::List(a), Value::List(b)) => seq_order(a, b),
            (Value::Set(a), Value::Set(b)) => {
                let (x, y): (Vec<Value>, Vec<Value>) =
                    (a.iter().cloned().collect(), b.iter().cloned().collect());
                seq_order(&x, &y)
            }
            (Value::Map(a), Value::Map(b)) => {
                let x: Vec<Value> = a.iter().flat_map(|(k, v)| [k.clone(), v.clone()]).collect();
                let y: Vec<Value> = b.iter().flat_map(|(k, v)| [k.clone(), v.clone()]).collect();
                seq_order(&x, &y)
            }
            _ => Ordering::Equal,
        }
    }
}

fn seq_order(a: &[Value], b: &[Value]) -> Ordering {
    for (x, y) in a.iter().zip(b.iter()) {
        let o = x.order(y);
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// Compares two numbers by value; `None` if either is not a number or is NaN.
pub fn num_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

/// The rank of a number type for promotion: Int < Long < Float < Double.
fn num_rank(v: &Value) -> u8 {
    match v {
        Value::Int(_) => 0,
        Value::Long(_) => 1,
        Value::Float(_) => 2,
        _ => 3,
    }
}

/// An arithmetic operator on numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arith {
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
}

/// Applies `op` with TinkerPop's `NumberHelper` promotion: the wider type wins; integer
/// overflow widens Int to Long; integer division by zero is an error (`None`).
pub fn arith(op: Arith, a: &Value, b: &Value) -> Option<Value> {
    if !a.is_number() || !b.is_number() {
        return None;
    }
    let rank = num_rank(a).max(num_rank(b));
    if rank <= 1 {
        let (x, y) = (a.as_i64()?, b.as_i64()?);
        let r = match op {
            Arith::Add => x.checked_add(y)?,
            Arith::Sub => x.checked_sub(y)?,
            Arith::Mul => x.checked_mul(y)?,
            Arith::Div => x.checked_div(y)?,
        };
        if rank == 0
            && let Ok(i) = i32::try_from(r)
        {
            return Some(Value::Int(i));
        }
        return Some(Value::Long(r));
    }
    let (x, y) = (a.as_f64()?, b.as_f64()?);
    let r = match op {
        Arith::Add => x + y,
        Arith::Sub => x - y,
        Arith::Mul => x * y,
        Arith::Div => x / y,
    };
    Some(if rank == 2 {
        Value::Float(r as f32)
    } else {
        Value::Double(r)
    })
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Long(a), Value::Long(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits() || a == b,
            (Value::Double(a), Value::Double(b)) => a.to_bits() == b.to_bits() || a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Date(a), Value::Date(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Set(a), Value::Set(b)) => a.len() == b.len() && a.iter().all(|x| b.contains(x)),
            (Value::Map(a), Value::Map(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k) == Some(v))
            }
            (Value::Vertex(a), Value::Vertex(b)) | (Value::Edge(a), Value::Edge(b)) => a == b,
            (Value::VertexProperty(a), Value::VertexProperty(b)) => {
                a.vertex == b.vertex && a.id == b.id && a.key == b.key
            }
            (Value::Property(a), Value::Property(b)) => a == b,
            (Value::Path(a), Value::Path(b)) => a.objects == b.objects,
            (Value::Token(a), Value::Token(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Value {}

/// The tag [`Value`]'s `Hash` writes first for a string; [`StrKey`] writes the same, so the two
/// hash alike.
pub(crate) const STR_TAG: u8 = 6;

impl Value {
    /// A small tag per variant, hashed before the contents.
    fn hash_tag(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int(_) => 2,
            Value::Long(_) => 3,
            Value::Float(_) => 4,
            Value::Double(_) => 5,
            Value::Str(_) => STR_TAG,
            Value::Date(_) => 7,
            Value::List(_) => 8,
            Value::Set(_) => 9,
            Value::Map(_) => 10,
            Value::Vertex(_) => 11,
            Value::Edge(_) => 12,
            Value::VertexProperty(_) => 13,
            Value::Property(_) => 14,
            Value::Path(_) => 15,
            Value::Token(_) => 16,
        }
    }
}

/// A borrowed string that hashes and compares like `Value::Str`: hash maps keyed by [`Value`]
/// can be probed with it without allocating (the bulk loader's id lookups).
#[derive(Debug, Clone, Copy)]
pub struct StrKey<'a>(pub &'a str);

impl Hash for StrKey<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u8(STR_TAG);
        self.0.hash(state);
    }
}

impl hashbrown::Equivalent<Value> for StrKey<'_> {
    fn equivalent(&self, key: &Value) -> bool {
        matches!(key, Value::Str(s) if **s == *self.0)
    }
}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u8(self.hash_tag());
        match self {
            Value::Null => {}
            Value::Bool(b) => b.hash(state),
            Value::Int(i) => i.hash(state),
            Value::Long(l) => l.hash(state),
            // -0.0 and 0.0 are equal, so they must hash alike.
            Value::Float(f) => (if *f == 0.0 { 0 } else { f.to_bits() }).hash(state),
            Value::Double(d) => (if *d == 0.0 { 0 } else { d.to_bits() }).hash(state),
            Value::Str(s) => s.hash(state),
            Value::Date(d) => d.hash(state),
            Value::List(l) => l.hash(state),
            // Sets and maps hash order-independently, matching their equality.
            Value::Set(s) => unordered_hash(s.iter().map(hash_one), state),
            Value::Map(m) => unordered_hash(
                m.iter()
                    .map(|(k, v)| hash_one(k) ^ hash_one(v).rotate_left(17)),
                state,
            ),
            Value::Vertex(v) | Value::Edge(v) => v.hash(state),
            Value::VertexProperty(p) => {
                p.vertex.hash(state);
                p.id.hash(state);
            }
            Value::Property(p) => {
                p.key.hash(state);
                p.value.hash(state);
            }
            Value::Path(p) => p.objects.hash(state),
            Value::Token(t) => t.hash(state),
        }
    }
}

fn hash_one(v: &Value) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

fn unordered_hash<H: Hasher>(items: impl Iterator<Item = u64>, state: &mut H) {
    let (mut sum, mut n) = (0u64, 0u64);
    for h in items {
        sum = sum.wrapping_add(h);
        n += 1;
    }
    sum.hash(state);
    n.hash(state);
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::str(s)
    }
}

impl From<i64> for Value {
    fn from(l: i64) -> Self {
        Value::Long(l)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(d: f64) -> Self {
        Value::Double(d)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_is_typed_but_predicates_are_numeric() {
        assert_ne!(Value::Int(1), Value::Long(1));
        assert!(Value::Int(1).gremlin_eq(&Value::Double(1.0)));
        assert_eq!(Value::Int(2).compare(&Value::Long(3)), Some(Ordering::Less));
        assert_eq!(Value::str("a").compare(&Value::Int(3)), None);
    }

    #[test]
    fn arithmetic_promotes() {
        assert_eq!(
            arith(Arith::Add, &Value::Int(1), &Value::Int(2)),
            Some(Value::Int(3))
        );
        assert_eq!(
            arith(Arith::Add, &Value::Int(i32::MAX), &Value::Int(1)),
            Some(Value::Long(i64::from(i32::MAX) + 1))
        );
        assert_eq!(
            arith(Arith::Mul, &Value::Int(2), &Value::Double(1.5)),
            Some(Value::Double(3.0))
        );
        assert_eq!(arith(Arith::Div, &Value::Int(2), &Value::Int(0)), None);
    }

    #[test]
    fn order_is_total_across_types() {
        let mut v = vec![
            Value::str("b"),
            Value::Int(3),
            Value::Null,
            Value::Double(1.5),
            Value::Bool(true),
        ];
        v.sort_by(|a, b| a.order(b));
        assert_eq!(
            v,
            vec![
                Value::Null,
                Value::Bool(true),
                Value::Double(1.5),
                Value::Int(3),
                Value::str("b")
            ]
        );
    }
}
