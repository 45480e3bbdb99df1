import hashlib

import psycopg
import pytest

from ceramic_pipeline.storage.chunks import ChunkRow, chunks_for_document, chunks_for_documents, prune_chunks, upsert_chunks
from ceramic_pipeline.storage.documents import (
    DocumentRow,
    content_hashes,
    known_documents,
    get_document,
    mark_ingested,
    register_documents,
    upsert_document,
    upsert_documents,
)
from ceramic_pipeline.storage.models import ModelRecord, definition_sha256, get_model, put_model
from ceramic_pipeline.storage.streams import StreamRow, upsert_streams


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def chunk(doc: str, i: int, text: str | None = "hello", cid: str | None = None) -> ChunkRow:
    body = text or "pinned body"
    return ChunkRow(doc, i, text, cid, sha(body), len(body.encode()), headings=["Intro", f"§{i}"],
                    pages=[1, 2], source="report.pdf", partition_key=doc)


def test_chunk_batch_of_1000_is_idempotent(conn):
    rows = [chunk(f"doc-{i // 100}", i % 100, text=f"text {i}") for i in range(1000)]
    assert upsert_chunks(conn, rows) == 1000
    assert upsert_chunks(conn, rows) == 0
    changed = [chunk("doc-0", 0, text="new text")]
    assert upsert_chunks(conn, changed) == 1
    assert chunks_for_document(conn, "doc-0")[0] == changed[0]
    assert conn.execute("SELECT count(*) FROM chunks").fetchone()[0] == 1000


def test_pinned_chunk_and_bad_chunks(conn):
    pinned = chunk("doc", 0, text=None, cid="bafkrei-text")
    upsert_chunks(conn, [pinned])
    assert chunks_for_document(conn, "doc") == [pinned]
    with pytest.raises(ValueError, match="needs text or text_cid"):
        chunk("doc", 1, text=None)
    with pytest.raises(ValueError, match="twice"):
        upsert_chunks(conn, [chunk("doc", 1), chunk("doc", 1)])
    with pytest.raises(psycopg.errors.CheckViolation):
        upsert_chunks(conn, [ChunkRow("doc", -1, "x", None, sha("x"), 1)])


def test_prune_removes_chunks_past_new_count(conn):
    upsert_chunks(conn, [chunk("doc", i) for i in range(5)])
    assert prune_chunks(conn, "doc", 3) == [3, 4]
    assert [c.chunk_index for c in chunks_for_document(conn, "doc")] == [0, 1, 2]


def test_view_joins_chunks_with_their_streams(conn):
    upsert_chunks(conn, [chunk("doc", 0), chunk("doc", 1)])
    pins = [{"cid": "bafy-0", "service": "pinata", "pinned_at": "2025-01-01T00:00:00Z", "status": "pinned", "size": 9}]
    upsert_streams(conn, [StreamRow("kjzl-0", "bagcq-0", 2, "did:key:z6Mk", "kjzl-model", "doc", 0, sha("hello"),
                                    ipfs_pins=pins)])
    rows = conn.execute(
        "SELECT chunk_index, text, stream_id, latest_cid, stream_version, stream_status, ipfs_pins "
        "FROM chunks_with_ceramic ORDER BY chunk_index"
    ).fetchall()
    assert rows == [
        (0, "hello", "kjzl-0", "bagcq-0", 2, "active", pins),
        (1, "hello", None, None, None, None, None),  # no stream yet: still listed
    ]


def test_documents_upsert_and_unique_partition(conn):
    doc = DocumentRow("doc-1", "part-1", "/inbox/a.json", sha("a"))
    assert upsert_document(conn, doc) is True
    assert upsert_document(conn, doc) is False
    stored, ingested_at = get_document(conn, "doc-1")
    assert stored == doc
    moved = DocumentRow("doc-1", "part-1", "/inbox/moved.json", sha("a"))
    assert upsert_document(conn, moved) is True
    assert get_document(conn, "doc-1") == (moved, ingested_at)  # same content: same ingestion time
    assert get_document(conn, "missing") is None
    upsert_document(conn, DocumentRow("doc-3", "part-3", "/inbox/c.json", sha("c")))
    assert content_hashes(conn) == {}  # registered is not ingested: the sensor must not skip them yet
    assert mark_ingested(conn, ["doc-1", "doc-3"]) == 2
    assert content_hashes(conn) == {"doc-1": sha("a"), "doc-3": sha("c")}
    upsert_document(conn, DocumentRow("doc-3", "part-3", "/inbox/c.json", sha("c2")))  # changed, not yet ingested
    assert content_hashes(conn)["doc-3"] == sha("c")
    assert [d.document_id for d in known_documents(conn, ["part-3", "part-1"])] == ["doc-3", "doc-1"]
    assert [d.document_id for d in known_documents(conn, ["part-1", "part-9"])] == ["doc-1"]  # unknown keys left out
    with pytest.raises(psycopg.errors.UniqueViolation):
        upsert_document(conn, DocumentRow("doc-2", "part-1", "/inbox/b.json", sha("b")))


def test_many_documents_upsert_and_register_in_one_statement_each(conn):
    docs = [DocumentRow(f"doc-{i}", f"part-{i}", f"/inbox/{i}.json", sha(str(i))) for i in range(3)]
    assert upsert_documents(conn, docs) == 3
    assert upsert_documents(conn, docs) == 0  # unchanged: untouched
    assert register_documents(conn, docs, "did:key:z6MkA") == {"doc-0", "doc-1", "doc-2"}  # none ingested yet
    mark_ingested(conn, ["doc-1"])  # ingested, but with no stream of the DID for its (no) chunks...
    conn.execute("UPDATE documents SET ingested_sha256 = content_sha256")
    assert register_documents(conn, docs, "did:key:z6MkA") == {"doc-0", "doc-2"}  # ...so it is unchanged
    assert [get_document(conn, d.document_id)[0] for d in docs] == docs
    with pytest.raises(ValueError, match="doc-0 appears twice"):
        upsert_documents(conn, [docs[0], docs[0]])
    upsert_chunks(conn, [chunk("doc-0", 1), chunk("doc-0", 0), chunk("doc-2", 0)])
    assert chunks_for_documents(conn, ["doc-2", "doc-0", "doc-1"]) == {
        "doc-2": chunks_for_document(conn, "doc-2"), "doc-0": chunks_for_document(conn, "doc-0"), "doc-1": []}


def test_model_registry(conn):
    definition = {"name": "DoclingChunk", "version": "2.0", "schema": {"type": "object"}}
    assert definition_sha256(definition) == definition_sha256(dict(reversed(definition.items())))
    assert get_model(conn, "did:key:z6MkA", definition) is None
    record = ModelRecord("kjzl-model-a", "did:key:z6MkA", definition, "bagcq-init-a")
    assert put_model(conn, record) == record
    assert put_model(conn, record) == record  # idempotent
    assert get_model(conn, "did:key:z6MkA", definition) == record
    assert get_model(conn, "did:key:z6MkB", definition) is None
    with pytest.raises(ValueError, match="conflicts"):
        put_model(conn, ModelRecord("kjzl-model-other", "did:key:z6MkA", definition, "bagcq-init-x"))
