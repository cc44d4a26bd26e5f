//! The Gremlin CSV loader reports bad input per line and never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nubis_neptune::loader::{LoadRequest, load_csv};
use nubis_neptune::store::Graph;

fuzz_target!(|data: &[u8]| {
    let req = LoadRequest { source: "s3://b/k".into(), format: "csv".into(), fail_on_error: false, update_single_cardinality_properties: false, parallelism: nubis_neptune::loader::Parallelism::High };
    let mut g = Graph::new();
    let _ = load_csv(&mut g, data, "fuzz.csv", &req);
});
