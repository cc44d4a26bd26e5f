//! S3 Select over Parquet: projection, row-group pruning by statistics, typed values.
#![cfg(feature = "parquet")]

use std::sync::Arc;

use arrow_array::{Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use bytes::Bytes;
use nubis_core::{Env, Region};
use nubis_s3select::select::{InputFormat, SelectRequest};
use nubis_s3select::{PutObject, S3, ServiceError};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;

fn parquet_file(rows: i64) -> Vec<u8> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("price", DataType::Float64, false),
    ]));
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(1000))
        .build();
    let mut out = Vec::new();
    let mut w = ArrowWriter::try_new(&mut out, Arc::clone(&schema), Some(props)).unwrap();
    let ids: Vec<i64> = (0..rows).collect();
    let names: Vec<Option<String>> = ids
        .iter()
        .map(|i| {
            if i % 10 == 0 {
                None
            } else {
                Some(format!("n{i}"))
            }
        })
        .collect();
    let prices: Vec<f64> = ids.iter().map(|i| *i as f64 / 4.0).collect();
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(StringArray::from(names)),
            Arc::new(Float64Array::from(prices)),
        ],
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    out
}

#[test]
fn parquet_queries() {
    let s3 = S3::new(Env::default());
    s3.create_bucket(&Region::US_EAST_1, "pqt", None).unwrap();
    s3.put_object(PutObject::new(
        "pqt",
        "t.parquet",
        Bytes::from(parquet_file(5000)),
    ))
    .unwrap();
    let run = |sql: &str| {
        let (out, stats) = s3
            .select_object_content_to_end(
                "pqt",
                "t.parquet",
                &SelectRequest::new(sql, InputFormat::Parquet),
            )
            .unwrap();
        (String::from_utf8(out).unwrap(), stats)
    };
    assert_eq!(run("SELECT COUNT(*) FROM S3Object").0, "5000\n");
    assert_eq!(
        run("SELECT s.name, s.price FROM S3Object s WHERE s.id = 4321").0,
        "n4321,1080.25\n"
    );
    assert_eq!(
        run("SELECT SUM(price), MAX(id) FROM S3Object WHERE name IS NULL").0,
        format!(
            "{},4990\n",
            (0..500).map(|i| (i * 10) as f64 / 4.0).sum::<f64>()
        )
    );
    let (all, full) = run("SELECT id FROM S3Object WHERE id >= 0");
    assert_eq!(all.lines().count(), 5000);
    // Four of five row groups are pruned by their statistics, so fewer bytes are scanned.
    let (some, pruned) = run("SELECT id FROM S3Object WHERE id > 4500");
    assert_eq!(some.lines().count(), 499);
    assert!(
        pruned.bytes_scanned * 4 < full.bytes_scanned,
        "{pruned:?} vs {full:?}"
    );
    let (json, _) = {
        let (out, stats) = s3
            .select_object_content_to_end(
                "pqt",
                "t.parquet",
                &SelectRequest::new(
                    "SELECT * FROM S3Object s WHERE s.id = 10",
                    InputFormat::Parquet,
                )
                .json_output(),
            )
            .unwrap();
        (String::from_utf8(out).unwrap(), stats)
    };
    assert_eq!(json, "{\"id\":10,\"name\":null,\"price\":2.5}\n");
    s3.put_object(PutObject::new(
        "pqt",
        "not.parquet",
        Bytes::from_static(b"a,b\n"),
    ))
    .unwrap();
    let err = s3
        .select_object_content(
            "pqt",
            "not.parquet",
            &SelectRequest::new("SELECT * FROM S3Object", InputFormat::Parquet),
        )
        .unwrap_err();
    assert_eq!(err.code(), "ParquetParsingError");
}
