//! A deterministic power-law graph generator in the shape of LDBC's social network: `person`
//! vertices (`name`, `age`), `post` vertices, `knows` edges between persons whose degrees follow
//! a power law (targets drawn with a Zipf-like skew, so a few persons are hubs), and `created`
//! edges from persons to posts. Used by the benches and the side-by-side peer script; output is a
//! [`Graph`] or Neptune Gremlin CSV, identical for a given size and seed.

use std::fmt::Write as _;

use crate::store::{Cardinality, Graph};
use crate::value::Value;

/// The shape of a generated graph.
#[derive(Debug, Clone, Copy)]
pub struct PowerLaw {
    /// Total edges (`knows` plus `created`).
    pub edges: usize,
    /// The seed.
    pub seed: u64,
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl PowerLaw {
    /// Persons: one per ten edges.
    pub fn persons(&self) -> usize {
        (self.edges / 10).max(2)
    }

    /// Posts: one per twenty edges.
    pub fn posts(&self) -> usize {
        (self.edges / 20).max(1)
    }

    /// Calls `f(kind, from, to)` for every edge (`kind` 0 = knows person→person, 1 = created
    /// person→post), in a fixed order.
    pub fn for_each_edge(&self, mut f: impl FnMut(u8, usize, usize)) {
        let (np, nq) = (self.persons(), self.posts());
        let knows = self.edges * 8 / 10;
        let mut rng = Rng(self.seed | 1);
        for _ in 0..knows {
            let a = (rng.next() % np as u64) as usize;
            // Zipf-like skew for the target: u^3 concentrates on low indexes (the hubs).
            let u = rng.unit();
            let b = ((u * u * u) * np as f64) as usize % np;
            f(0, a, if b == a { (b + 1) % np } else { b });
        }
        for _ in knows..self.edges {
            let u = rng.unit();
            let a = ((u * u) * np as f64) as usize % np;
            let p = (rng.next() % nq as u64) as usize;
            f(1, a, p);
        }
    }

    /// The age of person `i`.
    pub fn age(i: usize) -> i32 {
        18 + (i * 7919 % 60) as i32
    }

    /// Builds the graph directly, compacted.
    pub fn graph(&self) -> Graph {
        let mut g = Graph::new();
        let mut ids = Vec::with_capacity(self.persons() + self.posts());
        for i in 0..self.persons() {
            if let Ok(v) = g.add_vertex(Value::str(&format!("p{i}")), &["person"]) {
                let _ = g.set_vertex_property(
                    v,
                    Cardinality::Single,
                    "age",
                    Value::Int(Self::age(i)),
                    vec![],
                );
                ids.push(v);
            }
        }
        let base = ids.len();
        for i in 0..self.posts() {
            if let Ok(v) = g.add_vertex(Value::str(&format!("m{i}")), &["post"]) {
                ids.push(v);
            }
        }
        let mut n = 0usize;
        self.for_each_edge(|kind, a, b| {
            let (label, to) = if kind == 0 {
                ("knows", ids[b])
            } else {
                ("created", ids[base + b])
            };
            let _ = g.add_edge(Value::Long(n as i64), label, ids[a], to);
            n += 1;
        });
        g.compact();
        g
    }

    /// Neptune Gremlin CSV: `(vertices.csv, edges.csv)`.
    pub fn csv(&self) -> (String, String) {
        let mut v = String::from("~id,~label,age:Int\n");
        for i in 0..self.persons() {
            let _ = writeln!(v, "p{i},person,{}", Self::age(i));
        }
        for i in 0..self.posts() {
            let _ = writeln!(v, "m{i},post,");
        }
        let mut e = String::from("~id,~from,~to,~label\n");
        let mut n = 0usize;
        self.for_each_edge(|kind, a, b| {
            if kind == 0 {
                let _ = writeln!(e, "{n},p{a},p{b},knows");
            } else {
                let _ = writeln!(e, "{n},p{a},m{b},created");
            }
            n += 1;
        });
        (v, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_and_csv_agree() {
        let p = PowerLaw {
            edges: 2000,
            seed: 7,
        };
        let g = p.graph();
        assert_eq!(g.edge_count(), 2000);
        assert_eq!(g.vertex_count(), p.persons() + p.posts());
        let (v, e) = p.csv();
        assert_eq!(v.lines().count(), 1 + g.vertex_count());
        assert_eq!(e.lines().count(), 2001);
    }
}
