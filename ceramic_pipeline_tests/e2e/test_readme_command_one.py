"""README command 1 as a user runs it: `dagster dev` with a DAGSTER_HOME holding only the link to
the repository's dagster.yaml, and nothing else configured. The sensor (inside Dagster's gRPC
code server) starts the embedded PostgreSQL, finds the three sample documents and launches
their run (one for the three of them), which starts the embedded Ceramic node and must succeed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import psycopg
import pytest

from ceramic_pipeline.embedded_node import stop_embedded_node
from ceramic_pipeline.storage.embedded import embedded_database_url, stop_embedded_server
from ceramic_pipeline_tests.e2e.dagster_dev import DagsterDev
from ceramic_pipeline_tests.e2e.test_dagster_dev import REPO_ROOT, finished, wait_for
from ceramic_pipeline_tests.defs.pipeline import PARTITIONED_ASSETS

ASSETS = "{ assetsOrError { ... on AssetConnection { nodes { key { path } assetMaterializations(limit: 1) { runId } } } } }"
CONFIG_PREFIXES = ("IPFS_", "PINATA_", "CERAMIC_", "DAGSTER_", "DATABASE_URL", "DOCLING_", "AGENT_", "CHUNKER", "PIN_")


@pytest.mark.slow
def test_dagster_dev_on_the_embedded_default(tmp_path):
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").symlink_to(REPO_ROOT / "dagster.yaml")  # README command 1's `ln -sf`
    data = home / "ceramic-pipeline"
    env = {k: v for k, v in os.environ.items() if not k.startswith(CONFIG_PREFIXES)}
    env["DAGSTER_HOME"] = str(home)
    dev = DagsterDev(REPO_ROOT, env, tmp_path / "dagster-dev.log")
    try:
        dev.wait_until_up()
        queue = dev.graphql("{ instance { runQueueConfig { maxConcurrentRuns tagConcurrencyLimitsYaml } } }")
        assert queue["instance"]["runQueueConfig"]["maxConcurrentRuns"] == 10  # the repository's dagster.yaml
        assert "ceramic/kind" in queue["instance"]["runQueueConfig"]["tagConcurrencyLimitsYaml"]
        sensor_runs = wait_for(
            "the sample documents' run",  # three new documents, one partition-range run
            lambda: finished(dev, tags=[{"key": "dagster/sensor_name", "value": "new_documents_sensor"}]),
            240, dev,
        )
        assert [r["status"] for r in sensor_runs] == ["SUCCESS"], dev.log_tail()
        log = dev.log_tail(2_000_000)
        assert "development seed" in log  # the loud warning about AGENT_DID_SEED_BASE64
        assert log.count("BetaWarning") == 0 and log.count("PyTorch was not found") == 0, "warning flood is back"
        assets = dev.graphql(ASSETS)["assetsOrError"]["nodes"]
        materialised = {"/".join(a["key"]["path"]) for a in assets if a["assetMaterializations"]}
        # every asset of the normal flow, the DoclingChunk model included (postgres_backup waits for its schedule)
        assert {*PARTITIONED_ASSETS, "doclingchunk_model"} <= materialised, materialised
        with psycopg.connect(embedded_database_url(data)) as conn:
            statuses = conn.execute("SELECT status, count(*) FROM ceramic_streams GROUP BY status").fetchall()
            ingested = conn.execute("SELECT count(*) FROM documents WHERE ingested_sha256 IS NOT NULL").fetchone()[0]
        assert statuses == [("active", 13)] and ingested == 3
        assert (data / "inbox").is_dir() and (data / "devnode" / "state.json").exists()
    finally:
        dev.stop()
        stop_embedded_node(data)
        stop_embedded_server(data)
    deadline = time.monotonic() + 15
    while (data / "pgdata" / "postmaster.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not (data / "pgdata" / "postmaster.pid").exists()
    assert Path(data / "agent-seed.b64").stat().st_mode & 0o077 == 0
