//! # nubis-lambda
//!
//! AWS Lambda as an embeddable engine: the control plane (functions, versions, aliases with
//! weighted routing, tags, concurrency settings), and functions that really run — Rust closures
//! in-process for unit tests, and unmodified deployment packages as child processes speaking the
//! Lambda Runtime API (`provided.al2023`/`provided.al2` bootstraps, Python through
//! `awslambdaric`). Execution environments start cold, stay warm, serve one request at a time and
//! are reclaimed when idle; concurrency is limited per account and per function; invocations time
//! out on the injected clock; asynchronous events retry with backoff and end in destinations.
//!
//! Key design decision: one invocation path for both kinds of function. An in-process handler goes
//! through the same environments, concurrency, timeouts, START/END/REPORT logs and metering as a
//! process, so a unit test with a closure sees the semantics a deployed function gets.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use nubis_core::{Env, Region};
//! use nubis_lambda::{CreateFunction, HandlerError, InvokeRequest, Lambda};
//! use serde_json::json;
//!
//! let lambda = Lambda::new(Env::default());
//! lambda.register_handler("greet", |event: serde_json::Value, _ctx| async move {
//!     Ok::<_, HandlerError>(json!({ "hello": event["name"] }))
//! });
//! let region = lambda.region(&Region::US_EAST_1);
//! region.create_function(CreateFunction::in_process("greeter", "greet")).unwrap();
//! let out = region.invoke(InvokeRequest::json("greeter", &json!({ "name": "Ada" }))).await.unwrap();
//! assert_eq!(out.json(), Some(json!({ "hello": "Ada" })));
//! # });
//! ```

pub mod aliases;
pub mod asynchronous;
pub mod config;
pub mod engine;
pub mod environment;
pub mod error;
pub mod esm;
mod fasthash;
pub mod filters;
pub mod functions;
pub mod handler;
pub mod hooks;
#[cfg(feature = "http")]
pub mod http;
pub mod invoke;
pub mod layers;
pub mod logs;
pub mod names;
pub mod package;
#[cfg(feature = "process")]
pub mod process;
pub mod rules;
pub mod runtime;
#[cfg(feature = "sam")]
pub mod sam;
pub mod schedule;
pub mod updates;

pub use config::*;
pub use engine::{Lambda, LambdaConfig, LambdaRegion};
pub use error::{LambdaError, ThrottleReason};
pub use esm::{
    CreateEventSourceMapping, EventSource, EventSourceConnector, EventSourceMappingConfiguration,
    SourceRecord, StartingPosition,
};
pub use filters::{Filter, FilterCriteria};
pub use functions::{GetFunctionOutput, ProvisionedState};
pub use handler::{Context, Handler, HandlerError};
pub use hooks::{CodeStore, CodeStoreError, Delivery, DeliveryKind, DestinationSink};
pub use invoke::{InvocationType, InvokeOutput, InvokeRequest, LogType};
pub use layers::{
    LayerFilter, LayerVersion, LayerVersionContent, LayerVersionsListItem, LayersListItem,
    PublishLayerVersion,
};
pub use logs::LogEvent;
pub use rules::{PutRule, RuleDescription};
pub use schedule::{ScheduleError, ScheduleExpression};
pub use updates::Page;
