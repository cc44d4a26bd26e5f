//! Element ids as index keys: strings of up to 22 bytes are stored inline, so probing an id
//! index compares bytes in the table itself (no pointer to chase) and indexing an id allocates
//! nothing; longer strings and non-string ids are kept as a [`Value`].
//!
//! Guarantee: an [`IdKey`] hashes exactly as the [`Value`] it stands for and as a
//! [`StrKey`] of the same text, so one map serves lookups by value and by borrowed string.

use std::hash::{Hash, Hasher};

use crate::value::{STR_TAG, StrKey, Value};

/// The longest string stored inline.
const INLINE: usize = 22;

/// An element id in canonical form (short strings inline, everything else a value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdKey {
    /// A string of at most 22 bytes; bytes past `len` are zero.
    Short {
        /// The string's length.
        len: u8,
        /// Its bytes.
        bytes: [u8; INLINE],
    },
    /// Any other id.
    Other(Value),
}

impl IdKey {
    /// The empty string (a placeholder for moved-out slots).
    pub const EMPTY: IdKey = IdKey::Short {
        len: 0,
        bytes: [0; INLINE],
    };

    /// The key of the string id `s`.
    pub fn text(s: &str) -> IdKey {
        if s.len() <= INLINE {
            let mut bytes = [0u8; INLINE];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            IdKey::Short {
                len: s.len() as u8,
                bytes,
            }
        } else {
            IdKey::Other(Value::str(s))
        }
    }

    /// The key of the id `v`.
    pub fn from_value(v: &Value) -> IdKey {
        match v {
            Value::Str(s) if s.len() <= INLINE => IdKey::text(s),
            other => IdKey::Other(other.clone()),
        }
    }

    /// The id's text, if it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            IdKey::Short { len, bytes } => std::str::from_utf8(&bytes[..*len as usize]).ok(),
            IdKey::Other(Value::Str(s)) => Some(s),
            IdKey::Other(_) => None,
        }
    }

    /// The id as a value.
    pub fn to_value(&self) -> Value {
        match self {
            IdKey::Short { .. } => Value::str(self.as_str().unwrap_or("")),
            IdKey::Other(v) => v.clone(),
        }
    }
}

impl Hash for IdKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            IdKey::Short { .. } => {
                state.write_u8(STR_TAG);
                self.as_str().unwrap_or("").hash(state);
            }
            IdKey::Other(v) => v.hash(state),
        }
    }
}

impl hashbrown::Equivalent<IdKey> for StrKey<'_> {
    #[inline]
    fn equivalent(&self, key: &IdKey) -> bool {
        match key {
            IdKey::Short { len, bytes } => &bytes[..*len as usize] == self.0.as_bytes(),
            IdKey::Other(Value::Str(s)) => **s == *self.0,
            IdKey::Other(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn keys_hash_like_values_and_borrowed_strings() {
        let h = hashbrown::DefaultHashBuilder::default();
        for s in [
            "",
            "p1",
            "exactly-twenty-two-b!!",
            "a-much-longer-identifier-than-inline",
        ] {
            let k = IdKey::text(s);
            assert_eq!(k, IdKey::from_value(&Value::str(s)));
            assert_eq!(h.hash_one(&k), h.hash_one(Value::str(s)));
            assert_eq!(h.hash_one(&k), h.hash_one(StrKey(s)));
            assert!(hashbrown::Equivalent::equivalent(&StrKey(s), &k));
            assert_eq!(k.to_value(), Value::str(s));
        }
        assert_eq!(
            IdKey::from_value(&Value::Long(3)).to_value(),
            Value::Long(3)
        );
        assert!(!hashbrown::Equivalent::equivalent(
            &StrKey("3"),
            &IdKey::from_value(&Value::Long(3))
        ));
    }
}
