//! Global Tables: same-named replica tables in several regions of one engine, kept in sync by
//! asynchronous replication through each replica's stream.
//!
//! The [`Hub`] (one per engine, shared by every region) knows the replication groups. A group is
//! a set of replicas — one table per region, all with the same name and key schema — created with
//! version 2019.11.21's `UpdateTable` `ReplicaUpdates` ([`replicas`]) or version 2017.11.29's
//! `CreateGlobalTable` ([`legacy`]).
//!
//! How a write travels ([`replicate`]): a write to a replica lands in its table and its stream,
//! as any write does. The hub reads each replica's stream in order ("ingests" it), gives each
//! local write a last-writer-wins timestamp ([`lww::Ts`]) and queues it for every other replica,
//! due at the write's time plus the delay set for that (source, destination) pair. A queued
//! write is applied to its destination when it is due and the link is up; it replaces the
//! destination's version only if its timestamp is greater (deletes leave a timestamped
//! tombstone so an older write cannot resurrect the item). Applied writes appear in the
//! destination's stream as service writes and are not replicated again.
//!
//! When it happens: lazily and deterministically on the engine's clock. Before any request
//! touches a replica table (every `RegionDb::table` lookup), everything due for it by `now` is
//! applied, in due order, stamped with the instant it became due — so under a `ManualClock` a
//! test sees exactly the state the delays imply, and with the system clock a reader never sees
//! a write later than its delay. [`Hub::pump`] applies everything due everywhere (stream readers
//! and the example use it).
//!
//! Guarantees: per (source, destination) pair, writes arrive in order; a conditional write's
//! condition is evaluated only where it is made; transactions and strongly consistent reads are
//! region-local; once every link is up and every queued write is due and applied, all replicas
//! hold the same items — for every key, the write with the greatest timestamp.
//!
//! Faults: [`Hub::partition`] cuts a region off from every other (or [`Hub::partition_link`] one
//! pair); writes keep succeeding locally and queue. [`Hub::heal`] reconnects it; queued writes are
//! then due at once (at the heal instant) and drain on the next access or pump.

pub mod legacy;
pub mod lww;
pub mod model;
pub mod replicas;
pub mod replicate;
pub mod settings;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use imbl::OrdMap;
use nubis_core::{Env, Region};
use parking_lot::Mutex;

use crate::engine::{Dynamo, RegionDb, Table};
use crate::key::{PKey, Schema};
use crate::streams::StreamLog;
use crate::value::Item;

pub use lww::Ts;

/// Which Global Tables API made a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GtVersion {
    /// Version 2017.11.29 (`CreateGlobalTable`).
    V2017,
    /// Version 2019.11.21 (`UpdateTable` `ReplicaUpdates`).
    V2019,
}

impl GtVersion {
    /// The version string DynamoDB reports.
    pub fn as_str(self) -> &'static str {
        match self {
            GtVersion::V2017 => "2017.11.29",
            GtVersion::V2019 => "2019.11.21",
        }
    }
}

/// A write on its way from one replica to another.
#[derive(Debug, Clone)]
pub struct Rep {
    /// Its last-writer-wins timestamp.
    pub ts: Ts,
    /// When it was made at its origin, epoch milliseconds.
    pub at_ms: u64,
    /// When it is due at the destination (`at_ms` + the pair's delay).
    pub due_ms: u64,
    /// The item's key attributes.
    pub keys: Item,
    /// The new item, `None` for a delete.
    pub new: Option<Arc<Item>>,
}

/// Replication counters of one (source, destination) pair.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Writes applied at the destination.
    pub applied: u64,
    /// Writes that arrived but lost to a newer version (last writer wins).
    pub superseded: u64,
    /// Writes that could not be applied (the destination rejected the item).
    pub failed: u64,
    /// Sum of replication latencies, milliseconds.
    pub latency_sum_ms: u64,
    /// Largest replication latency, milliseconds.
    pub latency_max_ms: u64,
    /// Latency of the last write delivered, milliseconds.
    pub latency_last_ms: Option<u64>,
    /// When the last write was delivered (effective time), epoch milliseconds.
    pub last_delivered_ms: u64,
}

/// One replica of a group.
#[derive(Debug)]
pub struct Replica {
    /// Its region.
    pub region: Arc<str>,
    /// The table.
    pub table: Arc<Table>,
    /// The table's stream, which replication reads.
    pub stream: Arc<Mutex<StreamLog>>,
    /// The key schema (to key stream records).
    pub schema: Schema,
    /// The next stream sequence number to ingest.
    pub cursor: u64,
    /// The timestamp of every key's current version here, deletes included.
    pub versions: OrdMap<PKey, Ts>,
    /// When it joined, epoch milliseconds.
    pub joined_ms: u64,
    /// Stream records trimmed before they were ingested (lost to replication).
    pub lost: u64,
    /// The replica's own settings (2019.11.21 overrides), region left out.
    pub overrides: model::ReplicationGroupMemberAction,
}

/// A group's replicas, queues and counters.
#[derive(Debug, Default)]
pub struct GroupState {
    /// Replicas by region name.
    pub replicas: BTreeMap<String, Replica>,
    /// Queued writes per (source, destination).
    pub queues: BTreeMap<(String, String), VecDeque<Rep>>,
    /// Counters per (source, destination).
    pub stats: BTreeMap<(String, String), LinkStats>,
    /// Auto scaling settings per region (`settings`).
    pub autoscaling: BTreeMap<String, settings::AutoScaling>,
}

/// A global table: the replicas of one table name.
#[derive(Debug)]
pub struct Group {
    /// The table name.
    pub name: String,
    /// The API version that made it.
    pub version: GtVersion,
    /// Creation, epoch milliseconds.
    pub created_ms: u64,
    /// Replicas and queues.
    pub state: Mutex<GroupState>,
}

/// Link settings: delays and partitions.
#[derive(Debug, Clone, Default)]
pub struct Links {
    /// Delay of pairs without their own, milliseconds.
    pub default_delay_ms: u64,
    /// Delay per (source, destination), milliseconds.
    pub delays: HashMap<(String, String), u64>,
    /// Regions cut off from every other.
    pub isolated: BTreeSet<String>,
    /// Pairs cut (both directions are stored).
    pub cut: BTreeSet<(String, String)>,
    /// When each region or pair was last healed, epoch milliseconds.
    pub healed: HashMap<String, u64>,
    /// When each pair was last healed, epoch milliseconds.
    pub healed_pairs: HashMap<(String, String), u64>,
}

impl Links {
    /// Whether writes flow from `a` to `b`.
    pub fn up(&self, a: &str, b: &str) -> bool {
        !self.isolated.contains(a)
            && !self.isolated.contains(b)
            && !self.cut.contains(&(a.to_owned(), b.to_owned()))
    }

    /// The delay from `a` to `b`, milliseconds.
    pub fn delay(&self, a: &str, b: &str) -> u64 {
        self.delays
            .get(&(a.to_owned(), b.to_owned()))
            .copied()
            .unwrap_or(self.default_delay_ms)
    }

    /// Since when the link from `a` to `b` has been up (0: always).
    pub fn up_since(&self, a: &str, b: &str) -> u64 {
        let r = |x: &str| self.healed.get(x).copied().unwrap_or(0);
        let p = self
            .healed_pairs
            .get(&(a.to_owned(), b.to_owned()))
            .copied()
            .unwrap_or(0);
        r(a).max(r(b)).max(p)
    }
}

#[derive(Debug, Default)]
struct Groups {
    next_id: u64,
    by_id: BTreeMap<u64, Arc<Group>>,
    by_table: HashMap<(String, String), u64>,
}

/// The replication status of one (source, destination) pair, for tests and dashboards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkStatus {
    /// The table.
    pub table: String,
    /// Source region.
    pub from: String,
    /// Destination region.
    pub to: String,
    /// Writes queued, not yet applied.
    pub pending: usize,
    /// Whether the link is up.
    pub up: bool,
    /// The configured delay.
    pub delay: Duration,
    /// Counters.
    pub stats: LinkStats,
}

impl LinkStatus {
    /// The mean replication latency (`ReplicationLatency` in CloudWatch terms).
    pub fn mean_latency(&self) -> Option<Duration> {
        (self.stats.applied + self.stats.superseded > 0).then(|| {
            Duration::from_millis(
                self.stats.latency_sum_ms / (self.stats.applied + self.stats.superseded),
            )
        })
    }
}

/// The engine's replication hub (see the module docs).
#[derive(Debug)]
pub struct Hub {
    env: Env,
    engine: Weak<crate::engine::Inner>,
    active: AtomicBool,
    groups: Mutex<Groups>,
    links: Mutex<Links>,
}

impl Hub {
    /// A hub for the engine behind `engine`.
    pub(crate) fn new(env: Env, engine: Weak<crate::engine::Inner>) -> Hub {
        Hub {
            env,
            engine,
            active: AtomicBool::new(false),
            groups: Mutex::new(Groups::default()),
            links: Mutex::new(Links::default()),
        }
    }

    /// Milliseconds since the epoch on the engine clock.
    pub fn now_ms(&self) -> u64 {
        self.env.clock.now_millis()
    }

    /// The region's DynamoDB (created on first use), while the engine lives.
    pub fn region_db(&self, region: &str) -> Option<Arc<RegionDb>> {
        let inner = self.engine.upgrade()?;
        let r = Region::new(region).ok()?;
        Some(Dynamo::from_inner(inner).region(&r))
    }

    /// The group `table` in `region` belongs to.
    pub fn group_of(&self, region: &str, table: &str) -> Option<Arc<Group>> {
        if !self.active.load(Ordering::Acquire) {
            return None;
        }
        let g = self.groups.lock();
        let id = g.by_table.get(&(region.to_owned(), table.to_owned()))?;
        g.by_id.get(id).cloned()
    }

    /// Every group, oldest first.
    pub fn groups(&self) -> Vec<Arc<Group>> {
        self.groups.lock().by_id.values().cloned().collect()
    }

    /// Registers a new group with no replicas yet.
    pub(crate) fn new_group(&self, name: &str, version: GtVersion) -> Arc<Group> {
        let mut g = self.groups.lock();
        g.next_id += 1;
        let id = g.next_id;
        let group = Arc::new(Group {
            name: name.to_owned(),
            version,
            created_ms: self.now_ms(),
            state: Mutex::new(GroupState::default()),
        });
        g.by_id.insert(id, Arc::clone(&group));
        self.active.store(true, Ordering::Release);
        group
    }

    /// Records that `region`'s `table` is a member of `group`.
    pub(crate) fn index_member(&self, group: &Arc<Group>, region: &str) {
        let mut g = self.groups.lock();
        if let Some((id, _)) = g.by_id.iter().find(|(_, x)| Arc::ptr_eq(x, group)) {
            let id = *id;
            g.by_table
                .insert((region.to_owned(), group.name.clone()), id);
        }
    }

    /// Forgets `region`'s membership of `group`; drops the group when it is left with no
    /// replica (2017 groups stay while they have one) or, for 2019 groups, one.
    pub(crate) fn unindex_member(&self, group: &Arc<Group>, region: &str, remaining: usize) {
        let mut g = self.groups.lock();
        g.by_table.remove(&(region.to_owned(), group.name.clone()));
        let keep = match group.version {
            GtVersion::V2017 => remaining >= 1,
            GtVersion::V2019 => remaining >= 2,
        };
        if !keep {
            let id = g
                .by_id
                .iter()
                .find(|(_, x)| Arc::ptr_eq(x, group))
                .map(|(id, _)| *id);
            if let Some(id) = id {
                g.by_id.remove(&id);
            }
            g.by_table.retain(|_, v| Some(*v) != id);
            if g.by_id.is_empty() {
                self.active.store(false, Ordering::Release);
            }
        }
    }

    /// Forgets every group and link setting (engine reset).
    pub fn reset(&self) {
        *self.groups.lock() = Groups::default();
        *self.links.lock() = Links::default();
        self.active.store(false, Ordering::Release);
    }

    /// A copy of the link settings.
    pub fn links(&self) -> Links {
        self.links.lock().clone()
    }

    /// Sets the replication delay from `from` to `to`. Writes already queued keep the due time
    /// they were given; everything written before the change is queued first.
    pub fn set_delay(&self, from: &Region, to: &Region, delay: Duration) {
        self.ingest_all();
        self.links.lock().delays.insert(
            (from.as_str().to_owned(), to.as_str().to_owned()),
            delay.as_millis() as u64,
        );
    }

    /// Sets the delay of every pair without its own.
    pub fn set_default_delay(&self, delay: Duration) {
        self.ingest_all();
        self.links.lock().default_delay_ms = delay.as_millis() as u64;
    }

    /// Cuts `region` off from every other region: writes there (and elsewhere) keep succeeding
    /// and queue. Everything already due is applied first.
    pub fn partition(&self, region: &Region) {
        self.pump();
        self.links
            .lock()
            .isolated
            .insert(region.as_str().to_owned());
    }

    /// Reconnects `region`: what queued while it was cut off is due at once.
    pub fn heal(&self, region: &Region) {
        self.pump();
        let now = self.now_ms();
        let mut l = self.links.lock();
        if l.isolated.remove(region.as_str()) {
            l.healed.insert(region.as_str().to_owned(), now);
        }
    }

    /// Cuts the link between `a` and `b`, both directions.
    pub fn partition_link(&self, a: &Region, b: &Region) {
        self.pump();
        let mut l = self.links.lock();
        l.cut.insert((a.as_str().to_owned(), b.as_str().to_owned()));
        l.cut.insert((b.as_str().to_owned(), a.as_str().to_owned()));
    }

    /// Restores the link between `a` and `b`.
    pub fn heal_link(&self, a: &Region, b: &Region) {
        self.pump();
        let now = self.now_ms();
        let mut l = self.links.lock();
        for p in [
            (a.as_str().to_owned(), b.as_str().to_owned()),
            (b.as_str().to_owned(), a.as_str().to_owned()),
        ] {
            if l.cut.remove(&p) {
                l.healed_pairs.insert(p, now);
            }
        }
    }

    /// Heals every partition.
    pub fn heal_all(&self) {
        self.pump();
        let now = self.now_ms();
        let mut l = self.links.lock();
        for r in std::mem::take(&mut l.isolated) {
            l.healed.insert(r, now);
        }
        for p in std::mem::take(&mut l.cut) {
            l.healed_pairs.insert(p, now);
        }
    }

    /// Reads every replica's stream into the queues (no table is locked).
    pub fn ingest_all(&self) {
        let links = self.links();
        for g in self.groups() {
            let mut gs = g.state.lock();
            replicate::ingest(&mut gs, &links);
        }
    }

    /// Applies every queued write that is due, everywhere. Returns how many were delivered.
    pub fn pump(&self) -> usize {
        let mut n = 0;
        for g in self.groups() {
            let regions: Vec<String> = g.state.lock().replicas.keys().cloned().collect();
            for r in regions {
                n += self.catch_up_group(&g, &r);
            }
        }
        n
    }

    /// Brings `region`'s replica of `table` up to date (the lazy hook before each access).
    pub fn catch_up(&self, region: &str, table: &str) {
        if let Some(g) = self.group_of(region, table) {
            self.catch_up_group(&g, region);
        }
    }

    fn catch_up_group(&self, g: &Arc<Group>, region: &str) -> usize {
        let links = self.links();
        let now = self.now_ms();
        let table = {
            let mut gs = g.state.lock();
            replicate::ingest(&mut gs, &links);
            if !replicate::has_due(&gs, region, now, &links) {
                return 0;
            }
            match gs.replicas.get(region) {
                Some(r) => Arc::clone(&r.table),
                None => return 0,
            }
        };
        // Lock order: the table, then the group, then streams.
        let mut st = table.state.write();
        let mut gs = g.state.lock();
        if !gs
            .replicas
            .get(region)
            .is_some_and(|r| Arc::ptr_eq(&r.table, &table))
        {
            return 0;
        }
        replicate::ingest(&mut gs, &links);
        let n = replicate::deliver(&mut gs, region, &mut st, now, &links);
        if st.def.ttl_attribute.is_some() {
            table.refresh_due(&st);
        }
        n
    }

    /// Queued writes, all groups.
    pub fn pending(&self) -> usize {
        self.ingest_all();
        self.groups()
            .iter()
            .map(|g| {
                g.state
                    .lock()
                    .queues
                    .values()
                    .map(VecDeque::len)
                    .sum::<usize>()
            })
            .sum()
    }

    /// When the next queued write falls due on an up link (for a background waker).
    pub fn next_due_ms(&self) -> Option<u64> {
        self.ingest_all();
        let links = self.links();
        self.groups()
            .iter()
            .filter_map(|g| {
                let gs = g.state.lock();
                gs.queues
                    .iter()
                    .filter(|((a, b), _)| links.up(a, b))
                    .filter_map(|((a, b), q)| q.front().map(|r| r.due_ms.max(links.up_since(a, b))))
                    .min()
            })
            .min()
    }

    /// The status of every (source, destination) pair of `table`'s groups.
    pub fn status(&self, table: &str) -> Vec<LinkStatus> {
        self.ingest_all();
        let links = self.links();
        let mut out = Vec::new();
        for g in self.groups().iter().filter(|g| g.name == table) {
            let gs = g.state.lock();
            for a in gs.replicas.keys() {
                for b in gs.replicas.keys().filter(|b| *b != a) {
                    let key = (a.clone(), b.clone());
                    out.push(LinkStatus {
                        table: g.name.clone(),
                        from: a.clone(),
                        to: b.clone(),
                        pending: gs.queues.get(&key).map_or(0, VecDeque::len),
                        up: links.up(a, b),
                        delay: Duration::from_millis(links.delay(a, b)),
                        stats: gs.stats.get(&key).cloned().unwrap_or_default(),
                    });
                }
            }
        }
        out
    }

    /// Called when `region`'s `table` is deleted: it leaves its group; writes queued for it are
    /// dropped, writes it made that are already queued still go out.
    pub(crate) fn table_deleted(&self, region: &str, table: &str) {
        let Some(g) = self.group_of(region, table) else {
            return;
        };
        let remaining = {
            let mut gs = g.state.lock();
            replicate::ingest(&mut gs, &self.links());
            gs.replicas.remove(region);
            gs.queues.retain(|(_, b), _| b != region);
            gs.replicas.len()
        };
        self.unindex_member(&g, region, remaining);
    }
}
