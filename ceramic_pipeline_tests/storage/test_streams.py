import hashlib

import psycopg
import pytest

from ceramic_pipeline.storage.streams import (
    StreamRow, StreamTip, archive_older_than, get_stream, mark_removed, stream_tips,
    streams_for_document, streams_pinning, upsert_streams,
)

SIGNER = "did:key:z6MkTestSigner"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def row(i: int, version: int = 1, **changes) -> StreamRow:
    fields = dict(
        stream_id=f"kjzl-{i}", latest_cid=f"bagcq-{i}-v{version}", version=version, signer_did=SIGNER,
        model_id="kjzl-model", document_id=f"doc-{i // 100}", chunk_index=i % 100,
        content_sha256=sha(f"{i}/{version}"),
    )
    fields.update(changes)
    return StreamRow(**fields)


def test_batch_of_1000_is_idempotent(conn):
    rows = [row(i) for i in range(1000)]
    assert upsert_streams(conn, rows) == 1000
    conn.commit()
    stamps = conn.execute("SELECT max(last_updated) FROM ceramic_streams").fetchone()[0]
    assert upsert_streams(conn, rows) == 0  # nothing changed, nothing touched
    assert conn.execute("SELECT count(*), max(last_updated) FROM ceramic_streams").fetchone() == (1000, stamps)
    assert get_stream(conn, "kjzl-999") == rows[999]


def test_upsert_moves_tip_forward_never_back(conn):
    upsert_streams(conn, [row(1, version=1), row(2, version=1)])
    assert upsert_streams(conn, [row(1, version=3)]) == 1
    assert upsert_streams(conn, [row(1, version=2)]) == 0  # stale writer ignored
    tips = stream_tips(conn, ["kjzl-1", "kjzl-2", "kjzl-missing"])
    assert tips == {
        "kjzl-1": StreamTip("bagcq-1-v3", 3, sha("1/3")),
        "kjzl-2": ("bagcq-2-v1", 1, sha("2/1")),
    }


def test_one_stream_per_chunk_and_signer(conn):
    upsert_streams(conn, [row(1)])
    conn.commit()
    with pytest.raises(psycopg.errors.UniqueViolation, match="ceramic_streams_chunk_signer_key"):
        upsert_streams(conn, [row(1, stream_id="kjzl-other")])
    conn.rollback()
    # Another signer may have its own stream for the same chunk.
    assert upsert_streams(conn, [row(1, stream_id="kjzl-other", signer_did="did:key:z6MkOther")]) == 1


def test_bad_rows_are_refused_with_clear_errors(conn):
    with pytest.raises(ValueError, match="appears twice"):
        upsert_streams(conn, [row(1), row(1, version=2)])
    with pytest.raises(ValueError, match="each pin needs keys"):
        row(1, ipfs_pins=[{"cid": "bafy"}])
    with pytest.raises(ValueError, match="status"):
        row(1, status="deleted")
    with pytest.raises(psycopg.errors.CheckViolation, match="content_sha256"):
        upsert_streams(conn, [row(1, content_sha256="not-a-hash")])


def test_jsonb_pins_round_trip_and_lookup(conn):
    pins = [
        {"cid": "bafybeigdyrzt", "service": "pinata", "pinned_at": "2025-06-01T12:00:00Z",
         "status": "pinned", "size": 20_480},
        {"cid": "bafybeigdyrzt", "service": "kubo", "pinned_at": None, "status": "queued", "size": 20_480},
    ]
    metadata = {"controller": SIGNER, "model": "kjzl-model", "unique": "ümlaut ✓"}
    upsert_streams(conn, [row(1, ipfs_pins=pins, stream_metadata=metadata), row(2)])
    stored = get_stream(conn, "kjzl-1")
    assert stored.ipfs_pins == pins and stored.stream_metadata == metadata
    assert get_stream(conn, "kjzl-2").ipfs_pins == []
    assert streams_pinning(conn, "bafybeigdyrzt") == ["kjzl-1"]
    assert streams_pinning(conn, "bafy-unknown") == []


def test_lookup_by_document_and_removal(conn):
    upsert_streams(conn, [row(i) for i in range(3)] + [row(150)])
    assert [s.chunk_index for s in streams_for_document(conn, "doc-0")] == [0, 1, 2]
    assert mark_removed(conn, ["kjzl-2", "kjzl-missing"]) == 1
    assert mark_removed(conn, ["kjzl-2"]) == 0
    assert get_stream(conn, "kjzl-2").status == "removed"
    assert get_stream(conn, "kjzl-1").status == "active"


def test_archival_selects_only_rows_older_than_cutoff(conn):
    upsert_streams(conn, [row(i) for i in range(4)])
    mark_removed(conn, ["kjzl-3"])
    conn.execute("UPDATE ceramic_streams SET last_updated = now() - interval '91 days' WHERE stream_id IN ('kjzl-0', 'kjzl-3')")
    conn.execute("UPDATE ceramic_streams SET last_updated = now() - interval '89 days' WHERE stream_id = 'kjzl-1'")
    assert archive_older_than(conn, 90) == ["kjzl-0", "kjzl-3"]
    assert archive_older_than(conn, 90) == []  # already archived
    statuses = dict(conn.execute("SELECT stream_id, status FROM ceramic_streams").fetchall())
    assert statuses == {"kjzl-0": "archived", "kjzl-1": "active", "kjzl-2": "active", "kjzl-3": "archived"}
    assert conn.execute(
        "SELECT count(*) FROM ceramic_streams WHERE archived_at IS NOT NULL").fetchone()[0] == 2
    with pytest.raises(ValueError):
        archive_older_than(conn, -1)


def test_archival_query_uses_status_index(conn):
    upsert_streams(conn, [row(i) for i in range(1000)])
    conn.execute("ANALYZE ceramic_streams")
    conn.execute("SET LOCAL enable_seqscan = off")  # tiny table: force the planner to show its index
    plan = conn.execute(
        "EXPLAIN SELECT stream_id FROM ceramic_streams WHERE status = 'active' "
        "AND last_updated < now() - interval '90 days'"
    ).fetchall()
    assert "ceramic_streams_status_last_updated_idx" in "\n".join(p for (p,) in plan)
