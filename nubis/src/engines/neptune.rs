//! Glue between the Cloud and nubis-neptune.
use std::sync::Arc;
/// The engine type the Cloud holds.
pub type Engine = nubis_neptune::Neptune;
/// Builds the engine and its wire service from the Cloud's environment.
pub(crate) fn build(env: &nubis_core::Env) -> (Arc<Engine>, Arc<dyn nubis_wire::Service>) {
    let engine = Arc::new(nubis_neptune::Neptune::new(env.clone()));
    let service = Arc::new(nubis_neptune::http::NeptuneService::new(Arc::clone(
        &engine,
    )));
    (engine, service)
}

impl crate::RegionHandle<'_> {
    /// The Neptune graph database of this region.
    pub fn neptune(&self) -> Arc<nubis_neptune::Database> {
        self.cloud.neptune().region(&self.region)
    }
}
