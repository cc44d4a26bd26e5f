//! Compressed sparse rows: one direction of the adjacency, immutable once built.
//!
//! For vertex `v`, entries `offsets[v]..offsets[v + 1]` of `nbrs` (and `edges`) are its edges,
//! grouped by edge label (labels ascending; within a label, in edge order), so a labelled
//! expansion is two binary searches and a slice. Vertices added after the build have no rows
//! (their edges live in the delta buffers).
//!
//! The out direction stores no edge column: compaction numbers edges in out-row order, so entry
//! `i` *is* edge `i` ([`Csr::identity`]). The in direction keeps a `u32` edge index per entry.
//! Topology therefore costs 4 bytes per edge out, 8 in, plus 4 bytes per vertex per direction.

use super::Sym;

/// One direction of the adjacency.
#[derive(Debug, Clone, Default)]
pub struct Csr {
    offsets: Vec<u32>,
    nbrs: Vec<u32>,
    /// The edge of each entry; empty when entry `i` is edge `i`.
    edges: Vec<u32>,
}

/// One vertex's row: its first entry's position, neighbours, and edges (empty when the row's
/// entries are edges `start..start + nbrs.len()`).
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// Position of the first entry.
    pub start: u32,
    /// Neighbours.
    pub nbrs: &'a [u32],
    /// Edges, or empty for identity-numbered rows.
    pub edges: &'a [u32],
}

impl Row<'_> {
    /// The edge of entry `i` of this row.
    #[inline]
    pub fn edge(&self, i: usize) -> u32 {
        match self.edges.get(i) {
            Some(e) => *e,
            None => self.start + i as u32,
        }
    }

    /// `(neighbour, edge)` pairs.
    #[inline]
    pub fn pairs(self) -> impl Iterator<Item = (u32, u32)> {
        let Row { start, nbrs, edges } = self;
        nbrs.iter().enumerate().map(move |(i, n)| {
            let e = match edges.get(i) {
                Some(e) => *e,
                None => start + i as u32,
            };
            (*n, e)
        })
    }

    /// The sub-row of entries `a..b`.
    fn slice(self, a: usize, b: usize) -> Self {
        Row {
            start: self.start + a as u32,
            nbrs: &self.nbrs[a..b],
            edges: if self.edges.is_empty() {
                &[]
            } else {
                &self.edges[a..b]
            },
        }
    }
}

impl Csr {
    /// Rows from prebuilt columns: `offsets` has one more entry than there are vertices; `edges`
    /// is empty for identity numbering or as long as `nbrs`.
    pub fn from_parts(offsets: Vec<u32>, nbrs: Vec<u32>, edges: Vec<u32>) -> Csr {
        debug_assert!(edges.is_empty() || edges.len() == nbrs.len());
        debug_assert_eq!(
            offsets.last().copied().unwrap_or(0) as usize,
            nbrs.len(),
            "offsets must end at the entry count"
        );
        Csr {
            offsets,
            nbrs,
            edges,
        }
    }

    /// Whether entry `i` is edge `i`.
    pub fn identity(&self) -> bool {
        self.edges.is_empty()
    }

    fn range(&self, v: u32) -> (usize, usize) {
        let v = v as usize;
        match (self.offsets.get(v), self.offsets.get(v + 1)) {
            (Some(&a), Some(&b)) => (a as usize, b as usize),
            _ => (0, 0),
        }
    }

    /// `v`'s row.
    #[inline]
    pub fn row(&self, v: u32) -> Row<'_> {
        let (a, b) = self.range(v);
        Row {
            start: a as u32,
            nbrs: &self.nbrs[a..b],
            edges: if self.edges.is_empty() {
                &[]
            } else {
                &self.edges[a..b]
            },
        }
    }

    /// The number of edges in `v`'s row.
    #[inline]
    pub fn degree(&self, v: u32) -> usize {
        let (a, b) = self.range(v);
        b - a
    }

    /// `(neighbour, edge)` pairs of `v`'s row.
    #[inline]
    pub fn neighbours(&self, v: u32) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.row(v).pairs()
    }

    /// The neighbour slice of `v`'s row (for counting and fast expansion).
    #[inline]
    pub fn neighbour_slice(&self, v: u32) -> &[u32] {
        self.row(v).nbrs
    }

    /// The part of `v`'s row with edge label `label`.
    #[inline]
    pub fn row_with_label(&self, v: u32, label: Sym, label_of: &dyn Fn(u32) -> Sym) -> Row<'_> {
        let row = self.row(v);
        let n = row.nbrs.len();
        let lo = partition(n, |i| label_of(row.edge(i)) < label);
        let hi = lo + partition(n - lo, |i| label_of(row.edge(lo + i)) <= label);
        row.slice(lo, hi)
    }

    /// `(neighbour, edge)` pairs of `v`'s row with edge label `label`.
    pub fn neighbours_with_label<'a>(
        &'a self,
        v: u32,
        label: Sym,
        label_of: &dyn Fn(u32) -> Sym,
    ) -> impl Iterator<Item = (u32, u32)> + 'a {
        self.row_with_label(v, label, label_of).pairs()
    }

    /// Vertices with rows.
    pub fn vertex_rows(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Heap bytes.
    pub fn heap_bytes(&self) -> usize {
        (self.offsets.capacity() + self.nbrs.capacity() + self.edges.capacity()) * 4
    }
}

/// The first `i` in `0..n` for which `pred` is false (`pred` true then false over the range).
fn partition(n: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Stable counting sort of `items` by `key(item)` (keys below `buckets`): the building block of
/// every CSR build. Returns the sorted items and the bucket offsets (`buckets + 1` entries).
pub fn counting_sort(
    items: &[u32],
    buckets: usize,
    key: impl Fn(u32) -> u32,
) -> (Vec<u32>, Vec<u32>) {
    let mut offsets = vec![0u32; buckets + 1];
    for &it in items {
        if let Some(o) = offsets.get_mut(key(it) as usize + 1) {
            *o += 1;
        }
    }
    for i in 0..buckets {
        offsets[i + 1] += offsets[i];
    }
    let mut cursor: Vec<u32> = offsets[..buckets].to_vec();
    let mut out = vec![0u32; items.len()];
    for &it in items {
        if let Some(c) = cursor.get_mut(key(it) as usize) {
            out[*c as usize] = it;
            *c += 1;
        }
    }
    (out, offsets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_grouped_by_label() {
        // Edges 0..4 in out-row order: vertex 0 has edges 0 (label 0), 1 and 2 (label 1).
        let labels = [0u32, 1, 1, 0];
        let lab = |e: u32| labels[e as usize];
        let csr = Csr::from_parts(vec![0, 3, 4, 4], vec![1, 1, 2, 2], vec![]);
        assert_eq!(csr.degree(0), 3);
        assert_eq!(
            csr.neighbours_with_label(0, 1, &lab).collect::<Vec<_>>(),
            vec![(1, 1), (2, 2)]
        );
        assert_eq!(
            csr.neighbours_with_label(0, 0, &lab).collect::<Vec<_>>(),
            vec![(1, 0)]
        );
        assert_eq!(csr.neighbours_with_label(0, 7, &lab).count(), 0);
        assert_eq!(csr.neighbours(1).collect::<Vec<_>>(), vec![(2, 3)]);
        assert_eq!(csr.neighbours(2).count(), 0);
        assert_eq!(csr.neighbours(7).count(), 0);
        let inn = Csr::from_parts(vec![0, 0, 2, 4], vec![0, 0, 1, 0], vec![0, 1, 3, 2]);
        assert_eq!(
            inn.neighbours_with_label(2, 1, &lab).collect::<Vec<_>>(),
            vec![(0, 2)]
        );
    }

    #[test]
    fn counting_sort_is_stable() {
        let (out, off) = counting_sort(&[5, 3, 4, 1, 2], 3, |x| x % 3);
        assert_eq!(out, vec![3, 4, 1, 5, 2]);
        assert_eq!(off, vec![0, 1, 3, 5]);
    }
}
