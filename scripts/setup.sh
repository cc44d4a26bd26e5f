#!/usr/bin/env bash
# Installs what the test suite needs beyond the Rust toolchain. Idempotent; safe to re-run.
# - Python test clients for tests/python (boto3 against `nubis serve`), in a venv under .venv.
# - Debian's PostgreSQL client (`psql`), which the Aurora wire-protocol tests drive.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
command -v python3 >/dev/null || { echo "python3 is required for tests/python"; exit 1; }
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt
echo "setup: Python test clients installed in .venv"

if ! command -v psql >/dev/null; then
  if command -v apt-get >/dev/null; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get install -y --no-install-recommends postgresql-client >/dev/null 2>&1 ||
      { $sudo apt-get update -qq && $sudo apt-get install -y --no-install-recommends postgresql-client; }
  else
    echo "setup: psql is required for the Aurora wire-protocol tests (install postgresql-client)"
    exit 1
  fi
fi
echo "setup: psql $(psql --version | awk '{print $3}')"
