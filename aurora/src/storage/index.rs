//! The in-memory form of one index: ordered `(key, row)` entries.
//!
//! Most indexes are on one integer column (every primary key of an OLTP schema), so an index
//! starts in the integer form — entries `(i64, row)` compared as two machine words, probes
//! converted once instead of heap-encoded — and moves for good to the general form (memcomparable
//! encodings, [`crate::keys`]) the first time a key is anything but one SMALLINT/INTEGER/BIGINT
//! or NULL.
//!
//! Guarantee (the one [`crate::storage::Storage::index_range`] documents): a probe returns every
//! row whose entry matches, and possibly more — callers re-check the predicate on each fetched
//! version. The integer form is exact wherever a conversion is exact and answers with a
//! superset (up to every entry) where a probe value cannot be placed among integers exactly.

use std::collections::BTreeSet;
use std::ops::Bound;

use bigdecimal::ToPrimitive;

use crate::storage::RowId;
use crate::value::Value;

/// An encoded index key with its first eight bytes kept inline as a big-endian integer, so
/// most comparisons in the B-tree decide on one integer compare without touching the heap.
/// The order is exactly the byte order of the encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct IndexKey {
    head: u64,
    bytes: Box<[u8]>,
}

impl IndexKey {
    fn new(bytes: Vec<u8>) -> IndexKey {
        let mut h = [0u8; 8];
        let n = bytes.len().min(8);
        h[..n].copy_from_slice(&bytes[..n]);
        IndexKey {
            head: u64::from_be_bytes(h),
            bytes: bytes.into_boxed_slice(),
        }
    }
}

impl Ord for IndexKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Zero padding keeps this the byte order: heads differ only at a byte where the keys
        // differ (or where one key ended and the other has a non-zero byte).
        self.head
            .cmp(&other.head)
            .then_with(|| self.bytes.cmp(&other.bytes))
    }
}

impl PartialOrd for IndexKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// One index's entries.
#[derive(Debug)]
pub(super) enum IndexStore {
    /// Every key so far is one integer or NULL.
    Int {
        /// `(key, row)` for integer keys.
        entries: BTreeSet<(i64, RowId)>,
        /// Rows whose key is NULL (they sort after every number, as in the general form).
        nulls: BTreeSet<RowId>,
    },
    /// Memcomparable encodings of arbitrary key tuples.
    General(BTreeSet<(IndexKey, RowId)>),
}

/// A stored key value the integer form keeps exactly.
fn stored_int(v: &Value) -> Option<i64> {
    match v {
        Value::Int2(i) => Some(*i as i64),
        Value::Int4(i) => Some(*i as i64),
        Value::Int8(i) => Some(*i),
        _ => None,
    }
}

/// Floats whose magnitude is below this compare with integers exactly (integers up to 2^53
/// are exact in `f64`); beyond it an `int = float` comparison rounds, so probes widen.
const EXACT_FLOAT: f64 = 4_503_599_627_370_496.0; // 2^52

/// Where an equality probe value lies among integer keys.
enum EqProbe {
    /// Exactly this key.
    Key(i64),
    /// No integer equals it.
    Nothing,
    /// The NULL entries.
    Null,
    /// Cannot be placed exactly: every entry.
    Everything,
}

fn eq_probe(v: &Value) -> EqProbe {
    if let Some(i) = stored_int(v) {
        return EqProbe::Key(i);
    }
    match v {
        Value::Null => EqProbe::Null,
        Value::Numeric(d) => match d.to_i64() {
            Some(i) if d.is_integer() => EqProbe::Key(i),
            // Not integral or beyond i64: no integer key equals it.
            _ => EqProbe::Nothing,
        },
        Value::Float4(_) | Value::Float8(_) => {
            let f = v.as_f64().unwrap_or(f64::NAN);
            if f.is_nan() || f.is_infinite() {
                EqProbe::Nothing
            } else if f.abs() >= EXACT_FLOAT {
                EqProbe::Everything
            } else if f.fract() != 0.0 {
                EqProbe::Nothing
            } else {
                EqProbe::Key(f as i64)
            }
        }
        _ => EqProbe::Everything,
    }
}

/// An inclusive integer bound no tighter than `v` as a lower (`upper == false`) or upper bound;
/// `None` when it cannot be placed (the bound is then dropped, which only widens the range).
fn int_bound(v: &Value, upper: bool) -> Option<i64> {
    if let Some(i) = stored_int(v) {
        return Some(i);
    }
    let f = match v {
        Value::Numeric(d) => d.to_f64()?,
        Value::Float4(_) | Value::Float8(_) => v.as_f64()?,
        _ => return None,
    };
    if f.is_nan() || f.abs() >= EXACT_FLOAT {
        return None;
    }
    // One step of slack covers a NUMERIC rounded to the nearest f64.
    Some(if upper {
        f.ceil() as i64 + 1
    } else {
        f.floor() as i64 - 1
    })
}

impl IndexStore {
    /// An empty index (integer form until a key says otherwise).
    pub(super) fn new() -> IndexStore {
        IndexStore::Int {
            entries: BTreeSet::new(),
            nulls: BTreeSet::new(),
        }
    }

    /// Adds an entry.
    pub(super) fn insert(&mut self, key: &[Value], row: RowId) {
        if let IndexStore::Int { entries, nulls } = self {
            match key {
                [v] if stored_int(v).is_some() => {
                    if let Some(i) = stored_int(v) {
                        entries.insert((i, row));
                    }
                    return;
                }
                [Value::Null] => {
                    nulls.insert(row);
                    return;
                }
                _ => self.generalise(),
            }
        }
        if let IndexStore::General(set) = self {
            set.insert((IndexKey::new(crate::keys::encode(key)), row));
        }
    }

    /// Moves the entries to the general form, for good.
    fn generalise(&mut self) {
        if let IndexStore::Int { entries, nulls } = self {
            let mut set = BTreeSet::new();
            for (i, r) in entries.iter() {
                set.insert((IndexKey::new(crate::keys::encode(&[Value::Int8(*i)])), *r));
            }
            let null = crate::keys::encode(&[Value::Null]);
            for r in nulls.iter() {
                set.insert((IndexKey::new(null.clone()), *r));
            }
            *self = IndexStore::General(set);
        }
    }

    /// Rows whose entries have keys in the range (a superset; see the module docs), sorted
    /// and without duplicates.
    pub(super) fn range(&self, lower: Bound<&[Value]>, upper: Bound<&[Value]>) -> Vec<RowId> {
        let mut out = match self {
            IndexStore::Int { entries, nulls } => {
                let one = |b: Bound<&[Value]>, up: bool| match b {
                    // Exclusive bounds are widened to inclusive, as in the general form.
                    Bound::Included([v]) | Bound::Excluded([v]) => int_bound(v, up)
                        .map_or((Bound::Unbounded, true), |i| (Bound::Included(i), false)),
                    _ => (Bound::Unbounded, true),
                };
                let (lo, _) = one(lower, false);
                let (hi, hi_open) = one(upper, true);
                let mut out = Vec::new();
                let nonempty = match (lo, hi) {
                    (Bound::Included(a), Bound::Included(b)) => a <= b,
                    _ => true,
                };
                if nonempty {
                    let lo = lo.map(|i| (i, RowId::MIN));
                    let hi = hi.map(|i| (i, RowId::MAX));
                    out.extend(entries.range((lo, hi)).map(|(_, r)| *r));
                }
                // NULL keys sort last: an open or unplaceable upper bound reaches them.
                if hi_open {
                    out.extend(nulls.iter().copied());
                }
                out
            }
            IndexStore::General(ix) => {
                // Keys are memcomparable encodings, exact for integers, text and time and
                // monotone (not strictly) for other numbers, so bounds are widened to inclusive
                // and callers re-check the predicate on every row they fetch.
                let lo = match lower {
                    Bound::Included(k) | Bound::Excluded(k) => {
                        Bound::Included((IndexKey::new(crate::keys::encode(k)), 0))
                    }
                    Bound::Unbounded => Bound::Unbounded,
                };
                let hi = match upper {
                    Bound::Included(k) | Bound::Excluded(k) => {
                        let mut e = crate::keys::encode(k);
                        e.push(0xFF);
                        Bound::Excluded((IndexKey::new(e), 0))
                    }
                    Bound::Unbounded => Bound::Unbounded,
                };
                if let (Bound::Included((a, _)), Bound::Excluded((b, _))) = (&lo, &hi)
                    && a >= b
                {
                    return Vec::new();
                }
                ix.range((lo, hi)).map(|(_, r)| *r).collect()
            }
        };
        if out.len() > 1 {
            out.sort_unstable();
            out.dedup();
        }
        out
    }

    /// Calls `f` with each row whose entry has exactly `key` (a superset in the integer form
    /// when `key` cannot be placed among integers).
    pub(super) fn eq(&self, key: &[Value], f: &mut dyn FnMut(RowId)) {
        match self {
            IndexStore::Int { entries, nulls } => {
                let probe = match key {
                    [v] => eq_probe(v),
                    _ => EqProbe::Everything,
                };
                match probe {
                    EqProbe::Key(i) => {
                        // One descent to the first entry, then a walk (an inclusive range
                        // would descend a second time for its upper end).
                        for (k, r) in entries.range((i, RowId::MIN)..) {
                            if *k != i {
                                break;
                            }
                            f(*r);
                        }
                    }
                    EqProbe::Nothing => {}
                    EqProbe::Null => nulls.iter().for_each(|r| f(*r)),
                    EqProbe::Everything => {
                        for r in self.range(Bound::Unbounded, Bound::Unbounded) {
                            f(r);
                        }
                    }
                }
            }
            IndexStore::General(ix) => {
                // Entries of one full key share its encoding and differ by row id: walk from
                // the first and stop at another key (no second copy of the key for a bound).
                let lo = (IndexKey::new(crate::keys::encode(key)), 0);
                for (_, r) in ix.range(&lo..).take_while(|(k, _)| *k == lo.0) {
                    f(*r);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bigdecimal::BigDecimal;
    use proptest::prelude::*;

    /// The general form of the same entries: the reference the integer form must cover.
    fn general(entries: &[(Option<i64>, RowId)]) -> IndexStore {
        let mut g = IndexStore::General(BTreeSet::new());
        for (k, r) in entries {
            g.insert(&[k.map_or(Value::Null, Value::Int8)], *r);
        }
        g
    }

    fn probe_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            (-20i64..20).prop_map(Value::Int8),
            (-20i32..20).prop_map(Value::Int4),
            (-200i64..200).prop_map(|i| Value::Float8(i as f64 / 8.0)),
            (-200i64..200).prop_map(|i| Value::Numeric(BigDecimal::from(i) / BigDecimal::from(4))),
            Just(Value::Float8(f64::NAN)),
            Just(Value::Float8(1e300)),
            Just(Value::Int8(i64::MAX)),
            Just(Value::Null),
            Just(Value::text("7")),
        ]
    }

    fn bound() -> impl Strategy<Value = Option<(Value, bool)>> {
        proptest::option::of((probe_value(), any::<bool>()))
    }

    fn as_bound(b: &Option<(Value, bool)>) -> Bound<&[Value]> {
        match b {
            Some((v, true)) => Bound::Included(std::slice::from_ref(v)),
            Some((v, false)) => Bound::Excluded(std::slice::from_ref(v)),
            None => Bound::Unbounded,
        }
    }

    proptest! {
        #[test]
        fn integer_form_covers_the_general_form(
            entries in proptest::collection::vec(
                (proptest::option::weighted(0.9, -20i64..20), 0u64..64), 0..60),
            probe in probe_value(),
            lower in bound(),
            upper in bound(),
        ) {
            let mut int = IndexStore::new();
            for (k, r) in &entries {
                int.insert(&[k.map_or(Value::Null, Value::Int8)], *r);
            }
            let still_int = matches!(int, IndexStore::Int { .. });
            prop_assert!(still_int);
            let reference = general(&entries);
            let key = std::slice::from_ref(&probe);
            let (mut want, mut got) = (Vec::new(), Vec::new());
            reference.eq(key, &mut |r| want.push(r));
            int.eq(key, &mut |r| got.push(r));
            for r in &want {
                prop_assert!(got.contains(r), "eq {:?}: {:?} missing from {:?}", probe, r, got);
            }
            // An integer probe is exact.
            if stored_int(&probe).is_some() {
                got.sort_unstable();
                want.sort_unstable();
                prop_assert_eq!(&got, &want);
            }
            let want = reference.range(as_bound(&lower), as_bound(&upper));
            let got = int.range(as_bound(&lower), as_bound(&upper));
            for r in &want {
                prop_assert!(got.contains(r), "range {:?}..{:?}: {:?} missing", lower, upper, r);
            }
        }
    }

    #[test]
    fn a_non_integer_key_moves_the_index_to_the_general_form() {
        let mut ix = IndexStore::new();
        ix.insert(&[Value::Int4(3)], 1);
        ix.insert(&[Value::Null], 2);
        ix.insert(&[Value::text("x")], 3);
        assert!(matches!(ix, IndexStore::General(_)));
        let mut got = Vec::new();
        ix.eq(&[Value::Int8(3)], &mut |r| got.push(r));
        assert_eq!(got, vec![1]);
        assert_eq!(ix.range(Bound::Unbounded, Bound::Unbounded), vec![1, 2, 3]);
    }
}
