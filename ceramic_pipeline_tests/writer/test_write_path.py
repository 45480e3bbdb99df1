"""Issue 3's write path end to end: 500 chunk streams created, 100 updated, re-runs post nothing.

Real HTTP on loopback to the devnode, real PostgreSQL; every stream is read back from the node.
"""

from __future__ import annotations

from collections import Counter

from ceramic_pipeline.ceramic.identifiers import StreamID
from ceramic_pipeline.steps.readback import verify_document_streams
from ceramic_pipeline.steps.streams import write_document_streams
from ceramic_pipeline.storage.chunks import upsert_chunks
from ceramic_pipeline.writer.models import publish_model
from ceramic_pipeline_tests.writer.support import (
    assert_matches_node,
    chunk,
    document_chunks,
    node_event_cids,
    outbox_rows,
    stream_rows,
)

DOCUMENTS = [f"glaze-notes-{i}" for i in range(5)]
CHUNKS_PER_DOCUMENT = 100


def snapshot(conn, node, requests):
    return {
        "node_events": node.store.count(),
        "event_posts": requests.event_posts,
        "outbox": conn.execute("SELECT count(*) FROM ceramic_events").fetchone()[0],
        "streams": conn.execute("SELECT count(*), max(last_updated) FROM ceramic_streams").fetchone(),
    }


def test_500_streams_created_100_updated_and_a_rerun_posts_nothing(connect, conn, client, node, requests, signer):
    model, _ = publish_model(connect, client, signer)
    with connect() as c:
        upsert_chunks(c, [row for d in DOCUMENTS for row in document_chunks(d, CHUNKS_PER_DOCUMENT)])

    # -- create: an init plus a first data event per chunk ------------------------------------
    before = snapshot(conn, node, requests)
    report = write_document_streams(connect, client, signer, model, DOCUMENTS)
    assert report.changes == Counter(created=500)
    assert (report.events, report.publish.published, report.publish.pending, report.publish.rejected) == (1000, 1000, 0, 0)
    assert requests.event_posts - before["event_posts"] == 1000  # a healthy node needs no retries
    created = stream_rows(conn)
    assert len(created) == 500 and {r.version for r in created.values()} == {2}
    assert {StreamID.from_string(sid).type for sid in created} == {3}  # ModelInstanceDocument
    assert set(outbox_rows(conn)) == set(node_event_cids(node))  # the node holds exactly the outbox
    assert {status for _, _, status, _ in outbox_rows(conn).values()} == {"published"}
    for row in created.values():  # what the node serves is what we wrote, byte for byte
        back = assert_matches_node(client, row)
        assert back.content == row.stream_metadata["content"]
        assert back.events[0].model == model

    # -- update 100 chunks: one data event each, on the same stream ------------------------------
    edited = {(d, i) for d in DOCUMENTS for i in range(0, CHUNKS_PER_DOCUMENT, 5)}
    with connect() as c:
        assert upsert_chunks(c, [chunk(d, i, f"revised: {d} #{i} fires at cone 6") for d, i in sorted(edited)]) == 100
    before = snapshot(conn, node, requests)
    report = write_document_streams(connect, client, signer, model, DOCUMENTS)
    assert report.changes == Counter(updated=100, unchanged=400)
    assert (report.events, report.publish.published, report.publish.pending) == (100, 100, 0)
    assert node.store.count() - before["node_events"] == 100
    updated = stream_rows(conn)
    assert set(updated) == set(created)  # no new stream for a changed chunk
    for sid, row in updated.items():
        if (row.document_id, row.chunk_index) in edited:
            assert row.version == 3
            back = assert_matches_node(client, row)
            assert back.content["text"] == f"revised: {row.document_id} #{row.chunk_index} fires at cone 6"
            assert back.events[-1].prev == back.events[-2].cid
        else:
            assert (row.latest_cid, row.version) == (created[sid].latest_cid, 2)

    # -- the production read-back step agrees for every stream -----------------------------------
    with connect() as c:
        for document_id in DOCUMENTS:
            verified = verify_document_streams(c, client, document_id, signer.did)
            assert (verified.verified, verified.failures) == (CHUNKS_PER_DOCUMENT, [])

    # -- the same input again: nothing planned, nothing posted, nothing recorded -----------------
    before = snapshot(conn, node, requests)
    report = write_document_streams(connect, client, signer, model, DOCUMENTS)
    assert report.changes == Counter(unchanged=500)
    assert (report.events, report.publish.published, report.publish.pending) == (0, 0, 0)
    assert snapshot(conn, node, requests) == before
