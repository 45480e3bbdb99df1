"""The console script as a user runs it: a real subprocess, real environment."""

from __future__ import annotations

import base64
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ceramic_pipeline.ceramic.did import DIDKey

EXE = shutil.which("ceramic-pipeline", path=str(Path(sys.executable).parent))


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"AGENT_DID_SEED_BASE64", "DAGSTER_HOME", "CERAMIC_PIPELINE_DATA"}}
    return subprocess.run([EXE, *args], env={**base, **env}, capture_output=True, text=True, timeout=60)


def test_keygen_prints_a_fresh_32_byte_seed(tmp_path):
    first, second = (run(["keygen"], {}).stdout.strip() for _ in range(2))
    assert len(base64.b64decode(first, validate=True)) == 32
    assert first != second


def test_did_from_the_configured_seed(tmp_path):
    seed = bytes(range(32))
    out = run(["did"], {"AGENT_DID_SEED_BASE64": base64.b64encode(seed).decode(), "CERAMIC_PIPELINE_DATA": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == DIDKey.from_seed(seed).did
    assert not (tmp_path / "agent-seed.b64").exists()


@pytest.mark.parametrize(
    "value, expected",
    [("%%%not-base64%%%", "not valid base64"), (base64.b64encode(b"x" * 16).decode(), "found 16 bytes")],
)
def test_bad_seed_is_one_line_exit_2_and_never_echoed(tmp_path, value, expected):
    out = run(["did"], {"AGENT_DID_SEED_BASE64": value, "CERAMIC_PIPELINE_DATA": str(tmp_path)})
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "AGENT_DID_SEED_BASE64" in lines[0] and expected in lines[0]
    assert value not in out.stderr


def test_missing_seed_uses_a_generated_dev_seed_once(tmp_path):
    env = {"DAGSTER_HOME": str(tmp_path)}
    first = run(["did"], env)
    assert first.returncode == 0, first.stderr
    seed_file = tmp_path / "ceramic-pipeline" / "agent-seed.b64"
    assert stat.S_IMODE(seed_file.stat().st_mode) == 0o600
    assert "AGENT_DID_SEED_BASE64" in first.stderr and "Production MUST set" in first.stderr
    assert seed_file.read_text().strip() not in first.stderr + first.stdout
    again = run(["did"], env)
    assert again.stdout == first.stdout and first.stdout.startswith("did:key:z6Mk")
