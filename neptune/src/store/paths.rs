//! Shortest paths between two vertices: a bidirectional breadth-first search.
//!
//! The search grows a frontier from each end (edges followed forwards from the source and
//! backwards from the target) and always expands the smaller one by a whole level, so on a
//! power-law graph it visits the neighbourhoods of both ends to about half the distance instead
//! of everything within the full distance of the source.
//!
//! Guarantee: the path returned is a shortest one (fewest edges). When the first vertex reached
//! from one side is already known to the other, no shorter path exists: every vertex within the
//! expanded levels of both sides has been compared, so the path's length is one more than the
//! levels expanded so far.

use hashbrown::HashMap;
use hashbrown::hash_map::Entry;

use super::{Direction, Graph, Sym};

impl Graph {
    /// A shortest path from `a` to `b` following edges in `dir` with labels in `labels` (all if
    /// empty); the vertices on it, `a` first. `None` when either vertex is missing or `b` cannot
    /// be reached.
    pub fn shortest_path(
        &self,
        a: u32,
        b: u32,
        dir: Direction,
        labels: &[Sym],
    ) -> Option<Vec<u32>> {
        if self.vertex(a).is_none() || self.vertex(b).is_none() {
            return None;
        }
        if a == b {
            return Some(vec![a]);
        }
        let back = match dir {
            Direction::Out => Direction::In,
            Direction::In => Direction::Out,
            Direction::Both => Direction::Both,
        };
        // Each side's vertices with the neighbour they were reached from (towards its end).
        let mut from_a: HashMap<u32, u32> = HashMap::default();
        let mut from_b: HashMap<u32, u32> = HashMap::default();
        from_a.insert(a, a);
        from_b.insert(b, b);
        let (mut front_a, mut front_b) = (vec![a], vec![b]);
        let meet = loop {
            if front_a.is_empty() || front_b.is_empty() {
                return None;
            }
            let forward = front_a.len() <= front_b.len();
            let (front, seen, other, d) = if forward {
                (&mut front_a, &mut from_a, &from_b, dir)
            } else {
                (&mut front_b, &mut from_b, &from_a, back)
            };
            let mut next = Vec::new();
            let mut meet = None;
            for &v in front.iter() {
                self.for_each_adjacent(v, d, labels, &mut |n, _| {
                    if let Entry::Vacant(e) = seen.entry(n) {
                        e.insert(v);
                        next.push(n);
                        if meet.is_none() && other.contains_key(&n) {
                            meet = Some(n);
                        }
                    }
                });
                if meet.is_some() {
                    break;
                }
            }
            *front = next;
            if let Some(m) = meet {
                break m;
            }
        };
        let mut path = vec![meet];
        let mut cur = meet;
        while cur != a {
            cur = *from_a.get(&cur)?;
            path.push(cur);
        }
        path.reverse();
        cur = meet;
        while cur != b {
            cur = *from_b.get(&cur)?;
            path.push(cur);
        }
        Some(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    /// Distances from `a` by plain breadth-first search.
    fn distances(g: &Graph, a: u32, dir: Direction, labels: &[Sym]) -> HashMap<u32, usize> {
        let mut d = HashMap::default();
        d.insert(a, 0);
        let mut front = vec![a];
        let mut k = 0;
        while !front.is_empty() {
            k += 1;
            let mut next = Vec::new();
            for &v in &front {
                g.for_each_adjacent(v, dir, labels, &mut |n, _| {
                    if let Entry::Vacant(e) = d.entry(n) {
                        e.insert(k);
                        next.push(n);
                    }
                });
            }
            front = next;
        }
        d
    }

    proptest::proptest! {
        /// The path is as short as a one-sided search says and follows real edges.
        #[test]
        fn paths_are_shortest_and_real(
            edges in proptest::collection::vec((0..12u32, 0..12u32, 0..2u8), 0..40),
            compact in proptest::bool::ANY,
        ) {
            let mut g = Graph::new();
            for i in 0..12 {
                g.add_vertex(Value::str(&format!("v{i}")), &["v"]).unwrap();
            }
            for (i, (s, d, l)) in edges.iter().enumerate() {
                let label = if *l == 0 { "x" } else { "y" };
                g.add_edge(Value::str(&format!("e{i}")), label, *s, *d).unwrap();
            }
            if compact {
                g.compact();
            }
            let x = g.symbols().lookup("x");
            let only_x: Vec<Sym> = x.into_iter().collect();
            for dir in [Direction::Out, Direction::In, Direction::Both] {
                for labels in [&[][..], &only_x[..]] {
                    for a in 0..12 {
                        let dist = distances(&g, a, dir, labels);
                        for b in 0..12 {
                            let p = g.shortest_path(a, b, dir, labels);
                            proptest::prop_assert_eq!(p.as_ref().map(|p| p.len() - 1), dist.get(&b).copied());
                            if let Some(p) = p {
                                proptest::prop_assert_eq!((p[0], p[p.len() - 1]), (a, b));
                                for w in p.windows(2) {
                                    let mut ok = false;
                                    g.for_each_adjacent(w[0], dir, labels, &mut |n, _| ok |= n == w[1]);
                                    proptest::prop_assert!(ok);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
