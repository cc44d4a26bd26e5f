#![no_main]
//! Function references, qualifiers and the other name validators: total, and round-tripping.
use libfuzzer_sys::fuzz_target;
use nubis_lambda::names::*;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(r) = FunctionRef::parse(s) {
        assert_eq!(FunctionRef::parse(&r.to_string()).ok(), Some(r));
    }
    let _ = validate_qualifier(s);
    let _ = validate_alias_name(s);
    let _ = validate_handler(s);
    let _ = validate_role(s);
    let _ = nubis_lambda::sam::Schedule::parse(s);
});
