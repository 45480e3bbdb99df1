"""Issue 8, kind 5: node down is not work lost. With the node refusing connections, the steps still
load, chunk, pin, sign and queue every event, within about one request timeout in total (no
minutes of retries), and report the events as pending; once the node is back, publishing drains
the outbox and every stream verifies. Real PostgreSQL, real HTTP, the production retry policy."""

from __future__ import annotations

import time

from ceramic_pipeline.ceramic.client import CeramicClient
from ceramic_pipeline.documents import ChunkerConfig, inbox_files, partition_key
from ceramic_pipeline.ipfs.config import pinning_service_from_env
from ceramic_pipeline.steps.documents import chunk_into_table, register_documents
from ceramic_pipeline.steps.pins import pin_large_chunks
from ceramic_pipeline.steps.readback import verify_document_streams
from ceramic_pipeline.steps.streams import write_document_streams
from ceramic_pipeline.storage import checks, outbox
from ceramic_pipeline.writer.models import publish_model
from ceramic_pipeline.writer.publisher import publish_outbox
from ceramic_pipeline_tests.documents.make_samples import write_samples
from ceramic_pipeline_tests.writer.support import assert_matches_node, stream_rows

TIMEOUT_S = 2.0  # CERAMIC_TIMEOUT for this test


def chunk_and_pin(connect, inbox, data_dir, signer_did: str) -> list[str]:
    keys = [partition_key(doc_id) for doc_id, _path in inbox_files(inbox)]
    service = pinning_service_from_env({}, data_dir)
    with connect() as conn:
        documents = register_documents(conn, inbox, keys, signer_did).registered
        assert len(documents) == 3
        for doc in documents:
            chunk_into_table(conn, doc, ChunkerConfig())
            pin_large_chunks(conn, service, doc.document_id, 16384)
        conn.commit()
    return [d.document_id for d in documents]


def test_node_down_chunks_pins_signs_and_queues_everything_then_drains(connect, conn, node, signer, tmp_path):
    inbox = tmp_path / "inbox"
    write_samples(inbox)
    node.stop()  # connection refused
    with CeramicClient(node.url, timeout_s=TIMEOUT_S) as client:  # default RetryPolicy
        node_time = time.monotonic()
        model, model_report = publish_model(connect, client, signer)
        node_time = time.monotonic() - node_time
        document_ids = chunk_and_pin(connect, inbox, tmp_path / "data", signer.did)
        started = time.monotonic()
        report = write_document_streams(connect, client, signer, model, document_ids)
        with connect() as c:
            verified = [verify_document_streams(c, client, d, signer.did) for d in document_ids]
        node_time += time.monotonic() - started

    # Everything but the posting happened: chunks, pins, stream rows, every event queued.
    chunks = conn.execute("SELECT count(*), count(text_cid) FROM chunks").fetchone()
    assert chunks[0] >= 10 and chunks[1] >= 1  # the kiln log holds a chunk over the pin threshold
    assert report.changes["created"] == chunks[0] and report.events == 2 * chunks[0]
    assert conn.execute("SELECT count(*) FROM ceramic_streams").fetchone()[0] == chunks[0]
    assert outbox.status_counts(conn) == {"pending": 1 + 2 * chunks[0], "published": 0, "rejected": 0}
    assert model_report.pending == 1 and report.publish.pending == 1 + 2 * chunks[0]
    assert any("node unreachable" in e for e in report.publish.errors)
    # ... reported as pending, which fails every_chunk_has_a_published_stream but is no read-back failure.
    assert sum(v.pending for v in verified) == chunks[0] and [f for v in verified for f in v.failures] == []
    unpublished = {d: checks.unpublished_chunks(conn, [d], signer.did).get(d, []) for d in document_ids}
    assert sum(len(v) for v in unpublished.values()) == chunks[0]
    # Bounded by the request timeout, not by retries per event: one request waited, the rest failed fast.
    assert node_time < TIMEOUT_S + 2.0, node_time
    print(f"node-facing time with the node down: {node_time:.2f} s")

    node.start()
    with CeramicClient(node.url, timeout_s=TIMEOUT_S) as client:
        with connect() as c:
            drained = publish_outbox(connect, client)
            assert (drained.published, drained.pending, drained.rejected) == (1 + 2 * chunks[0], 0, 0)
            assert {"sep": "model", "sepValue": str(model)} in node.store.interests()  # registered once reachable
            assert sum(verify_document_streams(c, client, d, signer.did).verified for d in document_ids) == chunks[0]
            assert checks.unpublished_chunks(c, document_ids, signer.did) == {}
        for row in stream_rows(conn).values():
            assert_matches_node(client, row)
