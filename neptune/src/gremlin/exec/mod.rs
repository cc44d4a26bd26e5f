//! The lazy traversal executor.
//!
//! A traversal is a chain of iterators over [`Trav`]ellers: each step wraps the iterator of the
//! step before it, so `limit(1)` after a scan stops the scan after one vertex. Barrier steps
//! (`order`, `group`, `count`, `fold`, …) drain their input when first pulled. Child traversals
//! (`where(__.out())`, `by(…)`, `repeat(…)`) run per traverser on a one-item iterator.
//!
//! The graph sits in a `RefCell<Arc<Graph>>`: reads borrow it for one element at a time (no
//! borrow is held across a yield), and the first write copies the snapshot
//! (`Arc::make_mut`), so a read-only query never copies anything and a failed write query leaves
//! the published graph untouched. The clock is checked every [`TICK_BATCH`] traversers against the
//! query's deadline.

mod branch;
mod bulk;
mod filter;
mod format;
mod list;
mod matching;
mod mutate;
mod reduce;
mod text;

pub(crate) use bulk::run_bulked;
pub use mutate::{MERGE_IN_V, MERGE_OUT_V};

use std::cell::{Cell, RefCell, RefMut};
use std::rc::Rc;
use std::sync::Arc;
use std::time::SystemTime;

use indexmap::IndexMap;
use nubis_core::{IdGen, SharedClock};

use super::ir::{Arg, By, Column, Step, Traversal};
use crate::error::{Error, Result};
use crate::store::{Cardinality, Direction, Graph};
use crate::value::{Map, PathValue, PropertyValue, Token, Value, VertexPropertyValue};

/// Traversers between two clock checks.
pub const TICK_BATCH: u32 = 1024;

/// A boxed traverser stream.
pub type It<'a> = Box<dyn Iterator<Item = Result<Trav>> + 'a>;

/// One node of a traverser's path (shared between traversers that split from it).
#[derive(Debug)]
pub struct PathNode {
    obj: Value,
    labels: Vec<Arc<str>>,
    prev: Option<Rc<PathNode>>,
}

/// A traverser: the object it is at, and what it carries.
#[derive(Debug, Clone)]
pub struct Trav {
    /// The current object.
    pub obj: Value,
    path: Option<Rc<PathNode>>,
    loops: Vec<(Option<Arc<str>>, u32)>,
    sack: Option<Value>,
    seed: bool,
    /// How many identical traversers this one stands for (TinkerPop's bulk). Only `repeat()`
    /// merges traversers (when paths are not kept); [`run`] expands bulks before any step that
    /// does not handle them, so most steps only ever see 1.
    pub(crate) bulk: u64,
}

impl Trav {
    /// The traverser a root traversal starts from (carries nothing).
    pub fn seed() -> Trav {
        Trav {
            obj: Value::Null,
            path: None,
            loops: Vec::new(),
            sack: None,
            seed: true,
            bulk: 1,
        }
    }

    /// A traverser moved on to `obj`, its path extended when paths are kept.
    pub fn to(&self, cx: &Cx, obj: Value) -> Trav {
        let path = if cx.needs_path {
            let prev = if self.seed { None } else { self.path.clone() };
            Some(Rc::new(PathNode {
                obj: obj.clone(),
                labels: Vec::new(),
                prev,
            }))
        } else {
            None
        };
        Trav {
            obj,
            path,
            loops: self.loops.clone(),
            sack: self.sack.clone(),
            seed: false,
            bulk: self.bulk,
        }
    }

    /// The same traverser holding a different object, path unchanged (for steps that transform
    /// values without TinkerPop recording them, such as reducing barriers).
    pub fn with_obj(&self, obj: Value) -> Trav {
        Trav {
            obj,
            path: self.path.clone(),
            loops: self.loops.clone(),
            sack: self.sack.clone(),
            seed: false,
            bulk: self.bulk,
        }
    }

    fn label(&mut self, labels: &[Arc<str>]) {
        let (obj, mut ls, prev) = match &self.path {
            Some(n) => (n.obj.clone(), n.labels.clone(), n.prev.clone()),
            None => (self.obj.clone(), Vec::new(), None),
        };
        for l in labels {
            if !ls.contains(l) {
                ls.push(Arc::clone(l));
            }
        }
        self.path = Some(Rc::new(PathNode {
            obj,
            labels: ls,
            prev,
        }));
    }

    /// The path as a value.
    pub fn path_value(&self) -> PathValue {
        let mut objects = Vec::new();
        let mut labels = Vec::new();
        let mut node = self.path.as_deref();
        while let Some(n) = node {
            objects.push(n.obj.clone());
            labels.push(n.labels.clone());
            node = n.prev.as_deref();
        }
        objects.reverse();
        labels.reverse();
        PathValue { objects, labels }
    }

    /// Objects labelled `label`, oldest first.
    pub fn labelled(&self, label: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut node = self.path.as_deref();
        while let Some(n) = node {
            if n.labels.iter().any(|l| &**l == label) {
                out.push(n.obj.clone());
            }
            node = n.prev.as_deref();
        }
        out.reverse();
        out
    }
}

/// Per-query options.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// Cardinality of `property(k, v)` without one (Neptune: `set`; TinkerGraph: `single`).
    pub default_cardinality: Cardinality,
    /// Store every user-supplied id as a string, as Neptune does.
    pub string_ids: bool,
}

/// Everything a running query shares.
pub struct Cx {
    graph: RefCell<Arc<Graph>>,
    /// Side effects by key (`aggregate`, `store`, `group('x')`, `withSideEffect`).
    pub side: RefCell<IndexMap<Arc<str>, Value>>,
    clock: SharedClock,
    deadline: Option<SystemTime>,
    ticks: Cell<u32>,
    request_id: String,
    ids: IdGen,
    rng: Cell<u64>,
    /// Whether traversers keep paths.
    pub needs_path: bool,
    /// Options.
    pub opts: ExecOptions,
    /// The read-only strategy is on.
    pub read_only: bool,
    wrote: Cell<bool>,
}

impl std::fmt::Debug for Cx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cx")
            .field("request_id", &self.request_id)
            .finish()
    }
}

impl Cx {
    /// A context over `graph`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        graph: Arc<Graph>,
        clock: SharedClock,
        deadline: Option<SystemTime>,
        request_id: String,
        ids: IdGen,
        needs_path: bool,
        opts: ExecOptions,
    ) -> Cx {
        let seed = ids.next_u64() | 1;
        Cx {
            graph: RefCell::new(graph),
            side: RefCell::new(IndexMap::new()),
            clock,
            deadline,
            ticks: Cell::new(0),
            request_id,
            ids,
            rng: Cell::new(seed),
            needs_path,
            opts,
            read_only: false,
            wrote: Cell::new(false),
        }
    }

    /// Reads the graph.
    #[inline]
    pub fn g(&self) -> std::cell::Ref<'_, Arc<Graph>> {
        self.graph.borrow()
    }

    /// The graph for writing (copied from the snapshot on first write).
    pub fn gw(&self) -> Result<RefMut<'_, Graph>> {
        if self.read_only {
            return Err(Error::Evaluation(
                "The provided traversal has a mutating step and thus is not read only".into(),
            ));
        }
        self.wrote.set(true);
        let b = self
            .graph
            .try_borrow_mut()
            .map_err(|_| Error::Evaluation("the graph is busy".into()))?;
        Ok(RefMut::map(b, |a| Arc::make_mut(a)))
    }

    /// Whether anything was written.
    pub fn wrote(&self) -> bool {
        self.wrote.get()
    }

    /// The graph after the query.
    pub fn into_graph(self) -> Arc<Graph> {
        self.graph.into_inner()
    }

    /// Counts one unit of work; every [`TICK_BATCH`] units checks the deadline.
    #[inline]
    pub fn tick(&self) -> Result<()> {
        let t = self.ticks.get().wrapping_add(1);
        self.ticks.set(t);
        if t.is_multiple_of(TICK_BATCH) {
            self.check_deadline()?;
        }
        Ok(())
    }

    /// Fails if the deadline has passed.
    pub fn check_deadline(&self) -> Result<()> {
        if let Some(d) = self.deadline
            && self.clock.now() >= d
        {
            return Err(Error::TimeLimitExceeded {
                request_id: self.request_id.clone(),
            });
        }
        Ok(())
    }

    /// A new UUID for an element.
    pub fn new_id(&self) -> Value {
        Value::str(&self.ids.uuid())
    }

    /// A uniform random number in `[0, 1)` (xorshift, seeded from the engine's ids).
    pub fn random(&self) -> f64 {
        let mut x = self.rng.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    /// An element's id.
    pub fn elem_id(&self, v: &Value) -> Option<Value> {
        let g = self.g();
        match v {
            Value::Vertex(i) => g.vertex(*i).map(|r| r.id.clone()),
            Value::Edge(e) => Some(g.edge_user_id(*e)),
            Value::VertexProperty(p) => Some(Value::Long(p.id as i64)),
            _ => None,
        }
    }

    /// An element's label.
    pub fn elem_label(&self, v: &Value) -> Option<Arc<str>> {
        let g = self.g();
        match v {
            Value::Vertex(i) => g.vertex(*i).map(|_| g.vertex_label(*i)),
            Value::Edge(e) => g.edge(*e).map(|(_, _, l)| g.symbols().name(l)),
            Value::VertexProperty(p) => Some(Arc::clone(&p.key)),
            _ => None,
        }
    }

    /// The values of property `key` of an element (vertex: all values; edge or vertex property:
    /// the one value).
    pub fn prop_values(&self, v: &Value, key: &str) -> Vec<Value> {
        let g = self.g();
        let Some(k) = g.symbols().lookup(key) else {
            return Vec::new();
        };
        match v {
            Value::Vertex(i) => g
                .vertex_prop(*i, k)
                .iter()
                .map(|p| p.value.clone())
                .collect(),
            Value::Edge(e) => g
                .edge_props(*e)
                .iter()
                .filter(|(kk, _)| *kk == k)
                .map(|(_, v)| v.clone())
                .collect(),
            Value::VertexProperty(p) => g
                .vertex_prop(p.vertex, g.symbols().lookup(&p.key).unwrap_or(u32::MAX))
                .iter()
                .filter(|vp| vp.id == p.id)
                .flat_map(|vp| {
                    vp.meta
                        .iter()
                        .filter(|(mk, _)| *mk == k)
                        .map(|(_, v)| v.clone())
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Every `(key, value)` property of an element as property values.
    pub fn properties(&self, v: &Value, keys: &[Arc<str>]) -> Vec<Value> {
        let g = self.g();
        let syms = g.symbols();
        let wanted = |k: u32| keys.is_empty() || keys.iter().any(|x| syms.lookup(x) == Some(k));
        match v {
            Value::Vertex(i) => {
                let Some(r) = g.vertex(*i) else {
                    return Vec::new();
                };
                let mut out = Vec::new();
                // Properties come in the order the keys were asked for, else in insertion order.
                let order: Vec<u32> = if keys.is_empty() {
                    r.props.iter().map(|(k, _)| *k).collect()
                } else {
                    keys.iter().filter_map(|k| syms.lookup(k)).collect()
                };
                for k in order {
                    if let Some((_, vals)) = r.props.iter().find(|(kk, _)| *kk == k) {
                        for p in vals {
                            out.push(Value::VertexProperty(Arc::new(VertexPropertyValue {
                                vertex: *i,
                                key: syms.name(k),
                                id: p.id,
                                value: p.value.clone(),
                            })));
                        }
                    }
                }
                out
            }
            Value::Edge(e) => g
                .edge_props(*e)
                .iter()
                .filter(|(k, _)| wanted(*k))
                .map(|(k, val)| {
                    Value::Property(Arc::new(PropertyValue {
                        edge: Some(*e),
                        key: syms.name(*k),
                        value: val.clone(),
                    }))
                })
                .collect(),
            Value::VertexProperty(p) => {
                let key = syms.lookup(&p.key).unwrap_or(u32::MAX);
                g.vertex_prop(p.vertex, key)
                    .iter()
                    .filter(|vp| vp.id == p.id)
                    .flat_map(|vp| {
                        vp.meta.iter().filter(|(k, _)| wanted(*k)).map(|(k, val)| {
                            Value::Property(Arc::new(PropertyValue {
                                edge: None,
                                key: syms.name(*k),
                                value: val.clone(),
                            }))
                        })
                    })
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// Evaluates a constant-or-traversal argument against a traverser (first result).
    pub fn arg(&self, a: &Arg, t: &Trav) -> Result<Option<Value>> {
        match a {
            Arg::Const(v) => Ok(Some(v.clone())),
            Arg::Trav(tr) => sub(self, tr, t.clone())
                .next()
                .transpose()
                .map(|o| o.map(|t| t.obj)),
        }
    }

    /// Applies a `by()` modulator; `None` when it produces nothing.
    pub fn by(&self, by: &By, t: &Trav) -> Result<Option<Value>> {
        Ok(match by {
            By::Identity => Some(t.obj.clone()),
            By::Key(k) => match &t.obj {
                Value::Map(m) => m.get(&Value::Str(Arc::clone(k))).cloned(),
                obj => self.prop_values(obj, k).into_iter().next(),
            },
            By::Token(tok) => self.token_value(&t.obj, *tok),
            By::Column(c) => column(&t.obj, *c),
            By::Trav(tr) => sub(self, tr, t.clone()).next().transpose()?.map(|t| t.obj),
        })
    }

    /// `T.id`, `T.label`, `T.key`, `T.value` of an object.
    pub fn token_value(&self, v: &Value, tok: Token) -> Option<Value> {
        match tok {
            Token::Id => self.elem_id(v),
            Token::Label => self.elem_label(v).map(Value::Str),
            Token::Key => match v {
                Value::VertexProperty(p) => Some(Value::Str(Arc::clone(&p.key))),
                Value::Property(p) => Some(Value::Str(Arc::clone(&p.key))),
                _ => None,
            },
            Token::Value => match v {
                Value::VertexProperty(p) => Some(p.value.clone()),
                Value::Property(p) => Some(p.value.clone()),
                _ => None,
            },
            Token::In | Token::Out => None,
        }
    }
}

/// `select(keys)`/`select(values)` of a map (or a one-entry map standing for an entry).
pub fn column(v: &Value, c: Column) -> Option<Value> {
    match v {
        Value::Map(m) => Some(Value::list(match c {
            Column::Keys => m.keys().cloned().collect(),
            Column::Values => m.values().cloned().collect(),
        })),
        _ => None,
    }
}

/// Runs `steps` over `input` (traversers of bulk 1).
pub fn run<'a>(cx: &'a Cx, steps: &'a [Step], it: It<'a>) -> It<'a> {
    run_bulked(cx, steps, it, false, false)
}

/// Runs a child traversal from one traverser. As in TinkerPop, the child sees the traverser
/// with bulk 1 (it answers for one of the traversers a bulk stands for).
pub fn sub<'a>(cx: &'a Cx, t: &'a Traversal, mut start: Trav) -> It<'a> {
    start.bulk = 1;
    run(cx, &t.steps, Box::new(std::iter::once(Ok(start))))
}

/// Whether a child traversal produces anything from `t`.
pub fn any(cx: &Cx, t: &Traversal, start: &Trav) -> Result<bool> {
    sub(cx, t, start.clone())
        .next()
        .transpose()
        .map(|o| o.is_some())
}

/// Wraps a barrier: `f` runs on the first pull, with the whole input.
pub fn barrier<'a>(it: It<'a>, f: impl FnOnce(Vec<Trav>) -> Result<Vec<Trav>> + 'a) -> It<'a> {
    let mut state: Option<It<'a>> = None;
    let mut input = Some((it, f));
    Box::new(std::iter::from_fn(move || {
        if state.is_none() {
            let (it, f) = input.take()?;
            let all: Result<Vec<Trav>> = it.collect();
            state = Some(match all.and_then(f) {
                Ok(v) => Box::new(v.into_iter().map(Ok)),
                Err(e) => Box::new(std::iter::once(Err(e))),
            });
        }
        state.as_mut().and_then(|s| s.next())
    }))
}

/// Applies `f` to each traverser, yielding any number of traversers.
pub fn flat<'a, I>(cx: &'a Cx, it: It<'a>, f: impl Fn(&'a Cx, Trav) -> Result<I> + 'a) -> It<'a>
where
    I: IntoIterator<Item = Trav> + 'a,
{
    Box::new(
        it.flat_map(move |r| -> Box<dyn Iterator<Item = Result<Trav>> + 'a> {
            match r.and_then(|t| f(cx, t)) {
                Ok(items) => Box::new(items.into_iter().map(Ok)),
                Err(e) => Box::new(std::iter::once(Err(e))),
            }
        }),
    )
}

/// Keeps the traversers for which `f` is true.
pub fn keep<'a>(it: It<'a>, f: impl Fn(&Trav) -> Result<bool> + 'a) -> It<'a> {
    Box::new(it.filter_map(move |r| match r {
        Ok(t) => match f(&t) {
            Ok(true) => Some(Ok(t)),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        },
        Err(e) => Some(Err(e)),
    }))
}

/// Maps each traverser to at most one.
pub fn map<'a>(it: It<'a>, f: impl Fn(Trav) -> Result<Option<Trav>> + 'a) -> It<'a> {
    Box::new(it.filter_map(move |r| r.and_then(&f).transpose()))
}

fn apply<'a>(cx: &'a Cx, step: &'a Step, it: It<'a>) -> It<'a> {
    use Step as S;
    match step {
        S::V(ids) => filter::vertices(cx, it, ids),
        S::E(ids) => filter::edges(cx, it, ids),
        S::VIndex { label, key } => filter::vindex(cx, it, label.as_deref(), key.as_ref()),
        S::Inject(vals) => Box::new(it.flat_map(move |r| -> It<'a> {
            match r {
                Ok(t) if t.seed => Box::new(
                    vals.iter()
                        .map(move |v| Ok(t.to(cx, v.clone())))
                        .collect::<Vec<_>>()
                        .into_iter(),
                ),
                other => Box::new(
                    std::iter::once(other).chain(
                        vals.iter()
                            .map(|v| Ok(Trav::seed().to(cx, v.clone())))
                            .collect::<Vec<_>>(),
                    ),
                ),
            }
        })),
        S::Has(..)
        | S::HasLabelKey(..)
        | S::HasLabel(_)
        | S::HasId(_)
        | S::HasNot(_)
        | S::HasKey(_)
        | S::HasValue(_)
        | S::Is(_) => keep(it, move |t| filter::has(cx, step, t)),
        S::Adjacent { dir, labels, edges } => filter::adjacent(cx, it, *dir, labels, *edges),
        S::EdgeVertex(dir) => flat(cx, it, move |cx, t| {
            let ends = match (
                &t.obj,
                cx.g().edge(match &t.obj {
                    Value::Edge(e) => *e,
                    _ => u32::MAX,
                }),
            ) {
                (Value::Edge(_), Some((s, d, _))) => match dir {
                    Direction::Out => vec![s],
                    Direction::In => vec![d],
                    Direction::Both => vec![s, d],
                },
                (Value::Edge(_), None) => vec![],
                (other, _) => {
                    return Err(Error::Evaluation(format!(
                        "{} is not an edge",
                        other.type_name()
                    )));
                }
            };
            Ok(ends
                .into_iter()
                .map(|v| t.to(cx, Value::Vertex(v)))
                .collect::<Vec<_>>())
        }),
        S::OtherV => map(it, move |t| {
            let Value::Edge(e) = t.obj else {
                return Err(Error::Evaluation(format!(
                    "{} is not an edge",
                    t.obj.type_name()
                )));
            };
            let Some((s, d, _)) = cx.g().edge(e) else {
                return Ok(None);
            };
            let p = t.path_value();
            let prev = p.objects.iter().rev().nth(1).cloned();
            let other = if prev == Some(Value::Vertex(s)) { d } else { s };
            Ok(Some(t.to(cx, Value::Vertex(other))))
        }),
        S::Values(keys) => flat(cx, it, move |cx, t| {
            let vals: Vec<Value> = match &t.obj {
                Value::Map(m) => keys
                    .iter()
                    .filter_map(|k| m.get(&Value::Str(Arc::clone(k))).cloned())
                    .collect(),
                obj => cx
                    .properties(obj, keys)
                    .into_iter()
                    .filter_map(|p| cx.token_value(&p, Token::Value))
                    .collect(),
            };
            Ok(vals.into_iter().map(|v| t.to(cx, v)).collect::<Vec<_>>())
        }),
        S::Properties(keys) => flat(cx, it, move |cx, t| {
            Ok(cx
                .properties(&t.obj, keys)
                .into_iter()
                .map(|p| t.to(cx, p))
                .collect::<Vec<_>>())
        }),
        S::ValueMap { keys, tokens, by } => map(it, move |t| {
            Ok(Some(
                t.to(cx, reduce::value_map(cx, &t, keys, *tokens, by)?),
            ))
        }),
        S::ElementMap(keys) => map(it, move |t| {
            Ok(Some(t.to(cx, reduce::element_map(cx, &t.obj, keys)?)))
        }),
        S::PropertyMap(keys) => map(it, move |t| {
            let mut m = Map::new();
            for p in cx.properties(&t.obj, keys) {
                if let Some(Value::Str(k)) = cx.token_value(&p, Token::Key) {
                    let e = m
                        .entry(Value::Str(k))
                        .or_insert_with(|| Value::list(vec![]));
                    if let Value::List(l) = e {
                        Arc::make_mut(l).push(p);
                    }
                }
            }
            Ok(Some(t.to(cx, Value::map(m))))
        }),
        S::Id => map(it, move |t| match cx.token_value(&t.obj, Token::Id) {
            Some(v) => Ok(Some(t.to(cx, v))),
            None => Err(Error::Evaluation(format!(
                "id() needs an element, not {}",
                t.obj.type_name()
            ))),
        }),
        S::Label => map(it, move |t| match cx.token_value(&t.obj, Token::Label) {
            Some(v) => Ok(Some(t.to(cx, v))),
            None => Err(Error::Evaluation(format!(
                "label() needs an element, not {}",
                t.obj.type_name()
            ))),
        }),
        S::Key => map(it, move |t| {
            Ok(cx.token_value(&t.obj, Token::Key).map(|v| t.to(cx, v)))
        }),
        S::Value => map(it, move |t| {
            Ok(cx.token_value(&t.obj, Token::Value).map(|v| t.to(cx, v)))
        }),
        S::As(labels) => Box::new(it.map(move |r| {
            r.map(|mut t| {
                t.label(labels);
                t
            })
        })),
        S::Constant(v) => map(it, move |t| Ok(Some(t.to(cx, v.clone())))),
        S::Identity => it,
        S::Unfold => flat(cx, it, move |cx, t| {
            let items: Vec<Value> = match &t.obj {
                Value::List(l) => l.as_ref().clone(),
                Value::Set(s) => s.iter().cloned().collect(),
                Value::Map(m) => m
                    .iter()
                    .map(|(k, v)| Value::map(Map::from_iter([(k.clone(), v.clone())])))
                    .collect(),
                Value::Path(p) => p.objects.clone(),
                other => vec![other.clone()],
            };
            Ok(items.into_iter().map(|v| t.to(cx, v)).collect::<Vec<_>>())
        }),
        S::Coin(p) => keep(it, move |_| Ok(cx.random() < *p)),
        S::Barrier => barrier(it, Ok),
        S::Fail(msg) => map(it, move |_| {
            Err(Error::Evaluation(
                msg.clone()
                    .unwrap_or_else(|| "fail() step triggered".into()),
            ))
        }),
        S::AddV { .. }
        | S::AddE { .. }
        | S::Property { .. }
        | S::Drop
        | S::MergeV(_)
        | S::MergeE(_) => mutate::apply(cx, step, it),
        S::Format(template, by) => format::format(cx, template, by, it),
        S::ListFn(op, arg) => list::list_fn(cx, *op, arg, it),
        S::ListTest(q, p) => list::list_test(*q, p.as_ref(), it),
        S::Match(patterns) => matching::apply(cx, patterns, it),
        _ => branch::apply(cx, step, it),
    }
}

impl Trav {
    /// Sets the sack (from `withSack`).
    pub fn set_sack(&mut self, v: Value) {
        self.sack = Some(v);
    }
}
