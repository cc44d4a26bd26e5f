//! The awsQuery binding: `Action=<Op>&Version=2014-10-31` forms in, XML out.

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use nubis_wire::{
    Protocol, Request, RequestContext, Response, Service, ServiceDescriptor, parse_form,
    service_error, xml_response,
};

use crate::cluster::serverless::ServerlessConfig;

use super::error::RdsError;
use super::listing;
use super::model::{CreateCluster, Rds};
use super::pg::{PgConfig, PgEndpoints};
use super::xml;

/// The RDS control plane served on the shared endpoint (signing name `rds`), with a
/// PostgreSQL listener per cluster, reader endpoint and instance.
#[derive(Debug, Clone)]
pub struct RdsService {
    rds: Arc<Rds>,
    pg: Arc<PgEndpoints>,
}

impl RdsService {
    /// A service over a control plane; PostgreSQL endpoints on ephemeral loopback ports.
    pub fn new(rds: Arc<Rds>) -> RdsService {
        RdsService::with_pg_config(rds, PgConfig::default())
    }

    /// The same, with PostgreSQL endpoints where `config` says.
    pub fn with_pg_config(rds: Arc<Rds>, config: PgConfig) -> RdsService {
        let env = rds.env().clone();
        RdsService {
            pg: Arc::new(PgEndpoints::new(rds.clone(), env, config)),
            rds,
        }
    }

    /// The running PostgreSQL endpoints.
    pub fn pg_endpoints(&self) -> &Arc<PgEndpoints> {
        &self.pg
    }

    fn listening<T>(&self, started: std::io::Result<()>, value: T) -> Result<T, RdsError> {
        started.map_err(|e| {
            RdsError::InvalidParameterValue(format!("could not start the PostgreSQL endpoint: {e}"))
        })?;
        Ok(value)
    }

    /// Answers one form (the `Action` and its parameters) for `region`.
    pub fn handle(
        &self,
        region: &str,
        params: &HashMap<String, String>,
        request_id: &str,
    ) -> Result<String, RdsError> {
        let action = params
            .get("Action")
            .ok_or(RdsError::MissingParameter("Action"))?;
        let req = |name: &'static str| {
            params
                .get(name)
                .cloned()
                .filter(|v| !v.is_empty())
                .ok_or(RdsError::MissingParameter(name))
        };
        let opt = |name: &str| params.get(name).cloned().filter(|v| !v.is_empty());
        let boolean = |name: &str| -> Result<Option<bool>, RdsError> {
            match opt(name).as_deref() {
                None => Ok(None),
                Some("true") => Ok(Some(true)),
                Some("false") => Ok(Some(false)),
                Some(other) => Err(RdsError::InvalidParameterValue(format!(
                    "Invalid boolean value for {name}: {other}"
                ))),
            }
        };
        let number = |name: &str| -> Result<Option<f64>, RdsError> {
            opt(name)
                .map(|v| {
                    v.parse::<f64>().map_err(|_| {
                        RdsError::InvalidParameterValue(format!("Invalid value for {name}: {v}"))
                    })
                })
                .transpose()
        };
        let serverless = || -> Result<Option<ServerlessConfig>, RdsError> {
            let min = number("ServerlessV2ScalingConfiguration.MinCapacity")?;
            let max = number("ServerlessV2ScalingConfiguration.MaxCapacity")?;
            let pause = number("ServerlessV2ScalingConfiguration.SecondsUntilAutoPause")?;
            match (min, max) {
                (None, None) => Ok(None),
                (Some(min), Some(max)) => Ok(Some(ServerlessConfig {
                    min_acu: min,
                    max_acu: max,
                    seconds_until_auto_pause: pause.map_or(300, |p| p as u64),
                })),
                _ => Err(RdsError::InvalidParameterCombination(
                    "ServerlessV2ScalingConfiguration needs both MinCapacity and MaxCapacity"
                        .into(),
                )),
            }
        };
        let body = match action.as_str() {
            "CreateDBCluster" => {
                let p = CreateCluster {
                    id: req("DBClusterIdentifier")?,
                    engine: req("Engine")?,
                    engine_version: opt("EngineVersion"),
                    master_username: opt("MasterUsername"),
                    master_password: opt("MasterUserPassword"),
                    database_name: opt("DatabaseName"),
                    serverless: serverless()?,
                    global: opt("GlobalClusterIdentifier"),
                    deletion_protection: boolean("DeletionProtection")?.unwrap_or(false),
                };
                let id = p.id.clone();
                self.rds.create_cluster(region, p)?;
                let started = self.pg.start_cluster(region, &id);
                xml::cluster(&self.listening(started, self.rds.describe_cluster(region, &id)?)?)
            }
            "DescribeDBClusters" => {
                let filters = listing::filters(params)?;
                let (max, marker) = listing::page(params)?;
                let list = match opt("DBClusterIdentifier") {
                    Some(id) => vec![self.rds.describe_cluster(region, &id)?],
                    None => self.rds.describe_clusters(region),
                };
                let mut kept = Vec::with_capacity(list.len());
                for c in list {
                    if listing::cluster_matches(&c, &filters)? {
                        kept.push(c);
                    }
                }
                let (page, next) = listing::paginate(kept, |c| &c.id, max, marker.as_deref());
                format!(
                    "<DBClusters>{}</DBClusters>{}",
                    page.iter().map(xml::cluster).collect::<String>(),
                    marker_xml(next)
                )
            }
            "ModifyDBCluster" => {
                let id = req("DBClusterIdentifier")?;
                xml::cluster(&self.rds.modify_cluster(
                    region,
                    &id,
                    serverless()?,
                    boolean("DeletionProtection")?,
                    opt("MasterUserPassword"),
                )?)
            }
            "FailoverDBCluster" => {
                let id = req("DBClusterIdentifier")?;
                xml::cluster(&self.rds.failover_cluster(
                    region,
                    &id,
                    opt("TargetDBInstanceIdentifier").as_deref(),
                )?)
            }
            "DeleteDBCluster" => {
                let id = req("DBClusterIdentifier")?;
                let view = self.rds.delete_cluster(region, &id)?;
                self.pg.stop_cluster(region, &id);
                xml::cluster(&view)
            }
            "CreateDBInstance" => {
                let engine = req("Engine")?;
                if engine != "aurora-postgresql" {
                    return Err(RdsError::InvalidParameterValue(format!(
                        "Invalid DB engine: {engine}"
                    )));
                }
                let cluster = opt("DBClusterIdentifier").ok_or_else(|| {
                    RdsError::InvalidParameterValue(
                        "An Aurora DB instance needs a DBClusterIdentifier".into(),
                    )
                })?;
                let tier = number("PromotionTier")?.map(|t| t as u32);
                let id = req("DBInstanceIdentifier")?;
                self.rds
                    .create_instance(region, &id, &cluster, &req("DBInstanceClass")?, tier)?;
                let started = self.pg.start_instance(region, &cluster, &id);
                xml::instance(&self.listening(started, self.rds.describe_instance(region, &id)?)?)
            }
            "DescribeDBInstances" => {
                let filters = listing::filters(params)?;
                let (max, marker) = listing::page(params)?;
                let list = match opt("DBInstanceIdentifier") {
                    Some(id) => vec![self.rds.describe_instance(region, &id)?],
                    None => self.rds.describe_instances(region),
                };
                let account = self.rds.env().account.as_str().to_string();
                let mut kept = Vec::with_capacity(list.len());
                for i in list {
                    let cluster_arn =
                        format!("arn:aws:rds:{region}:{account}:cluster:{}", i.cluster);
                    if listing::instance_matches(&i, &cluster_arn, &filters)? {
                        kept.push(i);
                    }
                }
                let (page, next) = listing::paginate(kept, |i| &i.id, max, marker.as_deref());
                format!(
                    "<DBInstances>{}</DBInstances>{}",
                    page.iter().map(xml::instance).collect::<String>(),
                    marker_xml(next)
                )
            }
            "DeleteDBInstance" => {
                let view = self
                    .rds
                    .delete_instance(region, &req("DBInstanceIdentifier")?)?;
                self.pg.stop_instance(region, &view.cluster, &view.id);
                xml::instance(&view)
            }
            "ModifyCurrentDBClusterCapacity" => {
                let id = req("DBClusterIdentifier")?;
                let (prev, now) =
                    self.rds
                        .modify_current_capacity(region, &id, number("Capacity")?)?;
                let timeout = opt("SecondsBeforeTimeout").unwrap_or_else(|| "300".into());
                let action_on_timeout =
                    opt("TimeoutAction").unwrap_or_else(|| "RollbackCapacityChange".into());
                format!(
                    "<DBClusterIdentifier>{}</DBClusterIdentifier><PendingCapacity>{}</PendingCapacity><CurrentCapacity>{}</CurrentCapacity><SecondsBeforeTimeout>{}</SecondsBeforeTimeout><TimeoutAction>{}</TimeoutAction>",
                    nubis_wire::xml_escape(&id),
                    now.ceil() as i64,
                    prev.ceil() as i64,
                    nubis_wire::xml_escape(&timeout),
                    nubis_wire::xml_escape(&action_on_timeout)
                )
            }
            "CreateGlobalCluster" => {
                let id = req("GlobalClusterIdentifier")?;
                xml::global(&self.rds.create_global(
                    &id,
                    opt("SourceDBClusterIdentifier").as_deref(),
                    boolean("DeletionProtection")?.unwrap_or(false),
                )?)
            }
            "DescribeGlobalClusters" => {
                let list = match opt("GlobalClusterIdentifier") {
                    Some(id) => vec![self.rds.describe_global(&id)?],
                    None => self.rds.describe_globals(),
                };
                // RDS names each entry of `GlobalClusterList` `<GlobalClusterMember>`.
                let entries: String = list
                    .iter()
                    .map(|g| {
                        let one = xml::global(g);
                        let inner = one
                            .strip_prefix("<GlobalCluster>")
                            .and_then(|r| r.strip_suffix("</GlobalCluster>"))
                            .unwrap_or(&one);
                        format!("<GlobalClusterMember>{inner}</GlobalClusterMember>")
                    })
                    .collect();
                format!("<GlobalClusters>{entries}</GlobalClusters>")
            }
            "FailoverGlobalCluster" => {
                let id = req("GlobalClusterIdentifier")?;
                let target = req("TargetDbClusterIdentifier")?;
                let lossy = boolean("AllowDataLoss")?.unwrap_or(false);
                xml::global(&self.rds.failover_global(&id, &target, lossy)?)
            }
            "SwitchoverGlobalCluster" => {
                let id = req("GlobalClusterIdentifier")?;
                xml::global(
                    &self
                        .rds
                        .switchover_global(&id, &req("TargetDbClusterIdentifier")?)?,
                )
            }
            "RemoveFromGlobalCluster" => {
                let id = req("GlobalClusterIdentifier")?;
                xml::global(
                    &self
                        .rds
                        .remove_from_global(&id, &req("DbClusterIdentifier")?)?,
                )
            }
            other => return Err(RdsError::InvalidAction(other.to_string())),
        };
        Ok(xml::envelope(action, &body, request_id))
    }
}

fn marker_xml(next: Option<String>) -> String {
    next.map_or_else(String::new, |m| {
        format!("<Marker>{}</Marker>", nubis_wire::xml_escape(&m))
    })
}

impl Service for RdsService {
    fn descriptor(&self) -> ServiceDescriptor {
        ServiceDescriptor {
            name: "rds",
            protocol: Protocol::AwsQuery,
            signing_names: &["rds"],
            target_prefixes: &[],
            unsigned_paths: &[],
            unsigned_fallback: false,
        }
    }

    fn call<'a>(&'a self, ctx: RequestContext, req: Request) -> BoxFuture<'a, Response> {
        Box::pin(async move {
            let mut params: HashMap<String, String> = HashMap::new();
            if let Some(q) = req.uri().query() {
                params.extend(parse_form(q.as_bytes()));
            }
            params.extend(parse_form(req.body()));
            match self.handle(ctx.region.as_str(), &params, &ctx.request_id) {
                Ok(body) => xml_response(&body),
                Err(e) => service_error(Protocol::AwsQuery, &e, &ctx.request_id),
            }
        })
    }

    fn health(&self) -> serde_json::Value {
        serde_json::json!({ "state": "running", "clusters": self.rds.cluster_count() })
    }

    fn reset(&self) {
        self.pg.stop_all();
        self.rds.reset();
    }

    fn listeners(&self) -> Vec<nubis_wire::Listener> {
        self.pg.list()
    }
}
