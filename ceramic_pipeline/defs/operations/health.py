"""The dependency checks of ``ceramic-pipeline health`` as scheduled asset checks (issue 12).

Each run sets the ``ceramic_dependency_up{dependency}`` gauge and pushes it; the checks'
history is on the ``pipeline_dependencies`` asset's page in the UI.
"""

import dagster as dg

from ceramic_pipeline import health
from ceramic_pipeline.defs.maintenance.run_retention import DISPOSABLE_HISTORY
from ceramic_pipeline.defs.maintenance.schedules import checked_cron
from ceramic_pipeline.defs.observability import push_metrics
from ceramic_pipeline.envparse import ConfigError
from ceramic_pipeline.settings import Settings

# Not "maintenance": dagster.yaml runs one maintenance run at a time, and a health check must
# not wait behind a backup or be held back by publish_outbox.
OPERATIONS = {"ceramic/kind": "operations"}
HEALTH_CRON_VARIABLE, HEALTH_CRON_DEFAULT = "HEALTH_CRON", "*/5 * * * *"

pipeline_dependencies = dg.AssetSpec(
    "pipeline_dependencies", group_name="operations", kinds={"ceramic", "postgres", "ipfs"},
    description="The services the pipeline depends on: the Ceramic node, PostgreSQL, the pinning service "
                "and the outbox. Nothing is materialised here; its checks are the health of each.",
)

# Check name -> (health.Check.name, description). The order is health.run_checks's.
DEPENDENCIES = {
    "ceramic_node": ("ceramic", "The Ceramic node answers GET /ceramic/liveness and /ceramic/version (one attempt each)."),
    "postgresql": ("postgres", "The pipeline's PostgreSQL accepts a connection and answers a query."),
    "pinning": ("pinning", "The configured pinning service is healthy: Pinata accepts the credentials, Kubo answers, "
                           "or the embedded blockstore is writable."),
    "outbox": ("outbox", "No outbox event has been pending longer than HEALTH_OUTBOX_MAX_AGE_SECONDS (default 3600)."),
}
SPECS = [dg.AssetCheckSpec(name, asset=pipeline_dependencies.key, description=description)
         for name, (_, description) in DEPENDENCIES.items()]


@dg.multi_asset_check(specs=SPECS, name="pipeline_dependencies_health",
                      description="Run the checks of `ceramic-pipeline health`, one asset check per dependency.")
def pipeline_dependencies_health(context: dg.AssetCheckExecutionContext):
    """One AssetCheckResult per dependency, its one-line detail as description and metadata.

    The configuration is read from the environment at run time, as the CLI reads it; embedded
    services that are not running are reported down, never started (health.run_checks). A
    configuration error fails every check with its one line (naming the variable, never a value).
    """
    try:
        checks = {check.name: check for check in health.run_checks(Settings.from_env(), health.TIMEOUT_S)}
    except ConfigError as exc:
        for name in DEPENDENCIES:
            yield dg.AssetCheckResult(check_name=name, passed=False, description=f"configuration: {exc}",
                                      metadata={"detail": f"configuration: {exc}"})
        return
    health.record(list(checks.values()))
    push_metrics(context)
    for name, (dependency, _) in DEPENDENCIES.items():
        check = checks[dependency]
        context.log.info(check.line())
        yield dg.AssetCheckResult(check_name=name, passed=check.ok, description=check.detail,
                                  metadata={"detail": check.detail, "dependency": dependency})


check_health = dg.define_asset_job(
    "check_health", selection=dg.AssetSelection.checks_for_assets(pipeline_dependencies.key),
    tags={**OPERATIONS, **DISPOSABLE_HISTORY},  # prune_dagster_runs deletes old health runs, evaluations included
    description="Health of the Ceramic node, PostgreSQL, the pinning service and the outbox (ceramic-pipeline health).",
)


def health_schedule(settings: Settings) -> dg.ScheduleDefinition:
    """``check_health`` every 5 minutes (HEALTH_CRON), UTC, running by default."""
    return dg.ScheduleDefinition(
        name="check_health_schedule", job=check_health,
        cron_schedule=checked_cron(settings, HEALTH_CRON_VARIABLE, HEALTH_CRON_DEFAULT), execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"dependency health checks ({HEALTH_CRON_VARIABLE})",
    )
