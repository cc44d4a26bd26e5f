//! Compiling modulators: `by`, `times`/`until`/`emit` and `option`, which fold into the step
//! (or pending `repeat`) before them rather than becoming steps of their own.

use std::sync::Arc;

use super::super::ir::*;
use super::super::parse::Expr;
use super::Compiler;
use super::compile_steps::cardinality_name;
use crate::error::Result;
use crate::store::Cardinality;
use crate::value::Value;

/// Property keys with the cardinality each asked for.
type KeyCards = Vec<(Arc<str>, Cardinality)>;

impl Compiler<'_> {
    pub(super) fn attach_by(
        &mut self,
        steps: &mut [Step],
        by: By,
        dir: Option<OrderDir>,
        span: crate::error::Span,
    ) -> Result<()> {
        let err = |c: &Self| c.err(span, "by() must follow a step it modulates");
        let Some(last) = steps.last_mut() else {
            return Err(err(self));
        };
        match last {
            Step::Order { by: list, .. } => list.push((by, dir.unwrap_or(OrderDir::Asc))),
            _ if dir.is_some() => {
                return Err(self.err(span, "an Order in by() only applies to order()"));
            }
            Step::Select { by: list, .. }
            | Step::Project { by: list, .. }
            | Step::Path { by: list, .. }
            | Step::Math { by: list, .. }
            | Step::Format(_, list)
            | Step::ValueMap { by: list, .. } => list.push(by),
            Step::Where(Where::Pred { by: list, .. }) => list.push(by),
            Step::Group { by: list, .. } => {
                if list.len() >= 2 {
                    return Err(self.err(span, "group() takes at most two by() modulators"));
                }
                list.push(by)
            }
            Step::GroupCount { by: b, .. }
            | Step::Dedup { by: b, .. }
            | Step::Aggregate { by: b, .. }
            | Step::SackSet(_, b)
            | Step::PathFilter { by: b, .. }
            | Step::Sample { by: b, .. } => *b = Some(by),
            Step::SelectTrav(..) => {}
            _ => return Err(err(self)),
        }
        Ok(())
    }

    pub(super) fn loop_modulator(
        &mut self,
        name: &str,
        args: &[Expr],
        span: crate::error::Span,
        steps: &mut [Step],
        pending: &mut Option<Loop>,
    ) -> Result<()> {
        let after = matches!(steps.last(), Some(Step::Repeat(_)));
        let cond = match (name, args) {
            ("times", _) => None,
            (_, []) => Some(Traversal::default()),
            (_, [a]) if self.is_pred(a) => Some(Traversal {
                steps: vec![Step::Is(self.pred(a)?)],
            }),
            (_, [a]) => Some(self.traversal(a)?),
            _ => return Err(self.err(span, format!("{name}() takes one argument"))),
        };
        let times = if name == "times" {
            match args {
                [n] => Some(u32::try_from(self.count(n)?).unwrap_or(u32::MAX)),
                _ => return Err(self.err(span, "times() takes a count")),
            }
        } else {
            None
        };
        let target: &mut Loop = if after {
            match steps.last_mut() {
                Some(Step::Repeat(l)) => l,
                _ => return Err(self.err(span, "The repeat()-traversal was not defined")),
            }
        } else {
            pending.get_or_insert_with(Loop::default)
        };
        match name {
            "times" => {
                if !after {
                    // `times(n)` before `repeat` behaves like `until(loops().is(n))` before it.
                    target.until = Some((
                        Traversal {
                            steps: vec![
                                Step::Loops(None),
                                Step::Is(Pred::Gte(Value::Int(times.unwrap_or(0) as i32))),
                            ],
                        },
                        true,
                    ));
                } else {
                    target.times = times;
                }
            }
            "until" => target.until = cond.map(|c| (c, !after)),
            _ => target.emit = cond.map(|c| (c, !after)),
        }
        Ok(())
    }

    pub(super) fn option(
        &mut self,
        args: &[Expr],
        span: crate::error::Span,
        steps: &mut [Step],
    ) -> Result<()> {
        let Some(last) = steps.last_mut() else {
            return Err(self.err(span, "option() must follow choose(), mergeV() or mergeE()"));
        };
        match last {
            Step::Choose(c) => {
                let Choose::Options(_, opts) = c.as_mut() else {
                    return Err(self.err(span, "option() needs choose(selector)"));
                };
                let [k, t] = args else {
                    return Err(self.err(span, "option() takes a key and a traversal"));
                };
                let key = match self.enum_name(k) {
                    Some("none") if !self.bindings.contains_key("none") => OptionKey::None,
                    Some("any") if !self.bindings.contains_key("any") => OptionKey::Any,
                    _ if self.is_pred(k) => OptionKey::Pred(self.pred(k)?),
                    _ => OptionKey::Value(self.value(k)?),
                };
                let body = self.traversal(t)?;
                opts.push((key, body));
            }
            Step::MergeV(m) | Step::MergeE(m) => {
                let (k, v, card) = match args {
                    [k, v] => (k, v, None),
                    [k, v, c] => {
                        let card =
                            self.enum_name(c)
                                .and_then(cardinality_name)
                                .ok_or_else(|| {
                                    self.err(c.span(), "expected Cardinality.single, set or list")
                                })?;
                        (k, v, Some(card))
                    }
                    _ => {
                        return Err(self.err(
                            span,
                            "option() takes a Merge token, a map or traversal and a cardinality",
                        ));
                    }
                };
                let (v, keys) = self.strip_cardinalities(v)?;
                let value = self.arg(&v)?;
                let cards = Cards {
                    default: card,
                    keys,
                };
                match self.enum_name(k) {
                    Some("onCreate") => {
                        m.on_create = Some(value);
                        m.on_create_card = cards;
                    }
                    Some("onMatch") => {
                        m.on_match = Some(value);
                        m.on_match_card = cards;
                    }
                    Some("outV") => m.out_v = Some(value),
                    Some("inV") => m.in_v = Some(value),
                    _ => {
                        return Err(self.err(
                            k.span(),
                            "expected Merge.onCreate, Merge.onMatch, Merge.outV or Merge.inV",
                        ));
                    }
                }
            }
            _ => return Err(self.err(span, "option() must follow choose(), mergeV() or mergeE()")),
        }
        Ok(())
    }

    /// A merge option's map literal with each `Cardinality.x(value)` (or bare `x(value)`)
    /// replaced by its value, and the cardinality each such key asked for.
    fn strip_cardinalities(&mut self, e: &Expr) -> Result<(Expr, KeyCards)> {
        let Expr::Map(pairs, span) = e else {
            return Ok((e.clone(), Vec::new()));
        };
        let mut keys = Vec::new();
        let mut out = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            let wrapped = match v {
                Expr::Chain(segs) => match segs.as_slice() {
                    [c, f] if c.name == "Cardinality" && c.args.is_none() => Some(f),
                    [f] => Some(f),
                    _ => None,
                },
                _ => None,
            };
            let inner = wrapped.and_then(|f| {
                let card = cardinality_name(&f.name)?;
                match f.args.as_deref() {
                    Some([x]) => Some((card, x)),
                    _ => None,
                }
            });
            match inner {
                Some((card, x)) => {
                    if let Value::Str(key) = self.value(k)? {
                        keys.push((key, card));
                    }
                    out.push((k.clone(), x.clone()));
                }
                None => out.push((k.clone(), v.clone())),
            }
        }
        Ok((Expr::Map(out, *span), keys))
    }
}
