//! The property-graph store: compact, snapshot-friendly, indexed.
//!
//! Layout (the key design decision of the crate):
//! - labels and property keys are interned to `u32` symbols; vertices and edges are dense `u32`
//!   indexes, with hash indexes from the user's ids;
//! - edges are columns (`src`, `dst`, `label`) plus optional property lists;
//! - adjacency is a CSR per direction (`offsets` per vertex, then `(neighbour, edge)` pairs sorted
//!   by edge label and neighbour), built by bulk loads and compactions, plus per-vertex append
//!   buffers (the delta) for edges added since; expansions read both;
//! - label and property-value indexes map to candidate vertices; lookups re-check the element, so
//!   an index may hold stale entries but never misses one.
//!
//! Everything sits in copy-on-write chunks ([`chunk::ChunkVec`]) or `Arc`-shared bases with small
//! deltas, so [`Graph`] clones cheaply: a writer clones the snapshot, applies a whole request and
//! publishes it atomically, and readers keep the version they started with.

pub mod bulk;
pub mod chunk;
pub mod csr;
pub mod edge_index;
pub mod ids;
pub mod paths;
pub mod write;

use std::sync::Arc;

use hashbrown::{Equivalent, HashMap};

use crate::value::{StrKey, Value};
use chunk::ChunkVec;
use csr::Csr;
use edge_index::EdgeIndex;
use ids::IdKey;

/// An interned label or property key.
pub type Sym = u32;

/// Marks a dropped edge in the label column.
pub(crate) const DEAD: Sym = u32::MAX;

/// Vertex property cardinality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cardinality {
    /// One value per key; setting replaces.
    Single,
    /// Distinct values per key.
    Set,
    /// Any values per key, duplicates kept.
    List,
}

/// Edge direction relative to a vertex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Outgoing edges.
    Out,
    /// Incoming edges.
    In,
    /// Both.
    Both,
}

/// A dictionary of strings to small integers.
#[derive(Debug, Clone, Default)]
pub struct Interner {
    names: Vec<Arc<str>>,
    ids: HashMap<Arc<str>, Sym>,
}

impl Interner {
    /// The symbol for `s`, adding it if new.
    pub fn intern(&mut self, s: &str) -> Sym {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.names.len() as Sym;
        let name: Arc<str> = Arc::from(s);
        self.names.push(Arc::clone(&name));
        self.ids.insert(name, id);
        id
    }

    /// The symbol for `s`, if known.
    pub fn lookup(&self, s: &str) -> Option<Sym> {
        self.ids.get(s).copied()
    }

    /// The string of `sym`.
    pub fn name(&self, sym: Sym) -> Arc<str> {
        self.names
            .get(sym as usize)
            .cloned()
            .unwrap_or_else(|| Arc::from(""))
    }
}

/// One value of a vertex property, with its id and meta-properties.
#[derive(Debug, Clone, PartialEq)]
pub struct VProp {
    /// The property's id.
    pub id: u64,
    /// The value.
    pub value: Value,
    /// Meta-properties.
    pub meta: Vec<(Sym, Value)>,
}

/// An adjacency entry in a delta buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Adj {
    /// The edge label.
    pub label: Sym,
    /// The vertex at the other end.
    pub nbr: u32,
    /// The edge.
    pub eid: u32,
}

/// A vertex.
#[derive(Debug, Clone)]
pub struct VertexRec {
    /// The user's id.
    pub id: Value,
    /// Labels (Neptune allows several).
    pub labels: Vec<Sym>,
    /// Properties by key.
    pub props: Vec<(Sym, Vec<VProp>)>,
    /// False once dropped.
    pub alive: bool,
    /// Outgoing edges added since the last compaction.
    pub out_delta: Vec<Adj>,
    /// Incoming edges added since the last compaction.
    pub in_delta: Vec<Adj>,
}

/// A hash map shared with snapshots plus a private delta, merged at compaction.
#[derive(Debug, Clone)]
pub struct Overlay<K, V> {
    base: Arc<HashMap<K, V>>,
    delta: HashMap<K, Option<V>>,
}

impl<K: std::hash::Hash + Eq + Clone, V: Clone> Default for Overlay<K, V> {
    fn default() -> Self {
        Overlay {
            base: Arc::new(HashMap::default()),
            delta: HashMap::default(),
        }
    }
}

impl<K: std::hash::Hash + Eq + Clone, V: Clone> Overlay<K, V> {
    /// The value for `k`.
    pub fn get(&self, k: &K) -> Option<&V> {
        self.get_by(k)
    }

    /// The value for a key equivalent to `k` (e.g. a [`StrKey`] for a string [`Value`]).
    #[inline]
    pub fn get_by<Q: std::hash::Hash + Equivalent<K> + ?Sized>(&self, k: &Q) -> Option<&V> {
        if self.delta.is_empty() {
            return self.base.get(k);
        }
        match self.delta.get(k) {
            Some(v) => v.as_ref(),
            None => self.base.get(k),
        }
    }

    /// The base itself, when writes may go straight to it: no delta is pending and no snapshot
    /// shares it (a shared but empty base is swapped for a private one, so loads into a fresh
    /// graph never pay for a delta).
    fn direct(&mut self) -> Option<&mut HashMap<K, V>> {
        if !self.delta.is_empty() {
            return None;
        }
        if self.base.is_empty() && Arc::strong_count(&self.base) > 1 {
            self.base = Arc::new(HashMap::default());
        }
        Arc::get_mut(&mut self.base)
    }

    /// Sets `k`.
    pub fn insert(&mut self, k: K, v: V) {
        match self.direct() {
            Some(base) => {
                base.insert(k, v);
            }
            None => {
                self.delta.insert(k, Some(v));
            }
        }
    }

    /// Room for `n` more entries.
    pub fn reserve(&mut self, n: usize) {
        match self.direct() {
            Some(base) => base.reserve(n),
            None => self.delta.reserve(n),
        }
    }

    /// Replaces everything with `base`.
    pub fn reset(&mut self, base: HashMap<K, V>) {
        self.base = Arc::new(base);
        self.delta.clear();
    }

    /// Removes `k`.
    pub fn remove(&mut self, k: &K) {
        match self.direct() {
            Some(base) => {
                base.remove(k);
            }
            None => {
                self.delta.insert(k.clone(), None);
            }
        }
    }

    /// A mutable value for `k`, copied from the base (or `default`) into the delta.
    pub fn entry_mut(&mut self, k: K, default: impl FnOnce() -> V) -> &mut V {
        if self.direct().is_some() {
            // `direct` just checked the base is private, so `make_mut` does not copy.
            return Arc::make_mut(&mut self.base)
                .entry(k)
                .or_insert_with(default);
        }
        let base = &self.base;
        let slot = self
            .delta
            .entry(k.clone())
            .or_insert_with(|| base.get(&k).cloned());
        slot.get_or_insert_with(default)
    }

    /// Folds the delta into a new base.
    pub fn merge(&mut self) {
        if self.delta.is_empty() {
            return;
        }
        let base = Arc::make_mut(&mut self.base);
        for (k, v) in self.delta.drain() {
            match v {
                Some(v) => base.insert(k, v),
                None => base.remove(&k),
            };
        }
    }

    /// The whole map, with the delta folded in, for in-place updates (compaction's renumbering).
    pub fn merged_mut(&mut self) -> &mut HashMap<K, V> {
        self.merge();
        Arc::make_mut(&mut self.base)
    }

    /// Entries in the delta.
    pub fn delta_len(&self) -> usize {
        self.delta.len()
    }

    /// Bytes of the base's hash table (entries and control bytes).
    pub fn table_bytes(&self) -> usize {
        self.base.capacity() * (std::mem::size_of::<(K, V)>() + 1)
    }

    /// The number of live keys (approximate while a delta is pending).
    pub fn base_len(&self) -> usize {
        self.base.len()
    }
}

/// Memory held by a graph, by part.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryReport {
    /// CSR adjacency in both directions (offsets, neighbours, edge indexes).
    pub adjacency: usize,
    /// Edge columns: source, target, label.
    pub edge_columns: usize,
    /// Edge ids, edge property slots and the edge id index.
    pub edge_ids_and_props: usize,
    /// Vertex records (ids, labels, properties, delta buffers).
    pub vertices: usize,
}

/// An edge's property list; `None` for the common edge without properties (one pointer).
/// Shared so compaction can move edges without copying their properties.
pub type EdgeProps = Option<Arc<Vec<(Sym, Value)>>>;

/// A property graph. Clone to snapshot.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub(crate) syms: Interner,
    pub(crate) vertices: ChunkVec<VertexRec>,
    pub(crate) e_src: ChunkVec<u32>,
    pub(crate) e_dst: ChunkVec<u32>,
    pub(crate) e_label: ChunkVec<Sym>,
    pub(crate) e_ids: ChunkVec<IdKey>,
    pub(crate) e_props: ChunkVec<EdgeProps>,
    pub(crate) out_csr: Arc<Csr>,
    pub(crate) in_csr: Arc<Csr>,
    pub(crate) live_vertices: usize,
    pub(crate) live_edges: usize,
    pub(crate) dead_edges: usize,
    pub(crate) delta_edges: usize,
    pub(crate) v_index: Overlay<IdKey, u32>,
    pub(crate) e_index: EdgeIndex,
    pub(crate) label_index: Overlay<Sym, Vec<u32>>,
    pub(crate) prop_index: Overlay<(Sym, Value), Vec<u32>>,
    pub(crate) next_prop_id: u64,
    /// Elements written since the last [`Graph::take_touched`] (vertex `v` as `v`, edge `e` as
    /// `e | 1 << 32`): what the database compares to detect conflicting writers.
    pub(crate) touched: Vec<u64>,
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// Live vertices.
    pub fn vertex_count(&self) -> usize {
        self.live_vertices
    }

    /// Live edges.
    pub fn edge_count(&self) -> usize {
        self.live_edges
    }

    /// The symbol table.
    pub fn symbols(&self) -> &Interner {
        &self.syms
    }

    /// The vertex record at `v`, if alive.
    #[inline]
    pub fn vertex(&self, v: u32) -> Option<&VertexRec> {
        self.vertices.get(v as usize).filter(|r| r.alive)
    }

    /// Every live vertex, in insertion order.
    pub fn vertex_ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.vertices
            .iter()
            .enumerate()
            .filter(|(_, r)| r.alive)
            .map(|(i, _)| i as u32)
    }

    /// Every live edge, in insertion order.
    pub fn edge_ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.e_label
            .iter()
            .enumerate()
            .filter(|(_, l)| **l != DEAD)
            .map(|(i, _)| i as u32)
    }

    /// The user id of vertex `v` (also for dropped vertices' slots: `None`).
    pub fn vertices_id(&self, v: u32) -> Option<Value> {
        self.vertex(v).map(|r| r.id.clone())
    }

    /// The vertex with user id `id`.
    pub fn vertex_by_id(&self, id: &Value) -> Option<u32> {
        self.v_index
            .get(&IdKey::from_value(id))
            .copied()
            .filter(|v| self.vertex(*v).is_some())
    }

    /// The vertex whose user id is the string `id` (no allocation). The id index holds exactly
    /// the live vertices (dropping a vertex removes its id), so no record is read.
    #[inline]
    pub fn vertex_by_str(&self, id: &str) -> Option<u32> {
        let v = self.v_index.get_by(&StrKey(id)).copied();
        debug_assert!(v.is_none_or(|v| self.vertex(v).is_some()));
        v
    }

    /// Edge slots used (live and dropped edges): the index the next edge gets.
    pub fn edge_slots(&self) -> u32 {
        self.e_label.len() as u32
    }

    /// The hash of the edge id `k` in this graph's edge-id index (what [`EdgeBatch`] carries,
    /// so a loader can hash ids on its own threads).
    ///
    /// [`EdgeBatch`]: bulk::EdgeBatch
    pub fn edge_id_hash(&self, k: &IdKey) -> u64 {
        self.e_index.hash_key(k)
    }

    /// Room in the edge id index for `n` more edges written one by one.
    pub fn reserve_edge_ids(&mut self, n: usize) {
        self.e_index.reserve(n);
    }

    /// The edge whose user id is the string `id` (no allocation).
    pub fn edge_by_str(&self, id: &str) -> Option<u32> {
        let hash = self.e_index.hash_str(id);
        self.e_index
            .get_str(id, hash, |e| self.edge_id_is_str(e, id))
            .filter(|e| self.edge_alive(*e))
    }

    /// The edge with user id `id`.
    pub fn edge_by_id(&self, id: &Value) -> Option<u32> {
        let key = IdKey::from_value(id);
        let hash = self.e_index.hash_key(&key);
        self.e_index
            .get(&key, hash, |e| self.e_ids.get(e as usize) == Some(&key))
            .filter(|e| self.edge_alive(*e))
    }

    /// Whether edge `e`'s user id is the string `id`.
    fn edge_id_is_str(&self, e: u32, id: &str) -> bool {
        self.e_ids
            .get(e as usize)
            .is_some_and(|k| StrKey(id).equivalent(k))
    }

    /// Whether edge `e` exists.
    #[inline]
    pub fn edge_alive(&self, e: u32) -> bool {
        self.e_label.get(e as usize).is_some_and(|l| *l != DEAD)
    }

    /// `(source, target, label)` of a live edge.
    #[inline]
    pub fn edge(&self, e: u32) -> Option<(u32, u32, Sym)> {
        let l = *self.e_label.get(e as usize)?;
        if l == DEAD {
            return None;
        }
        Some((
            *self.e_src.get(e as usize)?,
            *self.e_dst.get(e as usize)?,
            l,
        ))
    }

    /// An edge's user id.
    pub fn edge_user_id(&self, e: u32) -> Value {
        self.e_ids
            .get(e as usize)
            .map_or(Value::Null, IdKey::to_value)
    }

    /// An edge's properties.
    pub fn edge_props(&self, e: u32) -> &[(Sym, Value)] {
        match self.e_props.get(e as usize) {
            Some(Some(p)) => p,
            _ => &[],
        }
    }

    /// A vertex's label as Gremlin shows it (Neptune joins several with `::`).
    pub fn vertex_label(&self, v: u32) -> Arc<str> {
        match self.vertex(v) {
            Some(r) if r.labels.len() == 1 => self.syms.name(r.labels[0]),
            Some(r) => Arc::from(
                r.labels
                    .iter()
                    .map(|l| self.syms.name(*l).to_string())
                    .collect::<Vec<_>>()
                    .join("::"),
            ),
            None => Arc::from(""),
        }
    }

    /// The values of a vertex property.
    pub fn vertex_prop(&self, v: u32, key: Sym) -> &[VProp] {
        self.vertex(v)
            .and_then(|r| r.props.iter().find(|(k, _)| *k == key))
            .map(|(_, p)| p.as_slice())
            .unwrap_or(&[])
    }

    /// Calls `f(neighbour, edge)` for each edge of `v` in `dir` whose label is in `labels`
    /// (all labels if empty).
    #[inline]
    pub fn for_each_adjacent(
        &self,
        v: u32,
        dir: Direction,
        labels: &[Sym],
        f: &mut dyn FnMut(u32, u32),
    ) {
        match dir {
            Direction::Out => self.adjacent_one(v, &self.out_csr, true, labels, f),
            Direction::In => self.adjacent_one(v, &self.in_csr, false, labels, f),
            Direction::Both => {
                self.adjacent_one(v, &self.out_csr, true, labels, f);
                self.adjacent_one(v, &self.in_csr, false, labels, f);
            }
        }
    }

    fn adjacent_one(
        &self,
        v: u32,
        csr: &Csr,
        out: bool,
        labels: &[Sym],
        f: &mut dyn FnMut(u32, u32),
    ) {
        let check = self.dead_edges > 0;
        let label_of = |e: u32| self.e_label.get(e as usize).copied().unwrap_or(DEAD);
        let mut visit = |row: csr::Row<'_>| {
            if check {
                for (n, e) in row.pairs() {
                    if label_of(e) != DEAD {
                        f(n, e);
                    }
                }
            } else if row.edges.is_empty() {
                // Identity-numbered rows: the edge is the entry's position.
                for (i, n) in row.nbrs.iter().enumerate() {
                    f(*n, row.start + i as u32);
                }
            } else {
                for (n, e) in row.nbrs.iter().zip(row.edges) {
                    f(*n, *e);
                }
            }
        };
        if labels.is_empty() {
            visit(csr.row(v));
        } else {
            for &l in labels {
                visit(csr.row_with_label(v, l, &label_of));
            }
        }
        if let Some(rec) = self.vertices.get(v as usize) {
            let delta = if out { &rec.out_delta } else { &rec.in_delta };
            for a in delta {
                if (labels.is_empty() || labels.contains(&a.label))
                    && (!check || label_of(a.eid) != DEAD)
                {
                    f(a.nbr, a.eid);
                }
            }
        }
    }

    /// Calls `f(neighbour)` for each edge of `v` in `dir` with a label in `labels` (all if
    /// empty): the expansion loop when the edges themselves are not needed.
    #[inline]
    pub fn for_each_neighbour(
        &self,
        v: u32,
        dir: Direction,
        labels: &[Sym],
        f: &mut dyn FnMut(u32),
    ) {
        if self.dead_edges > 0 {
            return self.for_each_adjacent(v, dir, labels, &mut |n, _| f(n));
        }
        let label_of = |e: u32| self.e_label.get(e as usize).copied().unwrap_or(DEAD);
        let mut one = |csr: &Csr, out: bool| {
            if labels.is_empty() {
                csr.neighbour_slice(v).iter().for_each(|n| f(*n));
            } else {
                for &l in labels {
                    csr.row_with_label(v, l, &label_of)
                        .nbrs
                        .iter()
                        .for_each(|n| f(*n));
                }
            }
            if let Some(rec) = self.vertices.get(v as usize) {
                let delta = if out { &rec.out_delta } else { &rec.in_delta };
                for a in delta {
                    if labels.is_empty() || labels.contains(&a.label) {
                        f(a.nbr);
                    }
                }
            }
        };
        match dir {
            Direction::Out => one(&self.out_csr, true),
            Direction::In => one(&self.in_csr, false),
            Direction::Both => {
                one(&self.out_csr, true);
                one(&self.in_csr, false);
            }
        }
    }

    /// The number of edges of `v` in `dir` with a label in `labels` (all if empty).
    pub fn degree(&self, v: u32, dir: Direction, labels: &[Sym]) -> usize {
        if self.dead_edges == 0 && labels.is_empty() {
            let rec = self.vertices.get(v as usize);
            let d = |csr: &Csr, out: bool| {
                csr.degree(v)
                    + rec
                        .map(|r| {
                            if out {
                                r.out_delta.len()
                            } else {
                                r.in_delta.len()
                            }
                        })
                        .unwrap_or(0)
            };
            return match dir {
                Direction::Out => d(&self.out_csr, true),
                Direction::In => d(&self.in_csr, false),
                Direction::Both => d(&self.out_csr, true) + d(&self.in_csr, false),
            };
        }
        let mut n = 0;
        self.for_each_adjacent(v, dir, labels, &mut |_, _| n += 1);
        n
    }

    /// Candidate vertices carrying `label` (a superset; callers re-check).
    pub fn label_candidates(&self, label: Sym) -> &[u32] {
        self.label_index
            .get(&label)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Candidate vertices with property `key` = `value` (a superset; callers re-check).
    pub fn prop_candidates(&self, key: Sym, value: &Value) -> &[u32] {
        self.prop_index
            .get(&(key, value.clone()))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Bytes held, by part.
    pub fn memory(&self) -> MemoryReport {
        let vertices = self.vertices.heap_bytes()
            + self
                .vertices
                .iter()
                .map(|r| {
                    r.labels.capacity() * 4
                        + r.props.capacity() * 32
                        + (r.out_delta.capacity() + r.in_delta.capacity()) * 12
                })
                .sum::<usize>()
            + self.v_index.table_bytes();
        MemoryReport {
            adjacency: self.out_csr.heap_bytes() + self.in_csr.heap_bytes(),
            edge_columns: self.e_src.heap_bytes()
                + self.e_dst.heap_bytes()
                + self.e_label.heap_bytes(),
            edge_ids_and_props: self.e_ids.heap_bytes()
                + self.e_props.heap_bytes()
                + self.e_index.heap_bytes(),
            vertices,
        }
    }
}
