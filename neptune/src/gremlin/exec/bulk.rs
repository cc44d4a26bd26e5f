//! Traverser bulks: which steps carry a traverser that stands for several identical ones, and
//! where such traversers are expanded. Only `repeat()` makes bulks (when no paths are kept), so
//! every other step sees traversers of bulk 1 unless it is listed as bulk-aware here.

use super::{Cx, It, Trav, apply, filter};
use crate::error::Result;
use crate::gremlin::ir::{Scope, Step};

/// Whether a step handles traversers of any bulk (passing the bulk on to what it produces, or
/// counting it), so no expansion is needed before it.
fn bulk_aware(step: &Step) -> bool {
    use Step as S;
    matches!(
        step,
        S::Has(..)
            | S::HasLabelKey(..)
            | S::HasLabel(_)
            | S::HasId(_)
            | S::HasNot(_)
            | S::HasKey(_)
            | S::HasValue(_)
            | S::Is(_)
            | S::Adjacent { .. }
            | S::EdgeVertex(_)
            | S::Id
            | S::Label
            | S::Values(_)
            | S::Identity
            | S::Constant(_)
            | S::Count(Scope::Global)
            | S::Dedup {
                scope: Scope::Global,
                ..
            }
            | S::Repeat(_)
    )
}

/// Expands traversers of bulk `n` into `n` traversers of bulk 1.
fn unbulk<'a>(it: It<'a>) -> It<'a> {
    Box::new(
        it.flat_map(|r| -> Box<dyn Iterator<Item = Result<Trav>> + 'a> {
            match r {
                Ok(t) if t.bulk > 1 => {
                    let n = t.bulk;
                    let mut one = t;
                    one.bulk = 1;
                    Box::new((0..n).map(move |_| Ok(one.clone())))
                }
                other => Box::new(std::iter::once(other)),
            }
        }),
    )
}

/// Runs `steps` over `input`, which may hold bulked traversers if `bulked`. The output holds
/// bulked traversers only if `bulk_out` (a `repeat()` body, whose caller merges and carries
/// them); otherwise they are expanded at the end.
pub(crate) fn run_bulked<'a>(
    cx: &'a Cx,
    steps: &'a [Step],
    mut it: It<'a>,
    mut bulked: bool,
    bulk_out: bool,
) -> It<'a> {
    let mut i = 0;
    while i < steps.len() {
        if bulked && !bulk_aware(&steps[i]) {
            it = unbulk(it);
            bulked = false;
        }
        if matches!(steps[i], Step::Repeat(_)) && !cx.needs_path {
            bulked = true;
        }
        // Count folding: `out().count()` sums degrees instead of making a traverser per edge.
        if let (Step::Adjacent { dir, labels, .. }, Some(Step::Count(Scope::Global))) =
            (&steps[i], steps.get(i + 1))
            && !cx.needs_path
        {
            it = filter::count_adjacent(cx, it, *dir, labels);
            i += 2;
            continue;
        }
        it = apply(cx, &steps[i], it);
        i += 1;
    }
    if bulked && !bulk_out {
        it = unbulk(it);
    }
    it
}
