//! # nubis-fargate (planned)
//!
//! This crate will be Nubis's Amazon ECS on AWS Fargate engine: task definitions, clusters,
//! services and tasks run as real local processes, with the ECS JSON protocol
//! (`AmazonEC2ContainerServiceV20141113.*`) served through `nubis serve`.
//!
//! No issue has scheduled it yet, so it deliberately exposes no API: nothing here pretends to work.
