//! The engine: every region's tables, created lazily, and the per-table lock discipline.
//!
//! [`Dynamo`] holds one [`RegionDb`] per region. A region holds its tables by name, each behind a
//! `parking_lot::RwLock`: reads share the lock, a write takes it exclusively for the moment it
//! applies. Operations that touch several tables (transactions, batches) lock them in name
//! order, so they cannot deadlock. Time-driven work (TTL expiry, stream retention) runs lazily
//! whenever an operation touches a table and the clock has passed the next due time, so a test
//! that advances a `ManualClock` sees expiry on its next call, deterministically.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use nubis_core::{Env, Region};
use parking_lot::{Mutex, RwLock};

use crate::consistency::{EngineLag, Lag};
use crate::error::{Error, Result};
use crate::streams::StreamLog;
use crate::table::TableState;

/// Engine options.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Enforce provisioned throughput: requests beyond a table's provisioned capacity (with
    /// DynamoDB's 300-second burst allowance) fail with `ProvisionedThroughputExceededException`.
    /// Off by default, as most tests do not want throttling.
    pub enforce_throughput: bool,
    /// The engine-wide consistency lag at start (none by default; see [`crate::consistency`]).
    pub consistency: crate::consistency::Lag,
    /// How long a stream shard stays open before it is closed and a child shard opens (on the
    /// engine's clock). `None`: 4 hours, as on DynamoDB.
    pub stream_shard_lifetime: Option<std::time::Duration>,
}

/// The DynamoDB engine: all regions.
#[derive(Debug, Clone)]
pub struct Dynamo {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    env: Env,
    /// Global Tables replication (shared by every region).
    hub: Arc<crate::global::Hub>,
    config: Config,
    lag: Arc<EngineLag>,
    regions: RwLock<HashMap<Region, Arc<RegionDb>>>,
}

/// A table in a region.
#[derive(Debug)]
pub struct Table {
    /// Its state.
    pub state: RwLock<TableState>,
    /// The next TTL expiry (epoch seconds), `i64::MAX` when none: checked without locking.
    pub ttl_due: AtomicI64,
    /// Provisioned-throughput buckets (read, write), when enforced.
    pub buckets: Mutex<crate::capacity::Buckets>,
    /// Items held by in-flight transactions.
    pub intents: crate::intents::Intents,
}

impl Table {
    /// Wraps a state.
    pub fn new(state: TableState) -> Arc<Table> {
        let due = state.next_expiry().unwrap_or(i64::MAX);
        Arc::new(Table {
            state: RwLock::new(state),
            ttl_due: AtomicI64::new(due),
            buckets: Mutex::new(Default::default()),
            intents: Default::default(),
        })
    }

    /// Recomputes the TTL due time after a write under the lock.
    pub fn refresh_due(&self, state: &TableState) {
        self.ttl_due
            .store(state.next_expiry().unwrap_or(i64::MAX), Ordering::Relaxed);
    }
}

/// A region's tables by name.
pub type Tables =
    HashMap<String, Arc<Table>, std::hash::BuildHasherDefault<crate::table::KeyHasher>>;

/// Idempotency records of TransactWriteItems: token to (when, request fingerprint).
pub type Tokens = HashMap<String, (u64, u64)>;

/// One region's DynamoDB.
#[derive(Debug)]
pub struct RegionDb {
    /// The region.
    pub region: Region,
    /// The region's name, shared by every usage record.
    pub region_name: Arc<str>,
    /// The environment.
    pub env: Env,
    /// Options.
    pub config: Config,
    /// Tables by name (hashed with the cheap [`crate::table::KeyHasher`]: every data-plane
    /// request looks its table up, and names are short and not attacker-chosen keys of a large
    /// map).
    pub tables: RwLock<Tables>,
    /// Every stream created in the region (kept after disable for 24 hours).
    pub streams: RwLock<Vec<Arc<Mutex<StreamLog>>>>,
    /// ClientRequestToken records.
    pub tokens: Mutex<Tokens>,
    /// On-demand backups by ARN.
    pub backups: RwLock<std::collections::BTreeMap<String, crate::backup::Backup>>,
    /// Deleted tables that had PITR on, restorable for their recovery period.
    pub deleted: RwLock<Vec<crate::backup::DeletedTable>>,
    /// Global Tables replication (shared by every region).
    pub global: Arc<crate::global::Hub>,
    /// The engine-wide consistency lag (shared by every region).
    pub lag: Arc<EngineLag>,
}

impl Dynamo {
    /// An engine on `env` with default options.
    pub fn new(env: Env) -> Dynamo {
        Dynamo::with_config(env, Config::default())
    }

    /// An engine with options.
    pub fn with_config(env: Env, config: Config) -> Dynamo {
        let env = env.for_engine("dynamodb");
        Dynamo {
            inner: Arc::new_cyclic(|weak| Inner {
                hub: Arc::new(crate::global::Hub::new(env.clone(), weak.clone())),
                env,
                lag: Arc::new(EngineLag::new(config.consistency)),
                config,
                regions: RwLock::new(HashMap::new()),
            }),
        }
    }

    /// The engine behind `inner` (for the Global Tables hub).
    pub(crate) fn from_inner(inner: Arc<Inner>) -> Dynamo {
        Dynamo { inner }
    }

    /// Global Tables replication: delays, partitions, pumping and status (see
    /// [`crate::global`]).
    pub fn replication(&self) -> &Arc<crate::global::Hub> {
        &self.inner.hub
    }

    /// The environment.
    pub fn env(&self) -> &Env {
        &self.inner.env
    }

    /// The region's DynamoDB, created on first use.
    pub fn region(&self, region: &Region) -> Arc<RegionDb> {
        if let Some(r) = self.inner.regions.read().get(region) {
            return Arc::clone(r);
        }
        let mut w = self.inner.regions.write();
        Arc::clone(w.entry(region.clone()).or_insert_with(|| {
            Arc::new(RegionDb {
                region: region.clone(),
                region_name: region.as_str().into(),
                env: self.inner.env.clone(),
                config: self.inner.config.clone(),
                tables: RwLock::new(Tables::default()),
                streams: RwLock::new(Vec::new()),
                tokens: Mutex::new(HashMap::new()),
                backups: RwLock::new(Default::default()),
                deleted: RwLock::new(Vec::new()),
                global: Arc::clone(&self.inner.hub),
                lag: Arc::clone(&self.inner.lag),
            })
        }))
    }

    /// Sets the engine-wide consistency lag (every region; tables with their own setting keep
    /// it). See [`crate::consistency`].
    pub fn set_consistency_lag(&self, lag: Lag) {
        self.inner.lag.set(lag);
    }

    /// Forgets every region's tables.
    pub fn reset(&self) {
        self.inner.hub.reset();
        self.inner.regions.write().clear();
    }

    /// Regions in use.
    pub fn regions(&self) -> Vec<Region> {
        self.inner.regions.read().keys().cloned().collect()
    }
}

impl RegionDb {
    /// Milliseconds since the epoch on the engine clock.
    pub fn now_ms(&self) -> u64 {
        self.env.clock.now_millis()
    }

    /// The table, for data-plane operations (DynamoDB's terse not-found message), with TTL
    /// expiry brought up to date.
    pub fn table(&self, name: &str) -> Result<Arc<Table>> {
        let t = self
            .tables
            .read()
            .get(name)
            .cloned()
            .ok_or_else(Error::table_not_found)?;
        self.global.catch_up(self.region.as_str(), name);
        self.sweep(&t);
        self.follow_lag(&t);
        Ok(t)
    }

    /// The table, for control-plane operations (the message names the table).
    pub fn table_named(&self, name: &str) -> Result<Arc<Table>> {
        let t = self
            .tables
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| Error::table_not_found_named(name))?;
        self.global.catch_up(self.region.as_str(), name);
        self.sweep(&t);
        self.follow_lag(&t);
        Ok(t)
    }

    /// Runs TTL expiry if due.
    pub fn sweep(&self, t: &Table) {
        let due = t.ttl_due.load(Ordering::Relaxed);
        // TTL deletes are not time-critical (AWS takes up to days): while a transaction holds
        // items, expiry waits for the next access rather than deleting a held item.
        if due == i64::MAX || !t.intents.is_empty() {
            return;
        }
        let now = self.now_ms();
        if due > (now / 1000) as i64 {
            return;
        }
        let mut s = t.state.write();
        s.expire(now);
        t.refresh_due(&s);
    }

    /// Brings a table without its own lag setting up to date with the engine-wide one.
    fn follow_lag(&self, t: &Table) {
        let (lag, generation) = self.lag.get();
        if generation == 0 {
            return;
        }
        let current = |st: &TableState| {
            st.versions.table_lag.is_some() || st.versions.generation() == generation
        };
        if current(&t.state.read()) {
            return;
        }
        let mut st = t.state.write();
        if !current(&st) {
            st.set_lag(lag, generation);
        }
    }

    /// Sets one table's consistency lag (`None`: follow the engine-wide setting again).
    pub fn set_table_consistency_lag(&self, table: &str, lag: Option<Lag>) -> Result<()> {
        let t = self.table_named(table)?;
        let mut st = t.state.write();
        st.versions.table_lag = lag;
        let (engine, generation) = self.lag.get();
        st.set_lag(lag.unwrap_or(engine), generation);
        Ok(())
    }

    /// Table names, sorted.
    pub fn table_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.tables.read().keys().cloned().collect();
        v.sort();
        v
    }
}
