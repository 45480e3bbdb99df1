"""new_documents_sensor evaluated as the daemon does (evaluate_tick on a real instance), against a
real inbox folder and the real `documents` table."""

from __future__ import annotations

import json

import dagster as dg
import psycopg

from ceramic_pipeline.defs.documents.assets import docling_documents
from ceramic_pipeline.defs.documents.sensors import decode_cursor, new_documents_sensor
from ceramic_pipeline.defs.partitions import RANGE_END_TAG, RANGE_START_TAG
from ceramic_pipeline.storage.documents import outcomes_for_keys
from ceramic_pipeline.documents.errors import InvalidDocumentError
from ceramic_pipeline_tests.defs.pipeline import definitions_with, inbox_keys, key_of, materialize_partition


def tick(instance: dg.DagsterInstance, resources: dict, cursor: str | None = None):
    context = dg.build_sensor_context(
        instance=instance, instance_ref=instance.get_ref(), definitions=definitions_with(resources),
        cursor=cursor, resources=resources,
    )
    result = new_documents_sensor.evaluate_tick(context)
    for request in result.dynamic_partitions_requests:  # what the daemon does with them
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def requested_keys(result, instance: dg.DagsterInstance) -> list[str]:
    """The partitions each run request covers (a range run covers start..end in partition order)."""
    order = instance.get_dynamic_partitions("documents")
    keys = []
    for request in result.run_requests:
        start, end = request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]
        keys += order[order.index(start): order.index(end) + 1]
    return keys


def added_keys(result) -> list[str]:
    return [key for request in result.dynamic_partitions_requests for key in request.partition_keys]


def ingest_documents(keys: list[str], instance: dg.DagsterInstance, resources: dict) -> None:
    """Run the whole chain; its last asset marks each document ingested in `documents`."""
    instance.add_dynamic_partitions("documents", keys)
    for key in keys:
        assert materialize_partition(key, instance, resources).success


def register_only(keys: list[str], instance: dg.DagsterInstance, resources: dict) -> None:
    """Run only the first asset, as a run that fails after registering would."""
    instance.add_dynamic_partitions("documents", keys)
    for key in keys:
        assert dg.materialize([docling_documents], partition_key=key, instance=instance, resources=resources).success


def test_new_files_add_partitions_and_request_runs(instance, resources, inbox):
    result = tick(instance, resources)
    keys = inbox_keys(inbox)
    assert sorted(added_keys(result)) == sorted(keys)
    [request] = result.run_requests  # three new documents: one run over their partition range
    assert sorted(requested_keys(result, instance)) == sorted(keys)
    in_flight = decode_cursor(result.cursor)
    assert set(in_flight) == {p.name for p in inbox.iterdir()}
    assert request.run_key.startswith(f"{request.tags[RANGE_START_TAG]}..{request.tags[RANGE_END_TAG]}:")
    assert result.skip_message is None

    again = tick(instance, resources, result.cursor)  # the runs have not finished yet
    assert again.run_requests == [] and added_keys(again) == []
    assert again.skip_message.startswith("no new or changed documents")


def test_ingested_files_are_skipped_and_leave_the_cursor(instance, resources, inbox):
    first = tick(instance, resources)
    ingest_documents(inbox_keys(inbox), instance, resources)
    result = tick(instance, resources, first.cursor)
    assert result.run_requests == []
    assert result.skip_message == "no new or changed documents (3 unchanged, 0 unreadable)"
    assert decode_cursor(result.cursor) == {}  # completed requests drop out


def test_a_document_only_registered_by_a_failed_run_is_not_ingested(instance, resources, inbox):
    first = tick(instance, resources)
    register_only(inbox_keys(inbox), instance, resources)
    result = tick(instance, resources, first.cursor)
    assert result.run_requests == []  # the same content keeps its run key: re-execute the failed run
    assert len(decode_cursor(result.cursor)) == 3  # still in flight, not ingested
    assert tick(instance, resources).run_requests  # with a fresh cursor it would be requested again


def test_a_changed_file_requests_a_run_but_no_new_partition(instance, resources, inbox):
    ingest_documents(inbox_keys(inbox), instance, resources)
    path = inbox / "studio-safety-notes.json"
    document = json.loads(path.read_text())
    document["texts"][2]["text"] += " Changed."
    path.write_text(json.dumps(document))

    result = tick(instance, resources)
    assert added_keys(result) == []
    [request] = result.run_requests
    key = key_of(path, inbox)
    assert requested_keys(result, instance) == [key]
    assert request.run_key.startswith(f"{key}..{key}:")
    assert set(decode_cursor(result.cursor)) == {"studio-safety-notes.json"}


def test_unreadable_and_invalid_files_do_not_block_the_others(instance, resources, inbox, capfd, pipeline_env):
    (inbox / "gone.json").symlink_to(inbox / "missing-target.json")  # dangling: cannot be read
    (inbox / "broken.json").write_text("{not json")

    result = tick(instance, resources)
    requested = set(requested_keys(result, instance))
    good = {key_of(inbox / n, inbox) for n in ("glaze-firing-guide.json", "kiln-maintenance-log.json", "studio-safety-notes.json")}
    assert good <= requested
    assert key_of(inbox / "gone.json", inbox) not in requested
    assert "WARNING - inbox file skipped: gone.json: cannot stat" in capfd.readouterr().err  # the tick log

    # The sensor only hashes files; whether the content is a DoclingDocument is decided by the run,
    # which records the document as failed with a reason naming the file (the run itself succeeds),
    # and the next tick does not request it again until the file changes.
    broken_key = key_of(inbox / "broken.json", inbox)
    assert broken_key in requested
    run = dg.materialize([docling_documents], partition_key=broken_key, instance=instance, resources=resources)
    assert run.success
    with psycopg.connect(pipeline_env["DATABASE_URL"]) as conn:
        [outcome] = outcomes_for_keys(conn, [broken_key])
    assert outcome.state == "failed"
    assert outcome.error.startswith(f"{InvalidDocumentError.__name__}: ") and "broken.json is not valid JSON" in outcome.error

    ingest_documents(sorted(good), instance, resources)
    later = tick(instance, resources, result.cursor)
    assert later.run_requests == []
    assert later.skip_message == "no new or changed documents (4 unchanged, 1 unreadable)"


def test_a_missing_inbox_is_a_skip_not_an_error(instance, resources, inbox):
    for path in inbox.iterdir():
        path.unlink()
    inbox.rmdir()
    result = tick(instance, resources)
    assert result.run_requests == []
    assert "does not exist" in result.skip_message
