//! Glue between the [`crate::Cloud`] and each engine crate, one module per Cargo feature.
//!
//! Each module names the engine type the cloud holds (`Engine`) and builds it, with its wire
//! service, from the cloud's environment. Cross-service wiring (DynamoDB Streams → Lambda, the
//! Neptune loader reading S3) lives here too, through traits the engines expose, because engine
//! crates never depend on each other.

#[cfg(feature = "aurora")]
pub mod aurora;
#[cfg(feature = "dynamo")]
pub mod dynamo;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod links;
#[cfg(feature = "neptune")]
pub mod neptune;
#[cfg(feature = "aurora")]
pub mod rds;
#[cfg(feature = "s3")]
pub mod s3;
