"""A backfill of many documents is ONE run (BackfillPolicy.single_run): a partition-range run of the
ingest_documents job materialises every partition, so the assets must use context.partition_keys."""

from __future__ import annotations

import json
import time

from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from ceramic_pipeline_tests.defs.pipeline import (
    PARTITIONED_ASSETS,
    check_outcomes,
    definitions_with,
    inbox_keys,
    table_counts,
)

DOCUMENTS = 30


def test_a_partition_range_is_ingested_in_one_run(instance, resources, inbox, pipeline_env):
    template = json.loads((inbox / "studio-safety-notes.json").read_text())
    for path in list(inbox.iterdir()):
        path.unlink()
    for n in range(DOCUMENTS):
        template["texts"][0]["text"] = f"Studio safety notes, copy {n}"
        (inbox / f"notes-{n:02d}.json").write_text(json.dumps(template))
    keys = inbox_keys(inbox)
    instance.add_dynamic_partitions("documents", keys)

    job = definitions_with(resources).resolve_job_def("ingest_documents")
    started = time.perf_counter()
    result = job.execute_in_process(
        instance=instance, tags={ASSET_PARTITION_RANGE_START_TAG: keys[0], ASSET_PARTITION_RANGE_END_TAG: keys[-1]}
    )
    print(f"single run over {DOCUMENTS} partitions: {time.perf_counter() - started:.1f} s")

    assert result.success
    assert len(instance.get_run_records()) == 1
    for asset in PARTITIONED_ASSETS:
        events = result.asset_materializations_for_node(asset)
        assert sorted(e.partition for e in events) == sorted(keys), asset
    # One MaterializeResult covers the range, so Dagster copies its metadata (the run's totals) onto
    # every partition's materialization event.
    created = {e.metadata["created"].value for e in result.asset_materializations_for_node("ceramic_streams")}
    assert created == {4 * DOCUMENTS}
    assert all(check_outcomes(result).values())
    counts = table_counts(pipeline_env["DATABASE_URL"])
    assert counts["documents"] == DOCUMENTS and counts["ceramic_streams"] == 4 * DOCUMENTS
