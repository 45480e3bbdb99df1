"""The scheduled health checks as a Dagster user meets them: a schedule every 5 minutes, a job whose
asset checks pass against real dependencies (the machine's PostgreSQL, the in-process devnode over
HTTP) and fail with one line when the node's port is closed, a gauge pushed to a real Pushgateway."""

from __future__ import annotations

import socket
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import httpx
import pytest

from ceramic_pipeline.definitions import defs
from ceramic_pipeline.devnode.server import VERSION
from ceramic_pipeline.defs.operations import operations_definitions
from ceramic_pipeline.metrics import REGISTRY
from ceramic_pipeline.settings import ConfigError, Settings
from ceramic_pipeline_tests.test_metrics import pushgateway  # noqa: F401 - a real Pushgateway fixture

CHECKS = ["ceramic_node", "postgresql", "pinning", "outbox"]


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_the_schedule_runs_check_health_every_5_minutes_in_utc(tmp_path):
    schedule = defs.resolve_schedule_def("check_health_schedule")
    assert (schedule.job_name, schedule.cron_schedule, schedule.execution_timezone) == ("check_health", "*/5 * * * *", "UTC")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 11, 30, 6, 5, tzinfo=timezone.utc))
    [request] = schedule.evaluate_tick(context).run_requests
    assert request.tags["dagster/schedule_name"] == "check_health_schedule"
    job = defs.resolve_job_def("check_health")
    assert job.tags["ceramic/kind"] == "operations"  # not "maintenance": those runs are limited to one at a time
    assert job.tags["ceramic/asset-history"] == "disposable"  # prune_dagster_runs deletes old health runs
    assert [node.name for node in job.nodes] == ["pipeline_dependencies_health"]
    [custom] = operations_definitions(Settings.from_env({"CERAMIC_PIPELINE_DATA": str(tmp_path), "HEALTH_CRON": "* * * * *"})).schedules
    assert custom.cron_schedule == "* * * * *"
    with pytest.raises(ConfigError, match="HEALTH_CRON must be a cron expression"):
        operations_definitions(Settings.from_env({"CERAMIC_PIPELINE_DATA": str(tmp_path), "HEALTH_CRON": "often"}))


def test_the_checks_are_on_pipeline_dependencies_with_descriptions():
    graph = defs.resolve_asset_graph()
    key = dg.AssetKey("pipeline_dependencies")
    assert graph.get(key).group_name == "operations"
    specs = {k.name: graph.get_check_spec(k) for k in graph.asset_check_keys if k.asset_key == key}
    assert sorted(specs) == sorted(CHECKS)
    assert all(spec.description for spec in specs.values())


def run_check_health(monkeypatch, env: dict[str, str]) -> dict[str, dg.AssetCheckEvaluation]:
    for name in ("CERAMIC_URL", "DATABASE_URL", "IPFS_PINNING_SERVICE", "HEALTH_OUTBOX_MAX_AGE_SECONDS", "HEALTH_CRON"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("check_health").execute_in_process(instance=instance, raise_on_error=False)
        assert result.success  # a dependency that is down fails its check, never the run
        evaluations = result.get_asset_check_evaluations()
    return {e.check_name: e for e in evaluations}


def test_check_health_passes_against_up_dependencies(monkeypatch, tmp_path: Path, node, migrated_pg_url, pushgateway):  # noqa: F811
    checks = run_check_health(monkeypatch, {"CERAMIC_PIPELINE_DATA": str(tmp_path), "CERAMIC_URL": node.url,
                                            "DATABASE_URL": migrated_pg_url, "PROMETHEUS_PUSHGATEWAY_URL": pushgateway})
    assert list(checks) == CHECKS
    assert {name: e.passed for name, e in checks.items()} == dict.fromkeys(CHECKS, True)
    detail = checks["ceramic_node"].metadata["detail"].value
    assert node.url in detail and f"version {VERSION}" in detail and checks["ceramic_node"].description == detail
    assert checks["outbox"].metadata["detail"].value == "0 pending (oldest 0 s), 0 rejected"
    for dependency in ("ceramic", "postgres", "pinning", "outbox"):
        assert REGISTRY.get_sample_value("ceramic_dependency_up", {"dependency": dependency}) == 1
    scraped = httpx.get(f"{pushgateway}/metrics").text
    assert 'ceramic_dependency_up{dependency="ceramic",instance=' in scraped


def test_a_closed_node_port_fails_its_check_with_one_line(monkeypatch, tmp_path: Path, migrated_pg_url):
    closed = closed_port_url()
    checks = run_check_health(monkeypatch, {"CERAMIC_PIPELINE_DATA": str(tmp_path), "CERAMIC_URL": closed,
                                            "DATABASE_URL": migrated_pg_url})
    node = checks["ceramic_node"]
    assert not node.passed and node.severity == dg.AssetCheckSeverity.ERROR
    detail = node.metadata["detail"].value
    assert detail == f"{closed}: not live (GET /ceramic/liveness failed)" and "\n" not in detail
    assert [checks[name].passed for name in CHECKS[1:]] == [True, True, True]
    assert REGISTRY.get_sample_value("ceramic_dependency_up", {"dependency": "ceramic"}) == 0
    assert not (tmp_path / "devnode").exists() and not (tmp_path / "pgdata").exists()  # nothing embedded was started


def test_a_configuration_error_fails_every_check_with_its_line(monkeypatch, tmp_path: Path):
    checks = run_check_health(monkeypatch, {"CERAMIC_PIPELINE_DATA": str(tmp_path), "CERAMIC_URL": "node:5101"})
    assert {name: e.passed for name, e in checks.items()} == dict.fromkeys(CHECKS, False)
    assert all(e.metadata["detail"].value.startswith("configuration: CERAMIC_URL must start with") for e in checks.values())
