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
        let mut steps = connectives(steps);
        super::optimize::optimize(&mut steps);
        Ok(Traversal { steps })
    }
}

/// Rewrites the infix connectives `a.and().b` and `a.or().b` (compiled as `and()`/`or()` with no
/// children) into `and(a, b)`/`or(a, b)`, as TinkerPop's ConnectiveStrategy does: `and` binds
/// tighter than `or`; the operands are the steps after the traversal's start step (`V()`, `E()`,
/// `inject()` and the labels on it), which stays in front.
fn connectives(steps: Vec<Step>) -> Vec<Step> {
    let infix = |s: &Step| matches!(s, Step::And(v) | Step::Or(v) if v.is_empty());
    if !steps.iter().any(infix) {
        return steps;
    }
    let starts = matches!(
        steps.first(),
        Some(Step::V(_) | Step::E(_) | Step::Inject(_) | Step::VIndex { .. })
    );
    let head_len = if starts {
        1 + steps
            .iter()
            .skip(1)
            .take_while(|s| matches!(s, Step::As(_)))
            .count()
    } else {
        0
    };
    let mut steps = steps;
    let body = steps.split_off(head_len);
    // An infix marker with nothing on its left is an ordinary (empty) connective.
    if body.first().is_some_and(infix) {
        steps.extend(body);
        return steps;
    }
    let mut ors: Vec<Vec<Vec<Step>>> = vec![vec![Vec::new()]];
    for s in body {
        match s {
            Step::Or(v) if v.is_empty() => ors.push(vec![Vec::new()]),
            Step::And(v) if v.is_empty() => {
                if let Some(ands) = ors.last_mut() {
                    ands.push(Vec::new());
                }
            }
            other => {
                if let Some(last) = ors.last_mut().and_then(|a| a.last_mut()) {
                    last.push(other);
                }
            }
        }
    }
    let conj = |ands: Vec<Vec<Step>>| -> Traversal {
        if ands.len() == 1 {
            Traversal {
                steps: ands.into_iter().flatten().collect(),
            }
        } else {
            Traversal {
                steps: vec![Step::And(
                    ands.into_iter().map(|steps| Traversal { steps }).collect(),
                )],
            }
        }
    };
    let mut parts: Vec<Traversal> = ors.into_iter().map(conj).collect();
    if parts.len() == 1 {
        steps.extend(parts.pop().map(|t| t.steps).unwrap_or_default());
    } else {
        steps.push(Step::Or(parts));
    }
    steps
}

fn token(name: &str) -> Option<Token> {
    match name {
        "id" => Some(Token::Id),
        "label" => Some(Token::Label),
        "key" => Some(Token::Key),
        "value" => Some(Token::Value),
        _ => None,
    }
}

#[path = "compile_steps.rs"]
mod compile_steps;

#[path = "compile_match.rs"]
mod compile_match;

#[path = "compile_preds.rs"]
mod compile_preds;

#[path = "compile_modulators.rs"]
mod compile_modulators;

pub use super::datetime::parse_datetime;

#[cfg(test)]
mod tests {
    use super::*;

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
