"""Read a document's streams back from the node, verify them, and record which tip was verified.

Only streams whose current tip was not verified yet are read (issue 10: re-runs of unchanged
documents cost no read-back); ``full=True`` re-verifies every live stream. A stream whose tip
event is still pending in the outbox is counted as pending, not read: the node cannot have it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg

from ceramic_pipeline.ceramic.client import CeramicClient, CeramicUnavailable
from ceramic_pipeline.ceramic.verify import EventError
from ceramic_pipeline.storage import checks
from ceramic_pipeline.storage.streams import StreamRow
from ceramic_pipeline.writer.content import content_sha256
from ceramic_pipeline.writer.readback import ReadBack, read_back


@dataclass
class VerifyReport:
    verified: int = 0  # read back and verified in this call
    pending: int = 0  # tip not yet published (node unreachable so far): not read back
    failures: list[str] = field(default_factory=list)  # one line per stream (one for an unreachable node)


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
    for n, (row, published) in enumerate(candidates):
        if not published:
            report.pending += 1
            continue
        try:
            back = read_back(client, row.stream_id)
        except EventError as exc:
            report.failures.append(f"{row.stream_id}: {exc}")
            continue
        except CeramicUnavailable as exc:
            left = sum(1 for _, p in candidates[n:] if p)
            report.failures.append(f"{left} stream(s) of {document_id} not read back: {exc}")
            break
        problem = differences(back, row)
        if problem:
            report.failures.append(f"{row.stream_id}: {problem}")
        else:
            confirmed[row.stream_id] = back.tip
            report.verified += 1
    checks.confirm_streams(conn, confirmed)
    conn.commit()
    return report
