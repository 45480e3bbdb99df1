"""The ceramic_events outbox: signed events waiting to be posted to a Ceramic node.

Events are enqueued in the caller's transaction, next to the stream rows they produce, so a
crash can never leave a stream row without the events that back it. A publisher then takes
``pending_events``, posts each one, and records the outcome with ``mark_published``,
``mark_failed`` (transient: stays pending) or ``mark_rejected`` (the node refused it).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

import psycopg

from ceramic_pipeline.storage.batching import column_batches, unnest_placeholders

EVENT_KINDS = ("init", "data")
EVENT_STATUSES = ("pending", "published", "rejected")


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    event_cid: str
    stream_id: str
    position: int  # 0 is the init event
    kind: str
    car: bytes

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"event {self.event_cid}: kind {self.kind!r} not in {EVENT_KINDS}")
        if (self.kind == "init") != (self.position == 0):
            raise ValueError(
                f"event {self.event_cid}: an init event sits at position 0 and only there "
                f"(kind={self.kind}, position={self.position})"
            )


@dataclass(frozen=True, slots=True)
class PendingEvent:
    event_cid: str
    stream_id: str
    position: int
    kind: str
    car: bytes
    attempts: int
    last_error: str | None
    created_at: datetime
    unchecked: bool = False  # an init queued without asking the node whether the stream exists


_INSERT = f"""
INSERT INTO ceramic_events (event_cid, stream_id, position, kind, car)
SELECT * FROM unnest({unnest_placeholders(("text", "text", "int4", "text", "bytea"))})
ON CONFLICT (event_cid) DO NOTHING
"""

_INSERT_PUBLISHED = f"""
INSERT INTO ceramic_events (event_cid, stream_id, position, kind, car, status, published_at, adopted)
SELECT u.*, 'published', now(), true
FROM unnest({unnest_placeholders(("text", "text", "int4", "text", "bytea"))}) AS u(event_cid, stream_id, position, kind, car)
ON CONFLICT (event_cid) DO NOTHING
"""

# A pending event is ready when every earlier position of its stream exists and is published;
# counting (rather than testing only the predecessor) also holds back events after a gap.
# No ORDER BY: sorting made PostgreSQL read and sort every pending row (car included) before the
# LIMIT, 14-23 ms a round with 5,000-8,000 pending (EXPLAIN ANALYZE: an external merge sort on
# disk); without it the scan stops at the LIMIT, 1.7 ms. Models go first by a query of their own.
_PENDING_COLUMNS = "e.event_cid, e.stream_id, e.position, e.kind, e.car, e.attempts, e.last_error, e.created_at, e.unchecked"  # PendingEvent
_PENDING = f"""
SELECT {_PENDING_COLUMNS}
FROM ceramic_events e
WHERE e.status = 'pending'{{only}}
  AND {{model}}
  AND e.position = (SELECT count(*) FROM ceramic_events p
                    WHERE p.status = 'published' AND p.stream_id = e.stream_id
                      AND p.position < e.position)
LIMIT %s{{lock}}
"""


def enqueue_events(conn: psycopg.Connection, events: Iterable[OutboxEvent], *, unchecked: Collection[str] = ()) -> int:
    """Add events to the outbox; returns how many were new.

    Re-enqueueing an event (same CID) is a no-op. A *different* event at a position the
    stream already has raises ``psycopg.errors.UniqueViolation``: that would fork the stream.
    The init events of streams in ``unchecked`` are marked so that the publisher first asks
    the node whether it already holds the stream (see ``drop_unpublished_stream``).
    """
    events = list(events)
    inserted = _insert(conn, _INSERT, events)
    marked = [e.event_cid for e in events if e.position == 0 and e.stream_id in unchecked]
    if marked:
        conn.execute("UPDATE ceramic_events SET unchecked = true WHERE event_cid = ANY(%s) AND status = 'pending'", (marked,))
    return inserted


def record_adopted(conn: psycopg.Connection, events: Iterable[OutboxEvent]) -> int:
    """Record events the node already holds (an adopted stream) as published and adopted; returns how many were new."""
    return _insert(conn, _INSERT_PUBLISHED, events)


def drop_unpublished_stream(conn: psycopg.Connection, stream_id: str) -> int:
    """Forget a stream none of whose events was published: its pending events and its row.

    Used when the node turns out to hold the stream already with a history this database does
    not know; posting ours would fork it. The next run adopts the node's stream instead.
    Returns the number of events dropped; refuses (LookupError) if any event was published.
    """
    if conn.execute("SELECT 1 FROM ceramic_events WHERE stream_id = %s AND status = 'published' LIMIT 1", (stream_id,)).fetchone():
        raise LookupError(f"stream {stream_id} has published events; it cannot be dropped")
    dropped = conn.execute("DELETE FROM ceramic_events WHERE stream_id = %s", (stream_id,)).rowcount
    conn.execute("DELETE FROM ceramic_streams WHERE stream_id = %s", (stream_id,))
    return dropped


def _insert(conn: psycopg.Connection, sql: str, events: Iterable[OutboxEvent]) -> int:
    values = [(e.event_cid, e.stream_id, e.position, e.kind, e.car) for e in events]
    inserted = 0
    with conn.cursor() as cur:
        for columns in column_batches(values):
            cur.execute(sql, columns)
            inserted += cur.rowcount
    return inserted


def pending_events(
    conn: psycopg.Connection, limit: int = 100, *, lock: bool = False, streams: Collection[str] | None = None,
) -> list[PendingEvent]:
    """Up to ``limit`` pending events that can be posted now: Model streams' first, each group by
    (stream_id, position). Which ones are taken when more are ready is unspecified (the scan
    stops at the limit); every ready event is taken by some later call.

    At most one event per stream is returned, because the next one becomes ready only after
    this one is published. With ``lock=True`` the rows are locked FOR UPDATE SKIP LOCKED (use
    inside a transaction), so concurrent publishers never take the same event. ``streams``
    keeps only those streams' events.
    """
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    only = "" if streams is None else "\n  AND e.stream_id = ANY(%s)"
    lock_sql = " FOR UPDATE OF e SKIP LOCKED" if lock else ""
    ready: list[PendingEvent] = []
    # Model streams first (instances must not precede their model). The model ids are read once
    # per statement (an ARRAY initplan), not once per pending row as a correlated EXISTS was.
    for model in ("e.stream_id = ANY(ARRAY(SELECT model_id FROM ceramic_models))",
                  "e.stream_id <> ALL(ARRAY(SELECT model_id FROM ceramic_models))"):
        if len(ready) == limit:
            break
        params = (limit - len(ready),) if streams is None else (list(streams), limit - len(ready))
        found = [PendingEvent(*row) for row in conn.execute(_PENDING.format(only=only, model=model, lock=lock_sql), params)]
        ready += sorted(found, key=lambda e: (e.stream_id, e.position))
    return ready


def pending_chains(
    conn: psycopg.Connection, limit: int = 100, *, lock: bool = False, streams: Collection[str] | None = None,
) -> list[list[PendingEvent]]:
    """Up to ``limit`` streams' pending chains: each is a ready event (``pending_events``) followed
    by the stream's pending events at the next positions, without a gap; in ``pending_events``'
    order. With ``lock=True`` every event of a chain is locked FOR UPDATE SKIP LOCKED; a chain
    ends before an event another publisher holds.

    A publisher posts a chain in order (``CeramicClient.post_chains``): a new stream's init and
    data events in one round instead of two, so half the rounds, each a scan of the pending
    events and an update of the posted ones (issue 10).
    """
    heads = pending_events(conn, limit, lock=lock, streams=streams)
    later = conn.execute(
        f"SELECT {_PENDING_COLUMNS} "
        "FROM ceramic_events e WHERE e.status = 'pending' AND e.stream_id = ANY(%s) AND e.position > 0 "
        "ORDER BY e.stream_id, e.position" + (" FOR UPDATE OF e SKIP LOCKED" if lock else ""),
        ([h.stream_id for h in heads],),
    ) if heads else []
    chains = {h.stream_id: [h] for h in heads}
    for event in (PendingEvent(*row) for row in later):
        chain = chains[event.stream_id]
        if event.position == chain[-1].position + 1:
            chain.append(event)
    return list(chains.values())


def lock_pending(conn: psycopg.Connection, streams: Collection[str]) -> int:
    """Lock every pending event of ``streams``, waiting for publishers that hold some; returns how many.

    Publishers skip locked events (``pending_events``), so a run's final drain passes by its own
    events while another run's publisher is posting them, and the run's checks then count them
    unpublished (issue 10: with two runs at once, one failed ``every_chunk_has_a_published_stream``
    at 10,000 chunks). Holding them all first (use inside the drain's transaction) waits for that
    publisher and keeps the others off; a later statement of the transaction sees what it
    published. One lock order (by CID) for every caller, so two of them cannot deadlock.
    """
    rows = conn.execute(
        "SELECT e.event_cid FROM ceramic_events e WHERE e.status = 'pending' AND e.stream_id = ANY(%s) "
        "ORDER BY e.event_cid FOR UPDATE OF e",
        (list(streams),),
    ).fetchall()
    return len(rows)


def mark_published(conn: psycopg.Connection, event_cids: Iterable[str]) -> int:
    """Record events as accepted by the node; returns how many changed (already published: 0)."""
    return conn.execute(
        "UPDATE ceramic_events SET status = 'published', published_at = now(), updated_at = now() "
        "WHERE event_cid = ANY(%s) AND status = 'pending'",
        (list(event_cids),),
    ).rowcount


def mark_failed(conn: psycopg.Connection, event_cid: str, error: str) -> int:
    """Record a failed attempt; the event stays pending. Returns the attempt count."""
    return _record_attempt(conn, event_cid, error, "pending")


def mark_rejected(conn: psycopg.Connection, event_cid: str, message: str) -> int:
    """Record that the node refused the event for good. Returns the attempt count."""
    return _record_attempt(conn, event_cid, message, "rejected")


def pending_count(conn: psycopg.Connection) -> int:
    """Events waiting to be posted. Read from the status index's pending entries only:
    ``status_counts`` scans the whole outbox, and the background publisher asks after every
    drain (at 100,000 chunks, 4,000 scans of up to 200,000 rows)."""
    return conn.execute("SELECT count(*) FROM ceramic_events WHERE status = 'pending'").fetchone()[0]


def status_counts(conn: psycopg.Connection) -> dict[str, int]:
    """{status: number of events}, with every status present."""
    counts = dict.fromkeys(EVENT_STATUSES, 0)
    counts.update(conn.execute("SELECT status, count(*) FROM ceramic_events GROUP BY status").fetchall())
    return counts


def event_status(conn: psycopg.Connection, event_cid: str) -> tuple[str, str | None] | None:
    """(status, last error or node message) of one outbox event; None if it is not in the outbox."""
    row = conn.execute("SELECT status, last_error FROM ceramic_events WHERE event_cid = %s", (event_cid,)).fetchone()
    return (row[0], row[1]) if row else None


@dataclass(frozen=True, slots=True)
class EventTimes:
    status: str  # pending | published | rejected
    created_at: datetime  # when it was written to the outbox
    published_at: datetime | None  # when the node accepted it


def event_times(conn: psycopg.Connection, event_cids: Iterable[str]) -> dict[str, EventTimes]:
    """{event CID: its outbox status and times} for the given events that are in the outbox."""
    rows = conn.execute(
        "SELECT event_cid, status, created_at, published_at FROM ceramic_events WHERE event_cid = ANY(%s)",
        (list(event_cids),),
    )
    return {cid: EventTimes(status, created, published) for cid, status, created, published in rows}


def _record_attempt(conn: psycopg.Connection, event_cid: str, error: str, status: str) -> int:
    row = conn.execute(
        "UPDATE ceramic_events SET status = %s, attempts = attempts + 1, last_error = %s, "
        "updated_at = now() WHERE event_cid = %s AND status = 'pending' RETURNING attempts",
        (status, error, event_cid),
    ).fetchone()
    if row is None:
        raise LookupError(f"no pending event {event_cid} in the outbox")
    return row[0]
