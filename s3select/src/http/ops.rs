//! One function per S3 operation: read the request, call the engine, shape the response.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use nubis_core::clock::{to_http_date, to_rfc3339};
use nubis_wire::{Body, Request, RequestContext, Response, xml_escape};
use percent_encoding::percent_decode_str;

use super::{address, chunked, xml};
use crate::ServiceError;
use crate::error::{Error, Result};
use crate::select::SelectEvent;
use crate::store::*;

const NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

fn header<'h>(h: &'h HeaderMap, name: &str) -> Option<&'h str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn xml_ok(body: String) -> Response {
    nubis_wire::xml_response(&body)
}

fn empty(status: u16) -> Response {
    let mut r = http::Response::new(Body::empty());
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    r
}

fn set(resp: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
}

fn method_not_allowed(m: &Method, resource: &str) -> Error {
    Error::MethodNotAllowed {
        method: m.to_string(),
        resource: resource.into(),
    }
}

/// The request body, decoded from aws-chunked when the client streamed it.
fn body_of(req: &Request) -> Result<Bytes> {
    let h = req.headers();
    let chunked = header(h, "content-encoding").is_some_and(|v| v.contains("aws-chunked"))
        || header(h, "x-amz-content-sha256").is_some_and(|v| v.starts_with("STREAMING-"));
    if chunked {
        let n = header(h, "x-amz-decoded-content-length").and_then(|v| v.parse().ok());
        chunked::decode(req.body(), n)
    } else {
        Ok(req.body().clone())
    }
}

fn object_headers(h: &HeaderMap) -> (ObjectHeaders, BTreeMap<String, String>) {
    let enc = header(h, "content-encoding")
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|p| *p != "aws-chunked")
                .collect::<Vec<_>>()
                .join(",")
        })
        .filter(|v| !v.is_empty());
    let oh = ObjectHeaders {
        content_type: header(h, "content-type").map(str::to_owned),
        content_encoding: enc,
        content_disposition: header(h, "content-disposition").map(str::to_owned),
        content_language: header(h, "content-language").map(str::to_owned),
        cache_control: header(h, "cache-control").map(str::to_owned),
        expires: header(h, "expires").map(str::to_owned),
    };
    let meta = h
        .iter()
        .filter_map(|(k, v)| {
            k.as_str()
                .strip_prefix("x-amz-meta-")
                .map(|n| (n.to_owned(), v.to_str().unwrap_or("").to_owned()))
        })
        .collect();
    (oh, meta)
}

fn storage_class(h: &HeaderMap) -> Result<Option<StorageClass>> {
    header(h, "x-amz-storage-class").map(str::parse).transpose()
}

fn conditions(h: &HeaderMap, prefix: &str) -> Conditions {
    let g = |n: &str| header(h, &format!("{prefix}{n}")).map(str::to_owned);
    Conditions {
        if_match: g("if-match"),
        if_none_match: g("if-none-match"),
        if_modified_since: g("if-modified-since"),
        if_unmodified_since: g("if-unmodified-since"),
    }
}

/// The query string's parameters.
struct Query(Vec<(String, String)>);

impl Query {
    fn get(&self, n: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str())
    }

    fn has(&self, n: &str) -> bool {
        self.0.iter().any(|(k, _)| k == n)
    }
}

/// Routes one request.
pub fn dispatch(s3: &S3, ctx: &RequestContext, req: Request) -> Result<Response> {
    let host = header(req.headers(), "host")
        .map(str::to_owned)
        .or_else(|| req.uri().host().map(str::to_owned));
    let addr = address(host.as_deref(), req.uri().path())?;
    let query = Query(nubis_wire::parse_form(
        req.uri().query().unwrap_or("").as_bytes(),
    ));
    let q = |n: &str| query.get(n);
    let has = |n: &str| query.has(n);
    let m = req.method().clone();
    let Some(bucket) = addr.bucket.clone() else {
        return match m {
            Method::GET => Ok(list_buckets(s3)),
            _ => Err(method_not_allowed(&m, "SERVICE")),
        };
    };
    if addr.accelerate {
        s3.check_accelerate(&bucket)?;
    }
    let Some(key) = addr.key.clone() else {
        return bucket_op(s3, ctx, &req, &bucket, &m, &query);
    };
    match m {
        Method::PUT if has("partNumber") && has("uploadId") => {
            let n: u32 = q("partNumber")
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| {
                    Error::invalid_argument(
                        "Part number must be an integer between 1 and 10000, inclusive",
                        "partNumber",
                        q("partNumber").unwrap_or(""),
                    )
                })?;
            let body = body_of(&req)?;
            let etag = s3.upload_part(
                &bucket,
                &key,
                q("uploadId").unwrap_or(""),
                n,
                body,
                header(req.headers(), "content-md5"),
            )?;
            let mut r = empty(200);
            set(&mut r, "etag", &etag);
            Ok(r)
        }
        Method::PUT if req.headers().contains_key("x-amz-copy-source") => {
            copy_object(s3, &req, &bucket, &key)
        }
        Method::PUT => {
            let (headers, metadata) = object_headers(req.headers());
            let body = body_of(&req)?;
            let etag = s3.put_object(PutObject {
                bucket,
                key,
                body,
                headers,
                metadata,
                storage_class: storage_class(req.headers())?.unwrap_or_default(),
                content_md5: header(req.headers(), "content-md5").map(str::to_owned),
            })?;
            let mut r = empty(200);
            set(&mut r, "etag", &etag);
            Ok(r)
        }
        Method::GET if has("uploadId") => list_parts(s3, &bucket, &key, &query),
        Method::GET | Method::HEAD => get_object(s3, &req, &bucket, &key, &query),
        Method::DELETE if has("uploadId") => {
            s3.abort_multipart_upload(&bucket, &key, q("uploadId").unwrap_or(""))?;
            Ok(empty(204))
        }
        Method::DELETE => {
            s3.delete_object(&bucket, &key)?;
            Ok(empty(204))
        }
        Method::POST if has("uploads") => {
            let (headers, metadata) = object_headers(req.headers());
            let id = s3.create_multipart_upload(CreateMultipartUpload {
                bucket: bucket.clone(),
                key: key.clone(),
                headers,
                metadata,
                storage_class: storage_class(req.headers())?.unwrap_or_default(),
            })?;
            Ok(xml_ok(format!(
                "<InitiateMultipartUploadResult xmlns=\"{NS}\"><Bucket>{}</Bucket><Key>{}</Key><UploadId>{}</UploadId></InitiateMultipartUploadResult>",
                xml_escape(&bucket),
                xml_escape(&key),
                xml_escape(&id)
            )))
        }
        Method::POST if has("uploadId") => {
            let body = body_of(&req)?;
            let doc = xml::parse(&body)?;
            let mut parts = Vec::new();
            for p in doc.all("Part") {
                let n: u32 = p
                    .text_of("PartNumber")
                    .and_then(|v| v.trim().parse().ok())
                    .ok_or(Error::MalformedXml)?;
                parts.push((n, p.text_of("ETag").unwrap_or("").to_owned()));
            }
            let etag =
                s3.complete_multipart_upload(&bucket, &key, q("uploadId").unwrap_or(""), &parts)?;
            Ok(xml_ok(format!(
                "<CompleteMultipartUploadResult xmlns=\"{NS}\"><Location>/{}/{}</Location><Bucket>{}</Bucket><Key>{}</Key><ETag>{}</ETag></CompleteMultipartUploadResult>",
                xml_escape(&bucket),
                xml_escape(&key),
                xml_escape(&bucket),
                xml_escape(&key),
                xml_escape(&etag)
            )))
        }
        Method::POST if has("restore") => restore(s3, &req, &bucket, &key),
        Method::POST if has("select") => select(s3, &req, &bucket, &key, &query),
        _ => {
            let _ = ctx;
            Err(method_not_allowed(&m, "OBJECT"))
        }
    }
}

fn list_buckets(s3: &S3) -> Response {
    let mut s = format!(
        "<ListAllMyBucketsResult xmlns=\"{NS}\"><Owner><ID>{}</ID><DisplayName>nubis</DisplayName></Owner><Buckets>",
        s3.env().account
    );
    for b in s3.list_buckets() {
        let _ = write!(
            s,
            "<Bucket><Name>{}</Name><CreationDate>{}</CreationDate><BucketRegion>{}</BucketRegion></Bucket>",
            xml_escape(&b.name),
            to_rfc3339(b.created),
            b.region.as_str()
        );
    }
    s.push_str("</Buckets></ListAllMyBucketsResult>");
    xml_ok(s)
}

fn bucket_op(
    s3: &S3,
    ctx: &RequestContext,
    req: &Request,
    bucket: &str,
    m: &Method,
    query: &Query,
) -> Result<Response> {
    let has = |n: &str| query.has(n);
    match *m {
        Method::PUT if has("accelerate") => {
            let doc = xml::parse(&body_of(req)?)?;
            let status = match doc.text_of("Status").map(str::trim) {
                Some("Enabled") => AccelerateStatus::Enabled,
                Some("Suspended") => AccelerateStatus::Suspended,
                _ => return Err(Error::MalformedXml),
            };
            s3.put_bucket_accelerate(bucket, status)?;
            Ok(empty(200))
        }
        Method::GET if has("accelerate") => {
            let status = s3.get_bucket_accelerate(bucket)?;
            Ok(xml_ok(match status {
                Some(s) => format!(
                    "<AccelerateConfiguration xmlns=\"{NS}\"><Status>{}</Status></AccelerateConfiguration>",
                    s.as_str()
                ),
                None => format!("<AccelerateConfiguration xmlns=\"{NS}\"/>"),
            }))
        }
        Method::GET if has("location") => {
            let b = s3.head_bucket(bucket)?;
            let loc = if b.region.as_str() == "us-east-1" {
                String::new()
            } else {
                b.region.as_str().to_owned()
            };
            Ok(xml_ok(format!(
                "<LocationConstraint xmlns=\"{NS}\">{loc}</LocationConstraint>"
            )))
        }
        Method::GET if has("uploads") => {
            let ups = s3.list_multipart_uploads(bucket)?;
            let mut s = format!(
                "<ListMultipartUploadsResult xmlns=\"{NS}\"><Bucket>{}</Bucket><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>",
                xml_escape(bucket)
            );
            for u in ups {
                let _ = write!(
                    s,
                    "<Upload><Key>{}</Key><UploadId>{}</UploadId><Initiated>{}</Initiated><StorageClass>{}</StorageClass></Upload>",
                    xml_escape(&u.key),
                    u.upload_id,
                    to_rfc3339(u.initiated),
                    u.storage_class
                );
            }
            s.push_str("</ListMultipartUploadsResult>");
            Ok(xml_ok(s))
        }
        Method::GET => list_objects(s3, bucket, query),
        Method::PUT => {
            let body = body_of(req)?;
            let location = if body.iter().all(u8::is_ascii_whitespace) {
                None
            } else {
                let doc = xml::parse(&body)?;
                doc.text_of("LocationConstraint")
                    .map(|s| s.trim().to_owned())
            };
            s3.create_bucket(&ctx.region, bucket, location.as_deref())?;
            let mut r = empty(200);
            set(&mut r, "location", &format!("/{bucket}"));
            Ok(r)
        }
        Method::HEAD => {
            let b = s3.head_bucket(bucket)?;
            let mut r = empty(200);
            set(&mut r, "x-amz-bucket-region", b.region.as_str());
            Ok(r)
        }
        Method::DELETE => {
            s3.delete_bucket(bucket)?;
            Ok(empty(204))
        }
        Method::POST if has("delete") => {
            let doc = xml::parse(&body_of(req)?)?;
            let quiet = doc.text_of("Quiet").is_some_and(|v| v.trim() == "true");
            let keys: Vec<String> = doc
                .all("Object")
                .map(|o| o.text_of("Key").unwrap_or("").to_owned())
                .collect();
            let (deleted, errors) = s3.delete_objects(bucket, &keys)?;
            let mut s = format!("<DeleteResult xmlns=\"{NS}\">");
            if !quiet {
                for k in deleted {
                    let _ = write!(s, "<Deleted><Key>{}</Key></Deleted>", xml_escape(&k));
                }
            }
            for e in errors {
                let _ = write!(
                    s,
                    "<Error><Key>{}</Key><Code>{}</Code><Message>{}</Message></Error>",
                    xml_escape(&e.key),
                    e.code,
                    xml_escape(&e.message)
                );
            }
            s.push_str("</DeleteResult>");
            Ok(xml_ok(s))
        }
        _ => Err(method_not_allowed(m, "BUCKET")),
    }
}

fn list_objects(s3: &S3, bucket: &str, query: &Query) -> Result<Response> {
    let q = |n: &str| query.get(n);
    let v2 = q("list-type") == Some("2");
    let max_keys = match q("max-keys") {
        Some(v) => Some(v.parse::<i64>().map_err(|_| {
            Error::invalid_argument(
                "Provided max-keys not an integer or within integer range",
                "max-keys",
                v,
            )
        })?),
        None => None,
    };
    let req = ListObjectsV2 {
        bucket: bucket.to_owned(),
        prefix: q("prefix").unwrap_or("").to_owned(),
        delimiter: q("delimiter").map(str::to_owned),
        max_keys,
        continuation_token: if v2 {
            q("continuation-token").map(str::to_owned)
        } else {
            None
        },
        start_after: if v2 {
            q("start-after").map(str::to_owned)
        } else {
            q("marker").map(str::to_owned)
        },
    };
    let out = s3.list_objects_v2(&req)?;
    let url = q("encoding-type") == Some("url");
    let enc = |s: &str| {
        if url {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        } else {
            s.to_owned()
        }
    };
    let mut s = format!(
        "<ListBucketResult xmlns=\"{NS}\"><Name>{}</Name><Prefix>{}</Prefix>",
        xml_escape(bucket),
        xml_escape(&enc(&req.prefix))
    );
    if let Some(d) = &req.delimiter {
        let _ = write!(s, "<Delimiter>{}</Delimiter>", xml_escape(&enc(d)));
    }
    let _ = write!(
        s,
        "<MaxKeys>{}</MaxKeys><IsTruncated>{}</IsTruncated>",
        out.max_keys, out.is_truncated
    );
    if url {
        s.push_str("<EncodingType>url</EncodingType>");
    }
    if v2 {
        let _ = write!(s, "<KeyCount>{}</KeyCount>", out.key_count);
        if let Some(t) = &req.continuation_token {
            let _ = write!(
                s,
                "<ContinuationToken>{}</ContinuationToken>",
                xml_escape(t)
            );
        }
        if let Some(t) = &out.next_continuation_token {
            let _ = write!(
                s,
                "<NextContinuationToken>{}</NextContinuationToken>",
                xml_escape(t)
            );
        }
        if let Some(a) = q("start-after") {
            let _ = write!(s, "<StartAfter>{}</StartAfter>", xml_escape(&enc(a)));
        }
    } else {
        let _ = write!(
            s,
            "<Marker>{}</Marker>",
            xml_escape(q("marker").unwrap_or(""))
        );
        if out.is_truncated {
            let last = out
                .contents
                .last()
                .map(|c| c.key.clone())
                .into_iter()
                .chain(out.common_prefixes.last().cloned())
                .max()
                .unwrap_or_default();
            let _ = write!(s, "<NextMarker>{}</NextMarker>", xml_escape(&last));
        }
    }
    for c in &out.contents {
        let _ = write!(
            s,
            "<Contents><Key>{}</Key><LastModified>{}</LastModified><ETag>{}</ETag><Size>{}</Size><StorageClass>{}</StorageClass></Contents>",
            xml_escape(&enc(&c.key)),
            to_rfc3339(c.last_modified),
            xml_escape(&c.etag),
            c.size,
            c.storage_class
        );
    }
    for p in &out.common_prefixes {
        let _ = write!(
            s,
            "<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>",
            xml_escape(&enc(p))
        );
    }
    s.push_str("</ListBucketResult>");
    Ok(xml_ok(s))
}

fn object_response(resp: &mut Response, info: &ObjectInfo) {
    set(resp, "etag", &info.etag);
    set(resp, "last-modified", &to_http_date(info.last_modified));
    set(resp, "accept-ranges", "bytes");
    set(resp, "content-type", info.content_type());
    let h = &info.headers;
    for (name, v) in [
        ("content-encoding", &h.content_encoding),
        ("content-disposition", &h.content_disposition),
        ("content-language", &h.content_language),
        ("cache-control", &h.cache_control),
        ("expires", &h.expires),
    ] {
        if let Some(v) = v {
            set(resp, name, v);
        }
    }
    for (k, v) in &info.metadata {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(format!("x-amz-meta-{k}").as_bytes()),
            HeaderValue::from_str(v),
        ) {
            resp.headers_mut().insert(n, v);
        }
    }
    if info.storage_class != StorageClass::Standard {
        set(resp, "x-amz-storage-class", info.storage_class.as_str());
    }
    if let Some(r) = &info.restore {
        set(resp, "x-amz-restore", r);
    }
    if let Some(n) = info.parts_count {
        set(resp, "x-amz-mp-parts-count", &n.to_string());
    }
}

fn get_object(s3: &S3, req: &Request, bucket: &str, key: &str, query: &Query) -> Result<Response> {
    let q = |n: &str| query.get(n);
    let part_number = match q("partNumber") {
        Some(v) => Some(v.parse::<u32>().map_err(|_| {
            Error::invalid_argument(
                "Part number must be an integer between 1 and 10000, inclusive",
                "partNumber",
                v,
            )
        })?),
        None => None,
    };
    let g = GetObject {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        range: header(req.headers(), "range").map(str::to_owned),
        part_number,
        conditions: conditions(req.headers(), ""),
    };
    let head = req.method() == Method::HEAD;
    let out = if head {
        s3.head_object_output(&g)?
    } else {
        s3.get_object(&g)?
    };
    let len = out.body.len();
    let mut resp = if head {
        empty(if out.content_range.is_some() {
            206
        } else {
            200
        })
    } else {
        http::Response::new(Body::Full(out.body))
    };
    if out.content_range.is_some() {
        *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    object_response(&mut resp, &out.info);
    set(&mut resp, "content-length", &len.to_string());
    if let Some((a, b, total)) = out.content_range {
        set(
            &mut resp,
            "content-range",
            &format!("bytes {a}-{b}/{total}"),
        );
    }
    Ok(resp)
}

fn copy_object(s3: &S3, req: &Request, bucket: &str, key: &str) -> Result<Response> {
    let h = req.headers();
    let src = header(h, "x-amz-copy-source").unwrap_or("");
    let src = src.split('?').next().unwrap_or("");
    let src = percent_decode_str(src)
        .decode_utf8()
        .map_err(|_| {
            Error::invalid_argument("Invalid copy source encoding", "x-amz-copy-source", src)
        })?
        .into_owned();
    let src = src.trim_start_matches('/');
    let Some((sb, sk)) = src
        .split_once('/')
        .filter(|(b, k)| !b.is_empty() && !k.is_empty())
    else {
        return Err(Error::invalid_argument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            "x-amz-copy-source",
            src,
        ));
    };
    let replace = match header(h, "x-amz-metadata-directive") {
        Some("REPLACE") => Some(object_headers(h)),
        None | Some("COPY") => None,
        Some(other) => {
            return Err(Error::invalid_argument(
                "Unknown metadata directive.",
                "x-amz-metadata-directive",
                other,
            ));
        }
    };
    let (etag, modified) = s3.copy_object(CopyObject {
        source_bucket: sb.to_owned(),
        source_key: sk.to_owned(),
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        replace_metadata: replace,
        storage_class: storage_class(h)?,
        conditions: conditions(h, "x-amz-copy-source-"),
    })?;
    Ok(xml_ok(format!(
        "<CopyObjectResult xmlns=\"{NS}\"><ETag>{}</ETag><LastModified>{}</LastModified></CopyObjectResult>",
        xml_escape(&etag),
        to_rfc3339(modified)
    )))
}

fn list_parts(s3: &S3, bucket: &str, key: &str, query: &Query) -> Result<Response> {
    let q = |n: &str| query.get(n);
    let id = q("uploadId").unwrap_or("");
    let marker: u32 = q("part-number-marker")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let max: Option<usize> = q("max-parts").and_then(|v| v.parse().ok());
    let (parts, truncated, class) = s3.list_parts(bucket, key, id, marker, max)?;
    let mut s = format!(
        "<ListPartsResult xmlns=\"{NS}\"><Bucket>{}</Bucket><Key>{}</Key><UploadId>{}</UploadId><StorageClass>{}</StorageClass><PartNumberMarker>{marker}</PartNumberMarker><MaxParts>{}</MaxParts><IsTruncated>{truncated}</IsTruncated>",
        xml_escape(bucket),
        xml_escape(key),
        xml_escape(id),
        class,
        max.unwrap_or(1000)
    );
    if let Some(last) = parts.last().filter(|_| truncated) {
        let _ = write!(
            s,
            "<NextPartNumberMarker>{}</NextPartNumberMarker>",
            last.part_number
        );
    }
    for p in parts {
        let _ = write!(
            s,
            "<Part><PartNumber>{}</PartNumber><LastModified>{}</LastModified><ETag>{}</ETag><Size>{}</Size></Part>",
            p.part_number,
            to_rfc3339(p.last_modified),
            xml_escape(&p.etag),
            p.size
        );
    }
    s.push_str("</ListPartsResult>");
    Ok(xml_ok(s))
}

fn restore(s3: &S3, req: &Request, bucket: &str, key: &str) -> Result<Response> {
    let doc = xml::parse(&body_of(req)?)?;
    let days = match doc.text_of("Days") {
        Some(d) => Some(d.trim().parse::<u32>().map_err(|_| Error::MalformedXml)?),
        None => None,
    };
    let tier_text = doc
        .child("GlacierJobParameters")
        .and_then(|g| g.text_of("Tier"))
        .or_else(|| doc.text_of("Tier"));
    let tier: Tier = match tier_text {
        Some(t) => t.trim().parse()?,
        None => Tier::Standard,
    };
    let select = if doc.text_of("Type").map(str::trim) == Some("SELECT") {
        let params = doc.child("SelectParameters").ok_or(Error::MalformedXml)?;
        let sreq = xml::select_request(params)?;
        let loc = doc
            .child("OutputLocation")
            .and_then(|o| o.child("S3"))
            .ok_or(Error::MalformedXml)?;
        let out = OutputLocation {
            bucket: loc
                .text_of("BucketName")
                .ok_or(Error::MalformedXml)?
                .trim()
                .to_owned(),
            prefix: loc.text_of("Prefix").unwrap_or("").to_owned(),
            storage_class: match loc.text_of("StorageClass") {
                Some(c) => c.trim().parse()?,
                None => StorageClass::Standard,
            },
        };
        Some((sreq, out))
    } else {
        None
    };
    let outcome = s3.restore_object(RestoreObject {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        days,
        tier,
        select,
    })?;
    Ok(empty(match outcome {
        RestoreOutcome::Accepted => 202,
        RestoreOutcome::AlreadyRestored => 200,
    }))
}

fn select(s3: &S3, req: &Request, bucket: &str, key: &str, query: &Query) -> Result<Response> {
    let q = |n: &str| query.get(n);
    if q("select-type") != Some("2") {
        return Err(Error::invalid_argument(
            "Invalid select type",
            "select-type",
            q("select-type").unwrap_or(""),
        ));
    }
    let doc = xml::parse(&body_of(req)?)?;
    let sreq = xml::select_request(&doc)?;
    let stream = s3.select_object_content(bucket, key, &sreq)?;
    let events = futures::stream::iter(stream.map(|ev| Ok::<_, std::io::Error>(encode_event(&ev))));
    let mut resp = http::Response::new(Body::stream(events));
    set(&mut resp, "content-type", "application/octet-stream");
    Ok(resp)
}

/// Frames one select event in the AWS event-stream encoding.
pub fn encode_event(ev: &SelectEvent) -> Bytes {
    use nubis_wire::eventstream::{error, event};
    match ev {
        SelectEvent::Records(b) => event("Records", Some("application/octet-stream"), b),
        SelectEvent::Stats(s) => event("Stats", Some("text/xml"), s.to_xml("Stats").as_bytes()),
        SelectEvent::Progress(s) => event(
            "Progress",
            Some("text/xml"),
            s.to_xml("Progress").as_bytes(),
        ),
        SelectEvent::Cont => event("Cont", None, b""),
        SelectEvent::End => event("End", None, b""),
        SelectEvent::Error(e) => error(e.code(), &e.message()),
    }
}
