//! # Nubis
//!
//! AWS's core service engines in one process. A [`Cloud`] holds regions, an account, a clock and
//! every engine compiled in (Cargo features `dynamo`, `s3`, `neptune`, `aurora`, `lambda`); use
//! the engines directly through their Rust APIs, or serve them all on one HTTP endpoint
//! ([`Server`], the `nubis serve` command) that the official AWS SDKs and CLI talk to unchanged.
//!
//! ```
//! use std::time::Duration;
//! use nubis::Cloud;
//!
//! let cloud = Cloud::builder().regions(["us-east-1", "eu-west-1"]).unwrap().manual_clock().seed(42).build().unwrap();
//! cloud.manual_clock().unwrap().advance(Duration::from_secs(3600));
//! assert_eq!(cloud.regions().len(), 2);
//! ```
//!
//! With the `testing` feature, [`testing::TestServer`] starts the endpoint on an ephemeral port
//! and hands back an `aws_config::SdkConfig` for it.

pub mod admin;
mod cloud;
pub mod engines;
mod server;
#[cfg(feature = "testing")]
pub mod testing;

pub use cloud::{Cloud, CloudBuilder, Error, RegionHandle};
pub use nubis_core as core;
pub use nubis_wire as wire;
pub use server::{ResponseBody, Server, ServerOptions};
