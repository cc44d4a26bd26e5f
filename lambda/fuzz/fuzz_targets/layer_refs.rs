#![no_main]
//! Layer names and version ARNs: every operation that takes one answers (a result or a typed
//! error) and never panics.
use libfuzzer_sys::fuzz_target;
use nubis_lambda::*;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let lambda = Lambda::new(nubis_core::Env::default());
    let r = lambda.region(&nubis_core::Region::US_EAST_1);
    let _ = r.get_layer_version_by_arn(s);
    let _ = r.get_layer_version(s, 1);
    let _ = r.delete_layer_version(s, -1);
    let filter = LayerFilter { compatible_runtime: Some(s), compatible_architecture: Some(s) };
    let _ = r.list_layer_versions(s, filter, Some(s), Some(1));
});
