"""Register a run's documents and chunk them into the ``chunks`` table."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import psycopg

from ceramic_pipeline.documents import (
    ChunkerConfig,
    chunk_document,
    chunks_to_dataframe,
    load_document,
    inbox_files,
    partition_key,
)
from ceramic_pipeline.storage import chunks as chunk_store
from ceramic_pipeline.storage import documents as document_store
from ceramic_pipeline.storage.documents import DocumentRow


class UnknownPartitionError(LookupError):
    """No inbox file maps to a partition key (moved or deleted since it was discovered)."""


def locate_documents(inbox: Path, keys: Sequence[str]) -> list[DocumentRow]:
    """The inbox files behind ``keys``, found in one pass over the inbox (keys are derived, not stored).

    Only the matched files are read and hashed: a run for one document in a large inbox stays cheap.
    """
    wanted = set(keys)
    found: dict[str, DocumentRow] = {}
    for doc_id, path in inbox_files(inbox):
        key = partition_key(doc_id)
        if key in wanted:
            found[key] = DocumentRow(doc_id, key, str(path), hashlib.sha256(path.read_bytes()).hexdigest())
    missing = [k for k in keys if k not in found]
    if missing:
        raise UnknownPartitionError(f"no file in {inbox} has partition key(s) {', '.join(missing[:10])}")
    return [found[k] for k in keys]


def register_documents(conn: psycopg.Connection, inbox: Path, keys: Sequence[str]) -> list[DocumentRow]:
    """Validate each partition's file as a DoclingDocument and record it in ``documents``."""
    documents = locate_documents(inbox, keys)
    for doc in documents:
        load_document(doc.source_path)  # a bad file fails this step with its own message
    with conn.transaction():
        for doc in documents:
            document_store.upsert_document(conn, doc)
    return documents


def chunk_into_table(conn: psycopg.Connection, doc: DocumentRow, config: ChunkerConfig) -> pd.DataFrame:
    """Chunk a registered document and make the ``chunks`` table hold exactly its chunks."""
    chunks = chunk_document(load_document(doc.source_path), config)
    previous = {c.chunk_index: c for c in chunk_store.chunks_for_document(conn, doc.document_id)}
    rows = []
    for c in chunks:
        old = previous.get(c.index)
        # keep a pin made for identical text; changed text is pinned again
        kept = old if old and old.text_cid and old.text_sha256 == c.sha256 else None
        rows.append(
            chunk_store.ChunkRow(
                doc.document_id, c.index, c.text, kept.text_cid if kept else None, c.sha256, c.byte_length,
                list(c.headings), list(c.pages), doc.document_id, doc.partition_key, kept.ipfs_pins if kept else [],
            )
        )
    with conn.transaction():
        chunk_store.upsert_chunks(conn, rows)
        chunk_store.prune_chunks(conn, doc.document_id, len(chunks))
    return chunks_to_dataframe(doc.document_id, chunks)
