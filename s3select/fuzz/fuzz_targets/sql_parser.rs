//! The S3 Select SQL parser must never panic, and what it accepts must print and re-parse
//! to the same tree.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nubis_s3select::select::parser::parse_query;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data)
        && let Ok(q) = parse_query(s)
    {
        let again = parse_query(&q.to_string()).expect("printed query re-parses");
        assert_eq!(q, again);
    }
});
