import hashlib
from datetime import timedelta

import psycopg
import pytest

from ceramic_pipeline.storage.streams import (
    COLUMNS, ArchiveCountError, StreamRow, StreamTip, archive_older_than, archived_stream, documents_needing_restore_or_supersede,
    get_stream, mark_removed, mark_superseded, restore_archived, stream_tips, streams_for_document, streams_for_documents,
    streams_pinning, superseded_by, upsert_streams,
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


def test_archival_moves_only_rows_older_than_cutoff(conn):
    upsert_streams(conn, [row(i) for i in range(4)])
    mark_removed(conn, ["kjzl-3"])
    conn.execute("UPDATE ceramic_streams SET last_updated = now() - interval '91 days' WHERE stream_id IN ('kjzl-0', 'kjzl-3')")
    conn.execute("UPDATE ceramic_streams SET last_updated = now() - interval '89 days' WHERE stream_id = 'kjzl-1'")
    before = {r[0]: r for r in conn.execute("SELECT * FROM ceramic_streams_all").fetchall()}
    result = archive_older_than(conn, 90)
    assert result.stream_ids == ["kjzl-0", "kjzl-3"]
    assert (result.before, result.after) == ((4, 0), (2, 2))
    assert archive_older_than(conn, 90).stream_ids == []  # already archived
    hot = dict(conn.execute("SELECT stream_id, status FROM ceramic_streams").fetchall())
    assert hot == {"kjzl-1": "active", "kjzl-2": "active"}
    archived = dict(conn.execute("SELECT stream_id, status FROM ceramic_streams_archive").fetchall())
    assert archived == {"kjzl-0": "active", "kjzl-3": "removed"}  # the status it had
    # Nothing lost or changed: the view shows every row as it was, archived ones with archived_at.
    after = {r[0]: r for r in conn.execute("SELECT * FROM ceramic_streams_all").fetchall()}
    assert {k: v[:-1] for k, v in after.items()} == {k: v[:-1] for k, v in before.items()}
    assert {k for k, v in after.items() if v[-1] is not None} == {"kjzl-0", "kjzl-3"}
    assert archived_stream(conn, "kjzl-0") == get_stream_before(before, "kjzl-0")
    assert get_stream(conn, "kjzl-0") is None
    with pytest.raises(ValueError):
        archive_older_than(conn, -1)
    with pytest.raises(ValueError):
        archive_older_than(conn, 1, statuses=("archived",))


def get_stream_before(rows: dict, stream_id: str) -> StreamRow:
    return StreamRow(*rows[stream_id][:len(COLUMNS)])


def test_archival_time_is_the_callers_clock(conn):
    upsert_streams(conn, [row(i) for i in range(3)])
    conn.commit()
    now = conn.execute("SELECT now()").fetchone()[0]
    assert archive_older_than(conn, 90, now=now + timedelta(days=89)).stream_ids == []
    moved = archive_older_than(conn, 90, now=now + timedelta(days=91))
    assert moved.stream_ids == ["kjzl-0", "kjzl-1", "kjzl-2"]
    stamps = conn.execute("SELECT DISTINCT archived_at FROM ceramic_streams_archive").fetchall()
    assert stamps == [(now + timedelta(days=91),)]


def test_restore_brings_a_documents_rows_back_as_they_were(conn):
    upsert_streams(conn, [row(i) for i in range(3)] + [row(100)])
    conn.execute("UPDATE ceramic_streams SET last_updated = now() - interval '100 days'")
    original = {r.stream_id: r for r in streams_for_document(conn, "doc-0")}
    assert len(archive_older_than(conn, 90).stream_ids) == 4
    assert streams_for_document(conn, "doc-0") == []
    assert restore_archived(conn, document_id="doc-0") == ["kjzl-0", "kjzl-1", "kjzl-2"]
    assert {r.stream_id: r for r in streams_for_document(conn, "doc-0")} == original
    fresh = conn.execute("SELECT bool_and(last_updated > now() - interval '1 minute') FROM ceramic_streams").fetchone()[0]
    assert fresh  # the archival clock restarts
    assert conn.execute("SELECT stream_id FROM ceramic_streams_archive").fetchall() == [("kjzl-100",)]
    assert restore_archived(conn, document_id="doc-0") == []
    assert restore_archived(conn, stream_ids=["kjzl-100"]) == ["kjzl-100"]
    with pytest.raises(ValueError):
        restore_archived(conn)


def test_restore_keeps_the_newer_of_hot_and_archived(conn):
    upsert_streams(conn, [row(1, version=2), row(2, version=2)])
    conn.execute("UPDATE ceramic_streams SET last_updated = now() - interval '100 days'")
    archive_older_than(conn, 90)
    upsert_streams(conn, [row(1, version=3), row(2, version=1)])  # e.g. re-synced from the node
    assert restore_archived(conn, document_id="doc-0") == ["kjzl-2"]
    assert {r.stream_id: r.version for r in streams_for_document(conn, "doc-0")} == {"kjzl-1": 3, "kjzl-2": 2}
    assert conn.execute("SELECT count(*) FROM ceramic_streams_archive").fetchone()[0] == 0


def test_archive_json_columns_use_lz4_when_the_server_has_it(conn):
    has_lz4 = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals))"
    ).fetchone()[0]
    methods = dict(conn.execute(
        "SELECT attname, attcompression FROM pg_attribute "
        "WHERE attrelid = 'ceramic_streams_archive'::regclass AND attname IN ('ipfs_pins', 'stream_metadata')"
    ).fetchall())
    assert methods == ({"ipfs_pins": "l", "stream_metadata": "l"} if has_lz4 else {"ipfs_pins": "", "stream_metadata": ""})
    if has_lz4:  # a value large enough to be compressed really is lz4
        big = {"content": {"text": "glaze " * 2000}}
        upsert_streams(conn, [row(7, stream_metadata=big)])
        conn.execute("UPDATE ceramic_streams SET last_updated = now() - interval '100 days'")
        archive_older_than(conn, 90)
        assert conn.execute(
            "SELECT pg_column_compression(stream_metadata) FROM ceramic_streams_archive").fetchone() == ("lz4",)


def test_archival_query_uses_status_index(conn):
    upsert_streams(conn, [row(i) for i in range(1000)])
    conn.execute("ANALYZE ceramic_streams")
    conn.execute("SET LOCAL enable_seqscan = off")  # tiny table: force the planner to show its index
    plan = conn.execute(
        "EXPLAIN SELECT stream_id FROM ceramic_streams WHERE status = 'active' "
        "AND last_updated < now() - interval '90 days'"
    ).fetchall()
    assert "ceramic_streams_status_last_updated_idx" in "\n".join(p for (p,) in plan)


def test_archival_rolls_back_when_counts_do_not_add_up(conn):
    upsert_streams(conn, [row(i) for i in range(3)])
    conn.execute("UPDATE ceramic_streams SET last_updated = now() - interval '100 days'")
    conn.commit()
    # A rogue trigger drops every archived row: the move would lose data, so it must not happen.
    conn.execute("""
        CREATE FUNCTION lose_rows() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN DELETE FROM ceramic_streams_archive WHERE stream_id = NEW.stream_id; RETURN NULL; END $$;
        CREATE TRIGGER lose_rows AFTER INSERT ON ceramic_streams_archive FOR EACH ROW EXECUTE FUNCTION lose_rows();
    """)
    conn.commit()
    with pytest.raises(ArchiveCountError, match="hot\\+archive"):
        archive_older_than(conn, 90)
    conn.rollback()
    assert conn.execute("SELECT count(*) FROM ceramic_streams").fetchone()[0] == 3


def test_archival_waits_for_an_open_writer_so_counts_are_exact(migrated_pg_url):
    import threading
    import time

    with psycopg.connect(migrated_pg_url) as setup:
        upsert_streams(setup, [row(i) for i in range(4)])
        setup.execute("UPDATE ceramic_streams SET last_updated = now() - interval '100 days'")
    results: list = []
    with psycopg.connect(migrated_pg_url) as writer:
        upsert_streams(writer, [row(50)])  # an ingest transaction still open
        archiver = threading.Thread(
            target=lambda: results.append(archive_older_than(psycopg.connect(migrated_pg_url, autocommit=True), 90)))
        archiver.start()
        time.sleep(0.5)
        assert archiver.is_alive() and results == []  # waiting for the writer
    archiver.join(10)  # the writer committed on leaving the block
    [result] = results
    assert (result.before, result.after) == ((5, 0), (1, 4))
    assert result.stream_ids == ["kjzl-0", "kjzl-1", "kjzl-2", "kjzl-3"]


def test_archive_and_restore_keep_exact_values(conn):
    odd = row(5, stream_metadata={"content": {"text": "cone\u00000 6", "headings": ["a\u0000b"]}})
    upsert_streams(conn, [odd])
    conn.execute("UPDATE ceramic_streams SET last_updated = now() - interval '100 days'")
    assert archive_older_than(conn, 90).stream_ids == ["kjzl-5"]
    assert archived_stream(conn, "kjzl-5") == odd  # U+0000 survives the move
    assert restore_archived(conn, stream_ids=["kjzl-5"]) == ["kjzl-5"]
    assert get_stream(conn, "kjzl-5") == odd


def test_key_rotation_supersedes_the_old_signers_rows_and_back(conn):
    """A, then B, then A again: each chunk has exactly one current row; old rows change only in superseded_by."""
    other = "did:key:z6MkRotated"
    old = [row(1), row(2)]
    upsert_streams(conn, old)
    conn.commit()
    before = {r[0]: r for r in conn.execute("SELECT * FROM ceramic_streams")}
    assert mark_superseded(conn, "doc-0", SIGNER) == 0  # nothing to supersede before a rotation

    new = [row(1, stream_id="kjzl-b1", signer_did=other), row(2, stream_id="kjzl-b2", signer_did=other)]
    upsert_streams(conn, new[:1])  # only chunk 1 written under the new DID so far
    assert mark_superseded(conn, "doc-0", other) == 1
    upsert_streams(conn, new[1:])
    assert mark_superseded(conn, "doc-0", other) == 1
    assert mark_superseded(conn, "doc-0", other) == 0  # idempotent
    assert superseded_by(conn, "kjzl-1") == "kjzl-b1" and superseded_by(conn, "kjzl-2") == "kjzl-b2"
    assert superseded_by(conn, "kjzl-b1") is None
    after = {r[0]: r for r in conn.execute("SELECT * FROM ceramic_streams WHERE signer_did = %s", (SIGNER,))}
    width = len(before["kjzl-1"])  # superseded_by is the last column; nothing before it changed
    assert {k: v[:width - 1] for k, v in after.items()} == {k: v[:width - 1] for k, v in before.items()}
    assert get_stream(conn, "kjzl-1") == old[0]  # the row still says what was written
    # chunks_with_ceramic joins the current stream only: one row per chunk
    conn.execute("INSERT INTO chunks (document_id, chunk_index, text, text_sha256, text_bytes, partition_key) "
                 "VALUES ('doc-0', 1, 't', %s, 1, 'doc-0')", (sha("t"),))
    assert conn.execute("SELECT stream_id FROM chunks_with_ceramic").fetchall() == [("kjzl-b1",)]

    # rotating back: the first signer's rows are current again, the second's superseded by them
    assert mark_superseded(conn, "doc-0", SIGNER) == 2
    assert superseded_by(conn, "kjzl-1") is None and superseded_by(conn, "kjzl-b1") == "kjzl-1"
    assert conn.execute("SELECT stream_id FROM chunks_with_ceramic").fetchall() == [("kjzl-1",)]

    # the mark survives archival and restore
    conn.commit()
    archive_older_than(conn, 0)
    assert superseded_by(conn, "kjzl-b2") == "kjzl-2"
    restore_archived(conn, document_id="doc-0")
    assert get_stream(conn, "kjzl-b2") is not None and superseded_by(conn, "kjzl-b2") == "kjzl-2"


def test_only_documents_with_archived_rotated_or_superseded_rows_need_restoring_or_superseding(conn):
    """The writer skips restore_archived and mark_superseded for the others: both are no-ops there."""
    other = "did:key:z6MkRotated"
    upsert_streams(conn, [row(0), row(100), row(200), row(300), row(301, stream_id="kjzl-b301", signer_did=other)])
    conn.execute("UPDATE ceramic_streams SET last_updated = now() - interval '91 days' WHERE stream_id = 'kjzl-100'")
    archive_older_than(conn, 90)  # doc-1: an archived row
    mark_superseded(conn, "doc-3", other)  # doc-3: SIGNER's row superseded by the other DID's
    documents = ["doc-0", "doc-1", "doc-2", "doc-3", "doc-9"]
    assert documents_needing_restore_or_supersede(conn, documents, SIGNER) == {"doc-1", "doc-3"}
    # For the other DID, SIGNER's rows are another signer's: a rotation to supersede them.
    assert documents_needing_restore_or_supersede(conn, documents, other) == {"doc-0", "doc-1", "doc-2", "doc-3"}
    for plain in ("doc-0", "doc-2"):  # what the writer skips changes nothing there
        assert restore_archived(conn, document_id=plain) == [] and mark_superseded(conn, plain, SIGNER) == 0
    batch = streams_for_documents(conn, documents)
    assert batch == {d: streams_for_document(conn, d) for d in documents} and batch["doc-9"] == []
