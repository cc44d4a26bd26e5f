//! Runs every `.slt` file in `test_data/` through the sqllogictest runner; any failing record
//! fails the test with its file and line.

use std::path::Path;

#[test]
fn test_data_slt_files_pass() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p: &std::path::PathBuf| p.extension().is_some_and(|e| e == "slt"));
    files.sort();
    assert!(!files.is_empty(), "no .slt files in {}", dir.display());
    let mut total = nubis_aurora::slt::Outcome::default();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        let aurora = nubis_aurora::Aurora::new(nubis_core::Env::with_clock(
            nubis_core::ManualClock::at_default_epoch().shared(),
        ));
        let mut s = aurora.session();
        total.merge(nubis_aurora::slt::run(
            &text,
            &f.display().to_string(),
            &mut s,
        ));
    }
    for f in &total.failures {
        eprintln!("FAIL {f}");
    }
    eprintln!(
        "slt: {} passed, {} failed, {} skipped",
        total.passed, total.failed, total.skipped
    );
    assert_eq!(
        total.failed, 0,
        "{} sqllogictest records failed",
        total.failed
    );
    assert!(total.passed > 0);
}
