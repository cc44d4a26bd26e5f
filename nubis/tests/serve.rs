//! The `nubis serve` binary: starts, answers health, and shuts down cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn serve_starts_answers_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nubis"))
        .args([
            "serve",
            "--port",
            "0",
            "--clock",
            "manual",
            "--region",
            "eu-west-1",
            "--region",
            "us-east-1",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("nubis binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("a startup line");
    let url = line
        .trim()
        .rsplit(' ')
        .next()
        .expect("the URL ends the line")
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");

    let health: serde_json::Value = reqwest::get(format!("{url}/_nubis/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "running");
    assert_eq!(health["clock"]["mode"], "manual");
    assert_eq!(health["regions"][0], "eu-west-1");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = child.wait().expect("nubis exits");
    assert!(status.success(), "nubis exited with {status}");
}

#[test]
fn bad_flags_are_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_nubis"))
        .args(["serve", "--region", "mars-1", "--port", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("invalid region"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
