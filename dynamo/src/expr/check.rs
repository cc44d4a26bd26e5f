//! Static checks on parsed expressions, producing DynamoDB's exact messages.
//!
//! DynamoDB reports one error per expression, choosing among several kinds in a fixed order; the
//! checker records the first error of each kind while walking the tree and then reports by that
//! order (for conditions: unknown function, misused function, reserved word, undefined
//! placeholder, operand count, distinct operands, operand types; for updates: reserved word,
//! unknown function, repeated clause, undefined name, undefined value, overlapping paths,
//! conflicting paths, operand types). It also records which placeholders were used, for the
//! request-wide "unused" checks.

use std::collections::{HashMap, HashSet};

use super::ast::{Action, CmpOp, Cond, Name, Operand, Path, PathElem, SetValue, Update, clause_of};
use super::reserved::is_reserved;
use crate::value::{AttributeValue, ValueType};

/// What a checker resolves placeholders against, and which it has seen used.
#[derive(Debug)]
pub struct Checker<'a> {
    names: Option<&'a HashMap<String, String>>,
    values: Option<&'a HashMap<String, AttributeValue>>,
    /// Names used so far.
    pub used_names: HashSet<String>,
    /// Values used so far.
    pub used_values: HashSet<String>,
}

#[derive(Default)]
struct Errors {
    unknown_fn: Option<String>,
    misused: Option<String>,
    reserved: Option<String>,
    section: Option<String>,
    undefined_name: Option<String>,
    undefined_value: Option<String>,
    overlap: Option<String>,
    conflict: Option<String>,
    count: Option<String>,
    distinct: Option<String>,
    types: Option<String>,
}

fn set(slot: &mut Option<String>, msg: impl FnOnce() -> String) {
    if slot.is_none() {
        *slot = Some(msg());
    }
}

const COND_FUNCS: [(&str, usize); 5] = [
    ("attribute_exists", 1),
    ("attribute_not_exists", 1),
    ("attribute_type", 2),
    ("begins_with", 2),
    ("contains", 2),
];
const UPDATE_FUNCS: [(&str, usize); 2] = [("if_not_exists", 2), ("list_append", 2)];

/// Renders a resolved path as DynamoDB's messages do: `[a, b, [2]]`.
pub fn path_str(p: &[String]) -> String {
    format!("[{}]", p.join(", "))
}

impl<'a> Checker<'a> {
    /// A checker over a request's placeholder maps.
    pub fn new(
        names: Option<&'a HashMap<String, String>>,
        values: Option<&'a HashMap<String, AttributeValue>>,
    ) -> Self {
        Checker {
            names,
            values,
            used_names: HashSet::new(),
            used_values: HashSet::new(),
        }
    }

    fn name(&mut self, n: &Name, e: &mut Errors) -> Option<String> {
        match n {
            Name::Plain(s) => {
                if is_reserved(s) {
                    set(&mut e.reserved, || {
                        format!("Attribute name is a reserved keyword; reserved keyword: {s}")
                    });
                }
                Some(s.clone())
            }
            Name::Placeholder(p) => match self.names.and_then(|m| m.get(p)) {
                Some(v) => {
                    self.used_names.insert(p.clone());
                    Some(v.clone())
                }
                None => {
                    set(&mut e.undefined_name, || {
                        format!(
                            "An expression attribute name used in the document path is not defined; attribute name: {p}"
                        )
                    });
                    None
                }
            },
        }
    }

    /// The path with names resolved, for messages and overlap checks (`[2]` for indexes).
    fn path(&mut self, p: &Path, e: &mut Errors) -> Vec<String> {
        p.0.iter()
            .map(|el| match el {
                PathElem::Attr(n) => self.name(n, e).unwrap_or_else(|| n.to_string()),
                PathElem::Index(i) => format!("[{i}]"),
            })
            .collect()
    }

    /// The statically known type of an operand (values only).
    fn operand_type(&self, o: &Operand) -> Option<ValueType> {
        match o {
            Operand::Value(v) => self
                .values
                .and_then(|m| m.get(v))
                .map(AttributeValue::value_type),
            Operand::Literal(v) => Some(v.value_type()),
            Operand::Call(name, _) if name == "size" => Some(ValueType::N),
            _ => None,
        }
    }

    fn value_of<'o>(&'o self, o: &'o Operand) -> Option<&'o AttributeValue> {
        match o {
            Operand::Value(v) => self.values.and_then(|m| m.get(v)),
            Operand::Literal(v) => Some(v),
            _ => None,
        }
    }

    fn operand(&mut self, o: &Operand, e: &mut Errors, update: bool) {
        match o {
            Operand::Path(p) => {
                self.path(p, e);
            }
            Operand::Value(v) => {
                if self.values.and_then(|m| m.get(v)).is_some() {
                    self.used_values.insert(v.clone());
                } else {
                    set(&mut e.undefined_value, || {
                        format!(
                            "An expression attribute value used in expression is not defined; attribute value: {v}"
                        )
                    });
                }
            }
            Operand::Literal(_) => {}
            Operand::Call(name, args) => {
                for a in args {
                    self.operand(a, e, update);
                }
                if update {
                    self.update_call(name, args, e);
                } else if name == "size" {
                    self.size_call(args, e);
                } else if COND_FUNCS.iter().any(|(f, _)| f == name) {
                    set(&mut e.misused, || {
                        format!(
                            "The function is not allowed to be used this way in an expression; function: {name}"
                        )
                    });
                } else {
                    set(&mut e.unknown_fn, || {
                        format!("Invalid function name; function: {name}")
                    });
                }
            }
        }
    }

    fn size_call(&mut self, args: &[Operand], e: &mut Errors) {
        if args.len() != 1 {
            set(&mut e.count, || {
                format!(
                    "Incorrect number of operands for operator or function; operator or function: size, number of operands: {}",
                    args.len()
                )
            });
            return;
        }
        if let Some(t) = self.operand_type(&args[0])
            && matches!(t, ValueType::N | ValueType::Bool | ValueType::Null)
        {
            set(&mut e.types, || {
                format!(
                    "Incorrect operand type for operator or function; operator or function: size, operand type: {t}"
                )
            });
        }
    }

    fn update_call(&mut self, name: &str, args: &[Operand], e: &mut Errors) {
        let Some(&(_, n)) = UPDATE_FUNCS.iter().find(|(f, _)| *f == name) else {
            set(&mut e.unknown_fn, || {
                format!("Invalid function name; function: {name}")
            });
            return;
        };
        if args.len() != n {
            set(&mut e.types, || {
                format!(
                    "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {}",
                    args.len()
                )
            });
            return;
        }
        if name == "if_not_exists" {
            if !matches!(args[0], Operand::Path(_)) {
                set(&mut e.types, || {
                    format!(
                        "Operator or function requires a document path; operator or function: {name}"
                    )
                });
            }
        } else {
            for a in args {
                if let Some(t) = self.operand_type(a)
                    && t != ValueType::L
                {
                    set(&mut e.types, || {
                        format!(
                            "Incorrect operand type for operator or function; operator or function: {name}, operand type: {t}"
                        )
                    });
                }
            }
        }
    }

    fn cond(&mut self, c: &Cond, e: &mut Errors) {
        match c {
            Cond::And(a, b) | Cond::Or(a, b) => {
                self.cond(a, e);
                self.cond(b, e);
            }
            Cond::Not(a) => self.cond(a, e),
            Cond::Cmp(op, a, b) => {
                self.operand(a, e, false);
                self.operand(b, e, false);
                if let (Operand::Path(pa), Operand::Path(pb)) = (a, b)
                    && pa == pb
                {
                    let shown = path_str(&self.path(pa, &mut Errors::default()));
                    set(&mut e.distinct, || {
                        format!(
                            "The first operand must be distinct from the remaining operands for this operator or function; operator: {}, first operand: {shown}",
                            op.as_str()
                        )
                    });
                }
            }
            Cond::Between(a, lo, hi) => {
                self.operand(a, e, false);
                self.operand(lo, e, false);
                self.operand(hi, e, false);
                if let (Some(x), Some(y)) = (self.value_of(lo), self.value_of(hi)) {
                    if x.value_type() != y.value_type() {
                        set(&mut e.types, || {
                            format!(
                                "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {}, upper bound operand: AttributeValue: {}",
                                x.describe(),
                                y.describe()
                            )
                        });
                    } else if super::eval::compare(x, y) == Some(std::cmp::Ordering::Greater) {
                        set(&mut e.types, || {
                            format!(
                                "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {}, upper bound operand: AttributeValue: {}",
                                x.describe(),
                                y.describe()
                            )
                        });
                    }
                }
            }
            Cond::In(a, list) => {
                self.operand(a, e, false);
                for x in list {
                    self.operand(x, e, false);
                }
            }
            Cond::Call(name, args) => {
                for a in args {
                    self.operand(a, e, false);
                }
                if name == "size" {
                    set(&mut e.misused, || {
                        "The function is not allowed to be used this way in an expression; function: size".to_owned()
                    });
                    return;
                }
                let Some(&(_, n)) = COND_FUNCS.iter().find(|(f, _)| f == name) else {
                    set(&mut e.unknown_fn, || {
                        format!("Invalid function name; function: {name}")
                    });
                    return;
                };
                if args.len() != n {
                    set(&mut e.count, || {
                        format!(
                            "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {}",
                            args.len()
                        )
                    });
                    return;
                }
                self.cond_call_types(name, args, e);
            }
        }
    }

    fn cond_call_types(&mut self, name: &str, args: &[Operand], e: &mut Errors) {
        match name {
            "attribute_exists" | "attribute_not_exists" if !matches!(args[0], Operand::Path(_)) => {
                set(&mut e.types, || {
                    format!(
                        "Operator or function requires a document path; operator or function: {name}"
                    )
                });
            }
            "attribute_type" => {
                if !matches!(args[0], Operand::Path(_)) {
                    set(&mut e.types, || {
                        format!(
                            "Operator or function requires a document path; operator or function: {name}"
                        )
                    });
                    return;
                }
                match self.value_of(&args[1]) {
                    Some(AttributeValue::S(t)) if ValueType::parse(t).is_none() => {
                        set(&mut e.types, || {
                            format!(
                                "Invalid attribute type name found; type: {t}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}"
                            )
                        });
                    }
                    Some(AttributeValue::S(_)) => {}
                    Some(other) => {
                        let t = other.value_type();
                        set(&mut e.types, || {
                            format!(
                                "Incorrect operand type for operator or function; operator or function: {name}, operand type: {t}"
                            )
                        });
                    }
                    None => {}
                }
            }
            "begins_with" => {
                for a in args {
                    if let Some(t) = self.operand_type(a)
                        && t != ValueType::S
                        && t != ValueType::B
                    {
                        set(&mut e.types, || {
                            format!(
                                "Incorrect operand type for operator or function; operator or function: {name}, operand type: {t}"
                            )
                        });
                    }
                }
            }
            _ => {}
        }
    }

    /// Checks a condition, filter or key-condition expression.
    pub fn check_condition(&mut self, c: &Cond) -> Result<(), String> {
        let mut e = Errors::default();
        self.cond(c, &mut e);
        first_of(&mut [
            e.unknown_fn,
            e.misused,
            e.reserved,
            e.undefined_name.or(e.undefined_value),
            e.count,
            e.distinct,
            e.types,
        ])
    }

    /// Checks an update expression.
    pub fn check_update(&mut self, u: &Update) -> Result<(), String> {
        let mut e = Errors::default();
        if let Some(clause) = u.repeated_clause {
            set(&mut e.section, || {
                format!("The \"{clause}\" section can only be used once in an update expression;")
            });
        }
        let mut paths: Vec<Vec<String>> = Vec::new();
        for a in &u.actions {
            let clause = clause_of(a);
            let target = match a {
                Action::Set(p, v) => {
                    match v {
                        SetValue::Operand(x) => self.operand(x, &mut e, true),
                        SetValue::Plus(x, y) | SetValue::Minus(x, y) => {
                            self.operand(x, &mut e, true);
                            self.operand(y, &mut e, true);
                            let op = if matches!(v, SetValue::Plus(..)) {
                                "+"
                            } else {
                                "-"
                            };
                            for o in [x, y] {
                                if let Some(t) = self.operand_type(o)
                                    && t != ValueType::N
                                {
                                    set(&mut e.types, || {
                                        format!(
                                            "Incorrect operand type for operator or function; operator or function: {op}, operand type: {t}"
                                        )
                                    });
                                }
                            }
                        }
                    }
                    p
                }
                Action::Remove(p) => p,
                Action::Add(p, v) | Action::Delete(p, v) => {
                    self.operand(v, &mut e, true);
                    if let Some(t) = self.operand_type(v) {
                        let ok = matches!(t, ValueType::Ss | ValueType::Ns | ValueType::Bs)
                            || (clause == "ADD" && t == ValueType::N);
                        if !ok {
                            set(&mut e.types, || {
                                format!(
                                    "Incorrect operand type for operator or function; operator: {clause}, operand type: {}",
                                    t.long_name()
                                )
                            });
                        }
                    }
                    p
                }
            };
            let resolved = self.path(target, &mut e);
            for other in &paths {
                overlap(other, &resolved, &mut e);
            }
            paths.push(resolved);
        }
        first_of(&mut [
            e.reserved,
            e.unknown_fn,
            e.section,
            e.undefined_name,
            e.undefined_value,
            e.overlap,
            e.conflict,
            e.count,
            e.types,
        ])
    }

    /// Checks a projection expression.
    pub fn check_projection(&mut self, paths: &[Path]) -> Result<(), String> {
        let mut e = Errors::default();
        let mut seen: Vec<Vec<String>> = Vec::new();
        for p in paths {
            let r = self.path(p, &mut e);
            for other in &seen {
                overlap(other, &r, &mut e);
            }
            seen.push(r);
        }
        first_of(&mut [e.reserved, e.undefined_name, e.overlap, e.conflict])
    }
}

fn overlap(a: &[String], b: &[String], e: &mut Errors) {
    for (x, y) in a.iter().zip(b) {
        let (xi, yi) = (x.starts_with('['), y.starts_with('['));
        if xi != yi {
            set(&mut e.conflict, || {
                format!(
                    "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                    path_str(a),
                    path_str(b)
                )
            });
            return;
        }
        if x != y {
            return;
        }
    }
    set(&mut e.overlap, || {
        format!(
            "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
            path_str(a),
            path_str(b)
        )
    });
}

fn first_of(slots: &mut [Option<String>]) -> Result<(), String> {
    match slots.iter_mut().find_map(Option::take) {
        Some(m) => Err(m),
        None => Ok(()),
    }
}

/// Whether a comparison operator is one key conditions allow.
pub fn key_op_allowed(op: CmpOp) -> bool {
    op != CmpOp::Ne
}
