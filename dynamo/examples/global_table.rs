//! A global table in three regions on a manual clock: replication with a delay, a partition
//! with conflicting writes on both sides, healing and convergence by last-writer-wins, then a
//! point-in-time restore of one replica.
//!
//! Run with `cargo run -p nubis-dynamo --example global_table`.

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use nubis_core::{Clock, Env, ManualClock, Region};
use nubis_dynamo::api::dispatch;
use nubis_dynamo::{Dynamo, RegionDb};
use serde_json::{Value, json};

const US: Region = Region::from_static("us-east-1");
const EU: Region = Region::from_static("eu-west-1");
const AP: Region = Region::from_static("ap-northeast-1");

fn call(db: &RegionDb, op: &str, body: Value) -> Result<Value, Box<dyn Error>> {
    let out = dispatch(db, op, body.to_string().as_bytes())
        .map_err(|e| format!("{op} in {}: {e}", db.region))?;
    Ok(serde_json::from_slice(&out)?)
}

fn balance(db: &RegionDb, table: &str) -> Result<String, Box<dyn Error>> {
    let r = call(
        db,
        "GetItem",
        json!({"TableName": table, "Key": {"account": {"S": "alice"}}, "ConsistentRead": true}),
    )?;
    Ok(r["Item"]["balance"]["N"]
        .as_str()
        .unwrap_or("(none)")
        .to_owned())
}

fn show(step: &str, regions: &[&Arc<RegionDb>]) -> Result<(), Box<dyn Error>> {
    let seen: Vec<String> = regions
        .iter()
        .map(|db| Ok(format!("{}={}", db.region, balance(db, "Accounts")?)))
        .collect::<Result<_, Box<dyn Error>>>()?;
    println!("{step:<44} {}", seen.join("  "));
    Ok(())
}

fn set_balance(db: &RegionDb, n: u32) -> Result<(), Box<dyn Error>> {
    call(
        db,
        "PutItem",
        json!({"TableName": "Accounts", "Item": {"account": {"S": "alice"}, "balance": {"N": n.to_string()}}}),
    )?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let clock = ManualClock::at_default_epoch();
    let dynamo = Dynamo::new(Env::with_clock(clock.shared()));
    let (us, eu, ap) = (dynamo.region(&US), dynamo.region(&EU), dynamo.region(&AP));
    let all = [&us, &eu, &ap];

    call(
        &us,
        "CreateTable",
        json!({"TableName": "Accounts",
               "AttributeDefinitions": [{"AttributeName": "account", "AttributeType": "S"}],
               "KeySchema": [{"AttributeName": "account", "KeyType": "HASH"}],
               "BillingMode": "PAY_PER_REQUEST"}),
    )?;
    call(
        &us,
        "UpdateContinuousBackups",
        json!({"TableName": "Accounts", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true}}),
    )?;
    for r in [&EU, &AP] {
        call(
            &us,
            "UpdateTable",
            json!({"TableName": "Accounts", "ReplicaUpdates": [{"Create": {"RegionName": r.as_str()}}]}),
        )?;
    }
    let hub = dynamo.replication();
    hub.set_default_delay(Duration::from_millis(800));
    println!("global table Accounts in us-east-1, eu-west-1, ap-northeast-1; delay 800 ms\n");

    clock.advance(Duration::from_secs(1));
    set_balance(&us, 100)?;
    show("t+0     write 100 in us-east-1", &all)?;
    clock.advance(Duration::from_millis(800));
    show("t+800ms replicated", &all)?;
    clock.advance(Duration::from_secs(60));
    let good_state = clock.now();

    hub.partition(&EU);
    clock.advance(Duration::from_secs(60));
    set_balance(&eu, 70)?;
    clock.advance(Duration::from_millis(5));
    set_balance(&us, 130)?;
    clock.advance(Duration::from_secs(5));
    show("partition: eu writes 70, us writes 130 later", &all)?;
    println!("{:<44} {} writes queued", "", hub.pending());

    hub.heal(&EU);
    let delivered = hub.pump();
    show("healed: last writer (us, 130) wins", &all)?;
    for s in hub
        .status("Accounts")
        .iter()
        .filter(|s| s.stats.applied + s.stats.superseded > 0)
    {
        println!(
            "  {} -> {}: applied {}, superseded {}, last latency {:?}",
            s.from,
            s.to,
            s.stats.applied,
            s.stats.superseded,
            s.stats.latency_last_ms.map(Duration::from_millis)
        );
    }
    println!("  ({delivered} writes delivered at the heal)\n");

    // Point-in-time recovery: restore us-east-1's replica to before the partition.
    clock.advance(Duration::from_secs(600));
    call(
        &us,
        "RestoreTableToPointInTime",
        json!({"SourceTableName": "Accounts", "TargetTableName": "AccountsBefore",
               "RestoreDateTime": nubis_core::clock::epoch_seconds_f64(good_state)}),
    )?;
    println!(
        "restored AccountsBefore in us-east-1 to {}: balance {}",
        nubis_core::clock::to_rfc3339(good_state),
        balance(&us, "AccountsBefore")?
    );
    Ok(())
}
