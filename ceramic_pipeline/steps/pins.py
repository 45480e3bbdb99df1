"""Pin a document's large chunks and record where each one is held."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from ceramic_pipeline.ipfs.service import PinningService
from ceramic_pipeline.ipfs.unixfs import file_cid
from ceramic_pipeline.storage import chunks as chunk_store


@dataclass
class PinReport:
    pinned: int = 0
    already_pinned: int = 0
    inline: int = 0
    services: dict[str, int] = field(default_factory=dict)


def pin_large_chunks(conn: psycopg.Connection, service: PinningService, document_id: str, threshold: int) -> PinReport:
    report = PinReport()
    for chunk in chunk_store.chunks_for_document(conn, document_id):
        if chunk.text_bytes < threshold:
            report.inline += 1
            continue
        if chunk.text_cid and chunk.ipfs_pins:
            report.already_pinned += 1
            continue
        record = service.pin(chunk.text.encode("utf-8"), name=f"{document_id}#{chunk.chunk_index}")
        chunk_store.set_pins(conn, document_id, chunk.chunk_index, str(record.cid), [record.to_json()])
        conn.commit()  # each pin is recorded as soon as it exists
        report.pinned += 1
        report.services[record.service] = report.services.get(record.service, 0) + 1
    return report


def unverifiable_pins(conn: psycopg.Connection, document_id: str) -> list[str]:
    """Chunks whose recorded CID is not the CID of their text, recomputed locally."""
    bad = []
    for chunk in chunk_store.chunks_for_document(conn, document_id):
        if chunk.text_cid and (chunk.text is None or str(file_cid(chunk.text.encode("utf-8"))) != chunk.text_cid):
            bad.append(f"{document_id}#{chunk.chunk_index}")
    return bad
