//! The SCRAM-SHA-256 message parsers and the server's two steps take any bytes without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nubis_aurora::pgwire::scram::{ScramServer, parse_client_final, parse_client_first};

fuzz_target!(|data: &[u8]| {
    let _ = parse_client_first(data);
    let _ = parse_client_final(data);
    let (first, last) = data.split_at(data.len() / 2);
    let mut server = ScramServer::new("pw", b"salt", b"nonce");
    if server.first(first).is_ok() {
        let _ = server.finish(last);
    }
});
