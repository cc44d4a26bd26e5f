//! The AWS wire protocols and their response and error shapes.
//!
//! Error shapes are exact because the SDKs choose exception types and retry behaviour from them:
//! - awsJson1_0/1_1: `{"__type": "<Code>", "message": "…"}` and `x-amzn-ErrorType: <Code>`;
//! - restJson1: `x-amzn-ErrorType: <Code>` and `{"Type": "User"|"Service", "message": "…"}`;
//! - restXml (S3): `<Error><Code/><Message/>…<RequestId/></Error>`;
//! - awsQuery (RDS): `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use nubis_core::ServiceError;

use crate::{Body, Response};

/// An AWS wire protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// JSON over POST with `X-Amz-Target`, content type `application/x-amz-json-1.0` (DynamoDB).
    AwsJson1_0,
    /// The same with `application/x-amz-json-1.1` (ECS, SageMaker, Comprehend …).
    AwsJson1_1,
    /// REST with JSON bodies (Lambda, RDS Data API, IoT).
    RestJson1,
    /// REST with XML bodies (S3).
    RestXml,
    /// Form-encoded `Action=…` requests with XML answers (RDS, Neptune control plane).
    AwsQuery,
    /// Plain HTTP/JSON with no AWS framing (the Neptune data plane, the Lambda Runtime API).
    Plain,
}

impl Protocol {
    /// The content type of this protocol's bodies.
    pub fn content_type(self) -> &'static str {
        match self {
            Protocol::AwsJson1_0 => "application/x-amz-json-1.0",
            Protocol::AwsJson1_1 => "application/x-amz-json-1.1",
            Protocol::RestJson1 | Protocol::Plain => "application/json",
            Protocol::RestXml | Protocol::AwsQuery => "application/xml",
        }
    }
}

/// The status for a code, as a [`StatusCode`] (500 for anything out of range).
fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A response with `body` and this protocol's content type.
pub fn response(protocol: Protocol, status_code: u16, body: impl Into<Body>) -> Response {
    let mut resp = http::Response::new(body.into());
    *resp.status_mut() = status(status_code);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(protocol.content_type()),
    );
    resp
}

/// A 200 JSON response for the JSON protocols.
pub fn json_response(protocol: Protocol, value: &serde_json::Value) -> Response {
    response(protocol, 200, Bytes::from(value.to_string()))
}

/// A 200 XML response; `body` is the document without the XML declaration.
pub fn xml_response(body: &str) -> Response {
    let mut s = String::with_capacity(body.len() + 40);
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    s.push_str(body);
    response(Protocol::RestXml, 200, s)
}

/// An error in the given protocol's shape.
pub fn error(
    protocol: Protocol,
    status_code: u16,
    code: &str,
    message: &str,
    request_id: &str,
) -> Response {
    match protocol {
        Protocol::AwsJson1_0 | Protocol::AwsJson1_1 => {
            let body = serde_json::json!({ "__type": code, "message": message });
            with_error_type(response(protocol, status_code, body.to_string()), code)
        }
        Protocol::RestJson1 | Protocol::Plain => {
            let kind = if status_code >= 500 {
                "Service"
            } else {
                "User"
            };
            let body = serde_json::json!({ "Type": kind, "message": message, "code": code });
            with_error_type(response(protocol, status_code, body.to_string()), code)
        }
        Protocol::RestXml => rest_xml_error(status_code, code, message, request_id, &[]),
        Protocol::AwsQuery => {
            let kind = if status_code >= 500 {
                "Receiver"
            } else {
                "Sender"
            };
            let body = format!(
                "<ErrorResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
                xml_escape(code),
                xml_escape(message),
                xml_escape(request_id)
            );
            response(protocol, status_code, body)
        }
    }
}

/// An S3-style error with extra elements (`<BucketName>`, `<Key>`, `<Resource>` …).
pub fn rest_xml_error(
    status_code: u16,
    code: &str,
    message: &str,
    request_id: &str,
    extra: &[(&str, &str)],
) -> Response {
    let mut body = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
    body.push_str(&format!(
        "<Code>{}</Code><Message>{}</Message>",
        xml_escape(code),
        xml_escape(message)
    ));
    for (k, v) in extra {
        body.push_str(&format!("<{k}>{}</{k}>", xml_escape(v)));
    }
    body.push_str(&format!(
        "<RequestId>{}</RequestId></Error>",
        xml_escape(request_id)
    ));
    response(Protocol::RestXml, status_code, body)
}

/// An error response built from a service error's metadata.
pub fn service_error(protocol: Protocol, err: &dyn ServiceError, request_id: &str) -> Response {
    error(
        protocol,
        err.status(),
        err.code(),
        &err.message(),
        request_id,
    )
}

fn with_error_type(mut resp: Response, code: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(code) {
        resp.headers_mut().insert("x-amzn-errortype", v);
    }
    resp
}

/// Escapes text for XML element content and attribute values.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Adds DynamoDB's `x-amz-crc32` header: the CRC32 of the body, which the SDKs check.
pub fn with_crc32(mut resp: Response) -> Response {
    if let Some(b) = resp.body().as_bytes() {
        let crc = crc32fast::hash(b);
        resp.headers_mut()
            .insert("x-amz-crc32", HeaderValue::from(crc));
    }
    resp
}

/// The `(name, value)` pairs of an `application/x-www-form-urlencoded` body or query string.
pub fn parse_form(input: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(input).into_owned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_carry_type_header_and_body() {
        let r = error(
            Protocol::AwsJson1_0,
            400,
            "ValidationException",
            "bad",
            "RID",
        );
        assert_eq!(r.status(), 400);
        assert_eq!(r.headers()["x-amzn-errortype"], "ValidationException");
        let body = r.body().as_bytes().cloned().unwrap_or_default();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["__type"], "ValidationException");
    }

    #[test]
    fn xml_errors_escape() {
        let r = error(Protocol::RestXml, 404, "NoSuchKey", "a<b", "RID");
        let body =
            String::from_utf8(r.body().as_bytes().cloned().unwrap_or_default().to_vec()).unwrap();
        assert!(body.contains("<Code>NoSuchKey</Code><Message>a&lt;b</Message>"));
    }
}
