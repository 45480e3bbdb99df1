"""End to end through a real `dagster dev`: the daemon's sensor picks up an inbox document and its
run ingests it; then partitions added and a backfill launched over GraphQL ingest two more in ONE
run. Rows in PostgreSQL, streams on the node and the asset-check results are checked afterwards."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from ceramic_pipeline.defs.partitions import RANGE_END_TAG, RANGE_START_TAG
from ceramic_pipeline.samples import sample_documents_dir
from ceramic_pipeline_tests.defs.devnode_state import stream_state
from ceramic_pipeline_tests.defs.pipeline import (
    PARTITIONED_ASSETS,
    fresh_seed_base64,
    key_of,
)
from ceramic_pipeline_tests.e2e.dagster_dev import DagsterDev

REPO_ROOT = Path(__file__).resolve().parents[2]
REPOSITORY = {"repositoryLocationName": "ceramic_pipeline", "repositoryName": "__repository__"}
SENSOR = {**REPOSITORY, "sensorName": "new_documents_sensor"}
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}

LOCATION_STATUS = """{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
RUNS = """query($filter: RunsFilter) { runsOrError(filter: $filter) { ... on Runs { results {
  runId status tags { key value } } } } }"""
SENSOR_STATE = """query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { __typename
  ... on Sensor { id sensorState { status } } } }"""
STOP_SENSOR = """mutation($id: String) { stopSensor(id: $id) { __typename
  ... on StopSensorMutationResult { instigationState { status } } ... on PythonError { message } } }"""
ADD_PARTITION = """mutation($r: RepositorySelector!, $k: String!) { addDynamicPartition(repositorySelector: $r,
  partitionsDefName: "documents", partitionKey: $k) { __typename ... on PythonError { message } } }"""
LAUNCH_BACKFILL = """mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) { __typename
  ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }"""


def wait_for(what: str, probe, timeout_s: float, dev: DagsterDev):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(1)
    raise TimeoutError(f"{what} not within {timeout_s} s\n{dev.log_tail()}")


def runs(dev: DagsterDev, **filter_) -> list[dict]:
    return dev.graphql(RUNS, filter=filter_ or None)["runsOrError"]["results"]


def finished(dev: DagsterDev, **filter_) -> list[dict] | None:
    found = runs(dev, **filter_)
    return found if found and all(r["status"] in FINISHED for r in found) else None


@pytest.mark.slow
def test_dagster_dev_ingests_through_the_sensor_and_a_graphql_backfill(tmp_path, migrated_pg_url, devnode):
    home, inbox = tmp_path / "dagster_home", tmp_path / "inbox"
    home.mkdir()
    inbox.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    shutil.copy(sample_documents_dir() / "studio-safety-notes.json", inbox)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IPFS_", "PINATA_", "CERAMIC_", "DAGSTER_"))}
    env.update({
        "DAGSTER_HOME": str(home), "CERAMIC_PIPELINE_DATA": str(tmp_path / "data"),
        "DATABASE_URL": migrated_pg_url, "CERAMIC_URL": devnode.url, "DOCLING_INBOX": str(inbox),
        "AGENT_DID_SEED_BASE64": fresh_seed_base64(),
    })

    test_started = time.monotonic()
    dev = DagsterDev(REPO_ROOT, env, tmp_path / "dagster-dev.log")
    try:
        print(f"dagster dev /server_info after {dev.wait_until_up():.1f} s")
        wait_for("code location loaded", lambda: all(
            e["loadStatus"] == "LOADED" for e in dev.graphql(LOCATION_STATUS)["workspaceOrError"]["locationEntries"]), 60, dev)
        [entry] = dev.graphql(LOCATION_STATUS)["workspaceOrError"]["locationEntries"]
        assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation", entry

        # 1. The sensor (RUNNING by default) adds the partition and launches a run for the document.
        first_key = key_of(inbox / "studio-safety-notes.json", inbox)
        started = time.monotonic()
        [sensor_run] = wait_for("the sensor's run", lambda: finished(dev, tags=[{"key": "dagster/sensor_name", "value": "new_documents_sensor"}]), 120, dev)
        print(f"sensor run finished {time.monotonic() - started:.1f} s after the code location loaded")
        assert sensor_run["status"] == "SUCCESS", dev.log_tail()
        tags = {t["key"]: t["value"] for t in sensor_run["tags"]}
        assert tags[RANGE_START_TAG] == tags[RANGE_END_TAG] == first_key  # a partition-range run of one

        # Stop the sensor so that it cannot race the backfill below for the same documents.
        sensor = dev.graphql(SENSOR_STATE, s=SENSOR)["sensorOrError"]
        stopped = dev.graphql(STOP_SENSOR, id=sensor["id"])["stopSensor"]
        assert stopped["instigationState"]["status"] == "STOPPED", stopped

        # 2. Two more documents: partitions added and a backfill launched over GraphQL -> one run.
        for name in ("glaze-firing-guide.json", "kiln-maintenance-log.json"):
            shutil.copy(sample_documents_dir() / name, inbox)
        keys = [key_of(inbox / n, inbox) for n in ("glaze-firing-guide.json", "kiln-maintenance-log.json")]
        for key in keys:
            added = dev.graphql(ADD_PARTITION, r=REPOSITORY, k=key)["addDynamicPartition"]
            assert added["__typename"] == "AddDynamicPartitionSuccess", added
        launched = dev.graphql(LAUNCH_BACKFILL, p={
            "partitionNames": keys, "assetSelection": [{"path": [name]} for name in PARTITIONED_ASSETS],
        })["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        started = time.monotonic()
        backfill_runs = wait_for("the backfill's run", lambda: finished(dev, tags=[{"key": "dagster/backfill", "value": launched["backfillId"]}]), 150, dev)
        print(f"backfill run finished {time.monotonic() - started:.1f} s after launch")
        assert [r["status"] for r in backfill_runs] == ["SUCCESS"], dev.log_tail()  # single_run: one run for both

        # 3. What the runs left behind: 4 + 6 + 3 streams, each on the node at its recorded tip.
        with psycopg.connect(migrated_pg_url) as conn:
            rows = conn.execute("SELECT stream_id, latest_cid, status FROM ceramic_streams").fetchall()
            documents = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        assert documents == 3 and len(rows) == 13
        for stream_id, latest_cid, status in rows:
            assert status == "active"
            assert stream_state(devnode.url, stream_id)["event_cid"] == latest_cid

        run_ids = [sensor_run["runId"]] + [r["runId"] for r in backfill_runs]
    finally:
        dev.stop()
    print(f"end to end, including shutdown: {time.monotonic() - test_started:.1f} s")

    with dg.DagsterInstance.from_config(str(home)) as instance:  # the event log dagster dev wrote
        for run_id in run_ids:
            records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
            evaluations = [r.event_log_entry.dagster_event.event_specific_data for r in records]
            assert len(evaluations) == 6  # one evaluation per check and run (it covers the run's partitions)
            assert all(e.passed for e in evaluations)
