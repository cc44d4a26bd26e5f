//! The Gremlin lexer, parser and printer never panic, and printing round-trips.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(script) = nubis_neptune::gremlin::parse::parse(text) {
        let printed = script.to_string();
        let again = nubis_neptune::gremlin::parse::parse(&printed).expect("printed script parses");
        assert_eq!(printed, again.to_string());
    }
});
