//! RDS control-plane errors with their AWS codes.

use crate::cluster::ClusterError;

/// An RDS API error.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RdsError {
    /// DBClusterNotFoundFault (404).
    #[error("DBCluster {0} not found.")]
    ClusterNotFound(String),
    /// DBClusterAlreadyExistsFault.
    #[error("DB Cluster already exists")]
    ClusterExists,
    /// DBInstanceNotFound (404).
    #[error("DBInstance {0} not found.")]
    InstanceNotFound(String),
    /// DBInstanceAlreadyExists.
    #[error("DB instance already exists")]
    InstanceExists,
    /// GlobalClusterNotFoundFault (404).
    #[error("Global cluster {0} not found")]
    GlobalNotFound(String),
    /// GlobalClusterAlreadyExistsFault.
    #[error("Global cluster {0} already exists")]
    GlobalExists(String),
    /// InvalidGlobalClusterStateFault.
    #[error("{0}")]
    InvalidGlobalState(String),
    /// InvalidDBClusterStateFault.
    #[error("{0}")]
    InvalidClusterState(String),
    /// InvalidParameterValue.
    #[error("{0}")]
    InvalidParameterValue(String),
    /// InvalidParameterCombination.
    #[error("{0}")]
    InvalidParameterCombination(String),
    /// MissingParameter.
    #[error("The request must contain the parameter {0}")]
    MissingParameter(&'static str),
    /// InvalidAction (an Action this service does not have).
    #[error("The action {0} is not valid for this web service.")]
    InvalidAction(String),
    /// InstanceQuotaExceeded.
    #[error("{0}")]
    InstanceQuotaExceeded(String),
    /// The engine failed (InternalFailure, 500).
    #[error("{0}")]
    Internal(String),
}

impl RdsError {
    /// From a cluster-layer error, in the context of a cluster operation.
    pub fn from_cluster(e: ClusterError) -> RdsError {
        match e {
            ClusterError::Invalid { message } => RdsError::InvalidParameterValue(message),
            ClusterError::NotFound {
                what: "DB instance",
                name,
            } => RdsError::InstanceNotFound(name),
            ClusterError::NotFound { name, .. } => RdsError::ClusterNotFound(name),
            other => RdsError::InvalidClusterState(other.to_string()),
        }
    }
}

impl nubis_core::ServiceError for RdsError {
    fn code(&self) -> &str {
        match self {
            RdsError::ClusterNotFound(_) => "DBClusterNotFoundFault",
            RdsError::ClusterExists => "DBClusterAlreadyExistsFault",
            RdsError::InstanceNotFound(_) => "DBInstanceNotFound",
            RdsError::InstanceExists => "DBInstanceAlreadyExists",
            RdsError::GlobalNotFound(_) => "GlobalClusterNotFoundFault",
            RdsError::GlobalExists(_) => "GlobalClusterAlreadyExistsFault",
            RdsError::InvalidGlobalState(_) => "InvalidGlobalClusterStateFault",
            RdsError::InvalidClusterState(_) => "InvalidDBClusterStateFault",
            RdsError::InvalidParameterValue(_) => "InvalidParameterValue",
            RdsError::InvalidParameterCombination(_) => "InvalidParameterCombination",
            RdsError::MissingParameter(_) => "MissingParameter",
            RdsError::InvalidAction(_) => "InvalidAction",
            RdsError::InstanceQuotaExceeded(_) => "InstanceQuotaExceeded",
            RdsError::Internal(_) => "InternalFailure",
        }
    }

    fn status(&self) -> u16 {
        match self {
            RdsError::ClusterNotFound(_)
            | RdsError::InstanceNotFound(_)
            | RdsError::GlobalNotFound(_) => 404,
            RdsError::Internal(_) => 500,
            _ => 400,
        }
    }
}
