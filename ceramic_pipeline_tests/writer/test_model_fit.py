"""Issue 8, kind 1: content the DoclingChunk model refuses is never signed, posted or reported as written.

Real PostgreSQL, the local validating node over loopback HTTP, real signatures. Long headings
and sources are truncated with their full value's hash kept (policy: ceramic/model.py); a chunk
that still cannot be made valid is one ChunkError naming document, chunk and field, and gets
no event, while its sibling chunks are written and read back from the node as written.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter

from ceramic_pipeline.ceramic.car import decode_car
from ceramic_pipeline.ceramic.events import MAX_BLOCK_SIZE
from ceramic_pipeline.ceramic.model import DOCLING_CHUNK_MODEL, model_init_event, model_stream_id
from ceramic_pipeline.steps.streams import record_document_streams, write_document_streams
from ceramic_pipeline.storage.chunks import upsert_chunks
from ceramic_pipeline.writer.models import publish_model
from ceramic_pipeline.writer.plan import ChunkError, chunk_stream_id, plan_document
from ceramic_pipeline_tests.writer.support import assert_matches_node, chunk, node_event_cids, outbox_rows, stream_rows

DOC = "contracts/master-services.json"
HEADING_1025 = "Clause 7.2 " + "l" * (1025 - 11)  # docling labels long legal clauses as headings
HEADING_300K = "Table 4: " + "caption " * 37_499  # 300,001 characters
TOO_LONG_INLINE = "glaze " * 4000  # 24,000 bytes left inline: its pin is missing
BLOCK_BUSTER = ["\U0001d11e" * 1024] * 256  # schema-valid (1,024 code points each), ~1 MB of UTF-8
LONG_ID = "archive/" + "deep/" * 400 + "report.json"  # 2,019 characters: over the old 1,024 limit
TOO_LONG_ID = "x/" * 2100 + "y.json"  # 4,206 characters: over PATH_MAX


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def with_headings(row, headings):
    return dataclasses.replace(row, headings=headings)


def contract_chunks():
    return [
        chunk(DOC, 0),
        with_headings(chunk(DOC, 1), ["Terms", HEADING_1025]),
        with_headings(chunk(DOC, 2), [HEADING_300K]),
        chunk(DOC, 3, TOO_LONG_INLINE),
        with_headings(chunk(DOC, 4), BLOCK_BUSTER),
        chunk(DOC, 5),
    ]


def node_content(client, stream_id):
    state = client.get_stream(stream_id)
    return None if state is None else state.content


def test_refused_content_is_a_per_chunk_error_and_the_rest_lands_valid(connect, conn, client, node, signer):
    model, _ = publish_model(connect, client, signer)
    with connect() as c:
        upsert_chunks(c, contract_chunks() + [chunk(LONG_ID, 0), chunk(TOO_LONG_ID, 0), chunk(TOO_LONG_ID, 1)])

    report = write_document_streams(connect, client, signer, model, [DOC, LONG_ID, TOO_LONG_ID])

    # -- exactly the chunks that cannot be made valid are errors, named by document, chunk, field
    assert [(e.document_id, e.chunk_index, e.field) for e in report.errors] == [
        (DOC, 3, "/text"), (DOC, 4, "/headings"), (TOO_LONG_ID, 0, "/documentId"), (TOO_LONG_ID, 1, "/documentId"),
    ]
    by_chunk = {(e.document_id, e.chunk_index): e for e in report.errors}
    assert by_chunk[(DOC, 3)].reason == "maxLength 16383"
    assert by_chunk[(DOC, 4)].reason.startswith("event block of ") and f"{MAX_BLOCK_SIZE}-byte limit" in by_chunk[(DOC, 4)].reason
    assert by_chunk[(TOO_LONG_ID, 0)].reason == "maxLength 4096"
    for error in report.errors:  # one line, no content, no 4,000-character id
        line = str(error)
        assert "\n" not in line and len(line) < 300 and "glaze glaze" not in line and "\U0001d11e" not in line
        assert f"chunk {error.chunk_index}" in line and error.field in line
    assert str(by_chunk[(DOC, 3)]) == f"'{DOC}' chunk 3: /text: maxLength 16383; not written"

    # -- the others are written: created, published, nothing rejected
    assert report.changes == Counter(created=5)
    assert (report.events, report.publish.published, report.publish.pending, report.publish.rejected) == (10, 10, 0, 0)

    # -- the outbox and the stream table hold nothing for the refused chunks
    rows = stream_rows(conn)
    assert sorted((r.document_id, r.chunk_index) for r in rows.values()) == sorted([(DOC, 0), (DOC, 1), (DOC, 2), (DOC, 5), (LONG_ID, 0)])
    outbox = outbox_rows(conn)
    refused = {chunk_stream_id(signer.did, model, d, i) for d, i in by_chunk}
    assert not refused & {sid for sid, *_ in outbox.values()}
    assert set(outbox) - {str(model.cid)} == set(node_event_cids(node)) - {str(model.cid)}
    for (car,) in conn.execute("SELECT car FROM ceramic_events"):
        assert all(len(block) <= MAX_BLOCK_SIZE for block in decode_car(bytes(car)).blocks.values())
    for sid in refused:
        assert client.get_stream(sid) is None

    # -- what the node serves is exactly what we wrote, and it fits the model
    for row in rows.values():
        back = assert_matches_node(client, row)
        assert back.content == row.stream_metadata["content"]
    contents = {(r.document_id, r.chunk_index): r.stream_metadata["content"] for r in rows.values()}
    assert contents[(DOC, 1)]["headings"] == ["Terms", HEADING_1025[:1024]]
    assert contents[(DOC, 1)]["truncated"] == [{"field": "/headings/1", "sha256": sha(HEADING_1025), "chars": 1025}]
    assert contents[(DOC, 2)]["headings"] == [HEADING_300K[:1024]]
    assert contents[(DOC, 2)]["truncated"] == [{"field": "/headings/0", "sha256": sha(HEADING_300K), "chars": 300_001}]
    assert "truncated" not in contents[(DOC, 0)] and "truncated" not in contents[(DOC, 5)]
    assert contents[(LONG_ID, 0)]["documentId"] == LONG_ID and contents[(LONG_ID, 0)]["source"] == f"{LONG_ID}.pdf"

    # -- the same input again: the same errors, nothing new signed or posted
    events_before = node.store.count()
    again = write_document_streams(connect, client, signer, model, [DOC, LONG_ID, TOO_LONG_ID])
    assert again.errors == report.errors and again.changes == Counter(unchanged=5) and again.events == 0
    assert node.store.count() == events_before


def test_an_update_the_model_refuses_keeps_the_stream_at_its_last_valid_content(connect, conn, client, node, signer):
    model, _ = publish_model(connect, client, signer)
    with connect() as c:
        upsert_chunks(c, [chunk(DOC, 0), chunk(DOC, 1)])
    write_document_streams(connect, client, signer, model, [DOC])
    written = stream_rows(conn)

    with connect() as c:  # chunk 1 changes into something no event can carry; chunk 0 changes normally
        upsert_chunks(c, [chunk(DOC, 0, "revised kiln notes"), with_headings(chunk(DOC, 1), BLOCK_BUSTER)])
        report = record_document_streams(c, signer, model, DOC)
    assert report.errors == [ChunkError(DOC, 1, "/headings", report.errors[0].reason)]
    assert report.changes == Counter(updated=1) and report.events == 1
    write_document_streams(connect, client, signer, model, [])  # publish what was recorded

    after = stream_rows(conn)
    for sid, row in after.items():
        back = assert_matches_node(client, row)
        assert back.content == row.stream_metadata["content"]
        if row.chunk_index == 1:
            assert row == written[sid]  # untouched: same tip, version and content
        else:
            assert back.content["text"] == "revised kiln notes" and row.version == 3


def test_text_that_is_not_valid_unicode_is_a_per_chunk_error_not_a_crash(signer):
    """A lone surrogate (JSON "\\udce9" parses to one) passes the schema but has no UTF-8 form."""
    model = model_stream_id(model_init_event(signer, DOCLING_CHUNK_MODEL))
    chunks = [chunk(DOC, 0), with_headings(chunk(DOC, 1), ["r\udce9sum\udce9"]), chunk(DOC, 2)]
    plan = plan_document(signer, model, DOC, chunks, {}, {}, "2026-11-30T00:00:00.000Z")
    assert plan.errors == [ChunkError(DOC, 1, "/headings", "text is not valid Unicode (cannot be encoded as UTF-8)")]
    assert [(w.chunk_index, w.change, len(w.events)) for w in plan.writes] == [(0, "created", 2), (2, "created", 2)]
