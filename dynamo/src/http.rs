//! The awsJson1_0 wire binding: `X-Amz-Target: DynamoDB_20120810.<Op>` and
//! `DynamoDBStreams_20120810.<Op>` on one service, signing name `dynamodb`.
//!
//! Every answer carries `x-amz-crc32` (the SDKs verify it) and `x-amzn-RequestId`; every error,
//! including an unknown operation or a body that is not JSON, is DynamoDB's JSON error shape with
//! the `com.amazonaws.dynamodb.v20120810#…` / `com.amazon.coral.validate#…` type the SDKs parse.

use std::sync::Arc;

use futures::future::BoxFuture;
use http::HeaderValue;
use nubis_core::ServiceError;
use nubis_wire::{
    Protocol, Request, RequestContext, Response, Service, ServiceDescriptor, response, with_crc32,
};

use crate::engine::Dynamo;
use crate::error::Error;

/// The DynamoDB (and DynamoDB Streams) service for `nubis serve`.
#[derive(Debug, Clone)]
pub struct DynamoService {
    engine: Arc<Dynamo>,
}

impl DynamoService {
    /// A service over `engine`.
    pub fn new(engine: Arc<Dynamo>) -> Self {
        DynamoService { engine }
    }

    /// Answers one request synchronously (the engine never waits).
    pub fn handle(&self, ctx: &RequestContext, req: &Request) -> Response {
        let op = ctx.operation.as_deref().unwrap_or_default();
        let db = self.engine.region(&ctx.region);
        let result = if req.method() != http::Method::POST {
            Err(Error::Serialization(
                "Only POST requests are accepted".into(),
            ))
        } else {
            crate::api::dispatch(&db, op, req.body())
        };
        let resp = match result {
            Ok(body) => response(Protocol::AwsJson1_0, 200, body),
            Err(e) => {
                let mut r = response(
                    Protocol::AwsJson1_0,
                    e.status(),
                    crate::api::error_body(&e).to_string(),
                );
                if let Ok(v) = HeaderValue::from_str(e.code()) {
                    r.headers_mut().insert("x-amzn-errortype", v);
                }
                r
            }
        };
        let mut resp = with_crc32(resp);
        if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
            resp.headers_mut().insert("x-amzn-requestid", v);
        }
        resp
    }
}

impl Service for DynamoService {
    fn descriptor(&self) -> ServiceDescriptor {
        ServiceDescriptor {
            name: "dynamodb",
            protocol: Protocol::AwsJson1_0,
            signing_names: &["dynamodb"],
            target_prefixes: &["DynamoDB_20120810", "DynamoDBStreams_20120810"],
            unsigned_paths: &[],
            unsigned_fallback: false,
        }
    }

    fn call<'a>(&'a self, ctx: RequestContext, req: Request) -> BoxFuture<'a, Response> {
        Box::pin(async move { self.handle(&ctx, &req) })
    }

    fn health(&self) -> serde_json::Value {
        let regions: Vec<serde_json::Value> = self
            .engine
            .regions()
            .iter()
            .map(|r| serde_json::json!({ "region": r.as_str(), "tables": self.engine.region(r).table_names().len() }))
            .collect();
        serde_json::json!({ "state": "running", "regions": regions })
    }

    fn reset(&self) {
        self.engine.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nubis_core::{Env, Region};

    fn ctx(op: &str) -> RequestContext {
        let mut c = RequestContext::new(Region::US_EAST_1, "RID");
        c.operation = Some(op.to_owned());
        c.target_prefix = Some("DynamoDB_20120810".to_owned());
        c
    }

    fn req(body: &str) -> Request {
        http::Request::builder()
            .method("POST")
            .body(bytes::Bytes::from(body.to_owned()))
            .unwrap_or_default()
    }

    #[test]
    fn errors_have_dynamodb_shape_and_crc() {
        let s = DynamoService::new(Arc::new(Dynamo::new(Env::default())));
        let r = s.handle(&ctx("Nope"), &req("{}"));
        assert_eq!(r.status(), 400);
        assert!(r.headers().contains_key("x-amz-crc32"));
        let body: serde_json::Value = serde_json::from_slice(r.body().as_bytes().unwrap()).unwrap();
        assert_eq!(
            body["__type"],
            "com.amazon.coral.validate#UnknownOperationException"
        );
        let r = s.handle(&ctx("ListTables"), &req("{}"));
        assert_eq!(r.status(), 200);
        let r = s.handle(
            &ctx("GetItem"),
            &req("{\"TableName\":\"Missing\",\"Key\":{\"a\":{\"S\":\"b\"}}}"),
        );
        let body: serde_json::Value = serde_json::from_slice(r.body().as_bytes().unwrap()).unwrap();
        assert_eq!(
            body["__type"],
            "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
        );
    }
}
