"""Read a document's streams back from the node, verify them, and record what the node holds."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from ceramic_pipeline.ceramic.client import CeramicClient
from ceramic_pipeline.ceramic.verify import EventError
from ceramic_pipeline.storage import checks, streams
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
