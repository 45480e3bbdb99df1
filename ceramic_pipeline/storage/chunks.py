"""The chunks table: one row per Docling chunk, text inline or (when pinned) by CID.

Batches are written as described in storage.batching. Text and headings round-trip exactly,
U+0000 included (storage.exact: the columns show U+FFFD, ``exact_values`` holds the truth).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import json

import psycopg

from ceramic_pipeline.storage import exact
from ceramic_pipeline.storage.batching import column_batches, refuse_duplicates, unnest_placeholders


@dataclass(frozen=True, slots=True)
class ChunkRow:
    document_id: str
    chunk_index: int
    text: str | None
    text_cid: str | None
    text_sha256: str
    text_bytes: int
    headings: list[Any] = field(default_factory=list)
    pages: list[Any] = field(default_factory=list)
    source: str | None = None
    partition_key: str | None = None
    ipfs_pins: list[dict[str, Any]] = field(default_factory=list)  # where a pinned text is held

    def __post_init__(self) -> None:
        if self.text is None and self.text_cid is None:
            raise ValueError(f"chunk {self.document_id}#{self.chunk_index}: needs text or text_cid")


_COLUMNS = (
    "document_id", "chunk_index", "text", "text_cid", "text_sha256", "text_bytes",
    "headings", "pages", "source", "partition_key", "ipfs_pins",
)
_STORED = (*_COLUMNS, "exact_values")
_ARRAY_TYPES = ("text", "int4", "text", "text", "text", "int4", "jsonb", "jsonb", "text", "text", "jsonb", "json")
_CHANGING = _STORED[2:]
_EXACT = ("text", "headings")  # the columns that may carry U+0000


def _compared(table: str, column: str) -> str:
    return f"{table}.{column}::text" if column == "exact_values" else f"{table}.{column}"  # json has no "="


_UPSERT = f"""
INSERT INTO chunks ({", ".join(_STORED)})
SELECT * FROM unnest({unnest_placeholders(_ARRAY_TYPES)})
ON CONFLICT (document_id, chunk_index) DO UPDATE SET
    {", ".join(f"{c} = EXCLUDED.{c}" for c in _CHANGING)},
    updated_at = now()
WHERE ({", ".join(_compared("chunks", c) for c in _CHANGING)})
      IS DISTINCT FROM ({", ".join(_compared("EXCLUDED", c) for c in _CHANGING)})
"""


def upsert_chunks(conn: psycopg.Connection, rows: Iterable[ChunkRow]) -> int:
    """Insert or update chunks; returns how many rows were inserted or changed."""
    values = []
    for r in rows:
        safe, exact_values = exact.split({"text": r.text, "headings": r.headings})
        values.append(
            (r.document_id, r.chunk_index, safe["text"], r.text_cid, r.text_sha256, r.text_bytes,
             json.dumps(safe["headings"]), json.dumps(r.pages), r.source, r.partition_key, json.dumps(r.ipfs_pins),
             exact_values)
        )
    refuse_duplicates((v[:2] for v in values), "chunk (document_id, chunk_index)")
    changed = 0
    with conn.cursor() as cur:
        for columns in column_batches(values):
            cur.execute(_UPSERT, columns)
            changed += cur.rowcount
    return changed


def chunks_for_document(conn: psycopg.Connection, document_id: str, *, min_bytes: int = 0, pinned_only: bool = False) -> list[ChunkRow]:
    """The document's chunks in index order, text and headings exact; only those of ``min_bytes``
    or more text bytes, and only those with a text CID when ``pinned_only``."""
    rows = conn.execute(
        f"SELECT {', '.join(_STORED)} FROM chunks WHERE document_id = %s AND text_bytes >= %s "
        f"AND (NOT %s OR text_cid IS NOT NULL) ORDER BY chunk_index",
        (document_id, min_bytes, pinned_only),
    )
    return [_chunk_row(r) for r in rows]


def chunks_for_documents(conn: psycopg.Connection, document_ids: Sequence[str]) -> dict[str, list[ChunkRow]]:
    """``chunks_for_document`` of many documents in one query: {document_id: its chunks in index
    order} (a document without chunks maps to an empty list)."""
    found: dict[str, list[ChunkRow]] = {d: [] for d in document_ids}
    rows = conn.execute(
        f"SELECT {', '.join(_STORED)} FROM chunks WHERE document_id = ANY(%s) ORDER BY document_id, chunk_index",
        (list(document_ids),),
    )
    for r in rows:
        chunk = _chunk_row(r)
        found[chunk.document_id].append(chunk)
    return found


def _chunk_row(r: Sequence[Any]) -> ChunkRow:
    """A ``_STORED`` row as a ChunkRow, exact values merged back (storage/exact.py)."""
    return ChunkRow(**exact.merge(dict(zip(_COLUMNS, r[:-1])), r[-1]))


def count_chunks(conn: psycopg.Connection, document_id: str) -> int:
    return conn.execute("SELECT count(*) FROM chunks WHERE document_id = %s", (document_id,)).fetchone()[0]


def prune_chunks(conn: psycopg.Connection, document_id: str, chunk_count: int) -> list[int]:
    """Delete a re-chunked document's chunks at index >= chunk_count; returns their indexes."""
    rows = conn.execute(
        "DELETE FROM chunks WHERE document_id = %s AND chunk_index >= %s RETURNING chunk_index",
        (document_id, chunk_count),
    )
    return sorted(i for (i,) in rows)


def set_pins(conn: psycopg.Connection, document_id: str, chunk_index: int, text_cid: str, pins: list[dict[str, Any]]) -> None:
    """Record where a chunk's text is pinned; the chunk row must exist."""
    updated = conn.execute(
        "UPDATE chunks SET text_cid = %s, ipfs_pins = %s::jsonb, updated_at = now() "
        "WHERE document_id = %s AND chunk_index = %s",
        (text_cid, json.dumps(pins), document_id, chunk_index),
    ).rowcount
    if updated != 1:
        raise LookupError(f"no chunk {document_id}#{chunk_index} to record pins for")


def chunk_pins(conn: psycopg.Connection, document_id: str, chunk_index: int) -> tuple[str, list[dict[str, Any]]] | None:
    """(text_sha256, ipfs_pins) of one chunk, or None when it is not stored."""
    row = conn.execute(
        "SELECT text_sha256, ipfs_pins FROM chunks WHERE document_id = %s AND chunk_index = %s", (document_id, chunk_index)
    ).fetchone()
    return (row[0], row[1]) if row else None
