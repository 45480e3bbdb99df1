"""Read a document's streams back from the node, verify them, and record which tip was verified.

Two depths (issue 10):

- **tip** (every run, the default): one ``GET /streams/{id}`` per stream whose tip is not yet
  verified and was posted in this run. The node must report our tip CID as the stream's tip, our DID as controller and
  the content we wrote. A CID commits to its whole ``prev`` chain and ceramic-one validates
  every event's signature and ``prev`` when it accepts it, so a matching tip means the node
  holds the chain we signed; walking it again would cost one request per event.
- **full** (``full=True``: the weekly ``verify_streams`` job, ``stream verify``; in a run, any
  unverified stream whose tip was posted before it, e.g. one that failed a read-back): the
  stream's chain is fetched event by event and checked here (signatures, CIDs, ``prev`` order,
  controller), trusting nothing the node says; then tip, version and content are compared.

A stream whose tip event is still pending in the outbox is counted as pending, not read: the
node cannot have it.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import psycopg

from ceramic_pipeline.ceramic.client import CeramicClient, CeramicError, CeramicUnavailable, StreamState
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
    """Why the node's (fully verified) stream is not what ``row`` says was written, or None when it is.

    Compares controller, tip, version and content (a rejected data event leaves the node's
    content at an older state, or None/``{}`` when it was the first one).
    """
    return _state_differences(back.controller, back.tip, back.content, row, events=len(back.events))


def tip_differences(state: StreamState | None, row: StreamRow) -> str | None:
    """Why the node's stream state is not what ``row`` says was written, or None when it is (tip depth)."""
    if state is None:
        return "stream is unknown to the node"
    return _state_differences(state.controller, state.event_cid, state.content, row)


def _state_differences(controller: str, tip: str, content: Any, row: StreamRow, events: int | None = None) -> str | None:
    if controller != row.signer_did:
        return f"controller {controller} is not {row.signer_did}"
    if tip != row.latest_cid:
        at = f" (version {events})" if events is not None else ""
        return f"node tip {tip}{at} but the database says {row.latest_cid} (version {row.version}) was written"
    if events is not None and events != row.version:
        return f"node has {events} events but the database says {row.version}"
    written: Any = row.stream_metadata.get("content")
    if not isinstance(content, dict) or not content or content_sha256(content) != row.content_sha256:
        return f"node content {'is empty' if not content else 'differs'}: not what the database says was written"
    if written is not None and content != written:
        return "node content differs from what the database says was written"
    return None


def verify_document_streams(
    conn: psycopg.Connection, client: CeramicClient, document_id: str, signer_did: str, *, full: bool = False,
    tips_since: datetime | None = None,
) -> VerifyReport:
    """``verify_streams`` for one document."""
    return verify_streams(conn, client, [document_id], signer_did, full=full, tips_since=tips_since)[document_id]


def verify_streams(
    conn: psycopg.Connection, client: CeramicClient, document_ids: list[str], signer_did: str, *, full: bool = False,
    tips_since: datetime | None = None,
) -> dict[str, VerifyReport]:
    """Verify the documents' unverified stream tips (every live stream's full chain with ``full``); commits.

    With ``tips_since`` (a run's start), only tips the node accepted since then get the tip
    check; an unverified stream whose tip was posted before (a stream that failed a read-back
    earlier, or whose check was interrupted) has its whole chain walked. All the documents'
    streams are read in one batch (the client bounds requests in flight). A stream that fails
    loses its verified mark, so the next read-back looks at it again.
    """
    reports = {document_id: VerifyReport() for document_id in document_ids}
    if tips_since is not None and tips_since.tzinfo is None:
        tips_since = tips_since.replace(tzinfo=timezone.utc)  # a naive run timestamp is UTC
    candidates = checks.streams_to_verify(conn, document_ids, signer_did, full=full)
    for candidate in candidates:
        reports[candidate.row.document_id].pending += not candidate.published
    published = [c for c in candidates if c.published]
    walk = [full or (tips_since is not None and (c.published_at is None or c.published_at < tips_since)) for c in published]
    rows = [c.row for c in published]
    full_outcomes = iter(_full_checks(client, [r for r, w in zip(rows, walk) if w]))
    tip_outcomes = iter(_tip_checks(client, [r for r, w in zip(rows, walk) if not w]))
    outcomes = [next(full_outcomes) if w else next(tip_outcomes) for w in walk]
    confirmed: dict[str, str] = {}
    failed: list[str] = []
    left = Counter(row.document_id for row in rows)  # streams of each document not yet looked at
    for row, outcome in zip(rows, outcomes):
        report = reports[row.document_id]
        left[row.document_id] -= 1
        if report.unreachable:
            continue
        if isinstance(outcome, CeramicUnavailable):
            report.unreachable = f"{left[row.document_id] + 1} stream(s) of {row.document_id} not read back: {outcome}"
        elif outcome is not None:
            report.failures.append(f"{row.stream_id}: {outcome}")
            failed.append(row.stream_id)
        else:
            confirmed[row.stream_id] = row.latest_cid
            report.verified += 1
    checks.confirm_streams(conn, confirmed)
    checks.unconfirm_streams(conn, failed)
    conn.commit()
    return reports


def _tip_checks(client: CeramicClient, rows: list[StreamRow]) -> list[str | Exception | None]:
    """Per row: None (verified), what differs, or the node error; one concurrent GET per stream."""
    states = client.get_streams([row.stream_id for row in rows])
    return [state if isinstance(state, CeramicError) else tip_differences(state, row) for row, state in zip(rows, states)]


READ_BACK_THREADS = 8


def _full_checks(client: CeramicClient, rows: list[StreamRow]) -> list[str | Exception | None]:
    def check(row: StreamRow) -> str | Exception | None:
        try:
            return differences(read_back(client, row.stream_id), row)
        except (EventError, CeramicUnavailable) as exc:
            return exc

    # Streams are independent, so their chains are walked concurrently (the client bounds requests in flight).
    with ThreadPoolExecutor(max_workers=max(1, min(READ_BACK_THREADS, client.max_in_flight, len(rows)))) as pool:
        return list(pool.map(check, rows))


@dataclass
class DocumentsReadBack:
    verified: int = 0
    failures: list[str] = field(default_factory=list)  # "<stream id>: <what differs>"
    mismatched: dict[str, dict[str, int]] = field(default_factory=dict)  # document -> {rows, chunks}
    ingested: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # documents with events the node has not accepted yet


def read_back_documents(
    conn: psycopg.Connection, client: CeramicClient, document_ids: list[str], signer_did: str, *, full: bool = False,
    tips_since: datetime | None = None,
) -> DocumentsReadBack:
    """Verify each document's streams on the node and record its outcome in ``documents``.

    Only stream tips not verified before are read (``full=True``: all of them again); see
    ``verify_streams`` for ``tips_since``.

    - events still pending in the outbox, or the node unreachable during read-back: the
      document stays ``registered`` (not verified, not failed; the next run reads it);
    - every stream verifies and there is one active stream per chunk: ``ingested``;
    - otherwise ``failed``, with the first difference as its reason.
    """
    result = DocumentsReadBack()
    reports = verify_streams(conn, client, document_ids, signer_did, full=full, tips_since=tips_since)
    counts = checks.stream_and_chunk_counts(conn, document_ids, signer_did)
    for document_id in document_ids:
        report = reports[document_id]
        result.verified += report.verified
        if (report.pending or report.unreachable) and not report.failures:
            result.pending.append(document_id)
            continue
        result.failures += report.failures
        rows, chunks = counts[document_id]
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
