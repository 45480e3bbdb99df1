"""Drain the outbox to a Ceramic node: per-stream order, streams in parallel, nothing dropped.

Each round takes the events that are ready (every earlier event of their stream already
published), posts Model streams first so instances never precede their model, then the
rest in parallel. A 400 marks the event rejected with the node's message; a node that
stays unreachable leaves events pending for the next run: the first round in which nothing
progresses ends the call, and the client stops retrying a node that refuses connections.

A Model's init event counts as published only once the node also registered interest in the
model (ceramic-one stores instances of models it is interested in). Doing it here, not before
any work, means a node that is down never blocks chunking and signing (issue 8, kind 5).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone

import psycopg

from ceramic_pipeline import metrics
from ceramic_pipeline.ceramic.client import CeramicClient, CeramicError, EventRejected
from ceramic_pipeline.ceramic.identifiers import StreamID, StreamType
from ceramic_pipeline.storage import outbox


@dataclass
class PublishReport:
    published: int = 0
    rejected: int = 0
    failed: int = 0
    pending: int = 0
    dropped: int = 0  # streams not posted: the node already held them with another history
    errors: list[str] = field(default_factory=list)


class StreamExists(CeramicError):
    """An unchecked init's stream is already on the node: posting our events would fork it."""


def _is_model(stream_id: str) -> bool:
    return StreamID.from_string(stream_id).type == StreamType.MODEL


def _post(client: CeramicClient, event: outbox.PendingEvent) -> BaseException | None:
    try:
        if event.unchecked and client.get_stream(event.stream_id) is not None:
            return StreamExists("already on the node with a history this database does not know "
                                "(database lost or restored?); its queued events were dropped and the next run adopts it")
        client.post_event(event.car)
        if event.position == 0 and _is_model(event.stream_id):
            client.register_interest(event.stream_id)  # idempotent: a re-post registers again
    except CeramicError as exc:
        return exc
    return None


def publish_outbox(
    connect: Callable[[], psycopg.Connection], client: CeramicClient, *, batch_size: int = 500
) -> PublishReport:
    report = PublishReport()
    with connect() as conn, ThreadPoolExecutor(max_workers=client.max_in_flight) as pool:
        while True:
            # The batch stays locked until its outcomes are recorded, so a publisher running at
            # the same time (schedule vs. asset) skips these events instead of posting them twice.
            with conn.transaction():
                ready = outbox.pending_events(conn, limit=batch_size, lock=True)
                if not ready:
                    break
                models = [e for e in ready if _is_model(e.stream_id)]
                others = [e for e in ready if not _is_model(e.stream_id)]
                outcomes = [(e, _post(client, e)) for e in models]  # models first, one by one
                if others and client.unreachable and all(err is None for _, err in outcomes):
                    # The node was unreachable: one event probes it before a batch is sent its way.
                    outcomes.append((others[0], _post(client, others[0])))
                    others = others[1:]
                if all(err is None for _, err in outcomes):
                    outcomes += list(zip(others, pool.map(lambda e: _post(client, e), others)))
                progressed = _record(conn, outcomes, report)
            if not progressed:  # everything failed transiently: the node is down; retry next run
                break
        report.pending = outbox.status_counts(conn)["pending"]
        metrics.ceramic_outbox_pending.set(report.pending)
    return report


def _record(conn: psycopg.Connection, outcomes: list, report: PublishReport) -> bool:
    now = datetime.now(timezone.utc)
    published = [e for e, err in outcomes if err is None]
    outbox.mark_published(conn, [e.event_cid for e in published])
    for event in published:
        if event.position == 0 and not _is_model(event.stream_id):
            metrics.ceramic_streams_created_total.inc()
            metrics.ceramic_stream_creation_duration_seconds.observe(max(0.0, (now - event.created_at).total_seconds()))
    report.published += len(published)
    for event, err in outcomes:
        if isinstance(err, StreamExists):
            outbox.drop_unpublished_stream(conn, event.stream_id)
            report.dropped += 1
            report.errors.append(f"{event.stream_id}: {err}")
        elif isinstance(err, EventRejected):
            outbox.mark_rejected(conn, event.event_cid, err.message)
            report.rejected += 1
            report.errors.append(f"{event.stream_id}@{event.position}: rejected: {err.message}")
        elif err is not None:
            outbox.mark_failed(conn, event.event_cid, str(err))
            report.failed += 1
            report.errors.append(f"{event.stream_id}@{event.position}: {err}")
    return bool(published) or any(isinstance(err, (EventRejected, StreamExists)) for _, err in outcomes)
