//! Layers through the Rust API: publishing, reading, listing and deleting versions, the checks
//! CreateFunction and UpdateFunctionConfiguration make on `Layers`, and a process function
//! seeing its layers' merged contents.

use nubis_core::{Env, ManualClock, Region, ServiceError};
use nubis_lambda::package::build_zip;
use nubis_lambda::*;
use serde_json::json;

fn engine() -> (Lambda, LambdaRegion) {
    let clock = ManualClock::at_default_epoch();
    let lambda = Lambda::new(Env::with_clock(clock.shared()));
    let region = lambda.region(&Region::US_EAST_1);
    (lambda, region)
}

fn layer_zip(files: &[(&str, &str)]) -> Vec<u8> {
    let entries: Vec<(&str, &[u8], u32)> = files
        .iter()
        .map(|(n, c)| (*n, c.as_bytes(), 0o644))
        .collect();
    build_zip(&entries).unwrap()
}

fn publish(r: &LambdaRegion, name: &str, files: &[(&str, &str)]) -> LayerVersion {
    let mut req = PublishLayerVersion::zip(layer_zip(files));
    req.compatible_runtimes = Some(vec!["python3.12".into(), "provided.al2023".into()]);
    req.compatible_architectures = Some(vec!["x86_64".into()]);
    req.license_info = Some("MIT".into());
    req.description = Some(format!("{name} layer"));
    r.publish_layer_version(name, req).unwrap()
}

#[test]
fn versions_are_published_read_listed_and_deleted() {
    let (_l, r) = engine();
    let v1 = publish(&r, "tools", &[("data.txt", "one")]);
    assert_eq!(v1.version, 1);
    assert_eq!(
        v1.layer_arn,
        "arn:aws:lambda:us-east-1:000000000000:layer:tools"
    );
    assert_eq!(v1.layer_version_arn, format!("{}:1", v1.layer_arn));
    assert_eq!(v1.license_info.as_deref(), Some("MIT"));
    assert!(v1.content.code_size > 0);
    let v2 = publish(&r, "tools", &[("data.txt", "two")]);
    assert_eq!(v2.version, 2);
    assert_ne!(v1.content.code_sha256, v2.content.code_sha256);

    assert_eq!(r.get_layer_version("tools", 1).unwrap(), v1);
    assert_eq!(r.get_layer_version(&v1.layer_arn, 2).unwrap(), v2);
    assert_eq!(
        r.get_layer_version_by_arn(&v2.layer_version_arn).unwrap(),
        v2
    );

    let versions = r
        .list_layer_versions("tools", LayerFilter::default(), None, None)
        .unwrap();
    let numbers: Vec<u64> = versions.items.iter().map(|v| v.version).collect();
    assert_eq!(numbers, [2, 1], "newest first");
    // Paging one at a time.
    let first = r
        .list_layer_versions("tools", LayerFilter::default(), None, Some(1))
        .unwrap();
    assert_eq!(first.items[0].version, 2);
    let next = r
        .list_layer_versions(
            "tools",
            LayerFilter::default(),
            first.next_marker.as_deref(),
            Some(1),
        )
        .unwrap();
    assert_eq!(next.items[0].version, 1);
    assert_eq!(next.next_marker, None);

    publish(&r, "other", &[("x", "y")]);
    let layers = r.list_layers(LayerFilter::default(), None, None).unwrap();
    let names: Vec<&str> = layers.items.iter().map(|l| l.layer_name.as_str()).collect();
    assert_eq!(names, ["other", "tools"]);
    assert_eq!(layers.items[1].latest_matching_version.version, 2);
    let arm = LayerFilter {
        compatible_architecture: Some("arm64"),
        ..Default::default()
    };
    assert!(r.list_layers(arm, None, None).unwrap().items.is_empty());
    let node = LayerFilter {
        compatible_runtime: Some("nodejs20.x"),
        ..Default::default()
    };
    assert!(r.list_layers(node, None, None).unwrap().items.is_empty());

    r.delete_layer_version("tools", 2).unwrap();
    let e = r.get_layer_version("tools", 2).unwrap_err();
    assert_eq!(e.code(), "ResourceNotFoundException");
    assert_eq!(e.message(), "The resource you requested does not exist.");
    // Deleting again succeeds; numbers are never reused.
    r.delete_layer_version("tools", 2).unwrap();
    assert_eq!(publish(&r, "tools", &[("data.txt", "three")]).version, 3);
}

#[test]
fn bad_layer_requests_get_aws_errors() {
    let (_l, r) = engine();
    let zip = || PublishLayerVersion::zip(layer_zip(&[("a", "b")]));
    let e = r.publish_layer_version("bad name", zip()).unwrap_err();
    assert_eq!(e.code(), "ValidationException");
    assert!(e.message().contains("layerName"), "{}", e.message());
    let mut req = zip();
    req.compatible_runtimes = Some(vec!["cobol".into()]);
    assert_eq!(
        r.publish_layer_version("x", req).unwrap_err().code(),
        "ValidationException"
    );
    let mut req = zip();
    req.compatible_runtimes = Some(vec!["python3.12".into(); 16]);
    assert_eq!(
        r.publish_layer_version("x", req).unwrap_err().code(),
        "ValidationException"
    );
    let mut req = zip();
    req.compatible_architectures = Some(vec!["sparc".into()]);
    assert_eq!(
        r.publish_layer_version("x", req).unwrap_err().code(),
        "ValidationException"
    );
    let e = r
        .publish_layer_version("x", PublishLayerVersion::default())
        .unwrap_err();
    assert_eq!(e.code(), "InvalidParameterValueException");
    let mut req = zip();
    req.content.zip_file = Some(b"not a zip".to_vec());
    assert_eq!(
        r.publish_layer_version("x", req).unwrap_err().code(),
        "InvalidParameterValueException"
    );
    // Another region's ARN is not found here.
    let e = r
        .get_layer_version_by_arn("arn:aws:lambda:eu-west-1:000000000000:layer:x:1")
        .unwrap_err();
    assert_eq!(e.code(), "ResourceNotFoundException");
    let e = r
        .get_layer_version_by_arn("arn:aws:lambda:nope")
        .unwrap_err();
    assert_eq!(e.code(), "ValidationException");
}

#[test]
fn functions_reference_existing_layers_only() {
    let (_l, r) = engine();
    let v1 = publish(&r, "tools", &[("data.txt", "one")]);
    let v2 = publish(&r, "tools", &[("data.txt", "two")]);
    let other = publish(&r, "other", &[("x", "y")]);
    let create = |layers: Vec<String>| {
        let mut req = CreateFunction::in_process("f", "echo");
        req.layers = Some(layers);
        r.create_function(req)
    };
    let missing = format!("{}:9", v1.layer_arn);
    let e = create(vec![missing.clone()]).unwrap_err();
    assert_eq!(e.code(), "InvalidParameterValueException");
    assert_eq!(
        e.message(),
        format!("Layer version {missing} does not exist.")
    );
    let e = create(vec![
        v1.layer_version_arn.clone(),
        v2.layer_version_arn.clone(),
    ])
    .unwrap_err();
    assert_eq!(e.code(), "InvalidParameterValueException");
    assert!(
        e.message()
            .starts_with("Two different versions of the same layer")
    );
    let e = create(vec![
        "arn:aws:lambda:eu-west-1:000000000000:layer:tools:1".into(),
    ])
    .unwrap_err();
    assert_eq!(e.code(), "InvalidParameterValueException");
    let e = create(vec![v1.layer_version_arn.clone(); 6]).unwrap_err();
    assert_eq!(e.code(), "ValidationException");

    let cfg = create(vec![
        other.layer_version_arn.clone(),
        v2.layer_version_arn.clone(),
    ])
    .unwrap();
    assert_eq!(cfg.layers.len(), 2);
    assert_eq!(cfg.layers[0].arn, other.layer_version_arn);
    assert_eq!(cfg.layers[1].code_size, v2.content.code_size);
    let got = r.get_function("f", None).unwrap();
    assert_eq!(got.configuration.layers, cfg.layers);

    let updated = r
        .update_function_configuration(
            "f",
            UpdateFunctionConfiguration {
                layers: Some(vec![v1.layer_version_arn.clone()]),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(updated.layers.len(), 1);
    assert_eq!(updated.layers[0].arn, v1.layer_version_arn);
    let e = r
        .update_function_configuration(
            "f",
            UpdateFunctionConfiguration {
                layers: Some(vec![missing]),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "InvalidParameterValueException");
}

fn bootstrap() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/test_data/bootstrap.py"
    ))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn process_functions_see_their_layers_merged_in_order() {
    let (_l, r) = engine();
    let first = publish(
        &r,
        "base",
        &[
            ("data.txt", "from base"),
            ("python/layermod.py", "VALUE = 'base'\n"),
        ],
    );
    let second = publish(&r, "override", &[("data.txt", "from override")]);
    let zip = build_zip(&[("bootstrap", &bootstrap(), 0o755)]).unwrap();
    let mut req = CreateFunction::zip("layered", "provided.al2023", "bootstrap", zip);
    req.timeout = Some(30);
    req.layers = Some(vec![
        first.layer_version_arn.clone(),
        second.layer_version_arn.clone(),
    ]);
    r.create_function(req).unwrap();
    // Deleting a version the function uses does not take its content away.
    r.delete_layer_version("base", 1).unwrap();
    let out = r
        .invoke(InvokeRequest::json("layered", &json!({"action": "layers"})))
        .await
        .unwrap();
    assert_eq!(out.function_error, None, "{:?}", out.json());
    let v = out.json().unwrap();
    let opt = v["opt"].as_str().unwrap();
    assert!(!opt.is_empty());
    assert_eq!(v["data"], "from override", "the later layer wins");
    assert_eq!(v["mod"], "base", "a layer's python/ is importable");
    // On PATH ahead of the host's directories (an interpreter shim, such as pyenv's, may put
    // its own in front when it starts the bootstrap).
    let path = v["path"].as_str().unwrap();
    let layer_bin = path
        .find(&format!("{opt}/bin:"))
        .expect("layer bin on PATH");
    assert!(
        layer_bin < path.find("/usr/bin").unwrap_or(usize::MAX),
        "{v}"
    );
    assert_eq!(v["ld"], format!("{opt}/lib"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_layer_can_provide_the_bootstrap() {
    let (_l, r) = engine();
    let rt = PublishLayerVersion::zip(build_zip(&[("bootstrap", &bootstrap(), 0o755)]).unwrap());
    let runtime = r.publish_layer_version("runtime", rt).unwrap();
    let zip = build_zip(&[("handler.txt", b"code", 0o644)]).unwrap();
    let mut req = CreateFunction::zip("custom", "provided.al2023", "handler", zip);
    req.timeout = Some(30);
    req.layers = Some(vec![runtime.layer_version_arn]);
    r.create_function(req).unwrap();
    let out = r
        .invoke(InvokeRequest::json("custom", &json!({"k": 1})))
        .await
        .unwrap();
    assert_eq!(out.function_error, None, "{:?}", out.json());
    assert_eq!(out.json().unwrap()["event"], json!({"k": 1}));
}

proptest::proptest! {
    /// Any string as a layer name or version ARN gets an answer, never a panic; a layer published
    /// under a valid name is found again by its version ARN (names up to 90 characters: AWS
    /// limits the ARN parameters to 140, which a longer name's ARN passes).
    #[test]
    fn layer_references_are_total(s in "\\PC{0,80}", name in "[a-zA-Z0-9_-]{1,90}") {
        let (_l, r) = engine();
        let _ = r.get_layer_version_by_arn(&s);
        let _ = r.get_layer_version(&s, 1);
        let _ = r.delete_layer_version(&s, -1);
        let _ = r.list_layer_versions(&s, LayerFilter::default(), Some(&s), Some(1));
        let v = r
            .publish_layer_version(&name, PublishLayerVersion::zip(layer_zip(&[("a", "b")])))
            .unwrap();
        proptest::prop_assert_eq!(r.get_layer_version_by_arn(&v.layer_version_arn).unwrap(), v.clone());
        proptest::prop_assert_eq!(r.get_layer_version(&v.layer_arn, 1).unwrap(), v);
    }
}
