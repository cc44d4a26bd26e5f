//! The core's own error type, and the trait every service error implements.

/// Errors from validating the core's value types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Not a region code AWS publishes.
    #[error("invalid region '{input}'")]
    InvalidRegion {
        /// The rejected input.
        input: String,
    },
    /// Not twelve digits.
    #[error("invalid account id '{input}': an account id is 12 digits")]
    InvalidAccountId {
        /// The rejected input.
        input: String,
    },
    /// Not a well-formed ARN.
    #[error("invalid ARN '{input}': {reason}")]
    InvalidArn {
        /// The rejected input.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Not an RFC 3339 timestamp.
    #[error("invalid timestamp '{input}': {reason}")]
    InvalidTimestamp {
        /// The rejected input.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A pagination token this service did not issue, or that was tampered with.
    #[error("invalid pagination token")]
    InvalidToken,
}

/// What every service error tells the wire layer: the AWS error code, its message and the HTTP
/// status the service answers with (smithy's `ProvideErrorMetadata`).
pub trait ServiceError: std::error::Error {
    /// The AWS error code (`ValidationException`, `NoSuchKey`, `ResourceNotFoundException`).
    fn code(&self) -> &str;

    /// The message text AWS sends for this error.
    fn message(&self) -> String {
        self.to_string()
    }

    /// The HTTP status code.
    fn status(&self) -> u16 {
        400
    }

    /// Whether the fault is the caller's (4xx) rather than the service's (5xx).
    fn is_sender_fault(&self) -> bool {
        self.status() < 500
    }
}
