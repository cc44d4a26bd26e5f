//! Quick single-process throughput check of the CSV and JSON-lines scanners (the full
//! comparison with DuckDB and Polars is `benches/scripts/s3select_peers.py`).
//! Usage: cargo run --release -p nubis-s3select --example select_throughput -- [MB]

#![allow(clippy::disallowed_methods)] // Measuring wall time is the point here.

use std::time::Instant;

use bytes::Bytes;
use nubis_core::{Env, Region};
use nubis_s3select::select::{
    CsvInput, FileHeaderInfo, InputFormat, JsonType, SelectOptions, SelectRequest,
};
use nubis_s3select::{PutObject, S3};

const QUERIES: [(&str, &str); 4] = [
    ("count", "SELECT COUNT(*) FROM S3Object"),
    (
        "filter",
        "SELECT s.id, s.name FROM S3Object s WHERE s.category = 'cat_7' AND CAST(s.qty AS INT) > 90",
    ),
    (
        "sum_avg",
        "SELECT SUM(CAST(s.price AS FLOAT)), AVG(CAST(s.qty AS INT)) FROM S3Object s",
    ),
    (
        "like",
        "SELECT COUNT(*) FROM S3Object s WHERE s.note LIKE '%zebra%'",
    ),
];
const WORDS: [&str; 8] = [
    "alpha", "bravo", "zebra", "delta", "echo", "foxtrot", "golf", "hotel",
];

fn row(i: u64) -> [String; 7] {
    let h = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 16;
    [
        i.to_string(),
        format!("name_{:x}", h % 1_000_003),
        format!("cat_{}", h % 50),
        format!("{}.{:02}", (h >> 8) % 1000, (h >> 20) % 100),
        ((h >> 12) % 100).to_string(),
        format!(
            "2024-{:02}-{:02}T{:02}:{:02}:00Z",
            (h >> 4) % 12 + 1,
            (h >> 9) % 28 + 1,
            (h >> 14) % 24,
            (h >> 18) % 60
        ),
        format!(
            "{} {} {}",
            WORDS[(h % 8) as usize],
            WORDS[((h >> 3) % 8) as usize],
            WORDS[((h >> 6) % 7) as usize]
        ),
    ]
}

fn main() {
    let mb: usize = std::env::args()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let (mut csv, mut json) = (b"id,name,category,price,qty,ts,note\n".to_vec(), Vec::new());
    let mut i = 0;
    while csv.len() < mb << 20 {
        let r = row(i);
        csv.extend_from_slice(format!("{}\n", r.join(",")).as_bytes());
        json.extend_from_slice(
            format!("{{\"id\":{},\"name\":\"{}\",\"category\":\"{}\",\"price\":{},\"qty\":{},\"ts\":\"{}\",\"note\":\"{}\"}}\n", r[0], r[1], r[2], r[3], r[4], r[5], r[6]).as_bytes(),
        );
        i += 1;
    }
    for threads in [1, 2] {
        let s3 = S3::new(Env::default()).with_select_options(SelectOptions { threads });
        s3.create_bucket(&Region::US_EAST_1, "bench", None).unwrap();
        s3.put_object(PutObject::new("bench", "d.csv", Bytes::from(csv.clone())))
            .unwrap();
        s3.put_object(PutObject::new(
            "bench",
            "d.jsonl",
            Bytes::from(json.clone()),
        ))
        .unwrap();
        let inputs = [
            (
                "csv",
                "d.csv",
                InputFormat::Csv(CsvInput {
                    file_header_info: FileHeaderInfo::Use,
                    ..Default::default()
                }),
                csv.len(),
            ),
            (
                "jsonl",
                "d.jsonl",
                InputFormat::Json(JsonType::Lines),
                json.len(),
            ),
        ];
        for (fmt, key, input, len) in &inputs {
            for (name, sql) in QUERIES {
                let mut best = f64::MAX;
                let mut first = String::new();
                for _ in 0..3 {
                    let t = Instant::now();
                    let (out, _) = s3
                        .select_object_content_to_end(
                            "bench",
                            key,
                            &SelectRequest::new(sql, input.clone()),
                        )
                        .unwrap();
                    best = best.min(t.elapsed().as_secs_f64());
                    first = String::from_utf8_lossy(&out)
                        .lines()
                        .next()
                        .unwrap_or("")
                        .to_owned();
                }
                println!(
                    "{fmt:6} {name:8} threads={threads} {:7.0} MB/s  ({:.3} s, {} MB)  first: {first}",
                    *len as f64 / best / 1e6,
                    best,
                    len >> 20
                );
            }
        }
    }
}
