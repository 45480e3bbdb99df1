"""Queries behind the pipeline's asset checks."""

from __future__ import annotations

import psycopg


def chunks_without_published_stream(conn: psycopg.Connection, document_id: str, signer_did: str) -> list[int]:
    """Chunk indexes whose stream is missing or whose tip event is not yet accepted by the node."""
    rows = conn.execute(
        """
        SELECT c.chunk_index FROM chunks c
        LEFT JOIN ceramic_streams s
               ON s.document_id = c.document_id AND s.chunk_index = c.chunk_index AND s.signer_did = %s
        LEFT JOIN ceramic_events e ON e.event_cid = s.latest_cid AND e.status = 'published'
        WHERE c.document_id = %s AND e.event_cid IS NULL
        ORDER BY c.chunk_index
        """,
        (signer_did, document_id),
    )
    return [i for (i,) in rows]


def active_stream_count(conn: psycopg.Connection, document_id: str, signer_did: str) -> int:
    return conn.execute(
        "SELECT count(*) FROM ceramic_streams WHERE document_id = %s AND signer_did = %s AND status = 'active'",
        (document_id, signer_did),
    ).fetchone()[0]


def chunk_count(conn: psycopg.Connection, document_id: str) -> int:
    return conn.execute("SELECT count(*) FROM chunks WHERE document_id = %s", (document_id,)).fetchone()[0]


def rejected_events(conn: psycopg.Connection, limit: int = 50) -> list[tuple[str, str, int, str]]:
    """(event_cid, stream_id, position, node message) of events the node refused."""
    return conn.execute(
        "SELECT event_cid, stream_id, position, coalesce(last_error, '') FROM ceramic_events "
        "WHERE status = 'rejected' ORDER BY updated_at DESC LIMIT %s",
        (limit,),
    ).fetchall()


def confirm_streams(conn: psycopg.Connection, confirmed: dict[str, str]) -> int:
    """Record the tip the node reported for each stream (after read-back verification)."""
    if not confirmed:
        return 0
    return conn.execute(
        """
        UPDATE ceramic_streams s
        SET stream_metadata = s.stream_metadata || jsonb_build_object('node_tip', u.tip, 'verified_at', now()),
            last_updated = now()
        FROM unnest(%s::text[], %s::text[]) AS u(stream_id, tip)
        WHERE s.stream_id = u.stream_id
        """,
        (list(confirmed), list(confirmed.values())),
    ).rowcount


def run_stream_counts(conn: psycopg.Connection, document_ids: list[str], since) -> dict[str, int]:
    """What happened to these documents' streams since ``since`` (a run's start), read from the tables.

    Counting from the outbox rather than in memory keeps the figures true when a step is
    retried or a run resumes: an attempt that finds its work already done still reports it.
    Keys: events (written), created (init events), updated / removed (streams given data
    events beyond their first content), published (events of these streams posted since),
    unchanged (the documents' other active streams).
    """
    row = conn.execute(
        """
        SELECT count(*) FILTER (WHERE e.created_at >= %(since)s),
               count(*) FILTER (WHERE e.created_at >= %(since)s AND e.position = 0),
               count(DISTINCT e.stream_id) FILTER (WHERE e.created_at >= %(since)s AND e.position >= 2 AND s.status <> 'removed'),
               count(DISTINCT e.stream_id) FILTER (WHERE e.created_at >= %(since)s AND e.position >= 2 AND s.status = 'removed'),
               count(*) FILTER (WHERE e.published_at >= %(since)s)
        FROM ceramic_events e JOIN ceramic_streams s ON s.stream_id = e.stream_id
        WHERE s.document_id = ANY(%(docs)s) AND (e.created_at >= %(since)s OR e.published_at >= %(since)s)
        """,
        {"docs": document_ids, "since": since},
    ).fetchone()
    counts = dict(zip(("events", "created", "updated", "removed", "published"), row))
    active = conn.execute(
        "SELECT count(*) FROM ceramic_streams WHERE document_id = ANY(%s) AND status = 'active'", (document_ids,)
    ).fetchone()[0]
    counts["unchanged"] = max(0, active - counts["created"] - counts["updated"])
    return counts


def published_since(conn: psycopg.Connection, since) -> int:
    """Events the node accepted since ``since`` (a run's start), whoever posted them."""
    return conn.execute("SELECT count(*) FROM ceramic_events WHERE published_at >= %s", (since,)).fetchone()[0]
