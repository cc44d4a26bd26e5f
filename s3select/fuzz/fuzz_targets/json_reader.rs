//! The JSON reader must never panic, and its validator must accept whatever its parser accepts.
#![no_main]
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use nubis_s3select::select::{InputFormat, JsonType, SelectOptions, SelectRequest, json, run_to_end, select};

fuzz_target!(|data: &[u8]| {
    if json::parse(data).is_ok() {
        assert!(json::is_valid(data));
    }
    for kind in [JsonType::Lines, JsonType::Document] {
        let req = SelectRequest::new("SELECT s.a, s.b[0] FROM S3Object s WHERE s.a IS NOT MISSING", InputFormat::Json(kind));
        if let Ok(stream) = select(Bytes::copy_from_slice(data), &req, std::time::UNIX_EPOCH, SelectOptions::default()) {
            let _ = run_to_end(stream);
        }
    }
});
