//! # nubis-core
//!
//! The small shared core every Nubis engine stands on: [`AccountId`], [`Region`] and [`Arn`]
//! (validated, round-tripping), the injected [`Clock`] (system or manual), deterministic ids
//! ([`IdGen`]), usage metering ([`Meter`]), opaque pagination tokens ([`page`]), and the
//! [`ServiceError`] trait through which every engine's errors carry their AWS code and message.
//!
//! Key design decision: nothing here knows any service. Engines depend on this crate and never on
//! each other; an engine is built from an [`Env`] and reads time only from its clock.
//!
//! ```
//! use std::time::Duration;
//! use nubis_core::{Arn, Clock, ManualClock, Region};
//!
//! let clock = ManualClock::at_default_epoch();
//! let before = clock.now();
//! clock.advance(Duration::from_secs(60));
//! assert_eq!(clock.now().duration_since(before).unwrap(), Duration::from_secs(60));
//!
//! let arn: Arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/Music".parse().unwrap();
//! assert_eq!(arn.region(), Some(&Region::new("eu-west-1").unwrap()));
//! ```

pub mod arn;
pub mod clock;
pub mod env;
pub mod error;
pub mod ids;
pub mod metering;
pub mod page;
pub mod region;

pub use arn::{Arn, ArnAccount};
pub use clock::{Clock, ManualClock, SharedClock, Sleep, SystemClock};
pub use env::Env;
pub use error::{Error, ServiceError};
pub use ids::IdGen;
pub use metering::{Meter, UsageRecord, UsageUnit};
pub use region::{AccountId, Partition, Region};
