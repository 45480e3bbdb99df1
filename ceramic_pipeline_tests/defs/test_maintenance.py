"""The maintenance definitions as a Dagster user meets them: schedules on the Automation page that
target the right jobs, and jobs that run against a real PostgreSQL and record what they did."""

from __future__ import annotations

from ceramic_pipeline.storage.migrations import MIGRATIONS

import json
import time
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import httpx
import psycopg
import pytest

from ceramic_pipeline.definitions import defs
from ceramic_pipeline.defs.maintenance import maintenance_definitions
from ceramic_pipeline.maintenance.backup import list_backups
from ceramic_pipeline.resources import resources_from_env
from ceramic_pipeline.settings import ConfigError, Settings
from ceramic_pipeline_tests.maintenance.support import populate
from ceramic_pipeline_tests.test_metrics import pushgateway  # noqa: F401 - a real Pushgateway fixture

SCHEDULES = {  # schedule -> (job, default cron, cron variable)
    "backup_database_schedule": ("backup_database", "0 2 * * *", "BACKUP_CRON"),
    "run_restore_drill_schedule": ("run_restore_drill", "0 4 * * 0", "RESTORE_DRILL_CRON"),
    "vacuum_reindex_database_schedule": ("vacuum_reindex_database", "0 3 * * 0", "VACUUM_CRON"),
}


def test_the_project_definitions_carry_the_maintenance_schedules_running_by_default():
    schedules = {s.name: s for s in defs.schedules}
    for name, (job, _, _) in SCHEDULES.items():
        schedule = schedules[name]
        assert schedule.job_name == job
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert defs.get_assets_def("postgres_backup").group_names_by_key[dg.AssetKey("postgres_backup")] == "maintenance"


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_each_schedule_evaluates_to_its_job_at_its_cron(name, tmp_path):
    job, cron, _ = SCHEDULES[name]
    [schedule] = [s for s in maintenance_definitions(Settings.from_env({"CERAMIC_PIPELINE_DATA": str(tmp_path)})).schedules
                  if s.name == name]
    assert (schedule.cron_schedule, schedule.execution_timezone) == (cron, "UTC")
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 11, 29, 2, 0, tzinfo=timezone.utc))
    [request] = schedule.evaluate_tick(context).run_requests
    assert request.tags["dagster/schedule_name"] == name
    assert (request.job_name or schedule.job_name) == job  # a ScheduleDefinition's requests run its job


def test_the_scheduled_jobs_select_what_they_are_named_for():
    backup = defs.resolve_job_def("backup_database")
    assert {k.to_user_string() for k in backup.asset_layer.executable_asset_keys} == {"postgres_backup"}
    drill = defs.resolve_job_def("run_restore_drill")
    assert [n.name for n in drill.nodes] == ["postgres_backup_restore_drill"]
    assert [n.name for n in backup.nodes] == ["postgres_backup"]  # the daily job leaves the drill out
    assert [n.name for n in defs.resolve_job_def("vacuum_reindex_database").nodes] == ["vacuum_analyze_reindex"]
    for job in SCHEDULES.values():
        assert defs.resolve_job_def(job[0]).tags["ceramic/kind"] == "maintenance"  # dagster.yaml's concurrency tag


def test_crons_and_timezone_come_from_the_environment(tmp_path):
    env = {"CERAMIC_PIPELINE_DATA": str(tmp_path), "BACKUP_CRON": "30 1 * * *", "VACUUM_CRON": "0 5 1 * *",
           "RESTORE_DRILL_CRON": "15 6 * * 6", "MAINTENANCE_TIMEZONE": "Europe/Paris"}
    schedules = {s.name: s for s in maintenance_definitions(Settings.from_env(env)).schedules if s.name in SCHEDULES}
    assert {n: s.cron_schedule for n, s in schedules.items()} == {
        "backup_database_schedule": "30 1 * * *", "run_restore_drill_schedule": "15 6 * * 6",
        "vacuum_reindex_database_schedule": "0 5 1 * *"}
    assert {s.execution_timezone for s in schedules.values()} == {"Europe/Paris"}


def test_a_bad_cron_is_one_line_naming_the_variable(tmp_path):
    with pytest.raises(ConfigError, match="BACKUP_CRON must be a cron expression") as info:
        maintenance_definitions(Settings.from_env({"CERAMIC_PIPELINE_DATA": str(tmp_path), "BACKUP_CRON": "daily"}))
    assert "\n" not in str(info.value)


@pytest.fixture
def maintenance_env(monkeypatch, tmp_path: Path, migrated_pg_url: str, pushgateway: str) -> dict[str, str]:  # noqa: F811
    populate(migrated_pg_url, documents=2, chunks_per_document=10)
    env = {"CERAMIC_PIPELINE_DATA": str(tmp_path / "data"), "DATABASE_URL": migrated_pg_url,
           "BACKUP_RETENTION_COUNT": "2", "PROMETHEUS_PUSHGATEWAY_URL": pushgateway}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CERAMIC_URL", raising=False)
    monkeypatch.delenv("IPFS_PINNING_SERVICE", raising=False)
    blocks = tmp_path / "data" / "ipfs-blockstore" / "blocks"
    blocks.mkdir(parents=True)
    (blocks / "bafkreiexample").write_bytes(b"a pinned chunk")
    return env


def _defs(env: dict[str, str]) -> dg.Definitions:
    return dg.Definitions.merge(maintenance_definitions(Settings.from_env(env)),
                                dg.Definitions(resources=resources_from_env(env)))


def test_backup_job_then_drill_job_in_process(maintenance_env, pushgateway):  # noqa: F811
    maintenance = _defs(maintenance_env)
    instance = dg.DagsterInstance.ephemeral()
    started = time.time()
    for _ in range(3):
        result = maintenance.resolve_job_def("backup_database").execute_in_process(instance=instance)
        assert result.success
        assert result.get_asset_check_evaluations() == []  # the daily job does not run the drill
    [materialization] = result.asset_materializations_for_node("postgres_backup")
    meta = {k: v.value for k, v in materialization.metadata.items()}
    backup_dir = Path(maintenance_env["CERAMIC_PIPELINE_DATA"]) / "backups"
    backups = list_backups(backup_dir)
    assert [b.name for b in backups][0] == meta["backup"] and len(backups) == 2  # BACKUP_RETENTION_COUNT
    assert meta["dump_sha256"] == backups[0].manifest["dump"]["sha256"]
    assert meta["rows_per_table"]["chunks"] == 20 and meta["dagster/row_count"] == 2 + 20 + 20 + len(MIGRATIONS)
    assert meta["files_archive"].endswith(".files.tar.gz") and meta["files_size_bytes"] > 0
    assert len(meta["deleted_by_retention"]) == 1
    assert len(instance.fetch_materializations(dg.AssetKey("postgres_backup"), limit=10).records) == 3  # catalog history

    scraped = httpx.get(f"{pushgateway}/metrics").text
    [line] = [l for l in scraped.splitlines() if l.startswith("ceramic_backup_last_success_timestamp_seconds{")]
    assert 'instance="postgres_backup"' in line and started <= float(line.rsplit(" ", 1)[1]) <= time.time()

    drill = maintenance.resolve_job_def("run_restore_drill").execute_in_process(instance=instance)
    [evaluation] = drill.get_asset_check_evaluations()
    assert evaluation.check_name == "restore_drill" and evaluation.passed
    assert evaluation.metadata["rows"].value == 2 + 20 + 20 + len(MIGRATIONS) and evaluation.metadata["backup"].value == meta["backup"]

    manifest_path = backups[0].manifest_path
    manifest = json.loads(manifest_path.read_text())
    manifest["tables"]["documents"]["rows"] = 3
    manifest_path.write_text(json.dumps(manifest))
    drill = maintenance.resolve_job_def("run_restore_drill").execute_in_process(instance=instance)
    [evaluation] = drill.get_asset_check_evaluations()
    assert not evaluation.passed and "documents" in evaluation.metadata["result"].value


def test_backup_asset_and_drill_check_materialize_together(maintenance_env):
    maintenance = _defs(maintenance_env)
    result = dg.materialize(
        [maintenance.get_assets_def("postgres_backup"), *maintenance.asset_checks],
        resources=resources_from_env(maintenance_env), instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.passed, evaluation.metadata["result"].value


def test_vacuum_job_in_process_reports_sizes(maintenance_env):
    result = _defs(maintenance_env).resolve_job_def("vacuum_reindex_database").execute_in_process(
        instance=dg.DagsterInstance.ephemeral())
    assert result.success
    [output] = [e for e in result.all_node_events if e.event_type_value == "STEP_OUTPUT"]
    meta = {k: v.value for k, v in output.event_specific_data.metadata.items()}
    assert meta["tables"] == 8 and meta["reindex"] == "CONCURRENTLY"
    assert meta["total_bytes_before"] > 0 and meta["total_bytes_after"] > 0
    for when in ("before", "after"):
        assert meta[f"total_bytes_{when}"] == meta[f"table_bytes_{when}"] + meta[f"index_bytes_{when}"]
    chunks = meta["sizes_per_table"]["chunks"]
    assert chunks["after"]["total_bytes"] == chunks["after"]["table_bytes"] + chunks["after"]["index_bytes"]


def test_backup_and_drill_on_the_embedded_default_use_pgservers_own_pg_dump(monkeypatch, tmp_path):
    from ceramic_pipeline.storage.embedded import embedded_database_url, stop_embedded_server

    data_dir = tmp_path / "data"
    for name in ("DATABASE_URL", "CERAMIC_URL", "IPFS_PINNING_SERVICE", "PROMETHEUS_PUSHGATEWAY_URL", "BACKUP_DIR"):
        monkeypatch.delenv(name, raising=False)
    env = {"CERAMIC_PIPELINE_DATA": str(data_dir)}
    try:
        populate(resources_from_env(env)["postgres"].url(), documents=1, chunks_per_document=5)
        maintenance = _defs(env)
        result = dg.materialize([maintenance.get_assets_def("postgres_backup"), *maintenance.asset_checks],
                                resources=resources_from_env(env), instance=dg.DagsterInstance.ephemeral())
        assert result.success
        [evaluation] = result.get_asset_check_evaluations()
        assert evaluation.passed, evaluation.metadata["result"].value
        [backup] = list_backups(data_dir / "backups")
        with psycopg.connect(embedded_database_url(data_dir)) as conn:
            server_major = conn.info.server_version // 10000
        assert backup.manifest["pg_dump_major"] == server_major == 16  # pgserver's PostgreSQL
        assert backup.manifest["tables"]["chunks"]["rows"] == 5
    finally:
        stop_embedded_server(data_dir)
