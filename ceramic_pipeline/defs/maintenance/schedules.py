import dagster as dg
from dagster._utils.schedules import is_valid_cron_string

from ceramic_pipeline.defs.maintenance.jobs import backup_database, run_restore_drill, vacuum_reindex_database
from ceramic_pipeline.settings import ConfigError, Settings


def _cron(variable: str, value: str) -> str:
    if not is_valid_cron_string(value):
        raise ConfigError(f"{variable} must be a cron expression like '0 2 * * *', got {value!r}")
    return value


def maintenance_schedules(settings: Settings) -> list[dg.ScheduleDefinition]:
    """Daily backup, weekly restore drill and VACUUM/REINDEX; running by default, so the
    embedded default (`dagster dev`) is maintained with nothing configured."""
    timezone = settings.maintenance_timezone
    return [
        dg.ScheduleDefinition(
            name=f"{job.name}_schedule", job=job, cron_schedule=_cron(variable, cron), execution_timezone=timezone,
            default_status=dg.DefaultScheduleStatus.RUNNING, description=description,
        )
        for job, variable, cron, description in [
            (backup_database, "BACKUP_CRON", settings.backup_cron, "pg_dump + local data archive (BACKUP_CRON)"),
            (run_restore_drill, "RESTORE_DRILL_CRON", settings.restore_drill_cron,
             "restore the newest backup into a scratch database and compare (RESTORE_DRILL_CRON)"),
            (vacuum_reindex_database, "VACUUM_CRON", settings.vacuum_cron, "VACUUM ANALYZE + REINDEX (VACUUM_CRON)"),
        ]
    ]
