"""Where a run's documents are: their rows with source path and content hash.

Apart from ``steps.documents`` (loading, chunking, pandas) because ``ceramic-pipeline ingest``
records its inputs, and finds them unchanged, before it imports any of that.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import psycopg

from ceramic_pipeline.documents.identity import partition_key, path_text, text_path
from ceramic_pipeline.storage import documents as document_store
from ceramic_pipeline.storage.documents import DocumentRow


def record_sources(conn: psycopg.Connection, sources: Sequence[tuple[str, Path]]) -> list[DocumentRow]:
    """Register where documents named on the command line are, so a run's ``locate_documents``
    finds them by partition key also when they are outside the inbox (``resolve_inputs`` pairs).
    Returns their rows, content hashes included."""
    rows = [source_row(doc_id, path) for doc_id, path in sources]
    with conn.transaction():
        document_store.upsert_documents(conn, rows)
    return rows


def source_row(doc_id: str, path: Path) -> DocumentRow:
    """The row of the document ``doc_id`` read from ``path``: partition key, source path, content SHA-256."""
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return DocumentRow(doc_id, partition_key(doc_id), path_text(path), digest)


def source_file(doc: DocumentRow) -> Path:
    """The file a registered document was read from."""
    return Path(text_path(doc.source_path))
