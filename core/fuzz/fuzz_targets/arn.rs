//! ARN, region and account parsers: never panic, and whatever parses prints back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nubis_core::{AccountId, Arn, Region};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(arn) = s.parse::<Arn>() {
        assert_eq!(arn.to_string(), s);
        let _ = arn.resource_parts();
    }
    if let Ok(r) = Region::new(s) {
        assert_eq!(r.as_str(), s);
    }
    if let Ok(a) = AccountId::new(s) {
        assert_eq!(a.as_str(), s);
    }
    let _ = nubis_core::clock::parse_rfc3339(s);
    let _ = nubis_core::page::decode::<serde_json::Value>("t", s);
});
