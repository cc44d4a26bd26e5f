//! The `format(template)` step: text with `%{name}` variables filled in.
//!
//! A variable names a property of the incoming element, an entry of the incoming map, or else an
//! `as()` label of the path (the latest object so labelled); `%{_}` takes the next `by()`
//! modulator's result (in turn, cyclically) on the incoming object. A traverser for which any variable has no value
//! is filtered out, as TinkerPop does.

use std::sync::Arc;

use super::text::display;
use super::{Cx, It, Trav, map};
use crate::error::Result;
use crate::gremlin::ir::By;
use crate::value::Value;

/// Formats every traverser's object with `template`.
pub(super) fn format<'a>(cx: &'a Cx, template: &'a str, by: &'a [By], it: It<'a>) -> It<'a> {
    map(it, move |t| {
        Ok(fill(cx, template, by, &t)?.map(|s| t.to(cx, Value::str(&s))))
    })
}

fn fill(cx: &Cx, template: &str, by: &[By], t: &Trav) -> Result<Option<String>> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    let mut positional = 0;
    while let Some(i) = rest.find("%{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else {
            // An unclosed variable is literal text.
            out.push_str(&rest[i..]);
            return Ok(Some(out));
        };
        let name = &after[..end];
        let value = if name == "_" {
            // Modulators are used in turn, starting over when there are more `%{_}` than
            // modulators.
            let v = match by.get(positional % by.len().max(1)) {
                Some(b) => cx.by(b, t)?,
                None => None,
            };
            positional += 1;
            v
        } else {
            variable(cx, name, t)
        };
        match value {
            Some(v) if !matches!(v, Value::Null) => out.push_str(&display(&v)),
            _ => return Ok(None),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(Some(out))
}

fn variable(cx: &Cx, name: &str, t: &Trav) -> Option<Value> {
    let own = match &t.obj {
        Value::Map(m) => m.get(&Value::Str(Arc::from(name))).cloned(),
        Value::Vertex(_) | Value::Edge(_) => cx.prop_values(&t.obj, name).into_iter().next(),
        _ => None,
    };
    own.or_else(|| t.labelled(name).pop())
}
