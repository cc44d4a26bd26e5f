//! A minimal, strict HTTP/1.1 server connection for the Lambda Runtime API: exactly what the
//! runtime clients send (a request line, headers, a `Content-Length` or `chunked` body, keep-alive),
//! read and written by whichever task owns the connection at the moment.
//!
//! Why not hyper: the Runtime API sits on the warm invocation's path twice (the event and the
//! response), and a hyper connection task costs one extra wake-up each way. A [`Connection`] is a
//! plain value that moves between tasks: the invoking task writes the event on it and reads the
//! runtime's `/response` from it itself, with no hand-off at all.
//!
//! Guarantees: never panics on any input (proptest and the `runtime_http` fuzz target); the
//! request head is bounded ([`MAX_HEAD_BYTES`], [`MAX_HEADERS`]); a body over the caller's limit is
//! read and discarded (up to [`MAX_DRAIN_BYTES`], after which the connection must close) and
//! reported as [`Body::TooLarge`], so the connection stays in step; anything malformed is an
//! [`HttpError::Malformed`], after which the caller answers 400 and closes.

use std::io;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The largest request head (request line plus headers) accepted.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// The most header fields accepted in one request.
pub const MAX_HEADERS: usize = 100;
/// The longest chunk-size or trailer line accepted in a chunked body.
const MAX_LINE_BYTES: usize = 4096;
/// How much of an over-limit body is read and thrown away to keep the connection usable.
pub const MAX_DRAIN_BYTES: u64 = 64 * 1024 * 1024;

/// The request methods the Runtime API distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// Any other well-formed method token.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Empty,
    Length(u64),
    Chunked,
}

/// A parsed request line and the headers the Runtime API reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// The method.
    pub method: Method,
    /// The path, without any query string.
    pub path: String,
    /// Whether the connection may carry another request after this one.
    pub keep_alive: bool,
    /// `Lambda-Runtime-Function-Error-Type`, when present and valid UTF-8.
    pub error_type: Option<String>,
    framing: Framing,
    expect_continue: bool,
}

/// A request body read against a limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// The whole body, within the limit.
    Complete(Bytes),
    /// The body was longer than the limit; it was discarded.
    TooLarge,
}

/// Why a request could not be read.
#[derive(Debug)]
pub enum HttpError {
    /// The socket failed or closed in the middle of a request.
    Io(io::Error),
    /// The bytes are not a request this server accepts (the reason, for the 400 answer).
    Malformed(&'static str),
}

impl From<io::Error> for HttpError {
    fn from(e: io::Error) -> Self {
        HttpError::Io(e)
    }
}

/// The reading side of one connection, buffered.
pub struct Connection<R> {
    io: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Set when a body could not be drained: the caller must close after answering.
    poisoned: bool,
}

fn unexpected_eof() -> HttpError {
    HttpError::Io(io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "connection closed mid-request",
    ))
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn trim_ows(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

fn parse_decimal(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    v.iter().try_fold(0u64, |n, d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

fn parse_hex(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 15 {
        return None;
    }
    v.iter().try_fold(0u64, |n, d| {
        let digit = (*d as char).to_digit(16)?;
        n.checked_mul(16)?.checked_add(u64::from(digit))
    })
}

fn has_token(v: &[u8], token: &str) -> bool {
    v.split(|b| *b == b',')
        .any(|t| trim_ows(t).eq_ignore_ascii_case(token.as_bytes()))
}

/// Parses a complete request head: the request line and header lines, without the CRLF that
/// ends the last line and the blank line after it.
pub fn parse_head(head: &[u8]) -> Result<RequestHead, HttpError> {
    // Lines are split on CRLF only; a bare LF left inside a line fails the token and value
    // checks below.
    let mut rest = Some(head);
    let mut lines = std::iter::from_fn(move || {
        let s = rest?;
        match s.windows(2).position(|w| w == b"\r\n") {
            Some(at) => {
                rest = Some(&s[at + 2..]);
                Some(&s[..at])
            }
            None => {
                rest = None;
                Some(s)
            }
        }
    });
    let line = lines
        .next()
        .ok_or(HttpError::Malformed("missing request line"))?;
    let mut parts = line.split(|b| *b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HttpError::Malformed("malformed request line"));
    };
    if method.is_empty() || !method.iter().all(|b| is_tchar(*b)) {
        return Err(HttpError::Malformed("malformed method"));
    }
    let method = match method {
        b"GET" => Method::Get,
        b"POST" => Method::Post,
        _ => Method::Other,
    };
    if target.first() != Some(&b'/') || !target.iter().all(|b| b.is_ascii_graphic()) {
        return Err(HttpError::Malformed("malformed request target"));
    }
    let path = target.split(|b| *b == b'?').next().unwrap_or_default();
    let path = String::from_utf8_lossy(path).into_owned();
    let http11 = match version {
        b"HTTP/1.1" => true,
        b"HTTP/1.0" => false,
        _ => return Err(HttpError::Malformed("unsupported HTTP version")),
    };
    let mut keep_alive = http11;
    let mut length: Option<u64> = None;
    let mut chunked = false;
    let mut expect_continue = false;
    let mut error_type = None;
    let mut count = 0usize;
    for line in lines {
        count += 1;
        if count > MAX_HEADERS {
            return Err(HttpError::Malformed("too many header fields"));
        }
        let colon = line
            .iter()
            .position(|b| *b == b':')
            .ok_or(HttpError::Malformed("header field without a colon"))?;
        let (name, value) = (&line[..colon], trim_ows(&line[colon + 1..]));
        if name.is_empty() || !name.iter().all(|b| is_tchar(*b)) {
            return Err(HttpError::Malformed("malformed header field name"));
        }
        if value
            .iter()
            .any(|b| (*b < 0x20 && *b != b'\t') || *b == 0x7f)
        {
            return Err(HttpError::Malformed("control character in a header value"));
        }
        let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
        if is("content-length") {
            let n = parse_decimal(value).ok_or(HttpError::Malformed("invalid Content-Length"))?;
            if length.is_some_and(|l| l != n) {
                return Err(HttpError::Malformed("conflicting Content-Length"));
            }
            length = Some(n);
        } else if is("transfer-encoding") {
            if chunked || !value.eq_ignore_ascii_case(b"chunked") {
                return Err(HttpError::Malformed("unsupported Transfer-Encoding"));
            }
            chunked = true;
        } else if is("connection") {
            if has_token(value, "close") {
                keep_alive = false;
            } else if has_token(value, "keep-alive") {
                keep_alive = true;
            }
        } else if is("expect") {
            expect_continue = value.eq_ignore_ascii_case(b"100-continue");
        } else if is("lambda-runtime-function-error-type") {
            error_type = std::str::from_utf8(value).ok().map(str::to_owned);
        }
    }
    let framing = match (chunked, length) {
        (true, Some(_)) => {
            return Err(HttpError::Malformed(
                "both Content-Length and Transfer-Encoding",
            ));
        }
        (true, None) => Framing::Chunked,
        (false, Some(0) | None) => Framing::Empty,
        (false, Some(n)) => Framing::Length(n),
    };
    Ok(RequestHead {
        method,
        path,
        keep_alive,
        error_type,
        framing,
        expect_continue: expect_continue && framing != Framing::Empty,
    })
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    /// Wraps a stream.
    pub fn new(io: S) -> Self {
        Connection {
            io,
            buf: vec![0; 16 * 1024],
            start: 0,
            end: 0,
            poisoned: false,
        }
    }

    /// The stream.
    pub fn io(&self) -> &S {
        &self.io
    }

    /// The stream, for writing answers.
    pub fn io_mut(&mut self) -> &mut S {
        &mut self.io
    }

    /// Whether bytes of a next request are already buffered.
    pub fn has_buffered(&self) -> bool {
        self.start < self.end
    }

    /// Whether another request may be read (a body was too long to drain).
    pub fn reusable(&self) -> bool {
        !self.poisoned
    }

    /// Reads more bytes into the buffer; `Ok(0)` at end of stream.
    async fn fill(&mut self) -> io::Result<usize> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buf.len() && self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let grown = (self.buf.len() * 2).max(16 * 1024);
            self.buf.resize(grown, 0);
        }
        loop {
            match self.io.read(&mut self.buf[self.end..]).await {
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads the next request head; `Ok(None)` when the peer closed between requests.
    pub async fn read_head(&mut self) -> Result<Option<RequestHead>, HttpError> {
        let mut scanned: usize = 0;
        loop {
            let window = &self.buf[self.start..self.end];
            if let Some(at) = window[scanned.saturating_sub(3)..]
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
            {
                let at = scanned.saturating_sub(3) + at;
                let head = parse_head(&window[..at]);
                self.start += at + 4;
                return head.map(Some);
            }
            scanned = window.len();
            if scanned > MAX_HEAD_BYTES {
                return Err(HttpError::Malformed("request head too large"));
            }
            if self.fill().await? == 0 {
                return if self.start == self.end {
                    Ok(None)
                } else {
                    Err(unexpected_eof())
                };
            }
        }
    }

    /// Moves `n` body bytes out of the stream, into `out` when given (else discarded).
    async fn take(&mut self, mut n: u64, mut out: Option<&mut Vec<u8>>) -> Result<(), HttpError> {
        while n > 0 {
            if self.start == self.end && self.fill().await? == 0 {
                return Err(unexpected_eof());
            }
            let avail = (self.end - self.start) as u64;
            let k = avail.min(n) as usize;
            if let Some(out) = out.as_deref_mut() {
                out.extend_from_slice(&self.buf[self.start..self.start + k]);
            }
            self.start += k;
            n -= k as u64;
        }
        Ok(())
    }

    /// Reads one CRLF-ended line of a chunked body (without the CRLF).
    async fn line(&mut self) -> Result<Vec<u8>, HttpError> {
        let mut scanned = 0;
        loop {
            let window = &self.buf[self.start..self.end];
            if let Some(at) = window[scanned..].iter().position(|b| *b == b'\n') {
                let at = scanned + at;
                let line = window[..at]
                    .strip_suffix(b"\r")
                    .ok_or(HttpError::Malformed("chunk line not ended by CRLF"))?
                    .to_vec();
                self.start += at + 1;
                return Ok(line);
            }
            scanned = window.len();
            if scanned > MAX_LINE_BYTES {
                return Err(HttpError::Malformed("chunk line too long"));
            }
            if self.fill().await? == 0 {
                return Err(unexpected_eof());
            }
        }
    }

    /// Reads the body `head` announces, keeping at most `limit` bytes; answers the interim
    /// `100 Continue` first when the client asked for one.
    pub async fn read_body(&mut self, head: &RequestHead, limit: usize) -> Result<Body, HttpError> {
        if head.expect_continue {
            self.io.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
        }
        let limit = limit as u64;
        match head.framing {
            Framing::Empty => Ok(Body::Complete(Bytes::new())),
            Framing::Length(n) if n <= limit => {
                let mut out = Vec::with_capacity(n as usize);
                self.take(n, Some(&mut out)).await?;
                Ok(Body::Complete(Bytes::from(out)))
            }
            Framing::Length(n) => {
                if n <= MAX_DRAIN_BYTES {
                    self.take(n, None).await?;
                } else {
                    self.poisoned = true;
                }
                Ok(Body::TooLarge)
            }
            Framing::Chunked => self.read_chunked(limit).await,
        }
    }

    async fn read_chunked(&mut self, limit: u64) -> Result<Body, HttpError> {
        let mut out = Vec::new();
        let mut total = 0u64;
        loop {
            let line = self.line().await?;
            let size = line.split(|b| *b == b';').next().unwrap_or_default();
            let size =
                parse_hex(trim_ows(size)).ok_or(HttpError::Malformed("invalid chunk size"))?;
            if size == 0 {
                break;
            }
            total = total.saturating_add(size);
            if total > MAX_DRAIN_BYTES {
                self.poisoned = true;
                return Ok(Body::TooLarge);
            }
            let keep = total <= limit;
            if !keep {
                out = Vec::new();
            }
            self.take(size, keep.then_some(&mut out)).await?;
            if !self.line().await?.is_empty() {
                return Err(HttpError::Malformed("chunk data longer than its size"));
            }
        }
        // Trailer fields are read and ignored, up to the blank line.
        let mut trailer = 0usize;
        loop {
            let line = self.line().await?;
            if line.is_empty() {
                break;
            }
            trailer += line.len();
            if trailer > MAX_HEAD_BYTES {
                return Err(HttpError::Malformed("trailer too large"));
            }
        }
        Ok(if total <= limit {
            Body::Complete(Bytes::from(out))
        } else {
            Body::TooLarge
        })
    }
}

/// The bytes of one response: status line, `Content-Type: application/json`, `Content-Length`,
/// the extra headers, and the body.
pub fn response_bytes(
    status: u16,
    reason: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    close: bool,
) -> Vec<u8> {
    let mut out = response_head(status, reason, headers, body.len(), close);
    out.extend_from_slice(body);
    out
}

fn response_head(
    status: u16,
    reason: &str,
    headers: &[(&str, &str)],
    body_len: usize,
    close: bool,
) -> Vec<u8> {
    use std::fmt::Write as _;
    let mut head = String::with_capacity(256 + body_len.min(16 * 1024));
    let _ = write!(
        head,
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {body_len}\r\n"
    );
    for (name, value) in headers {
        // A value that is not a valid field value (as `http::HeaderValue::from_str` decides) is
        // left out rather than sent.
        if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b >= 0x7f) {
            continue;
        }
        let _ = write!(head, "{name}: {value}\r\n");
    }
    if close {
        head.push_str("connection: close\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// Writes one response (see [`response_bytes`]) in one write when the body is small, so the
/// runtime is woken once.
pub async fn write_response<W: AsyncWrite + Unpin>(
    w: &mut W,
    status: u16,
    reason: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    close: bool,
) -> io::Result<()> {
    if body.len() <= 16 * 1024 {
        w.write_all(&response_bytes(status, reason, headers, body, close))
            .await
    } else {
        w.write_all(&response_head(status, reason, headers, body.len(), close))
            .await?;
        w.write_all(body).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use futures::executor::block_on;

    fn read_all(input: &[u8], limit: usize) -> Vec<Result<(RequestHead, Body), String>> {
        block_on(read_all_async(input, limit))
    }

    async fn read_all_async(
        input: &[u8],
        limit: usize,
    ) -> Vec<Result<(RequestHead, Body), String>> {
        let mut c = Connection::new(tokio::io::join(input, tokio::io::sink()));
        let mut out = Vec::new();
        loop {
            match c.read_head().await {
                Ok(None) => break,
                Ok(Some(h)) => match c.read_body(&h, limit).await {
                    Ok(b) => out.push(Ok((h, b))),
                    Err(e) => {
                        out.push(Err(format!("{e:?}")));
                        break;
                    }
                },
                Err(e) => {
                    out.push(Err(format!("{e:?}")));
                    break;
                }
            }
            if !c.reusable() {
                break;
            }
        }
        out
    }

    #[test]
    fn reads_keep_alive_requests_with_both_framings() {
        let input = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n\
POST /2018-06-01/runtime/invocation/abc/response HTTP/1.1\r\ncontent-length: 5\r\n\r\nhello\
POST /2018-06-01/runtime/invocation/abc/error HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\
Lambda-Runtime-Function-Error-Type: Boom\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n";
        let got = read_all(input, 100);
        assert_eq!(got.len(), 3);
        let (h, b) = got[0].as_ref().unwrap();
        assert_eq!(
            (h.method, h.path.as_str(), h.keep_alive),
            (Method::Get, "/2018-06-01/runtime/invocation/next", true)
        );
        assert_eq!(*b, Body::Complete(Bytes::new()));
        assert_eq!(
            got[1].as_ref().unwrap().1,
            Body::Complete(Bytes::from_static(b"hello"))
        );
        let (h, b) = got[2].as_ref().unwrap();
        assert_eq!(h.error_type.as_deref(), Some("Boom"));
        assert_eq!(*b, Body::Complete(Bytes::from_static(b"abcde")));
    }

    #[test]
    fn over_limit_bodies_are_drained_and_the_connection_stays_usable() {
        let input = b"POST /a HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789\
POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n\
GET /c?q=1 HTTP/1.1\r\nConnection: close\r\n\r\n";
        let got = read_all(input, 4);
        assert_eq!(got[0].as_ref().unwrap().1, Body::TooLarge);
        assert_eq!(got[1].as_ref().unwrap().1, Body::TooLarge);
        let (h, _) = got[2].as_ref().unwrap();
        assert_eq!((h.path.as_str(), h.keep_alive), ("/c", false));
    }

    #[test]
    fn malformed_requests_are_refused() {
        for bad in [
            &b"GET /x HTTP/2.0\r\n\r\n"[..],
            b"GET  /x HTTP/1.1\r\n\r\n",
            b"GET x HTTP/1.1\r\n\r\n",
            b"GET /x HTTP/1.1\nHost: y\r\n\r\n",
            b"POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            b"POST /x HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n",
            b"GET /x HTTP/1.1\r\nBad Name: y\r\n\r\n",
            b"GET /x HTTP/1.1\r\n folded\r\n\r\n",
        ] {
            let got = read_all(bad, 100);
            assert!(
                matches!(got.last(), Some(Err(e)) if e.starts_with("Malformed")),
                "{:?}: {got:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn writes_a_framed_response() {
        let mut out = Vec::new();
        block_on(write_response(
            &mut out,
            202,
            "Accepted",
            &[("x-a", "1"), ("x-b", "bad\r\nx")],
            b"{}",
            false,
        ))
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: 2\r\nx-a: 1\r\n\r\n{}"
        );
    }

    /// A reader that hands out at most `step` bytes per read, to split requests anywhere.
    fn trickle(input: &[u8], step: usize) -> impl AsyncRead + AsyncWrite + Unpin + '_ {
        struct Trickle<'a>(&'a [u8], usize);
        impl AsyncRead for Trickle<'_> {
            fn poll_read(
                mut self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<io::Result<()>> {
                let n = self.0.len().min(self.1).min(buf.remaining());
                buf.put_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                std::task::Poll::Ready(Ok(()))
            }
        }
        tokio::io::join(Trickle(input, step), tokio::io::sink())
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..600), limit in 0usize..64) {
            let _ = read_all(&input, limit);
        }

        #[test]
        fn chunked_bodies_round_trip_however_they_are_split(
            body in proptest::collection::vec(any::<u8>(), 0..300),
            cuts in proptest::collection::vec(1usize..50, 0..8),
            step in 1usize..40,
        ) {
            let mut wire = b"POST /r HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            let mut rest = &body[..];
            for c in cuts {
                let (chunk, tail) = rest.split_at(c.min(rest.len()));
                if chunk.is_empty() { break; }
                wire.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                wire.extend_from_slice(chunk);
                wire.extend_from_slice(b"\r\n");
                rest = tail;
            }
            if !rest.is_empty() {
                wire.extend_from_slice(format!("{:X}\r\n", rest.len()).as_bytes());
                wire.extend_from_slice(rest);
                wire.extend_from_slice(b"\r\n");
            }
            wire.extend_from_slice(b"0\r\n\r\n");
            wire.extend_from_slice(format!("POST /s HTTP/1.1\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes());
            wire.extend_from_slice(&body);
            let mut c = Connection::new(trickle(&wire, step));
            for path in ["/r", "/s"] {
                let h = block_on(c.read_head()).unwrap().unwrap();
                prop_assert_eq!(h.path.as_str(), path);
                let b = block_on(c.read_body(&h, 300)).unwrap();
                prop_assert_eq!(b, Body::Complete(Bytes::from(body.clone())));
            }
            prop_assert!(block_on(c.read_head()).unwrap().is_none());
        }

        #[test]
        fn mutated_requests_never_panic(
            flips in proptest::collection::vec((0usize..200, any::<u8>()), 0..6),
            step in 1usize..30,
        ) {
            let mut wire = b"POST /2018-06-01/runtime/invocation/a/response HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n4\r\nabcd\r\n0\r\n\r\nGET /n HTTP/1.0\r\n\r\n".to_vec();
            for (at, b) in flips {
                let i = at % wire.len();
                wire[i] = b;
            }
            let mut c = Connection::new(trickle(&wire, step));
            block_on(async {
                while let Ok(Some(h)) = c.read_head().await {
                    if c.read_body(&h, 3).await.is_err() || !c.reusable() {
                        break;
                    }
                }
            });
        }
    }
}
