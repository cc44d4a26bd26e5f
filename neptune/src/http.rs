//! Neptune's data-plane HTTP endpoints as a [`nubis_wire::Service`] (feature `http`).
//!
//! - `POST /gremlin` with `{"gremlin": "…", "bindings": {…}}` and `GET /gremlin?gremlin=…`
//!   answer in Gremlin Server's HTTP shape with GraphSON 3 data;
//! - `GET /gremlin` with `Connection: upgrade` becomes the Gremlin Server WebSocket ([`crate::ws`]);
//! - `GET /status` reports the engine's status;
//! - `POST /loader`, `GET /loader`, `GET /loader/{loadId}`, `DELETE /loader/{loadId}` are the bulk
//!   loader API.
//!
//! Errors use Neptune's engine error shape: `{"requestId", "code", "detailedMessage"}` with the
//! code's HTTP status.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use nubis_core::ServiceError;
use nubis_wire::{
    Protocol, Request, RequestContext, Response, Service, ServiceDescriptor, UpgradeHandler,
};
use serde_json::{Value as Json, json};

use crate::Neptune;
use crate::error::Error;
use crate::gremlin::graphson;
use crate::value::Value;

/// The Neptune data-plane service.
#[derive(Debug)]
pub struct NeptuneService {
    engine: Arc<Neptune>,
}

impl NeptuneService {
    /// A service over `engine`.
    pub fn new(engine: Arc<Neptune>) -> Self {
        NeptuneService { engine }
    }
}

/// A Neptune-shaped error response.
pub fn error_response(err: &Error, request_id: &str) -> Response {
    let body =
        json!({ "requestId": request_id, "code": err.code(), "detailedMessage": err.message() });
    nubis_wire::response(Protocol::Plain, err.status(), body.to_string())
}

fn ok_json(v: &Json) -> Response {
    nubis_wire::json_response(Protocol::Plain, v)
}

/// Runs a Gremlin request and answers in Gremlin Server's response shape.
pub fn run_gremlin(
    engine: &Neptune,
    ctx: &RequestContext,
    query: &str,
    bindings: &Json,
) -> Result<Json, Error> {
    let mut b = HashMap::new();
    if let Some(obj) = bindings.as_object() {
        for (k, v) in obj {
            b.insert(k.clone(), graphson::read(v)?);
        }
    }
    let db = engine.region(&ctx.region);
    let r = db.execute(query, &b, &ctx.request_id, None)?;
    let data: Vec<Json> = r
        .values
        .iter()
        .map(|v: &Value| graphson::write(&r.graph, v))
        .collect();
    Ok(json!({
        "requestId": ctx.request_id,
        "status": { "message": "", "code": 200, "attributes": { "@type": "g:Map", "@value": [] } },
        "result": { "data": { "@type": "g:List", "@value": data }, "meta": { "@type": "g:Map", "@value": [] } }
    }))
}

fn query_param(req: &Request, name: &str) -> Option<String> {
    let q = req.uri().query()?;
    nubis_wire::parse_form(q.as_bytes())
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn status(engine: &Neptune) -> Json {
    let start = nubis_core::clock::to_rfc3339(engine.env().clock.now());
    json!({
        "status": "healthy",
        "startTime": start,
        "dbEngineVersion": "1.3.2.0.R1",
        "role": "writer",
        "dfeQueryEngine": "viaQueryHint",
        "gremlin": { "version": "tinkerpop-3.7.2" },
        "sparql": { "version": "sparql-11" },
        "opencypher": { "version": "Neptune-9.0.20190305-1.0" },
        "labMode": { "ObjectIndex": "disabled", "ReadWriteConflictDetection": "enabled" },
        "features": { "ResultCache": { "status": "disabled" }, "IAMAuthentication": "disabled", "Streams": "disabled", "AuditLog": "disabled" },
        "settings": { "clusterQueryTimeoutInMs": "120000", "SlowQueryLogsThreshold": "5000", "SlowQueryLogsMode": "disabled" }
    })
}

fn load_status(job: &crate::loader::LoadJob, details: bool, errors: bool) -> Json {
    let mut payload = json!({
        "feedCount": [{ job.status: job.files }],
        "overallStatus": {
            "fullUri": job.request.source,
            "runNumber": 1,
            "retryNumber": 0,
            "status": job.status,
            "totalTimeSpent": job.total_time,
            "startTime": job.start_time,
            "totalRecords": job.stats.total_records,
            "totalDuplicates": job.stats.duplicates,
            "parsingErrors": job.stats.parsing_errors,
            "datatypeMismatchErrors": job.stats.datatype_mismatch_errors,
            "insertErrors": job.stats.insert_errors,
        }
    });
    if details {
        payload["failedFeeds"] = json!([]);
    }
    if errors {
        let logs: Vec<Json> = job.stats.errors.iter().map(|e| json!({ "errorCode": e.code, "errorMessage": e.message, "fileName": e.file, "recordNum": e.record })).collect();
        payload["errors"] =
            json!({ "startIndex": 1, "endIndex": logs.len(), "loadId": job.id, "errorLogs": logs });
    }
    json!({ "status": "200 OK", "payload": payload })
}

impl NeptuneService {
    fn handle(&self, ctx: &RequestContext, req: &Request) -> Result<Json, Error> {
        let path = req.uri().path().trim_end_matches('/');
        let method = req.method().as_str();
        match (method, path) {
            ("POST", "/gremlin") => {
                let body: Json = serde_json::from_slice(req.body()).map_err(|e| {
                    Error::BadRequest(format!("The request body is not valid JSON: {e}"))
                })?;
                let q = body.get("gremlin").and_then(Json::as_str).ok_or_else(|| {
                    Error::MissingParameter("Missing 'gremlin' parameter in the request".into())
                })?;
                run_gremlin(
                    &self.engine,
                    ctx,
                    q,
                    body.get("bindings").unwrap_or(&Json::Null),
                )
            }
            ("GET", "/gremlin") => {
                let q = query_param(req, "gremlin").ok_or_else(|| {
                    Error::MissingParameter("Missing 'gremlin' parameter in the request".into())
                })?;
                run_gremlin(&self.engine, ctx, &q, &Json::Null)
            }
            ("GET", "/status") => Ok(status(&self.engine)),
            ("POST", "/loader") => {
                let body: Json = serde_json::from_slice(req.body()).map_err(|e| {
                    Error::BadRequest(format!("The request body is not valid JSON: {e}"))
                })?;
                let lr = crate::loader::parse_request(&body)?;
                let id = self.engine.loader(&ctx.region).start(lr)?;
                Ok(json!({ "status": "200 OK", "payload": { "loadId": id } }))
            }
            ("GET", "/loader") => {
                let limit = query_param(req, "limit")
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(50usize);
                if !(1..=100).contains(&limit) {
                    return Err(Error::InvalidParameter(
                        "limit must be between 1 and 100".into(),
                    ));
                }
                Ok(
                    json!({ "status": "200 OK", "payload": { "loadIds": self.engine.loader(&ctx.region).job_ids(limit) } }),
                )
            }
            (m, p) if p.starts_with("/loader/") => {
                let id = &p["/loader/".len()..];
                let loader = self.engine.loader(&ctx.region);
                match m {
                    "GET" => {
                        let job = loader
                            .job(id)
                            .ok_or_else(|| Error::Loader(format!("Load id {id} does not exist")))?;
                        let flag = |n: &str| {
                            query_param(req, n).is_some_and(|v| v.eq_ignore_ascii_case("true"))
                        };
                        Ok(load_status(&job, flag("details"), flag("errors")))
                    }
                    "DELETE" => {
                        loader.cancel(id)?;
                        Ok(json!({ "status": "200 OK" }))
                    }
                    _ => Err(Error::BadRequest(format!(
                        "Method {m} is not allowed on /loader/{id}"
                    ))),
                }
            }
            _ => Err(Error::BadRequest(format!(
                "Unsupported request: {method} {path}"
            ))),
        }
    }
}

impl Service for NeptuneService {
    fn descriptor(&self) -> ServiceDescriptor {
        ServiceDescriptor {
            name: "neptune",
            protocol: Protocol::Plain,
            signing_names: &["neptune-db"],
            target_prefixes: &[],
            unsigned_paths: &["/gremlin", "/status", "/loader"],
            unsigned_fallback: false,
        }
    }

    fn call<'a>(&'a self, ctx: RequestContext, req: Request) -> BoxFuture<'a, Response> {
        Box::pin(async move {
            match self.handle(&ctx, &req) {
                Ok(v) => ok_json(&v),
                Err(e) => error_response(&e, &ctx.request_id),
            }
        })
    }

    fn health(&self) -> Json {
        json!({ "state": "running", "regions": self.engine.region_count() })
    }

    fn reset(&self) {
        self.engine.reset();
    }

    fn upgrade(&self, ctx: &RequestContext, req: &Request) -> Option<(Response, UpgradeHandler)> {
        if req.uri().path().trim_end_matches('/') != "/gremlin" {
            return None;
        }
        crate::ws::accept(Arc::clone(&self.engine), ctx.clone(), req)
    }
}

/// The body of an error response, for tests.
pub fn body_json(resp: &Response) -> Json {
    resp.body()
        .as_bytes()
        .and_then(|b: &Bytes| serde_json::from_slice(b).ok())
        .unwrap_or(Json::Null)
}
