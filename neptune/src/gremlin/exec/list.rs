//! TinkerPop's list steps: the list functions (`combine`, `merge`, `product`, `disjunct`,
//! `intersect`, `difference`) and the list tests (`any`, `all`, `none`).
//!
//! A list function takes an incoming list (or set) and an argument that is a list constant or
//! a child traversal yielding one; a null or non-list on either side is an error worded as
//! TinkerPop words it. Set results keep first-seen order (`g:Set` is insertion-ordered). A list
//! test keeps a traverser whose object is a list with the required number of elements passing
//! the predicate, and drops anything that is not a list.

use std::sync::Arc;

use indexmap::IndexSet;

use super::filter::test;
use super::{Cx, It, Trav, keep, map};
use crate::error::{Error, Result};
use crate::gremlin::ir::{Arg, ListOp, Pred, Quant};
use crate::value::Value;

/// Applies the list function `op` with argument `arg` to every traverser.
pub(super) fn list_fn<'a>(cx: &'a Cx, op: ListOp, arg: &'a Arg, it: It<'a>) -> It<'a> {
    map(it, move |t| {
        let v = apply(cx, op, arg, &t)?;
        Ok(Some(t.to(cx, v)))
    })
}

/// Keeps the traversers whose list passes `pred` as `q` says (`none()` alone keeps nothing).
pub(super) fn list_test<'a>(q: Quant, pred: Option<&'a Pred>, it: It<'a>) -> It<'a> {
    keep(it, move |t| {
        let Some(p) = pred else {
            return Ok(false);
        };
        Ok(match &t.obj {
            Value::List(l) => passes(q, p, l.iter()),
            Value::Set(s) => passes(q, p, s.iter()),
            Value::Path(path) => passes(q, p, path.objects.iter()),
            _ => false,
        })
    })
}

fn passes<'v>(q: Quant, p: &Pred, mut items: impl Iterator<Item = &'v Value>) -> bool {
    match q {
        Quant::Any => items.any(|v| test(p, v)),
        Quant::All => items.all(|v| test(p, v)),
        Quant::None => !items.any(|v| test(p, v)),
    }
}

/// The elements of a list, set or path (a path is iterable in TinkerPop).
fn items(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::List(l) => Some(l.as_ref().clone()),
        Value::Set(s) => Some(s.iter().cloned().collect()),
        Value::Path(p) => Some(p.objects.clone()),
        _ => None,
    }
}

fn apply(cx: &Cx, op: ListOp, arg: &Arg, t: &Trav) -> Result<Value> {
    let name = op.name();
    let fail = |m: String| Err(Error::Evaluation(m));
    let incoming = &t.obj;
    if matches!(incoming, Value::Null) {
        return fail(format!("Incoming traverser for {name} step can't be null"));
    }
    let value = cx.arg(arg, t)?.unwrap_or(Value::Null);
    // `merge` of two maps: the incoming map with the argument's entries added or replaced.
    if op == ListOp::Merge
        && let Value::Map(m) = incoming
    {
        return match value {
            Value::Map(other) => {
                let mut out = m.as_ref().clone();
                for (k, v) in other.iter() {
                    out.insert(k.clone(), v.clone());
                }
                Ok(Value::Map(Arc::new(out)))
            }
            other => fail(format!(
                "{name} step expected provided argument to evaluate to a Map, encountered {}",
                other.type_name()
            )),
        };
    }
    let Some(left) = items(incoming) else {
        return fail(format!(
            "{name} step can only take an array or an Iterable type for incoming traversers, \
             encountered {}",
            incoming.type_name()
        ));
    };
    let right = match (&value, arg) {
        (Value::Map(_), Arg::Const(_)) if op == ListOp::Merge => {
            return fail("step type mismatch: expected argument to be Iterable but got Map".into());
        }
        (Value::Null, Arg::Const(_)) => {
            return fail(format!("Argument provided for {name} step can't be null"));
        }
        (Value::Null, Arg::Trav(_)) => {
            return fail(format!(
                "traversal argument for {name} step must yield an iterable type, not null"
            ));
        }
        (v, a) => match items(v) {
            Some(r) => r,
            None if matches!(a, Arg::Const(_)) => {
                return fail(format!(
                    "{name} step can only take an array or an Iterable as an argument, \
                     encountered {}",
                    v.type_name()
                ));
            }
            None => {
                return fail(format!(
                    "traversal argument for {name} step must yield an iterable type, \
                     encountered {}",
                    v.type_name()
                ));
            }
        },
    };
    let set = |v: Vec<Value>| Value::Set(Arc::new(v.into_iter().collect::<IndexSet<Value>>()));
    Ok(match op {
        ListOp::Combine => Value::list(left.into_iter().chain(right).collect()),
        ListOp::Merge => set(left.into_iter().chain(right).collect()),
        ListOp::Product => Value::list(
            left.iter()
                .flat_map(|a| {
                    right
                        .iter()
                        .map(|b| Value::list(vec![a.clone(), b.clone()]))
                })
                .collect(),
        ),
        ListOp::Disjunct => {
            let (l, r): (IndexSet<Value>, IndexSet<Value>) =
                (left.into_iter().collect(), right.into_iter().collect());
            set(l
                .iter()
                .filter(|v| !r.contains(*v))
                .chain(r.iter().filter(|v| !l.contains(*v)))
                .cloned()
                .collect())
        }
        ListOp::Intersect => {
            let r: IndexSet<Value> = right.into_iter().collect();
            set(left.into_iter().filter(|v| r.contains(v)).collect())
        }
        ListOp::Difference => {
            let r: IndexSet<Value> = right.into_iter().collect();
            set(left.into_iter().filter(|v| !r.contains(v)).collect())
        }
    })
}
