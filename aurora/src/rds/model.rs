//! The control-plane state: DB clusters and instances per region, and global clusters.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use nubis_core::{Env, Region};
use parking_lot::Mutex;

use crate::cluster::global::GlobalDatabase;
use crate::cluster::serverless::ServerlessConfig;
use crate::cluster::{
    Cluster, ClusterConfig, ClusterError, ClusterResult, ClusterSession, Driver, Endpoint,
    InstanceState, Role,
};

use super::error::RdsError;

/// Replication lag of a Global Database secondary region (storage-level, typically under 1 s).
pub const GLOBAL_LAG: Duration = Duration::from_millis(800);

/// A DB cluster as DescribeDBClusters shows it.
#[derive(Debug, Clone)]
pub struct ClusterView {
    /// DBClusterIdentifier.
    pub id: String,
    /// Region.
    pub region: String,
    /// DBClusterArn.
    pub arn: String,
    /// Status.
    pub status: String,
    /// Engine.
    pub engine: String,
    /// EngineVersion.
    pub engine_version: String,
    /// Endpoint.
    pub endpoint: String,
    /// ReaderEndpoint.
    pub reader_endpoint: String,
    /// Port.
    pub port: u16,
    /// MasterUsername.
    pub master_username: String,
    /// DatabaseName.
    pub database_name: Option<String>,
    /// Members: (instance, is writer, promotion tier).
    pub members: Vec<(String, bool, u32)>,
    /// ServerlessV2ScalingConfiguration.
    pub serverless: Option<ServerlessConfig>,
    /// Current serverless capacity.
    pub capacity: Option<f64>,
    /// ClusterCreateTime.
    pub created: SystemTime,
    /// DeletionProtection.
    pub deletion_protection: bool,
    /// DbClusterResourceId.
    pub resource_id: String,
    /// The global cluster it belongs to.
    pub global: Option<String>,
}

/// A DB instance as DescribeDBInstances shows it.
#[derive(Debug, Clone)]
pub struct InstanceView {
    /// DBInstanceIdentifier.
    pub id: String,
    /// DBInstanceArn.
    pub arn: String,
    /// DBClusterIdentifier.
    pub cluster: String,
    /// DBInstanceClass.
    pub class: String,
    /// Engine.
    pub engine: String,
    /// DBInstanceStatus.
    pub status: String,
    /// Whether it is the cluster's writer.
    pub writer: bool,
    /// PromotionTier.
    pub tier: u32,
    /// Endpoint address.
    pub address: String,
    /// Port.
    pub port: u16,
    /// InstanceCreateTime.
    pub created: SystemTime,
}

#[derive(Debug)]
pub(super) enum Backing {
    Own(Cluster),
    Global(String),
}

#[derive(Debug)]
pub(super) struct ClusterMeta {
    pub(super) engine_version: String,
    pub(super) master_username: String,
    pub(super) database_name: Option<String>,
    pub(super) created: SystemTime,
    pub(super) deletion_protection: bool,
    pub(super) serverless: Option<ServerlessConfig>,
    pub(super) resource_id: String,
    pub(super) dns_id: String,
    pub(super) backing: Backing,
    pub(super) classes: BTreeMap<String, (String, SystemTime)>,
    pub(super) master_password: Option<String>,
    /// The PostgreSQL listeners: (writer host, reader host, port).
    pub(super) listener: Option<(String, String, u16)>,
    /// Per-instance listeners: instance → (host, port).
    pub(super) instance_listeners: BTreeMap<String, (String, u16)>,
}

#[derive(Debug)]
pub(super) struct GlobalMeta {
    pub(super) db: Arc<GlobalDatabase>,
    pub(super) engine_version: String,
    pub(super) created: SystemTime,
    pub(super) deletion_protection: bool,
}

/// The RDS control plane of every region.
#[derive(Debug)]
pub struct Rds {
    pub(super) env: Env,
    pub(super) driver: Driver,
    pub(super) state: Mutex<State>,
    /// First port the PostgreSQL endpoints try (0: the service's [`super::PgConfig`] decides).
    pg_base_port: std::sync::atomic::AtomicU16,
}

#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) clusters: BTreeMap<(String, String), ClusterMeta>,
    pub(super) globals: BTreeMap<String, GlobalMeta>,
}

/// What the cluster identifier rules say (letters, digits, hyphens; a letter first; no
/// trailing or doubled hyphen; 1–63 characters).
pub fn valid_identifier(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 63
        && id.starts_with(|c: char| c.is_ascii_alphabetic())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !id.ends_with('-')
        && !id.contains("--")
}

pub(super) fn check_id(param: &str, id: &str) -> Result<(), RdsError> {
    if valid_identifier(id) {
        Ok(())
    } else {
        Err(RdsError::InvalidParameterValue(format!(
            "The parameter {param} is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens."
        )))
    }
}

/// Parameters of CreateDBCluster.
#[derive(Debug, Clone, Default)]
pub struct CreateCluster {
    /// DBClusterIdentifier.
    pub id: String,
    /// Engine.
    pub engine: String,
    /// EngineVersion.
    pub engine_version: Option<String>,
    /// MasterUsername.
    pub master_username: Option<String>,
    /// MasterUserPassword (the PostgreSQL endpoint asks for it; none means trust).
    pub master_password: Option<String>,
    /// DatabaseName.
    pub database_name: Option<String>,
    /// ServerlessV2ScalingConfiguration.
    pub serverless: Option<ServerlessConfig>,
    /// GlobalClusterIdentifier.
    pub global: Option<String>,
    /// DeletionProtection.
    pub deletion_protection: bool,
}

impl Rds {
    /// A control plane on `env`, waiting through `driver`.
    pub fn new(env: Env, driver: Driver) -> Rds {
        Rds {
            env: env.for_engine("rds"),
            driver,
            state: Mutex::new(State::default()),
            pg_base_port: std::sync::atomic::AtomicU16::new(0),
        }
    }

    /// Makes the PostgreSQL endpoints of clusters created from now on listen on the first free
    /// port at or above `port` (`nubis serve --pg-port-base`); 0 goes back to the service's
    /// configuration (ephemeral ports by default).
    pub fn set_pg_base_port(&self, port: u16) {
        self.pg_base_port
            .store(port, std::sync::atomic::Ordering::Relaxed);
    }

    /// The base port set by [`Rds::set_pg_base_port`] (0 when unset).
    pub fn pg_base_port(&self) -> u16 {
        self.pg_base_port.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The cluster engine behind a cluster identifier (standalone or a global primary).
    pub fn cluster(&self, region: &str, id: &str) -> Result<Cluster, RdsError> {
        let st = self.state.lock();
        let meta = st
            .clusters
            .get(&(region.to_string(), id.to_string()))
            .ok_or_else(|| RdsError::ClusterNotFound(id.to_string()))?;
        match &meta.backing {
            Backing::Own(c) => Ok(c.clone()),
            Backing::Global(g) => {
                let g = st
                    .globals
                    .get(g)
                    .ok_or_else(|| RdsError::GlobalNotFound(g.clone()))?;
                let (r, c) = g.db.primary();
                if r.as_str() == region {
                    Ok(c)
                } else {
                    Err(RdsError::InvalidClusterState(format!(
                        "DB cluster {id} is a read-only secondary cluster of a global database"
                    )))
                }
            }
        }
    }

    /// The environment (clock, ids) clusters are built on.
    pub fn env(&self) -> &Env {
        &self.env
    }

    /// The global database a global cluster identifier names.
    pub fn global(&self, id: &str) -> Result<Arc<GlobalDatabase>, RdsError> {
        self.state
            .lock()
            .globals
            .get(id)
            .map(|g| g.db.clone())
            .ok_or_else(|| RdsError::GlobalNotFound(id.to_string()))
    }

    fn short_id(&self) -> String {
        let n = self.env.ids.next_u64();
        (0..12)
            .map(|i| {
                char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[((n >> (i * 5)) % 36) as usize])
            })
            .collect()
    }

    /// CreateDBCluster.
    pub fn create_cluster(&self, region: &str, p: CreateCluster) -> Result<ClusterView, RdsError> {
        check_id("DBClusterIdentifier", &p.id)?;
        if p.engine != "aurora-postgresql" {
            return Err(RdsError::InvalidParameterValue(format!(
                "Invalid DB engine: {}",
                p.engine
            )));
        }
        if let Some(s) = &p.serverless {
            s.validate().map_err(RdsError::from_cluster)?;
        }
        if let Some(pw) = &p.master_password {
            check_password(pw)?;
        }
        let key = (region.to_string(), p.id.clone());
        let mut st = self.state.lock();
        if st.clusters.contains_key(&key) {
            return Err(RdsError::ClusterExists);
        }
        let backing = match &p.global {
            Some(g) => {
                let gm = st
                    .globals
                    .get(g)
                    .ok_or_else(|| RdsError::GlobalNotFound(g.clone()))?;
                let region_r = Region::new(region)
                    .map_err(|e| RdsError::InvalidParameterValue(e.to_string()))?;
                if gm.db.primary_region() == region_r
                    || gm.db.secondaries().iter().any(|(r, _)| *r == region_r)
                {
                    return Err(RdsError::InvalidGlobalState(format!(
                        "Global cluster {g} already has a member in {region}"
                    )));
                }
                gm.db
                    .add_secondary(region_r, &p.id, GLOBAL_LAG, 0)
                    .map_err(|e| RdsError::InvalidGlobalState(e.to_string()))?;
                Backing::Global(g.clone())
            }
            None => {
                let mut config = ClusterConfig::new(&p.id);
                config.region = region.to_string();
                let c = Cluster::create_empty(&self.env, config, self.driver.clone())
                    .map_err(RdsError::from_cluster)?;
                if let Some(s) = p.serverless {
                    c.set_serverless(s).map_err(RdsError::from_cluster)?;
                }
                Backing::Own(c)
            }
        };
        let meta = ClusterMeta {
            engine_version: p.engine_version.unwrap_or_else(|| "16.4".into()),
            master_username: p.master_username.unwrap_or_else(|| "postgres".into()),
            database_name: p.database_name,
            created: self.env.clock.now(),
            deletion_protection: p.deletion_protection,
            serverless: p.serverless,
            resource_id: format!("cluster-{}", self.short_id().to_uppercase()),
            dns_id: self.short_id(),
            backing,
            classes: BTreeMap::new(),
            master_password: p.master_password,
            listener: None,
            instance_listeners: BTreeMap::new(),
        };
        st.clusters.insert(key, meta);
        drop(st);
        self.describe_cluster(region, &p.id)
    }

    fn view(&self, st: &State, region: &str, id: &str, meta: &ClusterMeta) -> ClusterView {
        let (members, capacity, global) = match &meta.backing {
            Backing::Own(c) => (
                members_of(c),
                c.serverless_status().map(|s| s.capacity),
                None,
            ),
            Backing::Global(g) => {
                let members = st.globals.get(g).map_or_else(Vec::new, |gm| {
                    let (r, c) = gm.db.primary();
                    if r.as_str() == region {
                        members_of(&c)
                    } else {
                        Region::new(region)
                            .map(|r| {
                                gm.db
                                    .secondary_instances(&r)
                                    .into_iter()
                                    .map(|n| (n, false, 15))
                                    .collect()
                            })
                            .unwrap_or_default()
                    }
                });
                (members, None, Some(g.clone()))
            }
        };
        let account = self.env.account.as_str().to_string();
        ClusterView {
            id: id.to_string(),
            region: region.to_string(),
            arn: format!("arn:aws:rds:{region}:{account}:cluster:{id}"),
            status: "available".into(),
            engine: "aurora-postgresql".into(),
            engine_version: meta.engine_version.clone(),
            endpoint: meta.listener.as_ref().map_or_else(
                || format!("{id}.cluster-{}.{region}.rds.amazonaws.com", meta.dns_id),
                |(w, _, _)| w.clone(),
            ),
            reader_endpoint: meta.listener.as_ref().map_or_else(
                || format!("{id}.cluster-ro-{}.{region}.rds.amazonaws.com", meta.dns_id),
                |(_, r, _)| r.clone(),
            ),
            port: meta.listener.as_ref().map_or(5432, |(_, _, p)| *p),
            master_username: meta.master_username.clone(),
            database_name: meta.database_name.clone(),
            members,
            serverless: meta.serverless,
            capacity,
            created: meta.created,
            deletion_protection: meta.deletion_protection,
            resource_id: meta.resource_id.clone(),
            global,
        }
    }

    /// DescribeDBClusters for one cluster.
    pub fn describe_cluster(&self, region: &str, id: &str) -> Result<ClusterView, RdsError> {
        let st = self.state.lock();
        let meta = st
            .clusters
            .get(&(region.to_string(), id.to_string()))
            .ok_or_else(|| RdsError::ClusterNotFound(id.to_string()))?;
        Ok(self.view(&st, region, id, meta))
    }

    /// DescribeDBClusters for every cluster of a region.
    pub fn describe_clusters(&self, region: &str) -> Vec<ClusterView> {
        let st = self.state.lock();
        st.clusters
            .iter()
            .filter(|((r, _), _)| r == region)
            .map(|((r, id), m)| self.view(&st, r, id, m))
            .collect()
    }

    /// CreateDBInstance (the first instance of a cluster is its writer).
    pub fn create_instance(
        &self,
        region: &str,
        id: &str,
        cluster: &str,
        class: &str,
        tier: Option<u32>,
    ) -> Result<InstanceView, RdsError> {
        check_id("DBInstanceIdentifier", id)?;
        if !class.starts_with("db.") {
            return Err(RdsError::InvalidParameterValue(format!(
                "Invalid DB Instance class: {class}"
            )));
        }
        let tier = tier.unwrap_or(1);
        if tier > 15 {
            return Err(RdsError::InvalidParameterValue(
                "PromotionTier must be between 0 and 15".into(),
            ));
        }
        if self.instance_cluster(region, id).is_some() {
            return Err(RdsError::InstanceExists);
        }
        let key = (region.to_string(), cluster.to_string());
        let mut st = self.state.lock();
        let meta = st
            .clusters
            .get(&key)
            .ok_or_else(|| RdsError::ClusterNotFound(cluster.to_string()))?;
        let now = self.env.clock.now();
        match &meta.backing {
            Backing::Own(c) => {
                let c = c.clone();
                drop(st);
                let r = if c.writers().is_empty() {
                    c.add_writer(id).map(|_| ())
                } else {
                    c.add_reader(id, tier)
                };
                r.map_err(|e| match e {
                    crate::cluster::ClusterError::Invalid { message }
                        if message.contains("at most") =>
                    {
                        RdsError::InstanceQuotaExceeded(message)
                    }
                    other => RdsError::from_cluster(other),
                })?;
                st = self.state.lock();
            }
            Backing::Global(g) => {
                let gm = st
                    .globals
                    .get(g)
                    .ok_or_else(|| RdsError::GlobalNotFound(g.clone()))?;
                let r = Region::new(region)
                    .map_err(|e| RdsError::InvalidParameterValue(e.to_string()))?;
                if gm.db.primary_region() == r {
                    let (_, c) = gm.db.primary();
                    c.add_reader(id, tier).map_err(RdsError::from_cluster)?;
                } else {
                    gm.db
                        .add_secondary_instance(&r, id)
                        .map_err(RdsError::from_cluster)?;
                }
            }
        }
        if let Some(m) = st.clusters.get_mut(&key) {
            m.classes.insert(id.to_string(), (class.to_string(), now));
        }
        drop(st);
        self.describe_instance(region, id)
    }

    fn instance_cluster(&self, region: &str, id: &str) -> Option<String> {
        self.describe_clusters(region)
            .into_iter()
            .find(|c| c.members.iter().any(|(m, _, _)| m == id))
            .map(|c| c.id)
    }

    /// DescribeDBInstances for every instance of a region.
    pub fn describe_instances(&self, region: &str) -> Vec<InstanceView> {
        let clusters = self.describe_clusters(region);
        let st = self.state.lock();
        let mut out = Vec::new();
        for c in clusters {
            let meta = st.clusters.get(&(region.to_string(), c.id.clone()));
            for (name, writer, tier) in &c.members {
                let (class, created) = meta
                    .and_then(|m| m.classes.get(name).cloned())
                    .unwrap_or_else(|| ("db.r6g.large".into(), c.created));
                let dns = meta.map_or("", |m| m.dns_id.as_str());
                let listener = meta.and_then(|m| m.instance_listeners.get(name));
                out.push(InstanceView {
                    id: name.clone(),
                    arn: format!(
                        "arn:aws:rds:{region}:{}:db:{name}",
                        self.env.account.as_str()
                    ),
                    cluster: c.id.clone(),
                    class,
                    engine: "aurora-postgresql".into(),
                    status: "available".into(),
                    writer: *writer,
                    tier: *tier,
                    address: listener.map_or_else(
                        || format!("{name}.{dns}.{region}.rds.amazonaws.com"),
                        |(h, _)| h.clone(),
                    ),
                    port: listener.map_or(5432, |(_, p)| *p),
                    created,
                });
            }
        }
        out
    }

    /// DescribeDBInstances for one instance.
    pub fn describe_instance(&self, region: &str, id: &str) -> Result<InstanceView, RdsError> {
        self.describe_instances(region)
            .into_iter()
            .find(|i| i.id == id)
            .ok_or_else(|| RdsError::InstanceNotFound(id.to_string()))
    }

    /// DeleteDBInstance.
    pub fn delete_instance(&self, region: &str, id: &str) -> Result<InstanceView, RdsError> {
        let view = self.describe_instance(region, id)?;
        let c = self.cluster(region, &view.cluster)?;
        c.remove_instance(id).map_err(RdsError::from_cluster)?;
        let mut view = view;
        view.status = "deleting".into();
        Ok(view)
    }

    /// ModifyDBCluster (ServerlessV2ScalingConfiguration, DeletionProtection).
    pub fn modify_cluster(
        &self,
        region: &str,
        id: &str,
        serverless: Option<ServerlessConfig>,
        deletion_protection: Option<bool>,
        master_password: Option<String>,
    ) -> Result<ClusterView, RdsError> {
        if let Some(s) = serverless {
            s.validate().map_err(RdsError::from_cluster)?;
            let c = self.cluster(region, id)?;
            c.set_serverless(s).map_err(RdsError::from_cluster)?;
        }
        let mut st = self.state.lock();
        let meta = st
            .clusters
            .get_mut(&(region.to_string(), id.to_string()))
            .ok_or_else(|| RdsError::ClusterNotFound(id.to_string()))?;
        if serverless.is_some() {
            meta.serverless = serverless;
        }
        if let Some(d) = deletion_protection {
            meta.deletion_protection = d;
        }
        if let Some(pw) = master_password {
            check_password(&pw)?;
            meta.master_password = Some(pw);
        }
        drop(st);
        self.describe_cluster(region, id)
    }

    /// FailoverDBCluster.
    pub fn failover_cluster(
        &self,
        region: &str,
        id: &str,
        target: Option<&str>,
    ) -> Result<ClusterView, RdsError> {
        let c = self.cluster(region, id)?;
        if let Some(t) = target
            && !c.readers().iter().any(|r| r == t)
        {
            return Err(RdsError::InvalidParameterValue(format!(
                "Invalid TargetDBInstanceIdentifier: {t} is not a reader of DB cluster {id}"
            )));
        }
        c.failover(target)
            .map_err(|e| RdsError::InvalidClusterState(e.to_string()))?;
        self.describe_cluster(region, id)
    }

    /// DeleteDBCluster.
    pub fn delete_cluster(&self, region: &str, id: &str) -> Result<ClusterView, RdsError> {
        let mut view = self.describe_cluster(region, id)?;
        if view.deletion_protection {
            return Err(RdsError::InvalidParameterCombination("Cannot delete protected Cluster, please disable deletion protection and try again.".into()));
        }
        if view.global.is_some() {
            return Err(RdsError::InvalidClusterState("This cluster is a part of a global cluster, please remove it from globalcluster first".into()));
        }
        if !view.members.is_empty() {
            return Err(RdsError::InvalidClusterState(
                "Cluster cannot be deleted, it still contains DB instances in non-deleting state."
                    .into(),
            ));
        }
        self.state
            .lock()
            .clusters
            .remove(&(region.to_string(), id.to_string()));
        view.status = "deleting".into();
        Ok(view)
    }

    /// ModifyCurrentDBClusterCapacity: returns (previous, new) capacity.
    pub fn modify_current_capacity(
        &self,
        region: &str,
        id: &str,
        capacity: Option<f64>,
    ) -> Result<(f64, f64), RdsError> {
        let c = self.cluster(region, id)?;
        let status = c.serverless_status().ok_or_else(|| {
            RdsError::InvalidClusterState(format!("DB cluster {id} is not a serverless DB cluster"))
        })?;
        match capacity {
            None => Ok((status.capacity, status.capacity)),
            Some(cap) => {
                let prev = c
                    .modify_current_capacity(cap)
                    .map_err(RdsError::from_cluster)?;
                Ok((prev, cap))
            }
        }
    }

    /// What a PostgreSQL client needs to log in: (master user, password, DatabaseName,
    /// engine version).
    pub fn login(
        &self,
        region: &str,
        id: &str,
    ) -> Result<(String, Option<String>, Option<String>, String), RdsError> {
        let st = self.state.lock();
        let m = st
            .clusters
            .get(&(region.to_string(), id.to_string()))
            .ok_or_else(|| RdsError::ClusterNotFound(id.to_string()))?;
        Ok((
            m.master_username.clone(),
            m.master_password.clone(),
            m.database_name.clone(),
            m.engine_version.clone(),
        ))
    }

    /// Opens a session on a cluster through an endpoint (a Global Database's secondary
    /// region answers with one of its read-only instances).
    pub fn connect(
        &self,
        region: &str,
        id: &str,
        endpoint: Endpoint,
    ) -> ClusterResult<ClusterSession> {
        let missing = || ClusterError::NotFound {
            what: "DB cluster",
            name: id.to_string(),
        };
        let st = self.state.lock();
        let meta = st
            .clusters
            .get(&(region.to_string(), id.to_string()))
            .ok_or_else(missing)?;
        let cluster = match &meta.backing {
            Backing::Own(c) => c.clone(),
            Backing::Global(g) => {
                let db = st.globals.get(g).ok_or_else(missing)?.db.clone();
                drop(st);
                let (r, c) = db.primary();
                if r.as_str() != region {
                    let r = Region::new(region).map_err(|_| missing())?;
                    return db.connect_secondary(&r);
                }
                c
            }
        };
        cluster.connect(endpoint)
    }

    /// Records (or clears) where a cluster's PostgreSQL endpoints listen:
    /// (writer host, reader host, port).
    pub fn set_listener(&self, region: &str, id: &str, at: Option<(String, String, u16)>) {
        if let Some(m) = self
            .state
            .lock()
            .clusters
            .get_mut(&(region.to_string(), id.to_string()))
        {
            m.listener = at;
        }
    }

    /// Records (or clears) where one instance's PostgreSQL endpoint listens.
    pub fn set_instance_listener(
        &self,
        region: &str,
        cluster: &str,
        instance: &str,
        at: Option<(String, u16)>,
    ) {
        if let Some(m) = self
            .state
            .lock()
            .clusters
            .get_mut(&(region.to_string(), cluster.to_string()))
        {
            match at {
                Some(a) => m.instance_listeners.insert(instance.to_string(), a),
                None => m.instance_listeners.remove(instance),
            };
        }
    }

    /// Empties the control plane.
    pub fn reset(&self) {
        *self.state.lock() = State::default();
    }

    /// Instances in the `available` state across regions (for health).
    pub fn cluster_count(&self) -> usize {
        self.state.lock().clusters.len()
    }
}

/// RDS's rule for MasterUserPassword (Aurora PostgreSQL): 8–128 printable ASCII characters,
/// none of `/`, `"`, `@` or a space.
fn check_password(pw: &str) -> Result<(), RdsError> {
    if pw.len() < 8 {
        return Err(RdsError::InvalidParameterValue(
            "The parameter MasterUserPassword is not a valid password because it is shorter than 8 characters.".into(),
        ));
    }
    if pw.len() > 128 {
        return Err(RdsError::InvalidParameterValue(
            "The parameter MasterUserPassword is not a valid password because it is longer than 128 characters.".into(),
        ));
    }
    if pw
        .chars()
        .any(|c| !c.is_ascii_graphic() || matches!(c, '/' | '"' | '@'))
    {
        return Err(RdsError::InvalidParameterValue(
            "The parameter MasterUserPassword is not a valid password. Only printable ASCII characters besides '/', '@', '\"', ' ' may be used.".into(),
        ));
    }
    Ok(())
}

fn members_of(c: &Cluster) -> Vec<(String, bool, u32)> {
    c.instances()
        .into_iter()
        .filter(|(_, _, s, _)| *s != InstanceState::Failed)
        .map(|(n, role, _, tier)| (n, role == Role::Writer, tier))
        .collect()
}
