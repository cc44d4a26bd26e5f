//! The Parquet scan must never panic on any file: not on a corrupt footer, page or dictionary
//! (a dictionary key outside its dictionary included), whichever path a query takes — metadata
//! `COUNT(*)`, dictionary-wise WHERE, the two-phase read, whole-column sums, `SELECT *`.
//! Seed the corpus with real Parquet files (e.g. from `s3select/tests/parquet_paths.rs`'s
//! writer or `s3select_peers.py`) so mutations reach the pages.
#![no_main]
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use nubis_s3select::select::{InputFormat, SelectOptions, SelectRequest, run_to_end, select};

const QUERIES: [&str; 5] = [
    "SELECT COUNT(*) FROM S3Object",
    "SELECT * FROM S3Object s WHERE s._2 = 'x' OR s._1 > 3",
    "SELECT s._1 FROM S3Object s WHERE s._2 LIKE '%a%'",
    "SELECT SUM(s._1), AVG(CAST(s._3 AS FLOAT)), COUNT(*) FROM S3Object s",
    "SELECT COUNT(*) FROM S3Object s WHERE UPPER(s._2) = 'A'",
];

fuzz_target!(|data: &[u8]| {
    for sql in QUERIES {
        let req = SelectRequest::new(sql, InputFormat::Parquet);
        for threads in [1, 2] {
            if let Ok(stream) = select(Bytes::copy_from_slice(data), &req, std::time::UNIX_EPOCH, SelectOptions { threads }) {
                let _ = run_to_end(stream);
            }
        }
    }
});
