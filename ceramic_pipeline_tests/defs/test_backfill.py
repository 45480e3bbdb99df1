"""A backfill of many documents is ONE run (BackfillPolicy.single_run): a partition-range run of the
ingest_documents job materialises every partition, so the assets must use context.partition_keys."""

from __future__ import annotations

import json
import time

import psycopg

from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from ceramic_pipeline_tests.defs.pipeline import (
    PARTITIONED_ASSETS,
    check_outcomes,
    definitions_with,
    inbox_keys,
    key_of,
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


def test_one_bad_document_and_one_vanished_file_do_not_sink_the_range(instance, resources, inbox, pipeline_env):
    (inbox / "broken.json").write_text('{"schema_name": "DoclingDocument", "texts": [')
    (inbox / "vanishing.json").write_text((inbox / "studio-safety-notes.json").read_text())
    keys = inbox_keys(inbox)
    instance.add_dynamic_partitions("documents", keys)
    (inbox / "vanishing.json").unlink()  # its partition exists, its file has left the inbox

    job = definitions_with(resources).resolve_job_def("ingest_documents")
    result = job.execute_in_process(
        instance=instance, tags={ASSET_PARTITION_RANGE_START_TAG: keys[0], ASSET_PARTITION_RANGE_END_TAG: keys[-1]},
        raise_on_error=False,
    )

    assert result.success  # the run materialises every good document
    outcomes = check_outcomes(result)
    assert outcomes["every_document_ingested"] is False and outcomes["read_back_signatures_verify"] is True
    [evaluation] = [e for e in result.get_asset_check_evaluations() if e.check_name == "every_document_ingested"]
    failed = evaluation.metadata["failed"].value
    vanished = key_of(inbox / "vanishing.json", inbox)  # never registered: reported by its partition key
    assert set(failed) == {"broken.json", vanished}
    assert failed["broken.json"].startswith("InvalidDocumentError: ") and "not valid JSON" in failed["broken.json"]
    assert failed[vanished].startswith("UnknownPartitionError: ")
    with psycopg.connect(pipeline_env["DATABASE_URL"]) as conn:
        states = dict(conn.execute("SELECT document_id, state FROM documents").fetchall())
        streams = conn.execute("SELECT count(*) FROM ceramic_streams WHERE status = 'active'").fetchone()[0]
    assert states == {"broken.json": "failed", "glaze-firing-guide.json": "ingested",
                      "kiln-maintenance-log.json": "ingested", "studio-safety-notes.json": "ingested"}
    # The check carries the run's documents table (once, not on each partition's materialisation).
    table = evaluation.metadata["documents"].value.splitlines()
    assert "| broken.json | failed | InvalidDocumentError: " in "\n".join(table) and len(table) == 2 + 4
    assert all("documents" not in e.metadata for e in result.asset_materializations_for_node("ceramic_streams_table"))
    assert streams == 13  # the three good documents, in full
