"""Register a partition's document and chunk it into the ``chunks`` table."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import psycopg

from ceramic_pipeline.documents import ChunkerConfig, chunk_document, chunks_to_dataframe, load_document
from ceramic_pipeline.documents.identity import document_id as document_id_of
from ceramic_pipeline.documents.identity import partition_key as partition_key_of
from ceramic_pipeline.documents.loading import SUPPORTED_SUFFIXES
from ceramic_pipeline.storage import chunks as chunk_store
from ceramic_pipeline.storage import documents as document_store


class UnknownPartitionError(LookupError):
    """No inbox file maps to the partition key (moved or deleted since it was registered)."""


@dataclass(frozen=True)
class RegisteredDocument:
    document_id: str
    partition_key: str
    path: Path
    content_sha256: str


def find_document(inbox: Path, key: str) -> RegisteredDocument:
    """The inbox file whose partition key is ``key`` (keys are derived, never stored by the sensor)."""
    for path in sorted(inbox.rglob("*")):
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES:
            doc_id = document_id_of(path, inbox)
            if partition_key_of(doc_id) == key:
                return RegisteredDocument(doc_id, key, path, hashlib.sha256(path.read_bytes()).hexdigest())
    raise UnknownPartitionError(f"no file in {inbox} has partition key {key!r}")


def register_document(conn: psycopg.Connection, inbox: Path, key: str) -> RegisteredDocument:
    doc = find_document(inbox, key)
    load_document(doc.path)  # validate now, so a bad file fails this step with its own message
    document_store.upsert_document(
        conn, document_store.DocumentRow(doc.document_id, doc.partition_key, str(doc.path), doc.content_sha256)
    )
    return doc


def chunk_into_table(
    conn: psycopg.Connection, inbox: Path, key: str, config: ChunkerConfig
) -> tuple[str, pd.DataFrame]:
    """Chunk the partition's document and make the ``chunks`` table hold exactly its chunks."""
    doc = find_document(inbox, key)
    chunks = chunk_document(load_document(doc.path), config)
    source = doc.document_id
    previous = {c.chunk_index: c for c in chunk_store.chunks_for_document(conn, doc.document_id)}
    rows = []
    for c in chunks:
        old = previous.get(c.index)
        # keep a pin made for identical text; new text must be pinned again
        text_cid = old.text_cid if old and old.text_sha256 == c.sha256 else None
        pins = old.ipfs_pins if text_cid else []
        rows.append(
            chunk_store.ChunkRow(doc.document_id, c.index, c.text, text_cid, c.sha256, c.byte_length,
                                 list(c.headings), list(c.pages), source, key, pins)
        )
    with conn.transaction():
        chunk_store.upsert_chunks(conn, rows)
        chunk_store.prune_chunks(conn, doc.document_id, len(chunks))
    return doc.document_id, chunks_to_dataframe(doc.document_id, chunks)
