"""The documents table: one row per ingested source document (one Dagster partition)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg

from ceramic_pipeline.storage.batching import column_batches, refuse_duplicates, unnest_placeholders


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
    return upsert_documents(conn, [doc]) == 1


def upsert_documents(conn: psycopg.Connection, docs: Sequence[DocumentRow]) -> int:
    """``upsert_document`` for many documents in one statement; returns how many rows were
    inserted or changed. A batch naming a document twice is refused (ValueError)."""
    refuse_duplicates((d.document_id for d in docs), "document")
    changed = 0
    with conn.cursor() as cur:
        for columns in column_batches([(d.document_id, d.partition_key, d.source_path, d.content_sha256) for d in docs]):
            cur.execute(_UPSERT, columns)
            changed += cur.rowcount
    return changed


_UPSERT = f"""
INSERT INTO documents (document_id, partition_key, source_path, content_sha256)
SELECT * FROM unnest({unnest_placeholders(("text", "text", "text", "text"))})
ON CONFLICT (document_id) DO UPDATE SET
    partition_key = EXCLUDED.partition_key,
    source_path = EXCLUDED.source_path,
    content_sha256 = EXCLUDED.content_sha256,
    ingested_at = CASE WHEN documents.content_sha256 = EXCLUDED.content_sha256
                       THEN documents.ingested_at ELSE now() END
WHERE (documents.partition_key, documents.source_path, documents.content_sha256)
      IS DISTINCT FROM (EXCLUDED.partition_key, EXCLUDED.source_path, EXCLUDED.content_sha256)
"""


def get_document(conn: psycopg.Connection, document_id: str) -> tuple[DocumentRow, datetime] | None:
    """The document and its ``ingested_at``, or None."""
    row = conn.execute(
        "SELECT document_id, partition_key, source_path, content_sha256, ingested_at "
        "FROM documents WHERE document_id = %s",
        (document_id,),
    ).fetchone()
    return (DocumentRow(*row[:4]), row[4]) if row else None


# A chunk still without a current stream of the active signer: after a key rotation
# (deploy/ROTATION.md) an unchanged document is written again, under the new DID.
_NOT_UNDER_SIGNER = """
EXISTS (SELECT 1 FROM chunks c WHERE c.document_id = d.document_id AND NOT EXISTS (
    SELECT 1 FROM ceramic_streams_all s
    WHERE s.document_id = c.document_id AND s.chunk_index = c.chunk_index
      AND s.signer_did = %s AND s.superseded_by IS NULL))
"""


def register_documents(conn: psycopg.Connection, docs: Sequence[DocumentRow], signer_did: str) -> set[str]:
    """Record ``docs`` for this run; returns the ids that have work to do (the others' content is
    already ingested).

    A document whose content hash equals the one last ingested, and each of whose chunks has
    a current stream of ``signer_did`` (the active DID), keeps its state ``ingested`` (only its
    path and key are refreshed), so unchanged work costs a hash comparison and one query. Any
    other document (new, changed, failed before, or written under an earlier DID before a key
    rotation) becomes ``registered`` with no error. Three statements, whatever the number of
    documents (it was three per document, each in its own transaction).
    """
    unchanged = unchanged_documents(conn, docs, signer_did)
    upsert_documents(conn, docs)
    changed = [d.document_id for d in docs if d.document_id not in unchanged]
    if changed:
        conn.execute(
            "UPDATE documents SET state = 'registered', error = NULL, failed_sha256 = NULL, updated_at = now() "
            "WHERE document_id = ANY(%s)",
            (changed,),
        )
    return set(changed)


def unchanged_documents(conn: psycopg.Connection, docs: Sequence[DocumentRow], signer_did: str) -> set[str]:
    """Ids of ``docs`` whose content is already ingested under ``signer_did``: state ``ingested``,
    the same content hash, and every chunk has a current stream of the DID (see ``register_documents``)."""
    if not docs:
        return set()
    rows = conn.execute(
        f"""
        SELECT d.document_id FROM documents d JOIN unnest(%s::text[], %s::text[]) AS u(document_id, sha256)
          ON u.document_id = d.document_id
        WHERE d.state = 'ingested' AND d.ingested_sha256 = u.sha256 AND NOT {_NOT_UNDER_SIGNER}
        """,
        ([d.document_id for d in docs], [d.content_sha256 for d in docs], signer_did),
    )
    return {document_id for (document_id,) in rows}


def mark_failed(conn: psycopg.Connection, document_id: str, reason: str) -> None:
    """Record that the document's current content failed, with a one-line ``reason``.

    The reason must name the cause, never the document's content (it is shown in the UI and logs).
    """
    conn.execute(
        "UPDATE documents SET state = 'failed', error = %s, failed_sha256 = content_sha256, updated_at = now() "
        "WHERE document_id = %s",
        (reason, document_id),
    )


def content_hashes(conn: psycopg.Connection) -> dict[str, str]:
    """{document_id: content hash} the inbox sensor treats as done: ingested, or failed with that content.

    A failed document is retried only when its file changes (a new hash).
    """
    return dict(
        conn.execute(
            "SELECT document_id, CASE WHEN state = 'failed' THEN failed_sha256 ELSE ingested_sha256 END "
            "FROM documents WHERE state = 'failed' OR ingested_sha256 IS NOT NULL"
        ).fetchall()
    )


def mark_ingested(conn: psycopg.Connection, document_ids: list[str]) -> int:
    """Record that the registered content of these documents went through the whole pipeline."""
    return conn.execute(
        "UPDATE documents SET ingested_sha256 = content_sha256, state = 'ingested', error = NULL, "
        "failed_sha256 = NULL, updated_at = now() WHERE document_id = ANY(%s) AND state = 'registered'",
        (document_ids,),
    ).rowcount


@dataclass(frozen=True, slots=True)
class DocumentOutcome:
    document_id: str
    partition_key: str
    state: str  # registered | ingested | failed
    error: str | None


def outcomes_for_keys(conn: psycopg.Connection, partition_keys: list[str]) -> list[DocumentOutcome]:
    """Each known partition's document state, in the order given; unknown keys are left out."""
    rows = conn.execute(
        "SELECT document_id, partition_key, state, error FROM documents WHERE partition_key = ANY(%s)",
        (partition_keys,),
    ).fetchall()
    found = {r[1]: DocumentOutcome(*r) for r in rows}
    return [found[k] for k in partition_keys if k in found]


def registered_for_keys(conn: psycopg.Connection, partition_keys: list[str], state: str | None = None) -> dict[str, DocumentRow]:
    """{partition_key: row} for the keys that are registered (in ``state`` when given); others are absent."""
    rows = conn.execute(
        "SELECT document_id, partition_key, source_path, content_sha256 FROM documents "
        "WHERE partition_key = ANY(%s) AND (%s::text IS NULL OR state = %s)",
        (partition_keys, state, state),
    ).fetchall()
    return {r[1]: DocumentRow(*r) for r in rows}


def documents_to_process(conn: psycopg.Connection, partition_keys: list[str]) -> list[DocumentRow]:
    """The documents of these partitions that this run still works on (state ``registered``), in order.

    Unchanged (already ingested) and failed documents are skipped by every later step.
    """
    found = registered_for_keys(conn, partition_keys, "registered")
    return [found[k] for k in partition_keys if k in found]


def known_documents(conn: psycopg.Connection, partition_keys: list[str]) -> list[DocumentRow]:
    """The known documents of these partitions, in the order given; unknown keys are left out."""
    found = registered_for_keys(conn, partition_keys)
    return [found[k] for k in partition_keys if k in found]


def awaiting_read_back(conn: psycopg.Connection, signer_did: str) -> list[str]:
    """Registered documents whose streams were written (by ``signer_did``) but not yet verified:
    their run ended while the node was unreachable."""
    return [d for (d,) in conn.execute(
        "SELECT d.document_id FROM documents d WHERE d.state = 'registered' AND EXISTS "
        "(SELECT 1 FROM ceramic_streams s WHERE s.document_id = d.document_id AND s.signer_did = %s) "
        "ORDER BY d.document_id",
        (signer_did,),
    )]
