//! The Gremlin CSV load format's columns: the header (`~id`, `~label`, `~from`, `~to`, typed
//! property columns `name:Type[]` with a cardinality), and a line's fields checked against it and
//! parsed into typed values.

use std::borrow::Cow;

use crate::gremlin::compile::parse_datetime;
use crate::store::Cardinality;
use crate::value::Value;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Ty {
    Bool,
    Int,
    Long,
    Float,
    Double,
    Str,
    Date,
}

#[derive(Debug, Clone)]
pub(super) enum Col {
    Id,
    Label,
    From,
    To,
    Prop {
        name: String,
        ty: Ty,
        array: bool,
        card: Option<Cardinality>,
    },
    Ignored,
}

pub(super) fn parse_header(fields: &[Cow<'_, str>]) -> std::result::Result<Vec<Col>, String> {
    let mut cols = Vec::new();
    for f in fields {
        let f = f.trim();
        cols.push(match f.to_ascii_lowercase().as_str() {
            "~id" => Col::Id,
            "~label" => Col::Label,
            "~from" => Col::From,
            "~to" => Col::To,
            _ if f.starts_with('~') => return Err(format!("Invalid system column: {f}")),
            _ => {
                let (name, spec) = f.rsplit_once(':').unwrap_or((f, "String"));
                let (spec, card) = match spec.split_once('(') {
                    Some((t, c)) => (
                        t,
                        match c.trim_end_matches(')').to_ascii_lowercase().as_str() {
                            "single" => Some(Cardinality::Single),
                            "set" => Some(Cardinality::Set),
                            other => return Err(format!("Invalid cardinality: {other}")),
                        },
                    ),
                    None => (spec, None),
                };
                let (spec, array) = match spec.strip_suffix("[]") {
                    Some(s) => (s, true),
                    None => (spec, false),
                };
                let ty = match spec.to_ascii_lowercase().as_str() {
                    "bool" | "boolean" => Ty::Bool,
                    "byte" | "short" | "int" | "integer" => Ty::Int,
                    "long" => Ty::Long,
                    "float" => Ty::Float,
                    "double" => Ty::Double,
                    "string" => Ty::Str,
                    "date" => Ty::Date,
                    other => return Err(format!("Invalid data type: {other}")),
                };
                if name.is_empty() {
                    Col::Ignored
                } else {
                    Col::Prop {
                        name: name.to_owned(),
                        ty,
                        array,
                        card,
                    }
                }
            }
        });
    }
    Ok(cols)
}

pub(super) fn parse_typed(ty: Ty, s: &str) -> Option<Value> {
    let s = s.trim();
    Some(match ty {
        Ty::Str => Value::str(s),
        Ty::Bool => match s.to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return None,
        },
        Ty::Int => Value::Int(s.parse().ok()?),
        Ty::Long => Value::Long(s.parse().ok()?),
        Ty::Float => Value::Float(s.parse().ok()?),
        Ty::Double => Value::Double(s.parse().ok()?),
        Ty::Date => Value::Date(parse_datetime(s)?),
    })
}

/// A line's error: Neptune's code and the message.
pub(super) type RowError = (&'static str, String);

/// The system fields of one line (`None` where absent or empty).
pub(super) struct SysFields<'r> {
    pub(super) id: Option<&'r str>,
    pub(super) label: Option<&'r str>,
    pub(super) from: Option<&'r str>,
    pub(super) to: Option<&'r str>,
}

/// Checks a line's field count, parses its property fields into `props` as `(column, value)`
/// (an array column gives one entry per element) and returns its system fields.
pub(super) fn parse_typed_fields<'r>(
    cols: &[Col],
    fields: &'r [Cow<'_, str>],
    props: &mut Vec<(usize, Value)>,
) -> std::result::Result<SysFields<'r>, RowError> {
    if fields.len() != cols.len() {
        return Err((
            "PARSING_ERROR",
            format!("Expected {} fields but found {}", cols.len(), fields.len()),
        ));
    }
    let mut sys = SysFields {
        id: None,
        label: None,
        from: None,
        to: None,
    };
    props.clear();
    let mut bad = None;
    for (i, (c, f)) in cols.iter().zip(fields.iter()).enumerate() {
        match c {
            Col::Id if !f.is_empty() => sys.id = Some(f.as_ref()),
            Col::Label if !f.is_empty() => sys.label = Some(f.as_ref()),
            Col::From => sys.from = Some(f.as_ref()),
            Col::To => sys.to = Some(f.as_ref()),
            Col::Prop {
                ty, array, name, ..
            } if !f.is_empty() => {
                let mut one = |p: &str| match parse_typed(*ty, p) {
                    Some(v) => props.push((i, v)),
                    None => {
                        bad = Some(format!(
                            "Invalid value '{p}' for property {name} of type {ty:?}"
                        ))
                    }
                };
                if *array {
                    f.split(';').for_each(&mut one);
                } else {
                    one(f);
                }
            }
            _ => {}
        }
    }
    match bad {
        Some(msg) => Err(("DATATYPE_MISMATCH", msg)),
        None => Ok(sys),
    }
}
