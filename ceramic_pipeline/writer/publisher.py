"""Drain the outbox to a Ceramic node: per-stream order, streams in parallel, nothing dropped.

Each round takes the streams whose next event is ready (every earlier event of the stream
already published) with the pending events after it (``outbox.pending_chains``), posts Model
streams first so instances never precede their model, then the rest in parallel, each
stream's events in order. A 400 marks the event rejected with the node's message; a node that
stays unreachable leaves events pending for the next run: the first round in which nothing
progresses ends the call, and the client stops retrying a node that refuses connections.

A Model's init event counts as published only once the node also registered interest in the
model (ceramic-one stores instances of models it is interested in). Doing it here, not before
any work, means a node that is down never blocks chunking and signing (issue 8, kind 5).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
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

    def add(self, other: PublishReport) -> None:
        """Count ``other``'s events in this report as well (``pending`` is a snapshot: kept as is)."""
        self.published += other.published
        self.rejected += other.rejected
        self.failed += other.failed
        self.dropped += other.dropped
        self.errors += other.errors


class StreamExists(CeramicError):
    """An unchecked init's stream is already on the node: posting our events would fork it."""


def _is_model(stream_id: str) -> bool:
    return StreamID.from_string(stream_id).type == StreamType.MODEL


def _post(client: CeramicClient, chains: list[list[outbox.PendingEvent]]) -> list[tuple[outbox.PendingEvent, BaseException | None]]:
    """Post each stream's chain in order, streams concurrently; (event, None when published or
    the error) for each event tried. A chain stops at its first failure: later events are not
    tried and stay pending (they need the failed one as ``prev``).

    An unchecked init is first looked up: a stream the node already holds is not posted
    (StreamExists). A Model's init also registers interest in the model.
    """
    outcomes: list[tuple[outbox.PendingEvent, BaseException | None]] = []
    unchecked = [c for c in chains if c[0].unchecked]
    held: set[str] = set()
    for chain, state in zip(unchecked, client.get_streams([c[0].stream_id for c in unchecked])):
        if isinstance(state, CeramicError):
            outcomes.append((chain[0], state))
            held.add(chain[0].stream_id)
        elif state is not None:
            outcomes.append((chain[0], StreamExists(
                "already on the node with a history this database does not know "
                "(database lost or restored?); its queued events were dropped and the next run adopts it")))
            held.add(chain[0].stream_id)
    to_post = [c for c in chains if c[0].stream_id not in held]
    for chain, (posted, error) in zip(to_post, client.post_chains([[e.car for e in c] for c in to_post])):
        outcomes += [(event, None) for event in chain[:posted]]
        if error is not None:
            outcomes.append((chain[posted], error))
        if posted and chain[0].position == 0 and _is_model(chain[0].stream_id):
            try:
                client.register_interest(chain[0].stream_id)  # idempotent: a re-post registers again
            except CeramicError as exc:
                # Not published until the node is interested: record the init as failed (it stays
                # pending and is posted again), and nothing after it.
                outcomes = [o for o in outcomes if o[0].stream_id != chain[0].stream_id] + [(chain[0], exc)]
    return outcomes


def publish_outbox(
    connect: Callable[[], psycopg.Connection], client: CeramicClient, *, batch_size: int = 500,
    streams: Collection[str] | None = None,
) -> PublishReport:
    """Post what is ready until nothing is, or a round makes no progress; ``streams``: only their
    events, each round first waiting for publishers that hold some (``outbox.lock_pending``)."""
    report = PublishReport()
    with connect() as conn:
        while True:
            # The batch stays locked until its outcomes are recorded, so a publisher running at
            # the same time (schedule vs. asset) skips these events instead of posting them twice.
            with conn.transaction():
                if streams is not None and not outbox.lock_pending(conn, streams):
                    break  # none of them pending any more
                ready = outbox.pending_chains(conn, limit=batch_size, lock=True, streams=streams)
                if not ready:
                    break
                models = [c for c in ready if _is_model(c[0].stream_id)]
                others = [c for c in ready if not _is_model(c[0].stream_id)]
                outcomes = [o for chain in models for o in _post(client, [chain])]  # models first, one by one
                if others and client.unreachable and all(err is None for _, err in outcomes):
                    # The node was unreachable: one stream probes it before a batch is sent its way.
                    outcomes += _post(client, others[:1])
                    others = others[1:]
                if all(err is None for _, err in outcomes):
                    outcomes += _post(client, others)
                progressed = _record(conn, outcomes, report)
            if not progressed:  # everything failed transiently: the node is down; retry next run
                break
        report.pending = outbox.pending_count(conn)
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


class BackgroundPublisher:
    """Drain the outbox on a thread while the caller keeps recording events (``with`` block).

    ``wake()`` after each committed document: events recorded so far are posted while the next
    document is planned and signed, so the node validates while this process signs instead of
    each waiting on the other (issue 10: a fresh 10,000-chunk ingest spent 14 s only waiting
    on the node to publish). Publishers running at once are safe: ``publish_outbox`` locks its
    batch (``FOR UPDATE SKIP LOCKED``). ``report`` sums what the thread published; the caller
    drains what is left once its last document is recorded. A failure on the thread is kept
    in ``report.errors`` and leaves its events pending, as a failed drain does. While the client
    knows the node is unreachable, wakes are ignored: a run against a stopped node still costs
    one attempt (the final drain's), not one per document.
    """

    def __init__(self, connect: Callable[[], psycopg.Connection], client: CeramicClient):
        self.connect, self.client = connect, client
        self.report = PublishReport()
        self._wake, self._done = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-publisher", daemon=True)

    def __enter__(self) -> BackgroundPublisher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._wake.set()
        self._thread.join()

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._done.is_set():
                return
            if self.client.unreachable:  # the node is down: the caller's final drain makes the one attempt
                continue
            try:
                self.report.add(publish_outbox(self.connect, self.client))
            except Exception as exc:  # noqa: BLE001 - whatever it is, the caller's final drain posts the rest and reports
                self.report.errors.append(f"background publishing stopped: {type(exc).__name__}: {exc}")
                return
