//! Compressed sparse rows: one direction of the adjacency, immutable once built.
//!
//! For vertex `v`, entries `offsets[v]..offsets[v + 1]` of `nbrs`/`edges` are its edges, sorted by
//! edge label and then neighbour, so a labelled expansion is two binary searches and a slice.
//! Vertices added after the build have no rows (their edges live in the delta buffers).

use super::Sym;

/// One direction of the adjacency.
#[derive(Debug, Clone, Default)]
pub struct Csr {
    offsets: Vec<u32>,
    nbrs: Vec<u32>,
    edges: Vec<u32>,
}

impl Csr {
    /// Builds rows for `nv` vertices from `(from, to, edge)` triples; `label_of` orders each row.
    pub fn build(nv: usize, triples: &[(u32, u32, u32)], label_of: &dyn Fn(u32) -> Sym) -> Csr {
        let mut offsets = vec![0u32; nv + 1];
        for &(f, _, _) in triples {
            if let Some(o) = offsets.get_mut(f as usize + 1) {
                *o += 1;
            }
        }
        for i in 0..nv {
            offsets[i + 1] += offsets[i];
        }
        let mut cursor: Vec<u32> = offsets[..nv].to_vec();
        let mut nbrs = vec![0u32; triples.len()];
        let mut edges = vec![0u32; triples.len()];
        for &(f, t, e) in triples {
            if let Some(c) = cursor.get_mut(f as usize) {
                nbrs[*c as usize] = t;
                edges[*c as usize] = e;
                *c += 1;
            }
        }
        let mut row: Vec<(Sym, u32, u32)> = Vec::new();
        for v in 0..nv {
            let (a, b) = (offsets[v] as usize, offsets[v + 1] as usize);
            if b - a < 2 {
                continue;
            }
            row.clear();
            row.extend((a..b).map(|i| (label_of(edges[i]), nbrs[i], edges[i])));
            if row
                .windows(2)
                .all(|w| (w[0].0, w[0].1, w[0].2) <= (w[1].0, w[1].1, w[1].2))
            {
                continue;
            }
            row.sort_unstable();
            for (i, (_, n, e)) in row.iter().enumerate() {
                nbrs[a + i] = *n;
                edges[a + i] = *e;
            }
        }
        Csr {
            offsets,
            nbrs,
            edges,
        }
    }

    fn range(&self, v: u32) -> (usize, usize) {
        let v = v as usize;
        match (self.offsets.get(v), self.offsets.get(v + 1)) {
            (Some(&a), Some(&b)) => (a as usize, b as usize),
            _ => (0, 0),
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
        let (a, b) = self.range(v);
        self.nbrs[a..b]
            .iter()
            .copied()
            .zip(self.edges[a..b].iter().copied())
    }

    /// The neighbour slice of `v`'s row (for counting and fast expansion).
    #[inline]
    pub fn neighbour_slice(&self, v: u32) -> &[u32] {
        let (a, b) = self.range(v);
        &self.nbrs[a..b]
    }

    /// `(neighbour, edge)` pairs of `v`'s row with edge label `label`.
    pub fn neighbours_with_label<'a>(
        &'a self,
        v: u32,
        label: Sym,
        label_of: &dyn Fn(u32) -> Sym,
    ) -> impl Iterator<Item = (u32, u32)> + 'a {
        let (a, b) = self.range(v);
        let row = &self.edges[a..b];
        let lo = row.partition_point(|e| label_of(*e) < label);
        let hi = row.partition_point(|e| label_of(*e) <= label);
        self.nbrs[a + lo..a + hi]
            .iter()
            .copied()
            .zip(self.edges[a + lo..a + hi].iter().copied())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_grouped_by_label() {
        let labels = [1u32, 0, 1, 0];
        let lab = |e: u32| labels[e as usize];
        let csr = Csr::build(3, &[(0, 2, 0), (0, 1, 1), (0, 1, 2), (1, 2, 3)], &lab);
        assert_eq!(csr.degree(0), 3);
        assert_eq!(
            csr.neighbours_with_label(0, 1, &lab).collect::<Vec<_>>(),
            vec![(1, 2), (2, 0)]
        );
        assert_eq!(
            csr.neighbours_with_label(0, 0, &lab).collect::<Vec<_>>(),
            vec![(1, 1)]
        );
        assert_eq!(csr.neighbours(2).count(), 0);
        assert_eq!(csr.neighbours(7).count(), 0);
    }
}
