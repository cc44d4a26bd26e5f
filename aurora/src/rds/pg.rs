//! The PostgreSQL endpoints of RDS clusters: a loopback listener for each cluster's writer
//! (cluster endpoint), its readers (reader endpoint) and each instance, started by
//! CreateDBCluster/CreateDBInstance and stopped by the Delete operations and by reset.
//!
//! The cluster and reader endpoints share one port on two loopback addresses (127.0.0.1 and
//! 127.0.0.2), because RDS reports one `Port` for both `Endpoint` and `ReaderEndpoint`. Where
//! 127.0.0.2 cannot be bound (systems that only configure 127.0.0.1), the reader endpoint is
//! reported as the writer's address and connections there reach the writer.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::sync::Arc;

use nubis_core::Env;
use nubis_wire::Listener;
use parking_lot::Mutex;

use crate::cluster::{ClusterResult, ClusterSession, Endpoint};
use crate::pgwire::{Login, PgAuth, PgListener, Target};

use super::model::Rds;

/// Where cluster endpoints listen.
#[derive(Debug, Clone)]
pub struct PgConfig {
    /// Address of cluster (writer) and instance endpoints.
    pub writer_host: IpAddr,
    /// Address of reader endpoints (same port as the writer's).
    pub reader_host: IpAddr,
    /// First port to try; 0 picks ephemeral ports.
    pub base_port: u16,
    /// How passwords are checked (SCRAM-SHA-256 unless set).
    pub auth: PgAuth,
}

impl Default for PgConfig {
    fn default() -> Self {
        PgConfig {
            writer_host: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)),
            reader_host: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)),
            base_port: 0,
            auth: PgAuth::default(),
        }
    }
}

struct RdsTarget {
    auth: PgAuth,
    rds: Arc<Rds>,
    region: String,
    cluster: String,
    endpoint: Endpoint,
}

impl Target for RdsTarget {
    fn login(&self) -> Login {
        let (user, password, database, version) = self
            .rds
            .login(&self.region, &self.cluster)
            .unwrap_or_else(|_| (String::new(), Some(String::new()), None, String::new()));
        let mut databases = vec!["postgres".to_string()];
        databases.extend(database);
        Login {
            auth: self.auth,
            user,
            password,
            databases,
            server_version: version,
        }
    }

    fn connect(&self) -> ClusterResult<ClusterSession> {
        self.rds
            .connect(&self.region, &self.cluster, self.endpoint.clone())
    }
}

#[derive(Default)]
struct ClusterListeners {
    writer: Option<PgListener>,
    reader: Option<PgListener>,
    instances: BTreeMap<String, PgListener>,
}

/// The running listeners of every cluster.
pub struct PgEndpoints {
    rds: Arc<Rds>,
    env: Env,
    config: PgConfig,
    listeners: Mutex<BTreeMap<(String, String), ClusterListeners>>,
}

impl std::fmt::Debug for PgEndpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgEndpoints")
            .field("config", &self.config)
            .finish()
    }
}

impl PgEndpoints {
    /// Endpoints for the clusters of `rds`.
    pub fn new(rds: Arc<Rds>, env: Env, config: PgConfig) -> PgEndpoints {
        PgEndpoints {
            rds,
            env: env.for_engine("pgwire"),
            config,
            listeners: Mutex::new(BTreeMap::new()),
        }
    }

    fn target(&self, region: &str, cluster: &str, endpoint: Endpoint) -> Arc<dyn Target> {
        Arc::new(RdsTarget {
            auth: self.config.auth,
            rds: self.rds.clone(),
            region: region.to_string(),
            cluster: cluster.to_string(),
            endpoint,
        })
    }

    /// Binds the first free port at or above the base port (the control plane's, set by
    /// `nubis serve --pg-port-base`, else the configuration's); an ephemeral one without a base.
    fn bind(&self, host: IpAddr) -> std::io::Result<TcpListener> {
        let base = match self.rds.pg_base_port() {
            0 => self.config.base_port,
            set => set,
        };
        if base == 0 {
            return TcpListener::bind(SocketAddr::new(host, 0));
        }
        let mut last = None;
        for port in base..=u16::MAX {
            match TcpListener::bind(SocketAddr::new(host, port)) {
                Ok(l) => return Ok(l),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no free port")))
    }

    /// Starts a cluster's writer and reader endpoints and records them in the control plane.
    /// Without a tokio runtime (the control plane used directly, not served) nothing listens.
    pub fn start_cluster(&self, region: &str, cluster: &str) -> std::io::Result<()> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Ok(());
        }
        // The reader endpoint needs the writer's port on the reader address: try a few ports.
        let mut pair = None;
        for _ in 0..16 {
            let w = self.bind(self.config.writer_host)?;
            let port = w.local_addr()?.port();
            match TcpListener::bind(SocketAddr::new(self.config.reader_host, port)) {
                Ok(r) => {
                    pair = Some((w, Some(r)));
                    break;
                }
                Err(_) => pair = Some((w, None)),
            }
        }
        let Some((w, r)) = pair else {
            return Err(std::io::Error::other("no port for the cluster endpoint"));
        };
        let port = w.local_addr()?.port();
        let writer = PgListener::start(
            w,
            self.target(region, cluster, Endpoint::Cluster),
            self.env.clone(),
        )?;
        let (reader, reader_host) = match r {
            Some(r) => (
                Some(PgListener::start(
                    r,
                    self.target(region, cluster, Endpoint::Reader),
                    self.env.clone(),
                )?),
                self.config.reader_host,
            ),
            None => (None, self.config.writer_host),
        };
        self.rds.set_listener(
            region,
            cluster,
            Some((
                self.config.writer_host.to_string(),
                reader_host.to_string(),
                port,
            )),
        );
        let mut all = self.listeners.lock();
        let entry = all
            .entry((region.to_string(), cluster.to_string()))
            .or_default();
        entry.writer = Some(writer);
        entry.reader = reader;
        Ok(())
    }

    /// Starts one instance's endpoint.
    pub fn start_instance(
        &self,
        region: &str,
        cluster: &str,
        instance: &str,
    ) -> std::io::Result<()> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Ok(());
        }
        let l = PgListener::start(
            self.bind(self.config.writer_host)?,
            self.target(region, cluster, Endpoint::Instance(instance.to_string())),
            self.env.clone(),
        )?;
        let addr = l.addr();
        self.rds.set_instance_listener(
            region,
            cluster,
            instance,
            Some((addr.ip().to_string(), addr.port())),
        );
        self.listeners
            .lock()
            .entry((region.to_string(), cluster.to_string()))
            .or_default()
            .instances
            .insert(instance.to_string(), l);
        Ok(())
    }

    /// Stops one instance's endpoint (DeleteDBInstance).
    pub fn stop_instance(&self, region: &str, cluster: &str, instance: &str) {
        if let Some(c) = self
            .listeners
            .lock()
            .get_mut(&(region.to_string(), cluster.to_string()))
        {
            c.instances.remove(instance);
        }
        self.rds
            .set_instance_listener(region, cluster, instance, None);
    }

    /// Stops every endpoint of a cluster (DeleteDBCluster).
    pub fn stop_cluster(&self, region: &str, cluster: &str) {
        self.listeners
            .lock()
            .remove(&(region.to_string(), cluster.to_string()));
    }

    /// Stops everything (reset).
    pub fn stop_all(&self) {
        self.listeners.lock().clear();
    }

    /// The listeners, for `Service::listeners`.
    pub fn list(&self) -> Vec<Listener> {
        let all = self.listeners.lock();
        let mut out = Vec::new();
        for ((_, cluster), c) in all.iter() {
            for l in [&c.writer, &c.reader].into_iter().flatten() {
                out.push(Listener {
                    protocol: "postgresql".into(),
                    resource: cluster.clone(),
                    address: l.addr().to_string(),
                });
            }
            for (name, l) in &c.instances {
                out.push(Listener {
                    protocol: "postgresql".into(),
                    resource: name.clone(),
                    address: l.addr().to_string(),
                });
            }
        }
        out
    }
}
