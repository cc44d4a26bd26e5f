//! Writing steps: `addV`, `addE`, `property`, `drop`, `mergeV`, `mergeE`.
//!
//! Writes go to the query's private copy of the graph (see [`Cx::gw`]); nothing is visible to
//! other requests until the whole query has succeeded and the database publishes the copy.

use std::sync::Arc;

use super::{Cx, It, Trav, flat, map};
use crate::error::{Error, Result};
use crate::gremlin::ir::{Arg, Cards, Merge, Step};
use crate::store::write::display_id;
use crate::store::{Cardinality, Direction};
use crate::value::{Map, Token, Value};

/// The placeholder `Merge.outV` / `Merge.inV` compile to inside `mergeE` maps.
pub const MERGE_OUT_V: &str = "\u{0}Merge.outV";
/// See [`MERGE_OUT_V`].
pub const MERGE_IN_V: &str = "\u{0}Merge.inV";

pub(super) fn apply<'a>(cx: &'a Cx, step: &'a Step, it: It<'a>) -> It<'a> {
    match step {
        Step::AddV { label, id } => map(it, move |t| {
            let label = label_of(cx, label, &t)?;
            let id = user_id(cx, id, &t)?;
            let v = cx.gw()?.add_vertex(id, &split_labels(&label))?;
            Ok(Some(t.to(cx, Value::Vertex(v))))
        }),
        Step::AddE {
            label,
            from,
            to,
            id,
        } => map(it, move |t| {
            let label = label_of(cx, label, &t)?;
            let src = match from {
                Some(a) => vertex_arg(cx, a, &t, "Out")?,
                None => current_vertex(&t, "Out")?,
            };
            let dst = match to {
                Some(a) => vertex_arg(cx, a, &t, "In")?,
                None => current_vertex(&t, "In")?,
            };
            let id = user_id(cx, id, &t)?;
            let e = cx.gw()?.add_edge(id, &label, src, dst)?;
            Ok(Some(t.to(cx, Value::Edge(e))))
        }),
        Step::Property {
            card,
            key,
            value,
            meta,
        } => map(it, move |t| {
            let key = match cx.arg(key, &t)? {
                Some(Value::Str(k)) => k,
                Some(Value::Token(tok)) => {
                    return Err(Error::InvalidParameter(format!(
                        "Property key can not be a hidden key: ~{}",
                        tok.name()
                    )));
                }
                other => {
                    return Err(Error::InvalidParameter(format!(
                        "Property key must be a string, not {}",
                        other.map(|v| v.type_name()).unwrap_or("null")
                    )));
                }
            };
            let value = cx.arg(value, &t)?.unwrap_or(Value::Null);
            let mut metas = Vec::new();
            for (k, a) in meta {
                let Value::Str(k) = k else {
                    return Err(Error::InvalidParameter(
                        "meta-property keys must be strings".into(),
                    ));
                };
                metas.push((Arc::clone(k), cx.arg(a, &t)?.unwrap_or(Value::Null)));
            }
            set_property(cx, &t.obj, *card, &key, value, metas)?;
            Ok(Some(t))
        }),
        Step::Drop => flat(cx, it, move |cx, t| {
            drop_value(cx, &t.obj)?;
            Ok(Vec::<Trav>::new())
        }),
        Step::MergeV(m) => flat(cx, it, move |cx, t| merge_v(cx, m, t)),
        Step::MergeE(m) => flat(cx, it, move |cx, t| merge_e(cx, m, t)),
        _ => Box::new(std::iter::empty()),
    }
}

fn split_labels(label: &str) -> Vec<&str> {
    // Neptune's multi-label syntax: `addV('a::b')`.
    label.split("::").filter(|l| !l.is_empty()).collect()
}

fn label_of(cx: &Cx, a: &Arg, t: &Trav) -> Result<String> {
    match cx.arg(a, t)? {
        Some(Value::Str(s)) if !s.is_empty() => Ok(s.to_string()),
        Some(Value::Str(_)) => Err(Error::InvalidParameter("Label can not be empty".into())),
        _ => Err(Error::InvalidParameter("Label must be a string".into())),
    }
}

fn user_id(cx: &Cx, id: &Option<Arg>, t: &Trav) -> Result<Value> {
    let v = match id {
        Some(a) => cx.arg(a, t)?.unwrap_or(Value::Null),
        None => Value::Null,
    };
    Ok(match v {
        Value::Null => cx.new_id(),
        Value::Str(ref s) if s.is_empty() => {
            return Err(Error::InvalidParameter("An id can not be empty".into()));
        }
        v if cx.opts.string_ids => Value::str(&display_id(&v)),
        v => v,
    })
}

fn current_vertex(t: &Trav, end: &str) -> Result<u32> {
    match t.obj {
        Value::Vertex(v) => Ok(v),
        _ => Err(Error::Evaluation(format!("{end} Vertex not specified"))),
    }
}

fn find_vertex(cx: &Cx, v: &Value) -> Option<u32> {
    match v {
        Value::Vertex(i) => cx.g().vertex(*i).map(|_| *i),
        other => {
            let g = cx.g();
            g.vertex_by_id(other).or_else(|| {
                if cx.opts.string_ids {
                    g.vertex_by_id(&Value::str(&display_id(other)))
                } else {
                    None
                }
            })
        }
    }
}

fn vertex_arg(cx: &Cx, a: &Arg, t: &Trav, end: &str) -> Result<u32> {
    let v = cx
        .arg(a, t)?
        .ok_or_else(|| Error::Evaluation(format!("{end} Vertex not specified")))?;
    find_vertex(cx, &v).ok_or_else(|| {
        Error::Evaluation(format!(
            "The {} vertex does not exist: {}",
            end.to_lowercase(),
            display_id(&v)
        ))
    })
}

/// Sets a property on a vertex, edge or vertex property (meta-property).
fn set_property(
    cx: &Cx,
    obj: &Value,
    card: Option<Cardinality>,
    key: &str,
    value: Value,
    meta: Vec<(Arc<str>, Value)>,
) -> Result<()> {
    match obj {
        Value::Vertex(v) => {
            let mut g = cx.gw()?;
            if matches!(value, Value::Null) {
                // A null value removes the property (graphs that disallow null properties).
                if let Some(k) = g.symbols().lookup(key) {
                    g.remove_vertex_property(*v, k, None);
                }
                return Ok(());
            }
            let meta = meta.into_iter().map(|(k, v)| (g.intern(&k), v)).collect();
            g.set_vertex_property(
                *v,
                card.unwrap_or(cx.opts.default_cardinality),
                key,
                value,
                meta,
            )?;
            Ok(())
        }
        Value::Edge(e) => {
            let mut g = cx.gw()?;
            if matches!(value, Value::Null) {
                if let Some(k) = g.symbols().lookup(key) {
                    g.remove_edge_property(*e, k);
                }
                return Ok(());
            }
            g.set_edge_property(*e, key, value)
        }
        Value::VertexProperty(p) => {
            let mut g = cx.gw()?;
            g.set_meta_property(p.vertex, p.id, key, value)
        }
        other => Err(Error::Evaluation(format!(
            "property() needs an element, not {}",
            other.type_name()
        ))),
    }
}

fn drop_value(cx: &Cx, v: &Value) -> Result<()> {
    match v {
        Value::Vertex(i) => cx.gw()?.drop_vertex(*i),
        Value::Edge(e) => cx.gw()?.drop_edge(*e),
        Value::VertexProperty(p) => {
            let mut g = cx.gw()?;
            if let Some(k) = g.symbols().lookup(&p.key) {
                g.remove_vertex_property(p.vertex, k, Some(p.id));
            }
        }
        Value::Property(p) => {
            let mut g = cx.gw()?;
            let Some(k) = g.symbols().lookup(&p.key) else {
                return Ok(());
            };
            match p.edge {
                Some(e) => g.remove_edge_property(e, k),
                None => {
                    return Err(Error::Evaluation(
                        "dropping meta-properties through properties() is not supported".into(),
                    ));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn merge_map(cx: &Cx, a: &Option<Arg>, t: &Trav, what: &str) -> Result<Option<Map>> {
    let v = match a {
        Some(a) => cx.arg(a, t)?,
        None => return Ok(None),
    };
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Map(m)) => {
            check_hidden(&m)?;
            Ok(Some(m.as_ref().clone()))
        }
        Some(other) => Err(Error::Evaluation(format!(
            "{what} must be a Map but was {}",
            other.type_name()
        ))),
    }
}

fn search_map(cx: &Cx, m: &Merge, t: &Trav) -> Result<Map> {
    let map = search_map_raw(cx, m, t)?;
    check_hidden(&map)?;
    Ok(map)
}

fn search_map_raw(cx: &Cx, m: &Merge, t: &Trav) -> Result<Map> {
    match &m.search {
        None => match &t.obj {
            Value::Map(m) => Ok(m.as_ref().clone()),
            other if t.obj_is_seed() => {
                let _ = other;
                Ok(Map::new())
            }
            other => Err(Error::Evaluation(format!(
                "traversal argument for merge step must yield an iterable type, encountered {}",
                other.type_name()
            ))),
        },
        Some(a) => match cx.arg(a, t)? {
            Some(Value::Map(m)) => Ok(m.as_ref().clone()),
            None | Some(Value::Null) => Ok(Map::new()),
            Some(other) => Err(Error::Evaluation(format!(
                "traversal argument for merge step must yield an iterable type, encountered {}",
                other.type_name()
            ))),
        },
    }
}

impl Trav {
    fn obj_is_seed(&self) -> bool {
        self.seed
    }
}

fn vertex_matches(cx: &Cx, v: u32, search: &Map) -> bool {
    let vv = Value::Vertex(v);
    search.iter().all(|(k, want)| match k {
        Value::Token(Token::Id) => cx
            .elem_id(&vv)
            .is_some_and(|id| id.gremlin_eq(want) || display_id(&id) == display_id(want)),
        Value::Token(Token::Label) => cx
            .elem_label(&vv)
            .is_some_and(|l| Value::Str(l).gremlin_eq(want)),
        Value::Str(key) => cx.prop_values(&vv, key).iter().any(|x| x.gremlin_eq(want)),
        _ => false,
    })
}

fn apply_props(cx: &Cx, obj: &Value, m: &Map, cards: &Cards) -> Result<()> {
    for (k, v) in m {
        match k {
            Value::Str(key) => {
                let card = cards.of(key, Cardinality::Single);
                set_property(cx, obj, Some(card), key, v.clone(), vec![])?
            }
            Value::Token(Token::Id) | Value::Token(Token::Label) => {}
            _ => {}
        }
    }
    Ok(())
}

/// Keys and labels in the hidden `~` namespace are reserved (`~id`, `~label`).
fn check_hidden(m: &Map) -> Result<()> {
    for (k, v) in m {
        if let Value::Str(s) = k
            && s.starts_with('~')
        {
            return Err(Error::InvalidParameter(format!(
                "Property key can not be a hidden key: {s}"
            )));
        }
        if let (Value::Token(Token::Label), Value::Str(l)) = (k, v)
            && l.starts_with('~')
        {
            return Err(Error::InvalidParameter(format!(
                "Label can not be a hidden key: {l}"
            )));
        }
    }
    Ok(())
}

fn check_override(search: &Map, create: &Map) -> Result<()> {
    for (k, v) in create {
        if let Some(sv) = search.get(k)
            && sv != v
        {
            return Err(Error::Evaluation(
                "option(onCreate) cannot override values from merge() argument".into(),
            ));
        }
    }
    Ok(())
}

fn merge_v(cx: &Cx, m: &Merge, t: Trav) -> Result<Vec<Trav>> {
    let search = search_map(cx, m, &t)?;
    for k in search.keys() {
        if !matches!(k, Value::Str(_) | Value::Token(Token::Id | Token::Label)) {
            return Err(Error::InvalidParameter(format!(
                "mergeV() keys must be strings, T.id or T.label, not {}",
                k.type_name()
            )));
        }
    }
    let candidates: Vec<u32> = match search.get(&Value::Token(Token::Id)) {
        Some(id) => find_vertex(cx, id).into_iter().collect(),
        None => cx.g().vertex_ids().collect(),
    };
    let found: Vec<u32> = candidates
        .into_iter()
        .filter(|v| vertex_matches(cx, *v, &search))
        .collect();
    if !found.is_empty() {
        let on_match = merge_map(cx, &m.on_match, &t, "onMatch")?;
        let mut out = Vec::new();
        for v in found {
            if let Some(om) = &on_match {
                if om.contains_key(&Value::Token(Token::Id))
                    || om.contains_key(&Value::Token(Token::Label))
                {
                    return Err(Error::InvalidParameter(
                        "option(onMatch) cannot contain T.id or T.label".into(),
                    ));
                }
                apply_props(cx, &Value::Vertex(v), om, &m.on_match_card)?;
            }
            out.push(t.to(cx, Value::Vertex(v)));
        }
        return Ok(out);
    }
    let create = match merge_map(cx, &m.on_create, &t, "onCreate")? {
        Some(c) => {
            check_override(&search, &c)?;
            let mut all = search.clone();
            all.extend(c);
            all
        }
        None => search,
    };
    let label = match create.get(&Value::Token(Token::Label)) {
        Some(Value::Str(l)) => l.to_string(),
        Some(_) => return Err(Error::InvalidParameter("T.label must be a string".into())),
        None => "vertex".into(),
    };
    let id = user_id(
        cx,
        &create
            .get(&Value::Token(Token::Id))
            .cloned()
            .map(Arg::Const),
        &t,
    )?;
    let v = cx.gw()?.add_vertex(id, &split_labels(&label))?;
    apply_props(cx, &Value::Vertex(v), &create, &m.on_create_card)?;
    Ok(vec![t.to(cx, Value::Vertex(v))])
}

fn merge_e(cx: &Cx, m: &Merge, t: Trav) -> Result<Vec<Trav>> {
    let search = search_map(cx, m, &t)?;
    let resolve_end = |map: &Map, tok: Token| -> Result<Option<Value>> {
        let Some(v) = map.get(&Value::Token(tok)) else {
            return Ok(None);
        };
        let placeholder = if tok == Token::Out {
            MERGE_OUT_V
        } else {
            MERGE_IN_V
        };
        if v.as_str() == Some(placeholder) {
            let opt = if tok == Token::Out { &m.out_v } else { &m.in_v };
            let Some(a) = opt else {
                return Err(Error::Evaluation(format!(
                    "{} requires option(Merge.{}V)",
                    "mergeE()",
                    if tok == Token::Out { "out" } else { "in" }
                )));
            };
            return match cx.arg(a, &t)? {
                Some(Value::Map(mm)) => {
                    let found: Vec<u32> = cx
                        .g()
                        .vertex_ids()
                        .filter(|v| vertex_matches(cx, *v, &mm))
                        .collect();
                    Ok(found.first().map(|v| Value::Vertex(*v)))
                }
                other => Ok(other),
            };
        }
        Ok(Some(v.clone()))
    };
    let out_v = resolve_end(&search, Token::Out)?;
    let in_v = resolve_end(&search, Token::In)?;
    let find = |v: &Option<Value>| v.as_ref().map(|x| find_vertex(cx, x));
    let (src, dst) = (find(&out_v), find(&in_v));
    let mut found = Vec::new();
    if !matches!(src, Some(None)) && !matches!(dst, Some(None)) {
        let g = cx.g();
        let cands: Vec<u32> = match (src.flatten(), dst.flatten()) {
            (Some(s), _) => {
                let mut c = Vec::new();
                g.for_each_adjacent(s, Direction::Out, &[], &mut |_, e| c.push(e));
                c
            }
            (None, Some(d)) => {
                let mut c = Vec::new();
                g.for_each_adjacent(d, Direction::In, &[], &mut |_, e| c.push(e));
                c
            }
            _ => g.edge_ids().collect(),
        };
        drop(g);
        for e in cands {
            let Some((s, d, l)) = cx.g().edge(e) else {
                continue;
            };
            let ok = search.iter().all(|(k, want)| match k {
                Value::Token(Token::Id) => cx
                    .elem_id(&Value::Edge(e))
                    .is_some_and(|id| id.gremlin_eq(want)),
                Value::Token(Token::Label) => Value::Str(cx.g().symbols().name(l)).gremlin_eq(want),
                Value::Token(Token::Out) => src.flatten() == Some(s),
                Value::Token(Token::In) => dst.flatten() == Some(d),
                Value::Str(key) => cx
                    .prop_values(&Value::Edge(e), key)
                    .iter()
                    .any(|x| x.gremlin_eq(want)),
                _ => false,
            });
            if ok {
                found.push(e);
            }
        }
    }
    if !found.is_empty() {
        let on_match = merge_map(cx, &m.on_match, &t, "onMatch")?;
        let mut out = Vec::new();
        for e in found {
            if let Some(om) = &on_match {
                apply_props(cx, &Value::Edge(e), om, &Cards::default())?;
            }
            out.push(t.to(cx, Value::Edge(e)));
        }
        return Ok(out);
    }
    let create = match merge_map(cx, &m.on_create, &t, "onCreate")? {
        Some(c) => {
            check_override(&search, &c)?;
            let mut all = search.clone();
            all.extend(c);
            all
        }
        None => search,
    };
    let end = |tok: Token, known: Option<Option<u32>>| -> Result<u32> {
        let name = if tok == Token::Out { "Out" } else { "In" };
        match known {
            Some(Some(v)) => Ok(v),
            Some(None) => Err(Error::Evaluation(format!(
                "Vertex id could not be resolved from mergeE: {}",
                create
                    .get(&Value::Token(tok))
                    .map(display_id)
                    .unwrap_or_default()
            ))),
            None => match resolve_end(&create, tok)? {
                Some(v) => find_vertex(cx, &v).ok_or_else(|| {
                    Error::Evaluation(format!(
                        "Vertex id could not be resolved from mergeE: {}",
                        display_id(&v)
                    ))
                }),
                None => Err(Error::Evaluation(format!("{name} Vertex not specified"))),
            },
        }
    };
    let s = end(Token::Out, src)?;
    let d = end(Token::In, dst)?;
    let label = match create.get(&Value::Token(Token::Label)) {
        Some(Value::Str(l)) => l.to_string(),
        Some(_) => return Err(Error::InvalidParameter("T.label must be a string".into())),
        None => "edge".into(),
    };
    let id = user_id(
        cx,
        &create
            .get(&Value::Token(Token::Id))
            .cloned()
            .map(Arg::Const),
        &t,
    )?;
    let e = cx.gw()?.add_edge(id, &label, s, d)?;
    apply_props(cx, &Value::Edge(e), &create, &Cards::default())?;
    Ok(vec![t.to(cx, Value::Edge(e))])
}
