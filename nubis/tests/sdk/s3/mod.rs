//! SDK tests for S3, S3 Select and Glacier: the official `aws-sdk-s3` client (path-style)
//! against `nubis serve` in-process. Each file holds one area; this module holds the shared
//! setup and the SelectObjectContent helpers.

mod glacier;
mod objects;
mod select;

use aws_sdk_s3::Client;
use aws_sdk_s3::types::{
    CompressionType, CsvInput, CsvOutput, ExpressionType, FileHeaderInfo, InputSerialization,
    OutputSerialization, SelectObjectContentEventStream,
};
use nubis::testing::TestServer;

/// The server and a path-style client for it (the server must outlive the client's use).
async fn setup(server: TestServer) -> (TestServer, Client) {
    let c = client(&server);
    (server, c)
}

fn client(server: &TestServer) -> Client {
    Client::from_conf(
        aws_sdk_s3::config::Builder::from(&server.sdk_config())
            .force_path_style(true)
            .build(),
    )
}

const CSV: &str = "name,age,city\nAda,36,London\nAlan,41,Wilmslow\nGrace,85,New York\n";

async fn select(
    c: &Client,
    bucket: &str,
    key: &str,
    sql: &str,
    input: InputSerialization,
    output: OutputSerialization,
) -> (String, i64, i64) {
    let out = c
        .select_object_content()
        .bucket(bucket)
        .key(key)
        .expression(sql)
        .expression_type(ExpressionType::Sql)
        .input_serialization(input)
        .output_serialization(output)
        .send()
        .await
        .unwrap_or_else(|e| panic!("select {sql}: {:?}", e.into_service_error()));
    let mut stream = out.payload;
    let mut records = Vec::new();
    let (mut scanned, mut returned) = (-1, -1);
    let mut ended = false;
    while let Some(ev) = stream.recv().await.unwrap() {
        match ev {
            SelectObjectContentEventStream::Records(r) => {
                records.extend_from_slice(r.payload().map(|p| p.as_ref()).unwrap_or_default())
            }
            SelectObjectContentEventStream::Stats(s) => {
                let d = s.details().unwrap();
                scanned = d.bytes_scanned().unwrap_or(-1);
                returned = d.bytes_returned().unwrap_or(-1);
            }
            SelectObjectContentEventStream::End(_) => ended = true,
            _ => {}
        }
    }
    assert!(ended, "no End event");
    (String::from_utf8(records).unwrap(), scanned, returned)
}

fn csv_in() -> InputSerialization {
    InputSerialization::builder()
        .csv(
            CsvInput::builder()
                .file_header_info(FileHeaderInfo::Use)
                .build(),
        )
        .compression_type(CompressionType::None)
        .build()
}

fn csv_out() -> OutputSerialization {
    OutputSerialization::builder()
        .csv(CsvOutput::builder().build())
        .build()
}
