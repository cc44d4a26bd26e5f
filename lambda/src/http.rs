//! The Lambda REST API (restJson1, signing name `lambda`) over the engine: the binding
//! `nubis serve` routes `/2015-03-31/functions/…` and the other dated paths to.
//!
//! Every error, including an unknown path, answers in restJson1's shape (`x-amzn-ErrorType` and
//! `{"Type", "message"}`); throttles add `Reason` and `Retry-After`. Function names in paths may
//! be names or (percent-encoded) ARNs, as the SDKs send them.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderValue, Method, StatusCode};
use nubis_core::ServiceError;
use nubis_wire::{Protocol, Request, RequestContext, Response, Service, ServiceDescriptor};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::*;
use crate::error::LambdaError;
use crate::esm::CreateEventSourceMapping;
use crate::invoke::{InvocationType, InvokeRequest, LogType};
use crate::{Lambda, LambdaRegion};

/// The Lambda wire service.
#[derive(Clone, Debug)]
pub struct LambdaService {
    lambda: Lambda,
}

impl LambdaService {
    /// A service over `lambda`.
    pub fn new(lambda: Lambda) -> Self {
        LambdaService { lambda }
    }

    /// Answers one request (the body of [`Service::call`]).
    pub async fn handle(&self, ctx: &RequestContext, req: Request) -> Response {
        let region = self.lambda.region(&ctx.region);
        let mut resp = match route(&region, &req).await {
            Ok(r) => r,
            Err(e) => error_response(&e, &ctx.request_id),
        };
        if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
            resp.headers_mut().insert("x-amzn-requestid", v);
        }
        resp
    }
}

impl Service for LambdaService {
    fn descriptor(&self) -> ServiceDescriptor {
        ServiceDescriptor {
            name: "lambda",
            protocol: Protocol::RestJson1,
            signing_names: &["lambda"],
            target_prefixes: &[],
            // Unsigned Invoke requests (as `sam local start-lambda` clients send) reach Lambda too.
            unsigned_paths: &["/2015-03-31/functions"],
            unsigned_fallback: false,
        }
    }

    fn call<'a>(&'a self, ctx: RequestContext, req: Request) -> BoxFuture<'a, Response> {
        Box::pin(async move { self.handle(&ctx, req).await })
    }

    fn health(&self) -> Value {
        json!({ "state": "running" })
    }

    fn reset(&self) {
        self.lambda.reset();
    }
}

/// The restJson1 error for `e`.
pub fn error_response(e: &LambdaError, request_id: &str) -> Response {
    let mut resp = nubis_wire::service_error(Protocol::RestJson1, e, request_id);
    if let LambdaError::TooManyRequests {
        reason,
        retry_after_seconds,
    } = e
    {
        let body = json!({ "Type": "User", "message": e.message(), "Reason": reason.as_str(), "retryAfterSeconds": retry_after_seconds.to_string() });
        *resp.body_mut() = nubis_wire::Body::from(body.to_string());
        resp.headers_mut()
            .insert("retry-after", HeaderValue::from(*retry_after_seconds));
    }
    resp
}

fn ok(status: u16, v: &Value) -> Response {
    nubis_wire::response(Protocol::RestJson1, status, Bytes::from(v.to_string()))
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn body<T: for<'de> Deserialize<'de> + Default>(req: &Request) -> Result<T, LambdaError> {
    let b = req.body();
    if b.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(b).map_err(|e| {
        LambdaError::InvalidRequestContent(format!("Could not parse request body into json: {e}"))
    })
}

fn query(req: &Request) -> Vec<(String, String)> {
    nubis_wire::parse_form(req.uri().query().unwrap_or("").as_bytes())
}

fn q<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn max_items(pairs: &[(String, String)]) -> Result<Option<i64>, LambdaError> {
    q(pairs, "MaxItems")
        .map(|s| {
            s.parse::<i64>()
                .map_err(|_| LambdaError::validation(s, "maxItems", "Member must be a number"))
        })
        .transpose()
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn decode(seg: &str) -> String {
    percent_encoding::percent_decode_str(seg)
        .decode_utf8_lossy()
        .into_owned()
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct PublishBody {
    code_sha256: Option<String>,
    description: Option<String>,
    revision_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct AliasBody {
    name: Option<String>,
    function_version: Option<String>,
    description: Option<String>,
    routing_config: Option<AliasRoutingConfiguration>,
    revision_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct ConcurrencyBody {
    reserved_concurrent_executions: Option<i64>,
    provisioned_concurrent_executions: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct TagsBody {
    tags: BTreeMap<String, String>,
}

/// The layer operations (`/2018-10-31/layers…`).
fn layers(
    r: &LambdaRegion,
    req: &Request,
    m: &Method,
    rest: &[&str],
    qs: &[(String, String)],
) -> Result<Response, LambdaError> {
    let filter = crate::layers::LayerFilter {
        compatible_runtime: q(qs, "CompatibleRuntime"),
        compatible_architecture: q(qs, "CompatibleArchitecture"),
    };
    let version = |v: &str| {
        v.parse::<i64>()
            .map_err(|_| LambdaError::validation(v, "versionNumber", "Member must be a number"))
    };
    match (m, rest) {
        (&Method::GET, ["layers"]) if q(qs, "find") == Some("LayerVersion") => {
            let arn = q(qs, "Arn")
                .ok_or_else(|| LambdaError::validation("null", "arn", "Member must not be null"))?;
            Ok(ok(200, &to_json(&r.get_layer_version_by_arn(arn)?)))
        }
        (&Method::GET, ["layers"]) => Ok(ok(
            200,
            &page_json(
                "Layers",
                r.list_layers(filter, q(qs, "Marker"), max_items(qs)?)?,
            ),
        )),
        (&Method::POST, ["layers", name, "versions"]) => Ok(ok(
            201,
            &to_json(&r.publish_layer_version(name, body(req)?)?),
        )),
        (&Method::GET, ["layers", name, "versions"]) => Ok(ok(
            200,
            &page_json(
                "LayerVersions",
                r.list_layer_versions(name, filter, q(qs, "Marker"), max_items(qs)?)?,
            ),
        )),
        (&Method::GET, ["layers", name, "versions", v]) => {
            Ok(ok(200, &to_json(&r.get_layer_version(name, version(v)?)?)))
        }
        (&Method::DELETE, ["layers", name, "versions", v]) => {
            r.delete_layer_version(name, version(v)?)?;
            Ok(ok(204, &Value::Null).map(|_| nubis_wire::Body::empty()))
        }
        _ => Err(LambdaError::UnknownOperation(format!(
            "No Lambda operation matches {} {}",
            req.method(),
            req.uri().path()
        ))),
    }
}

fn page_json<T: serde::Serialize>(key: &str, p: crate::updates::Page<T>) -> Value {
    let mut v = json!({ key: to_json(&p.items) });
    if let Some(m) = p.next_marker {
        v["NextMarker"] = json!(m);
    }
    v
}

async fn route(r: &LambdaRegion, req: &Request) -> Result<Response, LambdaError> {
    let segs: Vec<String> = req
        .uri()
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = req.method().clone();
    let qs = query(req);
    let qual = q(&qs, "Qualifier");
    let unknown = || {
        LambdaError::UnknownOperation(format!(
            "No Lambda operation matches {} {}",
            req.method(),
            req.uri().path()
        ))
    };
    let Some((_, rest)) = segs.split_first() else {
        return Err(unknown());
    };
    match (&m, rest) {
        (_, ["layers", ..]) => layers(r, req, &m, rest, &qs),
        (&Method::POST, ["functions"]) => Ok(ok(201, &to_json(&r.create_function(body(req)?)?))),
        (&Method::GET, ["functions"]) => Ok(ok(
            200,
            &page_json(
                "Functions",
                r.list_functions(q(&qs, "Marker"), max_items(&qs)?)?,
            ),
        )),
        (&Method::GET, ["functions", f]) => Ok(ok(200, &to_json(&r.get_function(f, qual)?))),
        (&Method::DELETE, ["functions", f]) => {
            r.delete_function(f, qual)?;
            Ok(ok(204, &Value::Null).map(|_| nubis_wire::Body::empty()))
        }
        (&Method::GET, ["functions", f, "configuration"]) => {
            Ok(ok(200, &to_json(&r.get_function_configuration(f, qual)?)))
        }
        (&Method::PUT, ["functions", f, "configuration"]) => Ok(ok(
            200,
            &to_json(&r.update_function_configuration(f, body(req)?)?),
        )),
        (&Method::PUT, ["functions", f, "code"]) => {
            Ok(ok(200, &to_json(&r.update_function_code(f, body(req)?)?)))
        }
        (&Method::POST, ["functions", f, "invocations"]) => invoke(r, req, f, qual).await,
        (&Method::POST, ["functions", f, "invoke-async"]) => {
            let ir = InvokeRequest {
                function_name: (*f).to_owned(),
                invocation_type: InvocationType::Event,
                payload: req.body().clone(),
                ..Default::default()
            };
            r.invoke(ir).await?;
            Ok(ok(202, &json!({ "Status": 202 })))
        }
        (&Method::POST, ["functions", f, "versions"]) => {
            let b: PublishBody = body(req)?;
            Ok(ok(
                201,
                &to_json(&r.publish_version(
                    f,
                    b.code_sha256.as_deref(),
                    b.description.as_deref(),
                    b.revision_id.as_deref(),
                )?),
            ))
        }
        (&Method::GET, ["functions", f, "versions"]) => Ok(ok(
            200,
            &page_json(
                "Versions",
                r.list_versions_by_function(f, q(&qs, "Marker"), max_items(&qs)?)?,
            ),
        )),
        (&Method::POST, ["functions", f, "aliases"]) => {
            let b: AliasBody = body(req)?;
            let name = b.name.ok_or_else(|| {
                LambdaError::validation("null", "name", "Member must not be null")
            })?;
            let version = b.function_version.ok_or_else(|| {
                LambdaError::validation("null", "functionVersion", "Member must not be null")
            })?;
            Ok(ok(
                201,
                &to_json(&r.create_alias(
                    f,
                    &name,
                    &version,
                    b.description.as_deref(),
                    b.routing_config,
                )?),
            ))
        }
        (&Method::GET, ["functions", f, "aliases"]) => Ok(ok(
            200,
            &page_json(
                "Aliases",
                r.list_aliases(
                    f,
                    q(&qs, "FunctionVersion"),
                    q(&qs, "Marker"),
                    max_items(&qs)?,
                )?,
            ),
        )),
        (&Method::GET, ["functions", f, "aliases", a]) => {
            Ok(ok(200, &to_json(&r.get_alias(f, a)?)))
        }
        (&Method::PUT, ["functions", f, "aliases", a]) => {
            let b: AliasBody = body(req)?;
            let alias = r.update_alias(
                f,
                a,
                b.function_version.as_deref(),
                b.description.as_deref(),
                b.routing_config,
                b.revision_id.as_deref(),
            )?;
            Ok(ok(200, &to_json(&alias)))
        }
        (&Method::DELETE, ["functions", f, "aliases", a]) => {
            r.delete_alias(f, a)?;
            Ok(ok(204, &Value::Null).map(|_| nubis_wire::Body::empty()))
        }
        (&Method::PUT, ["functions", f, "concurrency"]) => {
            let b: ConcurrencyBody = body(req)?;
            let n = b.reserved_concurrent_executions.ok_or_else(|| {
                LambdaError::validation(
                    "null",
                    "reservedConcurrentExecutions",
                    "Member must not be null",
                )
            })?;
            Ok(ok(
                200,
                &json!({ "ReservedConcurrentExecutions": r.put_function_concurrency(f, n)? }),
            ))
        }
        (&Method::GET, ["functions", f, "concurrency"]) => Ok(ok(
            200,
            &match r.get_function_concurrency(f)? {
                Some(n) => json!({ "ReservedConcurrentExecutions": n }),
                None => json!({}),
            },
        )),
        (&Method::DELETE, ["functions", f, "concurrency"]) => {
            r.delete_function_concurrency(f)?;
            Ok(ok(204, &Value::Null).map(|_| nubis_wire::Body::empty()))
        }
        (_, ["functions", f, "provisioned-concurrency"]) => {
            let qualifier = qual.ok_or_else(|| {
                LambdaError::validation("null", "qualifier", "Member must not be null")
            })?;
            match m {
                Method::PUT => {
                    let b: ConcurrencyBody = body(req)?;
                    let n = b.provisioned_concurrent_executions.ok_or_else(|| {
                        LambdaError::validation(
                            "null",
                            "provisionedConcurrentExecutions",
                            "Member must not be null",
                        )
                    })?;
                    Ok(ok(
                        202,
                        &to_json(&r.put_provisioned_concurrency_config(f, qualifier, n)?),
                    ))
                }
                Method::GET => Ok(ok(
                    200,
                    &to_json(&r.get_provisioned_concurrency_config(f, qualifier)?),
                )),
                Method::DELETE => {
                    r.delete_provisioned_concurrency_config(f, qualifier)?;
                    Ok(ok(204, &Value::Null).map(|_| nubis_wire::Body::empty()))
                }
                _ => Err(unknown()),
            }
        }
        (&Method::GET, ["functions", f, "event-invoke-config", "list"]) => Ok(ok(
            200,
            &json!({ "FunctionEventInvokeConfigs": to_json(&r.list_function_event_invoke_configs(f)?) }),
        )),
        (_, ["functions", f, "event-invoke-config"]) => match m {
            Method::PUT => Ok(ok(
                200,
                &to_json(&r.put_function_event_invoke_config(f, qual, body(req)?, false)?),
            )),
            Method::POST => Ok(ok(
                200,
                &to_json(&r.put_function_event_invoke_config(f, qual, body(req)?, true)?),
            )),
            Method::GET => Ok(ok(
                200,
                &to_json(&r.get_function_event_invoke_config(f, qual)?),
            )),
            Method::DELETE => {
                r.delete_function_event_invoke_config(f, qual)?;
                Ok(ok(204, &Value::Null).map(|_| nubis_wire::Body::empty()))
            }
            _ => Err(unknown()),
        },
        (_, ["tags", arn]) => match m {
            Method::GET => Ok(ok(200, &json!({ "Tags": r.list_tags(arn)? }))),
            Method::POST => {
                let b: TagsBody = body(req)?;
                r.tag_resource(arn, b.tags)?;
                Ok(ok(204, &Value::Null).map(|_| nubis_wire::Body::empty()))
            }
            Method::DELETE => {
                let keys: Vec<String> = qs
                    .iter()
                    .filter(|(k, _)| k == "tagKeys")
                    .map(|(_, v)| v.clone())
                    .collect();
                r.untag_resource(arn, &keys)?;
                Ok(ok(204, &Value::Null).map(|_| nubis_wire::Body::empty()))
            }
            _ => Err(unknown()),
        },
        (&Method::GET, ["account-settings"]) => Ok(ok(200, &to_json(&r.get_account_settings()))),
        (&Method::POST, ["event-source-mappings"]) => Ok(ok(
            202,
            &to_json(&r.create_event_source_mapping(body::<CreateEventSourceMapping>(req)?)?),
        )),
        (&Method::GET, ["event-source-mappings"]) => {
            let list =
                r.list_event_source_mappings(q(&qs, "EventSourceArn"), q(&qs, "FunctionName"))?;
            Ok(ok(200, &json!({ "EventSourceMappings": to_json(&list) })))
        }
        (&Method::GET, ["event-source-mappings", id]) => {
            Ok(ok(200, &to_json(&r.get_event_source_mapping(id)?)))
        }
        (&Method::PUT, ["event-source-mappings", id]) => Ok(ok(
            202,
            &to_json(&r.update_event_source_mapping(id, body(req)?)?),
        )),
        (&Method::DELETE, ["event-source-mappings", id]) => {
            Ok(ok(202, &to_json(&r.delete_event_source_mapping(id)?)))
        }
        _ => Err(unknown()),
    }
}

async fn invoke(
    r: &LambdaRegion,
    req: &Request,
    f: &str,
    qual: Option<&str>,
) -> Result<Response, LambdaError> {
    let invocation_type = header(req, "x-amz-invocation-type")
        .map(|s| InvocationType::parse(&s))
        .transpose()?
        .unwrap_or_default();
    let log_type = header(req, "x-amz-log-type")
        .map(|s| LogType::parse(&s))
        .transpose()?
        .unwrap_or_default();
    let ir = InvokeRequest {
        function_name: f.to_owned(),
        qualifier: qual.map(str::to_owned),
        invocation_type,
        log_type,
        payload: req.body().clone(),
        client_context: header(req, "x-amz-client-context"),
    };
    let out = r.invoke(ir).await?;
    let mut resp = http::Response::new(nubis_wire::Body::from(out.payload));
    *resp.status_mut() = StatusCode::from_u16(out.status_code).unwrap_or(StatusCode::OK);
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let mut set = |k: &'static str, v: Option<String>| {
        if let Some(v) = v.and_then(|v| HeaderValue::from_str(&v).ok()) {
            h.insert(k, v);
        }
    };
    set("x-amz-function-error", out.function_error);
    set("x-amz-log-result", out.log_result);
    set("x-amz-executed-version", out.executed_version);
    Ok(resp)
}

/// Keeps the `Arc` import meaningful for callers that share the service.
pub fn shared(lambda: Lambda) -> Arc<dyn Service> {
    Arc::new(LambdaService::new(lambda))
}
