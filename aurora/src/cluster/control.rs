//! Crashes, restarts and failover.
//!
//! Failover (automatic after a writer crash, or FailoverDBCluster) promotes the available reader
//! with the lowest promotion tier (ties: the name, for determinism): the volume fences every
//! older writer and recovers by quorum — no redo replay — and the promoted instance reads its
//! state from pages. The old writer comes back as a reader. With no reader, a crashed writer
//! restarts in place the same way. Records the recovery truncated are dropped from the stream.

use super::error::{ClusterError, ClusterResult};
use super::instance::{InstanceState, Role};
use super::{Cluster, FailoverReport, not_found};

impl Cluster {
    /// Crashes an instance (fault injection). A crashed single-master writer fails over at
    /// once; the report says what happened.
    pub fn crash_instance(&self, name: &str) -> ClusterResult<Option<FailoverReport>> {
        let mut st = self.shared.lock();
        let multi = st.volume.config().mode == crate::volume::WriterMode::MultiMaster;
        let inst = st
            .instances
            .get_mut(name)
            .ok_or_else(|| not_found("DB instance", name))?;
        if inst.state == InstanceState::Failed {
            return Ok(None);
        }
        inst.state = InstanceState::Failed;
        let (vol_id, role) = (inst.vol_id, inst.role);
        st.volume.crash_instance(vol_id)?;
        drop(st);
        if role == Role::Writer && !multi {
            return self.promote(Some(name.to_string()), None).map(Some);
        }
        Ok(None)
    }

    /// Restarts a crashed instance: a reader reattaches, a multi-master writer rejoins; both
    /// read their state from pages.
    pub fn restart_instance(&self, name: &str) -> ClusterResult<()> {
        let mut st = self.shared.lock();
        let inst = st
            .instances
            .get(name)
            .ok_or_else(|| not_found("DB instance", name))?;
        if inst.state != InstanceState::Failed {
            return Ok(());
        }
        let (role, tier) = (inst.role, inst.tier);
        match role {
            Role::Reader => {
                let vol_id = st.volume.add_reader();
                let fresh = self.build_instance(&mut st, name, Role::Reader, vol_id, tier)?;
                st.instances.insert(name.to_string(), fresh);
                Ok(())
            }
            Role::Writer => {
                let report = st.volume.open_writer()?;
                drop(st);
                self.wait_until(|s| {
                    self.now() >= report.available_at && s.volume.vdl() >= report.vdl
                });
                let mut st = self.shared.lock();
                let fresh =
                    self.build_instance(&mut st, name, Role::Writer, report.instance, tier)?;
                st.instances.insert(name.to_string(), fresh);
                drop(st);
                self.register_origin(name)
            }
        }
    }

    /// FailoverDBCluster: promotes `target` (or the reader with the lowest tier); the old writer
    /// becomes a reader. Sessions on either instance get 57P01 and reconnect.
    pub fn failover(&self, target: Option<&str>) -> ClusterResult<FailoverReport> {
        let st = self.shared.lock();
        if st.volume.config().mode == crate::volume::WriterMode::MultiMaster {
            return Err(ClusterError::invalid(
                "a multi-master cluster has no failover: every writer is already writable",
            ));
        }
        let old = st
            .instances
            .values()
            .find(|i| i.role == Role::Writer && i.state == InstanceState::Available)
            .map(|i| i.name.clone());
        if let Some(t) = target {
            let inst = st
                .instances
                .get(t)
                .ok_or_else(|| not_found("DB instance", t))?;
            if inst.role != Role::Reader || inst.state != InstanceState::Available {
                return Err(ClusterError::invalid(format!(
                    "DB instance {t} is not an available Aurora Replica of this cluster"
                )));
            }
        } else if !st.instances.values().any(|i| {
            i.role == Role::Reader && i.region.is_none() && i.state == InstanceState::Available
        }) {
            return Err(ClusterError::invalid(
                "the DB cluster has no Aurora Replica to fail over to",
            ));
        }
        drop(st);
        self.promote(old, target)
    }

    fn promote(&self, old: Option<String>, target: Option<&str>) -> ClusterResult<FailoverReport> {
        let start = self.now();
        let mut st = self.shared.lock();
        let target = match target {
            Some(t) => Some(t.to_string()),
            None => {
                let mut readers: Vec<(u32, String)> = st
                    .instances
                    .values()
                    .filter(|i| {
                        i.role == Role::Reader
                            && i.region.is_none()
                            && i.state == InstanceState::Available
                    })
                    .map(|i| (i.tier, i.name.clone()))
                    .collect();
                readers.sort();
                readers.into_iter().next().map(|(_, n)| n)
            }
        };
        let Some(target) = target.or_else(|| old.clone()) else {
            return Err(ClusterError::invalid(
                "the DB cluster has no instance to fail over to",
            ));
        };
        // The old writer stops (a planned failover shuts it down; a crash already did).
        if let Some(o) = &old
            && let Some(inst) = st.instances.get_mut(o)
            && inst.state == InstanceState::Available
        {
            inst.state = InstanceState::Failed;
            let id = inst.vol_id;
            let _ = st.volume.crash_instance(id);
        }
        let (tier, vol_id) = {
            let inst = st
                .instances
                .get_mut(&target)
                .ok_or_else(|| not_found("DB instance", &target))?;
            inst.state = InstanceState::Failed;
            (inst.tier, inst.vol_id)
        };
        if Some(&target) != old.as_ref() {
            let _ = st.volume.crash_instance(vol_id);
        }
        let report = st.volume.force_open_writer()?;
        drop(st);
        self.wait_until(|s| self.now() >= report.available_at && s.volume.vdl() >= report.vdl);
        let mut st = self.shared.lock();
        st.stream.retain(|m| m.commit_lsn <= report.vdl);
        let mut fresh = self.build_instance(
            &mut st,
            &target,
            crate::cluster::Role::Writer,
            report.instance,
            tier,
        )?;
        fresh.role = Role::Writer;
        let pages_read = fresh.page_lsns.len();
        st.instances.insert(target.clone(), fresh);
        // The old writer reboots as a reader.
        if let Some(o) = old.as_ref().filter(|o| **o != target) {
            let old_tier = st.instances.get(o).map_or(1, |i| i.tier);
            let rid = st.volume.add_reader();
            let reader = self.build_instance(&mut st, o, Role::Reader, rid, old_tier)?;
            st.instances.insert(o.clone(), reader);
        }
        drop(st);
        self.register_origin(&target)?;
        let report = FailoverReport {
            old_writer: old,
            new_writer: target,
            duration: self.now().duration_since(start).unwrap_or_default(),
            recovery: report,
            pages_read,
        };
        self.shared.lock().failovers.push(report.clone());
        Ok(report)
    }
}
