//! Glue between the Cloud and nubis-dynamo.
use std::sync::Arc;
/// The engine type the Cloud holds.
pub type Engine = nubis_dynamo::Dynamo;
/// Builds the engine and its wire service from the Cloud's environment.
pub(crate) fn build(env: &nubis_core::Env) -> (Arc<Engine>, Arc<dyn nubis_wire::Service>) {
    let engine = Arc::new(nubis_dynamo::Dynamo::new(env.clone()));
    let service = Arc::new(nubis_dynamo::http::DynamoService::new(Arc::clone(&engine)));
    (engine, service)
}

impl crate::RegionHandle<'_> {
    /// DynamoDB in this region.
    pub fn dynamo(&self) -> Arc<nubis_dynamo::RegionDb> {
        self.cloud.dynamo().region(&self.region)
    }
}
