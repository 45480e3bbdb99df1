"""The configuration preflight: every bad setting fails `ingest`/`publish` at once, exit 2, one line.

Real parts: the console script in a subprocess, the machine's PostgreSQL, a closed loopback
port, the Pinata stand-in over HTTP.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ceramic_pipeline.envparse import ConfigError
from ceramic_pipeline.preflight import preflight
from ceramic_pipeline.settings import Settings, resolve_seed
from ceramic_pipeline_tests.ipfs.pinata_standin import PinataStandIn

EXE = shutil.which("ceramic-pipeline", path=str(Path(sys.executable).parent))
MARKER = "s3cr3t-marker-value"  # planted in every secret; must never be printed
FAIL_FAST_S = 20  # the CLI's imports on a loaded 2-core machine; retries would take 27-77 s


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends: connections are refused


def run(args: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess, float]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_DID", "DAGSTER_HOME", "CERAMIC_", "DATABASE_URL", "IPFS_", "PINATA_", "VAULT_", "KMS_", "ENCRYPTED_DID", "LOG_"))}
    started = time.monotonic()
    out = subprocess.run([EXE, *args], env={**base, **env}, capture_output=True, text=True, timeout=120)
    return out, time.monotonic() - started


@pytest.fixture
def good_env(tmp_path: Path) -> dict[str, str]:
    return {"CERAMIC_PIPELINE_DATA": str(tmp_path / "data"), "AGENT_DID_SEED_BASE64": base64.b64encode(secrets.token_bytes(32)).decode()}


@pytest.fixture
def doc(tmp_path: Path) -> Path:
    path = tmp_path / "inbox" / "a.json"
    path.parent.mkdir()
    path.write_text("{}")
    return path


def bad_settings(tmp_path: Path, pinata_url: str) -> list[tuple[str, dict[str, str], str]]:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    return [
        ("bad seed", {"AGENT_DID_SEED_BASE64": f"%{MARKER}%"}, "AGENT_DID_SEED_BASE64"),
        ("short seed", {"AGENT_DID_SEED_BASE64": base64.b64encode(MARKER.encode()).decode()}, "AGENT_DID_SEED_BASE64"),
        ("seed file missing", {"AGENT_DID_SEED_BASE64": "", "AGENT_DID_SEED_FILE": str(tmp_path / "no-seed")}, "AGENT_DID_SEED_FILE"),
        ("two seed sources", {"AGENT_DID_SEED_FILE": str(blocker)}, "AGENT_DID_SEED_FILE"),
        ("vault without token", {"AGENT_DID_SEED_BASE64": "", "VAULT_ADDR": "http://127.0.0.1:1", "VAULT_SEED_PATH": "a"}, "VAULT_TOKEN"),
        ("url without scheme", {"CERAMIC_URL": "localhost:5101"}, "CERAMIC_URL"),
        ("sensor number", {"SENSOR_MAX_RUNS_PER_TICK": "many"}, "SENSOR_MAX_RUNS_PER_TICK"),
        ("url without host", {"CERAMIC_URL": "http://:5101"}, "CERAMIC_URL"),
        ("number", {"CERAMIC_TIMEOUT": "soon"}, "CERAMIC_TIMEOUT"),
        ("pinning number", {"IPFS_RETRY_MAX_ATTEMPTS": "0"}, "IPFS_RETRY_MAX_ATTEMPTS"),
        ("database refused", {"DATABASE_URL": f"postgresql://u:{MARKER}@127.0.0.1:{closed_port()}/db"}, "DATABASE_URL"),
        ("database unparsable", {"DATABASE_URL": f"host=127.0.0.1 password={MARKER} nonsense"}, "DATABASE_URL"),
        ("data folder not writable", {"CERAMIC_PIPELINE_DATA": str(blocker / "data")}, "CERAMIC_PIPELINE_DATA"),
        ("pinata without credentials", {"IPFS_PINNING_SERVICE": "pinata"}, "PINATA_JWT"),
        ("pinata url without scheme", {"IPFS_PINNING_SERVICE": "pinata", "PINATA_JWT": MARKER, "PINATA_API_URL": "api.example"}, "PINATA_API_URL"),
        ("pinata 401", {"IPFS_PINNING_SERVICE": "pinata", "PINATA_JWT": MARKER, "PINATA_API_URL": pinata_url}, "PINATA_JWT"),
        ("pinata 401 as fallback", {"IPFS_FALLBACK_SERVICE": "pinata", "PINATA_API_KEY": "k", "PINATA_API_SECRET": MARKER,
                                    "PINATA_API_URL": pinata_url}, "PINATA_API_KEY / PINATA_API_SECRET"),
    ]


def test_each_bad_setting_fails_ingest_at_once_with_one_line(tmp_path, good_env, doc):
    with PinataStandIn() as pinata:
        for case, env, variable in bad_settings(tmp_path, pinata.url):
            out, elapsed = run(["ingest", str(doc)], {**good_env, **env})
            lines = out.stderr.strip().splitlines()
            assert out.returncode == 2, (case, out.stderr[-2000:])
            assert len(lines) == 1 and variable in lines[0], (case, out.stderr)
            assert out.stdout == "" and MARKER not in out.stderr, case
            assert elapsed < FAIL_FAST_S, (case, elapsed)
        assert pinata.uploads() == []


def test_publish_runs_the_same_preflight(tmp_path, good_env):
    out, _ = run(["publish"], {**good_env, "DATABASE_URL": f"postgresql://u:{MARKER}@127.0.0.1:{closed_port()}/db"})
    assert out.returncode == 2 and out.stderr.startswith("ceramic-pipeline: DATABASE_URL: cannot connect")
    assert "Connection refused" in out.stderr and MARKER not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_a_good_configuration_passes(tmp_path, pg_url):
    seed = base64.b64encode(secrets.token_bytes(32)).decode()
    with PinataStandIn(jwt=MARKER) as pinata:
        env = {"CERAMIC_PIPELINE_DATA": str(tmp_path / "data"), "AGENT_DID_SEED_BASE64": seed, "DATABASE_URL": pg_url,
               "CERAMIC_URL": "http://127.0.0.1:5101", "IPFS_PINNING_SERVICE": "pinata", "PINATA_JWT": MARKER,
               "PINATA_API_URL": pinata.url}
        preflight(Settings.from_env(env))
        assert ("GET", "/data/testAuthentication") in pinata.requests
    assert [p.name for p in (tmp_path / "data").iterdir()] == []  # the write probe leaves nothing behind


def test_unreachable_database_fails_within_the_connect_timeout(tmp_path, good_env):
    # A blackholed address (TEST-NET-1, RFC 5737) never answers: the connect timeout bounds it.
    env = {**good_env, "DATABASE_URL": f"postgresql://u:{MARKER}@192.0.2.1:5432/db"}
    started = time.monotonic()
    with pytest.raises(ConfigError, match="^DATABASE_URL: cannot connect") as info:
        preflight(Settings.from_env(env), timeout_s=2)
    assert time.monotonic() - started < 10 and MARKER not in str(info.value)


def test_dev_seed_warning_once_per_process(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    seeds = {resolve_seed({}, tmp_path) for _ in range(5)}
    assert len(seeds) == 1
    warnings = [r for r in caplog.records if "Production MUST set" in r.getMessage()]
    assert len(warnings) == 1
