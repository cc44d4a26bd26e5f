//! Glue between the Cloud and nubis-s3select.
use std::sync::Arc;

/// The engine type the Cloud holds.
pub type Engine = nubis_s3select::S3;

/// Builds the engine and its wire service from the Cloud's environment.
pub(crate) fn build(env: &nubis_core::Env) -> (Arc<Engine>, Arc<dyn nubis_wire::Service>) {
    let engine = Arc::new(nubis_s3select::S3::new(env.clone()));
    let service: Arc<dyn nubis_wire::Service> =
        Arc::new(nubis_s3select::http::S3Service::new(Arc::clone(&engine)));
    (engine, service)
}
