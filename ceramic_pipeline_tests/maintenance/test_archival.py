"""archive_streams moves exactly the streams not really changed for ARCHIVE_AFTER_DAYS, loses none,
and a re-ingest brings an archived document's streams back on their own chains."""

from __future__ import annotations

from collections import Counter

import dagster as dg

from ceramic_pipeline.defs.maintenance.archival import archive_streams
from ceramic_pipeline.resources import PostgresResource
from ceramic_pipeline.steps.streams import write_document_streams
from ceramic_pipeline.storage.chunks import upsert_chunks
from ceramic_pipeline.writer.models import publish_model
from ceramic_pipeline_tests.writer.support import assert_matches_node, chunk, document_chunks, stream_rows

OLD, NEW = "kiln-log-2019", "kiln-log-2026"


def run_archival(url: str, tmp_path, days: int = 90) -> dict:
    result = archive_streams.execute_in_process(
        run_config={"ops": {"archive_old_streams": {"config": {"after_days": days}}}},
        resources={"postgres": PostgresResource(database_url=url, data_dir=str(tmp_path))},
    )
    assert result.success
    [output] = [e for e in result.all_node_events if e.event_type == dg.DagsterEventType.STEP_OUTPUT]
    return {k: v.value for k, v in output.event_specific_data.metadata.items()}


def test_archive_then_reingest_round_trip(connect, conn, client, requests, signer, migrated_pg_url, tmp_path):
    model, _ = publish_model(connect, client, signer)
    with connect() as c:
        upsert_chunks(c, document_chunks(OLD, 3) + document_chunks(NEW, 2))
    write_document_streams(connect, client, signer, model, [OLD, NEW])
    original = stream_rows(conn)
    old_ids = {sid for sid, r in original.items() if r.document_id == OLD}
    # Time is the test's: OLD's streams last really changed 91 days ago, NEW's 89 days ago.
    conn.execute("UPDATE ceramic_streams SET last_updated = now() - interval '91 days' WHERE document_id = %s", (OLD,))
    conn.execute("UPDATE ceramic_streams SET last_updated = now() - interval '89 days' WHERE document_id = %s", (NEW,))

    meta = run_archival(migrated_pg_url, tmp_path)
    assert meta["archived"] == 3 and meta["hot_before"] == 5 and meta["archive_before"] == 0
    assert (meta["hot_after"], meta["archive_after"]) == (2, 3)
    assert set(stream_rows(conn)) == set(original) - old_ids
    archived = {r[0] for r in conn.execute("SELECT stream_id FROM ceramic_streams_archive")}
    assert archived == old_ids
    view = {r[0]: r[1] for r in conn.execute("SELECT stream_id, latest_cid FROM ceramic_streams_all")}
    assert view == {sid: r.latest_cid for sid, r in original.items()}  # nothing lost, still queryable
    assert run_archival(migrated_pg_url, tmp_path)["archived"] == 0

    # Re-ingesting the unchanged document restores its rows and posts nothing.
    posts = requests.event_posts
    report = write_document_streams(connect, client, signer, model, [OLD])
    assert report.restored == 3 and report.changes == Counter(unchanged=3) and report.events == 0
    assert requests.event_posts == posts
    assert stream_rows(conn) == original
    assert conn.execute("SELECT count(*) FROM ceramic_streams_archive").fetchone()[0] == 0

    # Archived again, then changed: the edit continues the archived stream's chain (no fork).
    conn.execute("UPDATE ceramic_streams SET last_updated = now() - interval '91 days' WHERE document_id = %s", (OLD,))
    assert run_archival(migrated_pg_url, tmp_path)["archived"] == 3
    with connect() as c:
        upsert_chunks(c, [chunk(OLD, 1, "Cone 6 firing: hold 15 minutes at peak.")])
    report = write_document_streams(connect, client, signer, model, [OLD])
    assert report.restored == 3 and report.changes == Counter(updated=1, unchanged=2) and report.events == 1
    after = stream_rows(conn)
    assert set(after) == set(original)
    edited = next(r for r in after.values() if r.document_id == OLD and r.chunk_index == 1)
    assert edited.version == original[edited.stream_id].version + 1
    back = assert_matches_node(client, edited)
    assert str(back.events[-2].cid) == original[edited.stream_id].latest_cid  # prev = the archived tip
    assert back.content["text"] == "Cone 6 firing: hold 15 minutes at peak."
