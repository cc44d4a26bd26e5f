//! # nubis-wire
//!
//! What every AWS wire protocol shares, so that each engine's HTTP binding is only the mapping
//! between its operations and its Rust API: the [`Service`] trait a service crate implements
//! (behind its own `http` feature), the [`Router`] that picks a service for a request on the one
//! endpoint, the error and response shapes of each [`Protocol`], SigV4 scope parsing (and, with
//! the `sigv4-verify` feature, verification), DynamoDB's `x-amz-crc32`, and the AWS event-stream
//! framing S3 Select answers in (feature `eventstream`).
//!
//! Key design decision: the wire crate knows no service. A service describes itself with a
//! [`ServiceDescriptor`] (signing names, `X-Amz-Target` prefixes, unsigned paths) and the router
//! follows one documented rule; the facade owns the sockets.

pub mod body;
#[cfg(feature = "eventstream")]
pub mod eventstream;
pub mod protocol;
pub mod route;
pub mod service;
pub mod sigv4;

pub use body::Body;
pub use protocol::{
    Protocol, error, json_response, parse_form, response, rest_xml_error, service_error,
    with_crc32, xml_escape, xml_response,
};
pub use route::Router;
pub use service::{
    Listener, RequestContext, Service, ServiceDescriptor, UpgradeHandler, UpgradedIo,
};

/// A request as services receive it: headers and the whole body.
pub type Request = http::Request<bytes::Bytes>;

/// A response as services produce it.
pub type Response = http::Response<Body>;
