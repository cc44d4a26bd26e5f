//! Appending a batch of edges in bulk (the loader's path): the duplicate-id check, and for a
//! graph with no edges yet, a build of the adjacency straight from the batch's columns.
//!
//! A graph with no edges has nothing to merge with, so a large batch skips the generic path
//! (copying into the edge columns, then a compaction copying them back out, renumbering and
//! hashing every id again): it is sorted into out-row order once, from flat vectors, and the id
//! index is built from the hashes the batch carries. The result is the graph the generic path
//! gives, edge for edge.

use std::sync::Arc;

use parking_lot::Mutex;

use super::chunk::ChunkVec;
use super::csr;
use super::edge_index::{EdgeIndex, PreparedBase};
use super::ids::IdKey;
use super::write::{MIN_COMPACT_DELTA, in_rows};
use super::{Adj, EdgeProps, Graph, Sym, edge_index};
use crate::value::Value;

/// Edges for [`Graph::append_edges`], as flat columns.
#[derive(Debug, Default)]
pub struct EdgeBatch {
    /// Sources.
    pub src: Vec<u32>,
    /// Targets.
    pub dst: Vec<u32>,
    /// Labels.
    pub label: Vec<Sym>,
    /// User ids.
    pub ids: Vec<IdKey>,
    /// Each id's [`Graph::edge_id_hash`], or empty to have them computed on append.
    pub hashes: Vec<u64>,
    /// Properties of the edges that have some: `(position in the batch, properties)`, in
    /// position order.
    pub props: Vec<(u32, Vec<(Sym, Value)>)>,
}

impl EdgeBatch {
    /// The number of edges.
    pub fn len(&self) -> usize {
        self.src.len()
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.src.is_empty()
    }

    /// Removes the edges at `positions` (ascending), keeping the others in order.
    fn remove(&mut self, positions: &[usize]) {
        let mut gone = positions.iter().copied().peekable();
        let keep: Vec<bool> = (0..self.len())
            .map(|i| {
                let skip = gone.peek() == Some(&i);
                if skip {
                    gone.next();
                }
                !skip
            })
            .collect();
        let mut i = 0;
        self.src.retain(|_| (keep[i], i += 1).0);
        i = 0;
        self.dst.retain(|_| (keep[i], i += 1).0);
        i = 0;
        self.label.retain(|_| (keep[i], i += 1).0);
        i = 0;
        self.ids.retain(|_| (keep[i], i += 1).0);
        i = 0;
        self.hashes.retain(|_| (keep[i], i += 1).0);
        // Each kept edge moves down by the number of removed edges before it.
        let mut new_pos = Vec::with_capacity(keep.len());
        let mut next = 0u32;
        for k in &keep {
            new_pos.push(next);
            next += u32::from(*k);
        }
        self.props
            .retain(|(p, _)| keep.get(*p as usize) == Some(&true));
        for (p, _) in &mut self.props {
            *p = new_pos[*p as usize];
        }
    }
}

impl Graph {
    /// Appends edges `(user id, label, source, target)` whose endpoints are known to be live,
    /// without touching the touched set, then makes them visible: by building the adjacency
    /// from the batch when the graph has no edges, by a compaction when the batch is large
    /// against the graph, else through the delta buffers. The bulk loader's path. An edge whose
    /// id a live edge or an earlier edge of the batch has is skipped; returns how many were.
    pub fn append_edges(&mut self, batch: EdgeBatch) -> usize {
        self.append_edges_on(batch, 1)
    }

    /// [`Graph::append_edges`] on up to `threads` threads.
    pub fn append_edges_on(&mut self, mut batch: EdgeBatch, threads: usize) -> usize {
        if batch.hashes.len() != batch.ids.len() {
            batch.hashes = batch.ids.iter().map(|k| self.e_index.hash_key(k)).collect();
        }
        let mut dups = edge_index::later_duplicates(&batch.hashes, &batch.ids);
        if !self.e_index.is_empty() {
            for (i, (k, h)) in batch.ids.iter().zip(&batch.hashes).enumerate() {
                let live = self
                    .e_index
                    .get(k, *h, |e| self.e_ids.get(e as usize) == Some(k))
                    .is_some_and(|e| self.edge_alive(e));
                if live {
                    dups.push(i);
                }
            }
            dups.sort_unstable();
            dups.dedup();
        }
        let skipped = dups.len();
        if skipped > 0 {
            batch.remove(&dups);
        }
        if self.e_label.is_empty() && batch.len() >= MIN_COMPACT_DELTA {
            self.build_from(batch, threads);
            return skipped;
        }
        let first = self.e_label.len() as u32;
        let n = batch.src.len();
        self.e_src.extend(batch.src.iter().copied());
        self.e_dst.extend(batch.dst.iter().copied());
        self.e_label.extend(batch.label.iter().copied());
        let mut props = batch.props.into_iter().peekable();
        self.e_props.extend(
            (0..n as u32).map(|i| props.next_if(|(j, _)| *j == i).map(|(_, p)| Arc::new(p))),
        );
        self.live_edges += n;
        self.delta_edges += n;
        if self.needs_compaction() {
            // The compaction rebuilds the id index from the id column in one pass.
            self.e_ids.extend(batch.ids);
            self.compact();
            return skipped;
        }
        self.e_index.reserve(n);
        for (i, id) in batch.ids.iter().enumerate() {
            self.e_index.insert(id.clone(), first + i as u32);
        }
        self.e_ids.extend(batch.ids);
        for i in 0..n {
            let e = first + i as u32;
            let (s, d, l) = (batch.src[i], batch.dst[i], batch.label[i]);
            if let Some(r) = self.vertices.get_mut(s as usize) {
                r.out_delta.push(Adj {
                    label: l,
                    nbr: d,
                    eid: e,
                });
            }
            if let Some(r) = self.vertices.get_mut(d as usize) {
                r.in_delta.push(Adj {
                    label: l,
                    nbr: s,
                    eid: e,
                });
            }
        }
        skipped
    }

    /// Makes `batch` (unique ids, live endpoints) the edges of this graph, which has none: the
    /// edges are numbered in out-row order (by source, then label, then batch order), as a
    /// compaction would number them. With `threads` above one, the id side (ids, properties and
    /// the id index) is built on a second thread while this one builds the adjacency.
    fn build_from(&mut self, batch: EdgeBatch, threads: usize) {
        let nv = self.vertices.len();
        let n = batch.len();
        let EdgeBatch {
            src,
            dst,
            label,
            ids,
            hashes,
            props,
        } = batch;
        let nl = label.iter().max().map_or(0, |m| *m as usize + 1);
        let all: Vec<u32> = (0..n as u32).collect();
        let (by_label, _) = csr::counting_sort(&all, nl, |e| label[e as usize]);
        drop(all);
        let (order, out_off) = csr::counting_sort(&by_label, nv, |e| src[e as usize]);
        drop(by_label);
        let order = &order;
        // The id side's inputs, taken by whichever thread builds it.
        let work = Mutex::new(Some((ids, props, hashes)));
        let (rows, n_dst, side) = std::thread::scope(|s| {
            let job = if threads > 1 {
                std::thread::Builder::new()
                    .name("neptune-ids".into())
                    .spawn_scoped(s, || work.lock().take().map(|w| id_side(w, order)))
                    .ok()
            } else {
                None
            };
            let permute =
                |col: &[u32]| -> Vec<u32> { order.iter().map(|e| col[*e as usize]).collect() };
            let (n_src, n_dst, n_lab) = (permute(&src), permute(&dst), permute(&label));
            let rows = in_rows(&n_src, &n_dst, &n_lab, nl, nv);
            self.e_src = ChunkVec::new();
            self.e_src.extend(n_src.iter().copied());
            self.e_label = ChunkVec::new();
            self.e_label.extend(n_lab.iter().copied());
            self.e_dst = ChunkVec::new();
            self.e_dst.extend(n_dst.iter().copied());
            let side = job.and_then(|j| match j.join() {
                Ok(side) => side,
                // A panic there is a bug; it surfaces here as it would on this thread.
                Err(p) => std::panic::resume_unwind(p),
            });
            (rows, n_dst, side)
        });
        // No second thread (or it could not start): the id side is built here.
        let side = side.or_else(|| work.into_inner().map(|w| id_side(w, order)));
        let Some((e_ids, e_props, base)) = side else {
            return;
        };
        self.e_ids = e_ids;
        self.e_props = e_props;
        self.live_edges += n;
        self.install_rows(out_off, n_dst, rows, Some(base));
    }
}

/// The id side of a batch in out-row `order`: the id and property columns, and the id index
/// built from the ids' hashes.
fn id_side(
    (mut ids, props, hashes): IdInputs,
    order: &[u32],
) -> (ChunkVec<IdKey>, ChunkVec<EdgeProps>, PreparedBase) {
    let mut e_ids = ChunkVec::new();
    e_ids.extend(
        order
            .iter()
            .map(|e| std::mem::replace(&mut ids[*e as usize], IdKey::EMPTY)),
    );
    drop(ids);
    let mut by_pos: Vec<EdgeProps> = vec![None; order.len()];
    for (p, list) in props {
        if let Some(slot) = by_pos.get_mut(p as usize) {
            *slot = Some(Arc::new(list));
        }
    }
    let mut e_props = ChunkVec::new();
    e_props.extend(order.iter().map(|e| by_pos[*e as usize].take()));
    drop(by_pos);
    let hashes: Vec<u64> = order.iter().map(|e| hashes[*e as usize]).collect();
    (e_ids, e_props, EdgeIndex::prepare(&hashes))
}

/// A batch's ids, properties and id hashes.
type IdInputs = (Vec<IdKey>, Vec<(u32, Vec<(Sym, Value)>)>, Vec<u64>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Direction;

    fn out_of(g: &Graph, v: u32, labels: &[Sym]) -> Vec<u32> {
        let mut out = Vec::new();
        g.for_each_adjacent(v, Direction::Out, labels, &mut |n, _| out.push(n));
        out
    }

    fn triangle() -> (Graph, [u32; 3]) {
        let mut g = Graph::new();
        let a = g.add_vertex(Value::str("a"), &["person"]).unwrap();
        let b = g.add_vertex(Value::str("b"), &["person"]).unwrap();
        let c = g.add_vertex(Value::str("c"), &["software"]).unwrap();
        g.add_edge(Value::str("ab"), "knows", a, b).unwrap();
        g.add_edge(Value::str("ac"), "created", a, c).unwrap();
        g.add_edge(Value::str("bc"), "created", b, c).unwrap();
        (g, [a, b, c])
    }

    #[test]
    fn appended_batches_go_to_the_delta_or_compact() {
        let (mut g, [a, b, c]) = triangle();
        let knows = g.intern("knows");
        let batch = EdgeBatch {
            src: vec![b, c],
            dst: vec![c, b],
            label: vec![knows, knows],
            ids: vec![IdKey::text("x1"), IdKey::text("x2")],
            hashes: Vec::new(),
            props: vec![(1, vec![(knows, Value::Int(1))])],
        };
        g.append_edges(batch);
        assert_eq!(out_of(&g, b, &[knows]), vec![c]);
        assert_eq!(out_of(&g, c, &[]), vec![b]);
        let x2 = g.edge_by_str("x2").unwrap();
        assert_eq!(g.edge_props(x2).len(), 1);
        assert!(g.edge_props(g.edge_by_str("x1").unwrap()).is_empty());
        let n = MIN_COMPACT_DELTA;
        let batch = EdgeBatch {
            src: vec![a; n],
            dst: vec![b; n],
            label: vec![knows; n],
            ids: (0..n).map(|i| IdKey::text(&format!("y{i}"))).collect(),
            hashes: Vec::new(),
            props: Vec::new(),
        };
        g.append_edges(batch);
        assert_eq!(g.delta_edges, 0, "a large batch compacts");
        assert_eq!(g.degree(a, Direction::Out, &[knows]), n + 1);
        assert_eq!(g.degree(b, Direction::In, &[]), n + 2);
        let y = g.edge_by_str("y77").unwrap();
        assert_eq!(g.edge(y).map(|x| (x.0, x.1)), Some((a, b)));
    }

    /// Every edge as `(id, source, target, label, properties)`, and every vertex's in and out
    /// rows, in the graph's own order.
    fn dump(g: &Graph) -> (Vec<String>, Vec<Vec<(u32, u32)>>) {
        let edges = g
            .edge_ids()
            .map(|e| {
                format!(
                    "{:?} {:?} {:?}",
                    g.edge_user_id(e),
                    g.edge(e),
                    g.edge_props(e)
                )
            })
            .collect();
        let mut rows = Vec::new();
        for v in 0..3 {
            for dir in [Direction::Out, Direction::In] {
                let mut r = Vec::new();
                g.for_each_adjacent(v, dir, &[], &mut |n, e| r.push((n, e)));
                rows.push(r);
            }
        }
        (edges, rows)
    }

    #[test]
    fn a_fresh_graph_builds_what_a_compaction_builds() {
        let n = MIN_COMPACT_DELTA * 2 + 10;
        let batch = |g: &mut Graph| {
            let (knows, likes, w) = (g.intern("knows"), g.intern("likes"), g.intern("w"));
            EdgeBatch {
                src: (0..n).map(|i| (i % 3) as u32).collect(),
                dst: (0..n).map(|i| (i * 7 % 3) as u32).collect(),
                label: (0..n)
                    .map(|i| if i % 5 == 0 { likes } else { knows })
                    .collect(),
                // Every 100th id repeats an earlier one: the first copy wins.
                ids: (0..n)
                    .map(|i| IdKey::text(&format!("e{}", if i % 100 == 99 { i - 50 } else { i })))
                    .collect(),
                hashes: Vec::new(),
                props: (0..n as u32)
                    .step_by(1000)
                    .map(|i| (i, vec![(w, Value::Long(i64::from(i)))]))
                    .collect(),
            }
        };
        let mut vertices = Graph::new();
        for v in ["a", "b", "c"] {
            vertices.add_vertex(Value::str(v), &["person"]).unwrap();
        }
        let mut fresh = vertices.clone();
        let b = batch(&mut fresh);
        let skipped = fresh.append_edges_on(b, 2);
        // The generic path: the same batch after an edge that is then dropped, so the graph
        // is not fresh and the batch goes through the columns and a compaction.
        let mut generic = vertices.clone();
        let b = batch(&mut generic);
        let x = generic.add_edge(Value::str("x"), "knows", 0, 1).unwrap();
        generic.drop_edge(x);
        assert_eq!(generic.append_edges(b), skipped);
        generic.compact();
        assert_eq!(skipped, n / 100);
        assert_eq!(dump(&fresh), dump(&generic));
        assert_eq!(fresh.edge_count(), n - skipped);
        let e = fresh.edge_by_str("e1000").unwrap();
        assert_eq!(fresh.edge_props(e).len(), 1);
        assert_eq!(fresh.edge(e).map(|x| (x.0, x.1)), Some((1, 1)));
    }
}
