//! The number parser: no panic, and every accepted number prints back to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nubis_dynamo::number::Number;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(n) = s.parse::<Number>() {
        assert_eq!(n.to_string().parse::<Number>().ok(), Some(n));
    }
});
