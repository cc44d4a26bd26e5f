//! The expression syntax tree, shared by every expression kind, and its printer.
//!
//! Names and values stay as written (`#n`, `:v`, plain names): resolution against
//! `ExpressionAttributeNames`/`Values` happens at check and evaluation time, so the printer can
//! reproduce an expression and the parser round-trips (`parse(print(e)) == e`). Legacy
//! parameters build the same tree with [`Operand::Literal`] values.

use std::fmt;

use crate::value::AttributeValue;

/// An attribute name as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Name {
    /// A plain name (`Price`).
    Plain(String),
    /// A placeholder (`#p`), resolved through `ExpressionAttributeNames`.
    Placeholder(String),
}

/// One step of a document path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathElem {
    /// A map key or top-level attribute.
    Attr(Name),
    /// A list index.
    Index(u32),
}

/// A document path (`a.b[2].#c`). The first element is always an attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Path(pub Vec<PathElem>);

/// A value an operator works on.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// An attribute of the item.
    Path(Path),
    /// A placeholder (`:v`), resolved through `ExpressionAttributeValues`.
    Value(String),
    /// A value given directly (legacy parameters only).
    Literal(AttributeValue),
    /// A function call used as a value (`size(a)`; other names are rejected by the checker).
    Call(String, Vec<Operand>),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
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
}

impl CmpOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A condition (condition, filter and key-condition expressions).
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// `a op b`
    Cmp(CmpOp, Operand, Operand),
    /// `a BETWEEN b AND c`
    Between(Operand, Operand, Operand),
    /// `a IN (b, c, …)`
    In(Operand, Vec<Operand>),
    /// A function used as a condition (`attribute_exists(a)`); unknown names are rejected by the
    /// checker.
    Call(String, Vec<Operand>),
    /// `a AND b`
    And(Box<Cond>, Box<Cond>),
    /// `a OR b`
    Or(Box<Cond>, Box<Cond>),
    /// `NOT a`
    Not(Box<Cond>),
}

/// The right-hand side of a SET action.
#[derive(Debug, Clone, PartialEq)]
pub enum SetValue {
    /// `= x`
    Operand(Operand),
    /// `= x + y`
    Plus(Operand, Operand),
    /// `= x - y`
    Minus(Operand, Operand),
}

/// One action of an update expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `SET path = value`
    Set(Path, SetValue),
    /// `REMOVE path`
    Remove(Path),
    /// `ADD path value`
    Add(Path, Operand),
    /// `DELETE path value`
    Delete(Path, Operand),
}

/// An update expression: its actions in the order written, grouped by clause.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Update {
    /// Every action.
    pub actions: Vec<Action>,
    /// A clause keyword that appeared twice (an error the checker reports in its turn).
    pub repeated_clause: Option<&'static str>,
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Name::Plain(s) | Name::Placeholder(s) => f.write_str(s),
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            match e {
                PathElem::Attr(n) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    write!(f, "{n}")?;
                }
                PathElem::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Path(p) => write!(f, "{p}"),
            Operand::Value(v) => f.write_str(v),
            Operand::Literal(v) => write!(f, "{}", v.describe()),
            Operand::Call(name, args) => write_call(f, name, args),
        }
    }
}

fn write_call(f: &mut fmt::Formatter<'_>, name: &str, args: &[Operand]) -> fmt::Result {
    write!(f, "{name}(")?;
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{a}")?;
    }
    f.write_str(")")
}

impl fmt::Display for Cond {
    /// Prints with every compound condition parenthesized, so the text parses back to the same
    /// tree whatever the precedence.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cond::Cmp(op, a, b) => write!(f, "{a} {} {b}", op.as_str()),
            Cond::Between(a, b, c) => write!(f, "{a} BETWEEN {b} AND {c}"),
            Cond::In(a, list) => {
                write!(f, "{a} IN (")?;
                for (i, x) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{x}")?;
                }
                f.write_str(")")
            }
            Cond::Call(name, args) => write_call(f, name, args),
            Cond::And(a, b) => write!(f, "({a}) AND ({b})"),
            Cond::Or(a, b) => write!(f, "({a}) OR ({b})"),
            Cond::Not(a) => write!(f, "NOT ({a})"),
        }
    }
}

impl fmt::Display for SetValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetValue::Operand(a) => write!(f, "{a}"),
            SetValue::Plus(a, b) => write!(f, "{a} + {b}"),
            SetValue::Minus(a, b) => write!(f, "{a} - {b}"),
        }
    }
}

impl fmt::Display for Update {
    /// Prints clause by clause in the order clauses first appear.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut order: Vec<&'static str> = Vec::new();
        for a in &self.actions {
            let k = clause_of(a);
            if !order.contains(&k) {
                order.push(k);
            }
        }
        for (ci, clause) in order.iter().enumerate() {
            if ci > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{clause} ")?;
            let mut first = true;
            for a in self.actions.iter().filter(|a| clause_of(a) == *clause) {
                if !first {
                    f.write_str(", ")?;
                }
                first = false;
                match a {
                    Action::Set(p, v) => write!(f, "{p} = {v}")?,
                    Action::Remove(p) => write!(f, "{p}")?,
                    Action::Add(p, v) | Action::Delete(p, v) => write!(f, "{p} {v}")?,
                }
            }
        }
        Ok(())
    }
}

/// The clause keyword an action belongs to.
pub fn clause_of(a: &Action) -> &'static str {
    match a {
        Action::Set(..) => "SET",
        Action::Remove(_) => "REMOVE",
        Action::Add(..) => "ADD",
        Action::Delete(..) => "DELETE",
    }
}

/// Prints a projection expression.
pub fn print_projection(paths: &[Path]) -> String {
    paths
        .iter()
        .map(Path::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
