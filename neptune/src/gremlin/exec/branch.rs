//! Steps that run child traversals or read the traverser's history: `select`, `project`,
//! `where`, the boolean filters, `path`, `repeat`, `union`/`coalesce`/`choose`/`optional`/
//! `local`, `map`/`flatMap`, `sideEffect`, `math`, `sack`, and the string functions.

use std::collections::VecDeque;
use std::sync::Arc;

use super::filter::test;
use super::{Cx, It, Trav, any, column, flat, keep, map, run_bulked, sub};
use crate::error::{Error, Result};
use crate::gremlin::ir::{By, Choose, Loop, OptionKey, Pop, Pred, Step, Traversal, Where};
use crate::value::{Arith, Map, Value, arith};

use super::text::func;

/// Looks up `key` for a traverser: a key of the current map, else a path label, else a side effect.
pub fn select_one(cx: &Cx, t: &Trav, key: &str, pop: Pop) -> Option<Value> {
    if let Value::Map(m) = &t.obj
        && let Some(v) = m.get(&Value::str(key))
    {
        return Some(v.clone());
    }
    let found = t.labelled(key);
    if !found.is_empty() {
        return Some(match pop {
            Pop::First => found.into_iter().next()?,
            Pop::Last => found.into_iter().last()?,
            Pop::All => Value::list(found),
            Pop::Mixed if found.len() == 1 => found.into_iter().next()?,
            Pop::Mixed => Value::list(found),
        });
    }
    cx.side.borrow().get(key).cloned().map(|v| {
        if pop == Pop::All {
            Value::list(vec![v])
        } else {
            v
        }
    })
}

fn by_at(cx: &Cx, by: &[By], i: usize, t: &Trav, v: Value) -> Result<Option<Value>> {
    if by.is_empty() {
        return Ok(Some(v));
    }
    cx.by(&by[i % by.len()], &t.with_obj(v))
}

pub(super) fn apply<'a>(cx: &'a Cx, step: &'a Step, it: It<'a>) -> It<'a> {
    match step {
        Step::Select { pop, keys, by } => map(it, move |t| {
            if keys.len() == 1 {
                let Some(v) = select_one(cx, &t, &keys[0], *pop) else {
                    return Ok(None);
                };
                return Ok(by_at(cx, by, 0, &t, v)?.map(|v| t.to(cx, v)));
            }
            let mut m = Map::new();
            for (i, k) in keys.iter().enumerate() {
                let Some(v) = select_one(cx, &t, k, *pop) else {
                    return Ok(None);
                };
                let Some(v) = by_at(cx, by, i, &t, v)? else {
                    return Ok(None);
                };
                m.insert(Value::Str(Arc::clone(k)), v);
            }
            Ok(Some(t.to(cx, Value::map(m))))
        }),
        Step::SelectTrav(pop, tr) => map(it, move |t| {
            let Some(k) = sub(cx, tr, t.clone()).next().transpose()? else {
                return Ok(None);
            };
            let Value::Str(key) = k.obj else {
                return Ok(None);
            };
            Ok(select_one(cx, &t, &key, *pop).map(|v| t.to(cx, v)))
        }),
        Step::SelectColumn(c) => map(it, move |t| Ok(column(&t.obj, *c).map(|v| t.to(cx, v)))),
        Step::Project { keys, by } => map(it, move |t| {
            let mut m = Map::new();
            for (i, k) in keys.iter().enumerate() {
                if let Some(v) = by_at(cx, by, i, &t, t.obj.clone())? {
                    m.insert(Value::Str(Arc::clone(k)), v);
                }
            }
            Ok(Some(t.to(cx, Value::map(m))))
        }),
        Step::Where(w) => keep(it, move |t| where_(cx, w, t)),
        Step::Filter(tr) => keep(it, move |t| any(cx, tr, t)),
        Step::Not(tr) => keep(it, move |t| any(cx, tr, t).map(|b| !b)),
        Step::And(ts) => keep(it, move |t| {
            for tr in ts {
                if !any(cx, tr, t)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }),
        Step::Or(ts) => keep(it, move |t| {
            for tr in ts {
                if any(cx, tr, t)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }),
        Step::Path { by, from, to } => map(it, move |t| {
            let mut p = t.path_value();
            if from.is_some() || to.is_some() {
                let start = from
                    .as_ref()
                    .and_then(|f| p.labels.iter().position(|ls| ls.iter().any(|l| l == f)))
                    .unwrap_or(0);
                let end = to
                    .as_ref()
                    .and_then(|f| p.labels.iter().rposition(|ls| ls.iter().any(|l| l == f)))
                    .map_or(p.objects.len(), |e| e + 1);
                let end = end.max(start);
                p.objects = p
                    .objects
                    .get(start..end)
                    .map(<[_]>::to_vec)
                    .unwrap_or_default();
                p.labels = p
                    .labels
                    .get(start..end)
                    .map(<[_]>::to_vec)
                    .unwrap_or_default();
            }
            if !by.is_empty() {
                for (i, o) in p.objects.iter_mut().enumerate() {
                    match cx.by(&by[i % by.len()], &t.with_obj(o.clone()))? {
                        Some(v) => *o = v,
                        // As in TinkerPop 3.7, a `by()` that produces nothing filters the
                        // traverser out.
                        None => return Ok(None),
                    }
                }
            }
            Ok(Some(t.to(cx, Value::Path(Arc::new(p)))))
        }),
        Step::PathFilter {
            simple,
            from,
            to,
            by,
        } => keep(it, move |t| {
            let p = t.path_value();
            let start = from
                .as_ref()
                .and_then(|f| p.labels.iter().position(|ls| ls.iter().any(|l| l == f)))
                .unwrap_or(0);
            let end = to
                .as_ref()
                .and_then(|f| p.labels.iter().rposition(|ls| ls.iter().any(|l| l == f)))
                .map(|e| e + 1)
                .unwrap_or(p.objects.len());
            let mut seen = std::collections::HashSet::new();
            let mut is_simple = true;
            for o in p.objects.get(start..end.max(start)).unwrap_or(&[]) {
                let key = match by {
                    Some(b) => cx.by(b, &t.with_obj(o.clone()))?.unwrap_or(Value::Null),
                    None => o.clone(),
                };
                if !seen.insert(key) {
                    is_simple = false;
                    break;
                }
            }
            Ok(is_simple == *simple)
        }),
        Step::Repeat(l) => repeat(cx, l, it),
        Step::Loops(name) => map(it, move |t| {
            let n = match name {
                Some(n) => t
                    .loops
                    .iter()
                    .rev()
                    .find(|(l, _)| l.as_deref() == Some(&**n))
                    .map(|(_, c)| *c)
                    .unwrap_or(0),
                None => t.loops.last().map(|(_, c)| *c).unwrap_or(0),
            };
            Ok(Some(t.with_obj(Value::Int(n as i32))))
        }),
        // Union branches see the whole input stream, so barriers inside them are global.
        Step::Union(ts) => {
            let mut input = Some(it);
            let mut state: Option<It<'a>> = None;
            Box::new(std::iter::from_fn(move || {
                if state.is_none() {
                    let all: Result<Vec<Trav>> = input.take()?.collect();
                    state = Some(match all {
                        Ok(all) => Box::new(ts.iter().flat_map(move |tr| {
                            super::run(cx, &tr.steps, Box::new(all.clone().into_iter().map(Ok)))
                        })),
                        Err(e) => Box::new(std::iter::once(Err(e))),
                    });
                }
                state.as_mut().and_then(|s| s.next())
            }))
        }
        Step::Coalesce(ts) => flat(cx, it, move |cx, t| {
            for tr in ts {
                let out: Vec<Trav> = sub(cx, tr, t.clone()).collect::<Result<_>>()?;
                if !out.is_empty() {
                    return Ok(out);
                }
            }
            Ok(Vec::new())
        }),
        Step::Choose(c) => flat(cx, it, move |cx, t| choose(cx, c, t)),
        Step::Optional(tr) => flat(cx, it, move |cx, t| {
            let out: Vec<Trav> = sub(cx, tr, t.clone()).collect::<Result<_>>()?;
            Ok(if out.is_empty() { vec![t] } else { out })
        }),
        Step::Local(tr) | Step::FlatMap(tr) => Box::new(it.flat_map(move |r| -> It<'a> {
            match r {
                Ok(t) => sub(cx, tr, t),
                Err(e) => Box::new(std::iter::once(Err(e))),
            }
        })),
        Step::Map(tr) => map(it, move |t| {
            Ok(sub(cx, tr, t.clone())
                .next()
                .transpose()?
                .map(|r| t.to(cx, r.obj)))
        }),
        Step::SideEffect(tr) => map(it, move |t| {
            for r in sub(cx, tr, t.clone()) {
                r?;
            }
            Ok(Some(t))
        }),
        Step::Math { expr, by } => map(it, move |t| {
            let vars = expr.variables();
            let unproductive = std::cell::Cell::new(false);
            let resolve = |name: &str| -> Result<f64> {
                let idx = vars.iter().position(|v| v == name).unwrap_or(0);
                let raw = if name == "_" {
                    Some(t.obj.clone())
                } else {
                    select_one(cx, &t, name, Pop::Last)
                };
                let Some(raw) = raw else {
                    return Err(Error::Evaluation(format!(
                        "The variable {name} for math() step must resolve to a Number"
                    )));
                };
                match by_at(cx, by, idx, &t, raw)? {
                    None => {
                        unproductive.set(true);
                        Ok(0.0)
                    }
                    Some(v) => v.as_f64().ok_or_else(|| {
                        Error::Evaluation(format!(
                            "The variable {name} for math() step must resolve to a Number"
                        ))
                    }),
                }
            };
            let r = expr.eval(&resolve)?;
            if unproductive.get() {
                return Ok(None);
            }
            Ok(Some(t.to(cx, Value::Double(r))))
        }),
        Step::SackGet => map(it, move |t| {
            let v = t.sack.clone().unwrap_or(Value::Null);
            Ok(Some(t.to(cx, v)))
        }),
        Step::SackSet(op, by) => map(it, move |mut t| {
            let operand = match by {
                Some(b) => cx.by(b, &t)?,
                None => Some(t.obj.clone()),
            };
            let Some(operand) = operand else {
                return Ok(Some(t));
            };
            let cur = t.sack.take().unwrap_or(Value::Null);
            t.sack = Some(super::reduce::operate(*op, cur, operand)?);
            Ok(Some(t))
        }),
        Step::Index => map(it, move |t| {
            let items = t.obj.as_items().unwrap_or_else(|| vec![t.obj.clone()]);
            let out = items
                .into_iter()
                .enumerate()
                .map(|(i, v)| Value::list(vec![v, Value::Int(i as i32)]))
                .collect();
            Ok(Some(t.to(cx, Value::list(out))))
        }),
        Step::Func(f, args, scope) => map(it, move |t| {
            let mut params = Vec::new();
            for a in args {
                params.push(cx.arg(a, &t)?.unwrap_or(Value::Null));
            }
            let local = *scope == crate::gremlin::ir::Scope::Local;
            let v = match (&t.obj, local) {
                (Value::List(l), true) => Value::list(
                    l.iter()
                        .map(|x| func(*f, x, &params, true))
                        .collect::<Result<_>>()?,
                ),
                (obj, _) => func(*f, obj, &params, local)?,
            };
            Ok(Some(t.to(cx, v)))
        }),
        _ => super::reduce::apply(cx, step, it),
    }
}

pub(super) fn where_(cx: &Cx, w: &Where, t: &Trav) -> Result<bool> {
    match w {
        Where::Trav(tr) => {
            // `where(as('a')…as('b'))`: a leading label must equal the current object and a
            // trailing label must equal what the traversal reaches.
            let steps = &tr.steps;
            let (start, rest) = match steps.first() {
                Some(Step::As(l)) if l.len() == 1 => (Some(&l[0]), &steps[1..]),
                _ => (None, &steps[..]),
            };
            let mut t2 = t.clone();
            if let Some(s) = start {
                match select_one(cx, t, s, Pop::Last) {
                    Some(v) => t2 = t.with_obj(v),
                    None => return Ok(false),
                }
            }
            let (end, body) = match rest.last() {
                Some(Step::As(l)) if l.len() == 1 && !t.labelled(&l[0]).is_empty() => {
                    (Some(&l[0]), &rest[..rest.len() - 1])
                }
                _ => (None, rest),
            };
            let body_t = Traversal {
                steps: body.to_vec(),
            };
            let want = end.and_then(|e| select_one(cx, t, e, Pop::Last));
            for r in sub(cx, &body_t, t2) {
                let r = r?;
                match &want {
                    Some(w) if r.obj != *w => continue,
                    _ => return Ok(true),
                }
            }
            Ok(false)
        }
        Where::Pred { start, pred, by } => {
            let lhs = match start {
                Some(s) => select_one(cx, t, s, Pop::Last),
                None => Some(t.obj.clone()),
            };
            let Some(lhs) = lhs else { return Ok(false) };
            let Some(lhs) = by_at(cx, by, 0, t, lhs)? else {
                return Ok(false);
            };
            let resolve = |v: &Value| -> Result<Option<Value>> {
                let Value::Str(label) = v else {
                    return Ok(Some(v.clone()));
                };
                match select_one(cx, t, label, Pop::Last) {
                    Some(x) => by_at(cx, by, 1, t, x),
                    None => Ok(None),
                }
            };
            let Some(p) = resolve_pred(pred, &resolve)? else {
                return Ok(false);
            };
            Ok(test(&p, &lhs))
        }
    }
}

fn resolve_pred(p: &Pred, f: &dyn Fn(&Value) -> Result<Option<Value>>) -> Result<Option<Pred>> {
    let one = |v: &Value| f(v);
    Ok(Some(match p {
        Pred::Eq(v) => Pred::Eq(match one(v)? {
            Some(x) => x,
            None => return Ok(None),
        }),
        Pred::Neq(v) => Pred::Neq(match one(v)? {
            Some(x) => x,
            None => return Ok(None),
        }),
        Pred::Lt(v) => Pred::Lt(match one(v)? {
            Some(x) => x,
            None => return Ok(None),
        }),
        Pred::Lte(v) => Pred::Lte(match one(v)? {
            Some(x) => x,
            None => return Ok(None),
        }),
        Pred::Gt(v) => Pred::Gt(match one(v)? {
            Some(x) => x,
            None => return Ok(None),
        }),
        Pred::Gte(v) => Pred::Gte(match one(v)? {
            Some(x) => x,
            None => return Ok(None),
        }),
        Pred::Within(vs) => Pred::Within(
            vs.iter()
                .map(one)
                .collect::<Result<Vec<_>>>()?
                .into_iter()
                .flatten()
                .collect(),
        ),
        Pred::Without(vs) => Pred::Without(
            vs.iter()
                .map(one)
                .collect::<Result<Vec<_>>>()?
                .into_iter()
                .flatten()
                .collect(),
        ),
        Pred::And(a, b) => match (resolve_pred(a, f)?, resolve_pred(b, f)?) {
            (Some(a), Some(b)) => Pred::And(Box::new(a), Box::new(b)),
            _ => return Ok(None),
        },
        Pred::Or(a, b) => match (resolve_pred(a, f)?, resolve_pred(b, f)?) {
            (Some(a), Some(b)) => Pred::Or(Box::new(a), Box::new(b)),
            _ => return Ok(None),
        },
        Pred::Not(a) => match resolve_pred(a, f)? {
            Some(a) => Pred::Not(Box::new(a)),
            None => return Ok(None),
        },
        other => other.clone(),
    }))
}

fn choose(cx: &Cx, c: &Choose, t: Trav) -> Result<Vec<Trav>> {
    let branch = |tr: &Traversal, t: Trav| -> Result<Vec<Trav>> { sub(cx, tr, t).collect() };
    match c {
        Choose::IfThen(cond, a, b) => {
            if any(cx, cond, &t)? {
                branch(a, t)
            } else {
                branch(b, t)
            }
        }
        Choose::IfPred(p, a, b) => {
            if test(p, &t.obj) {
                branch(a, t)
            } else {
                branch(b, t)
            }
        }
        Choose::Options(sel, opts) => {
            let key = sub(cx, sel, t.clone()).next().transpose()?.map(|r| r.obj);
            let mut out = Vec::new();
            let mut matched = false;
            for (k, tr) in opts {
                let hit = match (k, &key) {
                    (OptionKey::Any, _) => true,
                    (OptionKey::Value(v), Some(kv)) => v.gremlin_eq(kv),
                    (OptionKey::Pred(p), Some(kv)) => test(p, kv),
                    _ => false,
                };
                if hit {
                    if !matches!(k, OptionKey::Any) {
                        matched = true;
                    }
                    out.extend(branch(tr, t.clone())?);
                }
            }
            if !matched
                && let Some((_, tr)) = opts.iter().find(|(k, _)| matches!(k, OptionKey::None))
            {
                out.extend(branch(tr, t.clone())?);
            }
            Ok(out)
        }
    }
}

/// `repeat()`: breadth-first over a work queue so results stream as loops produce them.
fn repeat<'a>(cx: &'a Cx, l: &'a Loop, it: It<'a>) -> It<'a> {
    if !cx.needs_path {
        return repeat_bulked(cx, l, it);
    }
    let mut input = it;
    let mut queue: VecDeque<Trav> = VecDeque::new();
    let mut out: VecDeque<Result<Trav>> = VecDeque::new();
    let mut input_done = false;
    let name = l.name.clone();
    Box::new(std::iter::from_fn(move || {
        loop {
            if let Some(r) = out.pop_front() {
                return Some(r);
            }
            let t = if let Some(t) = queue.pop_front() {
                t
            } else if !input_done {
                match input.next() {
                    Some(Ok(mut t)) => {
                        t.loops.push((name.clone(), 0));
                        if let Err(e) = enter(cx, l, t, &mut queue, &mut out) {
                            out.push_back(Err(e));
                        }
                        continue;
                    }
                    Some(Err(e)) => return Some(Err(e)),
                    None => {
                        input_done = true;
                        continue;
                    }
                }
            } else {
                return None;
            };
            if let Err(e) = cx.tick() {
                return Some(Err(e));
            }
            for r in sub(cx, &l.body, t) {
                match r {
                    Ok(mut nt) => {
                        if let Some(top) = nt.loops.last_mut() {
                            top.1 += 1;
                        }
                        if let Err(e) = after_body(cx, l, nt, &mut queue, &mut out) {
                            out.push_back(Err(e));
                        }
                    }
                    Err(e) => out.push_back(Err(e)),
                }
            }
        }
    }))
}

/// `repeat()` when paths are not kept: generation by generation, merging equal traversers
/// (same object, loop counters and sack) into one with their bulks summed, so a deep repeat
/// costs the number of distinct traversers per loop rather than the number of paths.
fn repeat_bulked<'a>(cx: &'a Cx, l: &'a Loop, it: It<'a>) -> It<'a> {
    let mut input = Some(it);
    let mut out: VecDeque<Result<Trav>> = VecDeque::new();
    let mut generation: Vec<Trav> = Vec::new();
    let name = l.name.clone();
    Box::new(std::iter::from_fn(move || {
        loop {
            if let Some(r) = out.pop_front() {
                return Some(r);
            }
            let mut queue: VecDeque<Trav> = VecDeque::new();
            if generation.is_empty() {
                // The whole input is the first generation.
                let inp = input.take()?;
                for r in inp {
                    match r {
                        Ok(mut t) => {
                            t.loops.push((name.clone(), 0));
                            if let Err(e) = enter(cx, l, t, &mut queue, &mut out) {
                                out.push_back(Err(e));
                            }
                        }
                        Err(e) => out.push_back(Err(e)),
                    }
                }
            } else {
                for t in std::mem::take(&mut generation) {
                    if let Err(e) = cx.tick() {
                        return Some(Err(e));
                    }
                    let body = run_bulked(
                        cx,
                        &l.body.steps,
                        Box::new(std::iter::once(Ok(t))),
                        true,
                        true,
                    );
                    for r in body {
                        match r {
                            Ok(mut nt) => {
                                if let Some(top) = nt.loops.last_mut() {
                                    top.1 += 1;
                                }
                                if let Err(e) = after_body(cx, l, nt, &mut queue, &mut out) {
                                    out.push_back(Err(e));
                                }
                            }
                            Err(e) => out.push_back(Err(e)),
                        }
                    }
                }
            }
            generation = merge_bulks(queue);
            if generation.is_empty() && out.is_empty() {
                return None;
            }
        }
    }))
}

/// Merges equal traversers, summing their bulks (first occurrence keeps its place).
fn merge_bulks(ts: VecDeque<Trav>) -> Vec<Trav> {
    type Key = (Value, Vec<(Option<Arc<str>>, u32)>, Option<Value>);
    let mut index: std::collections::HashMap<Key, usize> = std::collections::HashMap::new();
    let mut merged: Vec<Trav> = Vec::with_capacity(ts.len());
    for t in ts {
        let key = (t.obj.clone(), t.loops.clone(), t.sack.clone());
        match index.get(&key) {
            Some(&i) => merged[i].bulk = merged[i].bulk.saturating_add(t.bulk),
            None => {
                index.insert(key, merged.len());
                merged.push(t);
            }
        }
    }
    merged
}

fn exit(mut t: Trav) -> Trav {
    t.loops.pop();
    t
}

fn enter(
    cx: &Cx,
    l: &Loop,
    t: Trav,
    queue: &mut VecDeque<Trav>,
    out: &mut VecDeque<Result<Trav>>,
) -> Result<()> {
    if let Some((cond, true)) = &l.until
        && any(cx, cond, &t)?
    {
        out.push_back(Ok(exit(t)));
        return Ok(());
    }
    if let Some((cond, true)) = &l.emit
        && any(cx, cond, &t)?
    {
        out.push_back(Ok(exit(t.clone())));
    }
    queue.push_back(t);
    Ok(())
}

fn after_body(
    cx: &Cx,
    l: &Loop,
    t: Trav,
    queue: &mut VecDeque<Trav>,
    out: &mut VecDeque<Result<Trav>>,
) -> Result<()> {
    let n = t.loops.last().map(|x| x.1).unwrap_or(0);
    if let Some(times) = l.times
        && n >= times
    {
        out.push_back(Ok(exit(t)));
        return Ok(());
    }
    if let Some((cond, false)) = &l.until
        && any(cx, cond, &t)?
    {
        out.push_back(Ok(exit(t)));
        return Ok(());
    }
    if let Some((cond, _)) = &l.emit
        && any(cx, cond, &t)?
    {
        out.push_back(Ok(exit(t.clone())));
    }
    // `until` before `repeat` is checked again at the start of every iteration.
    if let Some((cond, true)) = &l.until
        && any(cx, cond, &t)?
    {
        if l.emit.is_none() {
            out.push_back(Ok(exit(t)));
        }
        return Ok(());
    }
    if l.times.is_none() && l.until.is_none() && t.loops.last().is_some_and(|x| x.1 > 10_000) {
        return Err(Error::Evaluation(
            "repeat() ran more than 10000 loops without until() or times()".into(),
        ));
    }
    queue.push_back(t);
    Ok(())
}

/// Adds numbers for `sum()`.
pub fn add(a: &Value, b: &Value) -> Result<Value> {
    arith(Arith::Add, a, b).ok_or_else(|| {
        Error::Evaluation(format!(
            "Cannot add {} and {}",
            a.type_name(),
            b.type_name()
        ))
    })
}
