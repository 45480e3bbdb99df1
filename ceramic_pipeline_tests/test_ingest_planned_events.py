"""The throwaway instance's planned-events switch (ingest._one_planned_event_per_asset) still does
what Dagster's code says on the pinned Dagster: one planned event per asset for a range run,
instead of one per asset and partition; without the switch, one per partition."""

import os

import dagster as dg

from ceramic_pipeline.ingest import _PLANNED_SUBSET, _one_planned_event_per_asset

PARTS = dg.StaticPartitionsDefinition(["a", "b", "c", "d"])


@dg.asset(partitions_def=PARTS, backfill_policy=dg.BackfillPolicy.single_run())
def upstream(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"partitions": len(context.partition_keys)})


@dg.asset(partitions_def=PARTS, backfill_policy=dg.BackfillPolicy.single_run(), deps=[upstream])
def downstream(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"partitions": len(context.partition_keys)})


def planned_events(switch: bool) -> list[dg.DagsterEvent]:
    tags = {"dagster/asset_partition_range_start": "a", "dagster/asset_partition_range_end": "d"}
    with dg.DagsterInstance.ephemeral() as instance:
        if switch:
            with _one_planned_event_per_asset():
                result = dg.materialize([upstream, downstream], instance=instance, tags=tags)
        else:
            result = dg.materialize([upstream, downstream], instance=instance, tags=tags)
        assert result.success
        assert len(result.asset_materializations_for_node("downstream")) == 4  # per partition, either way
        records = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED)
    return [r.dagster_event for r in records]


def test_one_planned_event_per_asset_with_the_switch_and_the_variable_restored(monkeypatch):
    monkeypatch.delenv(_PLANNED_SUBSET, raising=False)
    assert len(planned_events(switch=False)) == 8  # 2 assets × 4 partitions
    switched = planned_events(switch=True)
    assert len(switched) == 2
    assert all(set(e.event_specific_data.partitions_subset.get_partition_keys()) == {"a", "b", "c", "d"} for e in switched)
    assert _PLANNED_SUBSET not in os.environ  # scoped to the run
