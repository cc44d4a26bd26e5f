//! Global Database operations of the control plane: CreateGlobalCluster,
//! DescribeGlobalClusters, FailoverGlobalCluster, SwitchoverGlobalCluster,
//! RemoveFromGlobalCluster.

use std::sync::Arc;
use std::time::SystemTime;

use nubis_core::Region;

use crate::cluster::global::GlobalDatabase;

use super::error::RdsError;
use super::model::{Backing, GlobalMeta, Rds, State, check_id, valid_identifier};

impl Rds {
    /// CreateGlobalCluster (from an existing cluster when `source` names one, by ARN).
    pub fn create_global(
        &self,
        id: &str,
        source: Option<&str>,
        deletion_protection: bool,
    ) -> Result<GlobalView, RdsError> {
        check_id("GlobalClusterIdentifier", id)?;
        let mut st = self.state.lock();
        if st.globals.contains_key(id) {
            return Err(RdsError::GlobalExists(id.to_string()));
        }
        let Some(source) = source else {
            return Err(RdsError::MissingParameter("SourceDBClusterIdentifier"));
        };
        let (region, cluster_id) = parse_cluster_arn(source)?;
        let key = (region.clone(), cluster_id.clone());
        let meta = st
            .clusters
            .get_mut(&key)
            .ok_or_else(|| RdsError::ClusterNotFound(cluster_id.clone()))?;
        let Backing::Own(c) = &meta.backing else {
            return Err(RdsError::InvalidClusterState(format!(
                "DB cluster {cluster_id} is already a member of a global cluster"
            )));
        };
        if c.writers().is_empty() {
            return Err(RdsError::InvalidClusterState(format!(
                "DB cluster {cluster_id} has no writer instance"
            )));
        }
        let r = Region::new(&region).map_err(|e| RdsError::InvalidParameterValue(e.to_string()))?;
        let db = Arc::new(GlobalDatabase::new(id, r, c.clone()));
        meta.backing = Backing::Global(id.to_string());
        let engine_version = meta.engine_version.clone();
        st.globals.insert(
            id.to_string(),
            GlobalMeta {
                db,
                engine_version,
                created: self.env.clock.now(),
                deletion_protection,
            },
        );
        drop(st);
        self.describe_global(id)
    }

    /// DescribeGlobalClusters for one global cluster.
    pub fn describe_global(&self, id: &str) -> Result<GlobalView, RdsError> {
        let st = self.state.lock();
        let g = st
            .globals
            .get(id)
            .ok_or_else(|| RdsError::GlobalNotFound(id.to_string()))?;
        Ok(self.global_view(id, g, &st))
    }

    /// DescribeGlobalClusters.
    pub fn describe_globals(&self) -> Vec<GlobalView> {
        let st = self.state.lock();
        st.globals
            .iter()
            .map(|(id, g)| self.global_view(id, g, &st))
            .collect()
    }

    fn global_view(&self, id: &str, g: &GlobalMeta, st: &State) -> GlobalView {
        let account = self.env.account.as_str();
        let arn_of = |region: &str| -> String {
            let name = st
                .clusters
                .iter()
                .find(|((r, _), m)| {
                    r == region && matches!(&m.backing, Backing::Global(x) if x == id)
                })
                .map(|((_, n), _)| n.clone())
                .unwrap_or_default();
            format!("arn:aws:rds:{region}:{account}:cluster:{name}")
        };
        let primary = g.db.primary_region();
        let mut members = vec![(arn_of(primary.as_str()), true)];
        members.extend(
            g.db.secondaries()
                .into_iter()
                .map(|(r, _)| (arn_of(r.as_str()), false)),
        );
        GlobalView {
            id: id.to_string(),
            arn: format!("arn:aws:rds::{account}:global-cluster:{id}"),
            resource_id: format!("cluster-{}", id.len()),
            engine_version: g.engine_version.clone(),
            deletion_protection: g.deletion_protection,
            members,
            created: g.created,
        }
    }

    fn member_region(&self, global: &str, arn: &str) -> Result<Region, RdsError> {
        let (region, cluster) = parse_cluster_arn(arn)?;
        let st = self.state.lock();
        let member = st
            .clusters
            .get(&(region.clone(), cluster.clone()))
            .is_some_and(|m| matches!(&m.backing, Backing::Global(g) if g == global));
        if !member {
            return Err(RdsError::InvalidParameterValue(format!(
                "{arn} is not a member of global cluster {global}"
            )));
        }
        Region::new(&region).map_err(|e| RdsError::InvalidParameterValue(e.to_string()))
    }

    /// FailoverGlobalCluster (AllowDataLoss: detach-and-promote; else a managed switchover).
    pub fn failover_global(
        &self,
        id: &str,
        target: &str,
        allow_data_loss: bool,
    ) -> Result<GlobalView, RdsError> {
        let g = self.global(id)?;
        let region = self.member_region(id, target)?;
        if region == g.primary_region() {
            return Err(RdsError::InvalidParameterValue(format!(
                "{target} is already the primary cluster of global cluster {id}"
            )));
        }
        let r = if allow_data_loss {
            g.failover(&region)
        } else {
            g.switchover(&region)
        };
        r.map_err(|e| RdsError::InvalidGlobalState(e.to_string()))?;
        self.describe_global(id)
    }

    /// SwitchoverGlobalCluster.
    pub fn switchover_global(&self, id: &str, target: &str) -> Result<GlobalView, RdsError> {
        self.failover_global(id, target, false)
    }

    /// RemoveFromGlobalCluster: a secondary becomes a standalone, writable cluster.
    pub fn remove_from_global(&self, id: &str, member: &str) -> Result<GlobalView, RdsError> {
        let g = self.global(id)?;
        let region = self.member_region(id, member)?;
        if region == g.primary_region() {
            return Err(RdsError::InvalidGlobalState("The primary cluster can be removed only when it is the last member of the global cluster".into()));
        }
        let (cluster, _rpo) = g
            .remove_secondary(&region)
            .map_err(|e| RdsError::InvalidGlobalState(e.to_string()))?;
        let (_, name) = parse_cluster_arn(member)?;
        if let Some(m) = self
            .state
            .lock()
            .clusters
            .get_mut(&(region.to_string(), name))
        {
            m.backing = Backing::Own(cluster);
        }
        self.describe_global(id)
    }
}

/// A global cluster as DescribeGlobalClusters shows it.
#[derive(Debug, Clone)]
pub struct GlobalView {
    /// GlobalClusterIdentifier.
    pub id: String,
    /// GlobalClusterArn.
    pub arn: String,
    /// GlobalClusterResourceId.
    pub resource_id: String,
    /// EngineVersion.
    pub engine_version: String,
    /// DeletionProtection.
    pub deletion_protection: bool,
    /// Members: (cluster ARN, is writer).
    pub members: Vec<(String, bool)>,
    /// Creation time.
    pub created: SystemTime,
}

/// `arn:aws:rds:<region>:<account>:cluster:<id>` → (region, id).
pub fn parse_cluster_arn(arn: &str) -> Result<(String, String), RdsError> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "rds", region, _, "cluster", id]
            if !region.is_empty() && valid_identifier(id) =>
        {
            Ok((region.to_string(), id.to_string()))
        }
        _ => Err(RdsError::InvalidParameterValue(format!(
            "Invalid DB cluster ARN: {arn}"
        ))),
    }
}
