"""The restore drill passes and fails when it should; VACUUM/REINDEX reports real sizes."""

from __future__ import annotations

from ceramic_pipeline.storage.migrations import MIGRATIONS

import json

import psycopg
import pytest

from ceramic_pipeline.maintenance.backup import create_backup
from ceramic_pipeline.maintenance.restore import restore_drill
from ceramic_pipeline.maintenance.vacuum import vacuum_and_reindex
from ceramic_pipeline_tests.maintenance.support import populate


@pytest.fixture
def populated(migrated_pg_url: str) -> str:
    populate(migrated_pg_url)
    return migrated_pg_url


def _scratch_databases(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [n for (n,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'ceramic_restore_drill_%'")]


def test_the_drill_passes_on_a_good_backup_and_drops_its_scratch_database(populated, tmp_path):
    create_backup(populated, tmp_path, keep=3)
    result = restore_drill(tmp_path, populated)
    assert result.passed, result.reason
    assert result.report.rows == 243 + len(MIGRATIONS) and result.report.tables == 8
    assert _scratch_databases(populated) == []


def test_the_drill_restores_the_newest_backup(populated, tmp_path):
    create_backup(populated, tmp_path, keep=3)
    with psycopg.connect(populated) as conn:
        conn.execute("DELETE FROM chunks WHERE chunk_index >= 20")
    newest = create_backup(populated, tmp_path, keep=3).backup
    result = restore_drill(tmp_path, populated)
    assert result.passed and result.backup == newest.name
    assert result.report.rows == 243 + len(MIGRATIONS) - 60


def test_the_drill_fails_when_the_restored_rows_differ_from_the_record(populated, tmp_path):
    backup = create_backup(populated, tmp_path, keep=3).backup
    manifest = json.loads(backup.manifest_path.read_text())
    manifest["tables"]["chunks"]["rows"] += 1  # what a dump that lost a row would look like
    backup.manifest_path.write_text(json.dumps(manifest))
    result = restore_drill(tmp_path, populated)
    assert not result.passed
    assert "chunks" in result.reason and result.report.mismatches["chunks"]["expected_rows"] == 121
    assert _scratch_databases(populated) == []


def test_the_drill_fails_when_content_differs_with_equal_counts(populated, tmp_path):
    backup = create_backup(populated, tmp_path, keep=3).backup
    manifest = json.loads(backup.manifest_path.read_text())
    manifest["tables"]["documents"]["checksum"] = "0" * 32
    backup.manifest_path.write_text(json.dumps(manifest))
    result = restore_drill(tmp_path, populated)
    assert not result.passed and "documents" in result.reason
    assert result.report.mismatches["documents"]["checksum_matches"] is False


def test_the_drill_fails_on_a_corrupted_dump_and_without_any_backup(populated, tmp_path):
    assert not restore_drill(tmp_path, populated).passed
    assert "no backup" in restore_drill(tmp_path, populated).reason
    backup = create_backup(populated, tmp_path, keep=3).backup
    data = bytearray(backup.dump_path.read_bytes())
    data[100] ^= 0x01
    backup.dump_path.write_bytes(bytes(data))
    result = restore_drill(tmp_path, populated)
    assert not result.passed and "corrupted" in result.reason
    assert _scratch_databases(populated) == []


def test_vacuum_reindex_reports_sizes_and_shrinks_a_bloated_index(populated):
    with psycopg.connect(populated) as conn:
        conn.execute("INSERT INTO documents (document_id, partition_key, source_path, content_sha256)"
                     " SELECT 'bulk-' || g, 'bulk-' || g, '/x', repeat('c', 64) FROM generate_series(1, 20000) g")
    with psycopg.connect(populated) as conn:
        conn.execute("DELETE FROM documents WHERE document_id LIKE 'bulk-%' AND right(document_id, 1) <> '7'")
    report = vacuum_and_reindex(populated)
    assert report.concurrent_reindex  # the test server is >= 12
    assert set(report.before) == set(report.after) >= {"documents", "chunks", "ceramic_streams", "schema_migrations"}
    before, after = report.before["documents"], report.after["documents"]
    assert after.index_bytes < before.index_bytes / 2  # REINDEX rebuilt the two indexes without the dead entries
    assert after.total_bytes == after.table_bytes + after.index_bytes
    assert report.invalid_indexes == []
    with psycopg.connect(populated) as conn:
        assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 3 + 2000
        analyzed = conn.execute("SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'documents'")
        assert analyzed.fetchone()[0]
