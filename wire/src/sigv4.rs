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
