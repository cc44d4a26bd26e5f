"""Starts one `nubis serve --clock manual` for the session and hands boto3 clients to the tests."""

import json
import os
import subprocess
import urllib.request

import boto3
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _binary():
    explicit = os.environ.get("NUBIS_BIN")
    if explicit:
        return explicit
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    for profile in ("debug", "release"):
        path = os.path.join(target, profile, "nubis")
        if os.path.exists(path):
            return path
    raise RuntimeError("build the binary first: cargo build -p nubis")


@pytest.fixture(scope="session")
def endpoint():
    proc = subprocess.Popen(
        [_binary(), "serve", "--port", "0", "--clock", "manual"],
        stdout=subprocess.PIPE,
        env={**os.environ, "RUST_LOG": "warn"},
        text=True,
    )
    line = proc.stdout.readline()
    url = line.strip().rsplit(" ", 1)[-1]
    assert url.startswith("http://"), line
    yield url
    proc.terminate()
    assert proc.wait(timeout=30) == 0


@pytest.fixture()
def client(endpoint):
    def make(service, region="us-east-1", **kwargs):
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name=region,
            aws_access_key_id="AKIDNUBISTEST",
            aws_secret_access_key="nubis-secret",
            **kwargs,
        )

    return make


@pytest.fixture()
def advance(endpoint):
    def move(seconds):
        req = urllib.request.Request(
            endpoint + "/_nubis/clock",
            data=json.dumps({"advance_seconds": seconds}).encode(),
            method="POST",
        )
        with urllib.request.urlopen(req) as resp:
            return json.load(resp)

    return move
