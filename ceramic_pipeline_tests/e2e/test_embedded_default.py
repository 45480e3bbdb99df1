"""Nothing configured, an empty DAGSTER_HOME: `ceramic-pipeline ingest` brings up the embedded
PostgreSQL and the local Ceramic node by itself, signs with a generated dev seed (0600) and warns."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ceramic_pipeline.embedded_node import stop_embedded_node
from ceramic_pipeline.samples import sample_documents_dir
from ceramic_pipeline.storage.embedded import stop_embedded_server

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_VARIABLES = ("DATABASE_URL", "CERAMIC_URL", "DOCLING_INBOX", "AGENT_DID_SEED_BASE64", "CERAMIC_PIPELINE_DATA",
                    "IPFS_PINNING_SERVICE", "PINATA_JWT", "PINATA_API_KEY", "PINATA_API_SECRET")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_ingest_from_an_empty_dagster_home(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    data = home / "ceramic-pipeline"
    documents = tmp_path / "documents"
    shutil.copytree(sample_documents_dir(), documents)
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    env["DAGSTER_HOME"] = str(home)
    command = [str(Path(sys.executable).parent / "ceramic-pipeline"), "ingest", str(documents), "--json"]
    node_pid = None
    try:
        started = time.perf_counter()
        result = subprocess.run(command, check=False, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
        print(f"ingest (starts pgserver + devnode): {time.perf_counter() - started:.1f} s")
        assert result.returncode == 0, result.stderr[-3000:]
        summary = json.loads(result.stdout)
        assert summary["documents"] == 3 and summary["failed"] == 0
        assert summary["streams_created"] == 13

        seed = data / "agent-seed.b64"
        assert stat.S_IMODE(seed.stat().st_mode) == 0o600
        assert "AGENT_DID_SEED_BASE64" in result.stderr and "development seed" in result.stderr
        assert seed.read_text().strip() not in result.stdout + result.stderr
        node_pid = json.loads((data / "devnode" / "state.json").read_text())["pid"]
        assert pid_alive(node_pid)  # detached: later runs reuse it
        assert (data / "pgdata" / "postmaster.pid").exists()  # so is PostgreSQL
        stopped = subprocess.run([command[0], "embedded", "stop"], env=env, capture_output=True, text=True, timeout=60)
        assert stopped.returncode == 0, stopped.stderr
    finally:
        stop_embedded_node(data)  # no-ops when the command above already stopped them
        stop_embedded_server(data)
    if node_pid is not None:
        deadline = time.monotonic() + 10
        while pid_alive(node_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not pid_alive(node_pid)
    assert not (data / "pgdata" / "postmaster.pid").exists()
