"""Each maintenance schedule evaluates to its job with the configured run config, in UTC, running by default."""

from __future__ import annotations

import dagster as dg
import pytest

from ceramic_pipeline.definitions import defs
from ceramic_pipeline.defs.maintenance import maintenance_definitions
from ceramic_pipeline.settings import ConfigError, Settings

MAINTENANCE = {  # schedule: (job, cron variable)
    "archive_streams_schedule": ("archive_streams", "ARCHIVE_CRON"),
    "prune_dagster_runs_schedule": ("prune_dagster_runs", "DAGSTER_RUN_RETENTION_CRON"),
    "resync_from_ceramic_schedule": ("resync_from_ceramic", "RESYNC_CRON"),
    "verify_streams_schedule": ("verify_streams", "VERIFY_STREAMS_CRON"),
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


def schedule_from(env: dict[str, str], name: str) -> dg.ScheduleDefinition:
    [schedule] = [s for s in maintenance_definitions(Settings.from_env(env)).schedules if s.name == name]
    return schedule


def test_archival_schedule_carries_archive_after_days():
    schedule = schedule_from({}, "archive_streams_schedule")
    assert evaluate(schedule).run_config == {"ops": {"archive_old_streams": {"config": {"after_days": 90}}}}
    assert schedule.cron_schedule == "30 3 * * *"
    schedule = schedule_from({"ARCHIVE_AFTER_DAYS": "30", "ARCHIVE_CRON": "15 2 * * 0"}, "archive_streams_schedule")
    assert evaluate(schedule).run_config["ops"]["archive_old_streams"]["config"] == {"after_days": 30}
    assert schedule.cron_schedule == "15 2 * * 0"
    with pytest.raises(ConfigError, match="ARCHIVE_CRON"):
        maintenance_definitions(Settings.from_env({"ARCHIVE_CRON": "every night"}))


def test_retention_schedule_carries_the_retention_days():
    schedule = schedule_from({}, "prune_dagster_runs_schedule")
    assert evaluate(schedule).run_config == {"ops": {"delete_old_dagster_runs": {"config": {"retention_days": 30}}}}
    assert schedule.cron_schedule == "0 4 * * *"
    schedule = schedule_from({"DAGSTER_RUN_RETENTION_DAYS": "7", "DAGSTER_RUN_RETENTION_CRON": "0 1 * * 6"},
                             "prune_dagster_runs_schedule")
    assert evaluate(schedule).run_config["ops"]["delete_old_dagster_runs"]["config"] == {"retention_days": 7}
    assert schedule.cron_schedule == "0 1 * * 6"


def test_resync_schedule_is_incremental_daily():
    schedule = schedule_from({}, "resync_from_ceramic_schedule")
    assert evaluate(schedule).run_config == {"ops": {"resync_streams": {"config": {"full": False}}}}
    assert schedule.cron_schedule == "0 5 * * *"
    assert schedule_from({"RESYNC_CRON": "0 */6 * * *"}, "resync_from_ceramic_schedule").cron_schedule == "0 */6 * * *"


def test_every_maintenance_job_is_scheduled():
    maintenance_jobs = {j.name for j in defs.resolve_all_job_defs() if j.tags.get("ceramic/kind") == "maintenance"}
    scheduled = {s.job_name for s in defs.schedules}
    assert {job for job, _ in MAINTENANCE.values()} <= maintenance_jobs <= scheduled


@pytest.mark.parametrize("name", sorted(MAINTENANCE))
def test_each_schedules_run_config_is_valid_for_its_job(name):
    schedule = defs.resolve_schedule_def(name)
    request = evaluate(schedule)
    dg.validate_run_config(defs.resolve_job_def(schedule.job_name), request.run_config)  # raises when invalid
