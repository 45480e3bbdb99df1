"""new_documents_sensor and the partitioned assets with odd inbox names: a non-UTF-8 file name and
a symlink to a file outside the inbox (documents.identity), on a real instance, PostgreSQL and node."""

from __future__ import annotations

import os
import shutil

import psycopg

from ceramic_pipeline.documents import partition_key
from ceramic_pipeline.storage.streams import streams_for_document
from ceramic_pipeline_tests.defs.pipeline import materialize_partition
from ceramic_pipeline_tests.defs.test_sensor import added_keys, requested_keys, tick


def test_odd_names_and_outside_links_are_ingested_beside_the_others(instance, resources, inbox, pipeline_env, tmp_path):
    sample = inbox / "studio-safety-notes.json"
    odd = os.path.join(os.fsencode(inbox), b"r\xe9sum\xe9.json")
    shutil.copyfile(sample, os.fsdecode(odd))
    outside = tmp_path / "elsewhere" / "linked.json"
    outside.parent.mkdir()
    shutil.copyfile(inbox / "glaze-firing-guide.json", outside)
    (inbox / "alias.json").symlink_to(outside)
    (inbox / "same-again.json").symlink_to(sample)  # a second name for an inbox file: no new document

    result = tick(instance, resources)  # used to raise UnicodeEncodeError on every tick
    ids = ["glaze-firing-guide.json", "kiln-maintenance-log.json", "r%E9sum%E9.json", "studio-safety-notes.json",
           str(outside.resolve())]
    assert sorted(added_keys(result)) == sorted(partition_key(i) for i in ids)
    assert sorted(requested_keys(result, instance)) == sorted(partition_key(i) for i in ids)  # one run over all five

    with psycopg.connect(pipeline_env["DATABASE_URL"]) as conn:
        for doc_id in ("r%E9sum%E9.json", str(outside.resolve())):
            assert materialize_partition(partition_key(doc_id), instance, resources).success
            assert len(streams_for_document(conn, doc_id)) > 0
        rows = conn.execute("SELECT document_id, source_path FROM documents ORDER BY 1").fetchall()
    assert rows == [(str(outside.resolve()), str(outside.resolve())), ("r%E9sum%E9.json", f"{inbox.resolve()}/r%E9sum%E9.json")]

    later = tick(instance, resources, result.cursor)
    assert later.run_requests == [] and added_keys(later) == []
