//! The CSV scanner must never panic on any bytes, with any quoting option.
#![no_main]
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use nubis_s3select::select::{CsvInput, FileHeaderInfo, InputFormat, SelectOptions, SelectRequest, run_to_end, select};

fuzz_target!(|data: &[u8]| {
    let allow = data.first().is_some_and(|b| b & 1 == 1);
    let header = if data.first().is_some_and(|b| b & 2 == 2) { FileHeaderInfo::Use } else { FileHeaderInfo::None };
    let input = InputFormat::Csv(CsvInput { allow_quoted_record_delimiter: allow, file_header_info: header, comments: Some(b'#'), ..Default::default() });
    for sql in ["SELECT * FROM S3Object", "SELECT COUNT(*) FROM S3Object s WHERE s._2 LIKE '%a%'"] {
        let req = SelectRequest::new(sql, input.clone());
        if let Ok(stream) = select(Bytes::copy_from_slice(data), &req, std::time::UNIX_EPOCH, SelectOptions::default()) {
            let _ = run_to_end(stream);
        }
    }
});
