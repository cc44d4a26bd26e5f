//! The endpoint's own routes under `/_nubis/`: health, the clock, reset.
//!
//! - `GET /_nubis/health`: every service with its state, the non-HTTP listeners, the clock.
//! - `GET /_nubis/clock`: `{"mode": "manual"|"system", "now": "<RFC 3339>", "epoch_millis": N}`.
//! - `POST /_nubis/clock` with `{"advance_seconds": N}` or `{"set": "<RFC 3339>"}`: moves a
//!   manual clock (a system clock answers 409 `ClockNotManual`).
//! - `POST /_nubis/reset`: empties every engine.
//!
//! Errors are JSON `{"__type": code, "message": …}` with `x-amzn-ErrorType`, like restJson1.

use std::time::Duration;

use nubis_core::clock::{epoch_millis, parse_rfc3339, to_rfc3339};
use nubis_wire::{Protocol, Request, Response, error, json_response};
use serde_json::{Value, json};

use crate::Cloud;

/// Answers a request under `/_nubis/`.
pub fn handle(cloud: &Cloud, req: &Request, request_id: &str) -> Response {
    let path = req.uri().path().trim_end_matches('/');
    match (req.method().as_str(), path) {
        ("GET", "/_nubis/health") => json_response(Protocol::Plain, &health(cloud)),
        ("GET", "/_nubis/clock") => json_response(Protocol::Plain, &clock_state(cloud)),
        ("POST", "/_nubis/clock") => move_clock(cloud, req.body(), request_id),
        ("POST", "/_nubis/reset") => {
            cloud.reset();
            json_response(Protocol::Plain, &json!({ "reset": true }))
        }
        (_, "/_nubis/health" | "/_nubis/clock" | "/_nubis/reset") => error(
            Protocol::Plain,
            405,
            "MethodNotAllowed",
            &format!("{} is not allowed on {path}", req.method()),
            request_id,
        ),
        _ => error(
            Protocol::Plain,
            404,
            "NotFound",
            &format!("no Nubis admin route at {path}"),
            request_id,
        ),
    }
}

/// The health document.
pub fn health(cloud: &Cloud) -> Value {
    let mut services = serde_json::Map::new();
    let mut listeners = Vec::new();
    for s in cloud.services() {
        let d = s.descriptor();
        services.insert(d.name.to_owned(), s.health());
        for l in s.listeners() {
            listeners.push(json!({ "service": d.name, "protocol": l.protocol, "resource": l.resource, "address": l.address }));
        }
    }
    json!({
        "status": "running",
        "account": cloud.env().account.as_str(),
        "regions": cloud.regions().iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "services": services,
        "listeners": listeners,
        "clock": clock_state(cloud),
    })
}

fn clock_state(cloud: &Cloud) -> Value {
    let now = cloud.clock().now();
    json!({
        "mode": if cloud.manual_clock().is_some() { "manual" } else { "system" },
        "now": to_rfc3339(now),
        "epoch_millis": epoch_millis(now),
    })
}

fn move_clock(cloud: &Cloud, body: &[u8], request_id: &str) -> Response {
    let Some(clock) = cloud.manual_clock() else {
        return error(
            Protocol::Plain,
            409,
            "ClockNotManual",
            "the endpoint runs on the system clock; start it with --clock manual",
            request_id,
        );
    };
    let bad = |msg: &str| error(Protocol::Plain, 400, "ValidationException", msg, request_id);
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return bad("the body must be JSON: {\"advance_seconds\": N} or {\"set\": \"<RFC 3339>\"}");
    };
    if let Some(secs) = v.get("advance_seconds") {
        match secs.as_f64() {
            Some(s) if (0.0..1e12).contains(&s) => clock.advance(Duration::from_secs_f64(s)),
            _ => return bad("advance_seconds must be a non-negative number"),
        }
    } else if let Some(at) = v.get("set") {
        match at.as_str().map(parse_rfc3339) {
            Some(Ok(t)) => clock.set(t),
            _ => return bad("set must be an RFC 3339 timestamp"),
        }
    } else {
        return bad("expected {\"advance_seconds\": N} or {\"set\": \"<RFC 3339>\"}");
    }
    json_response(Protocol::Plain, &clock_state(cloud))
}
