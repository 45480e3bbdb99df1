"""Read a document's streams back from the node, verify them, and record which tip was verified.

Only streams whose current tip was not verified yet are read (issue 10: re-runs of unchanged
documents cost no read-back); ``full=True`` re-verifies every live stream. A stream whose tip
event is still pending in the outbox is counted as pending, not read: the node cannot have it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import psycopg

from ceramic_pipeline.ceramic.client import CeramicClient, CeramicUnavailable
from ceramic_pipeline.ceramic.verify import EventError
from ceramic_pipeline.storage import checks
from ceramic_pipeline.storage import documents as document_store
from ceramic_pipeline.storage.streams import StreamRow
from ceramic_pipeline.writer.content import content_sha256
from ceramic_pipeline.writer.readback import ReadBack, read_back


@dataclass
class VerifyReport:
    verified: int = 0  # read back and verified in this call
    pending: int = 0  # tip not yet published (node unreachable so far): not read back
    failures: list[str] = field(default_factory=list)  # one line per stream that differs or does not verify
    unreachable: str | None = None  # the node stopped answering: the rest was not read back (not a failure)


def differences(back: ReadBack, row: StreamRow) -> str | None:
    """Why the node's stream is not what ``row`` says was written, or None when it is.

    Compares controller, tip, version and content (a rejected data event leaves the node's
    content at an older state, or None/``{}`` when it was the first one).
    """
    if back.controller != row.signer_did:
        return f"controller {back.controller} is not {row.signer_did}"
    if back.tip != row.latest_cid:
        return f"node tip {back.tip} (version {len(back.events)}) but the database says {row.latest_cid} (version {row.version}) was written"
    if len(back.events) != row.version:
        return f"node has {len(back.events)} events but the database says {row.version}"
    written: Any = row.stream_metadata.get("content")
    if not isinstance(back.content, dict) or not back.content or content_sha256(back.content) != row.content_sha256:
        return f"node content {'is empty' if not back.content else 'differs'}: not what the database says was written"
    if written is not None and back.content != written:
        return "node content differs from what the database says was written"
    return None


def verify_document_streams(
    conn: psycopg.Connection, client: CeramicClient, document_id: str, signer_did: str, *, full: bool = False
) -> VerifyReport:
    """Verify the document's unverified stream tips (every live stream with ``full``); commits."""
    report = VerifyReport()
    confirmed: dict[str, str] = {}
    candidates = checks.streams_to_verify(conn, document_id, signer_did, full=full)
    report.pending = sum(1 for _row, published in candidates if not published)
    rows = [row for row, published in candidates if published]
    # Streams are independent, so they are read back concurrently (the client bounds requests
    # in flight): sequentially, the run's read-back was a third of a fresh ingest's time.
    with ThreadPoolExecutor(max_workers=max(1, min(READ_BACK_THREADS, client.max_in_flight, len(rows)))) as pool:
        outcomes = list(pool.map(lambda row: _read(client, row.stream_id), rows))
    for n, (row, (back, error)) in enumerate(zip(rows, outcomes)):
        if isinstance(error, CeramicUnavailable):
            report.unreachable = f"{len(rows) - n} stream(s) of {document_id} not read back: {error}"
            break
        if error is not None:
            report.failures.append(f"{row.stream_id}: {error}")
            continue
        problem = differences(back, row)
        if problem:
            report.failures.append(f"{row.stream_id}: {problem}")
        else:
            confirmed[row.stream_id] = back.tip
            report.verified += 1
    checks.confirm_streams(conn, confirmed)
    conn.commit()
    return report


READ_BACK_THREADS = 8


def _read(client: CeramicClient, stream_id: str) -> tuple[ReadBack | None, Exception | None]:
    try:
        return read_back(client, stream_id), None
    except (EventError, CeramicUnavailable) as exc:
        return None, exc


@dataclass
class DocumentsReadBack:
    verified: int = 0
    failures: list[str] = field(default_factory=list)  # "<stream id>: <what differs>"
    mismatched: dict[str, dict[str, int]] = field(default_factory=dict)  # document -> {rows, chunks}
    ingested: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # documents with events the node has not accepted yet


def read_back_documents(
    conn: psycopg.Connection, client: CeramicClient, document_ids: list[str], signer_did: str, *, full: bool = False
) -> DocumentsReadBack:
    """Verify each document's streams on the node and record its outcome in ``documents``.

    Only stream tips not verified before are read (``full=True``: all of them again).

    - events still pending in the outbox, or the node unreachable during read-back: the
      document stays ``registered`` (not verified, not failed; the next run reads it);
    - every stream verifies and there is one active stream per chunk: ``ingested``;
    - otherwise ``failed``, with the first difference as its reason.
    """
    result = DocumentsReadBack()
    for document_id in document_ids:
        report = verify_document_streams(conn, client, document_id, signer_did, full=full)
        result.verified += report.verified
        if (report.pending or report.unreachable) and not report.failures:
            result.pending.append(document_id)
            continue
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
