//! Aurora Global Database: a primary cluster and up to five read-only secondary regions.
//!
//! Replication is the volume's: every durable record is shipped to each secondary region's own
//! six-copy volume `lag` later on the clock. A secondary region's instances read their state from
//! that region's pages and then follow the primary's stream up to what is durable in their region,
//! so their lag is the storage lag. Guarantees:
//! * secondaries refuse writes (25006);
//! * [`GlobalDatabase::switchover`] (SwitchoverGlobalCluster) drains replication before it
//!   promotes, so it loses nothing, and the old primary region becomes a secondary;
//! * [`GlobalDatabase::failover`] (FailoverGlobalCluster with AllowDataLoss, or
//!   RemoveFromGlobalCluster) detaches and promotes at once, reporting the RPO.

use std::collections::BTreeMap;
use std::time::Duration;

use nubis_core::Region;
use parking_lot::Mutex;

use crate::volume::{MAX_SECONDARY_REGIONS, RpoReport};

use super::error::{ClusterError, ClusterResult};
use super::instance::{Instance, InstanceState, Role};
use super::rebuild::rebuild;
use super::volume_storage::LinkMode;
use super::{Cluster, ClusterConfig, ClusterSession, Endpoint, FailoverReport};

/// A secondary region.
#[derive(Debug, Clone)]
struct SecondaryRegion {
    cluster_name: String,
    lag: Duration,
    instances: Vec<String>,
}

/// What a global failover or switchover did.
#[derive(Debug, Clone)]
pub struct GlobalFailover {
    /// The new primary region.
    pub new_primary: Region,
    /// The old primary region (a secondary after a switchover; detached after a failover).
    pub old_primary: Region,
    /// What the promotion lost (nothing after a switchover).
    pub rpo: RpoReport,
    /// Time on the clock the whole operation took.
    pub duration: Duration,
}

/// A Global Database.
#[derive(Debug)]
pub struct GlobalDatabase {
    name: String,
    state: Mutex<GlobalState>,
}

#[derive(Debug)]
struct GlobalState {
    primary_region: Region,
    primary: Cluster,
    secondaries: BTreeMap<Region, SecondaryRegion>,
}

impl GlobalDatabase {
    /// A global database whose primary is `primary` in `region`.
    pub fn new(name: &str, region: Region, primary: Cluster) -> GlobalDatabase {
        GlobalDatabase {
            name: name.to_string(),
            state: Mutex::new(GlobalState {
                primary_region: region,
                primary,
                secondaries: BTreeMap::new(),
            }),
        }
    }

    /// GlobalClusterIdentifier.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The primary cluster and its region.
    pub fn primary(&self) -> (Region, Cluster) {
        let g = self.state.lock();
        (g.primary_region.clone(), g.primary.clone())
    }

    /// Secondary regions and their cluster names.
    pub fn secondaries(&self) -> Vec<(Region, String)> {
        self.state
            .lock()
            .secondaries
            .iter()
            .map(|(r, s)| (r.clone(), s.cluster_name.clone()))
            .collect()
    }

    /// Adds a secondary region (at most five) with `instances` read-only instances, replicating
    /// with `lag` on the clock.
    pub fn add_secondary(
        &self,
        region: Region,
        cluster_name: &str,
        lag: Duration,
        instances: usize,
    ) -> ClusterResult<()> {
        let mut g = self.state.lock();
        if region == g.primary_region || g.secondaries.contains_key(&region) {
            return Err(ClusterError::invalid(format!(
                "region {region} is already part of global cluster {}",
                self.name
            )));
        }
        if g.secondaries.len() >= MAX_SECONDARY_REGIONS {
            return Err(ClusterError::invalid(format!(
                "a global database has at most {MAX_SECONDARY_REGIONS} secondary regions"
            )));
        }
        let primary = g.primary.clone();
        let mut names = Vec::new();
        {
            let mut st = primary.shared.lock();
            st.volume.add_secondary(region.clone(), lag)?;
            for i in 0..instances {
                let name = format!("{cluster_name}-instance-{}", i + 1);
                let inst = secondary_instance(&primary, &mut st, &name, &region)?;
                st.instances.insert(name.clone(), inst);
                names.push(name);
            }
        }
        g.secondaries.insert(
            region,
            SecondaryRegion {
                cluster_name: cluster_name.to_string(),
                lag,
                instances: names,
            },
        );
        Ok(())
    }

    /// Adds a read-only instance to a secondary region.
    pub fn add_secondary_instance(&self, region: &Region, name: &str) -> ClusterResult<()> {
        let mut g = self.state.lock();
        let primary = g.primary.clone();
        let s = g
            .secondaries
            .get_mut(region)
            .ok_or_else(|| not_member(region))?;
        let mut st = primary.shared.lock();
        if st.instances.contains_key(name) {
            return Err(ClusterError::invalid(format!(
                "DB instance {name} already exists"
            )));
        }
        let inst = secondary_instance(&primary, &mut st, name, region)?;
        st.instances.insert(name.to_string(), inst);
        s.instances.push(name.to_string());
        Ok(())
    }

    /// Instances of a secondary region.
    pub fn secondary_instances(&self, region: &Region) -> Vec<String> {
        self.state
            .lock()
            .secondaries
            .get(region)
            .map(|s| s.instances.clone())
            .unwrap_or_default()
    }

    /// The primary region.
    pub fn primary_region(&self) -> Region {
        self.state.lock().primary_region.clone()
    }

    /// A read-only session in a secondary region.
    pub fn connect_secondary(&self, region: &Region) -> ClusterResult<ClusterSession> {
        let g = self.state.lock();
        let s = g
            .secondaries
            .get(region)
            .ok_or_else(|| not_member(region))?;
        let name = s
            .instances
            .first()
            .cloned()
            .ok_or_else(|| ClusterError::NotAccepting {
                instance: s.cluster_name.clone(),
                state: "without instances".into(),
            })?;
        let primary = g.primary.clone();
        drop(g);
        primary.tick();
        primary.connect(Endpoint::Instance(name))
    }

    /// A secondary region's replication lag on the clock.
    pub fn lag(&self, region: &Region) -> ClusterResult<Duration> {
        let primary = self.state.lock().primary.clone();
        primary
            .with_volume(|v| {
                v.secondary_status()
                    .into_iter()
                    .find(|s| &s.region == region)
                    .map(|s| s.lag)
            })
            .ok_or_else(|| not_member(region))
    }

    /// SwitchoverGlobalCluster: drains replication to `region`, promotes it with no data loss
    /// and makes the old primary region a secondary.
    pub fn switchover(&self, region: &Region) -> ClusterResult<GlobalFailover> {
        let (primary, primary_region) = {
            let g = self.state.lock();
            g.secondaries
                .get(region)
                .ok_or_else(|| not_member(region))?;
            (g.primary.clone(), g.primary_region.clone())
        };
        let start = primary.now();
        // Writes stop (the writer is taken out of service), then replication drains.
        let writers = primary.writers();
        {
            let mut st = primary.shared.lock();
            for w in &writers {
                if let Some(i) = st.instances.get_mut(w) {
                    i.state = InstanceState::Failed;
                }
            }
        }
        let drained = primary.wait_until(|st| {
            let vdl = st.volume.vdl();
            st.volume
                .secondary_status()
                .iter()
                .any(|s| &s.region == region && s.durable_lsn >= vdl && s.in_flight == 0)
        });
        if !drained {
            let mut st = primary.shared.lock();
            for w in &writers {
                if let Some(i) = st.instances.get_mut(w) {
                    i.state = InstanceState::Available;
                }
            }
            return Err(ClusterError::invalid(
                "the switchover could not drain replication: advance the clock and retry",
            ));
        }
        let lag = self
            .state
            .lock()
            .secondaries
            .get(region)
            .map_or(Duration::from_secs(1), |s| s.lag);
        let mut report = self.promote(region)?;
        // The old primary region follows the new primary.
        let old_name = primary.name().to_string();
        self.add_secondary(primary_region, &old_name, lag, 1)?;
        report.duration = primary.now().duration_since(start).unwrap_or_default();
        Ok(report)
    }

    /// FailoverGlobalCluster with data loss allowed (a regional outage): detaches and promotes
    /// `region` at once and reports the RPO; the old primary region then follows as a secondary.
    pub fn failover(&self, region: &Region) -> ClusterResult<GlobalFailover> {
        let (start, old_name, lag) = {
            let g = self.state.lock();
            let lag = g
                .secondaries
                .get(region)
                .map_or(Duration::from_secs(1), |s| s.lag);
            (g.primary.now(), g.primary.name().to_string(), lag)
        };
        let mut r = self.promote(region)?;
        // Once its region is back, the old primary is rebuilt as a secondary of the new one
        // (what it had beyond the promoted point is the reported loss).
        self.add_secondary(r.old_primary.clone(), &old_name, lag, 1)?;
        r.duration = self
            .state
            .lock()
            .primary
            .now()
            .duration_since(start)
            .unwrap_or_default();
        Ok(r)
    }

    /// RemoveFromGlobalCluster: detaches a secondary region into a standalone, writable cluster.
    pub fn remove_secondary(&self, region: &Region) -> ClusterResult<(Cluster, RpoReport)> {
        let mut g = self.state.lock();
        let s = g
            .secondaries
            .remove(region)
            .ok_or_else(|| not_member(region))?;
        let primary = g.primary.clone();
        drop(g);
        detach(&primary, region, &s)
    }

    fn promote(&self, region: &Region) -> ClusterResult<GlobalFailover> {
        let mut g = self.state.lock();
        let s = g
            .secondaries
            .remove(region)
            .ok_or_else(|| not_member(region))?;
        let old_primary = g.primary.clone();
        let old_region = g.primary_region.clone();
        drop(g);
        let (cluster, rpo) = detach(&old_primary, region, &s)?;
        // The old primary's instances stop; its sessions are terminated.
        {
            let mut st = old_primary.shared.lock();
            let ids: Vec<_> = st.instances.values().map(|i| i.vol_id).collect();
            for id in ids {
                let _ = st.volume.crash_instance(id);
            }
            for i in st.instances.values_mut() {
                i.state = InstanceState::Failed;
            }
        }
        let mut g = self.state.lock();
        // The other secondaries follow the new primary.
        let others: Vec<(Region, SecondaryRegion)> =
            std::mem::take(&mut g.secondaries).into_iter().collect();
        g.primary = cluster;
        g.primary_region = region.clone();
        drop(g);
        for (r, s) in others {
            self.add_secondary(r, &s.cluster_name, s.lag, s.instances.len().max(1))?;
        }
        Ok(GlobalFailover {
            new_primary: region.clone(),
            old_primary: old_region,
            rpo,
            duration: Duration::ZERO,
        })
    }
}

fn not_member(region: &Region) -> ClusterError {
    ClusterError::invalid(format!(
        "region {region} is not a secondary region of this global cluster"
    ))
}

/// Detaches `region`'s volume from `primary` and opens it as a standalone cluster.
fn detach(
    primary: &Cluster,
    region: &Region,
    s: &SecondaryRegion,
) -> ClusterResult<(Cluster, RpoReport)> {
    let promotion = {
        let mut st = primary.shared.lock();
        for name in &s.instances {
            st.instances.remove(name);
        }
        st.volume.detach_and_promote(region)?
    };
    let mut config = ClusterConfig::new(&s.cluster_name);
    config.region = region.to_string();
    config.database = primary.shared.database.clone();
    config.volume = promotion.volume.config().clone();
    let cluster = Cluster::on_volume(
        &primary.shared.env,
        &config,
        primary.shared.driver.clone(),
        promotion.volume,
        false,
    );
    cluster.adopt_writer(&config.writer, 0, promotion.recovery)?;
    Ok((cluster, promotion.rpo))
}

/// A read-only instance of a secondary region, read from that region's pages.
fn secondary_instance(
    primary: &Cluster,
    st: &mut super::State<'_>,
    name: &str,
    region: &Region,
) -> ClusterResult<Instance> {
    let vdl = st
        .volume
        .secondary_status()
        .iter()
        .find(|s| &s.region == region)
        .map_or(0, |s| s.durable_lsn);
    let vol = st.volume.secondary_mut(region)?;
    let reader = vol.add_reader();
    let built = rebuild(
        &primary.shared.database,
        &primary.shared.env,
        0,
        LinkMode::Local,
        |p| vol.read_page(reader, p),
    )?;
    Ok(Instance {
        name: name.to_string(),
        role: Role::Reader,
        state: InstanceState::Available,
        tier: 15,
        az: 0,
        region: Some(region.clone()),
        vol_id: reader,
        db: built.db,
        link: built.link,
        exec: super::exec_lock::ExecLock::new(),
        generation: 0,
        applied_lsn: vdl,
        page_lsns: built.page_lsns,
    })
}

impl Cluster {
    /// Failovers of this cluster (for reports).
    pub fn last_failover(&self) -> Option<FailoverReport> {
        self.failovers().pop()
    }
}
