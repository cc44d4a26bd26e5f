//! Convergence property: random writes and deletes in random regions, random per-pair delays,
//! random partitions and heals. Once everything is healed and every queued write is due and
//! applied, every replica holds the same items, equal to what last-writer-wins predicts from
//! the write log.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use nubis_core::{Env, ManualClock, Region};
use nubis_dynamo::api::dispatch;
use nubis_dynamo::{Dynamo, RegionDb};
use proptest::prelude::*;
use serde_json::{Value, json};

const REGIONS: [Region; 3] = [
    Region::from_static("us-east-1"),
    Region::from_static("eu-west-1"),
    Region::from_static("ap-southeast-2"),
];

#[derive(Debug, Clone)]
enum Op {
    /// Put `value` (or delete when `None`) at `key` in region `region`.
    Write {
        region: usize,
        key: u8,
        value: Option<u16>,
    },
    /// Advance the clock.
    Advance(u16),
    /// Set the delay from one region to another.
    Delay { from: usize, to: usize, ms: u16 },
    /// Cut a region off.
    Partition(usize),
    /// Reconnect a region.
    Heal(usize),
    /// Cut one link.
    Cut(usize, usize),
    /// Reconnect one link.
    Mend(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..3usize, 0..6u8, proptest::option::weighted(0.8, 0..1000u16))
            .prop_map(|(region, key, value)| Op::Write { region, key, value }),
        3 => (0..2000u16).prop_map(Op::Advance),
        1 => (0..3usize, 0..3usize, 0..1500u16).prop_map(|(from, to, ms)| Op::Delay { from, to, ms }),
        1 => (0..3usize).prop_map(Op::Partition),
        1 => (0..3usize).prop_map(Op::Heal),
        1 => (0..3usize, 0..3usize).prop_map(|(a, b)| Op::Cut(a, b)),
        1 => (0..3usize, 0..3usize).prop_map(|(a, b)| Op::Mend(a, b)),
    ]
}

fn call(db: &RegionDb, op: &str, body: Value) -> Value {
    let out = dispatch(db, op, body.to_string().as_bytes()).unwrap_or_else(|e| panic!("{op}: {e}"));
    serde_json::from_slice(&out).unwrap_or(Value::Null)
}

fn items(db: &RegionDb) -> BTreeMap<String, String> {
    let r = call(
        db,
        "Scan",
        json!({"TableName": "Glob", "ConsistentRead": true}),
    );
    r["Items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            (
                i["pk"]["S"].as_str().unwrap_or_default().to_owned(),
                i["v"]["N"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Runs `ops`; with `distinct_times`, the clock moves 1 ms before every write so that
/// timestamps are the write order and the exact winner can be predicted.
fn run(ops: &[Op], distinct_times: bool) -> Result<(), TestCaseError> {
    let clock = ManualClock::at_default_epoch();
    let dynamo = Dynamo::new(Env::with_clock(clock.shared()));
    let dbs: Vec<Arc<RegionDb>> = REGIONS.iter().map(|r| dynamo.region(r)).collect();
    call(
        &dbs[0],
        "CreateTable",
        json!({"TableName": "Glob", "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
               "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"}),
    );
    for r in &REGIONS[1..] {
        call(
            &dbs[0],
            "UpdateTable",
            json!({"TableName": "Glob", "ReplicaUpdates": [{"Create": {"RegionName": r.as_str()}}]}),
        );
    }
    let hub = dynamo.replication();
    // The write log: key -> (time, region name, value).
    let mut log: BTreeMap<String, (u64, usize, Option<u16>)> = BTreeMap::new();
    let mut max_delay = 0u64;
    for o in ops {
        match o {
            Op::Write { region, key, value } => {
                if distinct_times {
                    clock.advance(Duration::from_millis(1));
                }
                let k = format!("k{key}");
                let db = &dbs[*region];
                // Deleting an absent item changes nothing (no stream record, nothing to
                // replicate), so only deletes that removed something are writes.
                let wrote = match value {
                    Some(v) => {
                        call(
                            db,
                            "PutItem",
                            json!({"TableName": "Glob", "Item": {"pk": {"S": k}, "v": {"N": v.to_string()}}}),
                        );
                        true
                    }
                    None => call(
                        db,
                        "DeleteItem",
                        json!({"TableName": "Glob", "Key": {"pk": {"S": k}}, "ReturnValues": "ALL_OLD"}),
                    )
                    .get("Attributes")
                    .is_some(),
                };
                if wrote {
                    let t = nubis_core::Clock::now_millis(&clock);
                    log.insert(k, (t, *region, *value));
                }
            }
            Op::Advance(ms) => clock.advance(Duration::from_millis(u64::from(*ms))),
            Op::Delay { from, to, ms } => {
                max_delay = max_delay.max(u64::from(*ms));
                hub.set_delay(
                    &REGIONS[*from],
                    &REGIONS[*to],
                    Duration::from_millis(u64::from(*ms)),
                );
            }
            Op::Partition(r) => hub.partition(&REGIONS[*r]),
            Op::Heal(r) => hub.heal(&REGIONS[*r]),
            Op::Cut(a, b) if a != b => hub.partition_link(&REGIONS[*a], &REGIONS[*b]),
            Op::Mend(a, b) if a != b => hub.heal_link(&REGIONS[*a], &REGIONS[*b]),
            Op::Cut(..) | Op::Mend(..) => {}
        }
    }
    hub.heal_all();
    clock.advance(Duration::from_millis(max_delay + 1));
    hub.pump();
    prop_assert_eq!(hub.pending(), 0);
    let seen: Vec<BTreeMap<String, String>> = dbs.iter().map(|d| items(d)).collect();
    prop_assert_eq!(&seen[0], &seen[1]);
    prop_assert_eq!(&seen[0], &seen[2]);
    if distinct_times {
        let predicted: BTreeMap<String, String> = log
            .into_iter()
            .filter_map(|(k, (_, _, v))| v.map(|v| (k, v.to_string())))
            .collect();
        prop_assert_eq!(&seen[0], &predicted);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn replicas_converge_to_last_writer_wins(ops in proptest::collection::vec(op(), 1..60)) {
        run(&ops, true)?;
    }

    #[test]
    fn replicas_converge_with_same_millisecond_writes(ops in proptest::collection::vec(op(), 1..60)) {
        run(&ops, false)?;
    }
}
