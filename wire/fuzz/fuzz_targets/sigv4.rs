//! SigV4 header and presigned-query parsers, form parsing and event-stream decoding: never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = nubis_wire::parse_form(data);
    let _ = nubis_wire::eventstream::decode(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = nubis_wire::sigv4::parse_authorization(s);
        let _ = nubis_wire::sigv4::parse_presigned_query(s);
    }
});
