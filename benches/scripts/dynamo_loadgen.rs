//! A dependency-free HTTP/1.1 load generator for the DynamoDB JSON protocol, used by
//! `dynamo_peers.sh` to drive Nubis, dynalite and moto with byte-identical requests.
//!
//! Build: `rustc -O -o /tmp/dynamo_loadgen benches/scripts/dynamo_loadgen.rs`
//! Use:   `dynamo_loadgen <port> setup`
//!        `dynamo_loadgen <port> <put|get|query> <connections> <seconds>` → prints ops/s
//!
//! Each connection is one thread with one keep-alive socket, sending a request and reading the
//! whole response before the next (closed loop), as a client SDK does. Requests carry a SigV4-
//! shaped Authorization header (peers check that one is present, none verifies it here).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const TABLE: &str = "LoadGen";

fn request(port: u16, op: &str, body: &str) -> Vec<u8> {
    format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.{op}\r\n\
         X-Amz-Date: 20260101T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/dynamodb/aws4_request, \
         SignedHeaders=host;x-amz-date;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Reads one response; returns the status code. Sets `close` when the server says it will close
/// the connection (moto's development server answers `Connection: close` to every request).
fn read_response(r: &mut BufReader<TcpStream>, body: &mut Vec<u8>, close: &mut bool) -> std::io::Result<u16> {
    let mut line = String::new();
    r.read_line(&mut line)?;
    let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut len = 0usize;
    let mut chunked = false;
    loop {
        line.clear();
        r.read_line(&mut line)?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
        if lower.starts_with("connection:") && lower.contains("close") {
            *close = true;
        }
    }
    body.clear();
    if chunked {
        loop {
            line.clear();
            r.read_line(&mut line)?;
            let n = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk[..n]);
            if n == 0 {
                break;
            }
        }
    } else {
        body.resize(len, 0);
        r.read_exact(body)?;
    }
    Ok(status)
}

fn key(i: u64) -> String {
    format!(r#"{{"pk":{{"S":"user{}"}},"sk":{{"N":"{}"}}}}"#, i % 1000, i / 1000)
}

fn body_for(op: &str, i: u64) -> (&'static str, String) {
    match op {
        "put" => {
            let k = key(i);
            let item = format!(r#"{},"name":{{"S":"a reasonably sized attribute value"}},"count":{{"N":"{i}"}}}}"#, &k[..k.len() - 1]);
            ("PutItem", format!(r#"{{"TableName":"{TABLE}","Item":{item}}}"#))
        }
        "get" => ("GetItem", format!(r#"{{"TableName":"{TABLE}","Key":{}}}"#, key(i % 2_000))),
        _ => (
            "Query",
            format!(
                r#"{{"TableName":"{TABLE}","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{{":p":{{"S":"user{}"}}}},"Limit":10}}"#,
                i % 1000
            ),
        ),
    }
}

fn one(port: u16, op: &str, body: &str) -> u16 {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let mut w = s.try_clone().expect("clone");
    let mut r = BufReader::new(s);
    w.write_all(&request(port, op, body)).expect("write");
    let mut b = Vec::new();
    let status = read_response(&mut r, &mut b, &mut false).expect("read");
    if status != 200 {
        eprintln!("{op}: {status} {}", String::from_utf8_lossy(&b));
    }
    status
}

fn setup(port: u16) {
    one(
        port,
        "CreateTable",
        &format!(
            r#"{{"TableName":"{TABLE}","BillingMode":"PAY_PER_REQUEST","AttributeDefinitions":[{{"AttributeName":"pk","AttributeType":"S"}},{{"AttributeName":"sk","AttributeType":"N"}}],"KeySchema":[{{"AttributeName":"pk","KeyType":"HASH"}},{{"AttributeName":"sk","KeyType":"RANGE"}}]}}"#
        ),
    );
    // Let peers that create tables asynchronously (dynalite) finish.
    std::thread::sleep(Duration::from_millis(1500));
    let mut conn = Conn::open(port);
    for i in 0..2_000u64 {
        let (op, body) = body_for("put", i);
        if conn.call(port, op, &body).is_none() {
            conn = Conn::open(port);
            conn.call(port, op, &body);
        }
    }
}

/// One keep-alive connection; peers that close after each response (moto's development
/// server) get a new one per request, opened before the request rather than discovered broken
/// after writing to the closed socket.
struct Conn {
    w: TcpStream,
    r: BufReader<TcpStream>,
    body: Vec<u8>,
    closed: bool,
}

impl Conn {
    fn open(port: u16) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_nodelay(true).ok();
        let w = s.try_clone().expect("clone");
        Conn { w, r: BufReader::new(s), body: Vec::new(), closed: false }
    }

    /// Sends one request; `None` if the connection failed.
    fn call(&mut self, port: u16, op: &str, body: &str) -> Option<u16> {
        if self.closed {
            *self = Conn::open(port);
        }
        self.w.write_all(&request(port, op, body)).ok()?;
        read_response(&mut self.r, &mut self.body, &mut self.closed).ok().filter(|s| *s != 0)
    }
}

fn run(port: u16, op: &str, conns: usize, secs: u64) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let threads: Vec<_> = (0..conns)
        .map(|t| {
            let (stop, done, errors, op) = (stop.clone(), done.clone(), errors.clone(), op.to_owned());
            std::thread::spawn(move || {
                let mut conn = Conn::open(port);
                let mut i = (t as u64) * 7_777_777;
                while !stop.load(Ordering::Relaxed) {
                    i = i.wrapping_add(7919);
                    let (name, body) = body_for(&op, i);
                    match conn.call(port, name, &body) {
                        Some(200) => {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        Some(_) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                        None => conn = Conn::open(port),
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    let n = done.load(Ordering::Relaxed) as f64;
    let e = errors.load(Ordering::Relaxed);
    if e > 0 {
        eprintln!("{op}: {e} non-200 responses");
    }
    n / start.elapsed().as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args.get(1).and_then(|p| p.parse().ok()).expect("port");
    match args.get(2).map(String::as_str) {
        Some("setup") => setup(port),
        Some(op @ ("put" | "get" | "query")) => {
            let conns = args.get(3).and_then(|c| c.parse().ok()).unwrap_or(1);
            let secs = args.get(4).and_then(|c| c.parse().ok()).unwrap_or(3);
            println!("{:.0}", run(port, op, conns, secs));
        }
        _ => eprintln!("usage: dynamo_loadgen <port> setup | <put|get|query> <connections> <seconds>"),
    }
}
