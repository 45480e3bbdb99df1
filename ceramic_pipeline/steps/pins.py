"""Pin a document's large chunks and record where each one is held."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import psycopg

from ceramic_pipeline.ipfs.errors import CIDMismatchError
from ceramic_pipeline.ipfs.service import PinningService
from ceramic_pipeline.steps.outcomes import per_document
from ceramic_pipeline.storage.documents import DocumentRow
from ceramic_pipeline.ipfs.unixfs import file_cid
from ceramic_pipeline.storage import chunks as chunk_store


@dataclass
class PinReport:
    pinned: int = 0
    already_pinned: int = 0
    inline: int = 0
    services: dict[str, int] = field(default_factory=dict)


def pin_large_chunks(conn: psycopg.Connection, service: PinningService, document_id: str, threshold: int) -> PinReport:
    large = chunk_store.chunks_for_document(conn, document_id, min_bytes=threshold)  # only these are read whole
    report = PinReport(inline=chunk_store.count_chunks(conn, document_id) - len(large))
    for chunk in large:
        if chunk.text_cid and chunk.ipfs_pins:
            report.already_pinned += 1
            continue
        record = service.pin(chunk.text.encode("utf-8"), name=f"{document_id}#{chunk.chunk_index}")
        chunk_store.set_pins(conn, document_id, chunk.chunk_index, str(record.cid), [record.to_json()])
        conn.commit()  # each pin is recorded as soon as it exists
        report.pinned += 1
        report.services[record.service] = report.services.get(record.service, 0) + 1
    return report


@dataclass
class PinBatchReport:
    totals: PinReport = field(default_factory=PinReport)
    mismatches: list[str] = field(default_factory=list)  # "document#chunk" whose CID does not recompute
    failures: dict[str, str] = field(default_factory=dict)


def pin_documents(conn: psycopg.Connection, service: PinningService, documents: Sequence[DocumentRow], threshold: int) -> PinBatchReport:
    """Pin every document's large chunks; a document whose pin fails for good (e.g. a CID mismatch) fails alone.

    A service that stays unreachable is transient and fails the step (see steps.outcomes).
    """
    batch = PinBatchReport()
    for doc in documents:
        with per_document(conn, doc.document_id, batch.failures):
            report = pin_large_chunks(conn, service, doc.document_id, threshold)
            bad = unverifiable_pins(conn, doc.document_id)
            batch.mismatches += bad
            if bad:
                raise CIDMismatchError(f"{len(bad)} recorded CID(s) do not match the chunk text, e.g. {bad[0]}")
            for name in ("pinned", "already_pinned", "inline"):
                setattr(batch.totals, name, getattr(batch.totals, name) + getattr(report, name))
    return batch


def unverifiable_pins(conn: psycopg.Connection, document_id: str) -> list[str]:
    """Chunks whose recorded CID is not the CID of their text, recomputed locally."""
    bad = []
    for chunk in chunk_store.chunks_for_document(conn, document_id, pinned_only=True):
        if chunk.text_cid and (chunk.text is None or str(file_cid(chunk.text.encode("utf-8"))) != chunk.text_cid):
            bad.append(f"{document_id}#{chunk.chunk_index}")
    return bad
