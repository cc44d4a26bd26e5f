//! Decodes arbitrary redo payloads and applies them to every kind of page: no panic, and a
//! payload that decodes re-encodes to bytes that decode to the same encoding (canonical form).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nubis_aurora::cluster::codec::{decode, encode};
use nubis_aurora::cluster::pages::{SqlPage, apply_record, heap_page};

fuzz_target!(|data: &[u8]| {
    if let Ok(rec) = decode(data) {
        let canonical = encode(&rec);
        assert_eq!(
            decode(&canonical).map(|r| encode(&r)).ok(),
            Some(canonical.clone())
        );
        for page in [0u64, 1, 1 << 20, heap_page(1, 0), 1 << 33] {
            let mut p = SqlPage::default();
            let _ = apply_record(page, &mut p, rec.clone());
        }
    }
});
