//! The one trait a service crate implements to be served by `nubis serve`.

use futures::future::BoxFuture;
use nubis_core::{AccountId, Region};

use crate::{Protocol, Request, Response};

/// How the router recognises a service's requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceDescriptor {
    /// The service's name in `/_nubis/health` (`dynamodb`, `s3`, `neptune`, `rds`, `lambda`).
    pub name: &'static str,
    /// The protocol of its errors when the router has to answer for it.
    pub protocol: Protocol,
    /// SigV4 signing names it answers (`dynamodb`; `rds` and `rds-data`; `neptune-db`).
    pub signing_names: &'static [&'static str],
    /// `X-Amz-Target` prefixes it answers, before the `.` (`DynamoDB_20120810`).
    pub target_prefixes: &'static [&'static str],
    /// Path prefixes of unsigned requests it answers (`/gremlin`, `/status`, `/loader`).
    pub unsigned_paths: &'static [&'static str],
    /// Whether unsigned requests that match no other service go here (S3, as browsers and curl
    /// reach public objects unsigned). At most one service should claim this.
    pub unsigned_fallback: bool,
}

/// What the router learned about a request before handing it to a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// The region from the SigV4 scope, or the endpoint's default region for unsigned requests.
    pub region: Region,
    /// The account the request acts for.
    pub account: AccountId,
    /// The request id this response will carry (`x-amzn-RequestId`, `x-amz-request-id`).
    pub request_id: String,
    /// The SigV4 signing name, if the request was signed.
    pub signing_name: Option<String>,
    /// The access key id, if the request was signed.
    pub access_key: Option<String>,
    /// The operation from `X-Amz-Target` (after the `.`), for the JSON protocols.
    pub operation: Option<String>,
    /// The `X-Amz-Target` prefix (before the `.`), for the JSON protocols.
    pub target_prefix: Option<String>,
}

impl RequestContext {
    /// A context for tests and in-process calls.
    pub fn new(region: Region, request_id: impl Into<String>) -> Self {
        RequestContext {
            region,
            account: AccountId::LOCAL,
            request_id: request_id.into(),
            signing_name: None,
            access_key: None,
            operation: None,
            target_prefix: None,
        }
    }
}

/// A listener a service runs besides the shared HTTP port (PostgreSQL wire protocol, MQTT).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Listener {
    /// What speaks on it (`postgresql`, `mqtt`).
    pub protocol: String,
    /// What it serves (a cluster identifier, `iot`).
    pub resource: String,
    /// `host:port`.
    pub address: String,
}

/// A service served on the shared endpoint.
///
/// Implementations live in each engine crate behind its `http` feature and translate between the
/// wire and the engine's Rust API; they answer every error, including unknown operations, in
/// their protocol's shape and never panic on input.
pub trait Service: Send + Sync + 'static {
    /// How the router recognises this service's requests.
    fn descriptor(&self) -> ServiceDescriptor;

    /// Answers one request. The body has been read whole.
    fn call<'a>(&'a self, ctx: RequestContext, req: Request) -> BoxFuture<'a, Response>;

    /// The service's state for `GET /_nubis/health`.
    fn health(&self) -> serde_json::Value {
        serde_json::json!({ "state": "running" })
    }

    /// Empties the service of every resource (`POST /_nubis/reset`).
    fn reset(&self) {}

    /// Listeners besides the shared HTTP port.
    fn listeners(&self) -> Vec<Listener> {
        Vec::new()
    }

    /// Accepts an HTTP upgrade (a WebSocket, such as Neptune's Gremlin Server endpoint).
    ///
    /// Called before [`Service::call`] for requests carrying `Connection: upgrade`. Returning
    /// `Some((response, handler))` sends `response` (normally `101 Switching Protocols` with the
    /// handshake headers) and then runs `handler` on the upgraded connection.
    fn upgrade(&self, _ctx: &RequestContext, _req: &Request) -> Option<(Response, UpgradeHandler)> {
        None
    }
}

/// A connection after an HTTP upgrade: bytes both ways.
pub trait UpgradedIo:
    tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static
{
}

impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static> UpgradedIo for T {}

/// What runs on an upgraded connection.
pub type UpgradeHandler = Box<dyn FnOnce(Box<dyn UpgradedIo>) -> BoxFuture<'static, ()> + Send>;
