//! The edge-id index: from an edge's user id to its edge index.
//!
//! Edge ids are looked up rarely (`g.E(id)`, a duplicate check) but there is one per edge, so
//! the index is built for a cheap bulk build and a small footprint rather than for fast
//! inserts: a base of edges grouped by the top bits of their id's hash (a counting sort, the
//! same two sequential passes that build the adjacency), rebuilt at every compaction and shared
//! with snapshots, plus a small hash map of the ids written since (`None` = removed). The base
//! stores no ids, only a 32-bit hash tag and the edge per entry (8 bytes, plus 4 per bucket);
//! a candidate is confirmed against the edge's id in the graph's id column, which the caller
//! passes as `is`.
//!
//! Guarantee: a lookup finds every live edge whose id equals the key; it may also return a
//! dropped edge's index only when the caller's `is` accepts it (callers check liveness).

use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::{DefaultHashBuilder, HashMap};

use super::csr::counting_sort;
use super::ids::IdKey;
use crate::value::StrKey;

/// The edge-id index of one graph (clone to snapshot: the base is shared).
#[derive(Debug, Clone, Default)]
pub struct EdgeIndex {
    /// Kept for the index's whole life, so the base and every lookup hash alike.
    hasher: DefaultHashBuilder,
    base: Arc<Buckets>,
    delta: HashMap<IdKey, Option<u32>>,
}

/// A base built by [`EdgeIndex::prepare`], waiting to be installed.
#[derive(Debug)]
pub struct PreparedBase(Arc<Buckets>);

/// Edges grouped by `hash >> shift`; within a bucket, in edge order.
#[derive(Debug, Default)]
struct Buckets {
    shift: u32,
    offsets: Vec<u32>,
    tags: Vec<u32>,
    edges: Vec<u32>,
}

impl Buckets {
    /// Groups `edges` (with their ids' `hashes`) into about one bucket per entry.
    fn build(hashes: &[u64], edges: &[u32]) -> Buckets {
        let bits = hashes.len().max(2).next_power_of_two().trailing_zeros();
        let shift = 64 - bits;
        let positions: Vec<u32> = (0..hashes.len() as u32).collect();
        let (order, offsets) = counting_sort(&positions, 1 << bits, |i| {
            (hashes[i as usize] >> shift) as u32
        });
        Buckets {
            shift,
            offsets,
            tags: order.iter().map(|i| hashes[*i as usize] as u32).collect(),
            edges: order.iter().map(|i| edges[*i as usize]).collect(),
        }
    }

    fn find(&self, hash: u64, is: impl Fn(u32) -> bool) -> Option<u32> {
        if self.edges.is_empty() {
            return None;
        }
        let b = (hash >> self.shift) as usize;
        let (Some(&a), Some(&z)) = (self.offsets.get(b), self.offsets.get(b + 1)) else {
            return None;
        };
        (a as usize..z as usize).find_map(|j| {
            let e = *self.edges.get(j)?;
            (self.tags.get(j) == Some(&(hash as u32)) && is(e)).then_some(e)
        })
    }
}

impl EdgeIndex {
    /// The hash of the id `k`.
    pub fn hash_key(&self, k: &IdKey) -> u64 {
        self.hasher.hash_one(k)
    }

    /// The hash of the string id `s` (equal to its key's).
    pub fn hash_str(&self, s: &str) -> u64 {
        self.hasher.hash_one(StrKey(s))
    }

    /// Whether the index holds nothing.
    pub fn is_empty(&self) -> bool {
        self.base.edges.is_empty() && self.delta.is_empty()
    }

    /// The edge with id `k` (`hash` = [`EdgeIndex::hash_key`]); `is(e)` says whether edge
    /// `e`'s id is `k`.
    pub fn get(&self, k: &IdKey, hash: u64, is: impl Fn(u32) -> bool) -> Option<u32> {
        if !self.delta.is_empty()
            && let Some(e) = self.delta.get(k)
        {
            return *e;
        }
        self.base.find(hash, is)
    }

    /// The edge with the string id `s` (`hash` = [`EdgeIndex::hash_str`]).
    pub fn get_str(&self, s: &str, hash: u64, is: impl Fn(u32) -> bool) -> Option<u32> {
        if !self.delta.is_empty()
            && let Some(e) = self.delta.get(&StrKey(s))
        {
            return *e;
        }
        self.base.find(hash, is)
    }

    /// Indexes `k` as edge `e`.
    pub fn insert(&mut self, k: IdKey, e: u32) {
        self.delta.insert(k, Some(e));
    }

    /// Room for `n` more written ids.
    pub fn reserve(&mut self, n: usize) {
        self.delta.reserve(n);
    }

    /// Unindexes `k`.
    pub fn remove(&mut self, k: &IdKey) {
        self.delta.insert(k.clone(), None);
    }

    /// Replaces the whole index with `ids` (`(edge, id)` of every live edge).
    pub fn rebuild<'a>(&mut self, ids: impl Iterator<Item = (u32, &'a IdKey)>) {
        let (mut hashes, mut edges) = (Vec::new(), Vec::new());
        for (e, k) in ids {
            hashes.push(self.hasher.hash_one(k));
            edges.push(e);
        }
        self.base = Arc::new(Buckets::build(&hashes, &edges));
        self.delta = HashMap::default();
    }

    /// Builds, apart from any index (so on any thread), the base for edges `0..hashes.len()`
    /// whose ids hash to `hashes` (by [`EdgeIndex::hash_key`] of the index it will serve).
    pub fn prepare(hashes: &[u64]) -> PreparedBase {
        let edges: Vec<u32> = (0..hashes.len() as u32).collect();
        PreparedBase(Arc::new(Buckets::build(hashes, &edges)))
    }

    /// Replaces the whole index with a prepared base (every live edge).
    pub fn install(&mut self, base: PreparedBase) {
        self.base = base.0;
        self.delta = HashMap::default();
    }

    /// Heap bytes (base and delta).
    pub fn heap_bytes(&self) -> usize {
        (self.base.offsets.capacity() + self.base.tags.capacity() + self.base.edges.capacity()) * 4
            + self.delta.capacity() * (std::mem::size_of::<(IdKey, Option<u32>)>() + 1)
    }
}

/// The positions in `hashes`/`ids` that repeat an earlier position's id: the later copies of
/// each duplicated id, in position order. Grouping by hash keeps this linear (a counting sort
/// and a scan of buckets of about one entry).
pub fn later_duplicates(hashes: &[u64], ids: &[IdKey]) -> Vec<usize> {
    let n = hashes.len();
    if n < 2 {
        return Vec::new();
    }
    let bits = n.next_power_of_two().trailing_zeros();
    let shift = 64 - bits;
    let positions: Vec<u32> = (0..n as u32).collect();
    let (order, offsets) = counting_sort(&positions, 1 << bits, |i| {
        (hashes[i as usize] >> shift) as u32
    });
    let mut dups = Vec::new();
    let mut bucket: Vec<u32> = Vec::new();
    for w in offsets.windows(2) {
        let (a, z) = (w[0] as usize, w[1] as usize);
        if z - a < 2 {
            continue;
        }
        // A bucket holds about one entry: a small one compares each position with the earlier
        // ones of equal hash (positions are ascending, so the first copy is kept).
        if z - a <= 8 {
            let b = &order[a..z];
            for (j, &i) in b.iter().enumerate().skip(1) {
                let (h, id) = (hashes[i as usize], &ids[i as usize]);
                let dup = b[..j]
                    .iter()
                    .any(|&k| hashes[k as usize] == h && ids[k as usize] == *id);
                if dup {
                    dups.push(i as usize);
                }
            }
            continue;
        }
        // Sorting by hash (stable, so positions stay ascending) puts equal ids side by side
        // in runs of equal hash; within a run, each id is compared to the run's kept ids.
        bucket.clear();
        bucket.extend_from_slice(&order[a..z]);
        bucket.sort_by_key(|i| hashes[*i as usize]);
        let mut run_start = 0;
        while run_start < bucket.len() {
            let h = hashes[bucket[run_start] as usize];
            let run_end = bucket[run_start..]
                .iter()
                .position(|i| hashes[*i as usize] != h)
                .map_or(bucket.len(), |p| run_start + p);
            let mut kept: Vec<u32> = Vec::new();
            for &i in &bucket[run_start..run_end] {
                if kept.iter().any(|k| ids[*k as usize] == ids[i as usize]) {
                    dups.push(i as usize);
                } else {
                    kept.push(i);
                }
            }
            run_start = run_end;
        }
    }
    dups.sort_unstable();
    dups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_base_and_delta_entries() {
        let ids: Vec<IdKey> = (0..1000).map(|i| IdKey::text(&format!("e{i}"))).collect();
        let mut x = EdgeIndex::default();
        x.rebuild(ids.iter().enumerate().map(|(e, k)| (e as u32, k)));
        let ids = &ids;
        fn is<'a>(ids: &'a [IdKey], k: &'a IdKey) -> impl Fn(u32) -> bool + 'a {
            move |e| ids.get(e as usize) == Some(k)
        }
        for (e, k) in ids.iter().enumerate() {
            assert_eq!(x.get(k, x.hash_key(k), is(ids, k)), Some(e as u32));
            let s = k.as_str().unwrap();
            assert_eq!(x.get_str(s, x.hash_str(s), is(ids, k)), Some(e as u32));
        }
        let missing = IdKey::text("nope");
        assert_eq!(
            x.get(&missing, x.hash_key(&missing), is(ids, &missing)),
            None
        );
        x.remove(&ids[3]);
        assert_eq!(x.get(&ids[3], x.hash_key(&ids[3]), is(ids, &ids[3])), None);
        x.insert(ids[3].clone(), 7);
        assert_eq!(x.get(&ids[3], x.hash_key(&ids[3]), |_| false), Some(7));
        let snapshot = x.clone();
        x.rebuild(std::iter::empty());
        assert!(x.is_empty());
        assert!(!snapshot.is_empty());
    }

    #[test]
    fn later_duplicates_keeps_the_first_copy() {
        let ids: Vec<IdKey> = ["a", "b", "a", "c", "b", "a"]
            .iter()
            .map(|s| IdKey::text(s))
            .collect();
        let x = EdgeIndex::default();
        let hashes: Vec<u64> = ids.iter().map(|k| x.hash_key(k)).collect();
        assert_eq!(later_duplicates(&hashes, &ids), vec![2, 4, 5]);
        // Many copies of one id stay linear (one run, one kept id).
        let same = vec![IdKey::text("z"); 10_000];
        let h = vec![x.hash_key(&same[0]); 10_000];
        assert_eq!(later_duplicates(&h, &same).len(), 9_999);
    }
}
