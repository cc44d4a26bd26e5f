//! The crate's one error type, carrying Neptune's engine error codes and HTTP statuses.
//!
//! Query errors carry the byte span in the query text where one applies, so the detailed message
//! names the position (`… at position 14`), as the issue asks for malformed traversals, unknown
//! steps and type errors.

use nubis_core::ServiceError;

/// A byte range in a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub const fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
}

/// Everything that can go wrong in the Neptune engine.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The query text does not parse, or names an unknown step or token.
    #[error("{message} at position {} (line {line}, column {column})", span.start)]
    Malformed {
        /// What is wrong.
        message: String,
        /// Where.
        span: Span,
        /// 1-based line of `span.start`.
        line: usize,
        /// 1-based column of `span.start`.
        column: usize,
    },
    /// A step got an argument of the wrong type or out of range.
    #[error("{0}")]
    InvalidParameter(String),
    /// A required request parameter is missing.
    #[error("{0}")]
    MissingParameter(String),
    /// The traversal failed while running (a type error on data, a missing element, …).
    #[error("{0}")]
    Evaluation(String),
    /// An element already exists or a write would break the graph's integrity.
    #[error("{0}")]
    ConstraintViolation(String),
    /// Another writer committed a change to the same elements first.
    #[error("Operation failed due to conflicting concurrent operations (please retry), {0}")]
    ConcurrentModification(String),
    /// The query ran past its timeout on the engine's clock.
    #[error(
        "A timeout occurred within the script or was otherwise cancelled directly during evaluation of [{request_id}]"
    )]
    TimeLimitExceeded {
        /// The request that timed out.
        request_id: String,
    },
    /// A bad HTTP request (unknown path, wrong method, unreadable body).
    #[error("{0}")]
    BadRequest(String),
    /// A bulk-load request or job that does not exist or is invalid.
    #[error("{0}")]
    Loader(String),
}

impl Error {
    /// A malformed-query error at `span` of `query`.
    pub fn malformed(query: &str, span: Span, message: impl Into<String>) -> Self {
        let upto = query.get(..span.start.min(query.len())).unwrap_or("");
        let line = upto.matches('\n').count() + 1;
        let column = upto
            .rsplit('\n')
            .next()
            .map(|l| l.chars().count())
            .unwrap_or(0)
            + 1;
        Error::Malformed {
            message: message.into(),
            span,
            line,
            column,
        }
    }
}

impl ServiceError for Error {
    fn code(&self) -> &str {
        match self {
            Error::Malformed { .. } => "MalformedQueryException",
            Error::InvalidParameter(_) => "InvalidParameterException",
            Error::MissingParameter(_) => "MissingParameterException",
            Error::Evaluation(_) => "InternalFailureException",
            Error::ConstraintViolation(_) => "ConstraintViolationException",
            Error::ConcurrentModification(_) => "ConcurrentModificationException",
            Error::TimeLimitExceeded { .. } => "TimeLimitExceededException",
            Error::BadRequest(_) => "BadRequestException",
            Error::Loader(_) => "BadRequestException",
        }
    }

    fn status(&self) -> u16 {
        match self {
            Error::ConcurrentModification(_)
            | Error::TimeLimitExceeded { .. }
            | Error::Evaluation(_) => 500,
            _ => 400,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_reports_line_and_column() {
        let e = Error::malformed("g.V()\n .foo()", Span::new(8, 11), "unknown step 'foo'");
        assert_eq!(
            e.to_string(),
            "unknown step 'foo' at position 8 (line 2, column 3)"
        );
        assert_eq!(e.code(), "MalformedQueryException");
    }
}
