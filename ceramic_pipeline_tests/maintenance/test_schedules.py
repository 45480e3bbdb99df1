"""Each maintenance schedule evaluates to its job with the configured run config, in UTC, running by default."""

from __future__ import annotations

import importlib

import dagster as dg
import pytest

from ceramic_pipeline.definitions import defs
from ceramic_pipeline.settings import ConfigError

MAINTENANCE = {
    # schedule: (job, cron variable, module)
    "archive_streams_schedule": ("archive_streams", "ARCHIVE_CRON", "ceramic_pipeline.defs.maintenance.archival"),
    "prune_dagster_runs_schedule": (
        "prune_dagster_runs", "DAGSTER_RUN_RETENTION_CRON", "ceramic_pipeline.defs.maintenance.retention",
    ),
    "resync_from_ceramic_schedule": ("resync_from_ceramic", "RESYNC_CRON", "ceramic_pipeline.defs.maintenance.resync"),
}


def evaluate(schedule: dg.ScheduleDefinition) -> dg.RunRequest:
    with dg.instance_for_test() as instance:
        result = schedule.evaluate_tick(dg.build_schedule_context(instance=instance))
    [request] = result.run_requests
    return request


@pytest.mark.parametrize("name", sorted(MAINTENANCE))
def test_schedules_are_registered_running_in_utc(name):
    schedule = defs.resolve_schedule_def(name)
    assert schedule.job_name == MAINTENANCE[name][0]
    assert schedule.execution_timezone == "UTC"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert defs.resolve_job_def(schedule.job_name).tags["ceramic/kind"] == "maintenance"


def test_archival_schedule_carries_archive_after_days(monkeypatch):
    module = importlib.import_module(MAINTENANCE["archive_streams_schedule"][2])
    request = evaluate(module.archive_streams_schedule)
    assert request.run_config == {"ops": {"archive_old_streams": {"config": {"after_days": 90}}}}
    assert module.archive_streams_schedule.cron_schedule == "30 3 * * *"
    monkeypatch.setenv("ARCHIVE_AFTER_DAYS", "30")
    monkeypatch.setenv("ARCHIVE_CRON", "15 2 * * 0")
    try:
        importlib.reload(module)
        assert evaluate(module.archive_streams_schedule).run_config["ops"]["archive_old_streams"]["config"] == {"after_days": 30}
        assert module.archive_streams_schedule.cron_schedule == "15 2 * * 0"
        monkeypatch.setenv("ARCHIVE_CRON", "every night")
        with pytest.raises(ConfigError, match="ARCHIVE_CRON"):
            importlib.reload(module)
    finally:
        monkeypatch.undo()
        importlib.reload(module)


def test_retention_schedule_carries_the_retention_days(monkeypatch):
    module = importlib.import_module(MAINTENANCE["prune_dagster_runs_schedule"][2])
    config = {"ops": {"delete_old_dagster_runs": {"config": {"retention_days": 30}}}}
    assert evaluate(module.prune_dagster_runs_schedule).run_config == config
    assert module.prune_dagster_runs_schedule.cron_schedule == "0 4 * * *"
    monkeypatch.setenv("DAGSTER_RUN_RETENTION_DAYS", "7")
    monkeypatch.setenv("DAGSTER_RUN_RETENTION_CRON", "0 1 * * 6")
    try:
        importlib.reload(module)
        request = evaluate(module.prune_dagster_runs_schedule)
        assert request.run_config["ops"]["delete_old_dagster_runs"]["config"] == {"retention_days": 7}
        assert module.prune_dagster_runs_schedule.cron_schedule == "0 1 * * 6"
    finally:
        monkeypatch.undo()
        importlib.reload(module)


def test_resync_schedule_is_incremental_daily(monkeypatch):
    module = importlib.import_module(MAINTENANCE["resync_from_ceramic_schedule"][2])
    assert evaluate(module.resync_from_ceramic_schedule).run_config == {"ops": {"resync_streams": {"config": {"full": False}}}}
    assert module.resync_from_ceramic_schedule.cron_schedule == "0 5 * * *"
    monkeypatch.setenv("RESYNC_CRON", "0 */6 * * *")
    try:
        importlib.reload(module)
        assert module.resync_from_ceramic_schedule.cron_schedule == "0 */6 * * *"
    finally:
        monkeypatch.undo()
        importlib.reload(module)


def test_every_maintenance_job_is_scheduled():
    maintenance_jobs = {j.name for j in defs.resolve_all_job_defs() if j.tags.get("ceramic/kind") == "maintenance"}
    scheduled = {s.job_name for s in defs.schedules}
    assert {job for job, _, _ in MAINTENANCE.values()} <= maintenance_jobs <= scheduled


@pytest.mark.parametrize("name", sorted(MAINTENANCE))
def test_each_schedules_run_config_is_valid_for_its_job(name):
    schedule = defs.resolve_schedule_def(name)
    request = evaluate(schedule)
    dg.validate_run_config(defs.resolve_job_def(schedule.job_name), request.run_config)  # raises when invalid
