//! Errors of the cluster layer, each with the SQLSTATE a PostgreSQL client sees.

use crate::error::AuroraError;
use crate::volume::VolumeError;

/// Result alias for the cluster layer.
pub type ClusterResult<T> = std::result::Result<T, ClusterError>;

/// A cluster-level failure.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// The SQL engine refused the statement.
    #[error(transparent)]
    Sql(#[from] AuroraError),
    /// The storage volume refused or failed a request.
    #[error(transparent)]
    Volume(#[from] VolumeError),
    /// The instance this connection was on crashed, restarted or was demoted by a failover:
    /// reconnect (through the cluster endpoint to reach the new writer).
    #[error("terminating connection due to administrator command: {reason}")]
    ConnectionTerminated {
        /// What happened to the instance.
        reason: String,
    },
    /// The instance is not running.
    #[error("the database system is not accepting connections: instance {instance} is {state}")]
    NotAccepting {
        /// The instance.
        instance: String,
        /// Its state.
        state: String,
    },
    /// A write on a reader (or on a secondary region).
    #[error("cannot execute {command} in a read-only transaction")]
    ReadOnly {
        /// The command.
        command: String,
    },
    /// The writer crashed after the commit was sent to storage and before it was acknowledged:
    /// the commit survives exactly when it reached a write quorum.
    #[error("connection lost during COMMIT: the outcome of the transaction is unknown")]
    CommitInDoubt,
    /// Serverless capacity is spent for this second and nobody may wait for the next.
    #[error("insufficient resources: the serverless capacity is fully used this second")]
    CapacityExceeded,
    /// Serverless capacity is paused and resuming.
    #[error("the database system is starting up: resuming from auto-pause")]
    Resuming,
    /// The instance's state could not be read back from the volume.
    #[error("could not open the instance on the volume: {reason}")]
    Rebuild {
        /// Why.
        reason: String,
    },
    /// A named object does not exist.
    #[error("{what} {name} not found")]
    NotFound {
        /// Kind.
        what: &'static str,
        /// Name.
        name: String,
    },
    /// A request breaks a documented limit or rule.
    #[error("{message}")]
    Invalid {
        /// AWS's wording.
        message: String,
    },
}

impl ClusterError {
    /// The PostgreSQL SQLSTATE.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            ClusterError::Sql(e) => e.sqlstate(),
            ClusterError::Volume(e) => e.sqlstate(),
            ClusterError::ConnectionTerminated { .. } => "57P01",
            ClusterError::NotAccepting { .. } => "57P03",
            ClusterError::ReadOnly { .. } => "25006",
            ClusterError::CommitInDoubt => "08007",
            ClusterError::Resuming => "57P03",
            ClusterError::CapacityExceeded => "53000",
            ClusterError::Rebuild { .. } => "XX000",
            ClusterError::NotFound { .. } => "42704",
            ClusterError::Invalid { .. } => "22023",
        }
    }

    /// Whether retrying (after reconnecting, for connection errors) may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            ClusterError::Sql(e) => e.sqlstate() == "40001",
            ClusterError::Volume(e) => e.is_retryable(),
            ClusterError::ConnectionTerminated { .. }
            | ClusterError::NotAccepting { .. }
            | ClusterError::Resuming
            | ClusterError::CapacityExceeded => true,
            _ => false,
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        ClusterError::Invalid {
            message: message.into(),
        }
    }
}

impl nubis_core::ServiceError for ClusterError {
    fn code(&self) -> &str {
        self.sqlstate()
    }
}
