"""delete_old_runs: Dagster's own storage; finished runs older than DAGSTER_RUN_RETENTION_DAYS go,
runs holding asset history stay (see run_retention.py beside it for exactly what is kept)."""

import time

import dagster as dg

from ceramic_pipeline.defs.policies import MAINTENANCE_TAGS
from ceramic_pipeline.defs.maintenance.run_retention import delete_old_runs


class RunRetentionConfig(dg.Config):
    retention_days: int = 30  # DAGSTER_RUN_RETENTION_DAYS; the schedule passes the configured value


@dg.op
def delete_old_dagster_runs(context: dg.OpExecutionContext, config: RunRetentionConfig) -> dg.Output[None]:
    started = time.perf_counter()
    report = delete_old_runs(context.instance, config.retention_days)
    context.log.info(
        f"deleted {len(report.deleted_runs)} runs and {report.deleted_events} event log entries created before "
        f"{report.cutoff:%Y-%m-%d %H:%M} UTC; kept {report.kept_with_asset_history} with asset history"
    )
    return dg.Output(None, metadata={
        "deleted_runs": len(report.deleted_runs),
        "deleted_event_log_entries": report.deleted_events,
        "kept_with_asset_history": report.kept_with_asset_history,
        "freed_sqlite_bytes": report.freed_bytes,
        "retention_days": config.retention_days,
        "cutoff_utc": report.cutoff.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 3),
    })


@dg.job(tags=MAINTENANCE_TAGS)
def prune_dagster_runs() -> None:
    delete_old_dagster_runs()

