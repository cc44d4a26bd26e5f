//! The AWS event-stream framing (`application/vnd.amazon.eventstream`), as S3 SelectObjectContent
//! answers: each message is a prelude (lengths and CRC), string headers, a payload and a CRC,
//! encoded by `aws-smithy-eventstream` so the SDKs' own decoder accepts it byte for byte.

use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;

/// Encodes one message whose headers are all strings (every header S3 Select sends is).
pub fn message(headers: &[(&str, &str)], payload: &[u8]) -> Bytes {
    let mut msg = Message::new(Bytes::copy_from_slice(payload));
    for (name, value) in headers {
        msg = msg.add_header(Header::new(
            name.to_string(),
            HeaderValue::String(value.to_string().into()),
        ));
    }
    let mut out = Vec::with_capacity(payload.len() + 128);
    // Writing to a Vec cannot fail for messages under the 16 MB frame limit; an oversized payload
    // yields an empty frame rather than a panic, and callers keep payloads far below the limit.
    if aws_smithy_eventstream::frame::write_message_to(&msg, &mut out).is_err() {
        out.clear();
    }
    Bytes::from(out)
}

/// An event message (`:message-type: event`) with the given `:event-type` and optional
/// `:content-type`.
pub fn event(event_type: &str, content_type: Option<&str>, payload: &[u8]) -> Bytes {
    match content_type {
        Some(ct) => message(
            &[
                (":message-type", "event"),
                (":event-type", event_type),
                (":content-type", ct),
            ],
            payload,
        ),
        None => message(
            &[(":message-type", "event"), (":event-type", event_type)],
            payload,
        ),
    }
}

/// An error message (`:message-type: error`) carrying an error code and message.
pub fn error(code: &str, message_text: &str) -> Bytes {
    message(
        &[
            (":message-type", "error"),
            (":error-code", code),
            (":error-message", message_text),
        ],
        b"",
    )
}

/// Decodes one message from the front of `bytes`: its string headers and payload. For tests.
pub fn decode(bytes: &[u8]) -> Option<(Vec<(String, String)>, Bytes)> {
    let msg = aws_smithy_eventstream::frame::read_message_from(bytes).ok()?;
    let headers = msg
        .headers()
        .iter()
        .filter_map(|h| match h.value() {
            HeaderValue::String(s) => Some((h.name().as_str().to_owned(), s.as_str().to_owned())),
            _ => None,
        })
        .collect();
    Some((headers, msg.payload().clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let b = event("Records", Some("application/octet-stream"), b"a,b\n");
        let (headers, payload) = decode(&b).unwrap();
        assert_eq!(&payload[..], b"a,b\n");
        assert!(headers.contains(&(":event-type".into(), "Records".into())));
    }
}
