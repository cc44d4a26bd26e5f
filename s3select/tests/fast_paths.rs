//! The compiled fast paths (one-pass CSV splitting, raw-byte predicates and aggregate
//! arguments) give exactly what the generic evaluator gives: each query is run as written and
//! in a form the compiler leaves to the generic evaluator (`(p) = TRUE`, `x + 0`), over random
//! CSV and JSON-lines records built from awkward values (quotes, spaces, signs, fractions,
//! exponents, empty and missing fields), and over random Parquet rows with typed and NULL
//! values, and the answers, or the errors, must agree.

use bytes::Bytes;
use nubis_core::{Env, Region};
use nubis_s3select::select::{CsvInput, FileHeaderInfo, InputFormat, JsonType, SelectRequest};
use nubis_s3select::{PutObject, S3, ServiceError};
use proptest::prelude::*;

fn value() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "",
        "x",
        "7",
        "-7",
        "07",
        "3.50",
        "-0.25",
        "1e2",
        " 4",
        "+5",
        "12345678901234567890",
        "\"7\"",
        "\"a,b\"",
        "\"q\"\"q\"",
        "x1y",
        "abc",
        "cat_7",
        "1.",
        "9223372036854775807",
    ])
    .prop_map(str::to_owned)
}

/// (fast form, generic form) pairs.
const QUERIES: [(&str, &str); 6] = [
    (
        "SELECT COUNT(*) FROM S3Object s WHERE s.a = 'x'",
        "SELECT COUNT(*) FROM S3Object s WHERE (s.a = 'x') = TRUE",
    ),
    (
        "SELECT s.a FROM S3Object s WHERE s.b <> '7' AND CAST(s.a AS INT) > 3",
        "SELECT s.a FROM S3Object s WHERE (s.b <> '7') = TRUE AND (CAST(s.a AS INT) > 3) = TRUE",
    ),
    (
        "SELECT COUNT(*) FROM S3Object s WHERE s.a < 5 OR s.c LIKE '%7%'",
        "SELECT COUNT(*) FROM S3Object s WHERE (s.a < 5) = TRUE OR (s.c LIKE '%7%') = TRUE",
    ),
    (
        "SELECT SUM(CAST(s.a AS FLOAT)), AVG(CAST(s.b AS INT)) FROM S3Object s",
        "SELECT SUM(CAST(s.a AS FLOAT) + 0), AVG(CAST(s.b AS INT) + 0) FROM S3Object s",
    ),
    (
        "SELECT SUM(s.c), AVG(CAST(s.c AS DECIMAL)) FROM S3Object s",
        "SELECT SUM(s.c + 0), AVG(CAST(s.c AS DECIMAL) + 0) FROM S3Object s",
    ),
    (
        "SELECT s.c FROM S3Object s WHERE 3 <= s.c",
        "SELECT s.c FROM S3Object s WHERE (3 <= s.c) = TRUE",
    ),
];

fn answer(s3: &S3, key: &str, sql: &str, input: &InputFormat) -> Result<String, String> {
    s3.select_object_content_to_end("fast", key, &SelectRequest::new(sql, input.clone()))
        .map(|(out, _)| String::from_utf8_lossy(&out).into_owned())
        .map_err(|e| e.code().to_owned())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn fast_paths_agree_with_the_generic_evaluator(rows in prop::collection::vec(prop::collection::vec(value(), 1..4), 1..12)) {
        let mut csv = String::from("a,b,c\n");
        let mut json = String::new();
        for r in &rows {
            csv.push_str(&r.join(","));
            csv.push('\n');
            let fields: Vec<String> = ["a", "b", "c"].iter().zip(r).map(|(k, v)| {
                // Numbers as number tokens where JSON allows, everything else as a string.
                let token = if serde_json::from_str::<serde_json::Number>(v).is_ok() {
                    v.clone()
                } else {
                    serde_json::to_string(v).unwrap_or_default()
                };
                format!("\"{k}\":{token}")
            }).collect();
            json.push_str(&format!("{{{}}}\n", fields.join(",")));
        }
        let s3 = S3::new(Env::default());
        s3.create_bucket(&Region::US_EAST_1, "fast", None).unwrap();
        s3.put_object(PutObject::new("fast", "d.csv", Bytes::from(csv))).unwrap();
        s3.put_object(PutObject::new("fast", "d.jsonl", Bytes::from(json))).unwrap();
        let csv_in = InputFormat::Csv(CsvInput { file_header_info: FileHeaderInfo::Use, ..Default::default() });
        let json_in = InputFormat::Json(JsonType::Lines);
        for (key, input) in [("d.csv", &csv_in), ("d.jsonl", &json_in)] {
            for (fast, generic) in QUERIES {
                prop_assert_eq!(answer(&s3, key, fast, input), answer(&s3, key, generic, input), "{} over {}", fast, key);
            }
        }
    }
}

#[cfg(feature = "parquet")]
fn parquet_file(rows: &[(Option<i64>, Option<String>, Option<f64>)]) -> Vec<u8> {
    use std::sync::Arc;

    use arrow_array::{Float64Array, Int64Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    let schema = Arc::new(Schema::new(vec![
        Field::new("a", DataType::Int64, true),
        Field::new("b", DataType::Utf8, true),
        Field::new("c", DataType::Float64, true),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(rows.iter().map(|r| r.0).collect::<Int64Array>()),
            Arc::new(rows.iter().map(|r| r.1.clone()).collect::<StringArray>()),
            Arc::new(rows.iter().map(|r| r.2).collect::<Float64Array>()),
        ],
    )
    .unwrap();
    let mut out = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    out
}

#[cfg(feature = "parquet")]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn parquet_fast_paths_agree_with_the_generic_evaluator(rows in prop::collection::vec((
        prop::option::of(-10i64..10),
        prop::option::of(value()),
        prop::option::of(prop::sample::select(vec![-2.5f64, 0.0, 3.0, 7.25, 1e300])),
    ), 1..12)) {
        let s3 = S3::new(Env::default());
        s3.create_bucket(&Region::US_EAST_1, "fast", None).unwrap();
        s3.put_object(PutObject::new("fast", "d.parquet", Bytes::from(parquet_file(&rows)))).unwrap();
        for (fast, generic) in QUERIES {
            prop_assert_eq!(answer(&s3, "d.parquet", fast, &InputFormat::Parquet), answer(&s3, "d.parquet", generic, &InputFormat::Parquet), "{}", fast);
        }
    }
}
