//! The one error type of the Lambda engine, with the AWS code, message and HTTP status of each
//! variant (the exception names of the Lambda API model).

use nubis_core::ServiceError;

/// Why an invocation was throttled (`Reason` in a `TooManyRequestsException`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ThrottleReason {
    /// The account's regional concurrency (unreserved pool) is in use.
    ConcurrentInvocationLimitExceeded,
    /// The function's reserved concurrency is in use (or is zero).
    ReservedFunctionConcurrentInvocationLimitExceeded,
}

impl ThrottleReason {
    /// The `Reason` string AWS sends.
    pub fn as_str(self) -> &'static str {
        match self {
            ThrottleReason::ConcurrentInvocationLimitExceeded => {
                "ConcurrentInvocationLimitExceeded"
            }
            ThrottleReason::ReservedFunctionConcurrentInvocationLimitExceeded => {
                "ReservedFunctionConcurrentInvocationLimitExceeded"
            }
        }
    }
}

/// Every error the Lambda engine returns.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LambdaError {
    /// A request field broke a constraint of the API model (`ValidationException`).
    #[error("{0}")]
    Validation(String),
    /// A parameter value is not acceptable (`InvalidParameterValueException`).
    #[error("{0}")]
    InvalidParameterValue(String),
    /// The request body is not valid JSON or not the expected shape
    /// (`InvalidRequestContentException`).
    #[error("{0}")]
    InvalidRequestContent(String),
    /// The function, version, alias or mapping does not exist (`ResourceNotFoundException`).
    #[error("{0}")]
    ResourceNotFound(String),
    /// The resource already exists or is being changed (`ResourceConflictException`).
    #[error("{0}")]
    ResourceConflict(String),
    /// A `RevisionId` did not match (`PreconditionFailedException`).
    #[error("{0}")]
    PreconditionFailed(String),
    /// A payload or package is over its limit (`RequestTooLargeException`).
    #[error("{0}")]
    RequestTooLarge(String),
    /// The request itself is over the service's size limit (`RequestEntityTooLargeException`).
    #[error("{0}")]
    RequestEntityTooLarge(String),
    /// The account's code storage is full (`CodeStorageExceededException`).
    #[error("{0}")]
    CodeStorageExceeded(String),
    /// The provisioned concurrency configuration does not exist
    /// (`ProvisionedConcurrencyConfigNotFoundException`).
    #[error("{0}")]
    ProvisionedConcurrencyConfigNotFound(String),
    /// Concurrency is exhausted (`TooManyRequestsException`, 429).
    #[error("Rate Exceeded.")]
    TooManyRequests {
        /// Which limit was hit.
        reason: ThrottleReason,
        /// Seconds the caller should wait (`Retry-After`).
        retry_after_seconds: u32,
    },
    /// The engine itself failed (`ServiceException`, 500).
    #[error("{0}")]
    Service(String),
    /// The operation or path is not part of the Lambda API (`UnknownOperationException`).
    #[error("{0}")]
    UnknownOperation(String),
}

impl LambdaError {
    /// A `ResourceNotFoundException` for a function (with its qualifier, if any) by ARN.
    pub(crate) fn function_not_found(arn: &str) -> Self {
        LambdaError::ResourceNotFound(format!("Function not found: {arn}"))
    }

    /// A `ValidationException` for one field, in the model's wording.
    pub(crate) fn validation(value: &str, field: &str, constraint: &str) -> Self {
        LambdaError::Validation(format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
        ))
    }
}

impl ServiceError for LambdaError {
    fn code(&self) -> &str {
        match self {
            LambdaError::Validation(_) => "ValidationException",
            LambdaError::InvalidParameterValue(_) => "InvalidParameterValueException",
            LambdaError::InvalidRequestContent(_) => "InvalidRequestContentException",
            LambdaError::ResourceNotFound(_) => "ResourceNotFoundException",
            LambdaError::ResourceConflict(_) => "ResourceConflictException",
            LambdaError::PreconditionFailed(_) => "PreconditionFailedException",
            LambdaError::RequestTooLarge(_) => "RequestTooLargeException",
            LambdaError::RequestEntityTooLarge(_) => "RequestEntityTooLargeException",
            LambdaError::CodeStorageExceeded(_) => "CodeStorageExceededException",
            LambdaError::ProvisionedConcurrencyConfigNotFound(_) => {
                "ProvisionedConcurrencyConfigNotFoundException"
            }
            LambdaError::TooManyRequests { .. } => "TooManyRequestsException",
            LambdaError::Service(_) => "ServiceException",
            LambdaError::UnknownOperation(_) => "UnknownOperationException",
        }
    }

    fn status(&self) -> u16 {
        match self {
            LambdaError::ResourceNotFound(_)
            | LambdaError::ProvisionedConcurrencyConfigNotFound(_) => 404,
            LambdaError::UnknownOperation(_) => 404,
            LambdaError::ResourceConflict(_) => 409,
            LambdaError::PreconditionFailed(_) => 412,
            LambdaError::RequestTooLarge(_) | LambdaError::RequestEntityTooLarge(_) => 413,
            LambdaError::TooManyRequests { .. } => 429,
            LambdaError::Service(_) => 500,
            _ => 400,
        }
    }
}

/// Results of the Lambda engine.
pub type Result<T, E = LambdaError> = std::result::Result<T, E>;
