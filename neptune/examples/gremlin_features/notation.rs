//! TinkerPop's result notation (`v[marko]`, `d[1].i`, `m[{…}]`, `l[…]`, `p[…]`, …) read into
//! values against a graph, and a canonical text form of values that compares maps and sets
//! regardless of order.

use std::sync::Arc;

use nubis_neptune::gremlin::compile::parse_datetime;
use nubis_neptune::gremlin::exec::{MERGE_IN_V, MERGE_OUT_V};
use nubis_neptune::store::{Direction, Graph};
use nubis_neptune::value::{Map, Token, Value, VertexPropertyValue};

/// A notation this runner cannot represent, with the reason.
#[derive(Debug)]
pub struct Unsupported(pub String);

fn vertex_named(g: &Graph, name: &str) -> Option<u32> {
    let k = g.symbols().lookup("name")?;
    g.vertex_ids().find(|v| {
        g.vertex_prop(*v, k)
            .iter()
            .any(|p| p.value == Value::str(name))
    })
}

fn split_top(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut cur, mut in_str) = (0i32, String::new(), false);
    for c in s.chars() {
        match c {
            '"' => in_str = !in_str,
            '[' | '{' if !in_str => depth += 1,
            ']' | '}' if !in_str => depth -= 1,
            ',' if depth == 0 && !in_str => {
                out.push(cur.trim().to_owned());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_owned());
    }
    out
}

fn elem_suffix(g: &Graph, v: Value, suffix: &str) -> Value {
    let id = match &v {
        Value::Vertex(i) => g.vertex(*i).map(|r| r.id.clone()).unwrap_or(Value::Null),
        Value::Edge(e) => g.edge_user_id(*e),
        _ => Value::Null,
    };
    match suffix {
        ".id" => id,
        ".sid" => Value::str(&nubis_neptune::store::write::display_id(&id)),
        _ => v,
    }
}

/// Reads one notation value.
pub fn parse(s: &str, g: &Graph) -> Result<Value, Unsupported> {
    let s = s.trim();
    let (body, suffix) = match s.rsplit_once(']') {
        Some((b, suf)) if s.contains('[') => (b, suf),
        _ => (s, ""),
    };
    let inner = |prefix: &str| body.strip_prefix(prefix);
    if s == "null" {
        return Ok(Value::Null);
    }
    if s == "true" || s == "false" {
        return Ok(Value::Bool(s == "true"));
    }
    if let Some(name) = inner("v[") {
        let v = vertex_named(g, name)
            .map(Value::Vertex)
            .unwrap_or_else(|| Value::str(&format!("missing vertex {name}")));
        return Ok(elem_suffix(g, v, suffix));
    }
    if let Some(spec) = inner("e[") {
        let (a, rest) = spec
            .split_once('-')
            .ok_or_else(|| Unsupported(format!("bad edge {s}")))?;
        let (label, b) = rest
            .split_once("->")
            .ok_or_else(|| Unsupported(format!("bad edge {s}")))?;
        let (va, vb) = (vertex_named(g, a), vertex_named(g, b));
        let mut found = None;
        if let (Some(va), Some(vb)) = (va, vb) {
            let ls = g.symbols().lookup(label);
            if let Some(l) = ls {
                g.for_each_adjacent(va, Direction::Out, &[l], &mut |n, e| {
                    if n == vb && found.is_none() {
                        found = Some(e);
                    }
                });
            }
        }
        let v = found
            .map(Value::Edge)
            .unwrap_or_else(|| Value::str(&format!("missing edge {spec}")));
        return Ok(elem_suffix(g, v, suffix));
    }
    if let Some(spec) = inner("vp[") {
        let (a, rest) = spec
            .split_once('-')
            .ok_or_else(|| Unsupported(format!("bad vertex property {s}")))?;
        let (key, val) = rest
            .split_once("->")
            .ok_or_else(|| Unsupported(format!("bad vertex property {s}")))?;
        let value = parse(val, g)?;
        let v = vertex_named(g, a);
        let k = g.symbols().lookup(key);
        if let (Some(v), Some(k)) = (v, k)
            && let Some(p) = g.vertex_prop(v, k).iter().find(|p| p.value == value)
        {
            return Ok(Value::VertexProperty(Arc::new(VertexPropertyValue {
                vertex: v,
                key: Arc::from(key),
                id: p.id,
                value,
            })));
        }
        return Ok(Value::str(&format!("missing vertex property {spec}")));
    }
    if let Some(num) = inner("d[") {
        let t = suffix.trim_start_matches('.');
        let bad = || Unsupported(format!("bad number {s}"));
        return Ok(match (t, num) {
            (_, "NaN") => Value::Double(f64::NAN),
            (_, "Infinity") => Value::Double(f64::INFINITY),
            (_, "-Infinity") => Value::Double(f64::NEG_INFINITY),
            ("i", _) | ("s", _) | ("b", _) => Value::Int(num.parse().map_err(|_| bad())?),
            ("l", _) | ("n", _) => Value::Long(num.parse().map_err(|_| bad())?),
            ("f", _) => Value::Float(num.parse().map_err(|_| bad())?),
            ("d", _) | ("m", _) => Value::Double(num.parse().map_err(|_| bad())?),
            _ => return Err(bad()),
        });
    }
    if let Some(x) = inner("str[") {
        return Ok(Value::str(x));
    }
    if let Some(x) = inner("dt[") {
        return parse_datetime(x)
            .map(Value::Date)
            .ok_or_else(|| Unsupported(format!("bad date {s}")));
    }
    if let Some(x) = inner("t[") {
        return Ok(Value::Token(match x {
            "id" => Token::Id,
            "label" => Token::Label,
            "key" => Token::Key,
            "value" => Token::Value,
            _ => return Err(Unsupported(format!("bad token {s}"))),
        }));
    }
    if let Some(x) = inner("D[") {
        return Ok(Value::Token(if x == "OUT" || x == "from" {
            Token::Out
        } else {
            Token::In
        }));
    }
    if let Some(x) = inner("M[") {
        return Ok(Value::str(if x == "outV" {
            MERGE_OUT_V
        } else {
            MERGE_IN_V
        }));
    }
    if let Some(c) = inner("c[") {
        if c.starts_with("predicate parameter") {
            return Err(Unsupported(
                "predicate-valued parameters cannot be bound as request bindings".into(),
            ));
        }
        return Err(Unsupported(
            "lambdas are not supported (Neptune rejects Groovy closures)".into(),
        ));
    }
    if let Some(items) = inner("l[") {
        return Ok(Value::list(
            split_top(items)
                .iter()
                .map(|i| parse(i, g))
                .collect::<Result<_, _>>()?,
        ));
    }
    if let Some(items) = inner("s[") {
        return Ok(Value::Set(Arc::new(
            split_top(items)
                .iter()
                .map(|i| parse(i, g))
                .collect::<Result<_, _>>()?,
        )));
    }
    if let Some(items) = inner("p[") {
        let objects = split_top(items)
            .iter()
            .map(|i| parse(i, g))
            .collect::<Result<Vec<_>, _>>()?;
        let labels = vec![Vec::new(); objects.len()];
        return Ok(Value::Path(Arc::new(nubis_neptune::value::PathValue {
            objects,
            labels,
        })));
    }
    if let Some(json) = inner("m[") {
        let j: serde_json::Value =
            serde_json::from_str(json).map_err(|e| Unsupported(format!("bad map {s}: {e}")))?;
        return from_json(&j, g);
    }
    Ok(Value::str(s))
}

fn from_json(j: &serde_json::Value, g: &Graph) -> Result<Value, Unsupported> {
    Ok(match j {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => i32::try_from(i).map(Value::Int).unwrap_or(Value::Long(i)),
            None => Value::Double(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(s) => parse(s, g)?,
        serde_json::Value::Array(a) => Value::list(
            a.iter()
                .map(|x| from_json(x, g))
                .collect::<Result<_, _>>()?,
        ),
        serde_json::Value::Object(o) => {
            let mut m = Map::new();
            for (k, v) in o {
                m.insert(parse(k, g)?, from_json(v, g)?);
            }
            Value::map(m)
        }
    })
}

/// A canonical text form: equal values give equal text; maps and sets are sorted.
pub fn canon(g: &Graph, v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => format!("d[{i}].i"),
        Value::Long(l) => format!("d[{l}].l"),
        Value::Float(f) => format!("d[{f:?}].f"),
        Value::Double(d) => format!("d[{d:?}].d"),
        Value::Str(s) => s.to_string(),
        Value::Date(ms) => format!("dt[{ms}]"),
        Value::List(l) => format!(
            "l[{}]",
            l.iter().map(|x| canon(g, x)).collect::<Vec<_>>().join(",")
        ),
        Value::Set(s) => {
            let mut items: Vec<String> = s.iter().map(|x| canon(g, x)).collect();
            items.sort();
            format!("s[{}]", items.join(","))
        }
        Value::Map(m) => {
            let mut items: Vec<String> = m
                .iter()
                .map(|(k, x)| format!("{}:{}", canon(g, k), canon(g, x)))
                .collect();
            items.sort();
            format!("m[{{{}}}]", items.join(","))
        }
        Value::Vertex(i) => format!(
            "v[{}]",
            g.vertices_id(*i)
                .map(|id| canon(g, &id))
                .unwrap_or_default()
        ),
        Value::Edge(e) => format!("e[{}]", canon(g, &g.edge_user_id(*e))),
        Value::VertexProperty(p) => format!("vp[{}-{}->{}]", p.vertex, p.key, canon(g, &p.value)),
        Value::Property(p) => format!("p[{}->{}]", p.key, canon(g, &p.value)),
        Value::Path(p) => format!(
            "p[{}]",
            p.objects
                .iter()
                .map(|x| canon(g, x))
                .collect::<Vec<_>>()
                .join(",")
        ),
        Value::Token(t) => format!("t[{}]", t.name()),
    }
}
