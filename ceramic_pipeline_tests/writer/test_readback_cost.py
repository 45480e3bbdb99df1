"""Read-back verifies each stream tip once (issue 10), keeps last_updated for real changes (issue 11),
and re-verifies everything on request."""

from __future__ import annotations

from ceramic_pipeline.steps.readback import read_back_documents, verify_document_streams
from ceramic_pipeline.steps.streams import write_document_streams
from ceramic_pipeline.storage.chunks import upsert_chunks
from ceramic_pipeline.writer.models import publish_model
from ceramic_pipeline_tests.writer.support import chunk, document_chunks

DOCS = ["glaze-a", "glaze-b"]


def stream_gets(requests) -> int:
    return sum(n for (method, path), n in requests.counts.items() if method == "GET" and path.startswith("/ceramic/streams/"))


def verify_all(connect, client, signer, **kw):
    with connect() as c:
        reports = [verify_document_streams(c, client, d, signer.did, **kw) for d in DOCS]
    return sum(r.verified for r in reports), sum(r.pending for r in reports), [f for r in reports for f in r.failures]


def columns(conn):
    return {sid: (latest, verified, at, updated) for sid, latest, verified, at, updated in conn.execute(
        "SELECT stream_id, latest_cid, verified_cid, verified_at, last_updated FROM ceramic_streams")}


def test_each_tip_is_verified_once_and_last_updated_keeps_meaning_a_real_change(connect, conn, client, node, requests, signer):
    model, _ = publish_model(connect, client, signer)
    with connect() as c:
        upsert_chunks(c, [row for d in DOCS for row in document_chunks(d, 10)])
    write_document_streams(connect, client, signer, model, DOCS)
    written = columns(conn)
    assert {v[1] for v in written.values()} == {None}

    gets = stream_gets(requests)
    assert verify_all(connect, client, signer) == (20, 0, [])
    assert stream_gets(requests) - gets == 20
    first = columns(conn)
    for sid, (latest, verified, at, updated) in first.items():
        assert verified == latest and at is not None
        assert updated == written[sid][3]  # a read-back is not a change

    gets = stream_gets(requests)
    assert verify_all(connect, client, signer) == (0, 0, [])  # nothing new: no request at all
    assert stream_gets(requests) == gets

    with connect() as c:  # one chunk changes: only its new tip is read back
        upsert_chunks(c, [chunk("glaze-a", 3, "glaze-a 3: now fired at cone 10")])
    write_document_streams(connect, client, signer, model, DOCS)
    assert verify_all(connect, client, signer) == (1, 0, [])
    changed = {sid for sid, v in columns(conn).items() if v[3] != first[sid][3]}
    assert len(changed) == 1

    gets = stream_gets(requests)
    assert verify_all(connect, client, signer, full=True) == (20, 0, [])  # on request, everything again
    assert stream_gets(requests) - gets == 20


def test_pending_tips_are_counted_not_read_and_verified_after_the_node_returns(connect, conn, client, node, requests, signer):
    model, _ = publish_model(connect, client, signer)
    with connect() as c:
        upsert_chunks(c, [row for d in DOCS for row in document_chunks(d, 3)])
    node.stop()
    report = write_document_streams(connect, client, signer, model, DOCS)
    assert report.publish.pending == 12
    assert verify_all(connect, client, signer) == (0, 6, [])  # no failure: the node never had them

    node.start()
    gets = stream_gets(requests)
    write_document_streams(connect, client, signer, model, DOCS)  # drains the outbox
    assert stream_gets(requests) - gets == 6  # each init queued unchecked is looked up before posting
    gets = stream_gets(requests)
    assert verify_all(connect, client, signer) == (6, 0, [])
    assert stream_gets(requests) - gets == 6


def test_a_node_that_goes_away_leaves_documents_unverified_not_failed(connect, conn, client, node, signer):
    model, _ = publish_model(connect, client, signer)
    with connect() as c:
        upsert_chunks(c, [row for d in DOCS for row in document_chunks(d, 4)])
    write_document_streams(connect, client, signer, model, DOCS)
    node.stop()
    with connect() as c:
        reports = [verify_document_streams(c, client, d, signer.did) for d in DOCS]
        assert [(r.verified, r.failures) for r in reports] == [(0, []), (0, [])]
        assert "4 stream(s) of glaze-a not read back" in reports[0].unreachable and "node unreachable" in reports[0].unreachable
        outcome = read_back_documents(c, client, DOCS, signer.did)
        assert (outcome.pending, outcome.failures, outcome.ingested) == (DOCS, [], [])
    node.start()
    with connect() as c:
        outcome = read_back_documents(c, client, DOCS, signer.did)
        assert (outcome.verified, outcome.ingested, outcome.pending) == (8, DOCS, [])
