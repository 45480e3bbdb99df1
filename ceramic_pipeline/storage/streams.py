"""The ceramic_streams table: one row per (chunk, signer) stream and its current tip.

Batches are written as described in storage.batching. Upserts only touch a row when something
changed, so ``last_updated`` means "last real change" and archival can rely on it.
``stream_metadata`` (which holds the chunk content) round-trips exactly, U+0000 included
(storage.exact).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import psycopg
from psycopg.types.json import Jsonb

from ceramic_pipeline.storage import exact
from ceramic_pipeline.storage.batching import column_batches, refuse_duplicates, unnest_placeholders

STREAM_STATUSES = ("active", "removed", "archived")
_PIN_REQUIRED_KEYS = ("cid", "service")


@dataclass(frozen=True, slots=True)
class StreamRow:
    stream_id: str
    latest_cid: str
    version: int
    signer_did: str
    model_id: str
    document_id: str
    chunk_index: int
    content_sha256: str
    # Each pin: {"cid", "service", "pinned_at", "status", "size"}.
    ipfs_pins: list[dict[str, Any]] = field(default_factory=list)
    stream_metadata: dict[str, Any] = field(default_factory=dict)
    status: str = "active"

    def __post_init__(self) -> None:
        if self.status not in STREAM_STATUSES:
            raise ValueError(f"stream {self.stream_id}: status {self.status!r} not in {STREAM_STATUSES}")
        if self.version < 1:
            raise ValueError(f"stream {self.stream_id}: version must be >= 1, got {self.version}")
        _check_pins(self.stream_id, self.ipfs_pins)


class StreamTip(NamedTuple):
    latest_cid: str
    version: int
    content_sha256: str


COLUMNS = (
    "stream_id", "latest_cid", "version", "signer_did", "model_id", "document_id",
    "chunk_index", "content_sha256", "ipfs_pins", "stream_metadata", "status",
)
STORED_COLUMNS = (*COLUMNS, "exact_values")
_ARRAY_TYPES = ("text", "text", "int4", "text", "text", "text", "int4", "text", "jsonb", "jsonb", "text", "json")
_CHANGING = ("latest_cid", "version", "content_sha256", "ipfs_pins", "stream_metadata", "status", "exact_values")


def _compared(table: str, column: str) -> str:
    return f"{table}.{column}::text" if column == "exact_values" else f"{table}.{column}"  # json has no "="


# Shared by the unnest statement and the benchmark's executemany baseline.
ON_CONFLICT = f"""
ON CONFLICT (stream_id) DO UPDATE SET
    {", ".join(f"{c} = EXCLUDED.{c}" for c in _CHANGING)},
    last_updated = now(),
    archived_at = CASE WHEN EXCLUDED.status = 'archived'
                       THEN coalesce(ceramic_streams.archived_at, now()) END
WHERE ceramic_streams.version <= EXCLUDED.version   -- never move a tip backwards
  AND ({", ".join(_compared("ceramic_streams", c) for c in _CHANGING)})
      IS DISTINCT FROM ({", ".join(_compared("EXCLUDED", c) for c in _CHANGING)})
"""

_UPSERT_UNNEST = f"""
INSERT INTO ceramic_streams ({", ".join(STORED_COLUMNS)}, archived_at)
SELECT u.*, CASE WHEN u.status = 'archived' THEN now() END
FROM unnest({unnest_placeholders(_ARRAY_TYPES)}) AS u({", ".join(STORED_COLUMNS)})
{ON_CONFLICT}
"""
_SELECT = f"SELECT {', '.join(STORED_COLUMNS)} FROM ceramic_streams"


def upsert_streams(conn: psycopg.Connection, rows: Iterable[StreamRow]) -> int:
    """Insert or update stream rows; returns how many rows were inserted or changed.

    A row whose version is lower than the stored one is ignored (stale writer). A batch that
    names the same stream twice is refused, since the outcome would depend on order.
    """
    values = []
    for r in rows:
        safe, exact_values = exact.split({"stream_metadata": r.stream_metadata})
        values.append(
            (r.stream_id, r.latest_cid, r.version, r.signer_did, r.model_id, r.document_id, r.chunk_index,
             r.content_sha256, json.dumps(r.ipfs_pins), json.dumps(safe["stream_metadata"]), r.status, exact_values)
        )
    refuse_duplicates((v[0] for v in values), "stream")
    changed = 0
    with conn.cursor() as cur:
        for columns in column_batches(values):
            cur.execute(_UPSERT_UNNEST, columns)
            changed += cur.rowcount
    return changed


def get_stream(conn: psycopg.Connection, stream_id: str) -> StreamRow | None:
    row = conn.execute(f"{_SELECT} WHERE stream_id = %s", (stream_id,)).fetchone()
    return stream_row(row) if row else None


def streams_for_document(conn: psycopg.Connection, document_id: str) -> list[StreamRow]:
    rows = conn.execute(f"{_SELECT} WHERE document_id = %s ORDER BY chunk_index, signer_did", (document_id,))
    return [stream_row(r) for r in rows]


def streams_for_documents(conn: psycopg.Connection, document_ids: Sequence[str]) -> dict[str, list[StreamRow]]:
    """``streams_for_document`` of many documents in one query: {document_id: its rows}."""
    found: dict[str, list[StreamRow]] = {d: [] for d in document_ids}
    for r in conn.execute(f"{_SELECT} WHERE document_id = ANY(%s) ORDER BY document_id, chunk_index, signer_did", (list(document_ids),)):
        row = stream_row(r)
        found[row.document_id].append(row)
    return found


def documents_needing_restore_or_supersede(conn: psycopg.Connection, document_ids: Sequence[str], signer_did: str) -> set[str]:
    """Those of ``document_ids`` for which ``restore_archived`` or ``mark_superseded`` may change
    anything: they have archived rows, rows of another signer, or superseded rows of
    ``signer_did``. For all others both are no-ops, so the writer skips them (two statements per
    document of a fresh ingest; issue 10)."""
    rows = conn.execute(
        """
        SELECT document_id FROM ceramic_streams_archive WHERE document_id = ANY(%(ids)s)
        UNION
        SELECT document_id FROM ceramic_streams WHERE document_id = ANY(%(ids)s)
          AND (signer_did <> %(did)s OR superseded_by IS NOT NULL)
        """,
        {"ids": list(document_ids), "did": signer_did},
    )
    return {d for (d,) in rows}


def chunks_without_stream(conn: psycopg.Connection, document_ids: Sequence[str], signer_did: str) -> dict[str, list[int]]:
    """{document: chunk indexes} of the documents' chunks that have no stream row of ``signer_did``."""
    rows = conn.execute(
        "SELECT c.document_id, c.chunk_index FROM chunks c WHERE c.document_id = ANY(%s) AND NOT EXISTS "
        "(SELECT 1 FROM ceramic_streams s WHERE s.document_id = c.document_id AND s.chunk_index = c.chunk_index "
        "AND s.signer_did = %s) ORDER BY c.document_id, c.chunk_index",
        (list(document_ids), signer_did),
    )
    found: dict[str, list[int]] = {}
    for document_id, index in rows:
        found.setdefault(document_id, []).append(index)
    return found


def stream_row(stored: tuple) -> StreamRow:
    """A stored row with its exact values merged back (storage.exact)."""
    return StreamRow(**exact.merge(dict(zip(COLUMNS, stored[:-1])), stored[-1]))


def stream_tips(conn: psycopg.Connection, stream_ids: Iterable[str]) -> dict[str, StreamTip]:
    """{stream_id: (latest_cid, version, content_sha256)} for the streams that exist."""
    rows = conn.execute(
        "SELECT stream_id, latest_cid, version, content_sha256 FROM ceramic_streams "
        "WHERE stream_id = ANY(%s)",
        (list(stream_ids),),
    )
    return {sid: StreamTip(cid, version, sha) for sid, cid, version, sha in rows}


def streams_pinning(conn: psycopg.Connection, cid: str) -> list[str]:
    """Stream ids whose ipfs_pins list a pin of ``cid`` (served by the GIN index)."""
    rows = conn.execute(
        "SELECT stream_id FROM ceramic_streams WHERE ipfs_pins @> %s ORDER BY stream_id",
        (Jsonb([{"cid": cid}]),),
    )
    return [sid for (sid,) in rows]


def mark_superseded(conn: psycopg.Connection, document_id: str, signer_did: str) -> int:
    """Key rotation: make ``signer_did``'s streams the document's current ones; returns the rows superseded.

    Every row of another signer for a chunk that ``signer_did`` has a stream for, and that is
    not superseded yet, gets ``superseded_by`` = that stream's StreamID; ``signer_did``'s own
    rows become current again (``superseded_by`` NULL: a rotation back to an earlier seed).
    Nothing else in the rows changes (not even ``last_updated``: it means the last change of the
    stream itself), so an old stream still verifies as written. Call it in the transaction that
    writes the signer's rows (steps.streams.record_document_streams).
    """
    # One statement (a data-modifying CTE; the two touch different signers' rows): it runs for
    # every document written, and was two round trips of the per-document path.
    return conn.execute(
        """
        WITH current AS (
            UPDATE ceramic_streams SET superseded_by = NULL
            WHERE document_id = %(doc)s AND signer_did = %(did)s AND superseded_by IS NOT NULL
        )
        UPDATE ceramic_streams old SET superseded_by = new.stream_id
        FROM ceramic_streams new
        WHERE new.document_id = %(doc)s AND new.signer_did = %(did)s
          AND old.document_id = %(doc)s AND old.chunk_index = new.chunk_index
          AND old.signer_did <> %(did)s AND old.superseded_by IS NULL
        """,
        {"doc": document_id, "did": signer_did},
    ).rowcount


def superseded_by(conn: psycopg.Connection, stream_id: str) -> str | None:
    """The StreamID that replaced ``stream_id`` after a key rotation (hot or archived row), or None."""
    row = conn.execute("SELECT superseded_by FROM ceramic_streams_all WHERE stream_id = %s", (stream_id,)).fetchone()
    return row[0] if row else None


def mark_removed(conn: psycopg.Connection, stream_ids: Iterable[str]) -> int:
    """Flag streams whose chunk disappeared; returns how many changed."""
    cur = conn.execute(
        "UPDATE ceramic_streams SET status = 'removed', last_updated = now() "
        "WHERE stream_id = ANY(%s) AND status = 'active'",
        (list(stream_ids),),
    )
    return cur.rowcount


@dataclass(frozen=True, slots=True)
class ArchiveResult:
    """What one archival pass moved, with the row counts around it (hot, archive)."""

    stream_ids: list[str]  # sorted
    before: tuple[int, int]
    after: tuple[int, int]


class ArchiveCountError(RuntimeError):
    """Rows were lost or duplicated by a move; the transaction is rolled back."""


_ROW_COLUMNS = ", ".join(STORED_COLUMNS) + ", created_at, last_updated, superseded_by"
# A datum copied as-is keeps the hot table's compression (pglz); concatenating builds a new
# value, which the archive then compresses with its own column method (lz4 where available).
_RECOMPRESSED = _ROW_COLUMNS.replace("ipfs_pins", "ipfs_pins || '[]'::jsonb").replace(
    "stream_metadata", "stream_metadata || '{}'::jsonb"
)
# Writers of ceramic_streams wait (readers do not), so the counts below are exact. The archive
# is not locked: its only other writer, restore_archived, also inserts into ceramic_streams, so
# it waits here too, and locking one table only cannot deadlock with a writer holding the other.
_LOCK_HOT = "LOCK TABLE ceramic_streams IN SHARE ROW EXCLUSIVE MODE"


def _counts(conn: psycopg.Connection) -> tuple[int, int]:
    return conn.execute(
        "SELECT (SELECT count(*) FROM ceramic_streams), (SELECT count(*) FROM ceramic_streams_archive)"
    ).fetchone()


def archive_older_than(
    conn: psycopg.Connection,
    days: float,
    statuses: Sequence[str] = ("active", "removed"),
    *,
    now: datetime | None = None,
) -> ArchiveResult:
    """Move streams in ``statuses`` whose ``last_updated`` (last real change) is more than
    ``days`` days before ``now`` (default: the server's now()) to ``ceramic_streams_archive``.

    One transaction (a savepoint when the caller has one open): writers of ceramic_streams wait
    (readers go on), the rows are deleted and inserted in one statement, and the counts must
    satisfy hot + archive before == hot + archive after with exactly the moved rows gone from
    the hot table, else :class:`ArchiveCountError` rolls it back. Raises ValueError for a
    negative ``days`` or a status other than active/removed.
    """
    if days < 0:
        raise ValueError(f"days must be >= 0, got {days}")
    unknown = set(statuses) - {"active", "removed"}
    if unknown:
        raise ValueError(f"only active or removed streams can be archived, got {sorted(unknown)}")
    with conn.transaction():
        conn.execute(_LOCK_HOT)
        before = _counts(conn)
        rows = conn.execute(
            f"""
            WITH moved AS (
                DELETE FROM ceramic_streams
                WHERE status = ANY(%(statuses)s)
                  AND last_updated < coalesce(%(now)s::timestamptz, now()) - make_interval(secs => %(secs)s)
                RETURNING {_ROW_COLUMNS}
            )
            INSERT INTO ceramic_streams_archive ({_ROW_COLUMNS}, archived_at)
            SELECT {_RECOMPRESSED}, coalesce(%(now)s::timestamptz, now()) FROM moved
            RETURNING stream_id
            """,
            {"statuses": list(statuses), "now": now, "secs": days * 86_400},
        ).fetchall()
        after = _counts(conn)
        moved = len(rows)
        if sum(before) != sum(after) or before[0] - moved != after[0] or before[1] + moved != after[1]:
            raise ArchiveCountError(
                f"archival would change row counts: hot+archive {before} before, {after} after, {moved} moved"
            )
    return ArchiveResult(sorted(sid for (sid,) in rows), before, after)


def restore_archived(
    conn: psycopg.Connection, *, document_id: str | None = None, stream_ids: Iterable[str] | None = None
) -> list[str]:
    """Move a document's (or the given streams') archived rows back into ``ceramic_streams``.

    Called before the writer plans a document, so an archived stream continues its chain (its
    tip and version come back) instead of forking a second stream. The row is as it was, except
    ``last_updated = now()``: the document is being worked on again, so the archival clock
    restarts for all its streams together. A hot row already holding the stream (e.g. written
    by a re-sync) wins unless the archived one has the higher version. Returns the restored
    stream ids, sorted. Raises ValueError unless exactly one selector is given.
    """
    if (document_id is None) == (stream_ids is None):
        raise ValueError("give exactly one of document_id or stream_ids")
    if document_id is not None:
        where, param = "document_id = %s", document_id
    else:
        where, param = "stream_id = ANY(%s)", list(stream_ids)
    columns = ", ".join(STORED_COLUMNS) + ", created_at, superseded_by"
    # One statement, so atomic without a savepoint of its own (it runs for every document the
    # writer plans; the savepoint was two more round trips each). Callers hold a transaction.
    rows = conn.execute(
        f"""
        WITH back AS (DELETE FROM ceramic_streams_archive WHERE {where} RETURNING *)
        INSERT INTO ceramic_streams ({columns}, last_updated, archived_at)
        SELECT {columns}, now(), CASE WHEN status = 'archived' THEN archived_at END FROM back
        ON CONFLICT (stream_id) DO UPDATE SET
            {", ".join(f"{c} = EXCLUDED.{c}" for c in _CHANGING)}, last_updated = now(),
            archived_at = EXCLUDED.archived_at
        WHERE ceramic_streams.version < EXCLUDED.version
        RETURNING stream_id
        """,
        (param,),
    ).fetchall()
    return sorted(sid for (sid,) in rows)


def archived_stream(conn: psycopg.Connection, stream_id: str) -> StreamRow | None:
    row = conn.execute(
        f"SELECT {', '.join(STORED_COLUMNS)} FROM ceramic_streams_archive WHERE stream_id = %s", (stream_id,)
    ).fetchone()
    return stream_row(row) if row else None


def _check_pins(stream_id: str, pins: Any) -> None:
    if not isinstance(pins, list):
        raise ValueError(f"stream {stream_id}: ipfs_pins must be a list, got {type(pins).__name__}")
    for pin in pins:
        if not isinstance(pin, dict) or any(k not in pin for k in _PIN_REQUIRED_KEYS):
            raise ValueError(f"stream {stream_id}: each pin needs keys {_PIN_REQUIRED_KEYS}, got {pin!r}")



def streams_preview(conn: psycopg.Connection, document_ids: list[str], limit: int = 20) -> list[tuple]:
    """(document_id, chunk_index, stream_id, version, latest_cid, status) of the documents' current
    streams, in document and chunk order, at most ``limit`` rows (for a person's preview in the UI)."""
    return conn.execute(
        "SELECT document_id, chunk_index, stream_id, version, latest_cid, status FROM ceramic_streams "
        "WHERE document_id = ANY(%s) AND superseded_by IS NULL ORDER BY document_id, chunk_index LIMIT %s",
        (document_ids, limit),
    ).fetchall()
