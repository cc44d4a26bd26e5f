//! Routing a request on the one endpoint to the service that answers it.
//!
//! The rule, in order (documented in `docs/ARCHITECTURE.md`):
//! 1. `X-Amz-Target: <Prefix>.<Operation>` picks the service that declares `<Prefix>`.
//! 2. A SigV4 signature (header or presigned query) picks the service by signing name, so an S3
//!    bucket called `gremlin` still reaches S3.
//! 3. An unsigned request goes to the service that declares the longest matching path prefix, and
//!    otherwise to the unsigned fallback (S3).
//!
//! Anything that matches nothing gets an AWS-shaped `UnknownServiceException` in the protocol the
//! request looks like, never a 500 or a dropped connection.

use std::sync::Arc;

use nubis_core::{AccountId, IdGen, Region, SharedClock, SystemClock};

use crate::sigv4::{
    Credential, Scope, authorization_scope, parse_authorization, parse_presigned_query,
};
use crate::{Protocol, Request, RequestContext, Response, Service, error};

/// Routes requests to services.
pub struct Router {
    services: Vec<Arc<dyn Service>>,
    default_region: Region,
    account: AccountId,
    ids: IdGen,
    /// The endpoint's clock: presigned URLs expire on it.
    clock: SharedClock,
    /// Access key → secret; when set, signed requests must carry a valid signature.
    #[cfg(feature = "sigv4-verify")]
    credentials: Option<std::collections::HashMap<String, String>>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("services", &self.services.len())
            .field("default_region", &self.default_region)
            .finish()
    }
}

impl Router {
    /// A router over `services`; unsigned requests act in `default_region`.
    pub fn new(
        services: Vec<Arc<dyn Service>>,
        default_region: Region,
        account: AccountId,
        ids: IdGen,
    ) -> Self {
        Router {
            services,
            default_region,
            account,
            ids,
            clock: Arc::new(SystemClock),
            #[cfg(feature = "sigv4-verify")]
            credentials: None,
        }
    }

    /// Uses `clock` for time-dependent checks (presigned URL expiry). The system clock otherwise.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Refuses a presigned URL whose `X-Amz-Expires` is malformed or has run out on the endpoint's
    /// clock. Needs no secret, so it applies whether or not signatures are verified.
    fn check_expiry(
        &self,
        credential: Option<&Credential>,
        protocol: Protocol,
        request_id: &str,
    ) -> Result<(), Box<Response>> {
        use crate::sigv4::ExpiryError;
        let Some(presigned) = credential.and_then(|c| c.presigned.as_ref()) else {
            return Ok(());
        };
        let Err(e) = presigned.check_expiry(self.clock.now()) else {
            return Ok(());
        };
        let (status, code) = match e {
            ExpiryError::Parameters(_) => (400, "AuthorizationQueryParametersError"),
            ExpiryError::Expired => (403, "AccessDenied"),
        };
        Err(reject(
            error(protocol, status, code, &e.to_string(), request_id),
            request_id,
        ))
    }

    /// Turns on SigV4 verification with these access keys and secrets. Off by default.
    #[cfg(feature = "sigv4-verify")]
    pub fn verify_signatures(
        mut self,
        credentials: std::collections::HashMap<String, String>,
    ) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Whether signed requests must carry a valid signature.
    #[cfg(feature = "sigv4-verify")]
    fn verifies(&self) -> bool {
        self.credentials.is_some()
    }

    /// Whether signed requests must carry a valid signature (never without `sigv4-verify`).
    #[cfg(not(feature = "sigv4-verify"))]
    fn verifies(&self) -> bool {
        false
    }

    /// Checks a signed request's signature when verification is on.
    #[cfg(feature = "sigv4-verify")]
    fn check_signature(
        &self,
        req: &Request,
        credential: Option<&Credential>,
        protocol: Protocol,
        request_id: &str,
    ) -> Result<(), Box<Response>> {
        use crate::sigv4::{VerifyError, verify};
        let (Some(credentials), Some(credential)) = (&self.credentials, credential) else {
            return Ok(());
        };
        let result = match credentials.get(&credential.access_key) {
            Some(secret) => verify(req, credential, secret),
            None => Err(VerifyError::UnknownAccessKey(credential.access_key.clone())),
        };
        let Err(e) = result else { return Ok(()) };
        let json = matches!(protocol, Protocol::AwsJson1_0 | Protocol::AwsJson1_1);
        let (status, code) = match (&e, protocol) {
            (VerifyError::UnknownAccessKey(_), Protocol::RestXml) => (403, "InvalidAccessKeyId"),
            (VerifyError::UnknownAccessKey(_), Protocol::AwsQuery) => (403, "InvalidClientTokenId"),
            (VerifyError::UnknownAccessKey(_), _) => {
                (if json { 400 } else { 403 }, "UnrecognizedClientException")
            }
            (_, Protocol::RestXml | Protocol::AwsQuery) => (403, "SignatureDoesNotMatch"),
            _ => (if json { 400 } else { 403 }, "InvalidSignatureException"),
        };
        Err(reject(
            error(protocol, status, code, &e.to_string(), request_id),
            request_id,
        ))
    }

    #[cfg(not(feature = "sigv4-verify"))]
    fn check_signature(
        &self,
        _: &Request,
        _: Option<&Credential>,
        _: Protocol,
        _: &str,
    ) -> Result<(), Box<Response>> {
        Ok(())
    }

    /// Every service, in registration order.
    pub fn services(&self) -> &[Arc<dyn Service>] {
        &self.services
    }

    /// Picks the service for `req`, or answers it with an AWS-shaped error.
    pub fn route(
        &self,
        req: &Request,
    ) -> Result<(Arc<dyn Service>, RequestContext), Box<Response>> {
        let request_id = self.ids.request_id();
        // A header-signed request's scope is read in place; the whole credential (signed headers,
        // signature) is parsed only when signatures are verified. Presigned URLs carry their
        // expiry in the credential, so they are always parsed whole.
        let auth = req
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let header_scope = auth.and_then(authorization_scope);
        let credential = match (header_scope, auth) {
            (Some(_), Some(a)) if self.verifies() => parse_authorization(a),
            (Some(_), _) => None,
            (None, _) => req.uri().query().and_then(parse_presigned_query),
        };
        let scope = header_scope.or_else(|| {
            credential.as_ref().map(|c| Scope {
                access_key: &c.access_key,
                region: &c.region,
                service: &c.service,
            })
        });
        let target = req
            .headers()
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok());
        let guessed = guess_protocol(req, target.is_some());

        let region = match &scope {
            Some(c) => match Region::new(c.region) {
                Ok(r) => r,
                Err(_) => {
                    let msg = format!(
                        "The region '{}' in the request's credential scope is not an AWS region",
                        c.region
                    );
                    return Err(reject(
                        error(guessed, 400, "InvalidRegion", &msg, &request_id),
                        &request_id,
                    ));
                }
            },
            None => self.default_region.clone(),
        };
        let mut ctx = RequestContext {
            region,
            account: self.account,
            request_id,
            signing_name: scope.map(|c| c.service.to_owned()),
            access_key: scope.map(|c| c.access_key.to_owned()),
            operation: None,
            target_prefix: None,
        };

        if let Some(target) = target {
            let (prefix, op) = target.split_once('.').unwrap_or((target, ""));
            ctx.target_prefix = Some(prefix.to_owned());
            ctx.operation = Some(op.to_owned());
            let found = self
                .services
                .iter()
                .find(|s| s.descriptor().target_prefixes.contains(&prefix));
            let protocol = found.map_or(guessed, |s| s.descriptor().protocol);
            self.check_expiry(credential.as_ref(), protocol, &ctx.request_id)?;
            self.check_signature(req, credential.as_ref(), protocol, &ctx.request_id)?;
            return match found {
                Some(s) => Ok((Arc::clone(s), ctx)),
                None => {
                    let signed = ctx
                        .signing_name
                        .as_deref()
                        .map(|n| format!(" (signing name '{n}')"))
                        .unwrap_or_default();
                    let msg =
                        format!("Nubis serves no service for X-Amz-Target '{target}'{signed}");
                    Err(reject(
                        error(
                            guessed,
                            400,
                            "UnknownServiceException",
                            &msg,
                            &ctx.request_id,
                        ),
                        &ctx.request_id,
                    ))
                }
            };
        }

        if let Some(c) = scope {
            let found = self
                .services
                .iter()
                .find(|s| s.descriptor().signing_names.contains(&c.service));
            let protocol = found.map_or(guessed, |s| s.descriptor().protocol);
            self.check_expiry(credential.as_ref(), protocol, &ctx.request_id)?;
            self.check_signature(req, credential.as_ref(), protocol, &ctx.request_id)?;
            return match found {
                Some(s) => Ok((Arc::clone(s), ctx)),
                None => {
                    let msg = format!(
                        "Nubis serves no service with the signing name '{}'",
                        c.service
                    );
                    Err(reject(
                        error(
                            guessed,
                            400,
                            "UnknownServiceException",
                            &msg,
                            &ctx.request_id,
                        ),
                        &ctx.request_id,
                    ))
                }
            };
        }

        let path = req.uri().path();
        let by_path = self
            .services
            .iter()
            .filter_map(|s| {
                let d = s.descriptor();
                d.unsigned_paths
                    .iter()
                    .filter(|p| {
                        path == **p
                            || path
                                .strip_prefix(**p)
                                .is_some_and(|rest| rest.starts_with('/'))
                    })
                    .map(|p| p.len())
                    .max()
                    .map(|len| (len, s))
            })
            .max_by_key(|(len, _)| *len)
            .map(|(_, s)| s);
        if let Some(s) = by_path.or_else(|| {
            self.services
                .iter()
                .find(|s| s.descriptor().unsigned_fallback)
        }) {
            return Ok((Arc::clone(s), ctx));
        }
        let msg = format!("Nubis serves nothing at '{path}' for unsigned requests");
        Err(reject(
            error(
                guessed,
                404,
                "UnknownServiceException",
                &msg,
                &ctx.request_id,
            ),
            &ctx.request_id,
        ))
    }
}

fn reject(resp: Response, request_id: &str) -> Box<Response> {
    Box::new(with_request_id(resp, request_id))
}

/// Adds `x-amzn-RequestId` and `x-amz-request-id` unless the response already has them.
pub fn with_request_id(mut resp: Response, request_id: &str) -> Response {
    if let Ok(v) = http::HeaderValue::from_str(request_id) {
        let h = resp.headers_mut();
        if !h.contains_key("x-amzn-requestid") {
            h.insert("x-amzn-requestid", v.clone());
        }
        if !h.contains_key("x-amz-request-id") {
            h.insert("x-amz-request-id", v);
        }
    }
    resp
}

/// The protocol a request looks like, for answering requests no service claims.
pub fn guess_protocol(req: &Request, has_target: bool) -> Protocol {
    let ct = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if has_target {
        if ct.contains("1.1") {
            Protocol::AwsJson1_1
        } else {
            Protocol::AwsJson1_0
        }
    } else if ct.starts_with("application/x-www-form-urlencoded") {
        Protocol::AwsQuery
    } else if ct.contains("json") {
        Protocol::RestJson1
    } else {
        Protocol::RestXml
    }
}
