//! Times S3 Select queries in-process over files on disk; `benches/scripts/s3select_peers.py`
//! drives it to compare with DuckDB and Polars.
//!
//! Usage:
//! - `cargo run --release -p nubis-s3select --example select_bench -- <dir>`: the four queries of
//!   issue 5 over `<dir>/data.csv`, `data.jsonl` and `data.parquet`, `S3SELECT_RUNS` runs each
//!   (default 5) on each thread count in `S3SELECT_THREADS` (default `1,2`), one JSON line per
//!   (format, query, threads) with the median time and the first result line;
//! - `cargo run --release -p nubis-s3select --example select_bench -- <file> <sql>`: runs one
//!   query (format from the extension: `.csv` with a header line, `.jsonl`, `.parquet`) and
//!   prints the result and the time.

#![allow(clippy::disallowed_methods)] // Measuring wall time is the point here.

use std::time::{Instant, SystemTime};

use bytes::Bytes;
use nubis_s3select::select::{
    CsvInput, FileHeaderInfo, InputFormat, JsonType, SelectOptions, SelectRequest, run_to_end,
    select,
};

/// The four queries of issue 5, by name.
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

fn input_for(path: &str) -> InputFormat {
    if path.ends_with(".parquet") {
        InputFormat::Parquet
    } else if path.ends_with(".jsonl") || path.ends_with(".json") {
        InputFormat::Json(JsonType::Lines)
    } else {
        InputFormat::Csv(CsvInput {
            file_header_info: FileHeaderInfo::Use,
            ..Default::default()
        })
    }
}

fn run(data: &Bytes, sql: &str, input: &InputFormat, threads: usize) -> Result<Vec<u8>, String> {
    let req = SelectRequest::new(sql, input.clone());
    let stream = select(
        data.clone(),
        &req,
        SystemTime::UNIX_EPOCH,
        SelectOptions { threads },
    )
    .map_err(|e| format!("{e:?}"))?;
    run_to_end(stream)
        .map(|(out, _)| out)
        .map_err(|e| format!("{e:?}"))
}

/// CPU seconds this process has used (user + system, all threads), from `/proc/self/stat`
/// (Linux clock ticks of 1/100 s); 0 where that file is missing.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (tick(11) + tick(12)) / 100.0
}

fn env_list(name: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(name)
        .ok()
        .map(|v| v.split(',').filter_map(|t| t.trim().parse().ok()).collect())
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or_else(|| default.to_vec())
}

fn peer_mode(dir: &str) -> Result<(), String> {
    let runs = env_list("S3SELECT_RUNS", &[5])[0].max(1);
    let threads_list = env_list("S3SELECT_THREADS", &[1, 2]);
    let formats: Vec<String> = std::env::var("S3SELECT_FORMATS")
        .unwrap_or_else(|_| "csv,jsonl,parquet".into())
        .split(',')
        .map(str::to_owned)
        .collect();
    for fmt in &formats {
        let path = format!("{dir}/data.{fmt}");
        let data = match std::fs::read(&path) {
            Ok(d) => Bytes::from(d),
            Err(e) => {
                eprintln!("skipping {path}: {e}");
                continue;
            }
        };
        let input = input_for(&path);
        for &threads in &threads_list {
            for (name, sql) in QUERIES {
                let mut times = Vec::with_capacity(runs);
                let mut cpu = Vec::with_capacity(runs);
                let mut answer = String::new();
                for _ in 0..runs {
                    // CPU time is read in 10 ms ticks: a fast query is repeated until it has
                    // used 0.2 s (or 2 s of wall time), and the run is the mean of the repeats.
                    let (t, c) = (Instant::now(), cpu_seconds());
                    let mut repeats = 0u32;
                    let out = loop {
                        let out = run(&data, sql, &input, threads)?;
                        repeats += 1;
                        if cpu_seconds() - c >= 0.2 || t.elapsed().as_secs_f64() >= 2.0 {
                            break out;
                        }
                    };
                    times.push(t.elapsed().as_secs_f64() / f64::from(repeats));
                    cpu.push((cpu_seconds() - c) / f64::from(repeats));
                    let text = String::from_utf8_lossy(&out);
                    answer = if name == "filter" {
                        format!("{} rows", text.lines().count())
                    } else {
                        text.lines().next().unwrap_or("").to_owned()
                    };
                }
                times.sort_by(f64::total_cmp);
                cpu.sort_by(f64::total_cmp);
                let (median, median_cpu) = (times[times.len() / 2], cpu[cpu.len() / 2]);
                println!(
                    "{{\"engine\":\"nubis\",\"format\":\"{fmt}\",\"threads\":{threads},\"query\":\"{name}\",\"bytes\":{},\"median_s\":{median:.4},\"median_cpu_s\":{median_cpu:.4},\"answer\":{answer:?}}}",
                    data.len()
                );
            }
        }
    }
    Ok(())
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [dir] if std::path::Path::new(dir).is_dir() => peer_mode(dir),
        [file, sql] => {
            let data = Bytes::from(std::fs::read(file).map_err(|e| format!("{file}: {e}"))?);
            let threads = env_list("S3SELECT_THREADS", &[1])[0];
            let (t, c) = (Instant::now(), cpu_seconds());
            let out = run(&data, sql, &input_for(file), threads)?;
            let (secs, cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - c);
            let text = String::from_utf8_lossy(&out);
            for line in text.lines().take(10) {
                println!("{line}");
            }
            eprintln!(
                "{} result lines, {secs:.3} s wall, {cpu:.2} s CPU, {:.0} MB/s per CPU-second on {threads} thread(s)",
                text.lines().count(),
                data.len() as f64 / cpu.max(0.01) / 1e6
            );
            Ok(())
        }
        _ => Err("usage: select_bench <dir> | select_bench <file> <sql>".into()),
    }
}
