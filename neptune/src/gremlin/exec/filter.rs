//! Graph access steps (`V`, `E`, index lookups, expansions) and the `has` family of filters,
//! with predicate evaluation.

use std::sync::Arc;

use super::{Cx, It, Trav, flat};
use crate::error::{Error, Result};
use crate::gremlin::ir::{Arg, HasKey, HasTest, Pred, Step};
use crate::store::Direction;
use crate::value::{Token, Value};

/// Numeric forms a lookup key may be stored under (ids and index keys are type-sensitive).
fn key_variants(v: &Value) -> Vec<Value> {
    let mut out = vec![v.clone()];
    if let Some(i) = v.as_i64() {
        if let Ok(x) = i32::try_from(i) {
            out.push(Value::Int(x));
        }
        out.push(Value::Long(i));
        out.push(Value::Double(i as f64));
    } else if let Some(f) = v.as_f64() {
        out.push(Value::Double(f));
        out.push(Value::Float(f as f32));
        if f.fract() == 0.0 && f.abs() < 9.0e15 {
            out.push(Value::Long(f as i64));
            if let Ok(x) = i32::try_from(f as i64) {
                out.push(Value::Int(x));
            }
        }
    }
    out.dedup();
    out
}

fn resolve_ids(cx: &Cx, t: &Trav, ids: &[Arg], edges: bool) -> Result<Vec<u32>> {
    let mut out = Vec::new();
    for a in ids {
        let Some(v) = cx.arg(a, t)? else { continue };
        let g = cx.g();
        match (&v, edges) {
            (Value::Vertex(i), false) | (Value::Edge(i), true) => out.push(*i),
            (Value::Null, _) => {}
            _ => {
                let found = key_variants(&v).iter().find_map(|k| {
                    if edges {
                        g.edge_by_id(k)
                    } else {
                        g.vertex_by_id(k)
                    }
                });
                let found = found.or_else(|| {
                    // Ids also match by their text: a number finds the vertex whose id is its
                    // string (Neptune), and a string of digits the vertex with that number.
                    let s = Value::str(&crate::store::write::display_id(&v));
                    let alt = match &v {
                        Value::Str(t) => t
                            .parse::<i64>()
                            .ok()
                            .map(|n| key_variants(&Value::Long(n)))
                            .unwrap_or_default(),
                        _ => vec![s],
                    };
                    alt.iter().find_map(|k| {
                        if edges {
                            g.edge_by_id(k)
                        } else {
                            g.vertex_by_id(k)
                        }
                    })
                });
                out.extend(found);
            }
        }
    }
    Ok(out)
}

/// `V(ids…)`.
pub fn vertices<'a>(cx: &'a Cx, it: It<'a>, ids: &'a [Arg]) -> It<'a> {
    Box::new(it.flat_map(move |r| -> It<'a> {
        let t = match r {
            Ok(t) => t,
            Err(e) => return Box::new(std::iter::once(Err(e))),
        };
        if ids.is_empty() {
            let n = cx.g().vertices.len() as u32;
            let t2 = t.clone();
            return Box::new((0..n).filter_map(move |i| {
                if let Err(e) = cx.tick() {
                    return Some(Err(e));
                }
                cx.g().vertex(i)?;
                Some(Ok(t2.to(cx, Value::Vertex(i))))
            }));
        }
        match resolve_ids(cx, &t, ids, false) {
            Ok(vs) => Box::new(
                vs.into_iter()
                    .filter(|v| cx.g().vertex(*v).is_some())
                    .map(move |v| Ok(t.to(cx, Value::Vertex(v))))
                    .collect::<Vec<_>>()
                    .into_iter(),
            ),
            Err(e) => Box::new(std::iter::once(Err(e))),
        }
    }))
}

/// `E(ids…)`.
pub fn edges<'a>(cx: &'a Cx, it: It<'a>, ids: &'a [Arg]) -> It<'a> {
    Box::new(it.flat_map(move |r| -> It<'a> {
        let t = match r {
            Ok(t) => t,
            Err(e) => return Box::new(std::iter::once(Err(e))),
        };
        if ids.is_empty() {
            let n = cx.g().e_label.len() as u32;
            let t2 = t.clone();
            return Box::new((0..n).filter_map(move |i| {
                if let Err(e) = cx.tick() {
                    return Some(Err(e));
                }
                if !cx.g().edge_alive(i) {
                    return None;
                }
                Some(Ok(t2.to(cx, Value::Edge(i))))
            }));
        }
        match resolve_ids(cx, &t, ids, true) {
            Ok(es) => Box::new(
                es.into_iter()
                    .filter(|e| cx.g().edge_alive(*e))
                    .map(move |e| Ok(t.to(cx, Value::Edge(e))))
                    .collect::<Vec<_>>()
                    .into_iter(),
            ),
            Err(e) => Box::new(std::iter::once(Err(e))),
        }
    }))
}

/// `V()` planned onto the label or property index.
pub fn vindex<'a>(
    cx: &'a Cx,
    it: It<'a>,
    label: Option<&'a str>,
    key: Option<&'a (Arc<str>, Value)>,
) -> It<'a> {
    flat(cx, it, move |cx, t| {
        let g = cx.g();
        let mut cands: Vec<u32> = match key {
            Some((k, v)) => match g.symbols().lookup(k) {
                Some(ks) => key_variants(v)
                    .iter()
                    .flat_map(|kv| g.prop_candidates(ks, kv).iter().copied())
                    .collect(),
                None => Vec::new(),
            },
            None => match label.and_then(|l| g.symbols().lookup(l)) {
                Some(ls) => g.label_candidates(ls).to_vec(),
                None => Vec::new(),
            },
        };
        cands.sort_unstable();
        cands.dedup();
        let live: Vec<u32> = cands
            .into_iter()
            .filter(|v| g.vertex(*v).is_some())
            .collect();
        drop(g);
        // The `has` steps after the lookup re-check each candidate.
        Ok(live
            .into_iter()
            .map(|v| t.to(cx, Value::Vertex(v)))
            .collect::<Vec<_>>())
    })
}

/// `out/in/both[E](labels…)`.
pub fn adjacent<'a>(
    cx: &'a Cx,
    it: It<'a>,
    dir: Direction,
    labels: &'a [Arc<str>],
    edges: bool,
) -> It<'a> {
    flat(cx, it, move |cx, t| {
        let Value::Vertex(v) = t.obj else {
            return Err(Error::Evaluation(format!(
                "The step requires a vertex but found {}",
                t.obj.type_name()
            )));
        };
        let g = cx.g();
        let syms: Vec<u32> = labels
            .iter()
            .filter_map(|l| g.symbols().lookup(l))
            .collect();
        let mut out = Vec::new();
        if labels.is_empty() || !syms.is_empty() {
            g.for_each_adjacent(v, dir, &syms, &mut |n, e| {
                out.push(if edges {
                    Value::Edge(e)
                } else {
                    Value::Vertex(n)
                })
            });
        }
        drop(g);
        for _ in 0..out.len() / 64 {
            cx.tick()?;
        }
        Ok(out.into_iter().map(|o| t.to(cx, o)).collect::<Vec<_>>())
    })
}

/// `out().count()` folded: sums degrees.
pub fn count_adjacent<'a>(
    cx: &'a Cx,
    it: It<'a>,
    dir: Direction,
    labels: &'a [Arc<str>],
) -> It<'a> {
    super::barrier(it, move |all| {
        let g = cx.g();
        let syms: Vec<u32> = labels
            .iter()
            .filter_map(|l| g.symbols().lookup(l))
            .collect();
        let mut n: i64 = 0;
        for t in &all {
            let Value::Vertex(v) = t.obj else {
                return Err(Error::Evaluation(format!(
                    "The step requires a vertex but found {}",
                    t.obj.type_name()
                )));
            };
            if labels.is_empty() || !syms.is_empty() {
                let bulk = i64::try_from(t.bulk).unwrap_or(i64::MAX);
                n = n.saturating_add((g.degree(v, dir, &syms) as i64).saturating_mul(bulk));
            }
            cx.tick()?;
        }
        Ok(vec![Trav::seed().with_obj(Value::Long(n))])
    })
}

/// Evaluates a predicate.
pub fn test(p: &Pred, v: &Value) -> bool {
    use std::cmp::Ordering::*;
    let cmp = |x: &Value| v.compare(x);
    match p {
        Pred::Eq(x) => v.gremlin_eq(x),
        Pred::Neq(x) => !v.gremlin_eq(x),
        Pred::Lt(x) => cmp(x) == Some(Less),
        Pred::Lte(x) => matches!(cmp(x), Some(Less | Equal)),
        Pred::Gt(x) => cmp(x) == Some(Greater),
        Pred::Gte(x) => matches!(cmp(x), Some(Greater | Equal)),
        Pred::Inside(a, b) => cmp(a) == Some(Greater) && cmp(b) == Some(Less),
        Pred::Outside(a, b) => cmp(a) == Some(Less) || cmp(b) == Some(Greater),
        Pred::Between(a, b) => matches!(cmp(a), Some(Greater | Equal)) && cmp(b) == Some(Less),
        Pred::Within(xs) => xs.iter().any(|x| v.gremlin_eq(x)),
        Pred::Without(xs) => !xs.iter().any(|x| v.gremlin_eq(x)),
        Pred::StartingWith(s, neg) => v.as_str().is_some_and(|x| x.starts_with(&**s) != *neg),
        Pred::EndingWith(s, neg) => v.as_str().is_some_and(|x| x.ends_with(&**s) != *neg),
        Pred::Containing(s, neg) => v.as_str().is_some_and(|x| x.contains(&**s) != *neg),
        Pred::Regex(r, neg) => v.as_str().is_some_and(|x| r.regex.is_match(x) != *neg),
        Pred::And(a, b) => test(a, v) && test(b, v),
        Pred::Or(a, b) => test(a, v) || test(b, v),
        Pred::Not(a) => !test(a, v),
    }
}

/// Ids match by value, or by their text (`hasId('1')` finds the vertex with id `1`, as TinkerGraph
/// and Neptune's string ids both allow).
fn id_test(p: &Pred, id: &Value) -> bool {
    if test(p, id) {
        return true;
    }
    let text = |v: &Value| Value::str(&crate::store::write::display_id(v));
    let as_text = |v: &Value| {
        if matches!(v, Value::Null) {
            Value::Null
        } else {
            text(v)
        }
    };
    let p2 = match p {
        Pred::Eq(v) => Pred::Eq(as_text(v)),
        Pred::Neq(v) => Pred::Neq(as_text(v)),
        Pred::Within(vs) => Pred::Within(vs.iter().map(as_text).collect()),
        Pred::Without(vs) => Pred::Without(vs.iter().map(as_text).collect()),
        _ => return false,
    };
    test(&p2, &text(id))
}

/// Replaces element values inside a predicate by their ids (`hasId(v[1])`).
fn ids_in_pred(cx: &Cx, p: &Pred) -> Pred {
    let f = |v: &Value| match v {
        Value::Vertex(_) | Value::Edge(_) => cx.elem_id(v).unwrap_or(Value::Null),
        other => other.clone(),
    };
    match p {
        Pred::Eq(v) => Pred::Eq(f(v)),
        Pred::Neq(v) => Pred::Neq(f(v)),
        Pred::Within(vs) => Pred::Within(vs.iter().map(f).collect()),
        Pred::Without(vs) => Pred::Without(vs.iter().map(f).collect()),
        other => other.clone(),
    }
}

fn has_test(cx: &Cx, test_: &HasTest, values: &[Value], t: &Trav) -> Result<bool> {
    Ok(match test_ {
        HasTest::Exists => !values.is_empty(),
        HasTest::Pred(p) => values.iter().any(|v| test(p, v)),
        HasTest::Trav(tr) => {
            for v in values {
                if super::any(cx, tr, &t.with_obj(v.clone()))? {
                    return Ok(true);
                }
            }
            false
        }
    })
}

fn labels_of(cx: &Cx, obj: &Value) -> Vec<Value> {
    let g = cx.g();
    match obj {
        Value::Vertex(v) => match g.vertex(*v) {
            Some(r) if r.labels.len() > 1 => r
                .labels
                .iter()
                .map(|l| Value::Str(g.symbols().name(*l)))
                .collect(),
            Some(_) => vec![Value::Str(g.vertex_label(*v))],
            None => vec![],
        },
        _ => {
            drop(g);
            cx.elem_label(obj).map(Value::Str).into_iter().collect()
        }
    }
}

fn is_element(v: &Value) -> bool {
    matches!(
        v,
        Value::Vertex(_) | Value::Edge(_) | Value::VertexProperty(_)
    )
}

/// The `has` family and `is`.
pub fn has(cx: &Cx, step: &Step, t: &Trav) -> Result<bool> {
    let obj = &t.obj;
    Ok(match step {
        Step::Is(p) => test(p, obj),
        Step::HasLabel(p) => labels_of(cx, obj).iter().any(|l| test(p, l)),
        Step::HasId(p) => cx
            .elem_id(obj)
            .is_some_and(|id| id_test(&ids_in_pred(cx, p), &id)),
        Step::HasNot(k) => is_element(obj) && cx.prop_values(obj, k).is_empty(),
        Step::HasKey(p) => cx.token_value(obj, Token::Key).is_some_and(|k| test(p, &k)),
        Step::HasValue(p) => cx
            .token_value(obj, Token::Value)
            .is_some_and(|v| test(p, &v)),
        Step::Has(HasKey::Prop(k), tst) => {
            is_element(obj) && has_test(cx, tst, &cx.prop_values(obj, k), t)?
        }
        Step::Has(HasKey::Token(tok), tst) => {
            let vals: Vec<Value> = match tok {
                Token::Label => labels_of(cx, obj),
                Token::Id => match (tst, cx.token_value(obj, Token::Id)) {
                    (HasTest::Pred(p), Some(id)) => return Ok(id_test(&ids_in_pred(cx, p), &id)),
                    (_, id) => id.into_iter().collect(),
                },
                other => cx.token_value(obj, *other).into_iter().collect(),
            };
            has_test(cx, tst, &vals, t)?
        }
        Step::HasLabelKey(lp, k, tst) => {
            labels_of(cx, obj).iter().any(|l| test(lp, l))
                && has_test(cx, tst, &cx.prop_values(obj, k), t)?
        }
        _ => true,
    })
}
