"""Queries behind the pipeline's asset checks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

import psycopg

from ceramic_pipeline.storage.streams import STORED_COLUMNS, StreamRow, stream_row


def unpublished_chunks(conn: psycopg.Connection, document_ids: Sequence[str], signer_did: str) -> dict[str, list[int]]:
    """{document: chunk indexes} of the chunks whose stream is missing or whose tip event the node
    has not accepted yet; documents with none are left out. One query for all the documents: per
    document, the planner hashed the whole outbox each time (4.3 s of a 10,000-chunk ingest)."""
    rows = conn.execute(
        """
        SELECT c.document_id, c.chunk_index FROM chunks c
        LEFT JOIN ceramic_streams s
               ON s.document_id = c.document_id AND s.chunk_index = c.chunk_index AND s.signer_did = %s
        WHERE c.document_id = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM ceramic_events e WHERE e.event_cid = s.latest_cid AND e.status = 'published')
        ORDER BY c.document_id, c.chunk_index
        """,
        (signer_did, list(document_ids)),
    )
    missing: dict[str, list[int]] = {}
    for document_id, index in rows:
        missing.setdefault(document_id, []).append(index)
    return missing


def stream_and_chunk_counts(conn: psycopg.Connection, document_ids: Sequence[str], signer_did: str) -> dict[str, tuple[int, int]]:
    """{document: (active stream rows of ``signer_did``, chunks)} for each of ``document_ids``.

    Counted per table in one grouped pass each: correlated per-document subqueries made the
    planner scan every stream of the signer once per document (30 s for 1,200 documents).
    """
    ids = list(document_ids)
    streams = dict(conn.execute(
        "SELECT document_id, count(*) FROM ceramic_streams WHERE document_id = ANY(%s) AND signer_did = %s "
        "AND status = 'active' GROUP BY document_id",
        (ids, signer_did),
    ).fetchall())
    chunks = dict(conn.execute(
        "SELECT document_id, count(*) FROM chunks WHERE document_id = ANY(%s) GROUP BY document_id", (ids,)
    ).fetchall())
    return {document_id: (streams.get(document_id, 0), chunks.get(document_id, 0)) for document_id in ids}


def rejected_events(conn: psycopg.Connection, limit: int = 50) -> list[tuple[str, str, int, str]]:
    """(event_cid, stream_id, position, node message) of events the node refused."""
    return conn.execute(
        "SELECT event_cid, stream_id, position, coalesce(last_error, '') FROM ceramic_events "
        "WHERE status = 'rejected' ORDER BY updated_at DESC LIMIT %s",
        (limit,),
    ).fetchall()


def confirm_streams(conn: psycopg.Connection, confirmed: dict[str, str]) -> int:
    """Record ``{stream_id: tip}`` as read back and verified now; returns the rows changed.

    Only ``verified_cid``/``verified_at`` change, and only while the row's tip is still that
    tip: ``last_updated`` keeps meaning the last real change (archival relies on it).
    """
    if not confirmed:
        return 0
    return conn.execute(
        """
        UPDATE ceramic_streams s SET verified_cid = u.tip, verified_at = now()
        FROM unnest(%s::text[], %s::text[]) AS u(stream_id, tip)
        WHERE s.stream_id = u.stream_id AND s.latest_cid = u.tip
        """,
        (list(confirmed), list(confirmed.values())),
    ).rowcount


def unconfirm_streams(conn: psycopg.Connection, stream_ids: Sequence[str]) -> int:
    """Forget that these streams' tips were verified (they failed a read-back): the next one reads them again."""
    if not stream_ids:
        return 0
    return conn.execute(
        "UPDATE ceramic_streams SET verified_cid = NULL, verified_at = NULL WHERE stream_id = ANY(%s)", (list(stream_ids),)
    ).rowcount


class StreamToVerify(NamedTuple):
    row: StreamRow
    published: bool  # the tip event was accepted by the node (a pending or rejected tip cannot be read back)
    published_at: datetime | None  # when; None when not published or not in the outbox


def streams_to_verify(
    conn: psycopg.Connection, document_ids: Sequence[str], signer_did: str, *, full: bool = False
) -> list[StreamToVerify]:
    """The documents' live streams whose tip is not yet verified, by document and chunk.

    ``full=True`` returns every live stream, verified before or not (a full re-verification).
    A tip that is not published (still pending, or rejected) cannot be read back yet.
    """
    rows = conn.execute(
        f"""
        SELECT {", ".join(f"s.{c}" for c in STORED_COLUMNS)}, coalesce(e.status = 'published', false), e.published_at
        FROM ceramic_streams s LEFT JOIN ceramic_events e ON e.event_cid = s.latest_cid
        WHERE s.document_id = ANY(%s) AND s.signer_did = %s AND s.status <> 'archived'
          AND (%s OR s.verified_cid IS DISTINCT FROM s.latest_cid)
        ORDER BY s.document_id, s.chunk_index
        """,
        (list(document_ids), signer_did, full),
    )
    return [StreamToVerify(stream_row(r[:-2]), r[-2], r[-1]) for r in rows]  # exact values merged back (storage/exact.py)


def documents_with_live_streams(conn: psycopg.Connection, signer_did: str) -> list[str]:
    """Ids of the documents that have streams of ``signer_did`` not archived, in id order."""
    return [d for (d,) in conn.execute(
        "SELECT DISTINCT document_id FROM ceramic_streams WHERE signer_did = %s AND status <> 'archived' ORDER BY document_id",
        (signer_did,),
    )]


def run_stream_counts(conn: psycopg.Connection, document_ids: list[str], since) -> dict[str, int]:
    """What happened to these documents' streams since ``since`` (a run's start), read from the tables.

    Counting from the outbox rather than in memory keeps the figures true when a step is
    retried or a run resumes: an attempt that finds its work already done still reports it.
    Keys: events (written), created (init events), updated / removed (streams given data
    events beyond their first content), published (events of these streams posted since),
    unchanged (the documents' other active, current streams: not superseded by a key rotation).
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
          AND NOT e.adopted  -- found on the node (writer.adopt), not written by this run
        """,
        {"docs": document_ids, "since": since},
    ).fetchone()
    counts = dict(zip(("events", "created", "updated", "removed", "published"), row))
    active = conn.execute(
        "SELECT count(*) FROM ceramic_streams WHERE document_id = ANY(%s) AND status = 'active' AND superseded_by IS NULL",
        (document_ids,),
    ).fetchone()[0]
    counts["unchanged"] = max(0, active - counts["created"] - counts["updated"])
    return counts


def published_since(conn: psycopg.Connection, since) -> int:
    """Events the node accepted since ``since`` (a run's start), whoever posted them."""
    return conn.execute("SELECT count(*) FROM ceramic_events WHERE published_at >= %s AND NOT adopted", (since,)).fetchone()[0]
