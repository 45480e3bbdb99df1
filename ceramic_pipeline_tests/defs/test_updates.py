"""The update path through Dagster: edit a real DoclingDocument in the inbox (with docling-core),
re-materialise its partition, and check what changed in PostgreSQL, on the node and in the metadata."""

from __future__ import annotations

import psycopg
import pytest
from docling_core.types.doc import DocItemLabel, DoclingDocument

from ceramic_pipeline_tests.defs.devnode_state import stream_state
from ceramic_pipeline_tests.defs.pipeline import (
    check_outcomes,
    key_of,
    materialize_partition,
    metadata,
    table_counts,
)

DOCUMENT = "studio-safety-notes.json"  # 4 chunks; the last is the "Kiln room" list


def edit(path, change) -> None:
    document = DoclingDocument.load_from_json(path)
    change(document)
    document.save_as_json(path)


def streams(url: str, document_id: str) -> dict[int, tuple]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT chunk_index, stream_id, latest_cid, version, status FROM ceramic_streams WHERE document_id = %s",
            (document_id,),
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


def data_events(url: str, stream_id: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT count(*) FROM ceramic_events WHERE stream_id = %s AND kind = 'data'", (stream_id,)
        ).fetchone()[0]


@pytest.fixture
def ingested(instance, resources, inbox, pipeline_env):
    key = key_of(inbox / DOCUMENT, inbox)
    instance.add_dynamic_partitions("documents", [key])
    result = materialize_partition(key, instance, resources)
    assert metadata(result, "ceramic_streams")["created"] == 4
    return key


def counts_of(result) -> dict:
    meta = metadata(result, "ceramic_streams")
    return {name: meta[name] for name in ("created", "updated", "removed", "unchanged")}


def test_metadata_and_checks_of_a_first_ingest(instance, resources, inbox, pipeline_env, devnode):
    key = key_of(inbox / "kiln-maintenance-log.json", inbox)  # holds a chunk above the pin threshold
    instance.add_dynamic_partitions("documents", [key])
    result = materialize_partition(key, instance, resources)

    assert check_outcomes(result) == {
        "pinned_cids_recompute": True, "every_chunk_has_a_published_stream": True, "no_rejected_events": True,
        "table_rows_equal_chunks": True, "read_back_signatures_verify": True, "every_document_ingested": True,
    }
    streams_meta = metadata(result, "ceramic_streams")
    assert counts_of(result) == {"created": 3, "updated": 0, "removed": 0, "unchanged": 0}
    assert streams_meta["did"].startswith("did:key:z6Mk")
    assert streams_meta["model_id"].startswith("kjz")
    assert metadata(result, "pinned_chunks")["pinned"] == 1
    assert metadata(result, "ceramic_streams_table")["verified_streams"] == 3
    preview = streams_meta["preview"].splitlines()  # the asset page's table of the run's streams
    assert preview[0] == "| document | chunk | stream | version | tip | status |" and len(preview) == 2 + 3
    assert all(line.startswith("| kiln-maintenance-log.json |") and "| 2 | bagcq" in line and line.endswith("| active |")
               for line in preview[2:])
    for stream_id, latest_cid, version, status in streams(pipeline_env["DATABASE_URL"], "kiln-maintenance-log.json").values():
        assert status == "active"
        assert stream_state(devnode.url, stream_id)["event_cid"] == latest_cid


def test_changed_paragraph_updates_one_stream_with_one_data_event(instance, resources, inbox, pipeline_env, devnode, ingested):
    url = pipeline_env["DATABASE_URL"]
    before = streams(url, DOCUMENT)
    events_before = data_events(url, before[0][0])

    edit(inbox / DOCUMENT, lambda d: setattr(d.texts[2], "text", d.texts[2].text + " Use a HEPA vacuum."))
    result = materialize_partition(ingested, instance, resources)

    assert counts_of(result) == {"created": 0, "updated": 1, "removed": 0, "unchanged": 3}
    assert metadata(result, "ceramic_streams")["events"] == 1
    after = streams(url, DOCUMENT)
    assert after[0][0] == before[0][0] and after[0][2] == before[0][2] + 1  # same stream, one version more
    assert data_events(url, before[0][0]) == events_before + 1
    assert {i: after[i] for i in (1, 2, 3)} == {i: before[i] for i in (1, 2, 3)}
    node_state = stream_state(devnode.url, after[0][0])
    assert node_state["event_cid"] == after[0][1]
    assert "Use a HEPA vacuum." in str(node_state["content"])
    assert all(check_outcomes(result).values())


def test_added_then_removed_paragraph_creates_then_removes_a_stream(instance, resources, inbox, pipeline_env, devnode, ingested):
    url = pipeline_env["DATABASE_URL"]
    edit(inbox / DOCUMENT, lambda d: d.add_text(label=DocItemLabel.TEXT, text="Closing note: log every firing."))
    added = materialize_partition(ingested, instance, resources)
    assert counts_of(added) == {"created": 1, "updated": 0, "removed": 0, "unchanged": 4}
    new_stream = streams(url, DOCUMENT)[4]
    assert new_stream[3] == "active"
    assert "Closing note" in str(stream_state(devnode.url, new_stream[0])["content"])

    edit(inbox / DOCUMENT, lambda d: d.delete_items(node_items=[d.texts[-1]]))
    removed = materialize_partition(ingested, instance, resources)
    assert counts_of(removed) == {"created": 0, "updated": 0, "removed": 1, "unchanged": 4}
    stream_id, latest_cid, _version, status = streams(url, DOCUMENT)[4]
    assert status == "removed"
    assert stream_state(devnode.url, stream_id)["event_cid"] == latest_cid  # the removal reached the node
    assert all(check_outcomes(added).values()) and all(check_outcomes(removed).values())


def test_rerun_without_changes_writes_nothing(instance, resources, pipeline_env, ingested):
    url = pipeline_env["DATABASE_URL"]
    before = table_counts(url), streams(url, DOCUMENT)
    result = materialize_partition(ingested, instance, resources)
    assert counts_of(result) == {"created": 0, "updated": 0, "removed": 0, "unchanged": 4}
    assert metadata(result, "ceramic_streams")["events"] == 0
    assert (table_counts(url), streams(url, DOCUMENT)) == before
    assert all(check_outcomes(result).values())
