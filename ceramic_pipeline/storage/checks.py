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
