//! nubis-dynamo: being built (see docs/dynamo.md).

pub mod api;
pub mod backup;
pub mod batch;
pub mod capacity;
pub mod consistency;
pub mod control;
pub mod engine;
pub mod error;
pub mod expr;
pub mod global;
pub mod intents;
pub mod items;
pub mod key;
pub mod keycond;
pub mod legacy;
pub mod model;
pub mod model_data;
pub mod number;
pub mod partiql;
pub mod query;
pub mod stream_ops;
pub mod streams;
pub mod table;
pub mod tags_ttl;
pub mod transact;
pub mod validate;
pub mod value;

pub use consistency::Lag;
pub use engine::{Config, Dynamo, RegionDb};
pub use error::Error;
pub use value::{AttributeValue, Item};

#[cfg(feature = "http")]
pub mod http;
