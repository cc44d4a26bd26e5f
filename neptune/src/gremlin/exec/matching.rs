//! `match()`: TinkerPop's declarative match step.
//!
//! Each incoming traverser starts a search for bindings of the patterns' labels. Labels the
//! traverser's path already holds are bound to their last value; the match's start label (the
//! first pattern start that no pattern ends at, else the first start) is bound to the current
//! object when the path does not hold it. Patterns then run in whatever order they become
//! runnable — filters as soon as their labels are bound, `as(a)…as(b)` patterns once `a` is —
//! so their order in the query does not matter. A pattern's body sees every binding as a
//! labelled object on its path (so `select`, `where` and nested `match` inside it read them).
//!
//! Guarantee: each complete binding is emitted once per way of reaching it (TinkerPop keeps
//! duplicates), as a map from every label the patterns mention, with the new bindings added
//! to the traverser's path as labelled objects, so `select`, `where` and `dedup` after the
//! match see them. A set of patterns that can never all run (a start label nothing binds)
//! matches nothing.

use std::sync::Arc;

use super::branch::where_;
use super::{Cx, It, Trav, flat, sub};
use crate::error::Result;
use crate::gremlin::ir::{Pattern, Where};
use crate::value::{Map, Value};

/// Labels bound so far, in binding order.
type Bindings = Vec<(Arc<str>, Value)>;

/// Runs `match(patterns…)` over `it`.
pub(super) fn apply<'a>(cx: &'a Cx, patterns: &'a [Pattern], it: It<'a>) -> It<'a> {
    let mut vars = Vec::new();
    for p in patterns {
        p.labels(&mut vars);
    }
    let start = start_label(patterns);
    flat(cx, it, move |cx, t| {
        let mut b: Bindings = Vec::new();
        for v in &vars {
            if let Some(x) = t.labelled(v).pop() {
                b.push((Arc::clone(v), x));
            }
        }
        if let Some(s) = &start
            && get(&b, s).is_none()
        {
            b.push((Arc::clone(s), t.obj.clone()));
        }
        let pending: Vec<&Pattern> = patterns.iter().collect();
        let mut found = Vec::new();
        solve(cx, &t, b, &pending, &mut found, false)?;
        Ok(found
            .into_iter()
            .map(|b| {
                let mut m = Map::new();
                for v in &vars {
                    if let Some(x) = get(&b, v) {
                        m.insert(Value::Str(Arc::clone(v)), x.clone());
                    }
                }
                at(cx, &t, &b, Value::map(m))
            })
            .collect::<Vec<_>>())
    })
}

/// The label the incoming object is bound to: the first pattern start that no pattern binds
/// as its end, else the first start.
fn start_label(patterns: &[Pattern]) -> Option<Arc<str>> {
    let mut ends = Vec::new();
    for p in patterns {
        p.binds(&mut ends);
    }
    let starts: Vec<Arc<str>> = patterns.iter().filter_map(start_of).collect();
    starts
        .iter()
        .find(|s| !ends.contains(s))
        .or_else(|| starts.first())
        .cloned()
}

/// The label a pattern starts from.
fn start_of(p: &Pattern) -> Option<Arc<str>> {
    match p {
        Pattern::Trav { start, .. } => Some(Arc::clone(start)),
        Pattern::Where(Where::Pred { start, .. }) => start.clone(),
        Pattern::Where(Where::Trav(_)) => None,
        Pattern::Exists(p) | Pattern::Not(p) => start_of(p),
        Pattern::And(ps) | Pattern::Or(ps) => ps.iter().find_map(start_of),
    }
}

fn get<'b>(b: &'b Bindings, label: &str) -> Option<&'b Value> {
    b.iter().rev().find(|(l, _)| &**l == label).map(|(_, v)| v)
}

/// `t` with every binding its path does not already hold appended as a labelled object, then
/// moved on to `obj`.
fn at(cx: &Cx, t: &Trav, b: &Bindings, obj: Value) -> Trav {
    let mut x = t.clone();
    for (l, v) in b {
        if t.labelled(l).last() != Some(v) {
            x = x.to(cx, v.clone());
            x.label(std::slice::from_ref(l));
        }
    }
    x.to(cx, obj)
}

/// Whether a pattern is ready to run under `b`: its start is bound, and (for a filter) so is
/// every label it mentions that another pending pattern could still bind.
fn ready(p: &Pattern, b: &Bindings, others: &[&Pattern]) -> bool {
    if start_of(p).is_some_and(|s| get(b, &s).is_none()) {
        return false;
    }
    if matches!(p, Pattern::Trav { end: Some(_), .. } | Pattern::And(_)) {
        return true;
    }
    let mut mentioned = Vec::new();
    p.labels(&mut mentioned);
    let mut bindable = Vec::new();
    for o in others {
        o.binds(&mut bindable);
    }
    mentioned
        .iter()
        .all(|l| get(b, l).is_some() || !bindable.contains(l))
}

/// Extends `b` by the `pending` patterns, pushing each complete binding to `out` (only the
/// first when `first` is set: a filter needs one).
fn solve(
    cx: &Cx,
    t: &Trav,
    b: Bindings,
    pending: &[&Pattern],
    out: &mut Vec<Bindings>,
    first: bool,
) -> Result<()> {
    if first && !out.is_empty() {
        return Ok(());
    }
    if pending.is_empty() {
        out.push(b);
        return Ok(());
    }
    cx.tick()?;
    let is_filter =
        |p: &Pattern| !matches!(p, Pattern::Trav { end: Some(_), .. } | Pattern::And(_));
    let others = |i: usize| -> Vec<&Pattern> {
        pending
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, p)| *p)
            .collect()
    };
    // Filters first (they prune), then the first runnable binding pattern.
    let pick = (0..pending.len())
        .find(|&i| is_filter(pending[i]) && ready(pending[i], &b, &others(i)))
        .or_else(|| {
            (0..pending.len())
                .find(|&i| !is_filter(pending[i]) && ready(pending[i], &b, &others(i)))
        });
    let Some(i) = pick else {
        // Nothing can run: no binding completes.
        return Ok(());
    };
    let rest = others(i);
    match pending[i] {
        Pattern::And(ps) => {
            let mut all: Vec<&Pattern> = ps.iter().collect();
            all.extend(rest);
            solve(cx, t, b, &all, out, first)
        }
        Pattern::Trav {
            start,
            body,
            end: Some(end),
        } => {
            let Some(from) = get(&b, start).cloned() else {
                return Ok(());
            };
            let bound = get(&b, end).cloned();
            for r in sub(cx, body, at(cx, t, &b, from)) {
                let r = r?;
                match &bound {
                    Some(v) if r.obj != *v => {}
                    Some(_) => solve(cx, t, b.clone(), &rest, out, first)?,
                    None => {
                        let mut nb = b.clone();
                        nb.push((Arc::clone(end), r.obj));
                        solve(cx, t, nb, &rest, out, first)?;
                    }
                }
                if first && !out.is_empty() {
                    break;
                }
            }
            Ok(())
        }
        p => {
            if passes(cx, t, &b, p)? {
                solve(cx, t, b, &rest, out, first)?;
            }
            Ok(())
        }
    }
}

/// Whether a filter pattern passes under `b`.
fn passes(cx: &Cx, t: &Trav, b: &Bindings, p: &Pattern) -> Result<bool> {
    let matches = |ps: &[&Pattern]| -> Result<bool> {
        let mut out = Vec::new();
        solve(cx, t, b.clone(), ps, &mut out, true)?;
        Ok(!out.is_empty())
    };
    match p {
        Pattern::Trav {
            start, body, end, ..
        } => {
            let Some(from) = get(b, start).cloned() else {
                return Ok(false);
            };
            match end {
                Some(_) => matches(&[p]),
                None => Ok(sub(cx, body, at(cx, t, b, from))
                    .next()
                    .transpose()?
                    .is_some()),
            }
        }
        Pattern::Where(w) => where_(cx, w, &at(cx, t, b, t.obj.clone())),
        Pattern::Exists(inner) => matches(&[inner]),
        Pattern::Not(inner) => Ok(!matches(&[inner])?),
        Pattern::And(ps) => matches(&ps.iter().collect::<Vec<_>>()),
        Pattern::Or(ps) => {
            for q in ps {
                if matches(&[q])? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
    }
}
