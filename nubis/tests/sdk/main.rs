//! End-to-end tests with the official AWS SDK for Rust against a `nubis` endpoint started
//! in-process on an ephemeral port. One test binary, so the SDKs compile and link once.
//! Each service owns one module.

#[cfg(feature = "aurora")]
mod aurora;
#[cfg(feature = "dynamo")]
mod dynamo;
#[cfg(feature = "dynamo")]
mod dynamo_global;
mod endpoint;
#[cfg(feature = "lambda")]
mod lambda;
#[cfg(all(feature = "dynamo", feature = "lambda", feature = "s3"))]
mod links;
#[cfg(feature = "neptune")]
mod neptune;
#[cfg(feature = "aurora")]
mod pgwire;
#[cfg(feature = "aurora")]
mod rds;
#[cfg(feature = "s3")]
mod s3;
