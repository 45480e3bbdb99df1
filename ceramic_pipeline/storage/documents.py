"""The documents table: one row per ingested source document (one Dagster partition)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg


@dataclass(frozen=True, slots=True)
class DocumentRow:
    document_id: str  # documents.identity: valid UTF-8, odd bytes escaped
    partition_key: str
    source_path: str  # documents.identity.path_text of the real path (text_path reverses it)
    content_sha256: str


def upsert_document(conn: psycopg.Connection, doc: DocumentRow) -> bool:
    """Insert or update a document; ``ingested_at`` moves only when its content changed.

    Returns True when the row was inserted or changed.
    """
    return conn.execute(
        """
        INSERT INTO documents (document_id, partition_key, source_path, content_sha256)
        VALUES (%s, %s, %s, %s)
        ON CONFLICT (document_id) DO UPDATE SET
            partition_key = EXCLUDED.partition_key,
            source_path = EXCLUDED.source_path,
            content_sha256 = EXCLUDED.content_sha256,
            ingested_at = CASE WHEN documents.content_sha256 = EXCLUDED.content_sha256
                               THEN documents.ingested_at ELSE now() END
        WHERE (documents.partition_key, documents.source_path, documents.content_sha256)
              IS DISTINCT FROM (EXCLUDED.partition_key, EXCLUDED.source_path, EXCLUDED.content_sha256)
        """,
        (doc.document_id, doc.partition_key, doc.source_path, doc.content_sha256),
    ).rowcount == 1


def get_document(conn: psycopg.Connection, document_id: str) -> tuple[DocumentRow, datetime] | None:
    """The document and its ``ingested_at``, or None."""
    row = conn.execute(
        "SELECT document_id, partition_key, source_path, content_sha256, ingested_at "
        "FROM documents WHERE document_id = %s",
        (document_id,),
    ).fetchone()
    return (DocumentRow(*row[:4]), row[4]) if row else None


def content_hashes(conn: psycopg.Connection) -> dict[str, str]:
    """{document_id: content hash} of every fully ingested document (what the inbox sensor skips)."""
    return dict(conn.execute("SELECT document_id, ingested_sha256 FROM documents WHERE ingested_sha256 IS NOT NULL").fetchall())


def mark_ingested(conn: psycopg.Connection, document_ids: list[str]) -> int:
    """Record that the registered content of these documents went through the whole pipeline."""
    return conn.execute(
        "UPDATE documents SET ingested_sha256 = content_sha256 WHERE document_id = ANY(%s)", (document_ids,)
    ).rowcount


def registered_for_keys(conn: psycopg.Connection, partition_keys: list[str]) -> dict[str, DocumentRow]:
    """{partition_key: row} for the keys that are registered (others are simply absent)."""
    rows = conn.execute(
        "SELECT document_id, partition_key, source_path, content_sha256 FROM documents WHERE partition_key = ANY(%s)",
        (partition_keys,),
    ).fetchall()
    return {r[1]: DocumentRow(*r) for r in rows}


def documents_for_keys(conn: psycopg.Connection, partition_keys: list[str]) -> list[DocumentRow]:
    """The registered documents of these partitions, in the order given; a missing key is an error."""
    found = registered_for_keys(conn, partition_keys)
    missing = [k for k in partition_keys if k not in found]
    if missing:
        raise LookupError(f"partitions not registered by docling_documents yet: {', '.join(missing[:10])}")
    return [found[k] for k in partition_keys]
