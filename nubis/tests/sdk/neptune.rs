//! Neptune's data plane through the endpoint: `/gremlin` over HTTP and WebSocket, `/status`,
//! and the bulk loader API (plain HTTP, as Neptune's clients use it).

use std::sync::Arc;

use nubis::testing::TestServer;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn gremlin(server: &TestServer, q: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/gremlin", server.url()))
        .json(&json!({ "gremlin": q }))
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json body"))
}

#[tokio::test]
async fn gremlin_over_http_returns_graphson3() {
    let server = TestServer::start().await;
    let (s, _) = gremlin(&server, "g.addV('person').property(id, 'p1').property('name', 'ada').property('age', 36).addV('person').property(id, 'p2').addE('knows').from(V('p1'))").await;
    assert_eq!(s, 200);
    let (s, body) = gremlin(&server, "g.V('p1').valueMap(true)").await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["status"]["code"], 200);
    let data = &body["result"]["data"];
    assert_eq!(data["@type"], "g:List");
    let map = &data["@value"][0];
    assert_eq!(map["@type"], "g:Map");
    let text = map.to_string();
    assert!(
        text.contains(r#"{"@type":"g:Int32","@value":36}"#),
        "{text}"
    );
    assert!(text.contains(r#"{"@type":"g:T","@value":"id"}"#), "{text}");
    let (_, body) = gremlin(&server, "g.V('p2').in('knows').count()").await;
    assert_eq!(
        body["result"]["data"]["@value"][0],
        json!({"@type": "g:Int64", "@value": 1})
    );
    let resp = reqwest::get(format!(
        "{}/gremlin?gremlin=g.V().hasLabel('person').id()",
        server.url()
    ))
    .await
    .expect("get");
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["result"]["data"]["@value"], json!(["p1", "p2"]));
}

#[tokio::test]
async fn errors_use_neptune_shapes() {
    let server = TestServer::start().await;
    let (s, body) = gremlin(&server, "g.V().outt()").await;
    assert_eq!(s, 400);
    assert_eq!(body["code"], "MalformedQueryException");
    assert!(
        body["detailedMessage"]
            .as_str()
            .unwrap_or("")
            .contains("position 6"),
        "{body}"
    );
    assert!(body["requestId"].is_string());
    gremlin(&server, "g.addV().property(id, 'x')").await;
    let (s, body) = gremlin(&server, "g.addV().property(id, 'x')").await;
    assert_eq!(
        (s, body["code"].as_str()),
        (400, Some("ConstraintViolationException"))
    );
    let resp = reqwest::Client::new()
        .post(format!("{}/gremlin", server.url()))
        .body("not json")
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status().as_u16(), 400);
    let status: Value = reqwest::get(format!("{}/status", server.url()))
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    assert_eq!(status["status"], "healthy");
}

#[tokio::test]
async fn loader_reads_the_object_source() {
    let server = TestServer::start().await;
    let source = Arc::new(nubis_neptune::MemorySource::new());
    source.put(
        "graphs",
        "air/vertices.csv",
        "~id,~label,code:String,runways:Int\nSEA,airport,SEA,3\nSFO,airport,SFO,4\n",
    );
    source.put(
        "graphs",
        "air/edges.csv",
        "~id,~from,~to,~label,dist:Int\nr1,SEA,SFO,route,679\nr2,SEA,NOPE,route,1\n",
    );
    server.cloud().neptune().set_object_source(source);
    let client = reqwest::Client::new();
    let resp: Value = client
        .post(format!("{}/loader", server.url()))
        .json(&json!({ "source": "s3://graphs/air/", "format": "csv", "iamRoleArn": "arn:aws:iam::000000000000:role/load", "region": "us-east-1", "failOnError": "FALSE" }))
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    let id = resp["payload"]["loadId"]
        .as_str()
        .expect("load id")
        .to_owned();
    let st: Value = client
        .get(format!("{}/loader/{id}?errors=true", server.url()))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(
        st["payload"]["overallStatus"]["status"], "LOAD_COMPLETED",
        "{st}"
    );
    assert_eq!(st["payload"]["overallStatus"]["insertErrors"], 1);
    assert_eq!(
        st["payload"]["errors"]["errorLogs"][0]["errorCode"],
        "FROM_OR_TO_VERTEX_ARE_MISSING"
    );
    let (_, body) = gremlin(&server, "g.V('SEA').out('route').values('code')").await;
    assert_eq!(body["result"]["data"]["@value"], json!(["SFO"]));
    let missing = client
        .get(format!("{}/loader/nope", server.url()))
        .send()
        .await
        .expect("get");
    assert_eq!(missing.status().as_u16(), 400);
}

async fn read_frame(sock: &mut tokio::net::TcpStream) -> Vec<u8> {
    let mut hdr = [0u8; 2];
    sock.read_exact(&mut hdr).await.expect("frame header");
    let mut len = u64::from(hdr[1] & 0x7f);
    if len == 126 {
        let mut b = [0u8; 2];
        sock.read_exact(&mut b).await.expect("len");
        len = u64::from(u16::from_be_bytes(b));
    } else if len == 127 {
        let mut b = [0u8; 8];
        sock.read_exact(&mut b).await.expect("len");
        len = u64::from_be_bytes(b);
    }
    let mut payload = vec![0u8; len as usize];
    sock.read_exact(&mut payload).await.expect("payload");
    payload
}

#[tokio::test]
async fn gremlin_server_websocket_answers_eval_requests() {
    let server = TestServer::start().await;
    gremlin(&server, "g.addV('person').property(id, 'w1')").await;
    let mut sock = tokio::net::TcpStream::connect(server.addr())
        .await
        .expect("connect");
    let handshake = format!(
        "GET /gremlin HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        server.addr()
    );
    sock.write_all(handshake.as_bytes())
        .await
        .expect("handshake");
    let mut buf = Vec::new();
    while !buf.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        sock.read_exact(&mut b).await.expect("response");
        buf.push(b[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{head}"
    );
    // A binary frame with the mime-type prefix, masked, as gremlinpython sends it.
    let mime = b"application/vnd.gremlin-v3.0+json";
    let req = json!({ "requestId": "0f8e6c35-8f3f-4c5e-9f4b-123456789abc", "op": "eval", "processor": "", "args": { "gremlin": "g.V().count()", "language": "gremlin-groovy" } }).to_string();
    let mut msg = vec![mime.len() as u8];
    msg.extend_from_slice(mime);
    msg.extend_from_slice(req.as_bytes());
    let mask = [1u8, 2, 3, 4];
    let mut frame = vec![0x82u8, 0x80 | 126];
    frame.extend_from_slice(&(msg.len() as u16).to_be_bytes());
    frame.extend_from_slice(&mask);
    frame.extend(msg.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    sock.write_all(&frame).await.expect("send");
    let reply: Value = serde_json::from_slice(&read_frame(&mut sock).await).expect("reply json");
    assert_eq!(reply["requestId"], "0f8e6c35-8f3f-4c5e-9f4b-123456789abc");
    assert_eq!(reply["status"]["code"], 200);
    assert_eq!(
        reply["result"]["data"]["@value"][0],
        json!({"@type": "g:Int64", "@value": 1})
    );
    // A malformed traversal answers 499 with Neptune's error JSON in the message.
    let bad =
        json!({ "requestId": "r2", "op": "eval", "processor": "", "args": { "gremlin": "g.V(" } })
            .to_string();
    let mut frame = vec![0x81u8, 0x80 | bad.len() as u8];
    frame.extend_from_slice(&mask);
    frame.extend(bad.bytes().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    sock.write_all(&frame).await.expect("send");
    let reply: Value = serde_json::from_slice(&read_frame(&mut sock).await).expect("reply json");
    assert_eq!(reply["status"]["code"], 499);
    assert!(
        reply["status"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("MalformedQueryException")
    );
}
