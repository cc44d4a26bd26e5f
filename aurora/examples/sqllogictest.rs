//! Runs sqllogictest files against a fresh Aurora database per file.
//!
//! `cargo run --release -p nubis-aurora --example sqllogictest -- <file or dir>... [--quiet]`
//! prints each failing record with its file and line and ends with
//! `conformance: N passed, M failed, K skipped` (counted in records).

use std::path::{Path, PathBuf};

fn collect(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        entries.sort();
        for e in entries {
            collect(&e, out);
        }
    } else if path.extension().is_some_and(|e| e == "slt" || e == "test") {
        out.push(path.to_path_buf());
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quiet = args.iter().any(|a| a == "--quiet");
    let mut files = Vec::new();
    for a in args.iter().filter(|a| !a.starts_with("--")) {
        collect(Path::new(a), &mut files);
    }
    if files.is_empty() {
        eprintln!("usage: sqllogictest <file or dir>... [--quiet]");
        std::process::exit(2);
    }
    let mut total = nubis_aurora::slt::Outcome::default();
    for f in &files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{}: {e}", f.display());
                continue;
            }
        };
        let aurora = nubis_aurora::Aurora::new(nubis_core::Env::default());
        let mut session = aurora.session();
        let out = nubis_aurora::slt::run(&text, &f.display().to_string(), &mut session);
        if !quiet {
            for failure in &out.failures {
                println!("FAIL {failure}");
            }
        }
        println!(
            "{}: {} passed, {} failed, {} skipped",
            f.display(),
            out.passed,
            out.failed,
            out.skipped
        );
        total.merge(out);
    }
    println!(
        "conformance: {} passed, {} failed, {} skipped",
        total.passed, total.failed, total.skipped
    );
}
