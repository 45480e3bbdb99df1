"""Delete Dagster runs older than DAGSTER_RUN_RETENTION_DAYS, keeping asset history intact.

Dagster never prunes runs or event logs (dagster-io/dagster#4100, #33785). ``DagsterInstance.
delete_run`` (dagster 1.13, ``instance.delete_run`` → run storage ``delete_run`` + event log
``delete_events``) removes the run row and *every* event of the run, materialisations,
observations and check evaluations included. So a run that recorded any of those is kept
whole; what is deleted are finished runs with no asset events: maintenance and outbox runs,
failed or cancelled runs that materialised nothing, and their logs (with SQLite storage, the
run's own event log file too). Runs tagged DISPOSABLE_HISTORY go when old, asset events and all:
their history is worth only the retention period (the health checks, every 5 minutes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
from dagster._core.storage.event_log import SqliteEventLogStorage  # not re-exported publicly

FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]
ASSET_HISTORY = {
    dg.DagsterEventType.ASSET_MATERIALIZATION,
    dg.DagsterEventType.ASSET_OBSERVATION,
    dg.DagsterEventType.ASSET_CHECK_EVALUATION,
}

# Without this, check_health's runs (~8,600 a month, each with check evaluations) would be kept forever.
DISPOSABLE_HISTORY = {"ceramic/asset-history": "disposable"}


@dataclass
class RetentionReport:
    cutoff: datetime  # UTC; runs created before it were considered
    deleted_runs: list[str] = field(default_factory=list)
    deleted_events: int = 0  # event log entries removed with those runs
    kept_with_asset_history: int = 0  # old finished runs kept because they hold asset events
    freed_bytes: int = 0  # per-run SQLite event log files removed (SQLite storage only)


def delete_old_runs(
    instance: dg.DagsterInstance, days: float, *, now: datetime | None = None, page: int = 500
) -> RetentionReport:
    """Delete finished runs created more than ``days`` days before ``now`` (default: the clock)
    that have no materialisation, observation or check evaluation, or that carry the
    DISPOSABLE_HISTORY tag. Runs still queued or in progress are never touched. Raises
    ValueError for a negative ``days``."""
    if days < 0:
        raise ValueError(f"days must be >= 0, got {days}")
    cutoff = (now or datetime.now(timezone.utc)).astimezone(timezone.utc) - timedelta(days=days)
    report = RetentionReport(cutoff)
    filters = dg.RunsFilter(statuses=FINISHED, created_before=cutoff)
    for run_id, tags in _runs(instance, filters, page):
        disposable = all(tags.get(key) == value for key, value in DISPOSABLE_HISTORY.items())
        if not disposable and instance.get_records_for_run(run_id, of_type=ASSET_HISTORY, limit=1).records:
            report.kept_with_asset_history += 1
            continue
        report.deleted_events += len(instance.all_logs(run_id))
        instance.delete_run(run_id)
        report.freed_bytes += _remove_run_shard(instance, run_id)
        report.deleted_runs.append(run_id)
    return report


def _remove_run_shard(instance: dg.DagsterInstance, run_id: str) -> int:
    """Bytes freed by removing a deleted run's own SQLite event log file (DAGSTER_HOME storage
    without a storage block, as on the embedded default). delete_run empties it but leaves the
    file; PostgreSQL storage has no per-run file (its space comes back with VACUUM)."""
    storage = instance.event_log_storage
    if not isinstance(storage, SqliteEventLogStorage):
        return 0
    freed = 0
    base = Path(storage.path_for_shard(run_id))
    for path in (base, base.with_name(base.name + "-wal"), base.with_name(base.name + "-shm")):
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            continue
        freed += size
    # This process remembers the shard as initialised; forget it, so a later read of the
    # deleted run gets a fresh empty log instead of "no such table".
    getattr(storage, "_initialized_dbs", set()).discard(run_id)
    return freed


def _runs(instance: dg.DagsterInstance, filters: dg.RunsFilter, page: int) -> list[tuple[str, Mapping[str, str]]]:
    """Every matching (run id, tags), paged by run id before anything is deleted (a deleted
    cursor run would end the paging early)."""
    runs: list[tuple[str, Mapping[str, str]]] = []
    cursor: str | None = None
    while records := instance.get_run_records(filters, limit=page, cursor=cursor):
        runs += [(r.dagster_run.run_id, r.dagster_run.tags) for r in records]
        cursor = runs[-1][0]
    return runs
