//! Glue between the Cloud and nubis-lambda.
use std::sync::Arc;
/// The engine type the Cloud holds.
pub type Engine = nubis_lambda::Lambda;
/// Builds the engine and its wire service from the Cloud's environment.
pub(crate) fn build(env: &nubis_core::Env) -> (Arc<Engine>, Arc<dyn nubis_wire::Service>) {
    let engine = nubis_lambda::Lambda::new(env.clone());
    let service = Arc::new(nubis_lambda::http::LambdaService::new(engine.clone()));
    (Arc::new(engine), service)
}
