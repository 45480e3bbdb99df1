"""The documents table: one row per ingested source document (one Dagster partition)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg


@dataclass(frozen=True, slots=True)
class DocumentRow:
    document_id: str
    partition_key: str
    source_path: str
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
    """{document_id: content_sha256} of every ingested document (what the inbox sensor skips)."""
    return dict(conn.execute("SELECT document_id, content_sha256 FROM documents").fetchall())
