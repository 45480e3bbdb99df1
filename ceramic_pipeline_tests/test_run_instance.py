"""The CLI's throwaway run instance (ceramic_pipeline.run_instance) on the pinned Dagster: Dagster's
two switches still do what its code says, and the batching event storage leaves what Dagster's
own in-memory storage leaves for a range run (each partition's materialisation with its own
metadata, the asset's latest materialisation, the checks), while storing each step's
per-partition events as one batch."""

import os

import dagster as dg
import pytest

from ceramic_pipeline.run_instance import EVENT_BATCH_SIZE, PLANNED_SUBSET, BatchingInMemoryEventLogStorage, run_instance

PARTS = ["a", "b", "c", "d"]
DOCS = dg.DynamicPartitionsDefinition(name="documents")
RANGE = {"dagster/asset_partition_range_start": "a", "dagster/asset_partition_range_end": "d"}
CHECK = dg.AssetCheckSpec("all_good", asset="downstream")


@dg.asset(partitions_def=DOCS, backfill_policy=dg.BackfillPolicy.single_run())
def upstream(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    for key in context.partition_keys:  # per-partition metadata, as ceramic_streams_table's outcomes
        context.add_asset_metadata({"document": f"doc-{key}"}, partition_key=key)
    return dg.MaterializeResult(metadata={"partitions": len(context.partition_keys)})


@dg.asset(partitions_def=DOCS, backfill_policy=dg.BackfillPolicy.single_run(), deps=[upstream], check_specs=[CHECK])
def downstream(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"partitions": len(context.partition_keys)},
                                check_results=[dg.AssetCheckResult(check_name="all_good", passed=True)])


def stored(instance: dg.DagsterInstance, run_id: str) -> dict:
    """What the instance's event storage holds of the run, in comparable form."""
    materialized = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    planned = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED)
    latest = {key.to_user_string(): instance.get_latest_materialization_event(key) for key in (dg.AssetKey("upstream"), dg.AssetKey("downstream"))}
    checks = instance.event_log_storage.get_asset_check_execution_history(dg.AssetCheckKey(dg.AssetKey("downstream"), "all_good"), limit=10)
    return {
        "materializations": sorted(
            (r.dagster_event.asset_key.to_user_string(), r.dagster_event.partition,
             tuple(sorted((k, str(v.value)) for k, v in r.asset_materialization.metadata.items())))
            for r in materialized
        ),
        "planned": len(planned),
        "latest": {key: (event.dagster_event.partition if event else None) for key, event in latest.items()},
        "materialized_partitions": sorted(instance.get_materialized_partitions(dg.AssetKey("downstream"))),
        "checks": [c.status.value for c in checks],
    }


def run_on(instance: dg.DagsterInstance) -> dict:
    result = dg.materialize([upstream, downstream], instance=instance, tags=RANGE)
    assert result.success
    return stored(instance, result.run_id)


def test_the_run_instance_stores_what_dagsters_own_stores_with_one_planned_event_per_asset(monkeypatch):
    monkeypatch.delenv(PLANNED_SUBSET, raising=False)
    monkeypatch.delenv(EVENT_BATCH_SIZE, raising=False)
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("documents", PARTS)
        reference = run_on(instance)
    with run_instance(PARTS) as instance:
        assert isinstance(instance.event_log_storage, BatchingInMemoryEventLogStorage)
        ours = run_on(instance)
    assert reference["planned"] == 8 and ours["planned"] == 2  # 2 assets × 4 partitions, against one per asset
    reference.pop("planned"), ours.pop("planned")
    assert ours == reference
    assert ("upstream", "c", (("document", "doc-c"), ("partitions", "4"))) in ours["materializations"]
    assert ours["materialized_partitions"] == PARTS and ours["checks"] == ["SUCCEEDED"]
    assert PLANNED_SUBSET not in os.environ and EVENT_BATCH_SIZE not in os.environ  # scoped to the instance


def test_a_steps_partition_events_reach_the_storage_as_one_batch(monkeypatch):
    batches: list[list[str]] = []
    real = BatchingInMemoryEventLogStorage.store_event_batch

    def spy(self, events):
        batches.append([e.dagster_event_type.value for e in events])
        return real(self, events)

    monkeypatch.setattr(BatchingInMemoryEventLogStorage, "store_event_batch", spy)
    with run_instance(PARTS) as instance:
        run_on(instance)
    materializations = [b for b in batches if "ASSET_MATERIALIZATION" in b]
    assert materializations == [["ASSET_MATERIALIZATION"] * 4] * 2, batches  # one batch per asset, an event per partition


@pytest.mark.parametrize("variable", [PLANNED_SUBSET, EVENT_BATCH_SIZE])
def test_a_value_set_before_is_restored(monkeypatch, variable):
    monkeypatch.setenv(variable, "7")
    with run_instance(PARTS):
        assert os.environ[variable] != "7"
    assert os.environ[variable] == "7"
