//! Fuzzes the decoding of Bind parameters (PostgreSQL's binary receive formats) and of format
//! codes: any bytes, any type OID, any format code must give a value or a typed error, never a
//! panic or an unbounded allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nubis_aurora::pgwire::codec::{WireFormat, decode, format_at, type_for_oid};

fuzz_target!(|data: &[u8]| {
    let [a, b, c, d, f, rest @ ..] = data else {
        return;
    };
    let oid = u32::from_be_bytes([*a, *b, *c, *d]);
    let codes = [i16::from(*f), 1];
    let _ = format_at(
        &codes[..usize::from(*f % 3)],
        0,
        usize::from(*f % 4),
        "parameter",
    );
    if let Some(ty) = type_for_oid(oid % 4096) {
        let _ = decode(Some(rest), &ty, WireFormat::Binary);
        let _ = decode(Some(rest), &ty, WireFormat::Text);
        let _ = decode(None, &ty, WireFormat::Binary);
    }
});
