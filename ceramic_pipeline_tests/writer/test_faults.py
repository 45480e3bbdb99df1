"""The write path under faults: node down, 500s, dropped connections, a rejected event. Nothing is lost,
nothing is duplicated, and every stream's prev chain is whole."""

from __future__ import annotations

from collections import Counter

import pytest

from ceramic_pipeline.ceramic.client import CeramicClient
from ceramic_pipeline.ceramic.retry import RetryPolicy
from ceramic_pipeline.ceramic.identifiers import StreamID
from ceramic_pipeline.steps.streams import record_document_streams, write_document_streams
from ceramic_pipeline.storage import outbox
from ceramic_pipeline.storage.chunks import upsert_chunks
from ceramic_pipeline.writer.models import ensure_model, publish_model
from ceramic_pipeline.writer.publisher import publish_outbox
from ceramic_pipeline.writer.readback import read_back
from ceramic_pipeline_tests.writer.support import (
    assert_matches_node,
    chunk,
    node_event_cids,
    outbox_rows,
    stream_rows,
    tampered,
)

DOCS = ["firing-a", "firing-b", "firing-c"]


def add_chunks(connect, count: int = 20, text: str | None = None) -> None:
    with connect() as c:
        upsert_chunks(c, [chunk(d, i, None if text is None else f"{text} {d} {i}") for d in DOCS for i in range(count)])


def assert_node_holds_the_outbox_exactly(conn, node, client) -> None:
    """Same event set on both sides, and per stream one linear prev chain: a duplicate (a second
    event for the same change) would show up as a fork or an extra event."""
    box = outbox_rows(conn)
    assert set(node_event_cids(node)) == set(box)
    assert {status for _, _, status, _ in box.values()} == {"published"}
    for row in stream_rows(conn).values():
        stored = node.store.stream_events(StreamID.from_string(row.stream_id).cid)
        assert [e.kind for e in stored] == ["init"] + ["data"] * (row.version - 1)
        assert [e.prev for e in stored[1:]] == [e.cid for e in stored[:-1]]  # no fork, no gap
        assert_matches_node(client, row)  # read back: signatures, chain, tip, content hash


def test_node_down_at_start_keeps_everything_pending_then_drains(connect, conn, client, node, signer):
    node.stop()  # connection refused from the first request
    add_chunks(connect)
    with connect() as c:
        model = ensure_model(c, signer)
    report = write_document_streams(connect, client, signer, model, DOCS)
    assert report.changes == Counter(created=60) and report.events == 120
    assert (report.publish.published, report.publish.pending) == (0, 121)
    assert any("ClientConnectorError" in e for e in report.publish.errors)
    assert outbox.status_counts(conn) == {"pending": 121, "published": 0, "rejected": 0}

    node.start()
    drained = publish_outbox(connect, client)
    assert (drained.published, drained.pending, drained.rejected) == (121, 0, 0)
    assert node_event_cids(node)[0] == str(model.cid)
    assert_node_holds_the_outbox_exactly(conn, node, client)


def test_thirty_percent_500s_complete_through_retries(connect, conn, client, node, signer):
    model, _ = publish_model(connect, client, signer)
    add_chunks(connect)
    node.set_faults(error_rate=0.3, seed=11)
    report = write_document_streams(connect, client, signer, model, DOCS)
    add_chunks(connect, text="second firing")  # updates go through the same faults
    updated = write_document_streams(connect, client, signer, model, DOCS)
    assert node.fault_state.injected["errors"] > 50
    node.set_faults(error_rate=0.0)
    assert (report.publish.published, report.publish.pending, report.publish.rejected) == (120, 0, 0)
    assert (updated.changes["updated"], updated.publish.published, updated.publish.pending) == (60, 60, 0)
    assert_node_holds_the_outbox_exactly(conn, node, client)


@pytest.mark.parametrize("after_handling", [True, False], ids=["dropped-after-storing", "dropped-before-storing"])
def test_dropped_connections_neither_duplicate_nor_leave_gaps(connect, conn, client, node, signer, after_handling):
    model, _ = publish_model(connect, client, signer)
    add_chunks(connect)
    node.set_faults(drop_rate=0.3, drop_after_handling=after_handling, seed=3)
    first = write_document_streams(connect, client, signer, model, DOCS)
    add_chunks(connect, text="glaze recipe changed")
    second = write_document_streams(connect, client, signer, model, DOCS)
    assert node.fault_state.injected["drops"] > 30
    node.set_faults(drop_rate=0.0)
    assert (first.publish.pending, second.publish.pending, first.publish.rejected + second.publish.rejected) == (0, 0, 0)
    assert first.publish.published + second.publish.published == 180
    assert_node_holds_the_outbox_exactly(conn, node, client)


def test_rejected_event_is_kept_with_the_node_message_and_blocks_only_its_stream(connect, conn, client, node, signer):
    model, _ = publish_model(connect, client, signer)
    add_chunks(connect, count=3)
    write_document_streams(connect, client, signer, model, DOCS)
    published_tips = {r.stream_id: r.latest_cid for r in stream_rows(conn).values()}
    with connect() as c:  # every chunk edited: 9 data events queued, not yet posted
        upsert_chunks(c, [chunk(d, i, f"cone 6 {d} {i}") for d in DOCS for i in range(3)])
        for d in DOCS:
            record_document_streams(c, signer, model, d)
    victim = next(r for r in stream_rows(conn).values() if (r.document_id, r.chunk_index) == ("firing-a", 0))
    # Its queued event is altered after signing; then the chunk changes again (a successor on top).
    (car,) = conn.execute("SELECT car FROM ceramic_events WHERE event_cid = %s", (victim.latest_cid,)).fetchone()
    conn.execute("UPDATE ceramic_events SET car = %s WHERE event_cid = %s",
                 (tampered(car, [{"op": "replace", "path": "/text", "value": "cone 10"}]), victim.latest_cid))
    with connect() as c:
        upsert_chunks(c, [chunk("firing-a", 0, "bisque at cone 04")])
        assert record_document_streams(c, signer, model, "firing-a").changes["updated"] == 1
    successor = stream_rows(conn)[victim.stream_id].latest_cid

    report = publish_outbox(connect, client)
    assert (report.published, report.rejected, report.pending) == (8, 1, 1)
    assert any(e.startswith(f"{victim.stream_id}@2: rejected: Event had invalid signature") for e in report.errors)
    box = outbox_rows(conn)
    stream, position, status, message = box[victim.latest_cid]
    assert (stream, position, status) == (victim.stream_id, 2, "rejected")
    assert message.startswith("Event had invalid signature: signature does not verify for " + signer.did)
    assert box[successor][1:3] == (3, "pending")  # held back behind the rejected event, not lost
    held = set(node_event_cids(node))
    assert held.isdisjoint({victim.latest_cid, successor})
    others = [r for r in stream_rows(conn).values() if r.stream_id != victim.stream_id]
    assert len(others) == 8
    for row in others:  # every other stream got its update
        assert row.version == 3 and row.latest_cid in held
        assert_matches_node(client, row)
    assert read_back(client, victim.stream_id).tip == published_tips[victim.stream_id]  # the node's copy is intact

    again = publish_outbox(connect, client)  # a rejected event is never retried
    assert (again.published, again.rejected, again.pending) == (0, 0, 1)
    assert outbox_rows(conn)[victim.latest_cid][2] == "rejected"


def test_a_node_that_stays_down_loses_nothing_across_runs(connect, conn, node, signer):
    """Every publish run against a dead node records the attempt and keeps the events pending."""
    node.stop()
    add_chunks(connect, count=2)
    with connect() as c:
        model = ensure_model(c, signer)
    with CeramicClient(node.url, retry=RetryPolicy(max_attempts=2, base_delay=0.001)) as client:
        for _ in range(3):
            report = write_document_streams(connect, client, signer, model, DOCS)
            assert (report.publish.published, report.publish.pending) == (0, 13)
    model_attempts = conn.execute("SELECT attempts FROM ceramic_events WHERE event_cid = %s", (str(model.cid),)).fetchone()
    assert model_attempts == (3,)
