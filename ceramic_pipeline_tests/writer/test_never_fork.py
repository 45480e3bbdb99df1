"""Issue 8, kind 6: the database is lost, the node is kept. Re-ingesting with a fresh database and
the same DID adopts the node's streams: no new event for an unchanged chunk, no fork, and a
changed chunk continues the node's chain. Real PostgreSQL (two databases), real HTTP."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import psycopg
import pytest

from ceramic_pipeline.ceramic.client import CeramicClient
from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.ceramic.events import data_event
from ceramic_pipeline.ceramic.identifiers import StreamID
from ceramic_pipeline.ceramic.model import set_init_event
from ceramic_pipeline.steps.readback import verify_document_streams
from ceramic_pipeline.steps.streams import write_document_streams
from ceramic_pipeline.storage import checks, outbox
from ceramic_pipeline.storage.chunks import upsert_chunks
from ceramic_pipeline.storage.migrations import migrate
from ceramic_pipeline.writer.content import chunk_content
from ceramic_pipeline.writer.models import publish_model
from ceramic_pipeline.writer.plan import SET_FIELDS, chunk_stream_id
from ceramic_pipeline.writer.publisher import publish_outbox
from ceramic_pipeline_tests.fixtures.postgres import throwaway_database
from ceramic_pipeline_tests.writer.conftest import FAST_RETRY
from ceramic_pipeline_tests.writer.support import chunk, document_chunks, stream_rows, tampered

DOCS = ["kiln-a", "kiln-b"]
CHUNKS = 8


@pytest.fixture
def fresh_connect(pg_admin_url) -> Iterator:
    """A second, empty pipeline database: the first one 'lost'."""
    with throwaway_database(pg_admin_url) as url:
        migrate(url)
        yield lambda: psycopg.connect(url)


def events_per_stream(node) -> dict:
    """{stream cid: [kinds]} straight from the node's store, with every data event's prev."""
    streams: dict = {}
    for e in node.store.since(0, 1_000_000):
        streams.setdefault(e.stream_cid, []).append(e)
    return streams


def assert_no_forks(node) -> None:
    for stream_cid, events in events_per_stream(node).items():
        if events[0].kind != "init" or len(events) == 1:
            continue
        data = [e for e in events if e.kind == "data"]
        prevs = [e.prev for e in data]
        assert len(prevs) == len(set(prevs)), f"fork in {stream_cid}: two data events share a prev"
        assert prevs[0] == events[0].cid and [e.prev for e in data[1:]] == [e.cid for e in data[:-1]]


def ingest(connect, client, signer, chunks) -> tuple:
    model, _ = publish_model(connect, client, signer)
    with connect() as c:
        upsert_chunks(c, chunks)
    return model, write_document_streams(connect, client, signer, model, sorted({c.document_id for c in chunks}))


def test_a_fresh_database_adopts_the_nodes_streams_instead_of_forking(connect, fresh_connect, client, node, signer):
    first = [row for d in DOCS for row in document_chunks(d, CHUNKS)]
    model, report = ingest(connect, client, signer, first)
    assert report.changes == Counter(created=2 * CHUNKS)
    # A chunk whose first data event never reached the node: the node holds its bare init.
    bare = chunk("kiln-a", CHUNKS)
    init = set_init_event(signer.did, model, SET_FIELDS, chunk_content(bare, created_at="x", updated_at="x"))
    client.post_event(init.car)
    before = node.store.count()
    with connect() as c:
        old = stream_rows(c)

    changed = chunk("kiln-b", 3, "kiln-b 3: bisque at cone 04 instead")
    second = [r for r in first if (r.document_id, r.chunk_index) != ("kiln-b", 3)] + [changed, bare]
    _, again = ingest(fresh_connect, client, signer, second)

    assert again.adopted == 2 * CHUNKS + 1 and again.adopt_failures == []
    assert again.changes == Counter(unchanged=2 * CHUNKS - 1, updated=2)  # the changed chunk and the bare init
    assert again.events == 2 and again.publish.published == 2
    assert node.store.count() == before + 2
    assert_no_forks(node)

    with fresh_connect() as c:
        rows = {(r.document_id, r.chunk_index): r for r in stream_rows(c).values()}
        assert len(rows) == 2 * CHUNKS + 1
        edited = rows[("kiln-b", 3)]
        was = old[edited.stream_id]
        assert edited.stream_id == chunk_stream_id(signer.did, model, "kiln-b", 3) == was.stream_id
        assert edited.version == was.version + 1
        stored = node.store.stream_events(StreamID.from_string(edited.stream_id).cid)
        assert [str(e.cid) for e in stored][-2] == was.latest_cid  # continues the node's chain
        assert rows[("kiln-b", 4)].latest_cid == old[rows[("kiln-b", 4)].stream_id].latest_cid
        assert rows[("kiln-a", CHUNKS)].version == 2
        # The adopted chains are in the outbox as published, so checks and read-back agree.
        assert outbox.status_counts(c) == {"pending": 0, "published": 1 + 4 * CHUNKS + 1 + 2, "rejected": 0}
        for d in DOCS:
            assert checks.unpublished_chunks(c, [d], signer.did) == {}
            verified = verify_document_streams(c, client, d, signer.did)
            assert verified.failures == [] and verified.verified == CHUNKS + (d == "kiln-a")


def test_a_fresh_database_with_the_node_down_never_posts_over_the_nodes_streams(connect, fresh_connect, client, node, signer):
    chunks = [row for d in DOCS for row in document_chunks(d, CHUNKS)]
    ingest(connect, client, signer, chunks)
    before = node.store.count()

    node.stop()  # the node cannot be asked: every chunk is queued as new, with its init unchecked
    model, report = ingest(fresh_connect, client, signer, chunks)
    assert report.changes == Counter(created=2 * CHUNKS) and report.publish.pending == 1 + 4 * CHUNKS

    node.start()
    drained = publish_outbox(fresh_connect, client)
    assert (drained.dropped, drained.published, drained.pending, drained.rejected) == (2 * CHUNKS, 1, 0, 0)
    assert all("database lost or restored?" in e for e in drained.errors)
    assert node.store.count() == before  # nothing posted over the node's streams
    assert_no_forks(node)

    with fresh_connect() as c:  # the next run adopts them: nothing to write
        again = write_document_streams(fresh_connect, client, signer, model, DOCS)
        assert again.adopted == 2 * CHUNKS and again.changes == Counter(unchanged=2 * CHUNKS) and again.events == 0
        for d in DOCS:
            assert checks.unpublished_chunks(c, [d], signer.did) == {}
    assert node.store.count() == before


def test_a_node_stream_that_does_not_verify_is_neither_adopted_nor_written_over(connect, fresh_connect, client, node, signer):
    chunks = document_chunks("kiln-a", 3)
    model, _ = ingest(connect, client, signer, chunks)
    victim = chunk_stream_id(signer.did, model, "kiln-a", 1)
    tip = node.store.stream_events(StreamID.from_string(victim).cid)[-1]
    node.store.commit()
    with node.store.lock:  # the node now serves bytes that are not the event it names
        node.store._db.execute("UPDATE events SET car = ? WHERE cid = ?",
                               (tampered(tip.car, [{"op": "add", "path": "/text", "value": "forged"}]), tip.cid.bytes))
    before = node.store.count()

    _, again = ingest(fresh_connect, client, signer, chunks)
    assert again.adopted == 2 and len(again.adopt_failures) == 1
    assert again.adopt_failures[0].startswith("kiln-a#1: the node's stream could not be adopted: Event had invalid signature")
    assert "kiln-a" in again.failures and "1 chunk(s) not written" in again.failures["kiln-a"]
    assert again.events == 0 and node.store.count() == before
    with fresh_connect() as c:
        assert sorted(r.chunk_index for r in stream_rows(c).values()) == [0, 2]
        assert checks.unpublished_chunks(c, ["kiln-a"], signer.did) == {"kiln-a": [1]}


# -- the feed pre-screen (writer.adopt.absent_by_feed): lookups only where the node may hold the stream --

def stream_gets(requests) -> int:
    return sum(n for (method, path), n in requests.counts.items() if method == "GET" and path.startswith("/ceramic/streams/"))


def test_new_chunks_are_proven_absent_by_the_feed_without_one_lookup_each(connect, client, node, requests, signer):
    before = stream_gets(requests)
    model, report = ingest(connect, client, signer, [row for d in DOCS for row in document_chunks(d, CHUNKS)])
    assert report.changes == Counter(created=2 * CHUNKS) and report.publish.published == 4 * CHUNKS
    assert stream_gets(requests) == before  # the feed (one page) showed none of the 16 inits
    gets = stream_gets(requests)
    _, more = ingest(connect, client, signer, [chunk("kiln-a", CHUNKS)])  # one new chunk later on
    assert more.changes == Counter(unchanged=CHUNKS, created=1) and stream_gets(requests) == gets
    assert_no_forks(node)


def test_a_database_restored_from_before_some_streams_finds_them_through_the_feed(connect, fresh_connect, client, node, requests, signer):
    """The backup holds kiln-a and the re-sync's resume token; kiln-b's streams were written after
    it. Restored, the database looks kiln-b up (its inits are in the feed after the token) and adopts
    the node's streams: no new event, no fork. kiln-a's chunks were never asked about."""
    from ceramic_pipeline.maintenance.resync import resync_from_ceramic

    kiln_a = document_chunks("kiln-a", CHUNKS)
    kiln_b = document_chunks("kiln-b", CHUNKS)
    for database in (connect, fresh_connect):  # the same history up to the backup, in both
        ingest(database, client, signer, kiln_a)
        with database() as c:
            resync = resync_from_ceramic(c, client, signer, node_url=client.url)
            assert resync.failures == [] and resync.resume_token
    ingest(connect, client, signer, kiln_b)  # after the backup: only the live database knows it
    count, gets = node.store.count(), stream_gets(requests)

    _, restored = ingest(fresh_connect, client, signer, kiln_b)

    assert restored.adopted == CHUNKS and restored.changes == Counter(unchanged=CHUNKS) and restored.events == 0
    assert node.store.count() == count and stream_gets(requests) - gets == CHUNKS  # kiln-b only
    assert_no_forks(node)


def test_the_feed_pre_screen_gives_up_where_lookups_are_cheaper(client, node, signer, monkeypatch):
    from ceramic_pipeline.ceramic.model import DOCLING_CHUNK_MODEL, model_init_event, model_stream_id
    from ceramic_pipeline.writer import adopt

    model = model_stream_id(model_init_event(signer, DOCLING_CHUNK_MODEL))
    ids = [chunk_stream_id(signer.did, model, "kiln-z", i) for i in range(3)]
    for i in range(5):  # five events on the node, none of them ours
        client.post_event(model_init_event(DIDKey.from_seed(bytes([i + 1]) * 32), DOCLING_CHUNK_MODEL).car)
    assert adopt.absent_by_feed(client, ids, None) == set(ids)  # one page holds the whole feed
    monkeypatch.setattr(adopt, "FEED_PAGE_SIZE", 2)  # three pages: more than 3 ids may cost
    assert adopt.absent_by_feed(client, ids, None) is None
    with CeramicClient("http://127.0.0.1:9", retry=FAST_RETRY, timeout_s=1) as nowhere:  # nothing listens
        assert adopt.absent_by_feed(nowhere, ids, None) is None
