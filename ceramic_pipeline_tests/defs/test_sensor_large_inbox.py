"""A 10,000-file inbox: each tick stays bounded (at most MAX_DOCUMENTS_PER_TICK documents in runs of
MAX_DOCUMENTS_PER_RUN, well under Dagster's 60 s sensor timeout) and later ticks carry on with the
rest through the cursor."""

from __future__ import annotations

import time

import psycopg

from ceramic_pipeline.defs.documents import sensors
from ceramic_pipeline.documents.identity import partition_key
from ceramic_pipeline.storage.documents import DocumentRow, mark_ingested, upsert_document
from ceramic_pipeline_tests.defs.test_sensor import added_keys, requested_keys, tick

FILES = 10_000


def test_ticks_over_a_10000_file_inbox_are_bounded_and_progress(instance, resources, inbox, pipeline_env, monkeypatch):
    monkeypatch.setattr(sensors, "MAX_DOCUMENTS_PER_TICK", 2_000)  # three ticks stay short of the 10,003 files
    for folder in range(100):
        sub = inbox / f"batch-{folder:03d}"
        sub.mkdir()
        for n in range(FILES // 100):
            (sub / f"doc-{n:03d}.json").write_text(f'{{"n": {folder * 1000 + n}}}')
    total = FILES + 3  # plus the three samples
    limit = sensors.MAX_DOCUMENTS_PER_TICK

    seen: set[str] = set()
    cursor = None
    for number in range(1, 4):
        started = time.perf_counter()
        result = tick(instance, resources, cursor)
        elapsed = time.perf_counter() - started
        print(f"tick {number}: {len(result.run_requests)} run requests over {total} files in {elapsed:.2f} s")
        assert elapsed < 30
        keys = set(requested_keys(result, instance))
        assert len(keys) == limit
        assert len(result.run_requests) == limit // sensors.MAX_DOCUMENTS_PER_RUN  # many documents per run
        assert set(added_keys(result)) == keys  # all new: each gets its partition
        assert not keys & seen  # the cursor moves on instead of repeating requests
        seen |= keys
        cursor = result.cursor
    assert len(sensors.decode_cursor(cursor)) == 3 * limit
    assert len(instance.get_dynamic_partitions("documents")) == 3 * limit

    # The first tick's runs complete (the last asset marks each document ingested): they leave the cursor.
    in_flight = sensors.decode_cursor(cursor)
    done = sorted(in_flight)[:limit]
    with psycopg.connect(pipeline_env["DATABASE_URL"]) as conn:
        for doc_id in done:
            upsert_document(conn, DocumentRow(doc_id, partition_key(doc_id), str(inbox / doc_id), in_flight[doc_id]))
        mark_ingested(conn, done)
    result = tick(instance, resources, cursor)
    remaining = sensors.decode_cursor(result.cursor)
    assert not set(done) & set(remaining)
    assert len(remaining) == 3 * limit  # 2 ticks still in flight + this tick's new requests
    assert not set(requested_keys(result, instance)) & seen
