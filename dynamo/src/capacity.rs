//! Capacity units, computed as DynamoDB documents them, and optional throughput enforcement.
//!
//! Reads cost one unit per 4 KB (rounded up) strongly consistent, half that eventually
//! consistent; writes cost one unit per 1 KB, the larger of the old and new item. Query and Scan
//! charge on the total size read, not per item. Transactional operations cost double. Index
//! writes are charged per index whose entry changed, on the projected size.
//!
//! Every data-plane request that succeeds records what it consumed on the environment's meter
//! ([`meter`]): the same units `ConsumedCapacity` reports, per table and per GSI.
//!
//! Enforcement (off by default, [`crate::Config::enforce_throughput`]) applies to PROVISIONED
//! tables: a token bucket per table, per GSI and per direction on the engine clock, refilled at
//! the provisioned rate and holding up to 300 seconds of unused capacity, DynamoDB's burst
//! allowance. LSIs draw on their table's capacity. A request that would overdraw any bucket it
//! uses fails with `ProvisionedThroughputExceededException` and takes nothing.

use std::collections::HashMap;
use std::sync::Arc;

use nubis_core::{Env, UsageRecord, UsageUnit};

use crate::error::{Error, Result};
use crate::model::{Capacity, ConsumedCapacity};
use crate::table::TableState;

/// Read units for `bytes` read.
pub fn read_units(bytes: usize, consistent: bool) -> f64 {
    let units = bytes.div_ceil(4096).max(1) as f64;
    if consistent { units } else { units / 2.0 }
}

/// Write units for an item of `bytes`.
pub fn write_units(bytes: usize) -> f64 {
    bytes.div_ceil(1024).max(1) as f64
}

/// What one operation consumed.
#[derive(Debug, Clone, Default)]
pub struct Usage {
    /// Units on the table.
    pub table: f64,
    /// Units per index: name, global, units.
    pub indexes: Vec<(String, bool, f64)>,
    /// Whether these are read units.
    pub read: bool,
}

impl Usage {
    /// Read usage on the table.
    pub fn read(units: f64) -> Usage {
        Usage {
            table: units,
            indexes: Vec::new(),
            read: true,
        }
    }

    /// Write usage on the table.
    pub fn write(units: f64) -> Usage {
        Usage {
            table: units,
            indexes: Vec::new(),
            read: false,
        }
    }

    /// The total.
    pub fn total(&self) -> f64 {
        self.table + self.indexes.iter().map(|(_, _, u)| u).sum::<f64>()
    }

    /// Scales every figure (transactions cost double).
    pub fn scaled(mut self, k: f64) -> Usage {
        self.table *= k;
        for i in &mut self.indexes {
            i.2 *= k;
        }
        self
    }

    /// Adds another usage on the same table.
    pub fn add(&mut self, other: &Usage) {
        self.table += other.table;
        for (n, g, u) in &other.indexes {
            match self.indexes.iter_mut().find(|(m, _, _)| m == n) {
                Some(e) => e.2 += u,
                None => self.indexes.push((n.clone(), *g, *u)),
            }
        }
    }
}

fn cap(read: bool, units: f64) -> Capacity {
    if read {
        Capacity {
            read_capacity_units: Some(units),
            capacity_units: Some(units),
            ..Default::default()
        }
    } else {
        Capacity {
            write_capacity_units: Some(units),
            capacity_units: Some(units),
            ..Default::default()
        }
    }
}

/// The `ConsumedCapacity` to return for `ReturnConsumedCapacity` = `mode`.
pub fn consumed(mode: Option<&str>, table: &str, usage: &Usage) -> Option<ConsumedCapacity> {
    let mode = mode?;
    if mode != "TOTAL" && mode != "INDEXES" {
        return None;
    }
    let total = usage.total();
    let mut c = ConsumedCapacity {
        table_name: table.to_owned(),
        capacity_units: total,
        ..Default::default()
    };
    if usage.read {
        c.read_capacity_units = Some(total);
    } else {
        c.write_capacity_units = Some(total);
    }
    if mode == "INDEXES" {
        c.table = Some(cap(usage.read, usage.table));
        let mut gsis = HashMap::new();
        let mut lsis = HashMap::new();
        for (name, global, u) in &usage.indexes {
            let target = if *global { &mut gsis } else { &mut lsis };
            target.insert(name.clone(), cap(usage.read, *u));
        }
        if !gsis.is_empty() {
            c.global_secondary_indexes = Some(gsis);
        }
        if !lsis.is_empty() {
            c.local_secondary_indexes = Some(lsis);
        }
    }
    Some(c)
}

/// One token bucket.
#[derive(Debug, Default)]
pub struct Bucket {
    level: f64,
    last_ms: Option<u64>,
}

/// Token buckets for one table: the table's (which its LSIs share) and each GSI's, by name.
#[derive(Debug, Default)]
pub struct Buckets {
    /// Reads.
    pub read: Bucket,
    /// Writes.
    pub write: Bucket,
    /// Per GSI: (reads, writes).
    pub indexes: HashMap<String, (Bucket, Bucket)>,
}

/// Burst allowance, seconds.
const BURST_SECS: f64 = 300.0;

impl Bucket {
    /// Refills for the time since the last use at `rate` units per second, up to 300 seconds'
    /// worth (a fresh bucket starts full). Returns the level.
    fn refill(&mut self, now_ms: u64, rate: f64) -> f64 {
        let max = rate * BURST_SECS;
        self.level = match self.last_ms {
            None => max,
            Some(last) => {
                (self.level + now_ms.saturating_sub(last) as f64 / 1000.0 * rate).min(max)
            }
        };
        self.last_ms = Some(now_ms.max(self.last_ms.unwrap_or(0)));
        self.level
    }

    /// Takes `units` from a bucket provisioned at `rate` units per second, or fails with
    /// `ProvisionedThroughputExceededException`.
    pub fn take(&mut self, now_ms: u64, rate: f64, units: f64) -> Result<()> {
        if rate <= 0.0 {
            return Ok(());
        }
        if self.refill(now_ms, rate) < units {
            return Err(Error::ProvisionedThroughputExceeded);
        }
        self.level -= units;
        Ok(())
    }
}

/// One bucket a usage draws on: which, its rate, and how much.
struct Draw<'a> {
    index: Option<&'a str>,
    rate: f64,
    units: f64,
}

impl Buckets {
    fn bucket(&mut self, index: Option<&str>, read: bool) -> &mut Bucket {
        let pair = match index {
            None => {
                return if read {
                    &mut self.read
                } else {
                    &mut self.write
                };
            }
            Some(n) => self.indexes.entry(n.to_owned()).or_default(),
        };
        if read { &mut pair.0 } else { &mut pair.1 }
    }

    /// The buckets `usage` draws on: the table's own units and its LSIs' from the table's
    /// bucket, each GSI's from that GSI's; only provisioned ones.
    fn draws<'a>(st: &TableState, usage: &'a Usage) -> Vec<Draw<'a>> {
        let rate = |rcu: i64, wcu: i64| (if usage.read { rcu } else { wcu }) as f64;
        let mut draws = vec![Draw {
            index: None,
            rate: rate(st.def.rcu, st.def.wcu),
            units: usage.table,
        }];
        for (name, global, units) in &usage.indexes {
            if *global {
                let r = st
                    .indexes
                    .iter()
                    .find(|i| i.def.name == *name)
                    .map_or(0.0, |i| rate(i.def.rcu, i.def.wcu));
                draws.push(Draw {
                    index: Some(name),
                    rate: r,
                    units: *units,
                });
            } else {
                draws[0].units += units;
            }
        }
        draws.retain(|d| d.rate > 0.0);
        draws
    }

    /// Whether every bucket `usage` draws on holds enough at `now_ms`.
    pub fn can_take(&mut self, now_ms: u64, st: &TableState, usage: &Usage) -> bool {
        Buckets::draws(st, usage)
            .iter()
            .all(|d| self.bucket(d.index, usage.read).refill(now_ms, d.rate) >= d.units)
    }

    /// Takes `usage` from the table's buckets, all or nothing, or fails with
    /// `ProvisionedThroughputExceededException`.
    pub fn take_usage(&mut self, now_ms: u64, st: &TableState, usage: &Usage) -> Result<()> {
        if !self.can_take(now_ms, st, usage) {
            return Err(Error::ProvisionedThroughputExceeded);
        }
        for d in Buckets::draws(st, usage) {
            self.bucket(d.index, usage.read).level -= d.units;
        }
        Ok(())
    }
}

/// Records what a request consumed on `env.meter`: one record for the table (with its LSIs)
/// and one per GSI touched, in read or write units (on-demand tables are billed in request
/// units, which count the same).
pub fn meter(env: &Env, region: &Arc<str>, st: &TableState, usage: &Usage) {
    let unit = if usage.read {
        UsageUnit::ReadCapacityUnits
    } else {
        UsageUnit::WriteCapacityUnits
    };
    let at = env.clock.now();
    let lsi: f64 = usage
        .indexes
        .iter()
        .filter(|(_, g, _)| !g)
        .map(|(_, _, u)| u)
        .sum();
    // The region and ARNs are shared strings held by the engine: a record costs no allocation.
    let record = |resource: &Arc<str>, quantity: f64| {
        env.meter.record(UsageRecord {
            service: "dynamodb",
            region: Arc::clone(region),
            resource: Arc::clone(resource),
            unit,
            quantity,
            at,
        })
    };
    if usage.table + lsi > 0.0 || usage.indexes.is_empty() {
        record(&st.def.arn, usage.table + lsi);
    }
    for (name, global, units) in &usage.indexes {
        if *global && *units > 0.0 {
            match st.indexes.iter().find(|i| i.def.name == *name) {
                Some(i) => record(&i.def.arn, *units),
                None => record(&format!("{}/index/{name}", st.def.arn).into(), *units),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(read_units(1, true), 1.0);
        assert_eq!(read_units(4097, false), 1.0);
        assert_eq!(write_units(1025), 2.0);
    }

    #[test]
    fn buckets_refill_on_the_clock() {
        let mut b = Bucket::default();
        // 1 unit/s with 300 s of burst.
        for _ in 0..300 {
            b.take(0, 1.0, 1.0).unwrap();
        }
        assert_eq!(
            b.take(0, 1.0, 1.0),
            Err(Error::ProvisionedThroughputExceeded)
        );
        b.take(1000, 1.0, 1.0).unwrap();
    }
}
