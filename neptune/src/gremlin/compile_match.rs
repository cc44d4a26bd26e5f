//! Compiling `match()`: each argument traversal becomes a [`Pattern`] (`as(start)…as(end)`,
//! `where`, `not`, `and`, `or`), as TinkerPop's match step reads them. Infix `a.and().b` and
//! `a.or().b` arrive here already rewritten to `and(a, b)`/`or(a, b)` (see `connectives`).

use std::sync::Arc;

use super::super::ir::{Pattern, Step, Traversal, Where};
use super::super::parse::Expr;
use super::Compiler;
use crate::error::{Result, Span};

impl Compiler<'_> {
    /// `match(patterns…)`.
    pub(super) fn match_step(&mut self, args: &[Expr], span: Span) -> Result<Step> {
        if args.is_empty() {
            return Err(self.err(span, "match() takes at least one pattern"));
        }
        // Patterns read and write labels on the traverser's path.
        self.needs_path = true;
        let mut patterns = Vec::with_capacity(args.len());
        for a in args {
            let t = self.traversal(a)?;
            match self.pattern(t, span)? {
                // A top-level `and()` is just more patterns.
                Pattern::And(ps) => patterns.extend(ps),
                p => patterns.push(p),
            }
        }
        Ok(Step::Match(patterns))
    }

    fn pattern(&self, t: Traversal, span: Span) -> Result<Pattern> {
        let unsolvable = |c: &Self| {
            c.err(
                span,
                "All match()-traversals must have a single start label (i.e. variable)",
            )
        };
        let mut steps = t.steps;
        if let [only] = steps.as_slice() {
            let connective = |c: &Self, ts: &[Traversal]| -> Result<Vec<Pattern>> {
                ts.iter().map(|t| c.pattern(t.clone(), span)).collect()
            };
            match only {
                Step::Where(Where::Trav(inner)) => {
                    return Ok(Pattern::Exists(Box::new(
                        self.pattern(inner.clone(), span)?,
                    )));
                }
                Step::Where(w) => return Ok(Pattern::Where(w.clone())),
                Step::Not(inner) => {
                    return Ok(Pattern::Not(Box::new(self.pattern(inner.clone(), span)?)));
                }
                Step::And(ts) => return Ok(Pattern::And(connective(self, ts)?)),
                Step::Or(ts) => return Ok(Pattern::Or(connective(self, ts)?)),
                _ => {}
            }
        }
        let start = match steps.first() {
            Some(Step::As(l)) if l.len() == 1 => Arc::clone(&l[0]),
            _ => return Err(unsolvable(self)),
        };
        steps.remove(0);
        let end = match steps.last() {
            Some(Step::As(l)) if l.len() == 1 => {
                let e = Arc::clone(&l[0]);
                steps.pop();
                Some(e)
            }
            _ => None,
        };
        Ok(Pattern::Trav {
            start,
            body: Traversal { steps },
            end,
        })
    }
}
