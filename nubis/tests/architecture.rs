//! Rules kept by tests, not memory: engine crates never depend on each other, and the wall
//! clock is read only through `nubis_core::Clock`.

use std::path::{Path, PathBuf};

const ENGINES: &[&str] = &[
    "nubis-dynamo",
    "nubis-s3select",
    "nubis-neptune",
    "nubis-aurora",
    "nubis-lambda",
    "nubis-fargate",
    "nubis-ml",
    "nubis-iot",
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn manifest(path: &Path) -> toml::Table {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn no_engine_crate_depends_on_another_engine_crate() {
    let root = workspace_root();
    let workspace = manifest(&root.join("Cargo.toml"));
    let members = workspace["workspace"]["members"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut checked = 0;
    for member in members {
        let dir = root.join(member.as_str().unwrap_or_default());
        let m = manifest(&dir.join("Cargo.toml"));
        let name = m["package"]["name"].as_str().unwrap_or_default().to_owned();
        if !ENGINES.contains(&name.as_str()) {
            continue;
        }
        checked += 1;
        for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
            let Some(deps) = m.get(section).and_then(|d| d.as_table()) else {
                continue;
            };
            for dep in deps.keys() {
                assert!(
                    !(ENGINES.contains(&dep.as_str()) && dep != &name),
                    "{name} depends on engine crate {dep} in [{section}]: engines compose only in the nubis facade"
                );
            }
        }
    }
    assert_eq!(
        checked,
        ENGINES.len(),
        "every engine crate is a workspace member"
    );
}

#[test]
fn clippy_bans_reading_the_wall_clock() {
    let text = std::fs::read_to_string(workspace_root().join("clippy.toml")).unwrap_or_default();
    assert!(
        text.contains("std::time::SystemTime::now"),
        "clippy.toml must ban SystemTime::now"
    );
    assert!(
        text.contains("std::time::Instant::now"),
        "clippy.toml must ban Instant::now"
    );
}
