"""`ceramic-pipeline health` against real dependencies that are up or down: the in-process
devnode over HTTP, the machine's PostgreSQL, the Pinata stand-in, closed loopback ports."""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import psycopg

from ceramic_pipeline.ceramic.devnode.server import VERSION
from ceramic_pipeline.storage.outbox import OutboxEvent, enqueue_events
from ceramic_pipeline_tests.ipfs.pinata_standin import PinataStandIn

EXE = shutil.which("ceramic-pipeline", path=str(Path(sys.executable).parent))
MARKER = "s3cr3t-health-marker"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def health(env: dict[str, str], *args: str) -> tuple[int, list[str], str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_DID", "DAGSTER_HOME", "CERAMIC_", "DATABASE_URL", "IPFS_", "PINATA_", "HEALTH_"))}
    out = subprocess.run([EXE, "health", *args], env={**base, **env}, capture_output=True, text=True, timeout=120)
    return out.returncode, out.stdout.splitlines(), out.stderr


def test_everything_up(node, migrated_pg_url, tmp_path):
    with PinataStandIn(jwt=MARKER) as pinata:
        code, lines, stderr = health({"CERAMIC_PIPELINE_DATA": str(tmp_path), "CERAMIC_URL": node.url, "DATABASE_URL": migrated_pg_url,
                                      "IPFS_PINNING_SERVICE": "pinata", "PINATA_JWT": MARKER, "PINATA_API_URL": pinata.url})
    assert (code, stderr) == (0, ""), lines
    assert [line.split()[:2] for line in lines] == [["ok", "ceramic"], ["ok", "postgres"], ["ok", "pinning"], ["ok", "outbox"]]
    assert f"version {VERSION}" in lines[0] and node.url in lines[0]
    assert "credentials accepted" in lines[2] and lines[3].endswith("0 pending (oldest 0 s), 0 rejected")
    assert MARKER not in "\n".join(lines)


def test_everything_down(tmp_path):
    with PinataStandIn() as pinata:  # our JWT is not its JWT: 401
        code, lines, stderr = health({
            "CERAMIC_PIPELINE_DATA": str(tmp_path), "CERAMIC_URL": f"http://127.0.0.1:{closed_port()}",
            "DATABASE_URL": f"postgresql://ceramic:{MARKER}@127.0.0.1:{closed_port()}/pipeline",
            "IPFS_PINNING_SERVICE": "pinata", "PINATA_JWT": MARKER, "PINATA_API_URL": pinata.url,
        }, "--timeout", "2")
    assert code == 1 and stderr == ""
    assert [line.split()[:2] for line in lines] == [["DOWN", "ceramic"], ["DOWN", "postgres"], ["DOWN", "pinning"], ["DOWN", "outbox"]]
    assert "not live" in lines[0] and "Connection refused" in lines[1] and "HTTP 401" in lines[2] and "PINATA_JWT" in lines[2]
    assert MARKER not in "\n".join(lines)


def test_one_down_is_enough_and_embedded_services_are_not_started(tmp_path, migrated_pg_url):
    code, lines, _ = health({"CERAMIC_PIPELINE_DATA": str(tmp_path), "DATABASE_URL": migrated_pg_url})
    assert code == 1
    assert lines[0].startswith("DOWN  ceramic   the embedded node is not running")
    assert [line.split()[0] for line in lines[1:]] == ["ok", "ok", "ok"]  # postgres, embedded blockstore, outbox
    assert not (tmp_path / "devnode").exists() and not (tmp_path / "pgdata").exists()


def test_a_stuck_outbox_is_down(node, migrated_pg_url, tmp_path):
    with psycopg.connect(migrated_pg_url) as conn:
        enqueue_events(conn, [OutboxEvent("bafyfake" + secrets.token_hex(4), "kstream", 0, "init", b"car")])
        conn.execute("UPDATE ceramic_events SET created_at = now() - interval '2 hours'")
    env = {"CERAMIC_PIPELINE_DATA": str(tmp_path), "CERAMIC_URL": node.url, "DATABASE_URL": migrated_pg_url}
    code, lines, _ = health(env)
    assert code == 1 and lines[3].startswith("DOWN  outbox    1 pending (oldest 72") and "HEALTH_OUTBOX_MAX_AGE_SECONDS" in lines[3]
    code, lines, _ = health({**env, "HEALTH_OUTBOX_MAX_AGE_SECONDS": str(3 * 3600)})
    assert code == 0 and lines[3].startswith("ok    outbox    1 pending")


def test_bad_configuration_is_exit_2(tmp_path):
    code, lines, stderr = health({"CERAMIC_PIPELINE_DATA": str(tmp_path), "CERAMIC_URL": "node:5101",
                                  "AGENT_DID_SEED_BASE64": base64.b64encode(secrets.token_bytes(32)).decode()})
    assert code == 2 and lines == [] and stderr.startswith("ceramic-pipeline: CERAMIC_URL must start with")


def test_record_sets_the_dependency_gauge():
    from ceramic_pipeline.health import Check, record
    from ceramic_pipeline.metrics import REGISTRY

    record([Check("ceramic", True, "live"), Check("postgres", False, "down")])
    assert REGISTRY.get_sample_value("ceramic_dependency_up", {"dependency": "ceramic"}) == 1
    assert REGISTRY.get_sample_value("ceramic_dependency_up", {"dependency": "postgres"}) == 0
