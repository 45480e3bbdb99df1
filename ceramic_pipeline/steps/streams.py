"""Bring a document's chunk streams up to date: plan, record in the outbox, publish."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

import psycopg

from ceramic_pipeline.ceramic.client import CeramicClient, CeramicError, StreamState
from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.ceramic.identifiers import StreamID
from ceramic_pipeline.steps.outcomes import per_document
from ceramic_pipeline.storage import chunks as chunk_store
from ceramic_pipeline.storage import feed_cursors, outbox, streams
from ceramic_pipeline.writer.adopt import Adoption, adopt_streams, look_up_ahead
from ceramic_pipeline.writer.plan import ChunkError, plan_document
from ceramic_pipeline.writer.publisher import BackgroundPublisher, PublishReport, publish_outbox


@dataclass
class StreamsReport:
    changes: Counter = field(default_factory=Counter)  # created / updated / removed / unchanged
    events: int = 0
    restored: int = 0  # rows brought back from ceramic_streams_archive
    errors: list[ChunkError] = field(default_factory=list)  # chunks not written (nothing signed or recorded)
    publish: PublishReport = field(default_factory=PublishReport)
    sign_seconds: float = 0.0  # plan, sign and record in the outbox (events are posted meanwhile)
    publish_seconds: float = 0.0  # the final drain, after the last document was recorded
    failures: dict[str, str] = field(default_factory=dict)  # document_id -> reason
    adopted: int = 0  # streams the node held but the database did not know (writer.adopt)
    adopt_failures: list[str] = field(default_factory=list)  # chunks left unwritten: their node stream is unusable
    superseded: int = 0  # streams of an earlier DID (key rotation) that this DID's streams replaced
    streams: set[str] = field(default_factory=set)  # StreamIDs given events in the outbox


class ChunksRefused(ValueError):
    """Some of a document's chunks do not fit the DoclingChunk model (see writer.plan.ChunkError)."""


class StreamsNotAdopted(ValueError):
    """The node holds streams of some of a document's chunks that do not verify (see writer.adopt)."""


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Prefetched:
    """A document's chunks and stream rows, read for many documents at once (``write_document_streams``).

    Only for a document without archived rows, rows of another signer or superseded rows
    (``streams.documents_needing_restore_or_supersede``): for it, restoring and superseding are
    no-ops, so ``record_document_streams`` skips them.
    """

    chunks: list[chunk_store.ChunkRow]
    rows: list[streams.StreamRow]


# Documents whose chunks and stream rows are read together: two queries per 25 documents instead
# of two per document (and two statements fewer each, see Prefetched); memory stays bounded.
PREFETCH_DOCUMENTS = 25


def record_document_streams(
    conn: psycopg.Connection, signer: DIDKey, model: StreamID, document_id: str, client: CeramicClient | None = None,
    looked_up: Mapping[str, StreamState | None | CeramicError] | None = None, prefetched: Prefetched | None = None,
) -> StreamsReport:
    """Plan the document's events and write them to the outbox with the stream rows, in the caller's
    transaction (the caller commits: the rows and their events land together or not at all).

    Chunks whose content does not fit the model (or whose event block is over the SDK's
    limit) get no events and no row; they are returned in ``errors``.

    With ``client``, chunks the database has no stream for are first looked up on the node and
    adopted (``writer.adopt``), so a lost database never leads to a forked stream; chunks whose
    node stream cannot be adopted are not written (``adopt_failures``). Without a client (or
    with the node unreachable) their init events are queued as unchecked, and the publisher
    looks each stream up before posting it. ``looked_up`` holds node answers already fetched
    ({StreamID: state}, ``writer.adopt.look_up_ahead``); ``prefetched``, its chunks and rows
    already read (see Prefetched).
    """
    report = StreamsReport()
    if prefetched is None:
        chunks = chunk_store.chunks_for_document(conn, document_id)
        # An archived stream continues its chain: bring its row back before planning.
        report.restored = len(streams.restore_archived(conn, document_id=document_id))
        rows = streams.streams_for_document(conn, document_id)
    else:
        chunks, rows = prefetched.chunks, prefetched.rows
    existing = {row.chunk_index: row for row in rows if row.signer_did == signer.did}
    pins = {c.chunk_index: c.ipfs_pins for c in chunks}
    unknown = [c.chunk_index for c in chunks if c.chunk_index not in existing]
    adoption = adopt_streams(client, signer, model, document_id, unknown, pins, looked_up) if client and unknown else Adoption(unchecked=set(unknown))
    existing.update(adoption.rows)
    planned = [c for c in chunks if c.chunk_index not in adoption.failed]
    plan = plan_document(signer, model, document_id, planned, existing, pins, now_iso())
    writes = plan.writes
    # All in the caller's transaction (write_document_streams: per_document commits or rolls back
    # the whole document), so no savepoint of its own: two round trips per document fewer.
    outbox.record_adopted(conn, adoption.events)
    streams.upsert_streams(conn, adoption.rows.values())
    events = [e for w in writes for e in w.events]
    outbox.enqueue_events(conn, events, unchecked={w.stream_id for w in writes if w.chunk_index in adoption.unchecked})
    streams.upsert_streams(conn, [w.row for w in writes if w.row is not None])
    if prefetched is None:  # after a key rotation, the previous DID's streams of these chunks are superseded by ours
        report.superseded = streams.mark_superseded(conn, document_id, signer.did)
    report.changes.update(w.change for w in writes)
    report.events = len(events)
    report.streams = {e.stream_id for e in events}
    report.errors = list(plan.errors)
    report.adopted, report.adopt_failures = len(adoption.rows), sorted(adoption.failed.values())
    return report


def _prefetch(conn: psycopg.Connection, document_ids: list[str]) -> dict[str, Prefetched]:
    if not document_ids:
        return {}
    chunks, rows = chunk_store.chunks_for_documents(conn, document_ids), streams.streams_for_documents(conn, document_ids)
    return {d: Prefetched(chunks[d], rows[d]) for d in document_ids}


def write_document_streams(
    connect: Callable[[], psycopg.Connection], client: CeramicClient, signer: DIDKey, model: StreamID, document_ids: list[str]
) -> StreamsReport:
    total = StreamsReport()
    started = time.perf_counter()
    with connect() as conn, BackgroundPublisher(connect, client) as background:
        since = feed_cursors.synced_resume_token(conn, client.url, str(model), signer.did)
        lookups, looked_up_ids = look_up_ahead(client, signer, model, streams.chunks_without_stream(conn, document_ids, signer.did),
                                               feed_since=since)
        involved = streams.documents_needing_restore_or_supersede(conn, document_ids, signer.did)
        prefetched: dict[str, Prefetched] = {}
        for index, document_id in enumerate(document_ids):
            if index % PREFETCH_DOCUMENTS == 0:
                prefetched = _prefetch(conn, [d for d in document_ids[index:index + PREFETCH_DOCUMENTS] if d not in involved])
            events_before = total.events
            with per_document(conn, document_id, total.failures):
                lookup = lookups.pop(document_id, None)
                looked_up = dict(zip(looked_up_ids[document_id], lookup.result())) if lookup else None
                report = record_document_streams(conn, signer, model, document_id, client, looked_up, prefetched.pop(document_id, None))
                total.changes.update(report.changes)
                total.events += report.events
                total.restored += report.restored
                total.errors += report.errors
                total.adopted += report.adopted
                total.superseded += report.superseded
                total.streams |= report.streams
                total.adopt_failures += report.adopt_failures
                if report.errors:  # the other chunks are written (kept); the document is not complete
                    conn.commit()
                    raise ChunksRefused(f"{len(report.errors)} chunk(s) cannot be written: {report.errors[0]}")
                if report.adopt_failures:  # writing them would fork or extend a stream we cannot vouch for
                    conn.commit()
                    raise StreamsNotAdopted(f"{len(report.adopt_failures)} chunk(s) not written: {report.adopt_failures[0]}")
            if total.events > events_before:
                background.wake()  # this document's events are committed: post them while the next is signed
    signed = time.perf_counter()
    total.publish = publish_outbox(connect, client)  # what the background publisher left, and the pending count
    total.publish.add(background.report)
    if total.streams and not client.unreachable:
        # The drain above skips events another run's publisher holds; take this run's own, waiting
        # for that publisher, so the run's checks find them published (outbox.lock_pending).
        own = publish_outbox(connect, client, streams=total.streams)
        total.publish.add(own)
        total.publish.pending = own.pending
    total.sign_seconds, total.publish_seconds = signed - started, time.perf_counter() - signed
    return total
