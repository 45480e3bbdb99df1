import dagster as dg
from dagster._utils.schedules import is_valid_cron_string

from ceramic_pipeline.defs.maintenance.archival import archive_streams
from ceramic_pipeline.defs.maintenance.jobs import backup_database, run_restore_drill, vacuum_reindex_database
from ceramic_pipeline.defs.maintenance.resync import resync_from_ceramic
from ceramic_pipeline.defs.maintenance.retention import prune_dagster_runs
from ceramic_pipeline.defs.maintenance.verification import verify_streams
from ceramic_pipeline.settings import ConfigError, Settings


def checked_cron(settings: Settings, variable: str, default: str) -> str:
    """The cron string of ``variable`` (``Settings.cron``); ConfigError naming the variable when Dagster cannot parse it."""
    cron = settings.cron(variable, default)
    if not is_valid_cron_string(cron):
        raise ConfigError(f"{variable} must be a cron expression like {default!r}, got {cron!r}")
    return cron


def maintenance_schedules(settings: Settings) -> list[dg.ScheduleDefinition]:
    """Every maintenance job on its schedule, running by default, so the embedded default
    (`dagster dev`) is maintained with nothing configured.

    Each cron comes from its variable (``Settings.cron``), in MAINTENANCE_TIMEZONE (UTC by
    default); a value that is not a cron string is a ConfigError naming the variable.
    """
    table = [  # (job, cron variable, default cron, run config, description)
        (backup_database, "BACKUP_CRON", "0 2 * * *", None, "pg_dump + local data archive"),
        (run_restore_drill, "RESTORE_DRILL_CRON", "0 4 * * 0", None,
         "restore the newest backup into a scratch database and compare"),
        (vacuum_reindex_database, "VACUUM_CRON", "0 3 * * 0", None, "VACUUM ANALYZE + REINDEX"),
        (archive_streams, "ARCHIVE_CRON", "30 3 * * *",
         {"ops": {"archive_old_streams": {"config": {"after_days": settings.archive_after_days}}}},
         "streams not really changed for ARCHIVE_AFTER_DAYS move to ceramic_streams_archive"),
        (prune_dagster_runs, "DAGSTER_RUN_RETENTION_CRON", "0 4 * * *",
         {"ops": {"delete_old_dagster_runs": {"config": {"retention_days": settings.dagster_run_retention_days}}}},
         "delete finished runs older than DAGSTER_RUN_RETENTION_DAYS that hold no asset history"),
        (resync_from_ceramic, "RESYNC_CRON", "0 5 * * *", {"ops": {"resync_streams": {"config": {"full": False}}}},
         "incremental re-sync of ceramic_streams from the node's feed"),
        (verify_streams, "VERIFY_STREAMS_CRON", "0 6 * * 0", None,
         "full read-back: every live stream's chain fetched and verified (ingest runs check tips only)"),
    ]
    schedules = []
    for job, variable, default, run_config, description in table:
        cron = checked_cron(settings, variable, default)
        schedules.append(dg.ScheduleDefinition(
            name=f"{job.name}_schedule", job=job, cron_schedule=cron, execution_timezone=settings.maintenance_timezone,
            run_config=run_config, default_status=dg.DefaultScheduleStatus.RUNNING, description=f"{description} ({variable})",
        ))
    return schedules
