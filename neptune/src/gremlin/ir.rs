//! The typed traversal: what [`super::compile`] makes from the syntax tree and
//! [`super::exec`] runs.
//!
//! Every step is a variant with typed arguments; modulators (`by`, `times`, `until`, `emit`,
//! `from`, `to`, `option`, `with`) are folded into the step they modulate, so the executor never
//! sees a dangling modulator.

use std::sync::Arc;

use crate::store::{Cardinality, Direction};
use crate::value::{Token, Value};

/// A compiled traversal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Traversal {
    /// Steps in order.
    pub steps: Vec<Step>,
}

/// A step argument that is a constant or a child traversal evaluated per traverser.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A constant.
    Const(Value),
    /// The first result of a child traversal.
    Trav(Traversal),
}

/// A `by()` modulator.
#[derive(Debug, Clone, PartialEq)]
pub enum By {
    /// `by()`: the object itself.
    Identity,
    /// `by('key')`: a property value.
    Key(Arc<str>),
    /// `by(T.id)` and friends.
    Token(Token),
    /// `by(Column.keys)`/`by(keys)`.
    Column(Column),
    /// `by(__.x())`: the first result.
    Trav(Traversal),
}

/// `Scope.local` or `Scope.global`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Across traversers.
    Global,
    /// Within each traverser's collection.
    Local,
}

/// `Pop` for `select`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pop {
    /// The oldest.
    First,
    /// The newest.
    Last,
    /// All, as a list.
    All,
    /// One if single, else a list.
    Mixed,
}

/// `Column.keys`/`Column.values`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// Map keys.
    Keys,
    /// Map values.
    Values,
}

/// A sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderDir {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
    /// Random.
    Shuffle,
}

/// A reducing operator (`Operator.sum`, used by `sack` and `fold(seed, op)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// Addition.
    Sum,
    /// Subtraction.
    Minus,
    /// Multiplication.
    Mult,
    /// Division.
    Div,
    /// Minimum.
    Min,
    /// Maximum.
    Max,
    /// Replace with the new value.
    Assign,
    /// Boolean and.
    And,
    /// Boolean or.
    Or,
    /// List append.
    AddAll,
}

/// A predicate (`P` and `TextP`).
#[derive(Debug, Clone, PartialEq)]
pub enum Pred {
    /// Equal.
    Eq(Value),
    /// Not equal.
    Neq(Value),
    /// Less than.
    Lt(Value),
    /// At most.
    Lte(Value),
    /// Greater than.
    Gt(Value),
    /// At least.
    Gte(Value),
    /// Strictly between.
    Inside(Value, Value),
    /// Outside the closed range.
    Outside(Value, Value),
    /// In `[a, b)`.
    Between(Value, Value),
    /// One of.
    Within(Vec<Value>),
    /// None of.
    Without(Vec<Value>),
    /// String prefix (negated when the flag is set).
    StartingWith(Arc<str>, bool),
    /// String suffix.
    EndingWith(Arc<str>, bool),
    /// Substring.
    Containing(Arc<str>, bool),
    /// A regular expression search (negated when the flag is set).
    Regex(Arc<Rx>, bool),
    /// Both.
    And(Box<Pred>, Box<Pred>),
    /// Either.
    Or(Box<Pred>, Box<Pred>),
    /// Negation.
    Not(Box<Pred>),
}

/// A compiled regular expression, compared by its pattern.
#[derive(Debug, Clone)]
pub struct Rx {
    /// The pattern text.
    pub pattern: Arc<str>,
    /// The compiled form.
    pub regex: regex_lite::Regex,
}

impl PartialEq for Rx {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern
    }
}

/// What `has(key, …)` tests.
#[derive(Debug, Clone, PartialEq)]
pub enum HasKey {
    /// A property key.
    Prop(Arc<str>),
    /// `T.id`, `T.label`, `T.key`, `T.value`.
    Token(Token),
}

/// What `has` compares against.
#[derive(Debug, Clone, PartialEq)]
pub enum HasTest {
    /// Only existence.
    Exists,
    /// A predicate on the value.
    Pred(Pred),
    /// A traversal over the value that must produce something.
    Trav(Traversal),
}

/// A `where()` form.
#[derive(Debug, Clone, PartialEq)]
pub enum Where {
    /// `where(traversal)`.
    Trav(Traversal),
    /// `where(P)` comparing the current object (or `start` label) with labelled objects.
    Pred {
        /// `where('a', P)` form.
        start: Option<Arc<str>>,
        /// The predicate, whose values are label names.
        pred: Pred,
        /// `by` modulators (first for the start, second for the compared side).
        by: Vec<By>,
    },
}

/// How a `repeat()` loop ends and emits.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Loop {
    /// The body.
    pub body: Traversal,
    /// `times(n)`.
    pub times: Option<u32>,
    /// `until(…)`, and whether it came before `repeat`.
    pub until: Option<(Traversal, bool)>,
    /// `emit(…)` (identity traversal for bare `emit()`), and whether it came before `repeat`.
    pub emit: Option<(Traversal, bool)>,
    /// `repeat('name', …)`.
    pub name: Option<Arc<str>>,
}

/// A `choose` form.
#[derive(Debug, Clone, PartialEq)]
pub enum Choose {
    /// `choose(cond, then, else)`.
    IfThen(Traversal, Traversal, Traversal),
    /// `choose(pred, then, else)` on the object.
    IfPred(Pred, Traversal, Traversal),
    /// `choose(selector).option(k, t)…`.
    Options(Traversal, Vec<(OptionKey, Traversal)>),
}

/// A `choose` option key.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionKey {
    /// A value to match.
    Value(Value),
    /// A predicate.
    Pred(Pred),
    /// `Pick.none`.
    None,
    /// `Pick.any`.
    Any,
}

/// `mergeV`/`mergeE` options.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Merge {
    /// The match map (or traversal, or `None` to use the incoming map).
    pub search: Option<Arg>,
    /// `option(onCreate, …)`.
    pub on_create: Option<Arg>,
    /// `option(onMatch, …)`.
    pub on_match: Option<Arg>,
    /// `option(outV, …)` (mergeE).
    pub out_v: Option<Arg>,
    /// `option(inV, …)` (mergeE).
    pub in_v: Option<Arg>,
    /// Cardinalities for the `onCreate` map's properties.
    pub on_create_card: Cards,
    /// Cardinalities for the `onMatch` map's properties.
    pub on_match_card: Cards,
}

/// Vertex-property cardinalities for a merge option's map: `option(onMatch, [age:
/// Cardinality.list(33)], Cardinality.single)` gives `age` list cardinality and every other
/// key single.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cards {
    /// The option's third argument, for keys without their own.
    pub default: Option<Cardinality>,
    /// Keys whose value was wrapped in `Cardinality.x(value)`.
    pub keys: Vec<(Arc<str>, Cardinality)>,
}

impl Cards {
    /// The cardinality of `key`, else `fallback`.
    pub fn of(&self, key: &str, fallback: Cardinality) -> Cardinality {
        self.keys
            .iter()
            .find(|(k, _)| &**k == key)
            .map(|(_, c)| *c)
            .or(self.default)
            .unwrap_or(fallback)
    }
}

/// One step.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `V(ids…)`: all vertices or those with the ids (start or mid-traversal).
    V(Vec<Arg>),
    /// `E(ids…)`.
    E(Vec<Arg>),
    /// Index lookup planned from `V().has(…)`: candidates for `key = value`.
    VIndex {
        label: Option<Arc<str>>,
        key: Option<(Arc<str>, Value)>,
    },
    /// `inject(…)`.
    Inject(Vec<Value>),
    /// `addV(label)`, with `property(T.id, …)` folded in.
    AddV { label: Arg, id: Option<Arg> },
    /// `addE(label).from(…).to(…)`, with `property(T.id, …)` folded in.
    AddE {
        label: Arg,
        from: Option<Arg>,
        to: Option<Arg>,
        id: Option<Arg>,
    },
    /// `property([card,] key, value, meta…)`.
    Property {
        card: Option<Cardinality>,
        key: Arg,
        value: Arg,
        meta: Vec<(Value, Arg)>,
    },
    /// `drop()`.
    Drop,
    /// `has(key, test)`.
    Has(HasKey, HasTest),
    /// `has(label, key, test)`.
    HasLabelKey(Pred, Arc<str>, HasTest),
    /// `hasLabel(…)`.
    HasLabel(Pred),
    /// `hasId(…)`.
    HasId(Pred),
    /// `hasNot(key)`.
    HasNot(Arc<str>),
    /// `hasKey(…)` on properties.
    HasKey(Pred),
    /// `hasValue(…)` on properties.
    HasValue(Pred),
    /// `is(P)`.
    Is(Pred),
    /// `out/in/both` (edges false) or `outE/inE/bothE` (edges true).
    Adjacent {
        dir: Direction,
        labels: Vec<Arc<str>>,
        edges: bool,
    },
    /// `outV/inV/bothV`.
    EdgeVertex(Direction),
    /// `otherV()`.
    OtherV,
    /// `values(keys…)`.
    Values(Vec<Arc<str>>),
    /// `properties(keys…)`.
    Properties(Vec<Arc<str>>),
    /// `valueMap([true,] keys…)` and `with(WithOptions.tokens[, WithOptions.ids|labels])`.
    ValueMap {
        keys: Vec<Arc<str>>,
        tokens: Tokens,
        by: Vec<By>,
    },
    /// `elementMap(keys…)`.
    ElementMap(Vec<Arc<str>>),
    /// `propertyMap(keys…)`.
    PropertyMap(Vec<Arc<str>>),
    /// `id()`.
    Id,
    /// `label()`.
    Label,
    /// `key()`.
    Key,
    /// `value()`.
    Value,
    /// `as(labels…)`.
    As(Vec<Arc<str>>),
    /// `select(keys…)` with `Pop` and `by`.
    Select {
        pop: Pop,
        keys: Vec<Arc<str>>,
        by: Vec<By>,
    },
    /// `select(traversal)`.
    SelectTrav(Pop, Traversal),
    /// `select(Column.keys)`.
    SelectColumn(Column),
    /// `project(keys…).by(…)`.
    Project { keys: Vec<Arc<str>>, by: Vec<By> },
    /// `where(…)`.
    Where(Where),
    /// `filter(t)`.
    Filter(Traversal),
    /// `not(t)`.
    Not(Traversal),
    /// `and(t…)`.
    And(Vec<Traversal>),
    /// `or(t…)`.
    Or(Vec<Traversal>),
    /// `order([local]).by(…)`.
    Order {
        scope: Scope,
        by: Vec<(By, OrderDir)>,
    },
    /// `range`, `limit`, `skip` (`hi` of `None` is unbounded).
    Range {
        scope: Scope,
        lo: u64,
        hi: Option<u64>,
    },
    /// `tail([scope,] n)`.
    Tail { scope: Scope, n: u64 },
    /// `count`.
    Count(Scope),
    /// `sum`.
    Sum(Scope),
    /// `min`.
    Min(Scope),
    /// `max`.
    Max(Scope),
    /// `mean`.
    Mean(Scope),
    /// `group([side]).by(key).by(value)`.
    Group { side: Option<Arc<str>>, by: Vec<By> },
    /// `groupCount([side]).by(key)`.
    GroupCount {
        side: Option<Arc<str>>,
        by: Option<By>,
    },
    /// `dedup([scope,] labels…).by(…)`.
    Dedup {
        scope: Scope,
        labels: Vec<Arc<str>>,
        by: Option<By>,
    },
    /// `path().by(…)`, optionally `from(a).to(b)`: the part of the path from the first object
    /// labelled `a` through the last labelled `b`.
    Path {
        /// `by` modulators, applied in turn.
        by: Vec<By>,
        /// `from(label)`.
        from: Option<Arc<str>>,
        /// `to(label)`.
        to: Option<Arc<str>>,
    },
    /// `simplePath()` (`simple`) or `cyclicPath()`, optionally `from(a).to(b)` and `by(…)`.
    PathFilter {
        simple: bool,
        from: Option<Arc<str>>,
        to: Option<Arc<str>>,
        by: Option<By>,
    },
    /// `repeat(…)`.
    Repeat(Box<Loop>),
    /// `loops([name])`.
    Loops(Option<Arc<str>>),
    /// `union(t…)`.
    Union(Vec<Traversal>),
    /// `coalesce(t…)`.
    Coalesce(Vec<Traversal>),
    /// `choose(…)`.
    Choose(Box<Choose>),
    /// `optional(t)`.
    Optional(Traversal),
    /// `local(t)`.
    Local(Traversal),
    /// `map(t)`.
    Map(Traversal),
    /// `flatMap(t)`.
    FlatMap(Traversal),
    /// `fold()`.
    Fold,
    /// `fold(seed, op)`.
    FoldWith(Value, Operator),
    /// `unfold()`.
    Unfold,
    /// `constant(v)`.
    Constant(Value),
    /// `identity()`.
    Identity,
    /// `sideEffect(t)`.
    SideEffect(Traversal),
    /// `aggregate([scope,] key)` (`store` is local aggregate).
    Aggregate {
        scope: Scope,
        key: Arc<str>,
        by: Option<By>,
    },
    /// `cap(keys…)`.
    Cap(Vec<Arc<str>>),
    /// `math(expr).by(…)`.
    Math {
        expr: Arc<super::math::MathExpr>,
        by: Vec<By>,
    },
    /// `coin(p)`.
    Coin(f64),
    /// `sample([scope,] n)`.
    Sample {
        scope: Scope,
        n: u64,
        by: Option<By>,
    },
    /// `barrier()`.
    Barrier,
    /// `mergeV(…)`.
    MergeV(Box<Merge>),
    /// `mergeE(…)`.
    MergeE(Box<Merge>),
    /// `sack()` read.
    SackGet,
    /// `sack(op).by(…)`.
    SackSet(Operator, Option<By>),
    /// `index()`.
    Index,
    /// String and collection functions (`toUpper`, `length`, `concat`, …).
    Func(Func, Vec<Arg>, Scope),
    /// `format(template)` with its `by()` modulators (one per `%{_}`).
    Format(Arc<str>, Vec<By>),
    /// List functions of an incoming list and an argument list (`combine`, `merge`, …).
    ListFn(ListOp, Arg),
    /// `any(P)`, `all(P)`, `none(P)` over an incoming list; `none()` without a predicate
    /// filters every traverser out.
    ListTest(Quant, Option<Pred>),
    /// `fail([message])`.
    Fail(Option<String>),
    /// `match(patterns…)`: every binding of the patterns' labels, as a map.
    Match(Vec<Pattern>),
}

/// Which tokens `valueMap` includes (`valueMap(true)`, `with(WithOptions.tokens, …)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tokens {
    /// Properties only.
    #[default]
    None,
    /// `T.id` (`WithOptions.ids`).
    Ids,
    /// `T.label` (`WithOptions.labels`).
    Labels,
    /// Both (`WithOptions.tokens`, `valueMap(true)`).
    All,
}

/// One pattern of `match()`.
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    /// `as(start)…[as(end)]`: the body runs from the object bound to `start`; what it reaches
    /// binds `end`, or must equal it when already bound. Without an end label the pattern is a
    /// filter (something must be reached).
    Trav {
        /// The start label.
        start: Arc<str>,
        /// The steps between the labels.
        body: Traversal,
        /// The end label.
        end: Option<Arc<str>>,
    },
    /// `where(start, P)` or `where(P)` over bound labels: a filter.
    Where(Where),
    /// `where(pattern)`: a filter, passing when the pattern matches (binding nothing).
    Exists(Box<Pattern>),
    /// `not(pattern)`: a filter, passing when the pattern does not match.
    Not(Box<Pattern>),
    /// `and(patterns…)`: all of them.
    And(Vec<Pattern>),
    /// `or(patterns…)`: a filter, passing when any of them matches.
    Or(Vec<Pattern>),
}

impl Pattern {
    /// The labels the pattern mentions (start and end labels, and labels a `where` compares),
    /// each once, in order of first mention.
    pub fn labels(&self, out: &mut Vec<Arc<str>>) {
        let mut add = |l: &Arc<str>| {
            if !out.contains(l) {
                out.push(Arc::clone(l));
            }
        };
        match self {
            Pattern::Trav { start, end, .. } => {
                add(start);
                if let Some(e) = end {
                    add(e);
                }
            }
            Pattern::Where(Where::Pred { start, pred, .. }) => {
                if let Some(s) = start {
                    add(s);
                }
                pred.labels(&mut add);
            }
            Pattern::Where(Where::Trav(_)) => {}
            Pattern::Exists(p) | Pattern::Not(p) => p.labels(out),
            Pattern::And(ps) | Pattern::Or(ps) => ps.iter().for_each(|p| p.labels(out)),
        }
    }

    /// The labels the pattern binds when it matches (only `as(start)…as(end)` patterns and
    /// conjunctions of them bind).
    pub fn binds(&self, out: &mut Vec<Arc<str>>) {
        match self {
            Pattern::Trav { end: Some(e), .. } if !out.contains(e) => out.push(Arc::clone(e)),
            Pattern::And(ps) => ps.iter().for_each(|p| p.binds(out)),
            _ => {}
        }
    }
}

impl Pred {
    /// The string values of the predicate (which `where(P)` reads as labels).
    pub fn labels(&self, f: &mut dyn FnMut(&Arc<str>)) {
        let mut one = |v: &Value| {
            if let Value::Str(s) = v {
                f(s)
            }
        };
        match self {
            Pred::Eq(v)
            | Pred::Neq(v)
            | Pred::Lt(v)
            | Pred::Lte(v)
            | Pred::Gt(v)
            | Pred::Gte(v) => one(v),
            Pred::Inside(a, b) | Pred::Outside(a, b) | Pred::Between(a, b) => {
                one(a);
                one(b);
            }
            Pred::Within(vs) | Pred::Without(vs) => vs.iter().for_each(one),
            Pred::And(a, b) | Pred::Or(a, b) => {
                a.labels(f);
                b.labels(f);
            }
            Pred::Not(a) => a.labels(f),
            Pred::StartingWith(..)
            | Pred::EndingWith(..)
            | Pred::Containing(..)
            | Pred::Regex(..) => {}
        }
    }
}

/// The list functions of TinkerPop 3.7 (`combine`, `merge`, `product`, `disjunct`,
/// `intersect`, `difference`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOp {
    /// `combine(list)`: the incoming list followed by the argument's elements.
    Combine,
    /// `merge(list)`: the union as a set (or two maps merged, the argument's entries winning).
    Merge,
    /// `product(list)`: every pair `[a, b]`, `a` incoming, `b` from the argument.
    Product,
    /// `disjunct(list)`: the elements in exactly one of the two, as a set.
    Disjunct,
    /// `intersect(list)`: the elements in both, as a set.
    Intersect,
    /// `difference(list)`: the incoming elements not in the argument, as a set.
    Difference,
}

impl ListOp {
    /// The step's name, as errors give it.
    pub fn name(self) -> &'static str {
        match self {
            ListOp::Combine => "combine",
            ListOp::Merge => "merge",
            ListOp::Product => "product",
            ListOp::Disjunct => "disjunct",
            ListOp::Intersect => "intersect",
            ListOp::Difference => "difference",
        }
    }
}

/// How many elements of a list must pass a list test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quant {
    /// `any(P)`: at least one.
    Any,
    /// `all(P)`: every one (an empty list passes).
    All,
    /// `none(P)`: not one (an empty list passes).
    None,
}

/// Value functions applied to strings, lists and dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// `toUpper()`.
    ToUpper,
    /// `toLower()`.
    ToLower,
    /// `length()`.
    Length,
    /// `trim()`.
    Trim,
    /// `lTrim()`.
    LTrim,
    /// `rTrim()`.
    RTrim,
    /// `reverse()`.
    Reverse,
    /// `concat(…)`.
    Concat,
    /// `split(sep)`.
    Split,
    /// `substring(start[, end])`.
    Substring,
    /// `replace(old, new)`.
    Replace,
    /// `asString()`.
    AsString,
    /// `asDate()`: a string in ISO-8601 or epoch milliseconds as a date.
    AsDate,
    /// `dateDiff(date)`: seconds from the argument to the incoming date.
    DateDiff,
}
