//! End-to-end tests with the official AWS SDK for Rust against a `nubis` endpoint started
//! in-process on an ephemeral port. One test binary, so the SDKs compile and link once.
//! Each service owns one module.

mod endpoint;
#[cfg(feature = "dynamo")]
mod dynamo;
#[cfg(feature = "s3")]
mod s3;
#[cfg(feature = "neptune")]
mod neptune;
#[cfg(feature = "aurora")]
mod aurora;
#[cfg(feature = "lambda")]
mod lambda;
