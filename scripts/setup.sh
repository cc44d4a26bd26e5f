#!/usr/bin/env bash
# Installs what the test suite needs beyond the Rust toolchain. Idempotent; safe to re-run.
# The Rust test suite itself needs nothing else today; this script is where anything more goes
# (Python test clients, Debian packages), so that CI and a fresh machine get the same set.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
echo "setup: nothing beyond the Rust toolchain is needed"
