//! The Gremlin Server WebSocket endpoint (`/gremlin` with an HTTP upgrade), feature `http`.
//!
//! Implements the RFC 6455 server side directly (handshake, masked client frames, fragmentation,
//! ping/pong, close) and Gremlin Server's request/response messages: a request is JSON
//! `{"requestId", "op": "eval", "processor": "", "args": {"gremlin", "bindings"}}`, sent as a text
//! frame or as a binary frame prefixed by its mime type
//! (`\x21application/vnd.gremlin-v3.0+json`, as drivers such as gremlinpython send it); the
//! answer is `{"requestId", "status": {"code", "message", "attributes"}, "result": {"data",
//! "meta"}}` with GraphSON 3 data. Errors answer with Gremlin Server's status codes (597 script
//! evaluation error, 598 timeout, 499 invalid request) and Neptune's error JSON as the message.

use std::sync::Arc;

use base64::Engine as _;
use nubis_core::ServiceError;
use nubis_wire::{Request, RequestContext, Response, UpgradeHandler, UpgradedIo};
use serde_json::{Value as Json, json};
use sha1::{Digest, Sha1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::Neptune;
use crate::error::Error;

const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// Largest message accepted (Neptune's request limit is 150 MiB; WebSocket frames here are
/// bounded lower to keep one connection from exhausting memory).
const MAX_MESSAGE: usize = 64 << 20;

/// The `Sec-WebSocket-Accept` value for a client key.
pub fn accept_key(key: &str) -> String {
    let mut h = Sha1::new();
    h.update(key.trim().as_bytes());
    h.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

/// Accepts a WebSocket upgrade on `/gremlin`.
pub fn accept(
    engine: Arc<Neptune>,
    ctx: RequestContext,
    req: &Request,
) -> Option<(Response, UpgradeHandler)> {
    let h = req.headers();
    let is_ws = h
        .get(http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let key = h.get("sec-websocket-key").and_then(|v| v.to_str().ok())?;
    if !is_ws {
        return None;
    }
    let mut resp = http::Response::new(nubis_wire::Body::empty());
    *resp.status_mut() = http::StatusCode::SWITCHING_PROTOCOLS;
    let hs = resp.headers_mut();
    hs.insert(
        http::header::UPGRADE,
        http::HeaderValue::from_static("websocket"),
    );
    hs.insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("Upgrade"),
    );
    if let Ok(v) = http::HeaderValue::from_str(&accept_key(key)) {
        hs.insert("sec-websocket-accept", v);
    }
    let handler: UpgradeHandler = Box::new(move |io| Box::pin(serve(engine, ctx, io)));
    Some((resp, handler))
}

struct Frame {
    fin: bool,
    opcode: u8,
    payload: Vec<u8>,
}

async fn read_frame(io: &mut Box<dyn UpgradedIo>) -> std::io::Result<Frame> {
    let mut hdr = [0u8; 2];
    io.read_exact(&mut hdr).await?;
    let fin = hdr[0] & 0x80 != 0;
    let opcode = hdr[0] & 0x0f;
    let masked = hdr[1] & 0x80 != 0;
    let mut len = u64::from(hdr[1] & 0x7f);
    if len == 126 {
        let mut b = [0u8; 2];
        io.read_exact(&mut b).await?;
        len = u64::from(u16::from_be_bytes(b));
    } else if len == 127 {
        let mut b = [0u8; 8];
        io.read_exact(&mut b).await?;
        len = u64::from_be_bytes(b);
    }
    if len > MAX_MESSAGE as u64 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "frame too large",
        ));
    }
    let mut mask = [0u8; 4];
    if masked {
        io.read_exact(&mut mask).await?;
    }
    let mut payload = vec![0u8; len as usize];
    io.read_exact(&mut payload).await?;
    if masked {
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= mask[i % 4];
        }
    }
    Ok(Frame {
        fin,
        opcode,
        payload,
    })
}

/// Encodes one unmasked server frame.
pub fn encode_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 10);
    out.push(0x80 | opcode);
    match payload.len() {
        n if n < 126 => out.push(n as u8),
        n if n <= usize::from(u16::MAX) => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    out
}

async fn serve(engine: Arc<Neptune>, ctx: RequestContext, mut io: Box<dyn UpgradedIo>) {
    let mut message: Vec<u8> = Vec::new();
    let mut binary = false;
    loop {
        let frame = match read_frame(&mut io).await {
            Ok(f) => f,
            Err(_) => {
                let _ = io.write_all(&encode_frame(8, &1009u16.to_be_bytes())).await;
                return;
            }
        };
        match frame.opcode {
            0..=2 => {
                if frame.opcode != 0 {
                    message.clear();
                    binary = frame.opcode == 2;
                }
                if message.len() + frame.payload.len() > MAX_MESSAGE {
                    let _ = io.write_all(&encode_frame(8, &1009u16.to_be_bytes())).await;
                    return;
                }
                message.extend_from_slice(&frame.payload);
                if frame.fin {
                    let reply = handle_message(&engine, &ctx, &message, binary);
                    if io
                        .write_all(&encode_frame(1, reply.to_string().as_bytes()))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    message.clear();
                }
            }
            8 => {
                let _ = io.write_all(&encode_frame(8, &frame.payload)).await;
                return;
            }
            9 if io
                .write_all(&encode_frame(10, &frame.payload))
                .await
                .is_err() =>
            {
                return;
            }
            _ => {}
        }
    }
}

/// Answers one Gremlin Server request message.
pub fn handle_message(engine: &Neptune, ctx: &RequestContext, msg: &[u8], binary: bool) -> Json {
    // Binary requests start with a length-prefixed mime type.
    let body = match (binary, msg.first()) {
        (true, Some(&n)) if msg.len() > usize::from(n) && msg.get(1) != Some(&b'{') => {
            &msg[1 + usize::from(n)..]
        }
        _ => msg,
    };
    let req: Json = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return failure(
                &Json::Null,
                499,
                &Error::BadRequest(format!("The request is not valid JSON: {e}")),
            );
        }
    };
    let rid = req.get("requestId").cloned().unwrap_or(Json::Null);
    let rid = match rid.get("@value") {
        Some(v) => v.clone(),
        None => rid,
    };
    let op = req.get("op").and_then(Json::as_str).unwrap_or("");
    if op != "eval" && op != "bytecode" {
        return failure(
            &rid,
            499,
            &Error::BadRequest(format!("The message has an unsupported op: '{op}'")),
        );
    }
    let args = req.get("args").cloned().unwrap_or(Json::Null);
    let args = args.get("@value").map(map_from_graphson).unwrap_or(args);
    let Some(q) = args.get("gremlin").and_then(Json::as_str) else {
        return failure(
            &rid,
            499,
            &Error::MissingParameter(
                "A message with an eval op code requires the gremlin argument".into(),
            ),
        );
    };
    let mut c = ctx.clone();
    if let Some(r) = rid.as_str() {
        c.request_id = r.to_owned();
    }
    match crate::http::run_gremlin(engine, &c, q, args.get("bindings").unwrap_or(&Json::Null)) {
        Ok(mut v) => {
            v["requestId"] = rid;
            v
        }
        Err(e) => {
            let code = match &e {
                Error::TimeLimitExceeded { .. } => 598,
                Error::Malformed { .. }
                | Error::InvalidParameter(_)
                | Error::MissingParameter(_) => 499,
                _ => 597,
            };
            failure(&rid, code, &e)
        }
    }
}

/// A `g:Map` `@value` array as a plain JSON object (drivers wrap `args` that way).
fn map_from_graphson(v: &Json) -> Json {
    let mut out = serde_json::Map::new();
    if let Some(items) = v.as_array() {
        for pair in items.chunks(2) {
            if let [Json::String(k), val] = pair {
                out.insert(k.clone(), val.clone());
            }
        }
    }
    Json::Object(out)
}

fn failure(rid: &Json, code: u16, e: &Error) -> Json {
    let detail = json!({ "requestId": rid, "code": e.code(), "detailedMessage": e.message() });
    json!({
        "requestId": rid,
        "status": { "code": code, "message": detail.to_string(), "attributes": { "@type": "g:Map", "@value": ["exceptions", { "@type": "g:List", "@value": [e.code()] }] } },
        "result": { "data": null, "meta": { "@type": "g:Map", "@value": [] } }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_key_matches_rfc_example() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn frames_encode_lengths() {
        assert_eq!(encode_frame(1, b"hi"), vec![0x81, 2, b'h', b'i']);
        assert_eq!(&encode_frame(2, &[0u8; 300])[..4], &[0x82, 126, 1, 44]);
    }
}
