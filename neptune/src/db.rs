//! The database: the published graph snapshot, atomic commits, conflict detection, and the
//! one entry point every request takes ([`Database::execute`]).
//!
//! Readers take an `Arc` of the current graph and never block writers. A write request runs on a
//! private copy and publishes it under a short lock only if the whole script succeeded. If
//! another writer committed since the request's snapshot, the request's touched elements are
//! compared with theirs: overlap is Neptune's `ConcurrentModificationException`; no overlap
//! means the request is re-run on the newer snapshot (its effects do not depend on the other
//! writer's), so commits stay serialisable.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use nubis_core::{IdGen, SharedClock};

use crate::error::{Error, Result};
use crate::gremlin::compile::{Terminal, compile};
use crate::gremlin::exec::{Cx, ExecOptions, Trav, run};
use crate::gremlin::parse::parse;
use crate::store::{Cardinality, Graph};
use crate::value::Value;

/// Database settings.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// `property(k, v)` without a cardinality (Neptune: `set`).
    pub default_cardinality: Cardinality,
    /// Store user ids as strings, as Neptune does.
    pub string_ids: bool,
    /// The per-query timeout (Neptune's `neptune_query_timeout` defaults to 120 000 ms).
    pub query_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            default_cardinality: Cardinality::Set,
            string_ids: true,
            query_timeout: Duration::from_millis(120_000),
        }
    }
}

/// What a script returned, with the graph its elements refer to.
#[derive(Debug, Clone)]
pub struct QueryResult {
    /// The values of the last statement.
    pub values: Vec<Value>,
    /// The graph after the request (serialise elements against it).
    pub graph: Arc<Graph>,
}

#[derive(Debug)]
struct State {
    graph: Arc<Graph>,
    version: u64,
    /// Recent commits: version, touched elements (in the edge numbering of the snapshot the
    /// commit was made on), and whether the commit compacted (renumbering edges after it).
    log: VecDeque<(u64, Vec<u64>, bool)>,
}

/// Commits kept for conflict checks; a writer older than this is treated as conflicting.
const LOG_LEN: usize = 256;
/// Re-runs of a write request whose snapshot went stale without conflict.
const MAX_RETRIES: usize = 8;

/// A graph database.
#[derive(Debug)]
pub struct Database {
    state: Mutex<State>,
    clock: SharedClock,
    ids: IdGen,
    opts: DbOptions,
}

impl Database {
    /// An empty database.
    pub fn new(clock: SharedClock, ids: IdGen, opts: DbOptions) -> Self {
        Database {
            state: Mutex::new(State {
                graph: Arc::new(Graph::new()),
                version: 0,
                log: VecDeque::new(),
            }),
            clock,
            ids,
            opts,
        }
    }

    /// The options.
    pub fn options(&self) -> &DbOptions {
        &self.opts
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Graph> {
        Arc::clone(&self.state.lock().graph)
    }

    /// Replaces the whole graph (bulk loads, resets).
    pub fn publish(&self, graph: Graph) {
        let mut s = self.state.lock();
        s.graph = Arc::new(graph);
        s.version += 1;
        s.log.clear();
    }

    /// Applies `f` to a copy of the current graph and publishes it atomically (bulk loader).
    ///
    /// Such an update is a barrier for conflict checks: it does not record what it touched
    /// (a load touches too much for that to pay), so every write request running across it
    /// fails with `ConcurrentModificationException`, as on Neptune during a bulk load.
    pub fn update<T>(&self, f: impl FnOnce(&mut Graph) -> Result<T>) -> Result<T> {
        let mut s = self.state.lock();
        let mut g = (*s.graph).clone();
        let out = f(&mut g)?;
        g.touched.clear();
        g.maybe_compact();
        s.graph = Arc::new(g);
        s.version += 1;
        s.log.clear();
        Ok(out)
    }

    /// Runs a Gremlin script as one atomic request.
    pub fn execute(
        &self,
        query: &str,
        bindings: &HashMap<String, Value>,
        request_id: &str,
        timeout: Option<Duration>,
    ) -> Result<QueryResult> {
        let script = parse(query)?;
        let deadline = self.clock.now() + timeout.unwrap_or(self.opts.query_timeout);
        let mut attempt = 0;
        loop {
            let (base, version) = {
                let s = self.state.lock();
                (Arc::clone(&s.graph), s.version)
            };
            let (values, graph, wrote) =
                self.run_script(query, &script, bindings, request_id, base, deadline)?;
            if !wrote {
                return Ok(QueryResult { values, graph });
            }
            let mut graph = Arc::try_unwrap(graph).unwrap_or_else(|a| (*a).clone());
            let touched = graph.take_touched();
            let mut s = self.state.lock();
            if s.version != version {
                let oldest = s.log.front().map(|(v, ..)| *v).unwrap_or(u64::MAX);
                let newer = || s.log.iter().filter(|(v, ..)| *v > version);
                // Past a compacting commit, later commits' edge indexes are not comparable
                // with this request's: count that as a conflict.
                let renumbered = newer().any(|(v, _, c)| *c && *v < s.version);
                let conflict = oldest > version + 1
                    || renumbered
                    || newer().any(|(_, t, _)| overlaps(t, &touched));
                if conflict {
                    return Err(Error::ConcurrentModification(format!(
                        "another request modified the same elements while request {request_id} ran"
                    )));
                }
                attempt += 1;
                if attempt > MAX_RETRIES {
                    return Err(Error::ConcurrentModification(format!(
                        "request {request_id} kept losing to concurrent writers"
                    )));
                }
                continue;
            }
            // Compaction renumbers edges, so results are serialised against the graph as the
            // request left it and the compacted graph is what gets published.
            let compacted = graph.needs_compaction();
            let (result, published) = if compacted {
                let before = Arc::new(graph.clone());
                graph.compact();
                (before, Arc::new(graph))
            } else {
                let g = Arc::new(graph);
                (Arc::clone(&g), g)
            };
            s.graph = published;
            s.version += 1;
            let v = s.version;
            s.log.push_back((v, touched, compacted));
            while s.log.len() > LOG_LEN {
                s.log.pop_front();
            }
            return Ok(QueryResult {
                values,
                graph: result,
            });
        }
    }

    fn run_script(
        &self,
        src: &str,
        script: &crate::gremlin::parse::Script,
        bindings: &HashMap<String, Value>,
        request_id: &str,
        base: Arc<Graph>,
        deadline: std::time::SystemTime,
    ) -> Result<(Vec<Value>, Arc<Graph>, bool)> {
        let mut vars = bindings.clone();
        let mut graph = base;
        let mut wrote = false;
        let mut last = Vec::new();
        let opts = ExecOptions {
            default_cardinality: self.opts.default_cardinality,
            string_ids: self.opts.string_ids,
        };
        for (var, expr) in &script.statements {
            let compiled = compile(src, expr, &vars)?;
            let mut cx = Cx::new(
                graph,
                Arc::clone(&self.clock),
                Some(deadline),
                request_id.to_owned(),
                self.ids.clone(),
                compiled.needs_path,
                opts.clone(),
            );
            cx.read_only = compiled.read_only;
            cx.check_deadline()?;
            if let Some((init, _)) = &compiled.sack {
                let _ = init;
            }
            for (k, v) in &compiled.side_effects {
                cx.side.borrow_mut().insert(Arc::clone(k), v.clone());
            }
            let values = {
                let seed = match &compiled.sack {
                    Some((a, _)) => {
                        let mut t = Trav::seed();
                        let init = cx.arg(a, &t)?.unwrap_or(Value::Null);
                        t.set_sack(init);
                        t
                    }
                    None => Trav::seed(),
                };
                let it = run(
                    &cx,
                    &compiled.traversal.steps,
                    Box::new(std::iter::once(Ok(seed))),
                );
                collect(it, compiled.terminal)?
            };
            wrote |= cx.wrote();
            graph = cx.into_graph();
            if let Some(var) = var {
                let v = match (compiled.terminal, values.as_slice()) {
                    (Terminal::Next(None) | Terminal::TryNext, [one]) => one.clone(),
                    _ => Value::list(values.clone()),
                };
                vars.insert(var.clone(), v);
            }
            last = values;
        }
        Ok((last, graph, wrote))
    }
}

fn overlaps(a: &[u64], b: &[u64]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

fn collect(it: crate::gremlin::exec::It<'_>, terminal: Terminal) -> Result<Vec<Value>> {
    Ok(match terminal {
        Terminal::ToList => it.map(|r| r.map(|t| t.obj)).collect::<Result<_>>()?,
        Terminal::ToSet => {
            let mut seen = indexmap::IndexSet::new();
            for r in it {
                seen.insert(r?.obj);
            }
            seen.into_iter().collect()
        }
        Terminal::Iterate => {
            for r in it {
                r?;
            }
            Vec::new()
        }
        Terminal::HasNext => {
            let mut it = it;
            vec![Value::Bool(it.next().transpose()?.is_some())]
        }
        Terminal::TryNext => {
            let mut it = it;
            it.next().transpose()?.map(|t| t.obj).into_iter().collect()
        }
        Terminal::Next(None) => {
            let mut it = it;
            match it.next().transpose()? {
                Some(t) => vec![t.obj],
                None => {
                    return Err(Error::Evaluation(
                        "The traversal has no more results (next() on an empty traversal)".into(),
                    ));
                }
            }
        }
        Terminal::Next(Some(n)) => it
            .take(n as usize)
            .map(|r| r.map(|t| t.obj))
            .collect::<Result<_>>()?,
    })
}
