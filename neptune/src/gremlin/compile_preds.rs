//! Compiling predicates: `P.*` and `TextP.*` calls (and their bare forms), with their
//! arguments checked, into [`Pred`].

use std::sync::Arc;

use super::super::ir::*;
use super::super::parse::{Expr, Segment};
use super::Compiler;
use crate::error::Result;
use crate::value::Value;

/// Predicate names (`P.*`, `TextP.*`).
const PRED_NAMES: &[&str] = &[
    "eq",
    "neq",
    "lt",
    "lte",
    "gt",
    "gte",
    "inside",
    "outside",
    "between",
    "within",
    "without",
    "startingWith",
    "notStartingWith",
    "endingWith",
    "notEndingWith",
    "containing",
    "notContaining",
    "regex",
    "notRegex",
    "not",
];

impl Compiler<'_> {
    pub(super) fn is_pred(&self, e: &Expr) -> bool {
        let Expr::Chain(segs) = e else { return false };
        let first = match segs.first() {
            Some(s) if (s.name == "P" || s.name == "TextP") && s.args.is_none() => segs.get(1),
            s => s,
        };
        first.is_some_and(|s| s.args.is_some() && PRED_NAMES.contains(&s.name.as_str()))
    }

    pub(super) fn pred(&mut self, e: &Expr) -> Result<Pred> {
        let Expr::Chain(segs) = e else {
            return Err(self.err(e.span(), "expected a predicate"));
        };
        let segs = match segs.first() {
            Some(s) if (s.name == "P" || s.name == "TextP") && s.args.is_none() => &segs[1..],
            _ => &segs[..],
        };
        let Some(first) = segs.first() else {
            return Err(self.err(e.span(), "expected a predicate"));
        };
        let mut p = self.pred_call(first)?;
        for seg in &segs[1..] {
            let args = seg.args.as_deref().unwrap_or(&[]);
            p = match (seg.name.as_str(), args) {
                ("and", [a]) => Pred::And(Box::new(p), Box::new(self.pred(a)?)),
                ("or", [a]) => Pred::Or(Box::new(p), Box::new(self.pred(a)?)),
                ("negate", []) => Pred::Not(Box::new(p)),
                _ => {
                    return Err(self.err(
                        seg.span,
                        format!("'{}' is not a predicate method", seg.name),
                    ));
                }
            };
        }
        Ok(p)
    }

    pub(super) fn pred_call(&mut self, seg: &Segment) -> Result<Pred> {
        let args = seg.args.as_deref().unwrap_or(&[]);
        let one = |c: &mut Self| -> Result<Value> {
            match args {
                [a] => c.value(a),
                _ => Err(c.err(seg.span, format!("{}() takes one argument", seg.name))),
            }
        };
        let two = |c: &mut Self| -> Result<(Value, Value)> {
            match args {
                [a, b] => Ok((c.value(a)?, c.value(b)?)),
                _ => Err(c.err(seg.span, format!("{}() takes two arguments", seg.name))),
            }
        };
        let text = |c: &mut Self| -> Result<Arc<str>> {
            match args {
                [a] => c.string(a),
                _ => Err(c.err(seg.span, format!("{}() takes one string", seg.name))),
            }
        };
        let list = |c: &mut Self| -> Result<Vec<Value>> {
            let mut out = Vec::new();
            for a in args {
                match c.value(a)? {
                    Value::List(l) if args.len() == 1 => out.extend(l.iter().cloned()),
                    Value::Set(s) if args.len() == 1 => out.extend(s.iter().cloned()),
                    v => out.push(v),
                }
            }
            Ok(out)
        };
        Ok(match seg.name.as_str() {
            "eq" => Pred::Eq(one(self)?),
            "neq" => Pred::Neq(one(self)?),
            "lt" => Pred::Lt(one(self)?),
            "lte" => Pred::Lte(one(self)?),
            "gt" => Pred::Gt(one(self)?),
            "gte" => Pred::Gte(one(self)?),
            "inside" => two(self).map(|(a, b)| Pred::Inside(a, b))?,
            "outside" => two(self).map(|(a, b)| Pred::Outside(a, b))?,
            "between" => two(self).map(|(a, b)| Pred::Between(a, b))?,
            "within" => Pred::Within(list(self)?),
            "without" => Pred::Without(list(self)?),
            "startingWith" => Pred::StartingWith(text(self)?, false),
            "notStartingWith" => Pred::StartingWith(text(self)?, true),
            "endingWith" => Pred::EndingWith(text(self)?, false),
            "notEndingWith" => Pred::EndingWith(text(self)?, true),
            "containing" => Pred::Containing(text(self)?, false),
            "notContaining" => Pred::Containing(text(self)?, true),
            "regex" | "notRegex" => {
                let pattern = text(self)?;
                let regex = regex_lite::Regex::new(&pattern)
                    .map_err(|e| self.err(seg.span, format!("invalid regular expression: {e}")))?;
                Pred::Regex(Arc::new(Rx { pattern, regex }), seg.name == "notRegex")
            }
            "not" => match args {
                [a] => Pred::Not(Box::new(self.pred(a)?)),
                _ => return Err(self.err(seg.span, "not() takes a predicate")),
            },
            other => return Err(self.err(seg.span, format!("'{other}' is not a predicate"))),
        })
    }

    /// A predicate, or a value wrapped in `eq` (`has('k', 1)`, `hasLabel('a', 'b')`).
    pub(super) fn pred_or_eq(&mut self, args: &[Expr]) -> Result<Pred> {
        match args {
            [a] if self.is_pred(a) => self.pred(a),
            [a] => match self.value(a)? {
                v @ (Value::List(_) | Value::Set(_)) => {
                    Ok(Pred::Within(v.as_items().unwrap_or_default()))
                }
                v => Ok(Pred::Eq(v)),
            },
            _ => {
                let mut vals = Vec::new();
                for a in args {
                    vals.push(self.value(a)?);
                }
                Ok(Pred::Within(vals))
            }
        }
    }
}
