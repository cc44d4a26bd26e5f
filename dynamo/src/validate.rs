//! Request-shape validation in DynamoDB's "N validation errors detected" form.
//!
//! DynamoDB reports every constraint violation of a request's members at once:
//! `1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member
//! must not be null` (errors joined by `; `). [`Shape`] collects them in member order.

use crate::error::Error;

/// Collects member constraint violations.
#[derive(Debug, Default)]
pub struct Shape {
    errors: Vec<String>,
}

fn show(v: &str) -> String {
    format!("'{v}'")
}

impl Shape {
    /// An empty collector.
    pub fn new() -> Self {
        Shape::default()
    }

    /// Records a violation.
    pub fn push(&mut self, value: &str, member: &str, constraint: &str) {
        self.errors.push(format!(
            "Value {value} at '{member}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// A required member.
    pub fn required<T>(&mut self, member: &str, v: &Option<T>) {
        if v.is_none() {
            self.push("null", member, "Member must not be null");
        }
    }

    /// A table name: required, 3–255 characters of `[a-zA-Z0-9_.-]`.
    pub fn table_name(&mut self, member: &str, v: &Option<String>) {
        match v {
            None => self.push("null", member, "Member must not be null"),
            Some(s) => self.name_rules(member, s, 3, 255),
        }
    }

    /// An index name: 3–255 characters of `[a-zA-Z0-9_.-]`.
    pub fn name_rules(&mut self, member: &str, s: &str, min: usize, max: usize) {
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
        {
            self.push(
                &show(s),
                member,
                "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
            );
        }
        if s.len() < min {
            self.push(
                &show(s),
                member,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if s.len() > max {
            self.push(
                &show(s),
                member,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// An enumeration member.
    pub fn one_of(&mut self, member: &str, v: &Option<String>, allowed: &[&str]) {
        if let Some(s) = v
            && !allowed.contains(&s.as_str())
        {
            self.push(
                &show(s),
                member,
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ),
            );
        }
    }

    /// A number with bounds.
    pub fn range(&mut self, member: &str, v: Option<i64>, min: i64, max: i64) {
        if let Some(n) = v {
            if n < min {
                self.push(
                    &format!("'{n}'"),
                    member,
                    &format!("Member must have value greater than or equal to {min}"),
                );
            } else if n > max {
                self.push(
                    &format!("'{n}'"),
                    member,
                    &format!("Member must have value less than or equal to {max}"),
                );
            }
        }
    }

    /// A collection length.
    pub fn len(&mut self, member: &str, n: Option<usize>, min: usize, max: usize, shown: &str) {
        if let Some(n) = n {
            if n < min {
                self.push(
                    shown,
                    member,
                    &format!("Member must have length greater than or equal to {min}"),
                );
            } else if n > max {
                self.push(
                    shown,
                    member,
                    &format!("Member must have length less than or equal to {max}"),
                );
            }
        }
    }

    /// The error, if any violation was recorded.
    pub fn finish(self) -> Result<(), Error> {
        match self.errors.len() {
            0 => Ok(()),
            1 => Err(Error::Validation(format!(
                "1 validation error detected: {}",
                self.errors[0]
            ))),
            n => Err(Error::Validation(format!(
                "{n} validation errors detected: {}",
                self.errors.join("; ")
            ))),
        }
    }
}

/// `ReturnConsumedCapacity` values.
pub const RETURN_CONSUMED: &[&str] = &["INDEXES", "TOTAL", "NONE"];
/// `ReturnItemCollectionMetrics` values.
pub const RETURN_METRICS: &[&str] = &["SIZE", "NONE"];
/// `ReturnValues` values.
pub const RETURN_VALUES: &[&str] = &["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"];
/// `ReturnValuesOnConditionCheckFailure` values.
pub const RETURN_ON_FAILURE: &[&str] = &["ALL_OLD", "NONE"];
/// `ConditionalOperator` values.
pub const CONDITIONAL_OPERATORS: &[&str] = &["AND", "OR"];
/// `Select` values.
pub const SELECT: &[&str] = &[
    "ALL_ATTRIBUTES",
    "ALL_PROJECTED_ATTRIBUTES",
    "SPECIFIC_ATTRIBUTES",
    "COUNT",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        let mut s = Shape::new();
        s.table_name("tableName", &None);
        assert_eq!(
            s.finish().unwrap_err().to_string(),
            "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null"
        );
        let mut s = Shape::new();
        s.table_name("tableName", &Some("a!".into()));
        assert!(
            s.finish()
                .unwrap_err()
                .to_string()
                .starts_with("2 validation errors detected: Value 'a!' at 'tableName'")
        );
    }
}
