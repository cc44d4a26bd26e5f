//! The S3 REST (restXml) binding: [`S3Service`] implements `nubis_wire::Service` for the one
//! endpoint. Path-style (`/bucket/key`) and virtual-host-style (`bucket.<host>`) addressing,
//! the accelerate host form (`bucket.s3-accelerate.amazonaws.com`), aws-chunked bodies, and
//! SelectObjectContent answered as an AWS event stream.
//!
//! Every error, unknown operations included, is S3's XML error shape with its status;
//! errors raised after a select stream began are event-stream error messages.

pub mod chunked;
mod ops;
pub mod xml;

use std::sync::Arc;

use futures::future::BoxFuture;
use nubis_wire::{Protocol, Request, RequestContext, Response, Service, ServiceDescriptor};
use percent_encoding::percent_decode_str;

use crate::ServiceError;
use crate::error::Error;
use crate::store::S3;

/// The S3 wire service.
#[derive(Debug, Clone)]
pub struct S3Service {
    engine: Arc<S3>,
}

impl S3Service {
    /// Serves `engine`.
    pub fn new(engine: Arc<S3>) -> Self {
        S3Service { engine }
    }
}

/// How a request addressed its bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// The bucket, if any.
    pub bucket: Option<String>,
    /// The key, if any (percent-decoded).
    pub key: Option<String>,
    /// Whether the request came through the bucket's accelerate endpoint.
    pub accelerate: bool,
}

/// Works out bucket and key from the Host header and the path.
pub fn address(host: Option<&str>, path: &str) -> Result<Address, Error> {
    let host = host
        .unwrap_or("")
        .split(':')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let decode = |s: &str| {
        percent_decode_str(s)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| Error::InvalidRequest {
                message: "Couldn't parse the specified URI.".into(),
            })
    };
    let path = path.strip_prefix('/').unwrap_or(path);
    let vhost_bucket = if let Some(i) = host.find(".s3-accelerate.") {
        Some((host[..i].to_owned(), true))
    } else if host.starts_with("s3-accelerate.") {
        return Err(Error::InvalidRequest {
            message: "S3 Transfer Accelerate endpoint only supports virtual style requests".into(),
        });
    } else if let Some(i) = host.find(".s3.").or_else(|| host.find(".s3-")) {
        Some((host[..i].to_owned(), false))
    } else {
        host.strip_suffix(".localhost")
            .filter(|b| !b.is_empty())
            .map(|b| (b.to_owned(), false))
    };
    Ok(match vhost_bucket {
        Some((bucket, accelerate)) => Address {
            bucket: Some(bucket),
            key: if path.is_empty() {
                None
            } else {
                Some(decode(path)?)
            },
            accelerate,
        },
        None => {
            let (b, k) = match path.split_once('/') {
                Some((b, k)) => (b, Some(k)),
                None => (path, None),
            };
            Address {
                bucket: if b.is_empty() { None } else { Some(decode(b)?) },
                key: match k {
                    Some(k) if !k.is_empty() => Some(decode(k)?),
                    _ => None,
                },
                accelerate: false,
            }
        }
    })
}

/// The XML error response for `err` (no body for HEAD and 304).
pub fn error_response(
    err: &Error,
    request_id: &str,
    head: bool,
    resource: Option<&str>,
) -> Response {
    let mut extra: Vec<(&str, String)> = err.details();
    if let Some(r) = resource {
        extra.push(("Resource", r.to_owned()));
    }
    let refs: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut resp =
        nubis_wire::rest_xml_error(err.status(), err.code(), &err.message(), request_id, &refs);
    if head || err.status() == 304 {
        *resp.body_mut() = nubis_wire::Body::empty();
    }
    if let Ok(v) = http::HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-amz-request-id", v);
    }
    resp
}

impl Service for S3Service {
    fn descriptor(&self) -> ServiceDescriptor {
        ServiceDescriptor {
            name: "s3",
            protocol: Protocol::RestXml,
            signing_names: &["s3"],
            target_prefixes: &[],
            unsigned_paths: &[],
            unsigned_fallback: true,
        }
    }

    fn call<'a>(&'a self, ctx: RequestContext, req: Request) -> BoxFuture<'a, Response> {
        Box::pin(async move {
            let head = req.method() == http::Method::HEAD;
            let resource = req.uri().path().to_owned();
            match ops::dispatch(&self.engine, &ctx, req) {
                Ok(mut resp) => {
                    if let Ok(v) = http::HeaderValue::from_str(&ctx.request_id) {
                        resp.headers_mut().insert("x-amz-request-id", v);
                    }
                    resp
                }
                Err(e) => error_response(&e, &ctx.request_id, head, Some(&resource)),
            }
        })
    }

    fn health(&self) -> serde_json::Value {
        serde_json::json!({ "state": "running", "buckets": self.engine.list_buckets().len() })
    }

    fn reset(&self) {
        self.engine.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addressing_styles() {
        let a = address(Some("127.0.0.1:9000"), "/bkt/a%20b/c").unwrap();
        assert_eq!(
            (a.bucket.as_deref(), a.key.as_deref(), a.accelerate),
            (Some("bkt"), Some("a b/c"), false)
        );
        let a = address(Some("bkt.s3.us-east-1.amazonaws.com"), "/k").unwrap();
        assert_eq!(
            (a.bucket.as_deref(), a.key.as_deref()),
            (Some("bkt"), Some("k"))
        );
        let a = address(Some("bkt.localhost:4566"), "/").unwrap();
        assert_eq!((a.bucket.as_deref(), a.key), (Some("bkt"), None));
        let a = address(Some("bkt.s3-accelerate.amazonaws.com"), "/k").unwrap();
        assert!(a.accelerate);
        assert!(address(Some("s3-accelerate.amazonaws.com"), "/bkt/k").is_err());
        assert_eq!(address(Some("localhost"), "/").unwrap().bucket, None);
    }
}
