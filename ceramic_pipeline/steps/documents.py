"""Register a run's documents and chunk them into the ``chunks`` table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import psycopg

from ceramic_pipeline.documents import (
    Chunk,
    ChunkerConfig,
    chunk_document,
    chunks_to_dataframe,
    id_path,
    inbox_files,
    load_document,
    partition_key,
    text_path,
)
from ceramic_pipeline.storage import chunks as chunk_store
from ceramic_pipeline.storage import documents as document_store
from ceramic_pipeline.storage.documents import DocumentRow
from ceramic_pipeline.steps.outcomes import per_document
from ceramic_pipeline.steps.sources import source_file, source_row


class UnknownPartitionError(LookupError):
    """No file maps to a partition key (moved or deleted since it was discovered)."""


@dataclass
class RegisterReport:
    registered: list[DocumentRow] = field(default_factory=list)  # new or changed: the run works on these
    unchanged: list[DocumentRow] = field(default_factory=list)  # content already ingested: skipped
    failures: dict[str, str] = field(default_factory=dict)  # document_id (or partition key) -> reason


def locate_documents(conn: psycopg.Connection, inbox: Path, keys: Sequence[str]) -> tuple[list[DocumentRow], list[str]]:
    """The files behind ``keys`` (partition keys are derived from ids, not reversible), and the keys with none.

    A registered key (``documents`` table) is found from its id (``identity.id_path``), or
    where it was last registered; so is a document outside the inbox that ``record_sources``
    registered before its run. Other keys are looked for in one pass over the inbox. Only the
    matched files are read and hashed: a run for one document in a large inbox stays cheap.
    """
    found: dict[str, tuple[str, Path]] = {}
    for key, row in document_store.registered_for_keys(conn, list(keys)).items():
        for path in (id_path(row.document_id, inbox), Path(text_path(row.source_path))):
            if path.is_file():
                found[key] = (row.document_id, path)
                break
    wanted = set(keys) - set(found)
    if wanted and inbox.is_dir():
        for doc_id, path in inbox_files(inbox):
            key = partition_key(doc_id)
            if key in wanted:
                found[key] = (doc_id, path)
    return [source_row(*found[k]) for k in keys if k in found], [k for k in keys if k not in found]


def register_documents(conn: psycopg.Connection, inbox: Path, keys: Sequence[str], signer_did: str) -> RegisterReport:
    """Record each partition's document; validate new or changed ones as DoclingDocuments.

    An unchanged document (content hash already ingested under ``signer_did``, the active DID:
    see storage.documents.register_documents) is not loaded at all. A document that
    cannot be read or is not a DoclingDocument is recorded ``failed`` with its reason; a
    partition whose file has gone is failed by partition key (its previous row, if any, keeps
    what it had).
    """
    report = RegisterReport()
    documents, missing = locate_documents(conn, inbox, keys)
    for key in missing:
        reason = f"{UnknownPartitionError.__name__}: no file in {inbox} or the documents table has partition key {key}"
        known = document_store.known_documents(conn, [key])
        if known:
            document_store.mark_failed(conn, known[0].document_id, reason)
        report.failures[known[0].document_id if known else key] = reason
    changed = document_store.register_documents(conn, documents, signer_did)
    conn.commit()  # the gone partitions above and every registration: one transaction, not one per document
    for doc in documents:
        if doc.document_id not in changed:
            report.unchanged.append(doc)
            continue
        failed_before = len(report.failures)
        with per_document(conn, doc.document_id, report.failures):
            load_document(source_file(doc))  # validates; a bad file is this document's failure alone
        if len(report.failures) == failed_before:
            report.registered.append(doc)
    return report


@dataclass
class ChunkReport:
    documents: int = 0
    chunks: int = 0
    bytes: int = 0
    preview: pd.DataFrame | None = None  # the first document's chunks (the rest are not held: memory stays flat)
    failures: dict[str, str] = field(default_factory=dict)


def chunk_documents(conn: psycopg.Connection, documents: Sequence[DocumentRow], config: ChunkerConfig) -> ChunkReport:
    """Chunk each document into ``chunks``; a document that cannot be chunked or stored fails alone."""
    report = ChunkReport()
    for doc in documents:
        with per_document(conn, doc.document_id, report.failures):
            chunks = chunk_into_table(conn, doc, config)
            report.documents += 1
            report.chunks += len(chunks)
            report.bytes += sum(c.byte_length for c in chunks)
            if report.preview is None:  # the first document's frame only (2 ms per document otherwise)
                report.preview = chunks_to_dataframe(doc.document_id, chunks)
    return report


def chunk_into_table(conn: psycopg.Connection, doc: DocumentRow, config: ChunkerConfig) -> list[Chunk]:
    """Chunk a registered document and make the ``chunks`` table hold exactly its chunks; returns them."""
    chunks = chunk_document(load_document(source_file(doc)), config, source=doc.document_id)
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
    # Inside per_document's transaction (committed or rolled back whole), so no savepoint here.
    chunk_store.upsert_chunks(conn, rows)
    chunk_store.prune_chunks(conn, doc.document_id, len(chunks))
    return chunks
