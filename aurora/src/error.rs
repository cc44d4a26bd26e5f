//! The crate's one error type: every failure carries PostgreSQL's SQLSTATE and message text.
//!
//! Guarantee: `code()` (through [`nubis_core::ServiceError`]) is the five-character SQLSTATE a
//! PostgreSQL client would see, and `Display` is PostgreSQL's primary message, word for word, for
//! the conditions PostgreSQL documents.

/// Result alias for the engine.
pub type Result<T, E = AuroraError> = std::result::Result<T, E>;

/// An error raised by the SQL engine, in PostgreSQL's terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuroraError {
    /// 23505 unique_violation.
    #[error("duplicate key value violates unique constraint \"{constraint}\"")]
    UniqueViolation {
        /// The constraint (or unique index) name.
        constraint: String,
        /// `Key (a)=(1) already exists.`
        detail: String,
    },
    /// 23502 not_null_violation.
    #[error(
        "null value in column \"{column}\" of relation \"{table}\" violates not-null constraint"
    )]
    NotNullViolation {
        /// The column.
        column: String,
        /// The table.
        table: String,
    },
    /// 23503 foreign_key_violation.
    #[error("{message}")]
    ForeignKeyViolation {
        /// PostgreSQL's message (insert/update or update/delete form).
        message: String,
    },
    /// 23514 check_violation.
    #[error("new row for relation \"{table}\" violates check constraint \"{constraint}\"")]
    CheckViolation {
        /// The table.
        table: String,
        /// The constraint.
        constraint: String,
    },
    /// 42P01 undefined_table.
    #[error("relation \"{name}\" does not exist")]
    UndefinedTable {
        /// The name as written.
        name: String,
    },
    /// 42703 undefined_column.
    #[error("column \"{name}\" does not exist")]
    UndefinedColumn {
        /// The name as written.
        name: String,
    },
    /// 40001 serialization_failure.
    #[error("could not serialize access due to {reason}")]
    SerializationFailure {
        /// `concurrent update`, `read/write dependencies among transactions`.
        reason: String,
    },
    /// 55P03 lock_not_available: a row is locked by another running transaction. Writers
    /// that may wait catch it and wait for `xid` instead ([`crate::locks::Locked::retry`]);
    /// `NOWAIT` reports it as is.
    #[error("could not obtain lock on row in relation \"{relation}\"")]
    RowLocked {
        /// The relation.
        relation: String,
        /// The holding (sub)transaction.
        xid: u64,
        /// Its top-level transaction.
        top: u64,
    },
    /// 42601 syntax_error.
    #[error("{message}")]
    Syntax {
        /// What the parser reported.
        message: String,
    },
    /// Any other condition, with its SQLSTATE.
    #[error("{message}")]
    Sql {
        /// The SQLSTATE.
        sqlstate: &'static str,
        /// PostgreSQL's message text.
        message: String,
    },
}

impl AuroraError {
    /// An error with an explicit SQLSTATE.
    pub fn sql(sqlstate: &'static str, message: impl Into<String>) -> Self {
        AuroraError::Sql {
            sqlstate,
            message: message.into(),
        }
    }

    /// 22P02: `invalid input syntax for type integer: "x"`.
    pub fn invalid_input(type_name: &str, input: &str) -> Self {
        Self::sql(
            "22P02",
            format!("invalid input syntax for type {type_name}: \"{input}\""),
        )
    }

    /// 22003: `integer out of range` and friends.
    pub fn out_of_range(what: &str) -> Self {
        Self::sql("22003", format!("{what} out of range"))
    }

    /// 22012: `division by zero`.
    pub fn division_by_zero() -> Self {
        Self::sql("22012", "division by zero")
    }

    /// 0A000: a feature this engine does not provide.
    pub fn unsupported(what: impl std::fmt::Display) -> Self {
        Self::sql("0A000", format!("{what} is not supported"))
    }

    /// 42883: `function f(integer) does not exist`.
    pub fn undefined_function(message: impl Into<String>) -> Self {
        Self::sql("42883", message)
    }

    /// 42804: a value of the wrong type where a type is required.
    pub fn datatype_mismatch(message: impl Into<String>) -> Self {
        Self::sql("42804", message)
    }

    /// 25P02: the transaction failed earlier.
    pub fn in_failed_transaction() -> Self {
        Self::sql(
            "25P02",
            "current transaction is aborted, commands ignored until end of transaction block",
        )
    }

    /// The SQLSTATE of this error.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            AuroraError::UniqueViolation { .. } => "23505",
            AuroraError::NotNullViolation { .. } => "23502",
            AuroraError::ForeignKeyViolation { .. } => "23503",
            AuroraError::CheckViolation { .. } => "23514",
            AuroraError::UndefinedTable { .. } => "42P01",
            AuroraError::UndefinedColumn { .. } => "42703",
            AuroraError::SerializationFailure { .. } => "40001",
            AuroraError::Syntax { .. } => "42601",
            AuroraError::RowLocked { .. } => "55P03",
            AuroraError::Sql { sqlstate, .. } => sqlstate,
        }
    }
}

impl nubis_core::ServiceError for AuroraError {
    fn code(&self) -> &str {
        self.sqlstate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nubis_core::ServiceError;

    #[test]
    fn codes_and_messages_follow_postgresql() {
        let e = AuroraError::invalid_input("integer", "x");
        assert_eq!(e.code(), "22P02");
        assert_eq!(
            e.to_string(),
            "invalid input syntax for type integer: \"x\""
        );
        let e = AuroraError::UniqueViolation {
            constraint: "t_pkey".into(),
            detail: String::new(),
        };
        assert_eq!(e.code(), "23505");
        assert_eq!(
            e.to_string(),
            "duplicate key value violates unique constraint \"t_pkey\""
        );
        assert_eq!(
            AuroraError::UndefinedTable { name: "t".into() }.to_string(),
            "relation \"t\" does not exist"
        );
    }
}
