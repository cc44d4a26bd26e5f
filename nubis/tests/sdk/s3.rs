//! SDK tests for S3, S3 Select and Glacier: the official `aws-sdk-s3` client (path-style)
//! against `nubis serve` in-process.

use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    AccelerateConfiguration, BucketAccelerateStatus, CompletedMultipartUpload, CompletedPart,
    CompressionType, CsvInput, CsvOutput, Delete, ExpressionType, FileHeaderInfo,
    GlacierJobParameters, InputSerialization, JsonInput, JsonOutput, JsonType, ObjectIdentifier,
    OutputLocation, OutputSerialization, RestoreRequest, RestoreRequestType, S3Location,
    SelectObjectContentEventStream, SelectParameters, StorageClass, Tier,
};
use nubis::testing::TestServer;

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

#[tokio::test]
async fn buckets_and_objects() {
    let server = TestServer::start().await;
    let c = client(&server);
    c.create_bucket().bucket("alpha").send().await.unwrap();
    c.create_bucket().bucket("beta").send().await.unwrap();
    // Re-creating an owned bucket in us-east-1 succeeds (legacy behaviour).
    c.create_bucket().bucket("alpha").send().await.unwrap();
    let err = c
        .create_bucket()
        .bucket("Bad_Name")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("InvalidBucketName"));
    let names: Vec<String> = c
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_owned))
        .collect();
    assert_eq!(names, ["alpha", "beta"]);
    c.head_bucket().bucket("alpha").send().await.unwrap();
    assert!(
        c.head_bucket()
            .bucket("nope")
            .send()
            .await
            .unwrap_err()
            .into_service_error()
            .is_not_found()
    );

    let put = c
        .put_object()
        .bucket("alpha")
        .key("dir/a.txt")
        .body(ByteStream::from_static(b"hello world"))
        .content_type("text/plain")
        .metadata("owner", "ada")
        .send()
        .await
        .unwrap();
    assert_eq!(put.e_tag(), Some("\"5eb63bbbe01eeed093cb22bb8f5acdc3\""));
    let got = c
        .get_object()
        .bucket("alpha")
        .key("dir/a.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(
        got.metadata()
            .and_then(|m| m.get("owner"))
            .map(String::as_str),
        Some("ada")
    );
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"hello world"
    );
    let part = c
        .get_object()
        .bucket("alpha")
        .key("dir/a.txt")
        .range("bytes=6-")
        .send()
        .await
        .unwrap();
    assert_eq!(part.content_range(), Some("bytes 6-10/11"));
    assert_eq!(
        part.body.collect().await.unwrap().into_bytes().as_ref(),
        b"world"
    );
    let err = c
        .get_object()
        .bucket("alpha")
        .key("dir/a.txt")
        .range("bytes=50-")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("InvalidRange"));
    let err = c
        .get_object()
        .bucket("alpha")
        .key("dir/a.txt")
        .if_match("\"nope\"")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("PreconditionFailed"));
    let err = c
        .get_object()
        .bucket("alpha")
        .key("missing")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_no_such_key());
    let head = c
        .head_object()
        .bucket("alpha")
        .key("dir/a.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(11));

    c.copy_object()
        .bucket("beta")
        .key("copy.txt")
        .copy_source("alpha/dir/a.txt")
        .send()
        .await
        .unwrap();
    let copied = c
        .get_object()
        .bucket("beta")
        .key("copy.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(
        copied
            .metadata()
            .and_then(|m| m.get("owner"))
            .map(String::as_str),
        Some("ada")
    );

    for k in ["dir/b.txt", "dir/sub/c.txt", "e.txt", "f.txt"] {
        c.put_object()
            .bucket("alpha")
            .key(k)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    let l = c
        .list_objects_v2()
        .bucket("alpha")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = l.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["e.txt", "f.txt"]);
    assert_eq!(
        l.common_prefixes()
            .iter()
            .filter_map(|p| p.prefix())
            .collect::<Vec<_>>(),
        ["dir/"]
    );
    // Pages of two follow the continuation token to the end.
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .list_objects_v2()
            .bucket("alpha")
            .max_keys(2)
            .set_continuation_token(token.clone())
            .send()
            .await
            .unwrap();
        seen.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
        token = page.next_continuation_token().map(str::to_owned);
        if !page.is_truncated().unwrap_or(false) {
            break;
        }
    }
    assert_eq!(
        seen,
        ["dir/a.txt", "dir/b.txt", "dir/sub/c.txt", "e.txt", "f.txt"]
    );

    let err = c
        .delete_bucket()
        .bucket("alpha")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("BucketNotEmpty"));
    let del = Delete::builder()
        .objects(ObjectIdentifier::builder().key("e.txt").build().unwrap())
        .objects(ObjectIdentifier::builder().key("f.txt").build().unwrap())
        .build()
        .unwrap();
    let out = c
        .delete_objects()
        .bucket("alpha")
        .delete(del)
        .send()
        .await
        .unwrap();
    assert_eq!(out.deleted().len(), 2);
    c.delete_object()
        .bucket("beta")
        .key("copy.txt")
        .send()
        .await
        .unwrap();
    c.delete_bucket().bucket("beta").send().await.unwrap();

    // Transfer Acceleration configuration.
    let get = c
        .get_bucket_accelerate_configuration()
        .bucket("alpha")
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), None);
    c.put_bucket_accelerate_configuration()
        .bucket("alpha")
        .accelerate_configuration(
            AccelerateConfiguration::builder()
                .status(BucketAccelerateStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let get = c
        .get_bucket_accelerate_configuration()
        .bucket("alpha")
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), Some(&BucketAccelerateStatus::Enabled));
}

#[tokio::test]
async fn accelerate_host_form_over_plain_http() {
    let server = TestServer::start().await;
    let c = client(&server);
    c.create_bucket().bucket("fast").send().await.unwrap();
    c.put_object()
        .bucket("fast")
        .key("k")
        .body(ByteStream::from_static(b"v"))
        .send()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/k", server.url());
    let refused = http
        .get(&url)
        .header("host", "fast.s3-accelerate.amazonaws.com")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("not configured"));
    c.put_bucket_accelerate_configuration()
        .bucket("fast")
        .accelerate_configuration(
            AccelerateConfiguration::builder()
                .status(BucketAccelerateStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let ok = http
        .get(&url)
        .header("host", "fast.s3-accelerate.amazonaws.com")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "v");
    let vhost = http
        .get(&url)
        .header("host", "fast.localhost")
        .send()
        .await
        .unwrap();
    assert_eq!(vhost.text().await.unwrap(), "v");
}

#[tokio::test]
async fn multipart_upload() {
    let server = TestServer::start().await;
    let c = client(&server);
    c.create_bucket().bucket("mpu").send().await.unwrap();
    let up = c
        .create_multipart_upload()
        .bucket("mpu")
        .key("big")
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap().to_owned();
    let p1 = vec![b'a'; 5 * 1024 * 1024];
    let e1 = c
        .upload_part()
        .bucket("mpu")
        .key("big")
        .upload_id(&id)
        .part_number(1)
        .body(ByteStream::from(p1))
        .send()
        .await
        .unwrap()
        .e_tag()
        .unwrap()
        .to_owned();
    let e2 = c
        .upload_part()
        .bucket("mpu")
        .key("big")
        .upload_id(&id)
        .part_number(2)
        .body(ByteStream::from_static(b"tail"))
        .send()
        .await
        .unwrap()
        .e_tag()
        .unwrap()
        .to_owned();
    let parts = c
        .list_parts()
        .bucket("mpu")
        .key("big")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(parts.parts().len(), 2);
    let done = c
        .complete_multipart_upload()
        .bucket("mpu")
        .key("big")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(CompletedPart::builder().part_number(1).e_tag(&e1).build())
                .parts(CompletedPart::builder().part_number(2).e_tag(&e2).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(
        done.e_tag().unwrap().ends_with("-2\""),
        "{:?}",
        done.e_tag()
    );
    let head = c
        .head_object()
        .bucket("mpu")
        .key("big")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(5 * 1024 * 1024 + 4));

    // A small first part is refused at completion.
    let id = c
        .create_multipart_upload()
        .bucket("mpu")
        .key("small")
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_owned();
    let a = c
        .upload_part()
        .bucket("mpu")
        .key("small")
        .upload_id(&id)
        .part_number(1)
        .body(ByteStream::from_static(b"a"))
        .send()
        .await
        .unwrap()
        .e_tag()
        .unwrap()
        .to_owned();
    let b = c
        .upload_part()
        .bucket("mpu")
        .key("small")
        .upload_id(&id)
        .part_number(2)
        .body(ByteStream::from_static(b"b"))
        .send()
        .await
        .unwrap()
        .e_tag()
        .unwrap()
        .to_owned();
    let err = c
        .complete_multipart_upload()
        .bucket("mpu")
        .key("small")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(CompletedPart::builder().part_number(1).e_tag(&a).build())
                .parts(CompletedPart::builder().part_number(2).e_tag(&b).build())
                .build(),
        )
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("EntityTooSmall"));
    c.abort_multipart_upload()
        .bucket("mpu")
        .key("small")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    let err = c
        .list_parts()
        .bucket("mpu")
        .key("small")
        .upload_id(&id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("NoSuchUpload"));
}

#[tokio::test]
async fn select_over_csv_and_json() {
    let server = TestServer::start().await;
    let c = client(&server);
    c.create_bucket().bucket("sel").send().await.unwrap();
    c.put_object()
        .bucket("sel")
        .key("p.csv")
        .body(ByteStream::from_static(CSV.as_bytes()))
        .send()
        .await
        .unwrap();
    let (out, scanned, returned) = select(
        &c,
        "sel",
        "p.csv",
        "SELECT s.name FROM S3Object s WHERE CAST(s.age AS INT) > 40",
        csv_in(),
        csv_out(),
    )
    .await;
    assert_eq!(out, "Alan\nGrace\n");
    assert_eq!(scanned, CSV.len() as i64);
    assert_eq!(returned, out.len() as i64);
    let (out, _, _) = select(
        &c,
        "sel",
        "p.csv",
        "SELECT COUNT(*) AS n, AVG(CAST(age AS INT)) AS a FROM S3Object",
        csv_in(),
        OutputSerialization::builder()
            .json(JsonOutput::builder().build())
            .build(),
    )
    .await;
    assert_eq!(out, "{\"n\":3,\"a\":54}\n");

    c.put_object()
        .bucket("sel")
        .key("l.json")
        .body(ByteStream::from_static(
            b"{\"a\":1,\"b\":{\"c\":\"x\"}}\n{\"a\":2,\"b\":{\"c\":\"y\"}}\n",
        ))
        .send()
        .await
        .unwrap();
    let json_in = InputSerialization::builder()
        .json(JsonInput::builder().r#type(JsonType::Lines).build())
        .build();
    let (out, _, _) = select(
        &c,
        "sel",
        "l.json",
        "SELECT s.b.c FROM S3Object s WHERE s.a = 2",
        json_in,
        csv_out(),
    )
    .await;
    assert_eq!(out, "y\n");

    // A parse error is an HTTP error with S3 Select's code.
    let err = c
        .select_object_content()
        .bucket("sel")
        .key("p.csv")
        .expression("SELECT FROM S3Object")
        .expression_type(ExpressionType::Sql)
        .input_serialization(csv_in())
        .output_serialization(csv_out())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ParseEmptySelect"));

    // A cast failure mid-stream arrives as an error event.
    c.put_object()
        .bucket("sel")
        .key("bad.csv")
        .body(ByteStream::from_static(b"1\nx\n"))
        .send()
        .await
        .unwrap();
    let out = c
        .select_object_content()
        .bucket("sel")
        .key("bad.csv")
        .expression("SELECT CAST(_1 AS INT) FROM S3Object")
        .expression_type(ExpressionType::Sql)
        .input_serialization(
            InputSerialization::builder()
                .csv(CsvInput::builder().build())
                .build(),
        )
        .output_serialization(csv_out())
        .send()
        .await
        .unwrap();
    let mut stream = out.payload;
    let mut failed = None;
    loop {
        match stream.recv().await {
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => {
                failed = Some(format!("{e:?}"));
                break;
            }
        }
    }
    let failed = failed.expect("the stream ends with an error");
    assert!(failed.contains("CastFailed"), "{failed}");
}

#[tokio::test]
async fn glacier_restore_and_glacier_select_on_the_clock() {
    let server = TestServer::start_with(nubis::Cloud::builder().manual_clock()).await;
    let c = client(&server);
    c.create_bucket().bucket("cold").send().await.unwrap();
    c.create_bucket().bucket("results").send().await.unwrap();
    c.put_object()
        .bucket("cold")
        .key("p.csv")
        .storage_class(StorageClass::Glacier)
        .body(ByteStream::from_static(CSV.as_bytes()))
        .send()
        .await
        .unwrap();
    let err = c
        .get_object()
        .bucket("cold")
        .key("p.csv")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("InvalidObjectState"));

    let restore = RestoreRequest::builder()
        .days(2)
        .glacier_job_parameters(
            GlacierJobParameters::builder()
                .tier(Tier::Standard)
                .build()
                .unwrap(),
        )
        .build();
    c.restore_object()
        .bucket("cold")
        .key("p.csv")
        .restore_request(restore.clone())
        .send()
        .await
        .unwrap();
    let head = c
        .head_object()
        .bucket("cold")
        .key("p.csv")
        .send()
        .await
        .unwrap();
    assert_eq!(head.restore(), Some("ongoing-request=\"true\""));
    let err = c
        .restore_object()
        .bucket("cold")
        .key("p.csv")
        .restore_request(restore.clone())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("RestoreAlreadyInProgress"));
    server.manual_clock().advance(Duration::from_secs(5 * 3600));
    let head = c
        .head_object()
        .bucket("cold")
        .key("p.csv")
        .send()
        .await
        .unwrap();
    assert!(
        head.restore()
            .unwrap()
            .starts_with("ongoing-request=\"false\", expiry-date="),
        "{:?}",
        head.restore()
    );
    let got = c
        .get_object()
        .bucket("cold")
        .key("p.csv")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        CSV.as_bytes()
    );
    server
        .manual_clock()
        .advance(Duration::from_secs(3 * 86_400));
    let err = c
        .get_object()
        .bucket("cold")
        .key("p.csv")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("InvalidObjectState"));

    // Glacier Select: results appear under the prefix once the Expedited tier's time passes.
    let params = SelectParameters::builder()
        .input_serialization(csv_in())
        .expression_type(ExpressionType::Sql)
        .expression("SELECT s.name FROM S3Object s WHERE s.city = 'London'")
        .output_serialization(csv_out())
        .build()
        .unwrap();
    let req = RestoreRequest::builder()
        .r#type(RestoreRequestType::Select)
        .tier(Tier::Expedited)
        .select_parameters(params)
        .output_location(
            OutputLocation::builder()
                .s3(S3Location::builder()
                    .bucket_name("results")
                    .prefix("q1")
                    .build()
                    .unwrap())
                .build(),
        )
        .build();
    c.restore_object()
        .bucket("cold")
        .key("p.csv")
        .restore_request(req)
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.list_objects_v2()
            .bucket("results")
            .send()
            .await
            .unwrap()
            .key_count(),
        Some(0)
    );
    server.manual_clock().advance(Duration::from_secs(5 * 60));
    let listed = c
        .list_objects_v2()
        .bucket("results")
        .prefix("q1/")
        .send()
        .await
        .unwrap();
    let key = listed
        .contents()
        .iter()
        .filter_map(|o| o.key())
        .find(|k| k.contains("/results/"))
        .unwrap()
        .to_owned();
    let got = c
        .get_object()
        .bucket("results")
        .key(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"Ada\n"
    );
}

/// `rows` rows (id INT64, name UTF8 with a NULL every tenth row, price DOUBLE) written by
/// arrow's Parquet writer in row groups of 1000 rows.
fn parquet_bytes(rows: i64) -> Vec<u8> {
    use std::sync::Arc;

    use arrow_array::{Float64Array, Int64Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("price", DataType::Float64, false),
    ]));
    let ids: Vec<i64> = (0..rows).collect();
    let names: Vec<Option<String>> = ids
        .iter()
        .map(|i| (i % 10 != 0).then(|| format!("n{i}")))
        .collect();
    let prices: Vec<f64> = ids.iter().map(|i| *i as f64 / 4.0).collect();
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(StringArray::from(names)),
            Arc::new(Float64Array::from(prices)),
        ],
    )
    .unwrap();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(1000))
        .build();
    let mut out = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, schema, Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    out
}

#[tokio::test]
async fn select_over_parquet_with_scan_ranges() {
    use aws_sdk_s3::types::{ParquetInput, ScanRange};
    use parquet::file::reader::{FileReader, SerializedFileReader};

    let server = TestServer::start().await;
    let c = client(&server);
    c.create_bucket().bucket("pqt").send().await.unwrap();
    let data = parquet_bytes(3000);
    let size = data.len() as i64;
    c.put_object()
        .bucket("pqt")
        .key("t.parquet")
        .body(ByteStream::from(data.clone()))
        .send()
        .await
        .unwrap();
    let pq_in = || {
        InputSerialization::builder()
            .parquet(ParquetInput::builder().build())
            .build()
    };
    let q = |sql: &'static str| select(&c, "pqt", "t.parquet", sql, pq_in(), csv_out());
    assert_eq!(q("SELECT COUNT(*) FROM S3Object").await.0, "3000\n");
    let (out, scanned, returned) =
        q("SELECT s.name, s.price FROM S3Object s WHERE s.id = 1234").await;
    assert_eq!(out, "n1234,308.5\n");
    // Only the id, name and price column chunks of one row group are read: statistics rule
    // out the other two groups.
    assert!(scanned > 0 && scanned < size / 2, "{scanned} of {size}");
    assert_eq!(returned, out.len() as i64);
    let (out, _, _) = select(
        &c,
        "pqt",
        "t.parquet",
        "SELECT SUM(price) AS total, MAX(id) AS top, COUNT(name) AS named FROM S3Object WHERE id < 20",
        pq_in(),
        OutputSerialization::builder()
            .json(JsonOutput::builder().build())
            .build(),
    )
    .await;
    assert_eq!(out, "{\"total\":47.5,\"top\":19,\"named\":18}\n");

    // ScanRange: a row group is read when its first byte is in the range.
    let meta = SerializedFileReader::new(bytes::Bytes::from(data.clone())).unwrap();
    let starts: Vec<i64> = meta
        .metadata()
        .row_groups()
        .iter()
        .map(|g| {
            g.columns()
                .iter()
                .map(|c| c.byte_range().0 as i64)
                .min()
                .unwrap()
        })
        .collect();
    assert_eq!(starts.len(), 3);
    let count_in = |start: Option<i64>, end: Option<i64>| {
        let c = c.clone();
        async move {
            let out = c
                .select_object_content()
                .bucket("pqt")
                .key("t.parquet")
                .expression("SELECT COUNT(*) FROM S3Object")
                .expression_type(ExpressionType::Sql)
                .input_serialization(pq_in())
                .output_serialization(csv_out())
                .scan_range(ScanRange::builder().set_start(start).set_end(end).build())
                .send()
                .await
                .unwrap();
            let mut stream = out.payload;
            let mut records = Vec::new();
            while let Some(ev) = stream.recv().await.unwrap() {
                if let SelectObjectContentEventStream::Records(r) = ev {
                    records.extend_from_slice(r.payload().unwrap().as_ref());
                }
            }
            String::from_utf8(records).unwrap()
        }
    };
    assert_eq!(count_in(Some(0), Some(starts[1] - 1)).await, "1000\n");
    assert_eq!(count_in(Some(starts[1]), None).await, "2000\n");
    assert_eq!(
        count_in(Some(starts[1] + 1), Some(starts[2])).await,
        "1000\n"
    );
    // `End` alone means the last `End` bytes: only the last group starts there.
    assert_eq!(count_in(None, Some(size - starts[2])).await, "1000\n");
}
