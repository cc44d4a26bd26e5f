//! Aurora clusters on the shared volume: a writer and up to 15 readers (or several writers) over
//! one [`crate::volume::Volume`], failover, Global Database and Serverless v2 capacity.
//!
//! * **Storage.** Each instance runs the SQL engine on a [`VolumeStorage`]: every redo record
//!   the executor writes becomes page records shipped to the volume, one mini-transaction per
//!   statement, and the statement is answered only when the VDL covers it — a commit is
//!   acknowledged exactly when four of six copies hold it ([`pages`] is the page format).
//! * **Readers** apply the writer's log stream to their state at the read point the volume's
//!   stream gives them, so replica lag is measured on the clock ([`Cluster::replica_lag`]).
//! * **Failover** promotes the reader with the lowest tier: the volume fences the old writer,
//!   recovers by quorum (no redo replay) and the new writer reads its state from pages;
//!   sessions on the old writer get 57P01 and reconnect through the cluster endpoint.
//! * **Multi-master**: writers base every heap, index and catalog page write on the page LSN
//!   they last saw; storage refuses a stale one and the statement's transaction rolls back with
//!   40001 (retryable), while the winner's work is never lost.
//! * **Global Database** ([`global`]) and **Serverless v2** ([`serverless`]).
//!
//! Key design decision: the cluster is a value driven by the injected clock; waiting for the
//! VDL, for recovery or for capacity moves time through a [`Driver`], so a test on a
//! `ManualClock` sees the same latencies every run.
//!
//! ```
//! use nubis_core::{Env, ManualClock};
//! use nubis_aurora::cluster::{Cluster, ClusterConfig, Driver, Endpoint};
//!
//! let clock = ManualClock::at_default_epoch();
//! let env = Env::with_clock(clock.shared());
//! let cluster = Cluster::create(&env, ClusterConfig::new("orders"), Driver::Manual(clock.clone())).unwrap();
//! cluster.add_reader("orders-r1", 1).unwrap();
//! let mut w = cluster.connect(Endpoint::Cluster).unwrap();
//! w.execute("CREATE TABLE t (id int PRIMARY KEY, v text)").unwrap();
//! w.execute("INSERT INTO t VALUES (1, 'a')").unwrap();
//! // The reader applies the log stream once it arrives (10 ms on the clock).
//! cluster.advance(std::time::Duration::from_millis(20));
//! let mut r = cluster.connect(Endpoint::Reader).unwrap();
//! let rows = r.execute("SELECT v FROM t").unwrap();
//! assert_eq!(rows[0].rows.len(), 1);
//! assert_eq!(r.execute("DELETE FROM t").unwrap_err().sqlstate(), "25006");
//! ```

pub mod codec;
mod commit;
mod control;
pub mod drive;
pub mod error;
pub mod exec_lock;
pub mod global;
pub mod instance;
pub mod pages;
pub mod rebuild;
pub mod serverless;
mod session;
pub mod volume_storage;
pub mod workload;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use nubis_core::Env;
use parking_lot::{Mutex, MutexGuard};

use crate::volume::{InstanceId, Lsn, PageRead, RecoveryReport, Volume, VolumeConfig, WriterMode};

pub use drive::Driver;
pub use error::{ClusterError, ClusterResult};
pub use instance::{Instance, InstanceState, Role, StreamMtr};
pub use pages::{SqlPage, SqlPages};
pub use session::ClusterSession;
pub use volume_storage::{Link, LinkMode, VolumeStorage};

use codec::{PageRecord, encode};
use rebuild::rebuild;
use serverless::Serverless;

/// Readers a cluster may have (Aurora's limit).
pub const MAX_READERS: usize = 15;

/// How to build a cluster.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// DBClusterIdentifier.
    pub name: String,
    /// Database name sessions use.
    pub database: String,
    /// The volume (its `mode` decides multi-master).
    pub volume: VolumeConfig,
    /// Name of the first writer instance.
    pub writer: String,
    /// The region (for ARNs and metering).
    pub region: String,
}

impl ClusterConfig {
    /// A single-master cluster with default storage, writer `<name>-instance-1`.
    pub fn new(name: &str) -> ClusterConfig {
        ClusterConfig {
            name: name.to_string(),
            database: "postgres".into(),
            volume: VolumeConfig::default(),
            writer: format!("{name}-instance-1"),
            region: "us-east-1".into(),
        }
    }

    /// The same, multi-master.
    pub fn multi_master(mut self) -> ClusterConfig {
        self.volume.mode = WriterMode::MultiMaster;
        self
    }
}

/// Where a connection goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// The cluster endpoint: the (first) writer.
    Cluster,
    /// The reader endpoint: readers in turn (the writer when there is none).
    Reader,
    /// One instance by name.
    Instance(String),
}

/// What a failover did.
#[derive(Debug, Clone)]
pub struct FailoverReport {
    /// The writer before.
    pub old_writer: Option<String>,
    /// The writer after.
    pub new_writer: String,
    /// The volume recovery.
    pub recovery: RecoveryReport,
    /// Time on the clock from the start of the failover until the new writer accepted work.
    pub duration: Duration,
    /// Pages the new writer read to open.
    pub pages_read: usize,
}

/// A cluster (cheap to clone: a shared handle).
#[derive(Clone, Debug)]
pub struct Cluster {
    shared: Arc<Shared>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub env: Env,
    pub name: String,
    pub database: String,
    pub region: String,
    pub driver: Driver,
    /// Instances, the log stream, serverless capacity: held briefly, never while a statement
    /// runs or the volume works.
    pub core: Mutex<Core>,
    /// The volume, under its own lock so that one writer's enqueue or the commit leader's
    /// quorum round does not hold the instances (lock order: `core`, then `volume`).
    pub volume: Mutex<Volume<SqlPages>>,
    /// Group commit: the commit leader and its followers.
    pub commits: commit::CommitQueue,
}

impl Shared {
    /// Both locks, in their order.
    pub(crate) fn lock(&self) -> State<'_> {
        let core = self.core.lock();
        let volume = self.volume.lock();
        State { core, volume }
    }
}

/// The cluster's state with both of its locks held (see [`Shared::lock`]).
pub(crate) struct State<'a> {
    core: MutexGuard<'a, Core>,
    pub volume: MutexGuard<'a, Volume<SqlPages>>,
}

impl std::ops::Deref for State<'_> {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.core
    }
}

impl std::ops::DerefMut for State<'_> {
    fn deref_mut(&mut self) -> &mut Core {
        &mut self.core
    }
}

/// Everything of the cluster but its volume.
#[derive(Debug)]
pub(crate) struct Core {
    pub instances: BTreeMap<String, Instance>,
    pub next_origin: u32,
    pub stream: VecDeque<StreamMtr>,
    pub round_robin: usize,
    pub serverless: Option<Serverless>,
    pub failovers: Vec<FailoverReport>,
    /// Set on a secondary region's cluster: no writer, read-only.
    pub secondary: bool,
    /// Stream positions other followers still need (secondary regions): not trimmed past.
    pub pinned: BTreeMap<String, Lsn>,
}

impl Cluster {
    /// Creates a cluster with its first writer on a new volume.
    pub fn create(env: &Env, config: ClusterConfig, driver: Driver) -> ClusterResult<Cluster> {
        let volume = Volume::create(env, config.volume.clone(), SqlPages)?;
        let cluster = Cluster::on_volume(env, &config, driver, volume, false);
        cluster.open_writer(&config.writer, 0)?;
        Ok(cluster)
    }

    /// A cluster on a new volume with no instance yet (CreateDBCluster); the first
    /// [`Cluster::add_writer`] opens the volume.
    pub fn create_empty(
        env: &Env,
        config: ClusterConfig,
        driver: Driver,
    ) -> ClusterResult<Cluster> {
        let volume = Volume::create(env, config.volume.clone(), SqlPages)?;
        Ok(Cluster::on_volume(env, &config, driver, volume, false))
    }

    /// A cluster around an existing volume, with no instances yet.
    pub(crate) fn on_volume(
        env: &Env,
        config: &ClusterConfig,
        driver: Driver,
        volume: Volume<SqlPages>,
        secondary: bool,
    ) -> Cluster {
        Cluster {
            shared: Arc::new(Shared {
                env: env.clone(),
                name: config.name.clone(),
                database: config.database.clone(),
                region: config.region.clone(),
                driver,
                volume: Mutex::new(volume),
                core: Mutex::new(Core {
                    instances: BTreeMap::new(),
                    next_origin: 1,
                    stream: VecDeque::new(),
                    round_robin: 0,
                    serverless: None,
                    failovers: Vec::new(),
                    secondary,
                    pinned: BTreeMap::new(),
                }),
                commits: commit::CommitQueue::default(),
            }),
        }
    }

    /// DBClusterIdentifier.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The environment.
    pub fn env(&self) -> &Env {
        &self.shared.env
    }

    /// Runs `f` on the volume (fault injection, monitoring).
    pub fn with_volume<R>(&self, f: impl FnOnce(&mut Volume<SqlPages>) -> R) -> R {
        f(&mut self.shared.volume.lock())
    }

    /// Opens a writer instance (the first one, or another writer of a multi-master cluster).
    pub fn add_writer(&self, name: &str) -> ClusterResult<String> {
        self.open_writer(name, 0)?;
        Ok(name.to_string())
    }

    fn open_writer(&self, name: &str, tier: u32) -> ClusterResult<RecoveryReport> {
        let mut st = self.shared.lock();
        if st.secondary {
            return Err(ClusterError::ReadOnly {
                command: "a writer instance on a secondary region".into(),
            });
        }
        if st.instances.contains_key(name) {
            return Err(ClusterError::invalid(format!(
                "DB instance {name} already exists"
            )));
        }
        let report = st.volume.open_writer()?;
        drop(st);
        self.adopt_writer(name, tier, report)
    }

    /// Makes the writer the volume already opened (`report`) instance `name`.
    pub(crate) fn adopt_writer(
        &self,
        name: &str,
        tier: u32,
        report: RecoveryReport,
    ) -> ClusterResult<RecoveryReport> {
        self.wait_until(|st| st.volume.vdl() >= report.vdl && self.now() >= report.available_at);
        let mut st = self.shared.lock();
        let inst = self.build_instance(&mut st, name, Role::Writer, report.instance, tier)?;
        st.instances.insert(name.to_string(), inst);
        drop(st);
        self.register_origin(name)?;
        Ok(report)
    }

    /// Builds an instance's SQL state from pages (a writer: fresh origin).
    fn build_instance(
        &self,
        st: &mut State<'_>,
        name: &str,
        role: Role,
        vol_id: InstanceId,
        tier: u32,
    ) -> ClusterResult<Instance> {
        let mode = if role == Role::Writer {
            LinkMode::Ship
        } else {
            LinkMode::Local
        };
        let applied = match role {
            Role::Writer => st.volume.vdl(),
            Role::Reader => st.volume.reader_status(vol_id)?.read_point,
        };
        let vol = &mut st.volume;
        let built = rebuild(
            &self.shared.database,
            &self.shared.env,
            0,
            mode,
            |p| -> crate::volume::VolumeResult<PageRead<SqlPage>> { vol.read_page(vol_id, p) },
        )?;
        // A writer takes an origin no incarnation used before (those on the volume included).
        if let Some(max) = built.origins.iter().max() {
            st.next_origin = st.next_origin.max(max + 1);
        }
        if role == Role::Writer {
            let o = st.next_origin;
            if o > pages::MAX_ORIGIN {
                return Err(ClusterError::invalid(
                    "the volume has no transaction-id origin left for another writer",
                ));
            }
            st.next_origin += 1;
            built.link.lock().origin = o;
        }
        let generation = st.instances.get(name).map_or(0, |i| i.generation + 1);
        Ok(Instance {
            region: None,
            name: name.to_string(),
            role,
            state: InstanceState::Available,
            tier,
            az: st.volume.config().instance_az,
            vol_id,
            db: built.db,
            link: built.link,
            exec: exec_lock::ExecLock::new(),
            generation,
            applied_lsn: applied,
            page_lsns: built.page_lsns,
        })
    }

    /// Logs the writer's origin on the catalog page, so no later writer reuses it.
    fn register_origin(&self, name: &str) -> ClusterResult<()> {
        let (vol_id, origin, base) = {
            let st = self.shared.lock();
            let inst = st
                .instances
                .get(name)
                .ok_or_else(|| not_found("DB instance", name))?;
            let origin = inst.link.lock().origin;
            (inst.vol_id, origin, 0)
        };
        let page = pages::clog_page(pages::global_xid(origin, 0));
        let mut st = self.shared.lock();
        let multi = st.volume.config().mode == WriterMode::MultiMaster;
        // Based on "never written": two writers can never register one origin.
        let w = crate::volume::PageWrite::new(page, encode(&PageRecord::Origin { origin }))
            .based_on(base);
        let receipt = match st.volume.submit(vol_id, &[w]) {
            Ok(r) => r,
            // A peer changed the catalog page meanwhile: this writer's view is stale; reopen it.
            Err(crate::volume::VolumeError::WriteConflict { .. }) if multi => {
                drop(st);
                return self.reopen(name);
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(inst) = st.instances.get_mut(name) {
            inst.page_lsns.insert(page, receipt.commit_lsn);
        }
        st.stream.push_back(StreamMtr {
            writer: name.to_string(),
            first_lsn: receipt.first_lsn,
            commit_lsn: receipt.commit_lsn,
            records: Arc::new(vec![(page, PageRecord::Origin { origin })]),
            at: self.now(),
        });
        drop(st);
        self.wait_until(|st| st.volume.vdl() >= receipt.commit_lsn);
        Ok(())
    }

    /// Rebuilds a writer's state from storage in place (after its local state diverged from the
    /// volume); its sessions are terminated.
    pub(crate) fn reopen(&self, name: &str) -> ClusterResult<()> {
        let mut st = self.shared.lock();
        let (vol_id, role, tier) = {
            let inst = st
                .instances
                .get(name)
                .ok_or_else(|| not_found("DB instance", name))?;
            (inst.vol_id, inst.role, inst.tier)
        };
        self.catch_up_locked(&mut st);
        let inst = self.build_instance(&mut st, name, role, vol_id, tier)?;
        st.instances.insert(name.to_string(), inst);
        drop(st);
        if role == Role::Writer {
            self.register_origin(name)?;
        }
        Ok(())
    }

    /// Adds a reader instance with a failover tier (0–15).
    pub fn add_reader(&self, name: &str, tier: u32) -> ClusterResult<()> {
        if tier > 15 {
            return Err(ClusterError::invalid(
                "PromotionTier must be between 0 and 15",
            ));
        }
        let mut st = self.shared.lock();
        if st.instances.contains_key(name) {
            return Err(ClusterError::invalid(format!(
                "DB instance {name} already exists"
            )));
        }
        if st
            .instances
            .values()
            .filter(|i| i.role == Role::Reader)
            .count()
            >= MAX_READERS
        {
            return Err(ClusterError::invalid(format!(
                "a DB cluster has at most {MAX_READERS} Aurora Replicas"
            )));
        }
        let vol_id = st.volume.add_reader();
        let inst = self.build_instance(&mut st, name, Role::Reader, vol_id, tier)?;
        st.instances.insert(name.to_string(), inst);
        Ok(())
    }

    /// Removes an instance (DeleteDBInstance). Removing the last writer of a cluster with
    /// readers fails over first.
    pub fn remove_instance(&self, name: &str) -> ClusterResult<()> {
        let role = self.instance_role(name)?;
        if role == Role::Writer && self.writers().len() == 1 && !self.readers().is_empty() {
            self.failover(None)?;
        }
        let mut st = self.shared.lock();
        if let Some(inst) = st.instances.remove(name) {
            let _ = st.volume.crash_instance(inst.vol_id);
        }
        Ok(())
    }

    fn instance_role(&self, name: &str) -> ClusterResult<Role> {
        self.shared
            .core
            .lock()
            .instances
            .get(name)
            .map(|i| i.role)
            .ok_or_else(|| not_found("DB instance", name))
    }

    /// Writer instance names.
    pub fn writers(&self) -> Vec<String> {
        let st = self.shared.lock();
        st.instances
            .values()
            .filter(|i| i.role == Role::Writer && i.state != InstanceState::Failed)
            .map(|i| i.name.clone())
            .collect()
    }

    /// Reader instance names.
    pub fn readers(&self) -> Vec<String> {
        let st = self.shared.lock();
        st.instances
            .values()
            .filter(|i| i.role == Role::Reader && i.state != InstanceState::Failed)
            .map(|i| i.name.clone())
            .collect()
    }

    /// Every instance: (name, role, state, tier).
    pub fn instances(&self) -> Vec<(String, Role, InstanceState, u32)> {
        let st = self.shared.lock();
        st.instances
            .values()
            .map(|i| (i.name.clone(), i.role, i.state, i.tier))
            .collect()
    }

    /// Failovers so far.
    pub fn failovers(&self) -> Vec<FailoverReport> {
        self.shared.lock().failovers.clone()
    }

    /// A reader's replica lag on the clock.
    pub fn replica_lag(&self, reader: &str) -> ClusterResult<Duration> {
        let st = self.shared.lock();
        let inst = st
            .instances
            .get(reader)
            .ok_or_else(|| not_found("DB instance", reader))?;
        if inst.role != Role::Reader {
            return Ok(Duration::ZERO);
        }
        Ok(st.volume.reader_status(inst.vol_id)?.lag)
    }

    /// The current clock reading.
    pub fn now(&self) -> SystemTime {
        self.shared.env.clock.now()
    }

    /// Runs background work: the volume, followers, serverless scaling and metering.
    pub fn tick(&self) {
        {
            let mut v = self.shared.volume.lock();
            v.tick();
            self.publish(&v);
        }
        self.catch_up_locked(&mut self.shared.lock());
        self.catch_up_idle_writers();
        self.serverless_tick_locked(&mut self.shared.core.lock());
    }

    /// What a statement on `instance` runs first (its caller holds the instance's execution
    /// lock): the volume's due work, readers, and the instance itself if it is a multi-master
    /// writer (`multi`) — but not the other writers, which catch up on their own threads.
    pub(crate) fn tick_for(&self, instance: &str, multi: bool) {
        {
            let mut v = self.shared.volume.lock();
            v.tick();
            self.publish(&v);
        }
        self.catch_up_locked(&mut self.shared.lock());
        if multi {
            self.catch_up_writer(instance);
        }
        self.serverless_tick_locked(&mut self.shared.core.lock());
    }

    /// Lets readers apply everything at their read point (ticks the volume first).
    pub fn catch_up_readers(&self) -> ClusterResult<()> {
        self.tick();
        Ok(())
    }

    /// Ticks, moving time through the driver, until `done` holds (or the driver cannot wait, or
    /// 100 000 steps ran); returns whether it holds.
    pub(crate) fn wait_until(&self, done: impl Fn(&State<'_>) -> bool) -> bool {
        for _ in 0..100_000 {
            let next = {
                let mut st = self.shared.lock();
                st.volume.tick();
                self.publish(&st.volume);
                self.serverless_tick_locked(&mut st);
                if done(&st) {
                    return true;
                }
                st.volume.next_delivery()
            };
            if !self.shared.driver.wait_until(self.now(), next) {
                return false;
            }
        }
        false
    }

    /// Moves time by `by` through the driver, ticking at every network delivery (and at least
    /// every 100 ms, for gossip and serverless seconds).
    pub fn advance(&self, by: Duration) {
        let end = self.now() + by;
        while self.now() < end {
            self.tick();
            let now = self.now();
            // Step to the next delivery; while a secondary region has records in flight (its
            // queue is not on this volume's network), step by a millisecond.
            let (next, replicating) = self.with_volume(|v| {
                (
                    v.next_delivery(),
                    v.secondary_status().iter().any(|s| s.in_flight > 0),
                )
            });
            let idle_step = if replicating {
                Duration::from_millis(1)
            } else {
                Duration::from_millis(100)
            };
            let next = next
                .filter(|n| *n > now)
                .unwrap_or(now + idle_step)
                .min(now + idle_step);
            if !self.shared.driver.wait_until(now, Some(next.min(end))) {
                break;
            }
        }
        self.tick();
    }

    /// Applies the stream to readers up to their read point, then drops what every follower has.
    /// Multi-master writers catch up themselves ([`Cluster::catch_up_writer`]), under their own
    /// execution lock, so applying a peer's changes never runs under the cluster's locks nor
    /// between a writer's statement and the shipping of its redo.
    pub(crate) fn catch_up_locked(&self, st: &mut State<'_>) {
        let vdl = st.volume.vdl();
        let names: Vec<String> = st
            .instances
            .values()
            .filter(|i| i.role == Role::Reader && i.state != InstanceState::Failed)
            .map(|i| i.name.clone())
            .collect();
        let multi = st.volume.config().mode == WriterMode::MultiMaster;
        for name in names {
            let limit = {
                let Some(inst) = st.instances.get(&name) else {
                    continue;
                };
                match &inst.region {
                    Some(region) => st
                        .volume
                        .secondary_status()
                        .iter()
                        .find(|s| &s.region == region)
                        .map_or(0, |s| s.durable_lsn),
                    None => st
                        .volume
                        .reader_status(inst.vol_id)
                        .map(|s| s.read_point)
                        .unwrap_or(0),
                }
            };
            // In LSN order, up to the reader's read point.
            let applied = st.instances.get(&name).map_or(0, |i| i.applied_lsn);
            let due: Vec<StreamMtr> = st
                .stream
                .iter()
                .filter(|m| m.commit_lsn > applied)
                .take_while(|m| m.commit_lsn <= limit)
                .cloned()
                .collect();
            let Some(inst) = st.instances.get_mut(&name) else {
                continue;
            };
            let mut broken = false;
            for m in &due {
                if apply_followed(inst, m).is_err() {
                    broken = true;
                    break;
                }
                note_pages(&mut inst.page_lsns, m);
                inst.applied_lsn = m.commit_lsn;
            }
            if broken && inst.region.is_none() {
                // The follower could not apply a record: reopen it from pages.
                let (vol_id, tier) = (inst.vol_id, inst.tier);
                if let Ok(fresh) = self.build_instance(st, &name, Role::Reader, vol_id, tier) {
                    st.instances.insert(name.clone(), fresh);
                }
            }
        }
        trim_stream(st, vdl, multi);
    }

    /// Applies a multi-master writer's peers' durable MTRs (each a stream latency after it was
    /// sent) to it, in LSN order. The caller holds the writer's execution lock: no statement runs
    /// on it meanwhile, and no one else catches it up, so each MTR is applied once and the page
    /// LSNs its next writes are based on are those of the state its statements see.
    pub(crate) fn catch_up_writer(&self, name: &str) {
        let now = self.now();
        let (db, link, generation, due) = {
            let st = self.shared.lock();
            if st.volume.config().mode != WriterMode::MultiMaster {
                return;
            }
            let vdl = st.volume.vdl();
            let latency = st.volume.config().replica_latency;
            let Some(inst) = st.instances.get(name) else {
                return;
            };
            if inst.role != Role::Writer || inst.state == InstanceState::Failed {
                return;
            }
            let applied = inst.applied_lsn;
            let due: Vec<StreamMtr> = st
                .stream
                .iter()
                .filter(|m| m.commit_lsn > applied)
                .take_while(|m| m.commit_lsn <= vdl && (m.writer == name || m.at + latency <= now))
                .cloned()
                .collect();
            if due.is_empty() {
                return;
            }
            (inst.db.clone(), inst.link.clone(), inst.generation, due)
        };
        // Outside the cluster's locks: other writers keep shipping and committing.
        let mut done = 0;
        let mut broken = false;
        for m in &due {
            if m.writer != name && instance::apply_mtr(&db, &link, m).is_err() {
                broken = true;
                break;
            }
            done += 1;
        }
        let mut st = self.shared.lock();
        let vdl = st.volume.vdl();
        let Some(inst) = st.instances.get_mut(name) else {
            return;
        };
        if inst.generation != generation {
            return;
        }
        for m in &due[..done] {
            note_pages(&mut inst.page_lsns, m);
            inst.applied_lsn = m.commit_lsn;
        }
        if broken {
            // The writer could not apply a peer's record: reopen it from pages.
            let (vol_id, tier) = (inst.vol_id, inst.tier);
            if let Ok(fresh) = self.build_instance(&mut st, name, Role::Writer, vol_id, tier) {
                st.instances.insert(name.to_string(), fresh);
            }
        }
        trim_stream(&mut st, vdl, true);
    }

    /// Catches up every multi-master writer no statement is running on (one that is busy
    /// catches up itself before its next statement).
    fn catch_up_idle_writers(&self) {
        let writers: Vec<(String, Arc<exec_lock::ExecLock>)> = {
            let st = self.shared.core.lock();
            st.instances
                .values()
                .filter(|i| i.role == Role::Writer && i.state != InstanceState::Failed)
                .map(|i| (i.name.clone(), i.exec.clone()))
                .collect()
        };
        for (name, exec) in writers {
            if let Some(_serial) = exec.try_acquire() {
                self.catch_up_writer(&name);
            }
        }
    }
}

/// Records the page LSNs an applied MTR wrote.
fn note_pages(
    page_lsns: &mut std::collections::HashMap<crate::volume::PageId, Lsn>,
    m: &StreamMtr,
) {
    for (i, (page, _)) in m.records.iter().enumerate() {
        let lsn = page_lsns.entry(*page).or_insert(0);
        *lsn = (*lsn).max(m.first_lsn + i as u64);
    }
}

/// Drops the stream's MTRs every follower (and every pinned secondary) has applied.
fn trim_stream(st: &mut State<'_>, vdl: Lsn, multi: bool) {
    let floor = st
        .instances
        .values()
        .filter(|i| i.state != InstanceState::Failed && (i.role == Role::Reader || multi))
        .map(|i| i.applied_lsn)
        .min()
        .unwrap_or(vdl);
    let floor = st.pinned.values().copied().fold(floor.min(vdl), Lsn::min);
    while st.stream.front().is_some_and(|m| m.commit_lsn <= floor) {
        st.stream.pop_front();
    }
}

fn apply_followed(inst: &mut Instance, m: &StreamMtr) -> ClusterResult<()> {
    instance::apply_mtr(&inst.db, &inst.link, m)
}

pub(crate) fn not_found(what: &'static str, name: &str) -> ClusterError {
    ClusterError::NotFound {
        what,
        name: name.to_string(),
    }
}
