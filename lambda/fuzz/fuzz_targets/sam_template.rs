#![no_main]
//! SAM template parsing (YAML, globals, intrinsics, events): never panics.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = nubis_lambda::sam::Template::parse(s);
    }
});
