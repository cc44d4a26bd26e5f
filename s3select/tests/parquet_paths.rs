//! The Parquet scan's column-wise paths — WHERE evaluated once per dictionary value or over
//! whole columns, the two-phase read that decodes projected columns only for rows that passed,
//! whole-column sums, row-group pruning by statistics — give exactly what the row-by-row
//! evaluator gives. Each query runs as written and with its WHERE `p` rewritten as
//! `NOT NOT (p) AND (s.a IS MISSING OR s.b IS MISSING OR TRUE)`: the same truth, but no
//! conjunct for statistics to prune by, and a conjunct over two columns that no column-wise
//! path can answer, so every row of that form goes through the scalar evaluator. Rows are random (typed values, NULLs, text that does and does not cast) and
//! written in small row groups with dictionary encoding, so dictionaries change between groups.
//! And damaged files (bytes overwritten anywhere) give an answer or an error, never a panic.

#![cfg(feature = "parquet")]

use std::sync::Arc;

use arrow_array::{Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use bytes::Bytes;
use nubis_core::{Env, Region};
use nubis_s3select::select::{InputFormat, SelectRequest};
use nubis_s3select::{PutObject, S3, ServiceError};
use parquet::file::properties::WriterProperties;
use proptest::prelude::*;

type Rec = (Option<i64>, Option<String>, Option<f64>, Option<String>);

fn parquet_file(rows: &[Rec], group: usize, dictionary: bool) -> Vec<u8> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("a", DataType::Int64, true),
        Field::new("b", DataType::Utf8, true),
        Field::new("c", DataType::Float64, true),
        Field::new("d", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(rows.iter().map(|r| r.0).collect::<Int64Array>()),
            Arc::new(rows.iter().map(|r| r.1.clone()).collect::<StringArray>()),
            Arc::new(rows.iter().map(|r| r.2).collect::<Float64Array>()),
            Arc::new(rows.iter().map(|r| r.3.clone()).collect::<StringArray>()),
        ],
    )
    .unwrap();
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(group))
        .set_dictionary_enabled(dictionary)
        .build();
    let mut out = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, schema, Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    out
}

fn text() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "",
        "x",
        "7",
        "-7",
        "3.50",
        "cat_7",
        "a zebra b",
        "zebra",
        "ZEBRA",
        "12",
        "abc",
        " 4",
    ])
    .prop_map(str::to_owned)
}

/// (head, WHERE, tail) of queries whose WHERE the column-wise paths answer.
const QUERIES: [(&str, &str, &str); 12] = [
    ("SELECT COUNT(*) FROM S3Object s", "s.b = 'cat_7'", ""),
    (
        "SELECT s.a, s.c FROM S3Object s",
        "s.b = 'cat_7' AND CAST(s.a AS INT) > 2",
        "",
    ),
    ("SELECT COUNT(*) FROM S3Object s", "s.d LIKE '%zebra%'", ""),
    (
        "SELECT s.c FROM S3Object s",
        "s.d NOT LIKE '%zebra%' OR s.a < 0",
        "",
    ),
    ("SELECT * FROM S3Object s", "s.b <> 'x'", ""),
    ("SELECT s.a FROM S3Object s", "s.b <> 'x'", " LIMIT 2"),
    (
        "SELECT SUM(s.c), AVG(s.a), COUNT(*) FROM S3Object s",
        "s.b = '7' OR s.d = 'zebra'",
        "",
    ),
    ("SELECT s.a FROM S3Object s", "CAST(s.b AS INT) > 3", ""),
    (
        "SELECT s.a FROM S3Object s",
        "CAST(s.b AS INT) > 3",
        " LIMIT 1",
    ),
    ("SELECT CAST(s.d AS INT) FROM S3Object s", "s.a > 0", ""),
    (
        "SELECT s.c FROM S3Object s",
        "UPPER(s.d) = 'ZEBRA' AND s.b IS NOT NULL",
        "",
    ),
    (
        "SELECT s.d FROM S3Object s",
        "s.a = 3 AND s.c >= 3 AND s.b = 'x'",
        "",
    ),
];

/// Always TRUE, over two columns: no column-wise path answers it.
const ALWAYS: &str = " AND (s.a IS MISSING OR s.b IS MISSING OR TRUE)";

fn answer(s3: &S3, sql: &str) -> Result<String, String> {
    s3.select_object_content_to_end(
        "pqt",
        "d.parquet",
        &SelectRequest::new(sql, InputFormat::Parquet),
    )
    .map(|(out, _)| String::from_utf8_lossy(&out).into_owned())
    .map_err(|e| e.code().to_owned())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn parquet_column_paths_agree_with_the_row_by_row_evaluator(
        rows in prop::collection::vec((
            prop::option::of(-5i64..6),
            prop::option::of(text()),
            prop::option::of(prop::sample::select(vec![-2.5f64, 0.0, 3.0, 7.25, 1e300])),
            prop::option::of(text()),
        ), 1..40),
        group in 1usize..9,
        dictionary in any::<bool>(),
    ) {
        let s3 = S3::new(Env::default());
        s3.create_bucket(&Region::US_EAST_1, "pqt", None).unwrap();
        let file = parquet_file(&rows, group, dictionary);
        s3.put_object(PutObject::new("pqt", "d.parquet", Bytes::from(file))).unwrap();
        for (head, cond, tail) in QUERIES {
            let fast = format!("{head} WHERE {cond}{tail}");
            // NOT NOT hides the conjuncts from row-group pruning.
            let scalar = format!("{head} WHERE NOT NOT ({cond}){ALWAYS}{tail}");
            prop_assert_eq!(answer(&s3, &fast), answer(&s3, &scalar), "{}", fast);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// A damaged file (bytes overwritten anywhere: footer, page headers, dictionary pages,
    /// RLE-encoded keys) gives an answer or an error for every query, never a panic.
    #[test]
    fn damaged_parquet_files_never_panic(
        rows in prop::collection::vec((
            prop::option::of(-5i64..6),
            prop::option::of(text()),
            prop::option::of(prop::sample::select(vec![-2.5f64, 0.0, 3.0])),
            prop::option::of(text()),
        ), 1..30),
        damage in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut file = parquet_file(&rows, 7, true);
        for (at, byte) in damage {
            let i = at.index(file.len());
            file[i] = byte;
        }
        let s3 = S3::new(Env::default());
        s3.create_bucket(&Region::US_EAST_1, "pqt", None).unwrap();
        s3.put_object(PutObject::new("pqt", "d.parquet", Bytes::from(file))).unwrap();
        for (head, cond, tail) in QUERIES {
            let _ = answer(&s3, &format!("{head} WHERE {cond}{tail}"));
        }
        let _ = answer(&s3, "SELECT * FROM S3Object");
    }
}
