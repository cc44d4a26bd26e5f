//! SigV4: reading the credential scope (service and region) from a request, and — behind the
//! `sigv4-verify` feature — checking the signature.
//!
//! Routing needs only the scope: `Authorization: AWS4-HMAC-SHA256 Credential=AKID/20261124/
//! us-east-1/dynamodb/aws4_request, SignedHeaders=…, Signature=…`, or `X-Amz-Credential` in the
//! query string of a presigned URL.

/// The parts of a SigV4 authorization that routing and verification use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The access key id.
    pub access_key: String,
    /// The scope date, `YYYYMMDD`.
    pub date: String,
    /// The region the request was signed for.
    pub region: String,
    /// The signing name of the service (`dynamodb`, `s3`, `lambda`, `rds` …).
    pub service: String,
    /// The signed header names, lowercase, `;`-separated in the original.
    pub signed_headers: Vec<String>,
    /// The hex signature.
    pub signature: String,
    /// For a presigned URL, the signing parameters its query string carries.
    pub presigned: Option<Presigned>,
}

/// The query parameters a presigned URL carries besides its credential scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presigned {
    /// `X-Amz-Date`, `YYYYMMDDTHHMMSSZ` (empty when absent).
    pub amz_date: String,
    /// `X-Amz-Expires` as sent (seconds; validated by [`Presigned::check_expiry`]).
    pub expires: String,
    /// `X-Amz-Security-Token`, for URLs signed with temporary credentials.
    pub security_token: Option<String>,
}

/// The longest validity SigV4 allows a presigned URL: seven days.
pub const MAX_PRESIGNED_EXPIRES: u64 = 604_800;

/// Why a presigned URL is refused before its signature is looked at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpiryError {
    /// The query parameters are malformed (`AuthorizationQueryParametersError`, 400).
    #[error("{0}")]
    Parameters(String),
    /// The URL's validity has run out (`AccessDenied`, 403).
    #[error("Request has expired")]
    Expired,
}

impl Presigned {
    /// How long the URL is valid from `X-Amz-Date`.
    pub fn validity(&self) -> Result<std::time::Duration, ExpiryError> {
        let param = |m: &str| ExpiryError::Parameters(m.to_owned());
        let secs: i64 = self
            .expires
            .parse()
            .map_err(|_| param("X-Amz-Expires should be a number"))?;
        if secs < 0 {
            return Err(param("X-Amz-Expires must be non-negative"));
        }
        let secs = secs.unsigned_abs();
        if secs > MAX_PRESIGNED_EXPIRES {
            return Err(param(
                "X-Amz-Expires must be less than a week (in seconds) that is 604800",
            ));
        }
        Ok(std::time::Duration::from_secs(secs))
    }

    /// Checks the URL is still valid at `now` (the endpoint's clock, so tests can expire URLs by
    /// advancing a manual clock instead of waiting).
    pub fn check_expiry(&self, now: std::time::SystemTime) -> Result<(), ExpiryError> {
        let signed_at = nubis_core::clock::parse_amz_date(&self.amz_date).map_err(|_| {
            ExpiryError::Parameters(format!(
                "Invalid date (should be in ISO 8601 basic format, like 20261124T223000Z): {}",
                self.amz_date
            ))
        })?;
        if now > signed_at + self.validity()? {
            return Err(ExpiryError::Expired);
        }
        Ok(())
    }
}

/// Parses an `Authorization` header value. `None` when it is not SigV4.
pub fn parse_authorization(value: &str) -> Option<Credential> {
    let rest = value.trim().strip_prefix("AWS4-HMAC-SHA256")?.trim_start();
    let mut credential = None;
    let mut signed_headers = Vec::new();
    let mut signature = String::new();
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(c) = part.strip_prefix("Credential=") {
            credential = Some(c);
        } else if let Some(h) = part.strip_prefix("SignedHeaders=") {
            signed_headers = h.split(';').map(str::to_owned).collect();
        } else if let Some(s) = part.strip_prefix("Signature=") {
            signature = s.to_owned();
        }
    }
    let mut c = parse_scope(credential?)?;
    c.signed_headers = signed_headers;
    c.signature = signature;
    Some(c)
}

/// What routing reads from an `Authorization` header, borrowed from it: the parts of the
/// credential scope that pick the service and region, without the allocations of a whole
/// [`Credential`] (signed headers and signature are only needed to verify).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope<'a> {
    /// The access key id.
    pub access_key: &'a str,
    /// The region the request was signed for.
    pub region: &'a str,
    /// The signing name of the service.
    pub service: &'a str,
}

/// The credential scope of an `Authorization` header value: `Some` exactly when
/// [`parse_authorization`] accepts the value, with the same access key, region and service.
pub fn authorization_scope(value: &str) -> Option<Scope<'_>> {
    let rest = value.trim().strip_prefix("AWS4-HMAC-SHA256")?.trim_start();
    // The last `Credential=` part wins, as in `parse_authorization`.
    let credential = rest
        .split(',')
        .filter_map(|part| part.trim().strip_prefix("Credential="))
        .next_back()?;
    let mut it = credential.split('/');
    let access_key = it.next()?;
    let _date = it.next()?;
    let region = it.next()?;
    let service = it.next()?;
    if it.next()? != "aws4_request" || it.next().is_some() {
        return None;
    }
    Some(Scope {
        access_key,
        region,
        service,
    })
}

/// Parses a presigned URL's query (`X-Amz-Credential=…&X-Amz-SignedHeaders=…&X-Amz-Signature=…`).
pub fn parse_presigned_query(query: &str) -> Option<Credential> {
    let pairs = crate::parse_form(query.as_bytes());
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if get("X-Amz-Algorithm") != Some("AWS4-HMAC-SHA256") {
        return None;
    }
    let mut c = parse_scope(get("X-Amz-Credential")?)?;
    c.signed_headers = get("X-Amz-SignedHeaders")
        .unwrap_or("")
        .split(';')
        .map(str::to_owned)
        .collect();
    c.signature = get("X-Amz-Signature").unwrap_or("").to_owned();
    c.presigned = Some(Presigned {
        amz_date: get("X-Amz-Date").unwrap_or("").to_owned(),
        expires: get("X-Amz-Expires").unwrap_or("").to_owned(),
        security_token: get("X-Amz-Security-Token").map(str::to_owned),
    });
    Some(c)
}

/// `AKID/20261124/us-east-1/dynamodb/aws4_request`.
fn parse_scope(scope: &str) -> Option<Credential> {
    let mut it = scope.split('/');
    let access_key = it.next()?.to_owned();
    let date = it.next()?.to_owned();
    let region = it.next()?.to_owned();
    let service = it.next()?.to_owned();
    if it.next()? != "aws4_request" || it.next().is_some() {
        return None;
    }
    Some(Credential {
        access_key,
        date,
        region,
        service,
        signed_headers: Vec::new(),
        signature: String::new(),
        presigned: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_authorization() {
        let c = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=AKID/20261124/eu-west-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
        )
        .unwrap();
        assert_eq!(c.region, "eu-west-1");
        assert_eq!(c.service, "dynamodb");
        assert_eq!(c.signed_headers, ["host", "x-amz-date"]);
        assert!(parse_authorization("Basic abc").is_none());
        assert!(parse_authorization("AWS4-HMAC-SHA256 Credential=x/y").is_none());
    }

    #[test]
    fn parses_presigned() {
        let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20261124%2Fus-west-2%2Fs3%2Faws4_request&X-Amz-SignedHeaders=host&X-Amz-Signature=ff";
        let c = parse_presigned_query(q).unwrap();
        assert_eq!((c.region.as_str(), c.service.as_str()), ("us-west-2", "s3"));
    }
}

/// Why a signature was refused.
#[cfg(feature = "sigv4-verify")]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The access key is not one the endpoint knows.
    #[error("The security token included in the request is invalid: unknown access key '{0}'")]
    UnknownAccessKey(String),
    /// The signature does not match the request.
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    )]
    Mismatch,
    /// The request lacks what SigV4 needs (`X-Amz-Date`, a signed header).
    #[error("Malformed SigV4 request: {0}")]
    Malformed(String),
}

/// Verifies a SigV4 request — header-signed or a presigned URL — by re-signing it with `secret`
/// and comparing signatures.
///
/// `aws-sigv4` has no verify function, so this rebuilds the `SignableRequest` from the signed
/// headers and the signing time, signs it, and compares. S3 (`service == "s3"`) signs the path
/// single-encoded and unnormalised and hashes the payload as `x-amz-content-sha256` says (a
/// presigned URL's payload is `UNSIGNED-PAYLOAD`); the other services double-encode and hash the
/// body. A presigned URL is re-signed without its `X-Amz-*` authentication parameters, which the
/// signer adds back exactly as the client's signer did. Expiry is not checked here (it needs the
/// endpoint's clock): see [`Presigned::check_expiry`].
#[cfg(feature = "sigv4-verify")]
pub fn verify(
    req: &crate::Request,
    credential: &Credential,
    secret: &str,
) -> Result<(), VerifyError> {
    use aws_sigv4::http_request::{
        PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
        SigningSettings, UriPathNormalizationMode, sign,
    };
    use aws_sigv4::sign::v4;

    let malformed = |m: &str| VerifyError::Malformed(m.to_owned());
    let amz_date = match &credential.presigned {
        Some(p) => Some(p.amz_date.as_str()).filter(|d| !d.is_empty()),
        None => req
            .headers()
            .get("x-amz-date")
            .and_then(|v| v.to_str().ok()),
    }
    .ok_or_else(|| malformed("missing X-Amz-Date"))?;
    let time = nubis_core::clock::parse_amz_date(amz_date)
        .map_err(|_| malformed("X-Amz-Date is not YYYYMMDDTHHMMSSZ"))?;
    let mut headers = Vec::with_capacity(credential.signed_headers.len());
    for name in &credential.signed_headers {
        let values: Vec<&str> = req
            .headers()
            .get_all(name.as_str())
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if values.is_empty() {
            return Err(VerifyError::Malformed(format!(
                "signed header '{name}' is missing"
            )));
        }
        headers.push((name.as_str(), values.join(",")));
    }
    let is_s3 = credential.service == "s3";
    let mut settings = SigningSettings::default();
    settings.excluded_headers = Some(Vec::new());
    settings.payload_checksum_kind = PayloadChecksumKind::NoHeader;
    if is_s3 {
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    }
    let (body, uri, token) = match &credential.presigned {
        Some(p) => {
            settings.signature_location = SignatureLocation::QueryParams;
            settings.expires_in = Some(p.validity().map_err(|e| malformed(&e.to_string()))?);
            let body = if is_s3 {
                SignableBody::UnsignedPayload
            } else {
                SignableBody::Bytes(req.body())
            };
            (
                body,
                without_auth_params(req.uri()),
                p.security_token.clone(),
            )
        }
        None => {
            let payload_hash = req
                .headers()
                .get("x-amz-content-sha256")
                .and_then(|v| v.to_str().ok());
            let body = match payload_hash {
                Some(h) if is_s3 || h == "UNSIGNED-PAYLOAD" || h.starts_with("STREAMING-") => {
                    SignableBody::Precomputed(h.to_owned())
                }
                _ => SignableBody::Bytes(req.body()),
            };
            // A session token travels as a signed header, which `headers` already carries.
            (body, req.uri().to_string(), None)
        }
    };
    let identity = aws_credential_types::Credentials::new(
        &credential.access_key,
        secret,
        token,
        None,
        "nubis",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&credential.region)
        .name(&credential.service)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| VerifyError::Malformed(e.to_string()))?
        .into();
    let signable = SignableRequest::new(
        req.method().as_str(),
        uri,
        headers.iter().map(|(k, v)| (*k, v.as_str())),
        body,
    )
    .map_err(|e| VerifyError::Malformed(e.to_string()))?;
    let output = sign(signable, &params).map_err(|e| VerifyError::Malformed(e.to_string()))?;
    if output.signature() == credential.signature {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

/// The query parameters a presigned URL adds for its authentication.
#[cfg(feature = "sigv4-verify")]
const AUTH_PARAMS: [&str; 7] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
];

/// `uri` without the presigned-URL authentication parameters, other parameters kept as sent.
#[cfg(feature = "sigv4-verify")]
fn without_auth_params(uri: &http::Uri) -> String {
    let mut out = uri.path().to_owned();
    let kept: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(n, _)| n);
            !pair.is_empty() && !AUTH_PARAMS.contains(&name)
        })
        .collect();
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept.join("&"));
    }
    out
}

#[cfg(test)]
mod props {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,200}") {
            let _ = super::parse_authorization(&s);
            let _ = super::parse_presigned_query(&s);
        }

        #[test]
        fn borrowed_scope_matches_full_parse(s in "(AWS4-HMAC-SHA256 ?)?(Credential=[A-Za-z0-9/_-]{0,40}|SignedHeaders=[a-z;-]{0,20}|Signature=[a-f0-9]{0,8}|, | |\\PC{0,3}){0,6}") {
            let full = super::parse_authorization(&s);
            let scope = super::authorization_scope(&s);
            prop_assert_eq!(
                full.as_ref().map(|c| (c.access_key.as_str(), c.region.as_str(), c.service.as_str())),
                scope.map(|c| (c.access_key, c.region, c.service))
            );
        }

        #[test]
        fn scope_round_trips(ak in "[A-Z0-9]{4,20}", region in "[a-z]{2}-[a-z]{4,9}-[1-9]", service in "[a-z][a-z0-9-]{1,12}") {
            let h = format!("AWS4-HMAC-SHA256 Credential={ak}/20261124/{region}/{service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=ab");
            let c = super::parse_authorization(&h).unwrap();
            prop_assert_eq!((c.access_key, c.region, c.service), (ak, region, service));
        }
    }
}
