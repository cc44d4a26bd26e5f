//! Applying an update expression to an item.
//!
//! DynamoDB evaluates every operand against the item as it was before the update, then applies
//! the actions; the caller passes a copy, so a failure leaves the stored item untouched.
//! `REMOVE` of several elements of one list uses the original indexes (applied highest first);
//! `SET` past the end of a list appends; `ADD` adds to numbers and unions sets; `DELETE`
//! subtracts from sets and removes a set that becomes empty.

use super::ast::{Action, Operand, SetValue, Update};
use super::eval::{Ctx, Step, operand, resolve, steps};
use crate::value::{AttributeValue, Item};

/// Why an update could not be applied (DynamoDB's message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateError(pub String);

fn missing() -> UpdateError {
    UpdateError(
        "The provided expression refers to an attribute that does not exist in the item".to_owned(),
    )
}

fn bad_type() -> UpdateError {
    UpdateError("An operand in the update expression has an incorrect data type".to_owned())
}

fn bad_path() -> UpdateError {
    UpdateError(
        "The document path provided in the update expression is invalid for update".to_owned(),
    )
}

fn number_err(e: crate::number::NumberError) -> UpdateError {
    UpdateError(e.to_string())
}

fn set_operand(o: &Operand, item: &Item, ctx: &Ctx<'_>) -> Result<AttributeValue, UpdateError> {
    match o {
        Operand::Call(name, args) if name == "if_not_exists" => {
            let (Some(Operand::Path(p)), Some(default)) = (args.first(), args.get(1)) else {
                return Err(bad_type());
            };
            match resolve(item, p, ctx) {
                Some(v) => Ok(v.clone()),
                None => set_operand(default, item, ctx),
            }
        }
        Operand::Call(name, args) if name == "list_append" => {
            let (Some(a), Some(b)) = (args.first(), args.get(1)) else {
                return Err(bad_type());
            };
            match (set_operand(a, item, ctx)?, set_operand(b, item, ctx)?) {
                (AttributeValue::L(mut x), AttributeValue::L(y)) => {
                    x.extend(y);
                    Ok(AttributeValue::L(x))
                }
                _ => Err(bad_type()),
            }
        }
        _ => operand(o, item, ctx)
            .map(|v| v.into_owned())
            .ok_or_else(missing),
    }
}

fn arith(a: AttributeValue, b: AttributeValue, plus: bool) -> Result<AttributeValue, UpdateError> {
    match (a, b) {
        (AttributeValue::N(x), AttributeValue::N(y)) => {
            let r = if plus {
                x.checked_add(&y)
            } else {
                x.checked_sub(&y)
            };
            r.map(AttributeValue::N).map_err(number_err)
        }
        _ => Err(bad_type()),
    }
}

enum Planned {
    Set(Vec<Step>, AttributeValue),
    Remove(Vec<Step>),
    Add(Vec<Step>, AttributeValue),
    Delete(Vec<Step>, AttributeValue),
}

/// Applies `update` to `item` in place.
pub fn apply(update: &Update, item: &mut Item, ctx: &Ctx<'_>) -> Result<(), UpdateError> {
    // Evaluate everything against the original item first.
    let mut plan = Vec::with_capacity(update.actions.len());
    for a in &update.actions {
        plan.push(match a {
            Action::Set(p, v) => {
                let value = match v {
                    SetValue::Operand(o) => set_operand(o, item, ctx)?,
                    SetValue::Plus(x, y) => {
                        arith(set_operand(x, item, ctx)?, set_operand(y, item, ctx)?, true)?
                    }
                    SetValue::Minus(x, y) => arith(
                        set_operand(x, item, ctx)?,
                        set_operand(y, item, ctx)?,
                        false,
                    )?,
                };
                Planned::Set(steps(p, ctx).ok_or_else(bad_path)?, value)
            }
            Action::Remove(p) => Planned::Remove(steps(p, ctx).ok_or_else(bad_path)?),
            Action::Add(p, v) => Planned::Add(
                steps(p, ctx).ok_or_else(bad_path)?,
                set_operand(v, item, ctx)?,
            ),
            Action::Delete(p, v) => Planned::Delete(
                steps(p, ctx).ok_or_else(bad_path)?,
                set_operand(v, item, ctx)?,
            ),
        });
    }
    let mut removes: Vec<Vec<Step>> = Vec::new();
    for p in plan {
        match p {
            Planned::Set(path, v) => assign(item, &path, v)?,
            Planned::Remove(path) => removes.push(path),
            Planned::Add(path, v) => {
                let new = match (get(item, &path)?, v) {
                    (
                        None,
                        v @ (AttributeValue::N(_)
                        | AttributeValue::Ss(_)
                        | AttributeValue::Ns(_)
                        | AttributeValue::Bs(_)),
                    ) => v,
                    (Some(AttributeValue::N(x)), AttributeValue::N(y)) => {
                        AttributeValue::N(x.checked_add(&y).map_err(number_err)?)
                    }
                    (Some(AttributeValue::Ss(x)), AttributeValue::Ss(y)) => {
                        AttributeValue::Ss(union(x, y))
                    }
                    (Some(AttributeValue::Ns(x)), AttributeValue::Ns(y)) => {
                        AttributeValue::Ns(union(x, y))
                    }
                    (Some(AttributeValue::Bs(x)), AttributeValue::Bs(y)) => {
                        AttributeValue::Bs(union(x, y))
                    }
                    _ => return Err(bad_type()),
                };
                assign(item, &path, new)?;
            }
            Planned::Delete(path, v) => {
                let new = match (get(item, &path)?, v) {
                    (
                        None,
                        AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_),
                    ) => continue,
                    (Some(AttributeValue::Ss(x)), AttributeValue::Ss(y)) => {
                        minus(x, &y).map(AttributeValue::Ss)
                    }
                    (Some(AttributeValue::Ns(x)), AttributeValue::Ns(y)) => {
                        minus(x, &y).map(AttributeValue::Ns)
                    }
                    (Some(AttributeValue::Bs(x)), AttributeValue::Bs(y)) => {
                        minus(x, &y).map(AttributeValue::Bs)
                    }
                    _ => return Err(bad_type()),
                };
                match new {
                    Some(v) => assign(item, &path, v)?,
                    None => removes.push(path),
                }
            }
        }
    }
    // Highest list indexes first, so earlier removals do not shift later ones.
    removes.sort();
    for path in removes.iter().rev() {
        remove(item, path);
    }
    Ok(())
}

fn union<T: PartialEq + Clone>(mut x: Vec<T>, y: Vec<T>) -> Vec<T> {
    for v in y {
        if !x.contains(&v) {
            x.push(v);
        }
    }
    x
}

fn minus<T: PartialEq + Clone>(x: Vec<T>, y: &[T]) -> Option<Vec<T>> {
    let r: Vec<T> = x.into_iter().filter(|v| !y.contains(v)).collect();
    if r.is_empty() { None } else { Some(r) }
}

fn get(item: &Item, path: &[Step]) -> Result<Option<AttributeValue>, UpdateError> {
    let Some((Step::Key(first), rest)) = path.split_first() else {
        return Err(bad_path());
    };
    let mut cur = match item.get(first) {
        Some(v) => v,
        None => return Ok(None),
    };
    for s in rest {
        cur = match (s, cur) {
            (Step::Key(k), AttributeValue::M(m)) => match m.get(k) {
                Some(v) => v,
                None => return Ok(None),
            },
            (Step::Index(i), AttributeValue::L(l)) => match l.get(*i) {
                Some(v) => v,
                None => return Ok(None),
            },
            _ => return Err(bad_path()),
        };
    }
    Ok(Some(cur.clone()))
}

fn assign(item: &mut Item, path: &[Step], v: AttributeValue) -> Result<(), UpdateError> {
    let Some((Step::Key(first), rest)) = path.split_first() else {
        return Err(bad_path());
    };
    if rest.is_empty() {
        item.insert(first.clone(), v);
        return Ok(());
    }
    let mut cur = item.get_mut(first).ok_or_else(bad_path)?;
    let (last, middle) = rest.split_last().ok_or_else(bad_path)?;
    for s in middle {
        cur = match (s, cur) {
            (Step::Key(k), AttributeValue::M(m)) => m.get_mut(k).ok_or_else(bad_path)?,
            (Step::Index(i), AttributeValue::L(l)) => l.get_mut(*i).ok_or_else(bad_path)?,
            _ => return Err(bad_path()),
        };
    }
    match (last, cur) {
        (Step::Key(k), AttributeValue::M(m)) => {
            m.insert(k.clone(), v);
        }
        (Step::Index(i), AttributeValue::L(l)) => {
            if *i < l.len() {
                l[*i] = v;
            } else {
                l.push(v);
            }
        }
        _ => return Err(bad_path()),
    }
    Ok(())
}

fn remove(item: &mut Item, path: &[Step]) {
    let Some((Step::Key(first), rest)) = path.split_first() else {
        return;
    };
    let Some((last, middle)) = rest.split_last() else {
        item.remove(first);
        return;
    };
    let Some(mut cur) = item.get_mut(first) else {
        return;
    };
    for s in middle {
        cur = match (s, cur) {
            (Step::Key(k), AttributeValue::M(m)) => match m.get_mut(k) {
                Some(v) => v,
                None => return,
            },
            (Step::Index(i), AttributeValue::L(l)) => match l.get_mut(*i) {
                Some(v) => v,
                None => return,
            },
            _ => return,
        };
    }
    match (last, cur) {
        (Step::Key(k), AttributeValue::M(m)) => {
            m.remove(k);
        }
        (Step::Index(i), AttributeValue::L(l)) if *i < l.len() => {
            l.remove(*i);
        }
        _ => {}
    }
}
