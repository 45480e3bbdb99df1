"""Read a document's streams back from the node, verify them, and record what the node holds."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from ceramic_pipeline.ceramic.client import CeramicClient
from ceramic_pipeline.ceramic.verify import EventError
from ceramic_pipeline.storage import checks, streams
from ceramic_pipeline.storage import documents as document_store
from ceramic_pipeline.writer.content import content_sha256
from ceramic_pipeline.writer.readback import read_back


@dataclass
class VerifyReport:
    verified: int = 0
    failures: list[str] = field(default_factory=list)


def verify_document_streams(conn: psycopg.Connection, client: CeramicClient, document_id: str, signer_did: str) -> VerifyReport:
    report = VerifyReport()
    confirmed: dict[str, str] = {}
    for row in streams.streams_for_document(conn, document_id):
        if row.signer_did != signer_did or row.status == "archived":
            continue
        try:
            back = read_back(client, row.stream_id)
        except EventError as exc:
            report.failures.append(f"{row.stream_id}: {exc}")
            continue
        if back.controller != signer_did:
            report.failures.append(f"{row.stream_id}: controller {back.controller} is not {signer_did}")
        elif back.tip != row.latest_cid:
            report.failures.append(f"{row.stream_id}: node tip {back.tip} but we wrote {row.latest_cid}")
        elif not isinstance(back.content, dict) or content_sha256(back.content) != row.content_sha256:
            report.failures.append(f"{row.stream_id}: node content differs from what we wrote")
        else:
            confirmed[row.stream_id] = back.tip
            report.verified += 1
    checks.confirm_streams(conn, confirmed)
    conn.commit()
    return report


@dataclass
class DocumentsReadBack:
    verified: int = 0
    failures: list[str] = field(default_factory=list)  # "<stream id>: <what differs>"
    mismatched: dict[str, dict[str, int]] = field(default_factory=dict)  # document -> {rows, chunks}
    ingested: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # documents with events the node has not accepted yet


def read_back_documents(conn: psycopg.Connection, client: CeramicClient, document_ids: list[str], signer_did: str) -> DocumentsReadBack:
    """Verify each document's streams on the node and record its outcome in ``documents``.

    - events still pending in the outbox: the document stays ``registered`` (nothing to read yet);
    - every stream verifies and there is one active stream per chunk: ``ingested``;
    - otherwise ``failed``, with the first difference as its reason.
    """
    result = DocumentsReadBack()
    for document_id in document_ids:
        if checks.chunks_without_published_stream(conn, document_id, signer_did):
            result.pending.append(document_id)
            continue
        report = verify_document_streams(conn, client, document_id, signer_did)
        result.verified += report.verified
        result.failures += report.failures
        rows, chunks = checks.active_stream_count(conn, document_id, signer_did), checks.chunk_count(conn, document_id)
        if report.failures:
            document_store.mark_failed(conn, document_id, f"{len(report.failures)} stream(s) failed read-back: {report.failures[0]}")
        elif rows != chunks:
            result.mismatched[document_id] = {"rows": rows, "chunks": chunks}
            document_store.mark_failed(conn, document_id, f"{rows} active stream rows for {chunks} chunks")
        else:
            result.ingested.append(document_id)
    document_store.mark_ingested(conn, result.ingested)
    conn.commit()
    return result
