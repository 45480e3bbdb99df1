"""`ceramic-pipeline resync` against a real local node and PostgreSQL, as an operator runs it."""

from __future__ import annotations

import secrets

import psycopg

from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline_tests.test_cli_streams import _env, _write_chunk_stream, run

CONTENT = {"text": "Wedge the clay before throwing.", "textSha256": "1" * 64, "textBytes": 31,
           "createdAt": "2026-11-27T00:00:00.000Z", "updatedAt": "2026-11-27T00:00:00.000Z"}


def test_resync_command_adopts_our_streams_then_resumes(node, tmp_path, migrated_pg_url):
    seed = secrets.token_bytes(32)
    stream_id = _write_chunk_stream(node.url, DIDKey.from_seed(seed), CONTENT)
    env = {**_env(tmp_path, seed, node.url), "DATABASE_URL": migrated_pg_url}
    first = run(["resync"], env)
    assert first.returncode == 0, first.stderr
    assert "full re-sync" in first.stdout and "adopted 1," in first.stdout
    with psycopg.connect(migrated_pg_url) as conn:
        rows = conn.execute("SELECT stream_id, version, document_id, status FROM ceramic_streams").fetchall()
        assert rows == [(stream_id, 2, "a.json", "active")]
        assert conn.execute("SELECT count(*) FROM ceramic_feed_cursors").fetchone()[0] == 1
    again = run(["resync"], env)
    assert again.returncode == 0 and "incremental re-sync: read 0 events" in again.stdout
    forced = run(["resync", "--full"], env)
    assert forced.returncode == 0 and "full re-sync" in forced.stdout and "unchanged 1," in forced.stdout
