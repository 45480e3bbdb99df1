import dagster as dg
from dagster._utils.schedules import is_valid_cron_string

from ceramic_pipeline.settings import ConfigError, Settings

# Network-bound steps: exponential backoff with jitter, bounded.
NETWORK_RETRY = dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)

# Back-filling 1,000 documents is one run, not 1,000.
SINGLE_RUN = dg.BackfillPolicy.single_run()

# Maintenance jobs share one tag: dagster.yaml lets one of them run at a time.
MAINTENANCE_TAGS = {"ceramic/kind": "maintenance"}


def maintenance_schedule(
    job: dg.JobDefinition, settings: Settings, cron_variable: str, default_cron: str, run_config: dict | None = None
) -> dg.ScheduleDefinition:
    """A plain UTC schedule, running by default, whose cron comes from ``cron_variable``.

    Raises ConfigError naming the variable when its value is not a valid cron string.
    """
    cron = settings.cron(cron_variable, default_cron)
    if not is_valid_cron_string(cron):
        raise ConfigError(f"{cron_variable} must be a cron string like {default_cron!r}, got {cron!r}")
    return dg.ScheduleDefinition(
        name=f"{job.name}_schedule", job=job, cron_schedule=cron, execution_timezone="UTC",
        run_config=run_config, default_status=dg.DefaultScheduleStatus.RUNNING,
    )
