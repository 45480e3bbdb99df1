"""prune_dagster_runs deletes only finished runs older than the retention, and never a run that
holds asset materialisations (their history stays queryable)."""

from __future__ import annotations

import time
from pathlib import Path
from datetime import datetime, timedelta, timezone

import dagster as dg
import pytest

from ceramic_pipeline.defs.maintenance.retention import prune_dagster_runs
from ceramic_pipeline.defs.maintenance.run_retention import DISPOSABLE_HISTORY, delete_old_runs


@dg.op
def noop() -> None:
    pass


@dg.job
def chores() -> None:
    noop()


@dg.asset
def glaze_batches() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"batches": 3})


def run_chores(instance: dg.DagsterInstance) -> str:
    return chores.execute_in_process(instance=instance).run_id


def test_only_old_runs_without_asset_history_are_deleted():
    with dg.instance_for_test() as instance:
        old = [run_chores(instance) for _ in range(3)]
        old_materialized = dg.materialize([glaze_batches], instance=instance).run_id
        old_disposable = dg.materialize([glaze_batches], instance=instance, tags=DISPOSABLE_HISTORY).run_id
        queued = instance.create_run_for_job(chores, run_id=None).run_id  # not finished: never deleted
        time.sleep(0.05)
        boundary = datetime.now(timezone.utc)  # runs above were created before it, the ones below after
        time.sleep(0.05)
        new = [run_chores(instance) for _ in range(2)]
        events_before = {run_id: len(instance.all_logs(run_id)) for run_id in [*old, old_disposable]}
        shards = {run_id: Path(instance.event_log_storage.path_for_shard(run_id)) for run_id in old + new}
        assert all(path.exists() for path in shards.values())
        old_bytes = sum(shards[run_id].stat().st_size for run_id in old)

        # Retention 30 days, the clock 30 days after the boundary: exactly the runs before it are old.
        report = delete_old_runs(instance, 30, now=boundary + timedelta(days=30))
        assert sorted(report.deleted_runs) == sorted([*old, old_disposable])  # disposable history goes too
        assert report.deleted_events == sum(events_before.values()) > 0
        assert report.kept_with_asset_history == 1
        remaining = {r.run_id for r in instance.get_runs()}
        assert remaining == {old_materialized, queued, *new}
        assert report.freed_bytes >= old_bytes > 0  # the per-run SQLite files are gone, the new ones stay
        assert [run_id for run_id, path in shards.items() if path.exists()] == new
        assert all(instance.all_logs(run_id) == [] for run_id in old)
        history = instance.fetch_materializations(dg.AssetKey("glaze_batches"), limit=10).records
        assert [r.run_id for r in history] == [old_materialized]
        assert delete_old_runs(instance, 30, now=boundary + timedelta(days=30)).deleted_runs == []
        assert delete_old_runs(instance, 30, now=boundary + timedelta(days=29)).deleted_runs == []
        with pytest.raises(ValueError):
            delete_old_runs(instance, -1)


def test_the_job_reports_what_it_freed():
    with dg.instance_for_test() as instance:
        old = run_chores(instance)
        result = prune_dagster_runs.execute_in_process(
            instance=instance,
            run_config={"ops": {"delete_old_dagster_runs": {"config": {"retention_days": 0}}}},
        )
        assert result.success
        [output] = [e for e in result.all_node_events if e.event_type == dg.DagsterEventType.STEP_OUTPUT]
        meta = {k: v.value for k, v in output.event_specific_data.metadata.items()}
        assert meta["deleted_runs"] == 1 and meta["deleted_event_log_entries"] > 0 and meta["retention_days"] == 0
        assert meta["freed_sqlite_bytes"] > 0
        assert instance.get_run_by_id(old) is None
        assert instance.get_run_by_id(result.run_id) is not None  # itself: still running when it looked
