//! Barriers and collection steps: `order`, `range`/`limit`/`skip`/`tail`, `count`/`sum`/`min`/
//! `max`/`mean`, `group`/`groupCount`, `dedup`, `fold`, `aggregate`/`store`/`cap`, `sample`,
//! plus the element-to-map steps (`valueMap`, `elementMap`).

use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::Arc;

use super::branch::{add, select_one};
use super::{Cx, It, Trav, barrier, map, sub};
use crate::error::{Error, Result};
use crate::gremlin::ir::{By, Operator, OrderDir, Pop, Scope, Step, Tokens, Traversal};
use crate::value::{Arith, Map, Token, Value, arith};

pub(super) fn apply<'a>(cx: &'a Cx, step: &'a Step, it: It<'a>) -> It<'a> {
    match step {
        Step::Order {
            scope: Scope::Global,
            by,
        } => barrier(it, move |all| order(cx, all, by)),
        Step::Order {
            scope: Scope::Local,
            by,
        } => map(it, move |t| {
            let v = match &t.obj {
                Value::List(l) => {
                    let items: Vec<Trav> = l.iter().map(|v| t.with_obj(v.clone())).collect();
                    Value::list(order(cx, items, by)?.into_iter().map(|x| x.obj).collect())
                }
                Value::Map(m) => {
                    let items: Vec<Trav> = m
                        .iter()
                        .map(|(k, v)| {
                            t.with_obj(Value::map(Map::from_iter([(k.clone(), v.clone())])))
                        })
                        .collect();
                    let mut out = Map::new();
                    for x in order(cx, items, by)? {
                        if let Value::Map(e) = x.obj {
                            out.extend(e.iter().map(|(k, v)| (k.clone(), v.clone())));
                        }
                    }
                    Value::map(out)
                }
                other => other.clone(),
            };
            Ok(Some(t.with_obj(v)))
        }),
        Step::Range {
            scope: Scope::Global,
            lo,
            hi,
        } => {
            let (lo, hi) = (*lo as usize, hi.map(|h| h as usize));
            let it = it.skip(lo);
            match hi {
                Some(h) => Box::new(it.take(h.saturating_sub(lo))),
                None => Box::new(it),
            }
        }
        Step::Range {
            scope: Scope::Local,
            lo,
            hi,
        } => map(it, move |t| {
            Ok(local_range(&t.obj, *lo as usize, hi.map(|h| h as usize)).map(|v| t.with_obj(v)))
        }),
        Step::Tail {
            scope: Scope::Global,
            n,
        } => barrier(it, move |all| {
            let skip = all.len().saturating_sub(*n as usize);
            Ok(all.into_iter().skip(skip).collect())
        }),
        Step::Tail {
            scope: Scope::Local,
            n,
        } => map(it, move |t| {
            let len = t.obj.as_items().map(|v| v.len()).unwrap_or(0);
            let lo = len.saturating_sub(*n as usize);
            Ok(
                local_range(&t.obj, lo, if *n == 1 { Some(lo + 1) } else { None })
                    .map(|v| t.with_obj(v)),
            )
        }),
        Step::Count(Scope::Global) => barrier(it, |all| {
            let n = all.iter().fold(0u64, |n, t| n.saturating_add(t.bulk));
            let n = i64::try_from(n).unwrap_or(i64::MAX);
            Ok(vec![Trav::seed().with_obj(Value::Long(n))])
        }),
        Step::Count(Scope::Local) => map(it, move |t| {
            let n = match &t.obj {
                Value::List(l) => l.len(),
                Value::Set(s) => s.len(),
                Value::Map(m) => m.len(),
                Value::Path(p) => p.objects.len(),
                _ => 1,
            };
            Ok(Some(t.with_obj(Value::Long(n as i64))))
        }),
        Step::Sum(s) | Step::Min(s) | Step::Max(s) | Step::Mean(s) => {
            let kind = match step {
                Step::Sum(_) => 0,
                Step::Min(_) => 1,
                Step::Max(_) => 2,
                _ => 3,
            };
            if *s == Scope::Global {
                barrier(it, move |all| {
                    Ok(
                        aggregate_values(kind, all.into_iter().map(|t| t.obj).collect())?
                            .map(|v| Trav::seed().with_obj(v))
                            .into_iter()
                            .collect(),
                    )
                })
            } else {
                map(it, move |t| {
                    let items = t.obj.as_items().unwrap_or_else(|| vec![t.obj.clone()]);
                    Ok(aggregate_values(kind, items)?.map(|v| t.with_obj(v)))
                })
            }
        }
        Step::Group { side, by } => barrier(it, move |all| {
            let m = group(cx, &all, by)?;
            emit_or_store(cx, side, all, Value::map(m))
        }),
        Step::GroupCount {
            side: Some(key),
            by,
        } => {
            cx.side
                .borrow_mut()
                .entry(Arc::clone(key))
                .or_insert_with(|| Value::map(Map::new()));
            map(it, move |t| {
                let k = match by {
                    Some(b) => cx.by(b, &t)?,
                    None => Some(t.obj.clone()),
                };
                if let Some(k) = k {
                    let mut side = cx.side.borrow_mut();
                    if let Some(Value::Map(m)) = side.get_mut(key) {
                        let e = Arc::make_mut(m).entry(k).or_insert(Value::Long(0));
                        if let Value::Long(n) = e {
                            *n += 1;
                        }
                    }
                }
                Ok(Some(t))
            })
        }
        Step::GroupCount { side, by } => barrier(it, move |all| {
            let mut m = Map::new();
            for t in &all {
                let Some(k) = (match by {
                    Some(b) => cx.by(b, t)?,
                    None => Some(t.obj.clone()),
                }) else {
                    continue;
                };
                let e = m.entry(k).or_insert(Value::Long(0));
                if let Value::Long(n) = e {
                    *n += 1;
                }
            }
            emit_or_store(cx, side, all, Value::map(m))
        }),
        Step::Dedup {
            scope: Scope::Global,
            labels,
            by,
        } => {
            let mut seen: HashSet<Value> = HashSet::new();
            Box::new(it.filter_map(move |r| {
                let t = match r {
                    Ok(t) => t,
                    Err(e) => return Some(Err(e)),
                };
                let key = if !labels.is_empty() {
                    Some(Value::list(
                        labels
                            .iter()
                            .map(|l| select_one(cx, &t, l, Pop::Last).unwrap_or(Value::Null))
                            .collect(),
                    ))
                } else {
                    match by {
                        Some(b) => match cx.by(b, &t) {
                            Ok(k) => k,
                            Err(e) => return Some(Err(e)),
                        },
                        None => Some(t.obj.clone()),
                    }
                };
                let key = key?;
                if seen.insert(key) {
                    // A deduplicated traverser stands for one.
                    let mut t = t;
                    t.bulk = 1;
                    Some(Ok(t))
                } else {
                    None
                }
            }))
        }
        Step::Dedup {
            scope: Scope::Local,
            ..
        } => map(it, move |t| {
            let v = match &t.obj {
                Value::List(l) => {
                    let mut seen = HashSet::new();
                    Value::list(
                        l.iter()
                            .filter(|v| seen.insert((*v).clone()))
                            .cloned()
                            .collect(),
                    )
                }
                other => other.clone(),
            };
            Ok(Some(t.with_obj(v)))
        }),
        Step::Fold => barrier(it, |all| {
            Ok(vec![Trav::seed().with_obj(Value::list(
                all.into_iter().map(|t| t.obj).collect(),
            ))])
        }),
        Step::FoldWith(seed, op) => barrier(it, move |all| {
            let mut acc = seed.clone();
            for t in all {
                acc = operate(*op, acc, t.obj)?;
            }
            Ok(vec![Trav::seed().with_obj(acc)])
        }),
        Step::Aggregate {
            scope: Scope::Global,
            key,
            by,
        } => barrier(it, move |all| {
            for t in &all {
                push_side(cx, key, by, t)?;
            }
            if all.is_empty() {
                cx.side
                    .borrow_mut()
                    .entry(Arc::clone(key))
                    .or_insert_with(|| Value::list(vec![]));
            }
            Ok(all)
        }),
        Step::Aggregate {
            scope: Scope::Local,
            key,
            by,
        } => {
            cx.side
                .borrow_mut()
                .entry(Arc::clone(key))
                .or_insert_with(|| Value::list(vec![]));
            map(it, move |t| {
                push_side(cx, key, by, &t)?;
                Ok(Some(t))
            })
        }
        Step::Cap(keys) => barrier(it, move |all| {
            drop(all);
            let side = cx.side.borrow();
            let v = if keys.len() == 1 {
                side.get(&keys[0])
                    .cloned()
                    .unwrap_or_else(|| Value::list(vec![]))
            } else {
                Value::map(
                    keys.iter()
                        .map(|k| {
                            (
                                Value::Str(Arc::clone(k)),
                                side.get(k).cloned().unwrap_or(Value::Null),
                            )
                        })
                        .collect(),
                )
            };
            Ok(vec![Trav::seed().with_obj(v)])
        }),
        Step::Sample {
            scope: Scope::Global,
            n,
            by,
        } => barrier(it, move |all| {
            let mut weighted: Vec<(f64, Trav)> = Vec::new();
            for t in all {
                let w = match by {
                    Some(b) => cx.by(b, &t)?.and_then(|v| v.as_f64()).unwrap_or(0.0),
                    None => 1.0,
                };
                if w > 0.0 {
                    weighted.push((w, t));
                }
            }
            let mut out = Vec::new();
            while out.len() < *n as usize && !weighted.is_empty() {
                let total: f64 = weighted.iter().map(|(w, _)| w).sum();
                let mut r = cx.random() * total;
                let mut i = 0;
                while i + 1 < weighted.len() && r >= weighted[i].0 {
                    r -= weighted[i].0;
                    i += 1;
                }
                out.push(weighted.swap_remove(i).1);
            }
            Ok(out)
        }),
        Step::Sample {
            scope: Scope::Local,
            n,
            ..
        } => map(it, move |t| {
            // A single object is not a collection to sample from: it passes unchanged.
            let Some(mut items) = t.obj.as_items() else {
                return Ok(Some(t));
            };
            let mut out = Vec::new();
            while out.len() < *n as usize && !items.is_empty() {
                let i = (cx.random() * items.len() as f64) as usize;
                out.push(items.swap_remove(i.min(items.len() - 1)));
            }
            Ok(Some(t.with_obj(Value::list(out))))
        }),
        other => {
            let msg = format!("the step {other:?} cannot run here");
            Box::new(std::iter::once(Err(Error::Evaluation(msg))))
        }
    }
}

fn push_side(cx: &Cx, key: &Arc<str>, by: &Option<By>, t: &Trav) -> Result<()> {
    let v = match by {
        Some(b) => cx.by(b, t)?,
        None => Some(t.obj.clone()),
    };
    let Some(v) = v else { return Ok(()) };
    let mut side = cx.side.borrow_mut();
    let e = side
        .entry(Arc::clone(key))
        .or_insert_with(|| Value::list(vec![]));
    match e {
        Value::List(l) => Arc::make_mut(l).push(v),
        Value::Set(s) => {
            Arc::make_mut(s).insert(v);
        }
        other => *other = Value::list(vec![other.clone(), v]),
    }
    Ok(())
}

fn emit_or_store(cx: &Cx, side: &Option<Arc<str>>, all: Vec<Trav>, v: Value) -> Result<Vec<Trav>> {
    match side {
        Some(k) => {
            let mut s = cx.side.borrow_mut();
            match (s.get_mut(k), v) {
                (Some(Value::Map(old)), Value::Map(new)) => {
                    let old = Arc::make_mut(old);
                    for (key, val) in new.iter() {
                        match (old.get_mut(key), val) {
                            (Some(Value::List(a)), Value::List(b)) => {
                                Arc::make_mut(a).extend(b.iter().cloned())
                            }
                            (Some(slot), v) => *slot = v.clone(),
                            (None, v) => {
                                old.insert(key.clone(), v.clone());
                            }
                        }
                    }
                }
                (_, v) => {
                    s.insert(Arc::clone(k), v);
                }
            }
            Ok(all)
        }
        None => Ok(vec![Trav::seed().with_obj(v)]),
    }
}

fn local_range(v: &Value, lo: usize, hi: Option<usize>) -> Option<Value> {
    Some(match v {
        Value::List(l) => {
            let end = hi.unwrap_or(l.len()).min(l.len());
            let slice: Vec<Value> = l.get(lo.min(end)..end).unwrap_or(&[]).to_vec();
            // A one-element range of a list is the element itself, as in TinkerPop.
            if hi == Some(lo + 1) {
                return slice.into_iter().next();
            }
            Value::list(slice)
        }
        Value::Map(m) => {
            let end = hi.unwrap_or(m.len()).min(m.len());
            Value::map(
                m.iter()
                    .skip(lo)
                    .take(end.saturating_sub(lo))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            )
        }
        other => other.clone(),
    })
}

/// Sorts traversers by the `by` comparators.
fn order(cx: &Cx, all: Vec<Trav>, by: &[(By, OrderDir)]) -> Result<Vec<Trav>> {
    let by: Vec<(By, OrderDir)> = if by.is_empty() {
        vec![(By::Identity, OrderDir::Asc)]
    } else {
        by.to_vec()
    };
    let mut keyed: Vec<(Vec<Value>, Trav)> = Vec::with_capacity(all.len());
    for t in all {
        let mut keys = Vec::with_capacity(by.len());
        let mut productive = true;
        for (b, _) in &by {
            match cx.by(b, &t)? {
                Some(k) => keys.push(k),
                None => {
                    productive = false;
                    break;
                }
            }
        }
        if productive {
            keyed.push((keys, t));
        }
    }
    if by.iter().any(|(_, d)| *d == OrderDir::Shuffle) {
        for i in (1..keyed.len()).rev() {
            let j = (cx.random() * (i + 1) as f64) as usize;
            keyed.swap(i, j.min(i));
        }
        return Ok(keyed.into_iter().map(|(_, t)| t).collect());
    }
    keyed.sort_by(|(a, _), (b, _)| {
        for (i, (_, dir)) in by.iter().enumerate() {
            let o = a[i].order(&b[i]);
            let o = if *dir == OrderDir::Desc {
                o.reverse()
            } else {
                o
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
    Ok(keyed.into_iter().map(|(_, t)| t).collect())
}

fn aggregate_values(kind: u8, items: Vec<Value>) -> Result<Option<Value>> {
    let items: Vec<Value> = items
        .into_iter()
        .filter(|v| !matches!(v, Value::Null))
        .collect();
    if items.is_empty() {
        return Ok(None);
    }
    match kind {
        0 | 3 => {
            let mut acc: Option<Value> = None;
            for v in &items {
                if !v.is_number() {
                    return Err(Error::Evaluation(format!(
                        "{} requires numbers but found {}",
                        if kind == 0 { "sum()" } else { "mean()" },
                        v.type_name()
                    )));
                }
                acc = Some(match acc {
                    None => v.clone(),
                    Some(a) => add(&a, v)?,
                });
            }
            if kind == 0 {
                return Ok(acc);
            }
            let total = acc.and_then(|a| a.as_f64()).unwrap_or(0.0);
            Ok(Some(Value::Double(total / items.len() as f64)))
        }
        _ => {
            let items_have_double = items.iter().any(|v| matches!(v, Value::Double(_)));
            let mut best: Option<Value> = None;
            for v in items {
                best = Some(match best {
                    None => v,
                    Some(b) => {
                        let ord = match v.compare(&b) {
                            Some(o) => o,
                            None if v.is_number() != b.is_number()
                                || v.type_name() != b.type_name() =>
                            {
                                v.order(&b)
                            }
                            None => Ordering::Equal,
                        };
                        let take = if kind == 1 {
                            ord == Ordering::Less
                        } else {
                            ord == Ordering::Greater
                        };
                        if take { v } else { b }
                    }
                });
            }
            // Like NumberHelper, a mix of number types answers in the widest one.
            if let Some(b) = &best
                && b.is_number()
                && items_have_double
            {
                return Ok(b.as_f64().map(Value::Double));
            }
            Ok(best)
        }
    }
}

/// Whether a value traversal already reduces (so `group` need not fold its result).
fn reduces(t: &Traversal) -> bool {
    matches!(
        t.steps.last(),
        Some(
            Step::Count(Scope::Global)
                | Step::Sum(Scope::Global)
                | Step::Min(Scope::Global)
                | Step::Max(Scope::Global)
                | Step::Mean(Scope::Global)
                | Step::Fold
                | Step::FoldWith(..)
                | Step::Group { side: None, .. }
                | Step::GroupCount { side: None, .. }
                | Step::Cap(_)
        )
    )
}

fn group(cx: &Cx, all: &[Trav], by: &[By]) -> Result<Map> {
    let mut groups: indexmap::IndexMap<Value, Vec<Trav>> = indexmap::IndexMap::new();
    for t in all {
        let key = match by.first() {
            Some(b) => cx.by(b, t)?,
            None => Some(t.obj.clone()),
        };
        // As in TinkerPop 3.7, a key `by()` that produces nothing filters the traverser out.
        let Some(key) = key else {
            continue;
        };
        groups.entry(key).or_default().push(t.clone());
    }
    let mut m = Map::new();
    for (k, ts) in groups {
        let v = match by.get(1) {
            None | Some(By::Identity) => Value::list(ts.into_iter().map(|t| t.obj).collect()),
            Some(By::Trav(tr)) => {
                let input: super::It<'_> = Box::new(ts.into_iter().map(Ok));
                let out: Vec<Value> = super::run(cx, &tr.steps, input)
                    .map(|r| r.map(|t| t.obj))
                    .collect::<Result<_>>()?;
                // A group whose value traversal produces nothing (a sum of no numbers)
                // is left out.
                let Some(v) = (if reduces(tr) {
                    out.into_iter().next()
                } else {
                    first_or_list(out)
                }) else {
                    continue;
                };
                v
            }
            Some(b) => {
                let mut out = Vec::new();
                for t in &ts {
                    out.extend(cx.by(b, t)?);
                }
                Value::list(out)
            }
        };
        m.insert(k, v);
    }
    Ok(m)
}

/// The value of a group whose value traversal does not reduce: its one result as is, several
/// as a list, none as nothing.
fn first_or_list(mut out: Vec<Value>) -> Option<Value> {
    match out.len() {
        0 => None,
        1 => out.pop(),
        _ => Some(Value::list(out)),
    }
}

/// Applies a reducing operator.
pub fn operate(op: Operator, acc: Value, v: Value) -> Result<Value> {
    let num = |a: Arith| {
        arith(a, &acc, &v).ok_or_else(|| {
            Error::Evaluation(format!(
                "Operator {op:?} needs numbers but got {} and {}",
                acc.type_name(),
                v.type_name()
            ))
        })
    };
    Ok(match op {
        Operator::Sum => num(Arith::Add)?,
        Operator::Minus => num(Arith::Sub)?,
        Operator::Mult => num(Arith::Mul)?,
        Operator::Div => num(Arith::Div)?,
        Operator::Min => {
            if v.compare(&acc) == Some(Ordering::Less) {
                v
            } else {
                acc
            }
        }
        Operator::Max => {
            if v.compare(&acc) == Some(Ordering::Greater) {
                v
            } else {
                acc
            }
        }
        Operator::Assign => v,
        Operator::And => {
            Value::Bool(matches!(acc, Value::Bool(true)) && matches!(v, Value::Bool(true)))
        }
        Operator::Or => {
            Value::Bool(matches!(acc, Value::Bool(true)) || matches!(v, Value::Bool(true)))
        }
        Operator::AddAll if matches!(acc, Value::Map(_)) => match (acc, v) {
            (Value::Map(mut a), Value::Map(b)) => {
                Arc::make_mut(&mut a).extend(b.iter().map(|(k, v)| (k.clone(), v.clone())));
                Value::Map(a)
            }
            (a, _) => a,
        },
        Operator::AddAll => {
            let mut items = acc.as_items().unwrap_or_default();
            items.extend(v.as_items().unwrap_or_else(|| vec![v.clone()]));
            Value::list(items)
        }
    })
}

/// `valueMap()`.
pub fn value_map(cx: &Cx, t: &Trav, keys: &[Arc<str>], tokens: Tokens, by: &[By]) -> Result<Value> {
    let obj = &t.obj;
    let mut m = Map::new();
    if matches!(tokens, Tokens::Ids | Tokens::All)
        && let Some(id) = cx.elem_id(obj)
    {
        m.insert(Value::Token(Token::Id), id);
    }
    if matches!(tokens, Tokens::Labels | Tokens::All)
        && let Some(l) = cx.elem_label(obj)
    {
        if !matches!(obj, Value::VertexProperty(_)) {
            m.insert(Value::Token(Token::Label), Value::Str(l));
        } else {
            m.insert(Value::Token(Token::Key), Value::Str(l));
            m.insert(
                Value::Token(Token::Value),
                cx.token_value(obj, Token::Value).unwrap_or(Value::Null),
            );
        }
    }
    let is_vertex = matches!(obj, Value::Vertex(_));
    for p in cx.properties(obj, keys) {
        let (Some(Value::Str(k)), Some(v)) = (
            cx.token_value(&p, Token::Key),
            cx.token_value(&p, Token::Value),
        ) else {
            continue;
        };
        if is_vertex {
            let e = m
                .entry(Value::Str(k))
                .or_insert_with(|| Value::list(vec![]));
            if let Value::List(l) = e {
                Arc::make_mut(l).push(v);
            }
        } else {
            m.insert(Value::Str(k), v);
        }
    }
    if !by.is_empty() {
        // `by()` modulators apply to the property keys in turn; a key whose modulator produces
        // nothing is left out.
        let mut out = Map::new();
        let mut i = 0;
        for (k, v) in m {
            if matches!(k, Value::Token(_)) {
                out.insert(k, v);
                continue;
            }
            let b = &by[i % by.len()];
            i += 1;
            if let Some(nv) = cx.by(b, &t.with_obj(v))? {
                out.insert(k, nv);
            }
        }
        m = out;
    }
    let _ = sub;
    Ok(Value::map(m))
}

/// `elementMap()`.
pub fn element_map(cx: &Cx, obj: &Value, keys: &[Arc<str>]) -> Result<Value> {
    let mut m = Map::new();
    let Some(id) = cx.elem_id(obj) else {
        return Err(Error::Evaluation(format!(
            "elementMap() needs an element, not {}",
            obj.type_name()
        )));
    };
    m.insert(Value::Token(Token::Id), id);
    if let Value::VertexProperty(p) = obj {
        m.insert(Value::Token(Token::Key), Value::Str(Arc::clone(&p.key)));
        m.insert(Value::Token(Token::Value), p.value.clone());
    } else if let Some(l) = cx.elem_label(obj) {
        m.insert(Value::Token(Token::Label), Value::Str(l));
    }
    if let Value::Edge(e) = obj {
        let ends = cx.g().edge(*e);
        if let Some((s, d, _)) = ends {
            for (tok, v) in [(Token::In, d), (Token::Out, s)] {
                let vv = Value::Vertex(v);
                let mut end = Map::new();
                end.insert(
                    Value::Token(Token::Id),
                    cx.elem_id(&vv).unwrap_or(Value::Null),
                );
                end.insert(
                    Value::Token(Token::Label),
                    cx.elem_label(&vv).map(Value::Str).unwrap_or(Value::Null),
                );
                m.insert(Value::Token(tok), Value::map(end));
            }
        }
    }
    for p in cx.properties(obj, keys) {
        if let (Some(k), Some(v)) = (
            cx.token_value(&p, Token::Key),
            cx.token_value(&p, Token::Value),
        ) {
            m.entry(k).or_insert(v);
        }
    }
    Ok(Value::map(m))
}
