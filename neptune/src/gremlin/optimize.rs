//! The planner's rewrites, applied to every (child) traversal after compilation.
//!
//! - `V().hasLabel(l)` / `V().has(k, v)` / `V().has(l, k, v)` start from the label or
//!   property-value index ([`Step::VIndex`]) instead of scanning every vertex. The `has` steps
//!   stay in place after the lookup, so the index only has to return a superset.
//! - `… .out().count()` style endings are folded into degree sums by the executor (it sees
//!   `Adjacent` directly followed by `Count`), so no traverser is made per neighbour.

use super::ir::{HasKey, HasTest, Pred, Step};

/// Rewrites `steps` in place.
pub fn optimize(steps: &mut [Step]) {
    let Some(Step::V(ids)) = steps.first() else {
        return;
    };
    if !ids.is_empty() {
        return;
    }
    let mut label = None;
    let mut key = None;
    for s in steps.iter().skip(1) {
        match s {
            Step::HasLabel(Pred::Eq(crate::value::Value::Str(l))) if label.is_none() => {
                label = Some(l.clone())
            }
            Step::Has(HasKey::Prop(k), HasTest::Pred(Pred::Eq(v))) if key.is_none() => {
                key = Some((k.clone(), v.clone()))
            }
            Step::HasLabelKey(
                Pred::Eq(crate::value::Value::Str(l)),
                k,
                HasTest::Pred(Pred::Eq(v)),
            ) if key.is_none() => {
                label.get_or_insert_with(|| l.clone());
                key = Some((k.clone(), v.clone()));
            }
            Step::Has(..)
            | Step::HasLabel(_)
            | Step::HasLabelKey(..)
            | Step::HasId(_)
            | Step::HasNot(_) => {}
            _ => break,
        }
    }
    if label.is_some() || key.is_some() {
        steps[0] = Step::VIndex { label, key };
    }
}
