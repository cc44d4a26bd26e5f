//! Primary keys and index keys: extraction from items, validation, and the ordered form the
//! storage maps are keyed by.
//!
//! A stored key is `(hash of the partition key, partition key, sort key)`. Ordering by the hash
//! first reproduces what applications see on AWS — a Scan returns partitions in no useful order,
//! and parallel-scan segments are contiguous hash ranges — while one partition's items stay
//! contiguous and sorted by sort key, which is what Query needs. The hash is FNV-1a over the
//! key's canonical bytes: deterministic across runs and processes.

use crate::error::Error;
use crate::number::Number;
use crate::value::{AttributeValue, Item, ValueType};

/// The largest partition key, in bytes.
pub const MAX_HASH_KEY: usize = 2048;
/// The largest sort key, in bytes.
pub const MAX_RANGE_KEY: usize = 1024;

/// A key attribute's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// String.
    S,
    /// Number.
    N,
    /// Binary.
    B,
}

impl KeyType {
    /// Parses `S`, `N` or `B`.
    pub fn parse(s: &str) -> Option<KeyType> {
        match s {
            "S" => Some(KeyType::S),
            "N" => Some(KeyType::N),
            "B" => Some(KeyType::B),
            _ => None,
        }
    }

    /// The short name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::S => "S",
            KeyType::N => "N",
            KeyType::B => "B",
        }
    }
}

/// A key attribute: name and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAttr {
    /// The attribute name.
    pub name: String,
    /// Its type.
    pub ty: KeyType,
}

/// A key schema: partition key and optional sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    /// The partition (HASH) key.
    pub hash: KeyAttr,
    /// The sort (RANGE) key.
    pub range: Option<KeyAttr>,
}

/// How many key bytes are kept inline.
const INLINE: usize = 24;

/// The bytes of a string or binary key value, kept inside the key when short (up to 24 bytes,
/// most keys) so that the storage maps compare keys without chasing a pointer per comparison —
/// on a large table those pointer chases were cache misses and most of a lookup's time.
#[derive(Clone)]
pub enum KeyBytes {
    /// Up to [`INLINE`] bytes: the length and the bytes, zero-padded.
    Inline(u8, [u8; INLINE]),
    /// Longer values.
    Heap(Box<[u8]>),
}

impl KeyBytes {
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            KeyBytes::Inline(n, b) => &b[..usize::from(*n)],
            KeyBytes::Heap(b) => b,
        }
    }
}

impl From<&[u8]> for KeyBytes {
    fn from(b: &[u8]) -> KeyBytes {
        if b.len() <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..b.len()].copy_from_slice(b);
            KeyBytes::Inline(b.len() as u8, buf)
        } else {
            KeyBytes::Heap(b.into())
        }
    }
}

impl From<&str> for KeyBytes {
    fn from(s: &str) -> KeyBytes {
        KeyBytes::from(s.as_bytes())
    }
}

impl PartialEq for KeyBytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for KeyBytes {}

impl Ord for KeyBytes {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        if let (KeyBytes::Inline(la, a), KeyBytes::Inline(lb, b)) = (self, other) {
            // Equal keys are the common case inside one partition (every comparison of a
            // descent to an item of a known partition ties on it): three word compares.
            if la == lb && a == b {
                return std::cmp::Ordering::Equal;
            }
            // Zero-padded buffers compared word by word, then by length: the same order as the
            // byte strings (a proper prefix pads with zeros, which never exceed the longer
            // string's bytes, and ties on the padding are broken by the length).
            for i in (0..INLINE).step_by(8) {
                let mut wa = [0u8; 8];
                let mut wb = [0u8; 8];
                wa.copy_from_slice(&a[i..i + 8]);
                wb.copy_from_slice(&b[i..i + 8]);
                match u64::from_be_bytes(wa).cmp(&u64::from_be_bytes(wb)) {
                    std::cmp::Ordering::Equal => {}
                    o => return o,
                }
            }
            return la.cmp(lb);
        }
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl PartialOrd for KeyBytes {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::hash::Hash for KeyBytes {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state)
    }
}

impl std::fmt::Debug for KeyBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

/// One key attribute's value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyVal {
    /// A number.
    N(Number),
    /// A string's UTF-8 bytes (ordered by them, as DynamoDB orders strings).
    S(KeyBytes),
    /// Binary.
    B(KeyBytes),
}

impl KeyVal {
    /// The attribute value.
    pub fn to_value(&self) -> AttributeValue {
        match self {
            // Built only from `&str`, so always UTF-8.
            KeyVal::S(s) => AttributeValue::S(String::from_utf8_lossy(s.as_bytes()).into_owned()),
            KeyVal::N(n) => AttributeValue::N(*n),
            KeyVal::B(b) => AttributeValue::B(b.as_bytes().to_vec()),
        }
    }

    fn hash_into(&self, mut h: u64) -> u64 {
        let mut feed = |bytes: &[u8]| {
            for b in bytes {
                h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
            }
        };
        match self {
            // A number's normalized parts identify it (no text to format per hash).
            KeyVal::N(n) => {
                let (neg, mantissa, exponent) = n.parts();
                feed(&[u8::from(neg)]);
                feed(&mantissa.to_le_bytes());
                feed(&exponent.to_le_bytes());
            }
            KeyVal::S(s) => feed(s.as_bytes()),
            KeyVal::B(b) => feed(b.as_bytes()),
        }
        h
    }

    /// The partition hash.
    pub fn hash(&self) -> u64 {
        // Mix the FNV result so nearby keys spread over the whole range.
        let mut z = self.hash_into(0xcbf2_9ce4_8422_2325);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn size(&self) -> usize {
        match self {
            KeyVal::S(b) | KeyVal::B(b) => b.as_bytes().len(),
            KeyVal::N(n) => crate::value::value_size(&AttributeValue::N(*n)),
        }
    }
}

/// A sort-key position: a value, or the ends of a partition for range bounds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sk {
    /// Before every sort key (also the sort key of tables without one).
    Min,
    /// A sort key.
    Val(KeyVal),
    /// After every sort key.
    Max,
}

/// A stored primary key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PKey {
    /// The partition hash.
    pub h: u64,
    /// The partition key.
    pub pk: KeyVal,
    /// The sort key.
    pub sk: Sk,
}

impl PKey {
    /// A key from its parts.
    pub fn new(pk: KeyVal, sk: Option<KeyVal>) -> PKey {
        PKey {
            h: pk.hash(),
            pk,
            sk: sk.map_or(Sk::Min, Sk::Val),
        }
    }

    /// The key as attributes, under the schema's names.
    pub fn to_item(&self, schema: &Schema) -> Item {
        let mut m = Item::with_capacity(2);
        m.insert(schema.hash.name.clone(), self.pk.to_value());
        if let (Some(r), Sk::Val(v)) = (&schema.range, &self.sk) {
            m.insert(r.name.clone(), v.to_value());
        }
        m
    }
}

/// A key value below every real key value (range-bound sentinel).
pub fn min_keyval() -> KeyVal {
    // The most negative number DynamoDB can store; `N` sorts before `S` and `B`.
    KeyVal::N(
        "-9.9999999999999999999999999999999999999E+125"
            .parse()
            .unwrap_or(Number::ZERO),
    )
}

/// A key value above every real key value: binary sorts last, and no stored key (at most
/// 2048 bytes) reaches this run of 0xFF bytes.
pub fn max_keyval() -> KeyVal {
    KeyVal::B(KeyBytes::from(vec![0xFF; MAX_HASH_KEY + 1].as_slice()))
}

impl PKey {
    /// Below every stored key with partition hash `h`.
    pub fn lowest(h: u64) -> PKey {
        PKey {
            h,
            pk: min_keyval(),
            sk: Sk::Min,
        }
    }

    /// Above every stored key with partition hash `h`.
    pub fn highest(h: u64) -> PKey {
        PKey {
            h,
            pk: max_keyval(),
            sk: Sk::Max,
        }
    }
}

/// An index entry's key: the index key, then the table key to keep entries unique.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IKey {
    /// The index's partition hash.
    pub h: u64,
    /// The index partition key.
    pub pk: KeyVal,
    /// The index sort key.
    pub sk: Sk,
    /// The table key.
    pub base: PKey,
}

fn key_val(v: &AttributeValue, ty: KeyType) -> Option<KeyVal> {
    match (v, ty) {
        (AttributeValue::S(s), KeyType::S) => Some(KeyVal::S(s.as_str().into())),
        (AttributeValue::N(n), KeyType::N) => Some(KeyVal::N(*n)),
        (AttributeValue::B(b), KeyType::B) => Some(KeyVal::B(b.as_slice().into())),
        _ => None,
    }
}

fn empty_key_error(v: &AttributeValue, name: &str) -> Option<Error> {
    let kind = match v {
        AttributeValue::S(s) if s.is_empty() => "string",
        AttributeValue::B(b) if b.is_empty() => "binary",
        _ => return None,
    };
    Some(Error::validation(format!(
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {kind} value. Key: {name}"
    )))
}

fn check_sizes(pk: &KeyVal, sk: Option<&KeyVal>) -> Result<(), Error> {
    if pk.size() > MAX_HASH_KEY {
        return Err(Error::validation(
            "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes",
        ));
    }
    if sk.is_some_and(|s| s.size() > MAX_RANGE_KEY) {
        return Err(Error::validation(
            "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes",
        ));
    }
    Ok(())
}

impl Schema {
    /// The key of an item being written (PutItem): every key attribute present, right type.
    pub fn key_of_item(&self, item: &Item) -> Result<PKey, Error> {
        // Items are mostly a handful of attributes: comparing names is cheaper than hashing
        // them (SipHash) for two lookups.
        if item.len() <= 8 {
            let mut hash = None;
            let mut range = None;
            for (k, v) in item {
                if *k == self.hash.name {
                    hash = Some(v);
                } else if self.range.as_ref().is_some_and(|r| *k == r.name) {
                    range = Some(v);
                }
            }
            return self.key_of_found(hash, range);
        }
        self.key_of_found(
            item.get(&self.hash.name),
            self.range.as_ref().and_then(|r| item.get(&r.name)),
        )
    }

    /// The key of an item being written, from its key attributes' values as found in the item
    /// (`None`: absent). The checks and messages of [`Schema::key_of_item`].
    pub fn key_of_found(
        &self,
        hash: Option<&AttributeValue>,
        range: Option<&AttributeValue>,
    ) -> Result<PKey, Error> {
        let get = |a: &KeyAttr, v: Option<&AttributeValue>| -> Result<KeyVal, Error> {
            let v = v.ok_or_else(|| {
                Error::validation(format!(
                    "One or more parameter values were invalid: Missing the key {} in the item",
                    a.name
                ))
            })?;
            if let Some(e) = empty_key_error(v, &a.name) {
                return Err(e);
            }
            key_val(v, a.ty).ok_or_else(|| {
                Error::validation(format!(
                    "One or more parameter values were invalid: Type mismatch for key {} expected: {} actual: {}",
                    a.name,
                    a.ty.as_str(),
                    v.value_type()
                ))
            })
        };
        let pk = get(&self.hash, hash)?;
        let sk = self.range.as_ref().map(|r| get(r, range)).transpose()?;
        check_sizes(&pk, sk.as_ref())?;
        Ok(PKey::new(pk, sk))
    }

    /// The key given as a `Key` parameter: exactly the key attributes, right types.
    pub fn key_of_key(&self, key: &Item) -> Result<PKey, Error> {
        let mismatch = || Error::validation("The provided key element does not match the schema");
        let expected = 1 + usize::from(self.range.is_some());
        if key.len() != expected {
            return Err(mismatch());
        }
        // At most two entries: scanning them is cheaper than hashing the names.
        let get = |a: &KeyAttr| -> Result<KeyVal, Error> {
            let v = key
                .iter()
                .find_map(|(k, v)| (*k == a.name).then_some(v))
                .ok_or_else(mismatch)?;
            if let Some(e) = empty_key_error(v, &a.name) {
                return Err(e);
            }
            key_val(v, a.ty).ok_or_else(mismatch)
        };
        let pk = get(&self.hash)?;
        let sk = self.range.as_ref().map(get).transpose()?;
        check_sizes(&pk, sk.as_ref())?;
        Ok(PKey::new(pk, sk))
    }

    /// An index key of an item: `Ok(None)` when the item lacks an index key attribute (sparse
    /// index), an error when the attribute has the wrong type.
    pub fn index_key_of(
        &self,
        item: &Item,
        index_name: &str,
    ) -> Result<Option<(KeyVal, Sk)>, Error> {
        let get = |a: &KeyAttr| -> Result<Option<KeyVal>, Error> {
            let Some(v) = item.get(&a.name) else {
                return Ok(None);
            };
            if let Some(e) = empty_key_error(v, &a.name) {
                return Err(e);
            }
            key_val(v, a.ty).map(Some).ok_or_else(|| {
                Error::validation(format!(
                    "One or more parameter values were invalid: Type mismatch for Index Key {} Expected: {} Actual: {} IndexName: {index_name}",
                    a.name,
                    a.ty.as_str(),
                    v.value_type()
                ))
            })
        };
        let Some(pk) = get(&self.hash)? else {
            return Ok(None);
        };
        let sk = match &self.range {
            Some(r) => match get(r)? {
                Some(v) => Sk::Val(v),
                None => return Ok(None),
            },
            None => Sk::Min,
        };
        Ok(Some((pk, sk)))
    }

    /// The names of the key attributes.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.hash.name.as_str()).chain(self.range.as_ref().map(|r| r.name.as_str()))
    }

    /// Converts a value of this schema's sort key type, for key conditions.
    pub fn range_val(&self, v: &AttributeValue) -> Option<KeyVal> {
        key_val(v, self.range.as_ref()?.ty)
    }

    /// Converts a value of this schema's partition key type.
    pub fn hash_val(&self, v: &AttributeValue) -> Option<KeyVal> {
        key_val(v, self.hash.ty)
    }
}

/// Whether a value type is a key type.
pub fn is_key_type(t: ValueType) -> bool {
    matches!(t, ValueType::S | ValueType::N | ValueType::B)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema {
            hash: KeyAttr {
                name: "pk".into(),
                ty: KeyType::S,
            },
            range: Some(KeyAttr {
                name: "sk".into(),
                ty: KeyType::N,
            }),
        }
    }

    #[test]
    fn keys_and_errors() {
        let s = schema();
        let mut item = Item::new();
        item.insert("pk".into(), AttributeValue::s("a"));
        assert_eq!(
            s.key_of_item(&item).unwrap_err().to_string(),
            "One or more parameter values were invalid: Missing the key sk in the item"
        );
        item.insert("sk".into(), AttributeValue::s("x"));
        assert_eq!(
            s.key_of_item(&item).unwrap_err().to_string(),
            "One or more parameter values were invalid: Type mismatch for key sk expected: N actual: S"
        );
        item.insert("sk".into(), AttributeValue::int(5));
        let k = s.key_of_item(&item).unwrap();
        assert_eq!(k.to_item(&s), item);
        item.insert("other".into(), AttributeValue::int(1));
        assert_eq!(
            s.key_of_key(&item).unwrap_err().to_string(),
            "The provided key element does not match the schema"
        );
    }

    #[test]
    fn one_partition_is_contiguous_and_sorted() {
        let a1 = PKey::new(KeyVal::S("a".into()), Some(KeyVal::N(Number::from_i64(1))));
        let a2 = PKey::new(KeyVal::S("a".into()), Some(KeyVal::N(Number::from_i64(2))));
        assert!(a1 < a2);
        let lo = PKey {
            sk: Sk::Min,
            ..a1.clone()
        };
        let hi = PKey {
            sk: Sk::Max,
            ..a1.clone()
        };
        assert!(lo < a1 && a2 < hi);
    }
}
