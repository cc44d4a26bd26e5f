//! Every expression parser on arbitrary text: no panic, and what parses prints back to text
//! that parses to the same tree.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nubis_dynamo::expr::parse::{parse_condition, parse_projection, parse_update};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(c) = parse_condition(s) {
        assert_eq!(parse_condition(&c.to_string()).ok(), Some(c));
    }
    if let Ok(u) = parse_update(s) {
        let again = parse_update(&u.to_string()).ok().map(|x| x.actions);
        assert_eq!(again.map(|a| a.len()), Some(u.actions.len()));
    }
    let _ = parse_projection(s);
});
