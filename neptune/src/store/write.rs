//! Mutations of a [`Graph`] and the compaction that folds deltas into the CSR.
//!
//! Every mutation keeps the indexes consistent (an index may keep a stale candidate, which
//! readers re-check, but never misses a live one). Mutations run on a private clone of a
//! snapshot; the database publishes the clone only if the whole request succeeded.

use std::sync::Arc;

use super::chunk::ChunkVec;
use super::csr::{self, Csr};
use super::edge_index::PreparedBase;
use super::ids::IdKey;
use super::{Adj, Cardinality, DEAD, Direction, Graph, Sym, VProp, VertexRec};
use crate::error::{Error, Result};
use crate::value::Value;

const EDGE_BIT: u64 = 1 << 32;

/// Delta edges below which compaction never runs (small graphs stay all-delta).
pub(super) const MIN_COMPACT_DELTA: usize = 1 << 16;

impl Graph {
    /// The symbol for `s`, interning it.
    pub fn intern(&mut self, s: &str) -> Sym {
        self.syms.intern(s)
    }

    /// Adds a vertex with user id `id` and `labels`.
    pub fn add_vertex(&mut self, id: Value, labels: &[&str]) -> Result<u32> {
        if self.vertex_by_id(&id).is_some() {
            return Err(Error::ConstraintViolation(format!(
                "Vertex with id already exists: {}",
                display_id(&id)
            )));
        }
        let v = self.vertices.len() as u32;
        let mut syms: Vec<Sym> = Vec::with_capacity(labels.len().max(1));
        for l in labels {
            let s = self.syms.intern(l);
            if !syms.contains(&s) {
                syms.push(s);
            }
        }
        if syms.is_empty() {
            syms.push(self.syms.intern("vertex"));
        }
        for &s in &syms {
            self.label_index.entry_mut(s, Vec::new).push(v);
        }
        self.v_index.insert(IdKey::from_value(&id), v);
        self.touched.push(u64::from(v));
        self.vertices.push(VertexRec {
            id,
            labels: syms,
            props: Vec::new(),
            alive: true,
            out_delta: Vec::new(),
            in_delta: Vec::new(),
        });
        self.live_vertices += 1;
        Ok(v)
    }

    /// Adds an edge `src -label-> dst` with user id `id`.
    pub fn add_edge(&mut self, id: Value, label: &str, src: u32, dst: u32) -> Result<u32> {
        if self.edge_by_id(&id).is_some() {
            return Err(Error::ConstraintViolation(format!(
                "Edge with id already exists: {}",
                display_id(&id)
            )));
        }
        if self.vertex(src).is_none() || self.vertex(dst).is_none() {
            return Err(Error::ConstraintViolation(
                "Edge endpoints must be existing vertices".into(),
            ));
        }
        let l = self.syms.intern(label);
        let e = self.e_label.len() as u32;
        self.touched
            .extend([u64::from(e) | EDGE_BIT, u64::from(src), u64::from(dst)]);
        self.e_src.push(src);
        self.e_dst.push(dst);
        self.e_label.push(l);
        let key = IdKey::from_value(&id);
        self.e_index.insert(key.clone(), e);
        self.e_ids.push(key);
        self.e_props.push(None);
        if let Some(r) = self.vertices.get_mut(src as usize) {
            r.out_delta.push(Adj {
                label: l,
                nbr: dst,
                eid: e,
            });
        }
        if let Some(r) = self.vertices.get_mut(dst as usize) {
            r.in_delta.push(Adj {
                label: l,
                nbr: src,
                eid: e,
            });
        }
        self.live_edges += 1;
        self.delta_edges += 1;
        Ok(e)
    }

    /// Sets a vertex property with `card`; returns the property's id.
    pub fn set_vertex_property(
        &mut self,
        v: u32,
        card: Cardinality,
        key: &str,
        value: Value,
        meta: Vec<(Sym, Value)>,
    ) -> Result<u64> {
        if self.vertex(v).is_none() {
            return Err(Error::Evaluation(format!("The vertex does not exist: {v}")));
        }
        let k = self.syms.intern(key);
        self.touched.push(u64::from(v));
        let pid = self.next_prop_id;
        self.next_prop_id += 1;
        let rec = self
            .vertices
            .get_mut(v as usize)
            .ok_or_else(|| Error::Evaluation("missing vertex".into()))?;
        let slot = match rec.props.iter().position(|(kk, _)| *kk == k) {
            Some(i) => i,
            None => {
                rec.props.push((k, Vec::new()));
                rec.props.len() - 1
            }
        };
        let values = &mut rec.props[slot].1;
        match card {
            Cardinality::Single => values.clear(),
            Cardinality::Set => {
                if let Some(existing) = values.iter_mut().find(|p| p.value == value) {
                    existing.meta.extend(meta);
                    return Ok(existing.id);
                }
            }
            Cardinality::List => {}
        }
        values.push(VProp {
            id: pid,
            value: value.clone(),
            meta,
        });
        let cands = self.prop_index.entry_mut((k, value), Vec::new);
        if cands.last() != Some(&v) {
            cands.push(v);
        }
        Ok(pid)
    }

    /// Sets a meta-property on the vertex property `pid` of `v`.
    pub fn set_meta_property(&mut self, v: u32, pid: u64, key: &str, value: Value) -> Result<()> {
        let k = self.syms.intern(key);
        self.touched.push(u64::from(v));
        let rec = self
            .vertices
            .get_mut(v as usize)
            .ok_or_else(|| Error::Evaluation("missing vertex".into()))?;
        for (_, vals) in rec.props.iter_mut() {
            if let Some(p) = vals.iter_mut().find(|p| p.id == pid) {
                p.meta.retain(|(mk, _)| *mk != k);
                p.meta.push((k, value));
                return Ok(());
            }
        }
        Err(Error::Evaluation(
            "The vertex property does not exist".into(),
        ))
    }

    /// Removes every value of `key` from `v` (or only the one with id `pid`).
    pub fn remove_vertex_property(&mut self, v: u32, key: Sym, pid: Option<u64>) {
        self.touched.push(u64::from(v));
        if let Some(rec) = self.vertices.get_mut(v as usize) {
            for (k, vals) in rec.props.iter_mut() {
                if *k == key {
                    match pid {
                        Some(id) => vals.retain(|p| p.id != id),
                        None => vals.clear(),
                    }
                }
            }
            rec.props.retain(|(_, vals)| !vals.is_empty());
        }
    }

    /// Removes a meta-property.
    pub fn remove_meta_property(&mut self, v: u32, pid: u64, key: Sym) {
        if let Some(rec) = self.vertices.get_mut(v as usize) {
            for (_, vals) in rec.props.iter_mut() {
                for p in vals.iter_mut().filter(|p| p.id == pid) {
                    p.meta.retain(|(k, _)| *k != key);
                }
            }
        }
    }

    /// Sets an edge property.
    pub fn set_edge_property(&mut self, e: u32, key: &str, value: Value) -> Result<()> {
        if !self.edge_alive(e) {
            return Err(Error::Evaluation("The edge does not exist".into()));
        }
        let k = self.syms.intern(key);
        self.touched.push(u64::from(e) | EDGE_BIT);
        let slot = self
            .e_props
            .get_mut(e as usize)
            .ok_or_else(|| Error::Evaluation("missing edge".into()))?;
        let props = Arc::make_mut(slot.get_or_insert_with(Default::default));
        match props.iter_mut().find(|(kk, _)| *kk == k) {
            Some(p) => p.1 = value,
            None => props.push((k, value)),
        }
        Ok(())
    }

    /// Removes an edge property.
    pub fn remove_edge_property(&mut self, e: u32, key: Sym) {
        self.touched.push(u64::from(e) | EDGE_BIT);
        if let Some(Some(props)) = self.e_props.get_mut(e as usize) {
            Arc::make_mut(props).retain(|(k, _)| *k != key);
        }
    }

    /// Drops an edge.
    pub fn drop_edge(&mut self, e: u32) {
        if !self.edge_alive(e) {
            return;
        }
        if let Some((s, d, _)) = self.edge(e) {
            self.touched
                .extend([u64::from(e) | EDGE_BIT, u64::from(s), u64::from(d)]);
        }
        if let Some(l) = self.e_label.get_mut(e as usize) {
            *l = DEAD;
        }
        if let Some(id) = self.e_ids.get(e as usize).cloned() {
            self.e_index.remove(&id);
        }
        self.live_edges -= 1;
        self.dead_edges += 1;
    }

    /// Drops a vertex and its edges.
    pub fn drop_vertex(&mut self, v: u32) {
        if self.vertex(v).is_none() {
            return;
        }
        let mut incident = Vec::new();
        self.for_each_adjacent(v, Direction::Both, &[], &mut |_, e| incident.push(e));
        for e in incident {
            self.drop_edge(e);
        }
        self.touched.push(u64::from(v));
        let id = match self.vertices.get_mut(v as usize) {
            Some(rec) => {
                rec.alive = false;
                rec.props.clear();
                std::mem::replace(&mut rec.id, Value::Null)
            }
            None => return,
        };
        self.v_index.remove(&IdKey::from_value(&id));
        self.live_vertices -= 1;
    }

    /// The elements written since the last call, sorted and unique.
    pub fn take_touched(&mut self) -> Vec<u64> {
        let mut t = std::mem::take(&mut self.touched);
        t.sort_unstable();
        t.dedup();
        t
    }

    /// Whether enough delta edges (or dropped edges) have accumulated for a compaction.
    pub fn needs_compaction(&self) -> bool {
        let base = self.e_label.len() - self.delta_edges;
        let min = MIN_COMPACT_DELTA.max(base / 4);
        self.delta_edges >= min || self.dead_edges > min
    }

    /// Folds delta edges into the CSR if enough have accumulated; true if it did (edge indexes
    /// changed: see [`Graph::compact`]).
    pub fn maybe_compact(&mut self) -> bool {
        let run = self.needs_compaction();
        if run {
            self.compact();
        }
        run
    }

    /// Rebuilds both CSRs from every live edge and merges the index deltas.
    ///
    /// Edges are renumbered in out-row order (by source, then label, then insertion), which is
    /// what lets the out CSR store no edge column; dropped edges disappear from every column.
    /// Edge indexes held from before a compaction are therefore stale: the database never
    /// compacts while a request runs, and treats a compaction as a barrier for conflict checks.
    pub fn compact(&mut self) {
        let nv = self.vertices.len();
        let ne = self.e_label.len();
        // Flat copies of the columns: the sorts below read them at random.
        let src: Vec<u32> = self.e_src.iter().copied().collect();
        let dst: Vec<u32> = self.e_dst.iter().copied().collect();
        let lab: Vec<Sym> = self.e_label.iter().copied().collect();
        let nl = lab
            .iter()
            .filter(|l| **l != DEAD)
            .max()
            .map_or(0, |m| *m as usize + 1);
        let live: Vec<u32> = (0..ne as u32)
            .filter(|e| lab[*e as usize] != DEAD && (src[*e as usize] as usize) < nv)
            .collect();
        // Out rows: stable counting sorts by label, then by source.
        let (by_label, _) = csr::counting_sort(&live, nl, |e| lab[e as usize]);
        drop(live);
        let (order, out_off) = csr::counting_sort(&by_label, nv, |e| src[e as usize]);
        drop(by_label);
        let identity = order.len() == ne && order.iter().enumerate().all(|(i, e)| *e as usize == i);
        let (n_src, n_dst, n_lab): (Vec<u32>, Vec<u32>, Vec<Sym>) = if identity {
            (src, dst, lab)
        } else {
            (
                order.iter().map(|e| src[*e as usize]).collect(),
                order.iter().map(|e| dst[*e as usize]).collect(),
                order.iter().map(|e| lab[*e as usize]).collect(),
            )
        };
        if !identity {
            // Ids and properties move to their new places (copied only where a snapshot
            // shares their chunk).
            let mut old_ids = std::mem::take(&mut self.e_ids).into_vec();
            self.e_ids.extend(order.iter().map(|e| {
                old_ids
                    .get_mut(*e as usize)
                    .map(|v| std::mem::replace(v, IdKey::EMPTY))
                    .unwrap_or(IdKey::EMPTY)
            }));
            drop(old_ids);
            let mut old_props = std::mem::take(&mut self.e_props).into_vec();
            self.e_props.extend(
                order
                    .iter()
                    .map(|e| old_props.get_mut(*e as usize).and_then(Option::take)),
            );
            drop(old_props);
            let mut col = ChunkVec::new();
            col.extend(n_src.iter().copied());
            self.e_src = col;
            let mut col = ChunkVec::new();
            col.extend(n_lab.iter().copied());
            self.e_label = col;
            let mut col = ChunkVec::new();
            col.extend(n_dst.iter().copied());
            self.e_dst = col;
        }
        drop(order);
        self.install_csr(out_off, &n_src, n_dst, &n_lab, nl, None);
    }

    /// Installs the CSRs of edges already in out-row order (`out_off` their source offsets,
    /// `src`/`dst`/`lab` their columns, `nl` above every label), builds the in rows, drops the
    /// vertices' deltas, and installs the id index (`index`: built already from the ids'
    /// hashes, or to be built from the id column).
    pub(super) fn install_csr(
        &mut self,
        out_off: Vec<u32>,
        n_src: &[u32],
        n_dst: Vec<u32>,
        n_lab: &[Sym],
        nl: usize,
        index: Option<PreparedBase>,
    ) {
        let rows = in_rows(n_src, &n_dst, n_lab, nl, self.vertices.len());
        self.install_rows(out_off, n_dst, rows, index);
    }

    /// [`Graph::install_csr`] with the in rows already built ([`in_rows`]).
    pub(super) fn install_rows(
        &mut self,
        out_off: Vec<u32>,
        n_dst: Vec<u32>,
        (in_off, in_nbrs, in_edges): InRows,
        index: Option<PreparedBase>,
    ) {
        let nv = self.vertices.len();
        self.out_csr = Arc::new(Csr::from_parts(out_off, n_dst, Vec::new()));
        self.in_csr = Arc::new(Csr::from_parts(in_off, in_nbrs, in_edges));
        for v in 0..nv {
            let has_delta = self
                .vertices
                .get(v)
                .is_some_and(|r| !r.out_delta.is_empty() || !r.in_delta.is_empty());
            if has_delta && let Some(r) = self.vertices.get_mut(v) {
                r.out_delta = Vec::new();
                r.in_delta = Vec::new();
            }
        }
        self.dead_edges = 0;
        self.delta_edges = 0;
        // Every edge left in the columns is live: the id index is rebuilt from them.
        match index {
            Some(b) => self.e_index.install(b),
            None => self
                .e_index
                .rebuild(self.e_ids.iter().enumerate().map(|(e, k)| (e as u32, k))),
        }
        self.v_index.merge();
        self.label_index.merge();
        self.prop_index.merge();
    }
}

/// The in rows of a CSR: offsets per target, sources, and edge indexes.
pub(super) type InRows = (Vec<u32>, Vec<u32>, Vec<u32>);

/// The in rows of edges in out-row order (columns `src`, `dst`, `lab`; `nl` above every label;
/// `nv` vertices): edge indexes sorted stably by label, then by target.
pub(super) fn in_rows(src: &[u32], dst: &[u32], lab: &[Sym], nl: usize, nv: usize) -> InRows {
    let all: Vec<u32> = (0..src.len() as u32).collect();
    let (by_label, _) = csr::counting_sort(&all, nl, |e| lab[e as usize]);
    drop(all);
    let (in_edges, in_off) = csr::counting_sort(&by_label, nv, |e| dst[e as usize]);
    drop(by_label);
    let in_nbrs: Vec<u32> = in_edges.iter().map(|e| src[*e as usize]).collect();
    (in_off, in_nbrs, in_edges)
}

/// An id as messages show it.
pub fn display_id(id: &Value) -> String {
    match id {
        Value::Str(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Long(l) => l.to_string(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn triangle() -> (Graph, [u32; 3]) {
        let mut g = Graph::new();
        let a = g.add_vertex(Value::str("a"), &["person"]).unwrap();
        let b = g.add_vertex(Value::str("b"), &["person"]).unwrap();
        let c = g.add_vertex(Value::str("c"), &["software"]).unwrap();
        g.add_edge(Value::str("e1"), "knows", a, b).unwrap();
        g.add_edge(Value::str("e2"), "created", a, c).unwrap();
        g.add_edge(Value::str("e3"), "created", b, c).unwrap();
        (g, [a, b, c])
    }

    fn out_of(g: &Graph, v: u32, labels: &[Sym]) -> Vec<u32> {
        let mut n = Vec::new();
        g.for_each_adjacent(v, Direction::Out, labels, &mut |x, _| n.push(x));
        n.sort_unstable();
        n
    }

    #[test]
    fn delta_and_csr_agree() {
        let (mut g, [a, b, c]) = triangle();
        let created = g.symbols().lookup("created").unwrap();
        assert_eq!(out_of(&g, a, &[]), vec![b, c]);
        assert_eq!(out_of(&g, a, &[created]), vec![c]);
        let snapshot = g.clone();
        g.compact();
        assert_eq!(out_of(&g, a, &[]), vec![b, c]);
        assert_eq!(out_of(&g, a, &[created]), vec![c]);
        assert_eq!(g.degree(c, Direction::In, &[]), 2);
        g.add_edge(Value::str("e4"), "knows", c, a).unwrap();
        g.drop_edge(0);
        assert_eq!(out_of(&g, a, &[]), vec![c]);
        assert_eq!(out_of(&g, c, &[]), vec![a]);
        assert_eq!(out_of(&snapshot, a, &[]), vec![b, c]);
        assert_eq!(g.edge_count(), 3);
    }

    #[test]
    fn ids_are_unique_and_drop_cascades() {
        let (mut g, [a, _, c]) = triangle();
        assert!(matches!(
            g.add_vertex(Value::str("a"), &["x"]),
            Err(Error::ConstraintViolation(_))
        ));
        g.drop_vertex(a);
        assert_eq!(g.edge_count(), 1);
        assert!(g.vertex_by_id(&Value::str("a")).is_none());
        assert_eq!(g.degree(c, Direction::In, &[]), 1);
        assert!(g.add_vertex(Value::str("a"), &["x"]).is_ok());
    }

    #[test]
    fn compaction_renumbers_edges_and_keeps_them_whole() {
        let (mut g, [a, b, c]) = triangle();
        g.set_edge_property(2, "w", Value::Int(7)).unwrap();
        g.add_edge(Value::str("e4"), "knows", c, a).unwrap();
        g.add_edge(Value::str("e5"), "created", a, b).unwrap();
        g.drop_edge(0);
        let before = g.clone();
        g.compact();
        assert!(g.out_csr.identity());
        assert_eq!(g.edge_count(), 4);
        assert_eq!(g.e_label.len(), 4, "dropped edges leave the columns");
        let ends = |g: &Graph, id: &str| {
            let e = g.edge_by_id(&Value::str(id)).unwrap();
            let (s, d, l) = g.edge(e).unwrap();
            (s, d, g.symbols().name(l), g.edge_props(e).to_vec())
        };
        for id in ["e2", "e3", "e4", "e5"] {
            assert_eq!(ends(&g, id), ends(&before, id), "{id}");
        }
        assert!(g.edge_by_id(&Value::str("e1")).is_none());
        let w = g.symbols().lookup("w").unwrap();
        assert_eq!(ends(&g, "e3").3, vec![(w, Value::Int(7))]);
        // Every adjacency entry names an edge with the right ends, both directions.
        for v in [a, b, c] {
            g.for_each_adjacent(v, Direction::Out, &[], &mut |n, e| {
                assert_eq!(g.edge(e).map(|x| (x.0, x.1)), Some((v, n)));
            });
            g.for_each_adjacent(v, Direction::In, &[], &mut |n, e| {
                assert_eq!(g.edge(e).map(|x| (x.0, x.1)), Some((n, v)));
            });
        }
        let created = g.symbols().lookup("created").unwrap();
        assert_eq!(out_of(&g, a, &[created]), vec![b, c]);
        assert_eq!(g.degree(a, Direction::Out, &[]), 2);
        // The snapshot taken before still reads its own numbering.
        assert_eq!(out_of(&before, a, &[]), vec![b, c]);
    }

    #[test]
    fn cardinalities() {
        let (mut g, [a, ..]) = triangle();
        g.set_vertex_property(a, Cardinality::Set, "k", Value::Int(1), vec![])
            .unwrap();
        g.set_vertex_property(a, Cardinality::Set, "k", Value::Int(1), vec![])
            .unwrap();
        let k = g.symbols().lookup("k").unwrap();
        assert_eq!(g.vertex_prop(a, k).len(), 1);
        g.set_vertex_property(a, Cardinality::List, "k", Value::Int(1), vec![])
            .unwrap();
        assert_eq!(g.vertex_prop(a, k).len(), 2);
        g.set_vertex_property(a, Cardinality::Single, "k", Value::Int(2), vec![])
            .unwrap();
        assert_eq!(g.vertex_prop(a, k).len(), 1);
        assert_eq!(g.prop_candidates(k, &Value::Int(2)), &[a]);
    }
}
