//! The Runtime API's routes and the invocation paths, driven over real loopback sockets.
use super::*;
use std::io::{BufRead, BufReader, Read, Write as _};
use std::net::TcpStream;

/// Reads one response: (status, headers lower-cased, body).
fn response(r: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>, String) {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status = line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(": ").unwrap();
        headers.push((n.to_ascii_lowercase(), v.to_owned()));
    }
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; len];
    r.read_exact(&mut body).unwrap();
    (status, headers, String::from_utf8(body).unwrap())
}

async fn api() -> (Arc<RuntimeApi>, oneshot::Receiver<InitOutcome>) {
    let clock = nubis_core::ManualClock::at_default_epoch();
    let (api, init) = serve(false, clock.shared(), Duration::from_millis(10), None)
        .await
        .unwrap();
    (Arc::new(api), init)
}

/// Starts an invocation of `event` in a task of its own.
fn invoke(api: &Arc<RuntimeApi>, event: Event) -> tokio::task::JoinHandle<Option<RuntimeOutcome>> {
    let api = Arc::clone(api);
    tokio::spawn(async move { api.invoke(event).await })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_the_runtime_routes_over_one_keep_alive_connection() {
    let (api, init) = api().await;
    let done = invoke(
        &api,
        Event {
            request_id: "req-1".into(),
            payload: Bytes::from_static(b"{\"a\":1}"),
            deadline_ms: 42,
            invoked_arn: Arc::from("arn:aws:lambda:us-east-1:123456789012:function:f"),
            trace_id: "Root=1-x".into(),
            client_context: Some("{\"c\":1}".into()),
        },
    );
    let addr = api.addr;
    let client = tokio::task::spawn_blocking(move || {
        let s = TcpStream::connect(addr).unwrap();
        let mut w = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        w.write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let (status, headers, body) = response(&mut r);
        assert_eq!((status, body.as_str()), (200, "{\"a\":1}"));
        let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        assert_eq!(
            get("lambda-runtime-aws-request-id").as_deref(),
            Some("req-1")
        );
        assert_eq!(get("lambda-runtime-deadline-ms").as_deref(), Some("42"));
        assert_eq!(
            get("lambda-runtime-client-context").as_deref(),
            Some("{\"c\":1}")
        );
        // A wrong id is refused; the real one is accepted with a chunked body after
        // `100 Continue`.
        w.write_all(b"POST /2018-06-01/runtime/invocation/nope/response HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}")
            .unwrap();
        let (status, _, body) = response(&mut r);
        assert_eq!(status, 400);
        assert!(body.contains("InvalidRequestID"));
        w.write_all(b"POST /2018-06-01/runtime/invocation/req-1/response HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
            .unwrap();
        assert_eq!(response(&mut r).0, 100);
        w.write_all(b"3\r\n{\"o\r\n4\r\n\":2}\r\n0\r\n\r\n")
            .unwrap();
        assert_eq!(response(&mut r).0, 202);
        // Init errors after the first `next`, unknown paths and methods.
        w.write_all(b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        assert_eq!(response(&mut r).0, 403);
        w.write_all(b"GET /other HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(response(&mut r).0, 404);
        w.write_all(
            b"PUT /2018-06-01/runtime/invocation/next HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",
        )
        .unwrap();
        assert_eq!(response(&mut r).0, 405);
        // Garbage gets a 400 and the connection closes.
        w.write_all(b"GET /x HTTP/9\r\n\r\n").unwrap();
        let (status, headers, _) = response(&mut r);
        assert_eq!(status, 400);
        assert!(headers.contains(&("connection".into(), "close".into())));
        let mut rest = Vec::new();
        assert_eq!(r.read_to_end(&mut rest).unwrap(), 0);
    });
    client.await.unwrap();
    assert!(matches!(init.await, Ok(InitOutcome::Ready)));
    match done.await.unwrap() {
        Some(RuntimeOutcome::Response(b)) => assert_eq!(&b[..], b"{\"o\":2}"),
        other => panic!("unexpected {other:?}"),
    }
}

fn event(id: &str) -> Event {
    Event {
        request_id: id.into(),
        payload: Bytes::from_static(b"{}"),
        deadline_ms: 1,
        invoked_arn: Arc::from("arn:aws:lambda:us-east-1:123456789012:function:f"),
        trace_id: "Root=1-x".into(),
        client_context: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parked_next_is_answered_by_the_engine_and_by_shutdown() {
    let (api, init) = api().await;
    let s = TcpStream::connect(api.addr).unwrap();
    let mut w = s.try_clone().unwrap();
    w.write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n")
        .unwrap();
    // The first `next` ends init; by then the connection is parked.
    assert!(matches!(init.await, Ok(InitOutcome::Ready)));
    while api.state.slot.lock().parked.is_none() {
        tokio::task::yield_now().await;
    }
    let done = invoke(&api, event("p-1"));
    let client = tokio::task::spawn_blocking(move || {
        let mut r = BufReader::new(s);
        let (status, headers, _) = response(&mut r);
        assert_eq!(status, 200);
        assert!(headers.contains(&("lambda-runtime-aws-request-id".into(), "p-1".into())));
        w.write_all(b"POST /2018-06-01/runtime/invocation/p-1/error HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n")
            .unwrap();
        assert_eq!(response(&mut r).0, 202);
        r
    });
    let mut r = client.await.unwrap();
    assert!(matches!(
        done.await.unwrap(),
        Some(RuntimeOutcome::Error { .. })
    ));
    // The runtime's `next` waits: parked (a multi-thread runtime reads it at once), or unread
    // in the socket of the idle connection (a current-thread runtime leaves it there).
    loop {
        {
            let slot = api.state.slot.lock();
            if slot.parked.is_some() || slot.idle.is_some() {
                break;
            }
        }
        tokio::task::yield_now().await;
    }
    // Dropping the API answers the pending `next` and closes the connection.
    drop(Arc::into_inner(api).unwrap());
    let (status, headers, _) = tokio::task::spawn_blocking(move || response(&mut r))
        .await
        .unwrap();
    assert_eq!(status, 500);
    assert!(headers.contains(&("connection".into(), "close".into())));
}

/// The race of a runtime connection dying as the event is written to it: the event is
/// delivered again on the runtime's next connection, not lost until the deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_for_a_closed_connection_goes_to_the_next_one() {
    let (api, _init) = api().await;
    let mut s = TcpStream::connect(api.addr).unwrap();
    s.write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n")
        .unwrap();
    while api.state.slot.lock().parked.is_none() {
        tokio::task::yield_now().await;
    }
    drop(s);
    let done = invoke(&api, event("q-1"));
    let addr = api.addr;
    tokio::task::spawn_blocking(move || {
        let s = TcpStream::connect(addr).unwrap();
        let mut w = s.try_clone().unwrap();
        w.write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n")
            .unwrap();
        let mut r = BufReader::new(s);
        let (status, headers, _) = response(&mut r);
        assert_eq!(status, 200);
        assert!(headers.contains(&("lambda-runtime-aws-request-id".into(), "q-1".into())));
        w.write_all(b"POST /2018-06-01/runtime/invocation/q-1/response HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}")
            .unwrap();
        assert_eq!(response(&mut r).0, 202);
    })
    .await
    .unwrap();
    assert!(matches!(
        done.await.unwrap(),
        Some(RuntimeOutcome::Response(_))
    ));
}

/// On a current-thread runtime the invoking task reads the answer and the runtime's next
/// `next` from the connection itself: back-to-back invocations on one keep-alive connection.
#[tokio::test(flavor = "current_thread")]
async fn a_current_thread_caller_drives_the_connection_itself() {
    let (api, init) = api().await;
    let addr = api.addr;
    let client = std::thread::spawn(move || {
        let s = TcpStream::connect(addr).unwrap();
        let mut w = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        for _ in 0..3 {
            w.write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n")
                .unwrap();
            let (status, headers, body) = response(&mut r);
            assert_eq!(status, 200);
            let id = headers
                .iter()
                .find(|(k, _)| k == "lambda-runtime-aws-request-id")
                .map(|(_, v)| v.clone())
                .unwrap();
            w.write_all(
                format!(
                    "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            )
            .unwrap();
            assert_eq!(response(&mut r).0, 202);
        }
    });
    assert!(matches!(init.await, Ok(InitOutcome::Ready)));
    for id in ["d-1", "d-2", "d-3"] {
        match api.invoke(event(id)).await {
            Some(RuntimeOutcome::Response(b)) => assert_eq!(&b[..], b"{}"),
            other => panic!("unexpected {other:?}"),
        }
        // Left unread for the next invocation.
        assert!(api.state.slot.lock().idle.is_some());
    }
    client.join().unwrap();
}

/// A runtime that opens a connection per request (as a `curl` bootstrap does) is served by
/// the connection tasks: the event waits queued, the answer comes through the channel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_per_request_runtime_is_served() {
    let (api, _init) = api().await;
    let addr = api.addr;
    let request = move |req: &'static [u8]| {
        let s = TcpStream::connect(addr).unwrap();
        let mut w = s.try_clone().unwrap();
        w.write_all(req).unwrap();
        response(&mut BufReader::new(s))
    };
    for id in ["c-1", "c-2"] {
        let done = invoke(&api, event(id));
        let (status, headers, _) = tokio::task::spawn_blocking(move || {
            request(
                b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nConnection: close\r\n\r\n",
            )
        })
        .await
        .unwrap();
        assert_eq!(status, 200);
        let got = headers
            .iter()
            .find(|(k, _)| k == "lambda-runtime-aws-request-id")
            .map(|(_, v)| v.clone())
            .unwrap();
        assert_eq!(got, id);
        let post: &'static [u8] = if id == "c-1" {
            b"POST /2018-06-01/runtime/invocation/c-1/response HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
        } else {
            b"POST /2018-06-01/runtime/invocation/c-2/error HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
        };
        let (status, _, _) = tokio::task::spawn_blocking(move || request(post))
            .await
            .unwrap();
        assert_eq!(status, 202);
        assert!(done.await.unwrap().is_some());
    }
}
