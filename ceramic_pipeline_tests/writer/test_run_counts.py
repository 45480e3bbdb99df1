"""Run figures come from the tables, so a retried step or a resumed run reports what the run did,
not what its last attempt happened to find (issue: "streams_created 0, unchanged 2000" after a retry)."""

from __future__ import annotations

from datetime import datetime, timezone

from ceramic_pipeline.steps.streams import write_document_streams
from ceramic_pipeline.storage.checks import run_stream_counts
from ceramic_pipeline.storage.chunks import upsert_chunks
from ceramic_pipeline.writer.models import ensure_model
from ceramic_pipeline_tests.writer.support import chunk, document_chunks


def test_counts_survive_a_retry_that_finds_its_work_done(connect, conn, client, signer):
    run_started = datetime.now(timezone.utc)
    upsert_chunks(conn, document_chunks("a.json", 20) + document_chunks("b.json", 5))
    conn.commit()
    model = ensure_model(conn, signer)
    conn.commit()

    first = write_document_streams(connect, client, signer, model, ["a.json", "b.json"])
    retry = write_document_streams(connect, client, signer, model, ["a.json", "b.json"])  # the same step again

    assert first.changes["created"] == 25 and retry.changes["created"] == 0  # what each attempt saw in memory
    expected = {"events": 50, "created": 25, "updated": 0, "removed": 0, "published": 50, "unchanged": 0}
    assert run_stream_counts(conn, ["a.json", "b.json"], run_started) == expected  # what the run did

    # a later run changes one chunk of a.json: its own window counts only that
    second_run = datetime.now(timezone.utc)
    upsert_chunks(conn, [chunk("a.json", 3, "a.json chunk 3, rewritten.")])
    conn.commit()
    write_document_streams(connect, client, signer, model, ["a.json", "b.json"])
    write_document_streams(connect, client, signer, model, ["a.json", "b.json"])
    assert run_stream_counts(conn, ["a.json", "b.json"], second_run) == {
        "events": 1, "created": 0, "updated": 1, "removed": 0, "published": 1, "unchanged": 24}
