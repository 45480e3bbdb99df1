import threading

import psycopg
import pytest

from ceramic_pipeline.storage.migrations import MIGRATIONS, Migration, MigrationError, _migrate, applied_versions, migrate

EXPECTED_TABLES = {"documents", "chunks", "ceramic_models", "ceramic_events", "ceramic_streams", "ceramic_streams_archive",
                   "ceramic_feed_cursors", "schema_migrations"}


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {name for (name,) in rows}


def test_migrate_twice_applies_once(pg_url):
    latest = [m.version for m in MIGRATIONS]
    assert migrate(pg_url) == latest
    assert migrate(pg_url) == []
    assert _tables(pg_url) == EXPECTED_TABLES
    with psycopg.connect(pg_url) as conn:
        assert applied_versions(conn) == latest
        assert conn.execute("SELECT count(*) FROM chunks_with_ceramic").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM ceramic_streams_all").fetchone()[0] == 0


def test_concurrent_migrations_from_two_threads(pg_url):
    barrier = threading.Barrier(2)
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with psycopg.connect(pg_url) as conn:
                barrier.wait(timeout=10)
                results.append(migrate(conn))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    # Exactly one thread applied each migration; the other found it done.
    assert sorted(v for r in results for v in r) == [m.version for m in MIGRATIONS]
    with psycopg.connect(pg_url) as conn:
        assert applied_versions(conn) == [m.version for m in MIGRATIONS]


def test_edited_migration_is_refused(pg_url):
    migrate(pg_url)
    edited = (Migration(1, MIGRATIONS[0].name, MIGRATIONS[0].sql + "\n-- edited"),)
    with psycopg.connect(pg_url) as conn, pytest.raises(MigrationError, match="different SQL"):
        _migrate(conn, edited)


def test_failed_migration_rolls_back_alone(pg_url):
    broken = MIGRATIONS + (Migration(len(MIGRATIONS) + 1, "broken", "CREATE TABLE half_done (a int); SELECT 1/0"),)
    with psycopg.connect(pg_url) as conn:
        with pytest.raises(psycopg.errors.DivisionByZero):
            _migrate(conn, broken)
        conn.rollback()
        assert applied_versions(conn) == [m.version for m in MIGRATIONS]
    assert "half_done" not in _tables(pg_url)


def test_gap_in_versions_is_refused(pg_url):
    with psycopg.connect(pg_url) as conn, pytest.raises(MigrationError, match="without gaps"):
        _migrate(conn, (Migration(2, "skips one", "SELECT 1"),))


def test_open_transaction_is_refused(pg_url):
    with psycopg.connect(pg_url) as conn:
        conn.execute("SELECT 1")  # opens a transaction (not autocommit)
        with pytest.raises(MigrationError, match="no open transaction"):
            migrate(conn)


def test_verified_tip_moves_from_metadata_to_its_own_columns(pg_url):
    """Read-backs before the verified_cid column kept the tip in stream_metadata; the migration moves it."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        before = next(i for i, m in enumerate(MIGRATIONS) if m.name == "verified tip columns")
        _migrate(conn, MIGRATIONS[:before])
        conn.execute(
            "INSERT INTO ceramic_streams (stream_id, latest_cid, version, signer_did, model_id, document_id, chunk_index,"
            " content_sha256, stream_metadata) VALUES (%s, 'bafytip', 2, 'did:key:z', 'kjz', 'd', 0, %s, %s),"
            " ('other', 'bafyother', 2, 'did:key:z', 'kjz', 'd', 1, %s, '{\"content\": {}}')",
            ("s", "a" * 64, '{"content": {"a": 1}, "node_tip": "bafytip", "verified_at": "2026-11-01T00:00:00Z"}', "b" * 64),
        )
        migrate(conn)
        rows = conn.execute("SELECT stream_id, verified_cid, verified_at IS NOT NULL, stream_metadata FROM ceramic_streams ORDER BY 1").fetchall()
    assert rows == [("other", None, False, {"content": {}}), ("s", "bafytip", True, {"content": {"a": 1}})]
