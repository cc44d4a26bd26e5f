//! From the syntax tree to a typed [`Traversal`]: resolves what each chain means (traversal,
//! predicate, token, constant), binds parameters, folds modulators into their steps, and rejects
//! unknown steps and wrong arguments with the argument's position.

use std::collections::HashMap;
use std::sync::Arc;

use super::ir::*;
use super::parse::{Expr, Segment};
use crate::error::{Error, Result, Span};
use crate::value::{Map, Token, Value};

/// How a statement's results are consumed (`toList()`, `next()`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terminal {
    /// Every result.
    ToList,
    /// `next()`: the first (an error when there is none); `next(n)`: up to `n`.
    Next(Option<u64>),
    /// `iterate()`: none.
    Iterate,
    /// `toSet()`.
    ToSet,
    /// `hasNext()`.
    HasNext,
    /// `tryNext()`: the first, if any.
    TryNext,
}

/// A compiled statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    /// `withSack(initial[, op])`.
    pub sack: Option<(Arg, Option<Operator>)>,
    /// `withSideEffect(key, value)`.
    pub side_effects: Vec<(Arc<str>, Value)>,
    /// `withStrategies(ReadOnlyStrategy)`.
    pub read_only: bool,
    /// The traversal.
    pub traversal: Traversal,
    /// The terminal method.
    pub terminal: Terminal,
    /// Whether any step writes.
    pub mutating: bool,
    /// Whether traversers must keep paths (labels, `path()`, `simplePath()`, …).
    pub needs_path: bool,
}

/// Compiles one statement.
pub fn compile(src: &str, expr: &Expr, bindings: &HashMap<String, Value>) -> Result<Compiled> {
    let mut c = Compiler {
        src,
        bindings,
        mutating: false,
        needs_path: false,
    };
    let Expr::Chain(segs) = expr else {
        return Err(c.err(expr.span(), "a query must be a traversal starting with 'g'"));
    };
    let Some(first) = segs.first() else {
        return Err(c.err(expr.span(), "empty traversal"));
    };
    if first.name != "g" || first.args.is_some() {
        return Err(c.err(
            first.span,
            format!(
                "a query must start with the traversal source 'g', not '{}'",
                first.name
            ),
        ));
    }
    let mut out = Compiled {
        sack: None,
        side_effects: Vec::new(),
        read_only: false,
        traversal: Traversal::default(),
        terminal: Terminal::ToList,
        mutating: false,
        needs_path: false,
    };
    let mut i = 1;
    while let Some(seg) = segs.get(i) {
        let args = seg.args.as_deref().unwrap_or(&[]);
        match seg.name.as_str() {
            "withSack" => {
                let init = c.arg(
                    args.first()
                        .ok_or_else(|| c.err(seg.span, "withSack() needs an initial value"))?,
                )?;
                let op = args.get(1).map(|a| c.operator(a)).transpose()?;
                out.sack = Some((init, op));
            }
            "withSideEffect" => {
                let (Some(k), Some(v)) = (args.first(), args.get(1)) else {
                    return Err(c.err(seg.span, "withSideEffect() needs a key and a value"));
                };
                out.side_effects.push((c.string(k)?, c.value(v)?));
            }
            "withStrategies" => {
                for a in args {
                    let name = strategy_name(a);
                    match name.as_deref() {
                        Some("ReadOnlyStrategy") => out.read_only = true,
                        Some("SeedStrategy") | Some("ProductiveByStrategy") => {}
                        _ => {
                            return Err(c.err(
                                a.span(),
                                format!(
                                    "the strategy {} is not supported",
                                    name.unwrap_or_default()
                                ),
                            ));
                        }
                    }
                }
            }
            "withoutStrategies" | "withBulk" | "withPath" | "with" => {}
            _ => break,
        }
        i += 1;
    }
    let mut end = segs.len();
    if let Some(last) = segs
        .last()
        .filter(|s| segs.len() > i + 1 || is_terminal(&s.name))
        && let Some(t) = terminal(last, &c)?
    {
        out.terminal = t;
        end -= 1;
    }
    let body = segs.get(i..end).unwrap_or(&[]);
    if body.is_empty() {
        return Err(c.err(first.span, "the traversal has no start step"));
    }
    if !matches!(
        body[0].name.as_str(),
        "V" | "E" | "addV" | "addE" | "inject" | "mergeV" | "mergeE" | "call" | "union" | "io"
    ) {
        return Err(c.err(
            body[0].span,
            format!(
                "'{}' is not a start step of a traversal source",
                body[0].name
            ),
        ));
    }
    out.traversal = c.steps(body)?;
    if out.read_only && c.mutating {
        return Err(Error::Evaluation(
            "The provided traversal has a mutating step and thus is not read only".into(),
        ));
    }
    out.mutating = c.mutating;
    out.needs_path = c.needs_path;
    Ok(out)
}

fn is_terminal(name: &str) -> bool {
    matches!(
        name,
        "toList" | "next" | "iterate" | "toSet" | "hasNext" | "tryNext" | "toBulkSet"
    )
}

fn terminal(seg: &Segment, c: &Compiler<'_>) -> Result<Option<Terminal>> {
    let args = seg.args.as_deref().unwrap_or(&[]);
    Ok(Some(match seg.name.as_str() {
        "toList" | "toBulkSet" => Terminal::ToList,
        "toSet" => Terminal::ToSet,
        "iterate" => Terminal::Iterate,
        "hasNext" => Terminal::HasNext,
        "tryNext" => Terminal::TryNext,
        "next" => Terminal::Next(match args.first() {
            Some(a) => Some(c.count(a)?),
            None => None,
        }),
        _ => return Ok(None),
    }))
}

fn strategy_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Chain(segs) => segs
            .iter()
            .find(|s| s.name.ends_with("Strategy"))
            .map(|s| s.name.clone()),
        _ => None,
    }
}

/// The step names an anonymous traversal may start with without `__.`.
const STEP_NAMES: &[&str] = &[
    "V",
    "E",
    "addV",
    "addE",
    "property",
    "drop",
    "has",
    "hasLabel",
    "hasId",
    "hasNot",
    "hasKey",
    "hasValue",
    "is",
    "out",
    "in",
    "both",
    "outE",
    "inE",
    "bothE",
    "outV",
    "inV",
    "bothV",
    "otherV",
    "values",
    "properties",
    "valueMap",
    "elementMap",
    "propertyMap",
    "id",
    "label",
    "key",
    "value",
    "as",
    "select",
    "project",
    "where",
    "filter",
    "not",
    "and",
    "or",
    "order",
    "limit",
    "range",
    "skip",
    "tail",
    "count",
    "sum",
    "min",
    "max",
    "mean",
    "group",
    "groupCount",
    "dedup",
    "path",
    "simplePath",
    "cyclicPath",
    "repeat",
    "loops",
    "union",
    "coalesce",
    "choose",
    "optional",
    "local",
    "map",
    "flatMap",
    "fold",
    "unfold",
    "constant",
    "identity",
    "sideEffect",
    "aggregate",
    "store",
    "cap",
    "math",
    "coin",
    "sample",
    "barrier",
    "mergeV",
    "mergeE",
    "sack",
    "inject",
    "index",
    "toUpper",
    "toLower",
    "length",
    "trim",
    "lTrim",
    "rTrim",
    "reverse",
    "concat",
    "split",
    "substring",
    "replace",
    "asString",
    "asDate",
    "dateDiff",
    "fail",
    "combine",
    "format",
    "merge",
    "product",
    "disjunct",
    "intersect",
    "difference",
    "any",
    "all",
    "none",
    "emit",
    "until",
    "times",
];

struct Compiler<'a> {
    src: &'a str,
    bindings: &'a HashMap<String, Value>,
    mutating: bool,
    needs_path: bool,
}

impl Compiler<'_> {
    fn err(&self, span: Span, msg: impl Into<String>) -> Error {
        Error::malformed(self.src, span, msg)
    }

    /// A child traversal: `__.a().b()`, `a().b()`, or (for `where`/`has`) a bare token.
    fn traversal(&mut self, e: &Expr) -> Result<Traversal> {
        match e {
            Expr::Chain(segs)
                if segs
                    .first()
                    .is_some_and(|s| s.name == "__" && s.args.is_none()) =>
            {
                if segs.len() == 1 {
                    return Ok(Traversal::default());
                }
                self.steps(&segs[1..])
            }
            Expr::Chain(segs)
                if segs
                    .first()
                    .is_some_and(|s| s.args.is_some() && STEP_NAMES.contains(&s.name.as_str())) =>
            {
                self.steps(segs)
            }
            Expr::Closure(span) => Err(self.err(
                *span,
                "Groovy closures (lambdas) are not supported; use an anonymous traversal",
            )),
            other => Err(self.err(
                other.span(),
                format!("expected a traversal but found '{other}'"),
            )),
        }
    }

    fn is_traversal(&self, e: &Expr) -> bool {
        match e {
            Expr::Chain(segs) => segs.first().is_some_and(|s| {
                (s.name == "__" && s.args.is_none())
                    || (s.args.is_some()
                        && STEP_NAMES.contains(&s.name.as_str())
                        && !self.is_pred(e))
            }),
            _ => false,
        }
    }

    /// A constant: literal, list, map, variable, token, or `new Date(…)`/`datetime(…)`.
    fn value(&mut self, e: &Expr) -> Result<Value> {
        match e {
            Expr::Lit(v, _) => Ok(v.clone()),
            Expr::List(items, _) => Ok(Value::list(
                items.iter().map(|i| self.value(i)).collect::<Result<_>>()?,
            )),
            Expr::Map(pairs, _) => {
                let mut m = Map::new();
                for (k, v) in pairs {
                    let key = self.value(k)?;
                    let val = self.value(v)?;
                    m.insert(key, val);
                }
                Ok(Value::map(m))
            }
            Expr::Closure(s) => Err(self.err(*s, "Groovy closures (lambdas) are not supported")),
            Expr::Chain(segs) => self.chain_value(segs, e.span()),
        }
    }

    fn chain_value(&mut self, segs: &[Segment], span: Span) -> Result<Value> {
        let names: Vec<&str> = segs.iter().map(|s| s.name.as_str()).collect();
        let no_args = segs.iter().all(|s| s.args.is_none());
        if no_args {
            match names.as_slice() {
                ["true"] => return Ok(Value::Bool(true)),
                ["false"] => return Ok(Value::Bool(false)),
                ["null"] => return Ok(Value::Null),
                [name] if self.bindings.contains_key(*name) => {
                    return Ok(self.bindings.get(*name).cloned().unwrap_or(Value::Null));
                }
                ["T", t] | [t] if token(t).is_some() => {
                    return Ok(Value::Token(token(t).unwrap_or(Token::Id)));
                }
                ["Direction", "OUT" | "from"] | ["OUT"] => return Ok(Value::Token(Token::Out)),
                ["Direction", "IN" | "to"] | ["IN"] => return Ok(Value::Token(Token::In)),
                ["Merge", "outV"] => return Ok(Value::str(super::exec::MERGE_OUT_V)),
                ["Merge", "inV"] => return Ok(Value::str(super::exec::MERGE_IN_V)),
                ["Integer", "MAX_VALUE"] => return Ok(Value::Int(i32::MAX)),
                ["Integer", "MIN_VALUE"] => return Ok(Value::Int(i32::MIN)),
                ["Long", "MAX_VALUE"] => return Ok(Value::Long(i64::MAX)),
                ["Long", "MIN_VALUE"] => return Ok(Value::Long(i64::MIN)),
                ["Double", "NaN"] => return Ok(Value::Double(f64::NAN)),
                ["Double", "POSITIVE_INFINITY"] => return Ok(Value::Double(f64::INFINITY)),
                ["Double", "NEGATIVE_INFINITY"] => return Ok(Value::Double(f64::NEG_INFINITY)),
                _ => {}
            }
            if let [name] = names.as_slice() {
                return Err(self.err(span, format!("No such property: {name}")));
            }
            return Err(self.err(span, format!("'{}' is not a value", names.join("."))));
        }
        if let [seg] = segs {
            let args = seg.args.as_deref().unwrap_or(&[]);
            if seg.name == "datetime" || seg.name == "new Date" {
                return match args {
                    [] => Ok(Value::Date(0)),
                    [a] => match self.value(a)? {
                        Value::Str(s) => parse_datetime(&s)
                            .map(Value::Date)
                            .ok_or_else(|| self.err(a.span(), format!("invalid datetime '{s}'"))),
                        v => v
                            .as_i64()
                            .map(Value::Date)
                            .ok_or_else(|| self.err(a.span(), "invalid date")),
                    },
                    _ => Err(self.err(seg.span, "datetime() takes one argument")),
                };
            }
        }
        Err(self.err(span, format!("'{}' is not a value", names.join("."))))
    }

    fn string(&mut self, e: &Expr) -> Result<Arc<str>> {
        match self.value(e)? {
            Value::Str(s) => Ok(s),
            other => Err(self.err(
                e.span(),
                format!("expected a string but found {}", other.type_name()),
            )),
        }
    }

    fn strings(&mut self, args: &[Expr]) -> Result<Vec<Arc<str>>> {
        let mut out = Vec::new();
        for a in args {
            match self.value(a)? {
                Value::Str(s) => out.push(s),
                Value::List(l) => {
                    for v in l.iter() {
                        match v {
                            Value::Str(s) => out.push(Arc::clone(s)),
                            _ => return Err(self.err(a.span(), "expected strings")),
                        }
                    }
                }
                other => {
                    return Err(self.err(
                        a.span(),
                        format!("expected a string but found {}", other.type_name()),
                    ));
                }
            }
        }
        Ok(out)
    }

    fn count(&self, e: &Expr) -> Result<u64> {
        match e {
            Expr::Lit(v, s) => match v.as_i64() {
                Some(n) if n >= 0 => Ok(n as u64),
                Some(_) => Ok(u64::MAX),
                None => Err(self.err(*s, "expected an integer")),
            },
            Expr::Chain(segs) if segs.len() == 1 && segs[0].args.is_none() => {
                match self.bindings.get(&segs[0].name).and_then(Value::as_i64) {
                    Some(n) if n >= 0 => Ok(n as u64),
                    Some(_) => Ok(u64::MAX),
                    None => Err(self.err(e.span(), "expected an integer")),
                }
            }
            _ => Err(self.err(e.span(), "expected an integer")),
        }
    }

    fn arg(&mut self, e: &Expr) -> Result<Arg> {
        if self.is_traversal(e) {
            Ok(Arg::Trav(self.traversal(e)?))
        } else {
            Ok(Arg::Const(self.value(e)?))
        }
    }

    fn enum_name<'e>(&self, e: &'e Expr) -> Option<&'e str> {
        match e {
            Expr::Chain(segs) if segs.iter().all(|s| s.args.is_none()) && segs.len() <= 2 => {
                segs.last().map(|s| s.name.as_str())
            }
            _ => None,
        }
    }

    fn scope(&self, e: &Expr) -> Option<Scope> {
        match self.enum_name(e)? {
            "local" => Some(Scope::Local),
            "global" => Some(Scope::Global),
            _ => None,
        }
    }

    fn operator(&self, e: &Expr) -> Result<Operator> {
        Ok(match self.enum_name(e) {
            Some("sum") => Operator::Sum,
            Some("minus") => Operator::Minus,
            Some("mult") => Operator::Mult,
            Some("div") => Operator::Div,
            Some("min") => Operator::Min,
            Some("max") => Operator::Max,
            Some("assign") => Operator::Assign,
            Some("and") => Operator::And,
            Some("or") => Operator::Or,
            Some("addAll") => Operator::AddAll,
            _ => return Err(self.err(e.span(), "expected an Operator")),
        })
    }

    fn is_pred(&self, e: &Expr) -> bool {
        let Expr::Chain(segs) = e else { return false };
        let first = match segs.first() {
            Some(s) if (s.name == "P" || s.name == "TextP") && s.args.is_none() => segs.get(1),
            s => s,
        };
        first.is_some_and(|s| s.args.is_some() && PRED_NAMES.contains(&s.name.as_str()))
    }

    fn pred(&mut self, e: &Expr) -> Result<Pred> {
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

    fn pred_call(&mut self, seg: &Segment) -> Result<Pred> {
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
    fn pred_or_eq(&mut self, args: &[Expr]) -> Result<Pred> {
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

    fn by(&mut self, args: &[Expr], span: Span) -> Result<(By, Option<OrderDir>)> {
        let dir_of = |c: &Self, e: &Expr| -> Option<OrderDir> {
            match c.enum_name(e)? {
                "asc" | "incr" => Some(OrderDir::Asc),
                "desc" | "decr" => Some(OrderDir::Desc),
                "shuffle" => Some(OrderDir::Shuffle),
                _ => None,
            }
        };
        match args {
            [] => Ok((By::Identity, None)),
            [a] if dir_of(self, a).is_some() => Ok((By::Identity, dir_of(self, a))),
            [a] | [a, _] => {
                let dir = match args.get(1) {
                    Some(d) => Some(dir_of(self, d).ok_or_else(|| {
                        self.err(d.span(), "expected an Order (asc, desc, shuffle)")
                    })?),
                    None => None,
                };
                let by = match self.enum_name(a) {
                    Some("keys") if !self.bindings.contains_key("keys") => By::Column(Column::Keys),
                    Some("values") if !self.bindings.contains_key("values") => {
                        By::Column(Column::Values)
                    }
                    _ if self.is_traversal(a) => By::Trav(self.traversal(a)?),
                    _ => match self.value(a)? {
                        Value::Str(s) => By::Key(s),
                        Value::Token(t) => By::Token(t),
                        _ => {
                            return Err(self.err(
                                a.span(),
                                "by() takes a key, a token, a column or a traversal",
                            ));
                        }
                    },
                };
                Ok((by, dir))
            }
            _ => Err(self.err(span, "by() takes at most two arguments")),
        }
    }

    fn steps(&mut self, segs: &[Segment]) -> Result<Traversal> {
        let mut steps: Vec<Step> = Vec::new();
        let mut pending_loop: Option<Loop> = None;
        for seg in segs {
            self.step(seg, &mut steps, &mut pending_loop)?;
        }
        if let Some(l) = pending_loop {
            // `until`/`emit` with no `repeat` after them.
            let _ = l;
            let span = segs.last().map(|s| s.span).unwrap_or_default();
            return Err(self.err(span, "The repeat()-traversal was not defined"));
        }
        super::optimize::optimize(&mut steps);
        Ok(Traversal { steps })
    }
}

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

fn token(name: &str) -> Option<Token> {
    match name {
        "id" => Some(Token::Id),
        "label" => Some(Token::Label),
        "key" => Some(Token::Key),
        "value" => Some(Token::Value),
        _ => None,
    }
}

/// Parses an ISO-8601 date or date-time into epoch milliseconds.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut parts = date.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    let mut ms = 0i64;
    if let Some(t) = time {
        let (clock, offset) = split_offset(t)?;
        let mut tp = clock.split(':');
        let hh: i64 = tp.next()?.parse().ok()?;
        let mm: i64 = tp.next().unwrap_or("0").parse().ok()?;
        let sec: f64 = tp.next().unwrap_or("0").parse().ok()?;
        ms = hh * 3_600_000 + mm * 60_000 + (sec * 1000.0).round() as i64 - offset;
    }
    Some(days * 86_400_000 + ms)
}

fn split_offset(t: &str) -> Option<(&str, i64)> {
    if let Some(c) = t.strip_suffix('Z') {
        return Some((c, 0));
    }
    if let Some(pos) = t.rfind(['+', '-']) {
        let (c, off) = t.split_at(pos);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let mut p = off[1..].split(':');
        let h: i64 = p.next()?.parse().ok()?;
        let m: i64 = p.next().unwrap_or("0").parse().ok()?;
        return Some((c, sign * (h * 3_600_000 + m * 60_000)));
    }
    Some((t, 0))
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[path = "compile_steps.rs"]
mod compile_steps;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse() {
        assert_eq!(parse_datetime("1970-01-02"), Some(86_400_000));
        assert_eq!(
            parse_datetime("2023-08-01T00:00:00Z"),
            Some(1_690_848_000_000)
        );
        assert_eq!(
            parse_datetime("2023-08-01T02:00:00+02:00"),
            Some(1_690_848_000_000)
        );
        assert_eq!(parse_datetime("nope"), None);
    }

    #[test]
    fn compile_errors_name_positions() {
        let check = |q: &str, want: &str| {
            let s = super::super::parse::parse(q).unwrap();
            let e = compile(q, &s.statements[0].1, &HashMap::new()).unwrap_err();
            assert!(e.to_string().contains(want), "{q}: {e}");
        };
        check("g.V().foo()", "unknown step 'foo' at position 6");
        check("g.V().has('a', gt())", "gt() takes one argument");
        check("x.V()", "must start with the traversal source 'g'");
        check("g.V().map{it}", "closures");
        check("g.V().limit('a')", "expected an integer");
        check("g.out()", "not a start step");
    }
}
