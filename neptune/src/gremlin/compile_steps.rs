//! Step-by-step compilation: one arm per Gremlin step, and the modulators that fold into the
//! step before them.

use std::sync::Arc;

use super::super::ir::*;
use super::super::math::MathExpr;
use super::super::parse::{Expr, Segment};
use super::Compiler;
use crate::error::Result;
use crate::store::{Cardinality, Direction};
use crate::value::Value;

/// The cardinality named by `name`, if any.
pub(super) fn cardinality_name(name: &str) -> Option<Cardinality> {
    match name {
        "single" => Some(Cardinality::Single),
        "set" => Some(Cardinality::Set),
        "list" => Some(Cardinality::List),
        _ => None,
    }
}

impl Compiler<'_> {
    pub(super) fn step(
        &mut self,
        seg: &Segment,
        steps: &mut Vec<Step>,
        pending: &mut Option<Loop>,
    ) -> Result<()> {
        let args: &[Expr] = seg.args.as_deref().unwrap_or(&[]);
        let span = seg.span;
        if seg.args.is_none() {
            return Err(self.err(
                span,
                format!("'{}' must be called as a step: {}()", seg.name, seg.name),
            ));
        }
        let name = seg.name.as_str();
        let scoped = |c: &Self| -> (Scope, &[Expr]) {
            match args.first().and_then(|a| c.scope(a)) {
                Some(s) => (s, &args[1..]),
                None => (Scope::Global, args),
            }
        };
        let step = match name {
            "V" | "E" => {
                let mut ids = Vec::new();
                for a in args {
                    match self.arg(a)? {
                        Arg::Const(Value::List(l)) => ids.extend(l.iter().cloned().map(Arg::Const)),
                        other => ids.push(other),
                    }
                }
                if name == "V" {
                    Step::V(ids)
                } else {
                    Step::E(ids)
                }
            }
            "inject" => Step::Inject(args.iter().map(|a| self.value(a)).collect::<Result<_>>()?),
            "addV" => {
                self.mutating = true;
                match args {
                    [] => Step::AddV {
                        label: Arg::Const(Value::str("vertex")),
                        id: None,
                    },
                    [a] => Step::AddV {
                        label: self.arg(a)?,
                        id: None,
                    },
                    _ => return Err(self.err(span, "addV() takes at most one label")),
                }
            }
            "addE" => {
                self.mutating = true;
                match args {
                    [a] => Step::AddE {
                        label: self.arg(a)?,
                        from: None,
                        to: None,
                        id: None,
                    },
                    _ => return Err(self.err(span, "addE() takes one label")),
                }
            }
            "from" | "to" => {
                let target = match args {
                    [a] if self.is_traversal(a) => Arg::Trav(self.traversal(a)?),
                    [a] => match self.value(a)? {
                        Value::Str(label) => {
                            self.needs_path = true;
                            Arg::Trav(Traversal {
                                steps: vec![Step::Select {
                                    pop: Pop::Last,
                                    keys: vec![label],
                                    by: vec![],
                                }],
                            })
                        }
                        v => Arg::Const(v),
                    },
                    _ => return Err(self.err(span, format!("{name}() takes one argument"))),
                };
                let last = steps
                    .iter_mut()
                    .rev()
                    .find(|s| !matches!(s, Step::Property { .. }));
                match last {
                    Some(Step::AddE { from, to, .. }) => {
                        if name == "from" {
                            *from = Some(target)
                        } else {
                            *to = Some(target)
                        }
                        return Ok(());
                    }
                    Some(Step::PathFilter { from, to, .. } | Step::Path { from, to, .. }) => {
                        let label = match &target {
                            Arg::Trav(t) => match t.steps.first() {
                                Some(Step::Select { keys, .. }) => keys.first().cloned(),
                                _ => None,
                            },
                            _ => None,
                        };
                        if name == "from" {
                            *from = label
                        } else {
                            *to = label
                        }
                        return Ok(());
                    }
                    _ => {
                        return Err(self.err(
                            span,
                            format!("{name}() must follow addE(), simplePath() or cyclicPath()"),
                        ));
                    }
                }
            }
            "property" => {
                self.mutating = true;
                let (card, rest) = match args
                    .first()
                    .and_then(|a| self.enum_name(a))
                    .and_then(cardinality_name)
                {
                    Some(c) if args.len() >= 3 => (Some(c), &args[1..]),
                    _ => (None, args),
                };
                match rest {
                    [m] => {
                        let Value::Map(map) = self.value(m)? else {
                            return Err(
                                self.err(m.span(), "property() takes a key and a value, or a map")
                            );
                        };
                        for (k, v) in map.iter() {
                            steps.push(Step::Property {
                                card,
                                key: Arg::Const(k.clone()),
                                value: Arg::Const(v.clone()),
                                meta: vec![],
                            });
                        }
                        return Ok(());
                    }
                    [k, v, meta @ ..] => {
                        if meta.len() % 2 != 0 {
                            return Err(self
                                .err(span, "property() meta-properties come in key/value pairs"));
                        }
                        let key = self.arg(k)?;
                        let value = self.arg(v)?;
                        if key == Arg::Const(Value::Token(crate::value::Token::Id))
                            && meta.is_empty()
                        {
                            match steps.last_mut() {
                                Some(Step::AddV { id, .. }) | Some(Step::AddE { id, .. })
                                    if id.is_none() =>
                                {
                                    *id = Some(value);
                                    return Ok(());
                                }
                                _ => {}
                            }
                        }
                        let mut m = Vec::new();
                        for pair in meta.chunks(2) {
                            m.push((self.value(&pair[0])?, self.arg(&pair[1])?));
                        }
                        Step::Property {
                            card,
                            key,
                            value,
                            meta: m,
                        }
                    }
                    _ => return Err(self.err(span, "property() takes a key and a value")),
                }
            }
            "drop" => {
                self.mutating = true;
                Step::Drop
            }
            "has" => match args {
                [k] => Step::Has(self.has_key(k)?, HasTest::Exists),
                [k, t] if self.is_traversal(t) => {
                    Step::Has(self.has_key(k)?, HasTest::Trav(self.traversal(t)?))
                }
                [k, v] => Step::Has(
                    self.has_key(k)?,
                    HasTest::Pred(self.pred_or_eq(std::slice::from_ref(v))?),
                ),
                [l, k, v] => {
                    let label = self.pred_or_eq(std::slice::from_ref(l))?;
                    let key = self.string(k)?;
                    let test = if self.is_traversal(v) {
                        HasTest::Trav(self.traversal(v)?)
                    } else {
                        HasTest::Pred(self.pred_or_eq(std::slice::from_ref(v))?)
                    };
                    Step::HasLabelKey(label, key, test)
                }
                _ => return Err(self.err(span, "has() takes one to three arguments")),
            },
            "hasLabel" if !args.is_empty() => Step::HasLabel(self.pred_or_eq(args)?),
            "hasId" if !args.is_empty() => Step::HasId(self.pred_or_eq(args)?),
            "hasKey" if !args.is_empty() => Step::HasKey(self.pred_or_eq(args)?),
            "hasValue" if !args.is_empty() => Step::HasValue(self.pred_or_eq(args)?),
            "hasNot" => match args {
                [k] => Step::HasNot(self.string(k)?),
                _ => return Err(self.err(span, "hasNot() takes one key")),
            },
            "is" => match args {
                [a] => Step::Is(self.pred_or_eq(std::slice::from_ref(a))?),
                _ => return Err(self.err(span, "is() takes one argument")),
            },
            "out" | "in" | "both" | "outE" | "inE" | "bothE" => {
                let dir = match name.trim_end_matches('E') {
                    "out" => Direction::Out,
                    "in" => Direction::In,
                    _ => Direction::Both,
                };
                Step::Adjacent {
                    dir,
                    labels: self.strings(args)?,
                    edges: name.ends_with('E'),
                }
            }
            "outV" => Step::EdgeVertex(Direction::Out),
            "inV" => Step::EdgeVertex(Direction::In),
            "bothV" => Step::EdgeVertex(Direction::Both),
            "otherV" => {
                self.needs_path = true;
                Step::OtherV
            }
            "values" => Step::Values(self.strings(args)?),
            "properties" => Step::Properties(self.strings(args)?),
            "valueMap" => {
                let first = match args.first() {
                    Some(a @ (Expr::Lit(..) | Expr::Chain(_))) if !self.is_traversal(a) => {
                        self.value(a).ok()
                    }
                    _ => None,
                };
                let (tokens, rest) = match first {
                    Some(Value::Bool(true)) => (Tokens::All, &args[1..]),
                    Some(Value::Bool(false)) => (Tokens::None, &args[1..]),
                    _ => (Tokens::None, args),
                };
                Step::ValueMap {
                    keys: self.strings(rest)?,
                    tokens,
                    by: vec![],
                }
            }
            "elementMap" => Step::ElementMap(self.strings(args)?),
            "propertyMap" => Step::PropertyMap(self.strings(args)?),
            "id" if args.is_empty() => Step::Id,
            "label" if args.is_empty() => Step::Label,
            "key" if args.is_empty() => Step::Key,
            "value" if args.is_empty() => Step::Value,
            "as" if !args.is_empty() => {
                self.needs_path = true;
                Step::As(self.strings(args)?)
            }
            "select" => self.select(args, span)?,
            "project" if !args.is_empty() => Step::Project {
                keys: self.strings(args)?,
                by: vec![],
            },
            "by" => {
                let (by, dir) = self.by(args, span)?;
                return self.attach_by(steps, by, dir, span);
            }
            "with" => {
                match (
                    steps.last_mut(),
                    args.first().and_then(|a| self.enum_name(a)),
                ) {
                    (Some(Step::ValueMap { tokens, .. }), Some("tokens")) => {
                        *tokens = match args.get(1).and_then(|a| self.enum_name(a)) {
                            Some("ids") => Tokens::Ids,
                            Some("labels") => Tokens::Labels,
                            _ => Tokens::All,
                        }
                    }
                    (Some(_), Some(_)) => {}
                    _ => return Err(self.err(span, "with() must follow a step it configures")),
                }
                return Ok(());
            }
            "where" => self.where_step(args, span)?,
            "filter" => Step::Filter(self.one_trav(args, span)?),
            "not" => Step::Not(self.one_trav(args, span)?),
            "and" => Step::And(
                args.iter()
                    .map(|a| self.traversal(a))
                    .collect::<Result<_>>()?,
            ),
            "or" => Step::Or(
                args.iter()
                    .map(|a| self.traversal(a))
                    .collect::<Result<_>>()?,
            ),
            "order" => Step::Order {
                scope: scoped(self).0,
                by: vec![],
            },
            "limit" => {
                let (scope, rest) = scoped(self);
                let [n] = rest else {
                    return Err(self.err(span, "limit() takes a count"));
                };
                Step::Range {
                    scope,
                    lo: 0,
                    hi: Some(self.count(n)?),
                }
            }
            "skip" => {
                let (scope, rest) = scoped(self);
                let [n] = rest else {
                    return Err(self.err(span, "skip() takes a count"));
                };
                Step::Range {
                    scope,
                    lo: self.count(n)?,
                    hi: None,
                }
            }
            "range" => {
                let (scope, rest) = scoped(self);
                let [lo, hi] = rest else {
                    return Err(self.err(span, "range() takes a low and a high bound"));
                };
                let lo_n = self.count(lo)?;
                let hi_n = match hi {
                    Expr::Lit(v, _) if v.as_i64() == Some(-1) => None,
                    _ => Some(self.count(hi)?),
                };
                if hi_n.is_some_and(|h| h < lo_n) {
                    return Err(crate::error::Error::InvalidParameter(format!(
                        "Not a legal range: [{lo_n}, {}]",
                        hi_n.unwrap_or(0)
                    )));
                }
                Step::Range {
                    scope,
                    lo: lo_n,
                    hi: hi_n,
                }
            }
            "tail" => {
                let (scope, rest) = scoped(self);
                let n = match rest {
                    [] => 1,
                    [n] => self.count(n)?,
                    _ => return Err(self.err(span, "tail() takes a count")),
                };
                Step::Tail { scope, n }
            }
            "count" => Step::Count(scoped(self).0),
            "sum" => Step::Sum(scoped(self).0),
            "min" => Step::Min(scoped(self).0),
            "max" => Step::Max(scoped(self).0),
            "mean" => Step::Mean(scoped(self).0),
            "group" => Step::Group {
                side: args.first().map(|a| self.string(a)).transpose()?,
                by: vec![],
            },
            "groupCount" => Step::GroupCount {
                side: args.first().map(|a| self.string(a)).transpose()?,
                by: None,
            },
            "dedup" => {
                let (scope, rest) = scoped(self);
                if !rest.is_empty() {
                    self.needs_path = true;
                }
                Step::Dedup {
                    scope,
                    labels: self.strings(rest)?,
                    by: None,
                }
            }
            "path" => {
                self.needs_path = true;
                Step::Path {
                    by: vec![],
                    from: None,
                    to: None,
                }
            }
            "simplePath" | "cyclicPath" => {
                self.needs_path = true;
                Step::PathFilter {
                    simple: name == "simplePath",
                    from: None,
                    to: None,
                    by: None,
                }
            }
            "repeat" => {
                let mut l = pending.take().unwrap_or_default();
                match args {
                    [t] => l.body = self.traversal(t)?,
                    [n, t] => {
                        l.name = Some(self.string(n)?);
                        l.body = self.traversal(t)?;
                    }
                    _ => return Err(self.err(span, "repeat() takes a traversal")),
                }
                Step::Repeat(Box::new(l))
            }
            "times" | "until" | "emit" => {
                return self.loop_modulator(name, args, span, steps, pending);
            }
            "loops" => Step::Loops(args.first().map(|a| self.string(a)).transpose()?),
            "union" => Step::Union(
                args.iter()
                    .map(|a| self.traversal(a))
                    .collect::<Result<_>>()?,
            ),
            "coalesce" => Step::Coalesce(
                args.iter()
                    .map(|a| self.traversal(a))
                    .collect::<Result<_>>()?,
            ),
            "choose" => self.choose(args, span)?,
            // `branch(selector)` is `choose(selector)` with options: every matching option runs.
            "branch" => Step::Choose(Box::new(Choose::Options(
                self.one_trav(args, span)?,
                vec![],
            ))),
            "option" => return self.option(args, span, steps),
            "optional" => Step::Optional(self.one_trav(args, span)?),
            "local" => Step::Local(self.one_trav(args, span)?),
            "map" => Step::Map(self.one_trav(args, span)?),
            "flatMap" => Step::FlatMap(self.one_trav(args, span)?),
            "fold" => match args {
                [] => Step::Fold,
                [seed, op] => Step::FoldWith(self.value(seed)?, self.operator(op)?),
                _ => {
                    return Err(
                        self.err(span, "fold() takes no arguments or a seed and an operator")
                    );
                }
            },
            "unfold" => Step::Unfold,
            "constant" => match args {
                [a] => Step::Constant(self.value(a)?),
                _ => return Err(self.err(span, "constant() takes one value")),
            },
            "identity" => Step::Identity,
            "sideEffect" => Step::SideEffect(self.one_trav(args, span)?),
            "aggregate" | "store" => {
                let (scope, rest) = scoped(self);
                let [k] = rest else {
                    return Err(self.err(span, format!("{name}() takes a side-effect key")));
                };
                let scope = if name == "store" { Scope::Local } else { scope };
                Step::Aggregate {
                    scope,
                    key: self.string(k)?,
                    by: None,
                }
            }
            "cap" if !args.is_empty() => Step::Cap(self.strings(args)?),
            "math" => match args {
                [e] => {
                    let text = self.string(e)?;
                    let expr = MathExpr::parse(&text)?;
                    if expr.variables().iter().any(|v| v != "_") {
                        self.needs_path = true;
                    }
                    Step::Math {
                        expr: Arc::new(expr),
                        by: vec![],
                    }
                }
                _ => return Err(self.err(span, "math() takes an expression")),
            },
            "coin" => match args {
                [p] => match self.value(p)?.as_f64() {
                    Some(p) => Step::Coin(p),
                    None => return Err(self.err(p.span(), "coin() takes a probability")),
                },
                _ => return Err(self.err(span, "coin() takes a probability")),
            },
            "sample" => {
                let (scope, rest) = scoped(self);
                let [n] = rest else {
                    return Err(self.err(span, "sample() takes a count"));
                };
                Step::Sample {
                    scope,
                    n: self.count(n)?,
                    by: None,
                }
            }
            "barrier" => Step::Barrier,
            "mergeV" | "mergeE" => {
                self.mutating = true;
                let search = match args {
                    [] => None,
                    [a] => Some(self.arg(a)?),
                    _ => return Err(self.err(span, format!("{name}() takes at most one argument"))),
                };
                let m = Box::new(Merge {
                    search,
                    ..Merge::default()
                });
                if name == "mergeV" {
                    Step::MergeV(m)
                } else {
                    Step::MergeE(m)
                }
            }
            "sack" => match args {
                [] => Step::SackGet,
                [op] => Step::SackSet(self.operator(op)?, None),
                _ => return Err(self.err(span, "sack() takes an operator")),
            },
            "index" => Step::Index,
            "format" => match args {
                [a] => {
                    // `%{name}` may name an `as()` label.
                    self.needs_path = true;
                    Step::Format(self.string(a)?, vec![])
                }
                _ => return Err(self.err(span, "format() takes a template string")),
            },
            "combine" | "merge" | "product" | "disjunct" | "intersect" | "difference" => {
                let op = match name {
                    "combine" => ListOp::Combine,
                    "merge" => ListOp::Merge,
                    "product" => ListOp::Product,
                    "disjunct" => ListOp::Disjunct,
                    "intersect" => ListOp::Intersect,
                    _ => ListOp::Difference,
                };
                match args {
                    [a] => Step::ListFn(op, self.arg(a)?),
                    _ => return Err(self.err(span, format!("{name}() takes one argument"))),
                }
            }
            "any" | "all" | "none" => {
                let q = match name {
                    "any" => Quant::Any,
                    "all" => Quant::All,
                    _ => Quant::None,
                };
                match args {
                    [] if q == Quant::None => Step::ListTest(q, None),
                    [a] => Step::ListTest(q, Some(self.pred_or_eq(std::slice::from_ref(a))?)),
                    _ => return Err(self.err(span, format!("{name}() takes one predicate"))),
                }
            }
            "toUpper" | "toLower" | "length" | "trim" | "lTrim" | "rTrim" | "reverse"
            | "asString" | "asDate" | "dateDiff" | "concat" | "split" | "substring" | "replace" => {
                let func = match name {
                    "toUpper" => Func::ToUpper,
                    "toLower" => Func::ToLower,
                    "length" => Func::Length,
                    "trim" => Func::Trim,
                    "lTrim" => Func::LTrim,
                    "rTrim" => Func::RTrim,
                    "reverse" => Func::Reverse,
                    "asString" => Func::AsString,
                    "asDate" => Func::AsDate,
                    "dateDiff" => Func::DateDiff,
                    "concat" => Func::Concat,
                    "split" => Func::Split,
                    "substring" => Func::Substring,
                    _ => Func::Replace,
                };
                let (scope, rest) = scoped(self);
                let fargs = rest.iter().map(|a| self.arg(a)).collect::<Result<_>>()?;
                Step::Func(func, fargs, scope)
            }
            "fail" => Step::Fail(
                args.first()
                    .map(|a| self.string(a).map(|s| s.to_string()))
                    .transpose()?,
            ),
            "match" => self.match_step(args, span)?,
            other => return Err(self.err(span, format!("unknown step '{other}'"))),
        };
        steps.push(step);
        Ok(())
    }

    fn has_key(&mut self, e: &Expr) -> Result<HasKey> {
        match self.value(e)? {
            // `has(null)` matches nothing.
            Value::Null => Ok(HasKey::Prop(Arc::from("\u{0}null"))),
            Value::Str(s) => Ok(HasKey::Prop(s)),
            Value::Token(t) => Ok(HasKey::Token(t)),
            other => Err(self.err(
                e.span(),
                format!(
                    "has() key must be a string or a token, not {}",
                    other.type_name()
                ),
            )),
        }
    }

    fn one_trav(&mut self, args: &[Expr], span: crate::error::Span) -> Result<Traversal> {
        match args {
            [a] => self.traversal(a),
            _ => Err(self.err(span, "this step takes one traversal")),
        }
    }

    fn select(&mut self, args: &[Expr], span: crate::error::Span) -> Result<Step> {
        let (pop, rest) = match args.first().and_then(|a| self.enum_name(a)) {
            Some("first") if args.len() > 1 => (Pop::First, &args[1..]),
            Some("last") if args.len() > 1 => (Pop::Last, &args[1..]),
            Some("all") if args.len() > 1 => (Pop::All, &args[1..]),
            Some("mixed") if args.len() > 1 => (Pop::Mixed, &args[1..]),
            _ => (Pop::Last, args),
        };
        match rest {
            [a] if self.enum_name(a) == Some("keys") && !self.bindings.contains_key("keys") => {
                Ok(Step::SelectColumn(Column::Keys))
            }
            [a] if self.enum_name(a) == Some("values") && !self.bindings.contains_key("values") => {
                Ok(Step::SelectColumn(Column::Values))
            }
            [a] if self.is_traversal(a) => {
                self.needs_path = true;
                Ok(Step::SelectTrav(pop, self.traversal(a)?))
            }
            [] => Err(self.err(span, "select() needs at least one key")),
            keys => {
                self.needs_path = true;
                Ok(Step::Select {
                    pop,
                    keys: self.strings(keys)?,
                    by: vec![],
                })
            }
        }
    }

    fn where_step(&mut self, args: &[Expr], span: crate::error::Span) -> Result<Step> {
        match args {
            [p] if self.is_pred(p) => {
                self.needs_path = true;
                Ok(Step::Where(Where::Pred {
                    start: None,
                    pred: self.pred(p)?,
                    by: vec![],
                }))
            }
            [s, p] => {
                self.needs_path = true;
                let start = Some(self.string(s)?);
                Ok(Step::Where(Where::Pred {
                    start,
                    pred: self.pred(p)?,
                    by: vec![],
                }))
            }
            [t] => {
                let t = self.traversal(t)?;
                if t.steps
                    .iter()
                    .any(|s| matches!(s, Step::As(_) | Step::Select { .. }))
                {
                    self.needs_path = true;
                }
                Ok(Step::Where(Where::Trav(t)))
            }
            _ => Err(self.err(span, "where() takes a traversal or a predicate")),
        }
    }

    fn choose(&mut self, args: &[Expr], span: crate::error::Span) -> Result<Step> {
        Ok(Step::Choose(Box::new(match args {
            [sel] => Choose::Options(self.traversal(sel)?, vec![]),
            [c, t] => {
                if self.is_pred(c) {
                    Choose::IfPred(self.pred(c)?, self.traversal(t)?, Traversal::default())
                } else {
                    Choose::IfThen(self.traversal(c)?, self.traversal(t)?, Traversal::default())
                }
            }
            [c, t, f] => {
                if self.is_pred(c) {
                    Choose::IfPred(self.pred(c)?, self.traversal(t)?, self.traversal(f)?)
                } else {
                    Choose::IfThen(self.traversal(c)?, self.traversal(t)?, self.traversal(f)?)
                }
            }
            _ => return Err(self.err(span, "choose() takes one to three arguments")),
        })))
    }
}
