//! GraphSON 3: the typed JSON Gremlin clients read and write.
//!
//! [`write`] serialises results (elements as reference elements: id and label, as Neptune
//! returns them); [`read`] turns typed JSON back into values (request bindings, sample graphs).
//! Numbers always carry their type (`g:Int32`, `g:Int64`, `g:Double`, `g:Float`), so a client sees
//! `count()` as a long and `age` as an int.

use std::sync::Arc;

use serde_json::{Value as Json, json};

use crate::error::{Error, Result};
use crate::store::Graph;
use crate::value::{Map, Token, Value};

fn typed(t: &str, v: Json) -> Json {
    json!({ "@type": t, "@value": v })
}

fn float_json(f: f64) -> Json {
    if f.is_nan() {
        Json::from("NaN")
    } else if f.is_infinite() {
        Json::from(if f > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        json!(f)
    }
}

/// Serialises a value against the graph its elements live in.
pub fn write(g: &Graph, v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => typed("g:Int32", json!(i)),
        Value::Long(l) => typed("g:Int64", json!(l)),
        Value::Float(f) => typed("g:Float", float_json(f64::from(*f))),
        Value::Double(d) => typed("g:Double", float_json(*d)),
        Value::Str(s) => Json::String(s.to_string()),
        Value::Date(ms) => typed("g:Date", json!(ms)),
        Value::List(l) => typed(
            "g:List",
            Json::Array(l.iter().map(|x| write(g, x)).collect()),
        ),
        Value::Set(s) => typed(
            "g:Set",
            Json::Array(s.iter().map(|x| write(g, x)).collect()),
        ),
        Value::Map(m) => typed(
            "g:Map",
            Json::Array(
                m.iter()
                    .flat_map(|(k, v)| [write(g, k), write(g, v)])
                    .collect(),
            ),
        ),
        Value::Vertex(i) => {
            let id = g
                .vertices
                .get(*i as usize)
                .map(|r| write(g, &r.id))
                .unwrap_or(Json::Null);
            typed(
                "g:Vertex",
                json!({ "id": id, "label": g.vertex_label(*i).to_string() }),
            )
        }
        Value::Edge(e) => {
            let (s, d, l) = (
                g.e_src.get(*e as usize).copied().unwrap_or(0),
                g.e_dst.get(*e as usize).copied().unwrap_or(0),
                g.e_label.get(*e as usize).copied().unwrap_or(0),
            );
            let vid = |v: u32| {
                g.vertices
                    .get(v as usize)
                    .map(|r| write(g, &r.id))
                    .unwrap_or(Json::Null)
            };
            typed(
                "g:Edge",
                json!({
                    "id": write(g, &g.edge_user_id(*e)),
                    "label": g.symbols().name(l).to_string(),
                    "inVLabel": g.vertex_label(d).to_string(),
                    "outVLabel": g.vertex_label(s).to_string(),
                    "inV": vid(d),
                    "outV": vid(s),
                }),
            )
        }
        Value::VertexProperty(p) => typed(
            "g:VertexProperty",
            json!({ "id": typed("g:Int64", json!(p.id)), "value": write(g, &p.value), "label": p.key.to_string() }),
        ),
        Value::Property(p) => typed(
            "g:Property",
            json!({ "key": p.key.to_string(), "value": write(g, &p.value) }),
        ),
        Value::Path(p) => {
            let labels = p
                .labels
                .iter()
                .map(|ls| {
                    typed(
                        "g:Set",
                        Json::Array(ls.iter().map(|l| Json::String(l.to_string())).collect()),
                    )
                })
                .collect();
            typed(
                "g:Path",
                json!({ "labels": typed("g:List", Json::Array(labels)), "objects": typed("g:List", Json::Array(p.objects.iter().map(|o| write(g, o)).collect())) }),
            )
        }
        Value::Token(t @ (Token::In | Token::Out)) => {
            typed("g:Direction", Json::String(t.name().into()))
        }
        Value::Token(t) => typed("g:T", Json::String(t.name().into())),
    }
}

/// Reads a GraphSON 3 value. Elements come back as their ids (a request cannot name an
/// element of this graph any other way).
pub fn read(j: &Json) -> Result<Value> {
    Ok(match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::String(s) => Value::str(s),
        Json::Number(n) => match n.as_i64() {
            Some(i) => i32::try_from(i).map(Value::Int).unwrap_or(Value::Long(i)),
            None => Value::Double(n.as_f64().unwrap_or(0.0)),
        },
        Json::Array(a) => Value::list(a.iter().map(read).collect::<Result<_>>()?),
        Json::Object(o) => {
            let (Some(Json::String(t)), Some(v)) = (o.get("@type"), o.get("@value")) else {
                let mut m = Map::new();
                for (k, v) in o {
                    m.insert(Value::str(k), read(v)?);
                }
                return Ok(Value::map(m));
            };
            let bad = || Error::InvalidParameter(format!("invalid GraphSON {t} value: {v}"));
            let num = |v: &Json| -> Result<f64> {
                match v {
                    Json::Number(n) => n.as_f64().ok_or_else(bad),
                    Json::String(s) if s == "NaN" => Ok(f64::NAN),
                    Json::String(s) if s == "Infinity" => Ok(f64::INFINITY),
                    Json::String(s) if s == "-Infinity" => Ok(f64::NEG_INFINITY),
                    _ => Err(bad()),
                }
            };
            match t.as_str() {
                "g:Int32" => Value::Int(
                    v.as_i64()
                        .and_then(|i| i32::try_from(i).ok())
                        .ok_or_else(bad)?,
                ),
                "g:Int64" => Value::Long(v.as_i64().ok_or_else(bad)?),
                "g:Double" | "g:BigDecimal" => Value::Double(num(v)?),
                "g:Float" => Value::Float(num(v)? as f32),
                "g:Date" | "g:Timestamp" => Value::Date(v.as_i64().ok_or_else(bad)?),
                "g:UUID" => Value::str(v.as_str().ok_or_else(bad)?),
                "g:List" | "g:Set" => {
                    let items = v
                        .as_array()
                        .ok_or_else(bad)?
                        .iter()
                        .map(read)
                        .collect::<Result<Vec<_>>>()?;
                    if t == "g:Set" {
                        Value::Set(Arc::new(items.into_iter().collect()))
                    } else {
                        Value::list(items)
                    }
                }
                "g:Map" => {
                    let items = v.as_array().ok_or_else(bad)?;
                    let mut m = Map::new();
                    for pair in items.chunks(2) {
                        if let [k, val] = pair {
                            m.insert(read(k)?, read(val)?);
                        }
                    }
                    Value::map(m)
                }
                "g:T" => match v.as_str() {
                    Some("id") => Value::Token(Token::Id),
                    Some("label") => Value::Token(Token::Label),
                    Some("key") => Value::Token(Token::Key),
                    Some("value") => Value::Token(Token::Value),
                    _ => return Err(bad()),
                },
                "g:Direction" => match v.as_str() {
                    Some("IN") => Value::Token(Token::In),
                    Some("OUT") => Value::Token(Token::Out),
                    _ => return Err(bad()),
                },
                "g:Vertex" | "g:Edge" => read(v.get("id").ok_or_else(bad)?)?,
                other => {
                    return Err(Error::InvalidParameter(format!(
                        "unsupported GraphSON type {other}"
                    )));
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_typed_values() {
        let g = Graph::new();
        let mut m = Map::new();
        m.insert(
            Value::str("a"),
            Value::list(vec![Value::Int(1), Value::Long(2), Value::Double(1.5)]),
        );
        m.insert(Value::Token(Token::Id), Value::Null);
        let v = Value::map(m);
        let j = write(&g, &v);
        assert_eq!(j["@type"], "g:Map");
        assert_eq!(read(&j).unwrap(), v);
        assert!(read(&json!({"@type": "g:Int32", "@value": "x"})).is_err());
    }
}
