"""new_documents_sensor evaluated as the daemon does (evaluate_tick on a real instance), against a
real inbox folder and the real `documents` table."""

from __future__ import annotations

import json

import dagster as dg

from ceramic_pipeline.defs.documents.assets import docling_documents
from ceramic_pipeline.defs.documents.sensors import decode_cursor, new_documents_sensor
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


def added_keys(result) -> list[str]:
    return [key for request in result.dynamic_partitions_requests for key in request.partition_keys]


def error_chain(error):
    while error is not None:
        yield error
        error = error.cause


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
    assert sorted(r.partition_key for r in result.run_requests) == sorted(keys)
    in_flight = decode_cursor(result.cursor)
    assert set(in_flight) == {p.name for p in inbox.iterdir()}
    for request in result.run_requests:
        [name] = [n for n in in_flight if key_of(inbox / n, inbox) == request.partition_key]
        assert request.run_key == f"{request.partition_key}:{in_flight[name][:16]}"
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
    assert request.partition_key == key_of(path, inbox)
    new_hash = decode_cursor(result.cursor)["studio-safety-notes.json"]
    assert request.run_key == f"{request.partition_key}:{new_hash[:16]}"
    assert set(decode_cursor(result.cursor)) == {"studio-safety-notes.json"}


def test_unreadable_and_invalid_files_do_not_block_the_others(instance, resources, inbox, capfd):
    (inbox / "gone.json").symlink_to(inbox / "missing-target.json")  # dangling: cannot be read
    (inbox / "broken.json").write_text("{not json")

    result = tick(instance, resources)
    requested = {r.partition_key for r in result.run_requests}
    good = {key_of(inbox / n, inbox) for n in ("glaze-firing-guide.json", "kiln-maintenance-log.json", "studio-safety-notes.json")}
    assert good <= requested
    assert key_of(inbox / "gone.json", inbox) not in requested
    assert "WARNING - inbox file skipped: gone.json: cannot stat" in capfd.readouterr().err  # the tick log

    # The sensor only hashes files; whether the content is a DoclingDocument is decided by the run,
    # which fails with a message naming the file, and the next tick does not request it again.
    broken_key = key_of(inbox / "broken.json", inbox)
    assert broken_key in requested
    run = dg.materialize([docling_documents], partition_key=broken_key, instance=instance, resources=resources, raise_on_error=False)
    assert not run.success
    [failure] = [e for e in run.all_events if e.is_step_failure]
    causes = list(error_chain(failure.step_failure_data.error))
    assert any(e.cls_name == InvalidDocumentError.__name__ and "broken.json is not valid JSON" in e.message for e in causes)

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
