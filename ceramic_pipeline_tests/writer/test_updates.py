"""How chunk changes map to events: changed -> one data event, unchanged -> none, new -> new stream,
vanished -> a data event marking it removed; version counts events and latest_cid is the node's tip."""

from __future__ import annotations

from collections import Counter

from ceramic_pipeline.ceramic.identifiers import StreamID
from ceramic_pipeline.steps.streams import write_document_streams
from ceramic_pipeline.storage.chunks import prune_chunks, upsert_chunks
from ceramic_pipeline.writer.models import publish_model
from ceramic_pipeline_tests.writer.support import (
    assert_matches_node,
    chunk,
    document_chunks,
    stream_rows,
)

DOC = "studio-safety"


def events_per_stream(node, rows) -> dict[int, list[str]]:
    """{chunk_index: event CIDs the node holds for that chunk's stream, in delivery order}."""
    return {
        row.chunk_index: [str(e.cid) for e in node.store.stream_events(StreamID.from_string(row.stream_id).cid)]
        for row in rows.values()
    }


def test_changes_map_to_events(connect, conn, client, node, signer):
    model, _ = publish_model(connect, client, signer)
    with connect() as c:
        upsert_chunks(c, document_chunks(DOC, 4))
    report = write_document_streams(connect, client, signer, model, [DOC])
    assert report.changes == Counter(created=4) and report.events == 8
    first = stream_rows(conn)
    before = events_per_stream(node, first)

    # Re-chunked: chunk 1 edited, chunks 0 and 2 unchanged, chunk 3 gone.
    with connect() as c:
        upsert_chunks(c, [chunk(DOC, 1, "Wear a respirator when mixing dry glaze.")])
        assert prune_chunks(c, DOC, 3) == [3]
    report = write_document_streams(connect, client, signer, model, [DOC])
    assert report.changes == Counter(updated=1, unchanged=2, removed=1) and report.events == 2
    second = stream_rows(conn)
    assert set(second) == set(first)  # same streams: edits and removals never fork a new one
    after = events_per_stream(node, second)
    for index in (0, 2):
        assert after[index] == before[index]  # unchanged: no event
    for index in (1, 3):
        assert after[index][:2] == before[index] and len(after[index]) == 3  # exactly one more
    by_index = {r.chunk_index: r for r in second.values()}
    edited = assert_matches_node(client, by_index[1])
    assert edited.content["text"] == "Wear a respirator when mixing dry glaze."
    # The data event is a JSON patch of just what changed (plus the timestamp).
    assert {op["path"] for op in edited.events[-1].payload["data"]} == {"/text", "/textBytes", "/textSha256", "/updatedAt"}
    removed = assert_matches_node(client, by_index[3])
    assert removed.content["removed"] is True and "text" not in removed.content
    assert removed.content["createdAt"] == first[by_index[3].stream_id].stream_metadata["content"]["createdAt"]
    assert by_index[3].status == "removed"

    # Grown again: index 3 comes back on its old stream, index 4 is a new stream.
    with connect() as c:
        upsert_chunks(c, [chunk(DOC, 3), chunk(DOC, 4)])
    report = write_document_streams(connect, client, signer, model, [DOC])
    assert report.changes == Counter(updated=1, created=1, unchanged=3) and report.events == 3
    third = stream_rows(conn)
    assert set(third) - set(second) == {r.stream_id for r in third.values() if r.chunk_index == 4}
    final = events_per_stream(node, third)
    for row in third.values():
        back = assert_matches_node(client, row)  # version == events on the node, latest_cid == tip
        assert row.version == len(final[row.chunk_index]) and row.latest_cid == final[row.chunk_index][-1]
        assert row.status == "active" and "removed" not in back.content
    assert {r.chunk_index: r.version for r in third.values()} == {0: 2, 1: 3, 2: 2, 3: 4, 4: 2}

    # Nothing changed since: nothing to post.
    report = write_document_streams(connect, client, signer, model, [DOC])
    assert report.changes == Counter(unchanged=5) and report.events == 0
    assert events_per_stream(node, third) == final
