//! The key-value page payload decoder never panics, and what it accepts re-encodes to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nubis_aurora::volume::{KvApply, KvOp};

fuzz_target!(|data: &[u8]| {
    if let Ok(op) = KvApply::decode(data) {
        let again = match &op {
            KvOp::Put { key, value } => KvApply::put(key, value),
            KvOp::Delete { key } => KvApply::delete(key),
        };
        assert_eq!(KvApply::decode(&again).ok(), Some(op));
    }
});
