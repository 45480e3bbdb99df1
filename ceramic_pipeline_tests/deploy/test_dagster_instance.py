"""The root dagster.yaml (local `dagster dev`) and deploy/dagster/dagster.yaml (production)."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from dagster import DagsterInstance
from dagster._core.errors import DagsterInvalidConfigError
from dagster._core.instance.config import dagster_instance_config
from dagster._core.instance.ref import InstanceRef

from ceramic_pipeline_tests.deploy.helm_instance import instance_config

ROOT = Path(__file__).resolve().parents[2]
LOCAL_DIR = ROOT
PROD_DIR = ROOT / "deploy" / "dagster"
HELM_VALUES = ROOT / "deploy" / "kubernetes" / "helm" / "values.yaml"
PG_VARS = ("DAGSTER_PG_USERNAME", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_HOST", "DAGSTER_PG_DB", "DAGSTER_PG_PORT")


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _env_refs(node) -> set[str]:
    if isinstance(node, dict):
        refs = {node["env"]} if set(node) == {"env"} else set()
        return refs.union(*(_env_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_env_refs(value) for value in node))
    return set()


def test_both_files_pass_dagsters_schema_and_concurrency_checks():
    for folder in (LOCAL_DIR, PROD_DIR):
        config, _ = dagster_instance_config(str(folder))
        assert config["telemetry"] == {"enabled": False}
        assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"


def test_local_file_needs_nothing_a_fresh_machine_lacks():
    config = _yaml(LOCAL_DIR / "dagster.yaml")
    assert not {"storage", "run_storage", "event_log_storage", "schedule_storage", "run_launcher"} & set(config)
    assert _env_refs(config) == set()


def test_dagster_dev_style_instance_loads_the_local_file_from_cwd(tmp_path, monkeypatch):
    # What `dagster dev` does with DAGSTER_HOME unset: storage in a temp dir, yaml from cwd.
    for name in PG_VARS + ("DAGSTER_HOME",):
        monkeypatch.delenv(name, raising=False)
    instance = DagsterInstance.from_ref(InstanceRef.from_dir(str(tmp_path), config_dir=str(LOCAL_DIR)))
    try:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        queue = instance.get_concurrency_config().run_queue_config
        assert queue.max_concurrent_runs == 10
        assert {"key": "ceramic/kind", "value": "maintenance", "limit": 1} in queue.tag_concurrency_limits
        assert instance.run_retries_max_retries == 2
        assert instance.get_runs() == []  # sqlite storage under tmp_path works
    finally:
        instance.dispose()


def test_production_file_reads_postgres_only_from_env():
    config = _yaml(PROD_DIR / "dagster.yaml")
    db = config["storage"]["postgres"]["postgres_db"]
    assert db["scheme"] == "postgresql+psycopg2"
    assert _env_refs(config) == set(PG_VARS)
    assert config["run_launcher"]["class"] == "DefaultRunLauncher"
    assert config["run_monitoring"]["enabled"] and config["run_retries"]["enabled"]


def test_production_file_runs_against_a_real_postgres(pg_url, tmp_path, monkeypatch):
    parts = urlsplit(pg_url)
    if not parts.hostname or parts.hostname.startswith("/"):
        pytest.skip("the test server has no TCP host (pgserver socket fallback)")
    monkeypatch.setenv("DAGSTER_PG_USERNAME", parts.username or "postgres")
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", parts.password or "")
    monkeypatch.setenv("DAGSTER_PG_HOST", parts.hostname)
    monkeypatch.setenv("DAGSTER_PG_PORT", str(parts.port or 5432))
    monkeypatch.setenv("DAGSTER_PG_DB", parts.path.lstrip("/"))
    shutil.copy(PROD_DIR / "dagster.yaml", tmp_path / "dagster.yaml")
    instance = DagsterInstance.from_ref(InstanceRef.from_dir(str(tmp_path)))
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert instance.get_runs() == []  # schema created and queried over psycopg2
        assert instance.run_monitoring_enabled
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 4
    finally:
        instance.dispose()


def test_limits_in_the_run_coordinator_too_are_refused(tmp_path):
    config = _yaml(PROD_DIR / "dagster.yaml")
    config["run_coordinator"]["config"]["max_concurrent_runs"] = 5
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(DagsterInvalidConfigError, match="max_concurrent_runs"):
        dagster_instance_config(str(tmp_path))


def test_local_production_and_helm_share_the_same_limits_and_retries():
    local, prod = _yaml(LOCAL_DIR / "dagster.yaml"), _yaml(PROD_DIR / "dagster.yaml")
    helm = instance_config(_yaml(HELM_VALUES))
    assert local["concurrency"] == prod["concurrency"] == helm["concurrency"]
    assert local["run_retries"] == prod["run_retries"] == helm["run_retries"]
    assert prod["retention"]["schedule"] == helm["retention"]["schedule"]
    helm_sensor = helm["retention"]["sensor"]["purge_after_days"]
    prod_sensor = prod["retention"]["sensor"]["purge_after_days"]
    assert {status: helm_sensor[status] for status in prod_sensor} == prod_sensor
