//! Glue between the Cloud and nubis-aurora.
use std::sync::Arc;
/// The engine type the Cloud holds.
pub type Engine = nubis_aurora::Aurora;
/// Builds the engine and its wire service from the Cloud's environment.
pub(crate) fn build(env: &nubis_core::Env) -> (Arc<Engine>, Arc<dyn nubis_wire::Service>) {
    let engine = Arc::new(nubis_aurora::Aurora::new(env.clone()));
    let service = Arc::new(nubis_aurora::http::DataApiService::new(engine.clone()));
    (engine, service)
}
