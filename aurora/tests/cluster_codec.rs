//! Property tests of the redo payload codec and the page format.

use std::sync::Arc;

use nubis_aurora::Value;
use nubis_aurora::cluster::codec::{PageRecord, decode, encode};
use nubis_aurora::cluster::pages::{SqlPage, apply_record, heap_page};
use nubis_aurora::storage::Version;
use proptest::prelude::*;

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i16>().prop_map(Value::Int2),
        any::<i32>().prop_map(Value::Int4),
        any::<i64>().prop_map(Value::Int8),
        (any::<i64>(), 0u32..20)
            .prop_map(|(m, s)| Value::Numeric(format!("{m}e-{s}").parse().unwrap())),
        any::<f64>().prop_map(Value::Float8),
        any::<f32>().prop_map(Value::Float4),
        ".{0,12}".prop_map(|s| Value::text(s.as_str())),
        proptest::collection::vec(any::<u8>(), 0..16).prop_map(|b| Value::Bytea(b.into())),
        any::<i32>().prop_map(Value::Date),
        any::<i64>().prop_map(Value::TimestampTz),
        any::<u128>().prop_map(Value::Uuid),
        ("[a-z]{1,5}", any::<i32>())
            .prop_map(|(k, v)| Value::Json(Arc::new(serde_json::json!({ k: v })))),
    ];
    leaf.prop_recursive(2, 16, 4, |inner| {
        proptest::collection::vec(inner, 0..4).prop_map(|v| Value::Array(Arc::new(v)))
    })
}

fn version() -> impl Strategy<Value = Version> {
    (
        any::<u64>(),
        any::<u32>(),
        any::<u64>(),
        any::<u32>(),
        proptest::collection::vec(value(), 0..5),
    )
        .prop_map(|(xmin, cmin, xmax, cmax, vals)| Version {
            xmin,
            cmin,
            xmax,
            cmax,
            values: vals.into(),
        })
}

fn record() -> impl Strategy<Value = PageRecord> {
    prop_oneof![
        ".{0,40}".prop_map(|text| PageRecord::Ddl { text }),
        any::<u32>().prop_map(|origin| PageRecord::Origin { origin }),
        (any::<u32>(), any::<i64>(), any::<bool>())
            .prop_map(|(id, last, called)| PageRecord::Sequence { id, last, called }),
        (any::<u64>(), any::<u64>()).prop_map(|(xid, top)| PageRecord::Begin { xid, top }),
        proptest::collection::vec(any::<u64>(), 0..5).prop_map(|xids| PageRecord::Commit { xids }),
        proptest::collection::vec(any::<u64>(), 0..5).prop_map(|xids| PageRecord::Abort { xids }),
        (any::<u32>(), any::<u64>(), version()).prop_map(|(table, row, version)| {
            PageRecord::InsertVersion {
                table,
                row,
                version,
            }
        }),
        (any::<u32>(), any::<u64>(), any::<u64>(), any::<u32>()).prop_map(
            |(table, row, xid, cid)| PageRecord::SetXmax {
                table,
                row,
                xid,
                cid
            }
        ),
        (
            any::<u32>(),
            any::<u64>(),
            proptest::collection::vec(version(), 0..3)
        )
            .prop_map(|(table, row, chain)| PageRecord::ReplaceChain { table, row, chain }),
        (any::<u32>(), value()).prop_map(|(table, value)| PageRecord::AddColumn { table, value }),
        (any::<u32>(), any::<u32>())
            .prop_map(|(table, index)| PageRecord::DropColumn { table, index }),
        (
            any::<u32>(),
            proptest::collection::vec(value(), 0..3),
            any::<u64>()
        )
            .prop_map(|(index, key, row)| PageRecord::IndexInsert { index, key, row }),
    ]
}

proptest! {
    #[test]
    fn encoding_round_trips(r in record()) {
        let bytes = encode(&r);
        let back = decode(&bytes).unwrap();
        prop_assert_eq!(encode(&back), bytes);
    }

    #[test]
    fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode(&bytes);
    }

    #[test]
    fn truncated_or_extended_payloads_are_refused(r in record(), cut in 0usize..64) {
        let bytes = encode(&r);
        if cut < bytes.len() {
            prop_assert!(decode(&bytes[..bytes.len() - cut - 1]).is_err());
        }
        let mut longer = bytes.clone();
        longer.push(0);
        prop_assert!(decode(&longer).is_err());
    }

    #[test]
    fn applying_any_record_to_any_page_never_panics(r in record(), page in prop_oneof![Just(0u64), Just(1u64), Just(1u64 << 20), Just(heap_page(3, 5)), Just(1u64 << 33)]) {
        let mut p = SqlPage::default();
        let _ = apply_record(page, &mut p, r);
    }
}

#[test]
fn a_forged_length_cannot_make_the_decoder_allocate() {
    // Tag 5 (commit) claiming four billion ids in a 9-byte payload.
    let mut bytes = vec![5u8];
    bytes.extend_from_slice(&u32::MAX.to_le_bytes());
    bytes.extend_from_slice(&[0; 4]);
    assert!(decode(&bytes).is_err());
}

/// Found by the `redo_payload` fuzz target: a JSONB number that is not the shortest form of an
/// f64 (here 555555000000080000000000000.5) re-encoded to a different number on every hop
/// through the redo log, so a replica could hold a value one ULP off the writer's. With
/// serde_json's `float_roundtrip` parsing, the first decode is exact and the canonical form is
/// stable.
#[test]
fn a_jsonb_number_survives_every_hop_of_the_redo_log_unchanged() {
    let crash: &[u8] = &[
        10, 8, 46, 10, 2, 16, 35, 0, 0, 0, 10, 10, 53, 53, 53, 53, 53, 53, 48, 48, 48, 48, 48, 48,
        48, 56, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 46, 53, 48, 48, 48, 48,
    ];
    let rec = decode(crash).expect("the fuzzer's input decodes");
    let canonical = encode(&rec);
    let again = encode(&decode(&canonical).expect("canonical form decodes"));
    assert_eq!(again, canonical);
    for x in [
        0.1f64,
        1e300,
        5.555_550_000_000_08e26,
        f64::MIN_POSITIVE,
        123_456.789_012_345_67,
    ] {
        let rec = PageRecord::InsertVersion {
            table: 1,
            row: 1,
            version: Version {
                xmin: 1,
                cmin: 0,
                xmax: 0,
                cmax: 0,
                values: vec![Value::Json(Arc::new(serde_json::json!({ "n": x })))].into(),
            },
        };
        let bytes = encode(&rec);
        assert_eq!(encode(&decode(&bytes).unwrap()), bytes, "{x}");
    }
}
