//! Glue between the Cloud and nubis-aurora's RDS control plane (clusters on the replicated
//! volume, Global Database, Serverless v2).
use std::sync::Arc;
/// The engine type the Cloud holds.
pub type Engine = nubis_aurora::rds::Rds;
/// Builds the control plane and its awsQuery service (signing name `rds`) from the Cloud's
/// environment. Waits (commit at the VDL, failover, resume) sleep on the system clock; on a
/// manual clock they return at once and complete as the test advances the clock.
pub(crate) fn build(
    env: &nubis_core::Env,
    aurora: &Arc<nubis_aurora::Aurora>,
) -> (Arc<Engine>, Arc<dyn nubis_wire::Service>) {
    let _ = aurora;
    let driver = nubis_aurora::cluster::Driver::for_clock(&*env.clock);
    let engine = Arc::new(nubis_aurora::rds::Rds::new(env.clone(), driver));
    let service = Arc::new(nubis_aurora::rds::RdsService::new(engine.clone()));
    (engine, service)
}
