"""The DoclingChunk model: one per DID, the same id on every run, on the node before any instance."""

from __future__ import annotations

import pytest

from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.ceramic.identifiers import StreamID, StreamType
from ceramic_pipeline.steps.streams import record_document_streams, write_document_streams
from ceramic_pipeline.storage.chunks import upsert_chunks
from ceramic_pipeline.writer.models import ensure_model, publish_model
from ceramic_pipeline.writer.publisher import publish_outbox
from ceramic_pipeline_tests.writer.support import document_chunks


def feed_ids(client) -> list[str]:
    events, _token = client.feed(limit=10_000)
    return [e["id"] for e in events]


def test_model_is_created_once_per_did_and_registered_for_interest(connect, conn, client, node, requests, signer):
    model, report = publish_model(connect, client, signer)
    assert StreamID.from_string(str(model)).type == StreamType.MODEL
    assert report.published == 1 and requests.event_posts == 1
    assert {"sep": "model", "sepValue": str(model)} in node.store.interests()
    assert client.get_stream(str(model)).content["name"] == "DoclingChunk"

    again, report = publish_model(connect, client, signer)  # a later run, same DID
    assert again == model
    assert report.published == 0 and requests.event_posts == 1  # nothing re-posted
    assert conn.execute("SELECT count(*) FROM ceramic_models").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM ceramic_events").fetchone()[0] == 1

    other_did = DIDKey.from_seed(b"another-controller-seed-32bytes!")
    other, _ = publish_model(connect, client, other_did)
    assert other != model
    rows = conn.execute("SELECT signer_did, model_id FROM ceramic_models ORDER BY signer_did").fetchall()
    assert sorted(rows) == sorted([(signer.did, str(model)), (other_did.did, str(other))])


def test_model_is_posted_before_any_instance_even_when_queued_together(connect, client, node, signer):
    """Node down during the model step: model and instances sit in the outbox together; one drain posts the model first."""
    with connect() as c:
        upsert_chunks(c, document_chunks("kiln-log", 5))
        model = ensure_model(c, signer)
        record_document_streams(c, signer, model, "kiln-log")
    report = publish_outbox(connect, client)
    assert (report.published, report.pending) == (11, 0)
    order = feed_ids(client)  # the node's delivery order, over HTTP
    assert order[0] == str(model.cid) and len(order) == 11

    # Further documents reuse the model; the feed never shows a second model event.
    with connect() as c:
        upsert_chunks(c, document_chunks("kiln-log-2", 2))
    write_document_streams(connect, client, signer, model, ["kiln-log-2"])
    assert feed_ids(client).count(str(model.cid)) == 1


def test_model_is_posted_first_when_more_instances_are_ready_than_one_batch(connect, client, signer):
    with connect() as c:
        upsert_chunks(c, document_chunks("big-doc", 4))
        model = ensure_model(c, signer)
        record_document_streams(c, signer, model, "big-doc")
    publish_outbox(connect, client, batch_size=3)  # stands for 500 ready instances with batch_size=500
    assert feed_ids(client)[0] == str(model.cid)
