//! S3 Select benchmarks: the four queries of issue 5 over the same rows as CSV, JSON lines and
//! Parquet, on one and two threads.
//!
//! Two modes:
//! - `cargo bench -p nubis-benches --bench s3select` runs criterion over generated in-memory data
//!   (`S3SELECT_BENCH_MB`, default 64 MB of CSV);
//! - with `S3SELECT_PEER_DIR=<dir>` it times the queries over `<dir>/data.csv`,
//!   `data.jsonl` and `data.parquet` (written by `benches/scripts/s3select_peers.py`) and prints
//!   one JSON line per run, so the peer script can compare with DuckDB and Polars.

use std::time::Instant;

use criterion::{Criterion, Throughput};
use nubis_core::{Env, Region};
use nubis_s3select::bytes::Bytes;
use nubis_s3select::select::{
    CsvInput, FileHeaderInfo, InputFormat, JsonType, SelectOptions, SelectRequest,
};
use nubis_s3select::{PutObject, S3};

/// The four queries, by name.
pub const QUERIES: [(&str, &str); 4] = [
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

/// Row `i` of the shared data set, as CSV fields (the Python script writes the same rows).
fn row(i: u64) -> [String; 7] {
    let h = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 16;
    let note = format!(
        "{} {} {}",
        WORDS[(h % 8) as usize],
        WORDS[((h >> 3) % 8) as usize],
        WORDS[((h >> 6) % 7) as usize]
    );
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
        note,
    ]
}

const HEADER: [&str; 7] = ["id", "name", "category", "price", "qty", "ts", "note"];

fn csv_data(bytes: usize) -> Vec<u8> {
    let mut out = HEADER.join(",").into_bytes();
    out.push(b'\n');
    let mut i = 0;
    while out.len() < bytes {
        out.extend_from_slice(row(i).join(",").as_bytes());
        out.push(b'\n');
        i += 1;
    }
    out
}

fn json_data(bytes: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while out.len() < bytes {
        let r = row(i);
        out.extend_from_slice(
            format!("{{\"id\":{},\"name\":\"{}\",\"category\":\"{}\",\"price\":{},\"qty\":{},\"ts\":\"{}\",\"note\":\"{}\"}}\n", r[0], r[1], r[2], r[3], r[4], r[5], r[6]).as_bytes(),
        );
        i += 1;
    }
    out
}

fn store(threads: usize) -> S3 {
    let s3 = S3::new(Env::default()).with_select_options(SelectOptions { threads });
    let _ = s3.create_bucket(&Region::US_EAST_1, "bench", None);
    s3
}

fn csv_input() -> InputFormat {
    InputFormat::Csv(CsvInput {
        file_header_info: FileHeaderInfo::Use,
        ..Default::default()
    })
}

fn run(s3: &S3, key: &str, sql: &str, input: &InputFormat) -> Vec<u8> {
    match s3.select_object_content_to_end("bench", key, &SelectRequest::new(sql, input.clone())) {
        Ok((out, _)) => out,
        Err(e) => panic!("{sql}: {e:?}"),
    }
}

fn criterion_benches(c: &mut Criterion) {
    let mb: usize = std::env::var("S3SELECT_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let csv = Bytes::from(csv_data(mb << 20));
    let json = Bytes::from(json_data(mb << 20));
    for threads in [1, 2] {
        let s3 = store(threads);
        s3.put_object(PutObject::new("bench", "d.csv", csv.clone()))
            .unwrap();
        s3.put_object(PutObject::new("bench", "d.jsonl", json.clone()))
            .unwrap();
        for (fmt, key, input, len) in [
            ("csv", "d.csv", csv_input(), csv.len()),
            (
                "jsonl",
                "d.jsonl",
                InputFormat::Json(JsonType::Lines),
                json.len(),
            ),
        ] {
            let mut g = c.benchmark_group(format!("s3select_{fmt}_{threads}t"));
            g.throughput(Throughput::Bytes(len as u64));
            g.sample_size(10);
            for (name, sql) in QUERIES {
                g.bench_function(name, |b| b.iter(|| run(&s3, key, sql, &input)));
            }
            g.finish();
        }
    }
}

/// Times each query over the peer script's files and prints JSON lines.
#[allow(clippy::disallowed_methods)] // Benchmarks measure wall time on purpose.
fn peer_mode(dir: &str) {
    let runs: usize = std::env::var("S3SELECT_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let threads_list: Vec<usize> = std::env::var("S3SELECT_THREADS")
        .ok()
        .map(|v| v.split(',').filter_map(|t| t.parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 2]);
    let mut files: Vec<(&str, &str, InputFormat)> = vec![
        ("csv", "data.csv", csv_input()),
        ("jsonl", "data.jsonl", InputFormat::Json(JsonType::Lines)),
    ];
    files.push(("parquet", "data.parquet", InputFormat::Parquet));
    for (fmt, file, input) in files {
        let path = format!("{dir}/{file}");
        let Ok(data) = std::fs::read(&path) else {
            eprintln!("skipping {path}: not found");
            continue;
        };
        let size = data.len();
        let data = Bytes::from(data);
        for &threads in &threads_list {
            let s3 = store(threads);
            s3.put_object(PutObject::new("bench", file, data.clone()))
                .unwrap();
            for (name, sql) in QUERIES {
                let mut times = Vec::new();
                let mut answer = String::new();
                for _ in 0..runs {
                    let t = Instant::now();
                    let out = run(&s3, file, sql, &input);
                    times.push(t.elapsed().as_secs_f64());
                    answer = String::from_utf8_lossy(&out)
                        .lines()
                        .take(1)
                        .collect::<String>();
                    if name == "filter" {
                        answer = format!("{} rows", String::from_utf8_lossy(&out).lines().count());
                    }
                }
                times.sort_by(f64::total_cmp);
                let median = times[times.len() / 2];
                println!(
                    "{{\"engine\":\"nubis\",\"format\":\"{fmt}\",\"threads\":{threads},\"query\":\"{name}\",\"bytes\":{size},\"median_s\":{median:.4},\"mb_per_s\":{:.1},\"answer\":{:?}}}",
                    size as f64 / median / 1e6,
                    answer
                );
            }
        }
    }
}

fn main() {
    if let Ok(dir) = std::env::var("S3SELECT_PEER_DIR") {
        peer_mode(&dir);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    criterion_benches(&mut c);
    c.final_summary();
}
