//! SelectObjectContent through the SDK over CSV, JSON and Parquet objects: projections,
//! filters, aggregates, compression, ScanRange and the event stream.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    CsvInput, ExpressionType, InputSerialization, JsonInput, JsonOutput, JsonType,
    OutputSerialization, SelectObjectContentEventStream,
};
use nubis::testing::TestServer;

use super::{CSV, csv_in, csv_out, select, setup};

#[tokio::test]
async fn select_over_csv_and_json() {
    let (_server, c) = setup(TestServer::start().await).await;
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

    let (_server, c) = setup(TestServer::start().await).await;
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

/// A Parquet DECIMAL(38,10) column through the SDK: values, their exact sum and the JSON
/// output keep all 38 digits (no double in between).
#[tokio::test]
async fn parquet_decimals_are_exact_through_the_wire() {
    use std::sync::Arc;

    use arrow_array::{Decimal128Array, RecordBatch};
    use arrow_schema::{DataType, Field, Schema};
    use aws_sdk_s3::types::ParquetInput;

    let values: [i128; 3] = [
        12_345_678_901_234_567_890_123_456_781_234_567_890,
        -1,
        99_999_999_999_999_999_999_999_999_999_999_999_999
            - 12_345_678_901_234_567_890_123_456_781_234_567_890,
    ];
    let schema = Arc::new(Schema::new(vec![Field::new(
        "d",
        DataType::Decimal128(38, 10),
        false,
    )]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![Arc::new(
            Decimal128Array::from(values.to_vec())
                .with_precision_and_scale(38, 10)
                .unwrap(),
        )],
    )
    .unwrap();
    let mut data = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut data, schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();

    let (_server, c) = setup(TestServer::start().await).await;
    c.create_bucket().bucket("pqd").send().await.unwrap();
    c.put_object()
        .bucket("pqd")
        .key("d.parquet")
        .body(ByteStream::from(data))
        .send()
        .await
        .unwrap();
    let pq_in = || {
        InputSerialization::builder()
            .parquet(ParquetInput::builder().build())
            .build()
    };
    let (out, _, _) = select(
        &c,
        "pqd",
        "d.parquet",
        "SELECT d FROM S3Object",
        pq_in(),
        csv_out(),
    )
    .await;
    assert_eq!(
        out,
        "1234567890123456789012345678.1234567890\n-0.0000000001\n8765432109876543210987654321.8765432109\n"
    );
    let (out, _, _) = select(
        &c,
        "pqd",
        "d.parquet",
        "SELECT SUM(d) AS total, MAX(d) AS top, AVG(d) AS mean FROM S3Object WHERE d > 0.00000000001",
        pq_in(),
        OutputSerialization::builder()
            .json(JsonOutput::builder().build())
            .build(),
    )
    .await;
    assert_eq!(
        out,
        "{\"total\":9999999999999999999999999999.9999999999,\"top\":8765432109876543210987654321.8765432109,\"mean\":5000000000000000000000000000.0000000000}\n"
    );
}
