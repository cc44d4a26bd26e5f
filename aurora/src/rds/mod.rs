//! The RDS control plane for Aurora clusters ([`Rds`]) and its awsQuery wire binding
//! ([`RdsService`], signing name `rds`, `Version=2014-10-31`).
//!
//! Operations: CreateDBCluster, CreateDBInstance, DescribeDBClusters, DescribeDBInstances,
//! ModifyDBCluster, FailoverDBCluster, DeleteDBCluster, DeleteDBInstance, CreateGlobalCluster,
//! DescribeGlobalClusters, FailoverGlobalCluster, SwitchoverGlobalCluster,
//! RemoveFromGlobalCluster, ModifyCurrentDBClusterCapacity. Each cluster is a real
//! [`Cluster`] on its own replicated volume; a Global Database's secondary clusters are its
//! secondary regions. Errors use RDS's codes (`DBClusterNotFoundFault`, …).
//!
//! Guarantees: a request is validated before anything changes; every failure is an
//! [`RdsError`] with RDS's code, message and HTTP status.

mod error;
mod global;
mod listing;
mod model;
mod pg;
mod service;
mod xml;

pub use error::RdsError;
pub use global::{GlobalView, parse_cluster_arn};
pub use model::{ClusterView, CreateCluster, InstanceView, Rds, valid_identifier};
pub use pg::{PgConfig, PgEndpoints};
pub use service::RdsService;
