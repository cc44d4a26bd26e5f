//! The S3 Select SQL syntax tree, and its printer (printing then re-parsing gives the same
//! tree, which the property tests check).

use std::fmt;

/// A whole `SELECT … FROM … [WHERE …] [LIMIT …]` statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The projection.
    pub select: Projection,
    /// `FROM S3Object[*].path alias`.
    pub from: From,
    /// The filter.
    pub where_clause: Option<Expr>,
    /// `LIMIT n`.
    pub limit: Option<u64>,
}

/// The SELECT list.
#[derive(Debug, Clone, PartialEq)]
pub enum Projection {
    /// `SELECT *` (or `SELECT alias.*`).
    Star,
    /// `SELECT e1 [AS a1], …`.
    Items(Vec<SelectItem>),
}

/// One item of the SELECT list.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectItem {
    /// The expression.
    pub expr: Expr,
    /// `AS alias`.
    pub alias: Option<String>,
}

/// The FROM clause.
#[derive(Debug, Clone, PartialEq)]
pub struct From {
    /// Steps after `S3Object` (a leading `[*]` is dropped: it means the same as none).
    pub path: Vec<PathStep>,
    /// The table alias.
    pub alias: Option<String>,
}

/// A step of a path.
#[derive(Debug, Clone, PartialEq)]
pub enum PathStep {
    /// `.name` or `."Name"`.
    Field {
        /// The name.
        name: String,
        /// Whether it was double-quoted (case-sensitive).
        quoted: bool,
    },
    /// `[n]`.
    Index(i64),
    /// `['name']`.
    Key(String),
    /// `[*]`.
    Wildcard,
}

/// A literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `NULL`.
    Null,
    /// `MISSING`.
    Missing,
    /// `TRUE`/`FALSE`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A number literal with a point or an exponent (`1.5`, `2e-3`), or an integer too large
    /// for INT: PartiQL reads these as exact DECIMALs (a FLOAT comes only from `CAST`).
    Decimal(super::decimal::Decimal),
    /// A string.
    Str(String),
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `OR`
    Or,
    /// `AND`
    And,
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `||`
    Concat,
}

impl BinOp {
    fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "OR",
            BinOp::And => "AND",
            BinOp::Eq => "=",
            BinOp::Ne => "<>",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Concat => "||",
        }
    }
}

/// The CAST target types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CastType {
    /// `BOOL`, `BOOLEAN`
    Bool,
    /// `INT`, `INTEGER`
    Int,
    /// `STRING`
    String,
    /// `FLOAT`
    Float,
    /// `DECIMAL`, `NUMERIC`
    Decimal,
    /// `TIMESTAMP`
    Timestamp,
}

impl CastType {
    /// Parses a type name.
    pub fn from_name(s: &str) -> Option<CastType> {
        Some(match s.to_ascii_uppercase().as_str() {
            "BOOL" | "BOOLEAN" => CastType::Bool,
            "INT" | "INTEGER" => CastType::Int,
            "STRING" | "VARCHAR" | "CHAR" => CastType::String,
            "FLOAT" | "DOUBLE" | "REAL" => CastType::Float,
            "DECIMAL" | "NUMERIC" => CastType::Decimal,
            "TIMESTAMP" => CastType::Timestamp,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            CastType::Bool => "BOOL",
            CastType::Int => "INT",
            CastType::String => "STRING",
            CastType::Float => "FLOAT",
            CastType::Decimal => "DECIMAL",
            CastType::Timestamp => "TIMESTAMP",
        }
    }
}

/// Aggregate functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggFunc {
    /// `COUNT`
    Count,
    /// `SUM`
    Sum,
    /// `AVG`
    Avg,
    /// `MIN`
    Min,
    /// `MAX`
    Max,
}

impl AggFunc {
    /// Parses an aggregate name.
    pub fn from_name(s: &str) -> Option<AggFunc> {
        Some(match s.to_ascii_uppercase().as_str() {
            "COUNT" => AggFunc::Count,
            "SUM" => AggFunc::Sum,
            "AVG" => AggFunc::Avg,
            "MIN" => AggFunc::Min,
            "MAX" => AggFunc::Max,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            AggFunc::Count => "COUNT",
            AggFunc::Sum => "SUM",
            AggFunc::Avg => "AVG",
            AggFunc::Min => "MIN",
            AggFunc::Max => "MAX",
        }
    }
}

/// Date parts for EXTRACT, DATE_ADD and DATE_DIFF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatePart {
    /// `YEAR`
    Year,
    /// `MONTH`
    Month,
    /// `DAY`
    Day,
    /// `HOUR`
    Hour,
    /// `MINUTE`
    Minute,
    /// `SECOND`
    Second,
    /// `TIMEZONE_HOUR` (EXTRACT only)
    TimezoneHour,
    /// `TIMEZONE_MINUTE` (EXTRACT only)
    TimezoneMinute,
}

impl DatePart {
    /// Parses a date part name.
    pub fn from_name(s: &str) -> Option<DatePart> {
        Some(match s.to_ascii_uppercase().as_str() {
            "YEAR" => DatePart::Year,
            "MONTH" => DatePart::Month,
            "DAY" => DatePart::Day,
            "HOUR" => DatePart::Hour,
            "MINUTE" => DatePart::Minute,
            "SECOND" => DatePart::Second,
            "TIMEZONE_HOUR" => DatePart::TimezoneHour,
            "TIMEZONE_MINUTE" => DatePart::TimezoneMinute,
            _ => return None,
        })
    }

    /// The keyword.
    pub fn name(self) -> &'static str {
        match self {
            DatePart::Year => "YEAR",
            DatePart::Month => "MONTH",
            DatePart::Day => "DAY",
            DatePart::Hour => "HOUR",
            DatePart::Minute => "MINUTE",
            DatePart::Second => "SECOND",
            DatePart::TimezoneHour => "TIMEZONE_HOUR",
            DatePart::TimezoneMinute => "TIMEZONE_MINUTE",
        }
    }
}

/// `TRIM([LEADING|TRAILING|BOTH] [chars] FROM s)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrimSpec {
    /// `LEADING`
    Leading,
    /// `TRAILING`
    Trailing,
    /// `BOTH` (the default)
    Both,
}

/// Scalar functions called with ordinary argument lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// `CHAR_LENGTH`/`CHARACTER_LENGTH`
    CharLength,
    /// `LOWER`
    Lower,
    /// `UPPER`
    Upper,
    /// `COALESCE`
    Coalesce,
    /// `NULLIF`
    NullIf,
    /// `TO_STRING(ts, pattern)`
    ToString,
    /// `TO_TIMESTAMP(s)`
    ToTimestamp,
    /// `UTCNOW()`
    UtcNow,
}

impl Func {
    /// Parses a function name.
    pub fn from_name(s: &str) -> Option<Func> {
        Some(match s.to_ascii_uppercase().as_str() {
            "CHAR_LENGTH" | "CHARACTER_LENGTH" => Func::CharLength,
            "LOWER" => Func::Lower,
            "UPPER" => Func::Upper,
            "COALESCE" => Func::Coalesce,
            "NULLIF" => Func::NullIf,
            "TO_STRING" => Func::ToString,
            "TO_TIMESTAMP" => Func::ToTimestamp,
            "UTCNOW" => Func::UtcNow,
            _ => return None,
        })
    }

    /// The name.
    pub fn name(self) -> &'static str {
        match self {
            Func::CharLength => "CHAR_LENGTH",
            Func::Lower => "LOWER",
            Func::Upper => "UPPER",
            Func::Coalesce => "COALESCE",
            Func::NullIf => "NULLIF",
            Func::ToString => "TO_STRING",
            Func::ToTimestamp => "TO_TIMESTAMP",
            Func::UtcNow => "UTCNOW",
        }
    }

    /// The allowed argument counts (min, max).
    pub fn arity(self) -> (usize, usize) {
        match self {
            Func::CharLength | Func::Lower | Func::Upper | Func::ToTimestamp => (1, 1),
            Func::Coalesce => (1, usize::MAX),
            Func::NullIf | Func::ToString => (2, 2),
            Func::UtcNow => (0, 0),
        }
    }
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A literal.
    Lit(Literal),
    /// A path: a first name (an alias, a column name or `_N`), then steps.
    Path {
        /// The first name.
        root: String,
        /// Whether the first name was double-quoted.
        quoted: bool,
        /// The steps after it.
        steps: Vec<PathStep>,
    },
    /// `-e`
    Neg(Box<Expr>),
    /// `NOT e`
    Not(Box<Expr>),
    /// `a op b`
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `e [NOT] LIKE p [ESCAPE c]`
    Like {
        /// The subject.
        expr: Box<Expr>,
        /// The pattern.
        pattern: Box<Expr>,
        /// The escape character.
        escape: Option<Box<Expr>>,
        /// `NOT LIKE`.
        negated: bool,
    },
    /// `e [NOT] BETWEEN a AND b`
    Between {
        /// The subject.
        expr: Box<Expr>,
        /// Lower bound.
        low: Box<Expr>,
        /// Upper bound.
        high: Box<Expr>,
        /// `NOT BETWEEN`.
        negated: bool,
    },
    /// `e [NOT] IN (a, b, …)`
    In {
        /// The subject.
        expr: Box<Expr>,
        /// The list.
        list: Vec<Expr>,
        /// `NOT IN`.
        negated: bool,
    },
    /// `e IS [NOT] NULL`
    IsNull(Box<Expr>, bool),
    /// `e IS [NOT] MISSING`
    IsMissing(Box<Expr>, bool),
    /// `CASE [operand] WHEN … THEN … [ELSE …] END`
    Case {
        /// The simple-CASE operand.
        operand: Option<Box<Expr>>,
        /// `WHEN a THEN b` pairs.
        whens: Vec<(Expr, Expr)>,
        /// `ELSE`.
        otherwise: Option<Box<Expr>>,
    },
    /// `CAST(e AS type)`
    Cast(Box<Expr>, CastType),
    /// A scalar function call.
    Call(Func, Vec<Expr>),
    /// `SUBSTRING(s FROM a [FOR b])` or `SUBSTRING(s, a [, b])`
    Substring(Box<Expr>, Box<Expr>, Option<Box<Expr>>),
    /// `TRIM([spec] [chars] FROM s)`
    Trim(TrimSpec, Option<Box<Expr>>, Box<Expr>),
    /// `EXTRACT(part FROM ts)`
    Extract(DatePart, Box<Expr>),
    /// `DATE_ADD(part, n, ts)`
    DateAdd(DatePart, Box<Expr>, Box<Expr>),
    /// `DATE_DIFF(part, a, b)`
    DateDiff(DatePart, Box<Expr>, Box<Expr>),
    /// An aggregate; `None` is `COUNT(*)`.
    Agg(AggFunc, Option<Box<Expr>>),
}

impl Expr {
    /// Whether the expression contains an aggregate.
    pub fn has_aggregate(&self) -> bool {
        let mut found = false;
        self.walk(&mut |e| found |= matches!(e, Expr::Agg(..)));
        found
    }

    /// Visits every sub-expression, depth first.
    pub fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        match self {
            Expr::Lit(_) | Expr::Path { .. } => {}
            Expr::Neg(e)
            | Expr::Not(e)
            | Expr::IsNull(e, _)
            | Expr::IsMissing(e, _)
            | Expr::Cast(e, _)
            | Expr::Extract(_, e) => e.walk(f),
            Expr::Binary(_, a, b) | Expr::DateAdd(_, a, b) | Expr::DateDiff(_, a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Expr::Like {
                expr,
                pattern,
                escape,
                ..
            } => {
                expr.walk(f);
                pattern.walk(f);
                if let Some(e) = escape {
                    e.walk(f);
                }
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                expr.walk(f);
                low.walk(f);
                high.walk(f);
            }
            Expr::In { expr, list, .. } => {
                expr.walk(f);
                list.iter().for_each(|e| e.walk(f));
            }
            Expr::Case {
                operand,
                whens,
                otherwise,
            } => {
                if let Some(o) = operand {
                    o.walk(f);
                }
                for (a, b) in whens {
                    a.walk(f);
                    b.walk(f);
                }
                if let Some(o) = otherwise {
                    o.walk(f);
                }
            }
            Expr::Call(_, args) => args.iter().for_each(|e| e.walk(f)),
            Expr::Substring(a, b, c) => {
                a.walk(f);
                b.walk(f);
                if let Some(c) = c {
                    c.walk(f);
                }
            }
            Expr::Trim(_, c, s) => {
                if let Some(c) = c {
                    c.walk(f);
                }
                s.walk(f);
            }
            Expr::Agg(_, a) => {
                if let Some(a) = a {
                    a.walk(f);
                }
            }
        }
    }
}

fn ident(f: &mut fmt::Formatter<'_>, name: &str, quoted: bool) -> fmt::Result {
    if quoted {
        write!(f, "\"{}\"", name.replace('"', "\"\""))
    } else {
        f.write_str(name)
    }
}

fn steps(f: &mut fmt::Formatter<'_>, steps: &[PathStep]) -> fmt::Result {
    for s in steps {
        match s {
            PathStep::Field { name, quoted } => {
                f.write_str(".")?;
                ident(f, name, *quoted)?;
            }
            PathStep::Index(i) => write!(f, "[{i}]")?,
            PathStep::Key(k) => write!(f, "['{}']", k.replace('\'', "''"))?,
            PathStep::Wildcard => f.write_str("[*]")?,
        }
    }
    Ok(())
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => f.write_str("NULL"),
            Literal::Missing => f.write_str("MISSING"),
            Literal::Bool(b) => f.write_str(if *b { "TRUE" } else { "FALSE" }),
            Literal::Int(i) => write!(f, "{i}"),
            // Printed so that it lexes back as the same decimal, scale included.
            Literal::Decimal(d) => {
                let t = d.to_string();
                if t.contains(['.', 'E']) {
                    f.write_str(&t)
                } else {
                    write!(f, "{}E{}", d.coefficient(), -i64::from(d.scale()))
                }
            }
            Literal::Str(s) => write!(f, "'{}'", s.replace('\'', "''")),
        }
    }
}

/// The precedence level of a left-associative operator the parser reads in a loop, or `None`
/// for a comparison (which does not chain).
fn chain_level(op: BinOp) -> Option<u8> {
    match op {
        BinOp::Or => Some(1),
        BinOp::And => Some(2),
        BinOp::Concat => Some(3),
        BinOp::Add | BinOp::Sub => Some(4),
        BinOp::Mul | BinOp::Div | BinOp::Mod => Some(5),
        _ => None,
    }
}

/// Prints `a op b` without parentheses around a left operand of the same level: the parser
/// reads `a + b - c` flat, so printing `((a + b) - c)` would nest one level per operator and a
/// long chain that parsed would print past the parser's nesting limit.
fn binary_chain(f: &mut fmt::Formatter<'_>, op: BinOp, a: &Expr, b: &Expr) -> fmt::Result {
    match a {
        Expr::Binary(inner, x, y)
            if chain_level(op).is_some() && chain_level(*inner) == chain_level(op) =>
        {
            binary_chain(f, *inner, x, y)?
        }
        _ => write!(f, "{a}")?,
    }
    write!(f, " {} {b}", op.symbol())
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Lit(l) => write!(f, "{l}"),
            Expr::Path {
                root,
                quoted,
                steps: st,
            } => {
                ident(f, root, *quoted)?;
                steps(f, st)
            }
            Expr::Neg(e) => write!(f, "(-{e})"),
            Expr::Not(e) => write!(f, "(NOT {e})"),
            Expr::Binary(op, a, b) => {
                f.write_str("(")?;
                binary_chain(f, *op, a, b)?;
                f.write_str(")")
            }
            Expr::Like {
                expr,
                pattern,
                escape,
                negated,
            } => {
                write!(
                    f,
                    "({expr} {}LIKE {pattern}",
                    if *negated { "NOT " } else { "" }
                )?;
                if let Some(e) = escape {
                    write!(f, " ESCAPE {e}")?;
                }
                f.write_str(")")
            }
            Expr::Between {
                expr,
                low,
                high,
                negated,
            } => write!(
                f,
                "({expr} {}BETWEEN {low} AND {high})",
                if *negated { "NOT " } else { "" }
            ),
            Expr::In {
                expr,
                list,
                negated,
            } => {
                write!(f, "({expr} {}IN (", if *negated { "NOT " } else { "" })?;
                for (i, e) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{e}")?;
                }
                f.write_str("))")
            }
            Expr::IsNull(e, neg) => write!(f, "({e} IS {}NULL)", if *neg { "NOT " } else { "" }),
            Expr::IsMissing(e, neg) => {
                write!(f, "({e} IS {}MISSING)", if *neg { "NOT " } else { "" })
            }
            Expr::Case {
                operand,
                whens,
                otherwise,
            } => {
                f.write_str("CASE")?;
                if let Some(o) = operand {
                    write!(f, " {o}")?;
                }
                for (a, b) in whens {
                    write!(f, " WHEN {a} THEN {b}")?;
                }
                if let Some(o) = otherwise {
                    write!(f, " ELSE {o}")?;
                }
                f.write_str(" END")
            }
            Expr::Cast(e, t) => write!(f, "CAST({e} AS {})", t.name()),
            Expr::Call(func, args) => {
                write!(f, "{}(", func.name())?;
                for (i, e) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{e}")?;
                }
                f.write_str(")")
            }
            Expr::Substring(s, a, b) => match b {
                Some(b) => write!(f, "SUBSTRING({s} FROM {a} FOR {b})"),
                None => write!(f, "SUBSTRING({s} FROM {a})"),
            },
            Expr::Trim(spec, chars, s) => {
                let spec = match spec {
                    TrimSpec::Leading => "LEADING",
                    TrimSpec::Trailing => "TRAILING",
                    TrimSpec::Both => "BOTH",
                };
                match chars {
                    Some(c) => write!(f, "TRIM({spec} {c} FROM {s})"),
                    None => write!(f, "TRIM({spec} FROM {s})"),
                }
            }
            Expr::Extract(p, e) => write!(f, "EXTRACT({} FROM {e})", p.name()),
            Expr::DateAdd(p, n, t) => write!(f, "DATE_ADD({}, {n}, {t})", p.name()),
            Expr::DateDiff(p, a, b) => write!(f, "DATE_DIFF({}, {a}, {b})", p.name()),
            Expr::Agg(func, arg) => match arg {
                Some(a) => write!(f, "{}({a})", func.name()),
                None => write!(f, "{}(*)", func.name()),
            },
        }
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SELECT ")?;
        match &self.select {
            Projection::Star => f.write_str("*")?,
            Projection::Items(items) => {
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", it.expr)?;
                    if let Some(a) = &it.alias {
                        f.write_str(" AS ")?;
                        ident(f, a, true)?;
                    }
                }
            }
        }
        f.write_str(" FROM S3Object")?;
        steps(f, &self.from.path)?;
        if let Some(a) = &self.from.alias {
            f.write_str(" ")?;
            ident(f, a, true)?;
        }
        if let Some(w) = &self.where_clause {
            write!(f, " WHERE {w}")?;
        }
        if let Some(l) = self.limit {
            write!(f, " LIMIT {l}")?;
        }
        Ok(())
    }
}
