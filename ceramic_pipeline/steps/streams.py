"""Bring a document's chunk streams up to date: plan, record in the outbox, publish."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import psycopg

from ceramic_pipeline.ceramic.client import CeramicClient
from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.ceramic.identifiers import StreamID
from ceramic_pipeline.storage import chunks as chunk_store
from ceramic_pipeline.storage import outbox, streams
from ceramic_pipeline.writer.adopt import Adoption, adopt_streams
from ceramic_pipeline.writer.plan import plan_document
from ceramic_pipeline.writer.publisher import PublishReport, publish_outbox


@dataclass
class StreamsReport:
    changes: Counter = field(default_factory=Counter)  # created / updated / removed / unchanged
    events: int = 0
    publish: PublishReport = field(default_factory=PublishReport)
    sign_seconds: float = 0.0  # plan, sign and record in the outbox
    publish_seconds: float = 0.0
    adopted: int = 0  # streams the node held but the database did not know (writer.adopt)
    adopt_failures: list[str] = field(default_factory=list)  # chunks left unwritten: their node stream is unusable


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def record_document_streams(
    conn: psycopg.Connection, signer: DIDKey, model: StreamID, document_id: str, client: CeramicClient | None = None
) -> StreamsReport:
    """Plan the document's events and write them to the outbox with the stream rows, in one transaction.

    With ``client``, chunks the database has no stream for are first looked up on the node and
    adopted (``writer.adopt``), so a lost database never leads to a forked stream. Without it
    (or with the node unreachable), their init events are queued as unchecked and the
    publisher looks the stream up before posting them.
    """
    report = StreamsReport()
    chunks = chunk_store.chunks_for_document(conn, document_id)
    existing = {row.chunk_index: row for row in streams.streams_for_document(conn, document_id) if row.signer_did == signer.did}
    pins = {c.chunk_index: c.ipfs_pins for c in chunks}
    unknown = [c.chunk_index for c in chunks if c.chunk_index not in existing]
    adoption = adopt_streams(client, signer, model, document_id, unknown, pins) if client and unknown else Adoption(unchecked=set(unknown))
    existing.update(adoption.rows)
    planned = [c for c in chunks if c.chunk_index not in adoption.failed]
    writes = plan_document(signer, model, document_id, planned, existing, pins, now_iso())
    with conn.transaction():
        outbox.record_published(conn, adoption.events)
        streams.upsert_streams(conn, adoption.rows.values())
        events = [e for w in writes for e in w.events]
        outbox.enqueue_events(conn, events, unchecked={w.stream_id for w in writes if w.chunk_index in adoption.unchecked})
        streams.upsert_streams(conn, [w.row for w in writes if w.row is not None])
    report.changes.update(w.change for w in writes)
    report.events = len(events)
    report.adopted, report.adopt_failures = len(adoption.rows), sorted(adoption.failed.values())
    return report


def write_document_streams(
    connect: Callable[[], psycopg.Connection], client: CeramicClient, signer: DIDKey, model: StreamID, document_ids: list[str]
) -> StreamsReport:
    total = StreamsReport()
    started = time.perf_counter()
    with connect() as conn:
        for document_id in document_ids:
            report = record_document_streams(conn, signer, model, document_id, client)
            total.changes.update(report.changes)
            total.events += report.events
            total.adopted += report.adopted
            total.adopt_failures += report.adopt_failures
    signed = time.perf_counter()
    total.publish = publish_outbox(connect, client)
    total.sign_seconds, total.publish_seconds = signed - started, time.perf_counter() - signed
    return total
