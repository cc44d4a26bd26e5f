//! The engine's one error type. Every variant carries DynamoDB's error code and message text, so
//! the wire layer maps errors without knowing them one by one.

use std::sync::Arc;

use serde::Serialize;

use crate::value::Item;

/// Why a transaction action was cancelled (`CancellationReasons` entries, in request order).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CancellationReason {
    /// `None`, `ConditionalCheckFailed`, `ItemCollectionSizeLimitExceeded`,
    /// `TransactionConflict`, `ProvisionedThroughputExceeded`, `ValidationError`.
    pub code: String,
    /// The message for the failed action.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The item, when `ReturnValuesOnConditionCheckFailure` is `ALL_OLD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<Arc<Item>>,
}

/// Every error the DynamoDB engine returns.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `ValidationException`: the request is malformed or breaks a rule.
    #[error("{0}")]
    Validation(String),
    /// `SerializationException`: the request body is not the expected JSON.
    #[error("{0}")]
    Serialization(String),
    /// `ResourceNotFoundException`.
    #[error("{0}")]
    ResourceNotFound(String),
    /// `ResourceInUseException`.
    #[error("{0}")]
    ResourceInUse(String),
    /// `ConditionalCheckFailedException`, with the item when asked for.
    #[error("The conditional request failed")]
    ConditionalCheckFailed {
        /// The item as it was, for `ReturnValuesOnConditionCheckFailure: ALL_OLD`.
        item: Option<Arc<Item>>,
    },
    /// `TransactionCanceledException`.
    #[error("Transaction cancelled, please refer cancellation reasons for specific reasons [{}]", .reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>().join(", "))]
    TransactionCanceled {
        /// One reason per action, in request order.
        reasons: Vec<CancellationReason>,
    },
    /// `TransactionConflictException`.
    #[error("Transaction is ongoing for the item")]
    TransactionConflict,
    /// `IdempotentParameterMismatchException`.
    #[error("{0}")]
    IdempotentParameterMismatch(String),
    /// `ProvisionedThroughputExceededException`.
    #[error(
        "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."
    )]
    ProvisionedThroughputExceeded,
    /// `LimitExceededException`.
    #[error("{0}")]
    LimitExceeded(String),
    /// `ItemCollectionSizeLimitExceededException`.
    #[error("Item collection size limit exceeded")]
    ItemCollectionSizeLimitExceeded,
    /// `ExpiredIteratorException` (streams).
    #[error("{0}")]
    ExpiredIterator(String),
    /// `TrimmedDataAccessException` (streams).
    #[error("{0}")]
    TrimmedDataAccess(String),
    /// `UnknownOperationException`.
    #[error("")]
    UnknownOperation,
    /// `TableAlreadyExistsException` (restores).
    #[error("{0}")]
    TableAlreadyExists(String),
    /// `TableNotFoundException` (backups and restores).
    #[error("{0}")]
    TableNotFound(String),
    /// `BackupNotFoundException`.
    #[error("{0}")]
    BackupNotFound(String),
    /// `PointInTimeRecoveryUnavailableException`.
    #[error("{0}")]
    PointInTimeRecoveryUnavailable(String),
    /// `InvalidRestoreTimeException`.
    #[error("{0}")]
    InvalidRestoreTime(String),
    /// `GlobalTableAlreadyExistsException`.
    #[error("{0}")]
    GlobalTableAlreadyExists(String),
    /// `GlobalTableNotFoundException`.
    #[error("{0}")]
    GlobalTableNotFound(String),
    /// `ReplicaAlreadyExistsException`.
    #[error("{0}")]
    ReplicaAlreadyExists(String),
    /// `ReplicaNotFoundException`.
    #[error("{0}")]
    ReplicaNotFound(String),
    /// `IndexNotFoundException`.
    #[error("{0}")]
    IndexNotFound(String),
    /// `DuplicateItemException` (PartiQL INSERT of an existing key).
    #[error("Duplicate primary key exists in table")]
    DuplicateItem,
}

impl Error {
    /// A `ValidationException` with `msg`.
    pub fn validation(msg: impl Into<String>) -> Error {
        Error::Validation(msg.into())
    }

    /// `ResourceNotFoundException` for a data-plane request on a missing table.
    pub fn table_not_found() -> Error {
        Error::ResourceNotFound("Requested resource not found".to_owned())
    }

    /// `ResourceNotFoundException` for a control-plane request on a missing table.
    pub fn table_not_found_named(name: &str) -> Error {
        Error::ResourceNotFound(format!(
            "Requested resource not found: Table: {name} not found"
        ))
    }
}

impl nubis_core::ServiceError for Error {
    fn code(&self) -> &str {
        match self {
            Error::Validation(_) => "ValidationException",
            Error::Serialization(_) => "SerializationException",
            Error::ResourceNotFound(_) => "ResourceNotFoundException",
            Error::ResourceInUse(_) => "ResourceInUseException",
            Error::ConditionalCheckFailed { .. } => "ConditionalCheckFailedException",
            Error::TransactionCanceled { .. } => "TransactionCanceledException",
            Error::TransactionConflict => "TransactionConflictException",
            Error::IdempotentParameterMismatch(_) => "IdempotentParameterMismatchException",
            Error::ProvisionedThroughputExceeded => "ProvisionedThroughputExceededException",
            Error::LimitExceeded(_) => "LimitExceededException",
            Error::ItemCollectionSizeLimitExceeded => "ItemCollectionSizeLimitExceededException",
            Error::ExpiredIterator(_) => "ExpiredIteratorException",
            Error::TrimmedDataAccess(_) => "TrimmedDataAccessException",
            Error::UnknownOperation => "UnknownOperationException",
            Error::DuplicateItem => "DuplicateItemException",
            Error::GlobalTableAlreadyExists(_) => "GlobalTableAlreadyExistsException",
            Error::GlobalTableNotFound(_) => "GlobalTableNotFoundException",
            Error::ReplicaAlreadyExists(_) => "ReplicaAlreadyExistsException",
            Error::ReplicaNotFound(_) => "ReplicaNotFoundException",
            Error::IndexNotFound(_) => "IndexNotFoundException",
            Error::TableAlreadyExists(_) => "TableAlreadyExistsException",
            Error::TableNotFound(_) => "TableNotFoundException",
            Error::BackupNotFound(_) => "BackupNotFoundException",
            Error::PointInTimeRecoveryUnavailable(_) => "PointInTimeRecoveryUnavailableException",
            Error::InvalidRestoreTime(_) => "InvalidRestoreTimeException",
        }
    }
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
