"""resync_from_ceramic rebuilds ceramic_streams for our model and controller from the node's feed,
adopting only streams whose every event verifies, and resumes from its stored token."""

from __future__ import annotations

from collections import Counter

import psycopg
import pytest

from ceramic_pipeline.ceramic.client import CeramicClient
from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.maintenance.resync import resync_from_ceramic
from ceramic_pipeline.steps.streams import write_document_streams
from ceramic_pipeline.storage.chunks import chunks_for_document, prune_chunks, upsert_chunks
from ceramic_pipeline.storage.migrations import migrate
from ceramic_pipeline.storage.outbox import status_counts
from ceramic_pipeline.writer.models import publish_model
from ceramic_pipeline_tests.fixtures.postgres import throwaway_database
from ceramic_pipeline_tests.writer.conftest import FAST_RETRY
from ceramic_pipeline_tests.writer.support import assert_matches_node, chunk, document_chunks, stream_rows, tampered

GLAZES, KILNS = "glaze-recipes", "kiln-schedules"


def key_fields(conn: psycopg.Connection) -> dict[str, tuple]:
    """What must survive a rebuild: stream_id -> (latest_cid, version, signer_did, content hash, status, document, index)."""
    return {
        sid: (r.latest_cid, r.version, r.signer_did, r.content_sha256, r.status, r.document_id, r.chunk_index)
        for sid, r in stream_rows(conn).items()
    }


def ingest_with_history(connect, client, signer):
    """Two documents; then an edit and a removal, so versions differ between streams."""
    model, _ = publish_model(connect, client, signer)
    with connect() as c:
        upsert_chunks(c, document_chunks(GLAZES, 4) + document_chunks(KILNS, 2))
    write_document_streams(connect, client, signer, model, [GLAZES, KILNS])
    with connect() as c:
        upsert_chunks(c, [chunk(GLAZES, 2, "Celadon: 1% red iron oxide, reduction firing.")])
        prune_chunks(c, GLAZES, 3)
    write_document_streams(connect, client, signer, model, [GLAZES])
    return model


def test_truncated_table_is_rebuilt_and_reingest_posts_nothing(connect, conn, client, requests, signer, node):
    model = ingest_with_history(connect, client, signer)
    # Another controller's stream under its own model on the same node: never adopted.
    other = DIDKey.from_seed(b"someone-else-entirely-32-bytes!!")
    other_model, _ = publish_model(connect, client, other)
    write_document_streams(connect, client, other, other_model, [KILNS])
    before = {sid: v for sid, v in key_fields(conn).items() if v[2] == signer.did}
    assert {v[1] for v in before.values()} == {2, 3}  # created (2 events), edited/removed (3)
    conn.execute("DELETE FROM ceramic_streams")  # lost

    report = resync_from_ceramic(conn, client, signer, node_url=node.url)
    assert report.full and not report.failures
    assert report.adopted == report.streams_touched == len(before) == 6
    assert key_fields(conn) == before
    for row in stream_rows(conn).values():
        assert_matches_node(client, row)
    assert {r.status for r in stream_rows(conn).values()} == {"active", "removed"}

    posts = requests.event_posts
    report = write_document_streams(connect, client, signer, model, [GLAZES, KILNS])
    assert report.changes == Counter(unchanged=5) and report.events == 0  # the removed chunk stays removed
    assert requests.event_posts == posts

    # Nothing new on the node: an incremental re-sync reads nothing and changes nothing.
    again = resync_from_ceramic(conn, client, signer, node_url=node.url)
    assert not again.full and again.events_read == 0 and again.adopted == 0
    assert key_fields(conn) == before


def test_fresh_database_is_rebuilt_and_can_publish_on_top(connect, client, requests, signer, node, pg_admin_url):
    model = ingest_with_history(connect, client, signer)
    with connect() as c:
        before = key_fields(c)
        chunks = {d: chunks_for_document(c, d) for d in (GLAZES, KILNS)}
    with throwaway_database(pg_admin_url) as fresh_url:
        migrate(fresh_url)
        with psycopg.connect(fresh_url) as fresh:
            report = resync_from_ceramic(fresh, client, signer, node_url=node.url)
            assert report.adopted == 6 and not report.failures
            assert report.events_recorded == sum(v[1] for v in before.values())
            assert key_fields(fresh) == before
            assert status_counts(fresh) == {"pending": 0, "published": report.events_recorded + 1, "rejected": 0}
            upsert_chunks(fresh, chunks[GLAZES] + chunks[KILNS])
            fresh.commit()
        # The rebuilt outbox lets the writer continue every chain: one edit, one event posted.
        posts = requests.event_posts
        fresh_connect = lambda: psycopg.connect(fresh_url)  # noqa: E731
        with fresh_connect() as c:
            upsert_chunks(c, [chunk(KILNS, 0, "Bisque: 04, slow to 600 C.")])
        result = write_document_streams(fresh_connect, client, signer, model, [GLAZES, KILNS])
        assert result.changes == Counter(updated=1, unchanged=4) and result.publish.published == 1
        assert requests.event_posts == posts + 1
        with fresh_connect() as c:
            edited = next(r for r in stream_rows(c).values() if r.document_id == KILNS and r.chunk_index == 0)
        assert edited.version == before[edited.stream_id][1] + 1
        assert_matches_node(client, edited)


def test_incremental_resync_resumes_from_the_stored_token(connect, conn, client, signer, node):
    model = ingest_with_history(connect, client, signer)
    first = resync_from_ceramic(conn, client, signer, node_url=node.url)
    assert first.unchanged == 6 and first.adopted == 0  # rows already at the node's tip: untouched
    with connect() as c:
        upsert_chunks(c, document_chunks("slip-casting", 2))
    write_document_streams(connect, client, signer, model, ["slip-casting"])
    new_ids = {sid for sid, r in stream_rows(conn).items() if r.document_id == "slip-casting"}
    conn.execute("DELETE FROM ceramic_streams WHERE document_id = 'slip-casting'")
    second = resync_from_ceramic(conn, client, signer, node_url=node.url)
    assert not second.full and second.events_read == 4  # two new streams, init + data each
    assert second.adopted == 2 and {sid for sid, r in stream_rows(conn).items() if r.document_id == "slip-casting"} == new_ids


class TamperingClient(CeramicClient):
    """Serves one event with its patch swapped after signing (as a faulty or hostile node might)."""

    def __init__(self, url: str, event_cid: str) -> None:
        super().__init__(url, retry=FAST_RETRY, timeout_s=10)
        self.event_cid = event_cid

    def get_event(self, cid: str) -> bytes | None:
        car = super().get_event(cid)
        return tampered(car, [{"op": "add", "path": "/text", "value": "forged"}]) if cid == self.event_cid else car


def test_a_stream_that_fails_verification_is_not_adopted(connect, conn, client, signer, node):
    ingest_with_history(connect, client, signer)
    rows = stream_rows(conn)
    victim = next(r for r in rows.values() if r.document_id == KILNS and r.chunk_index == 1)
    conn.execute("DELETE FROM ceramic_streams")
    with TamperingClient(node.url, victim.latest_cid) as bad:
        report = resync_from_ceramic(conn, bad, signer, node_url=node.url)
    assert [f.split(":")[0] for f in report.failures] == [victim.stream_id]
    assert report.resume_token is None  # the page is read again next time
    assert set(stream_rows(conn)) == set(rows) - {victim.stream_id}
    healed = resync_from_ceramic(conn, client, signer, node_url=node.url)
    assert healed.full and not healed.failures and set(stream_rows(conn)) == set(rows)


def test_node_url_must_answer(conn, signer):
    from ceramic_pipeline.ceramic.client import CeramicUnavailable

    with CeramicClient("http://127.0.0.1:9", retry=FAST_RETRY, timeout_s=1) as dead, pytest.raises(CeramicUnavailable):
        resync_from_ceramic(conn, dead, signer, node_url="http://127.0.0.1:9")


def test_the_job_rebuilds_and_reports(connect, conn, client, signer, node, migrated_pg_url, tmp_path):
    import base64

    import dagster as dg

    from ceramic_pipeline.defs.maintenance.resync import resync_from_ceramic as job
    from ceramic_pipeline.resources import CeramicNodeResource, PostgresResource, SignerResource

    ingest_with_history(connect, client, signer)
    before = key_fields(conn)
    conn.execute("DELETE FROM ceramic_streams")
    result = job.execute_in_process(
        run_config={"ops": {"resync_streams": {"config": {"full": False}}}},
        resources={
            "postgres": PostgresResource(database_url=migrated_pg_url, data_dir=str(tmp_path)),
            "signer": SignerResource(seed_base64=base64.b64encode(b"writer-tests-fixed-seed-32bytes!").decode(),
                                     data_dir=str(tmp_path)),
            "ceramic": CeramicNodeResource(url=node.url, data_dir=str(tmp_path)),
        },
    )
    assert result.success
    [output] = [e for e in result.all_node_events if e.event_type == dg.DagsterEventType.STEP_OUTPUT]
    meta = {k: v.value for k, v in output.event_specific_data.metadata.items()}
    assert meta["full"] is True and meta["adopted"] == 6 and meta["failures"] == 0 and meta["events_read"] > 0
    assert key_fields(conn) == before
