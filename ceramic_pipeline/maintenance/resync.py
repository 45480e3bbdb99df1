"""Rebuild ``ceramic_streams`` rows for our model and controller from what a Ceramic node holds.

The node's event feed (``GET /ceramic/feed/events``, resumable) says which streams changed since
the stored resume token. Every stream of ours it touches is read back tip to init
(writer.readback: each event's CID, bytes and signature, the ``prev`` chain, one controller),
its content is recomputed from the verified patches and must equal the node's, and only then is
its row written, with its events recorded as published in the outbox (so later updates can be
published on top of them). A stream that fails any check is reported and not adopted, and the
resume token is not advanced past it, so the next run looks again.

Rows already holding the node's tip are left alone (``last_updated`` keeps meaning "last real
change"); archived rows with the node's tip stay archived.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import psycopg

from ceramic_pipeline.ceramic.cid import CID
from ceramic_pipeline.ceramic.client import CeramicClient
from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.ceramic.identifiers import StreamID, StreamType
from ceramic_pipeline.ceramic.model import DOCLING_CHUNK_MODEL, model_init_event, model_stream_id
from ceramic_pipeline.ceramic.patch import PatchError, apply
from ceramic_pipeline.ceramic.verify import EventError, decode_event
from ceramic_pipeline.storage import feed_cursors, outbox, streams
from ceramic_pipeline.storage.chunks import chunk_pins
from ceramic_pipeline.writer.content import content_sha256
from ceramic_pipeline.writer.models import ensure_model
from ceramic_pipeline.writer.readback import ReadBack, read_back


@dataclass
class ResyncReport:
    full: bool  # read the feed from its start
    events_read: int = 0
    unreadable_events: int = 0  # not decodable here (e.g. other signers' CACAO events); never adopted
    streams_touched: int = 0  # ours, with at least one event in the pages read
    adopted: int = 0  # rows inserted or moved to the node's tip
    unchanged: int = 0  # rows (hot or archived) already at the node's tip
    events_recorded: int = 0  # events newly recorded as published in the outbox
    failures: list[str] = field(default_factory=list)  # "<stream id>: <reason>"
    resume_token: str | None = None  # stored after the last page that fully succeeded


def resync_from_ceramic(
    conn: psycopg.Connection, client: CeramicClient, signer: DIDKey, *,
    node_url: str, full: bool = False, page_size: int = 1000,
) -> ResyncReport:
    """Re-sync the DoclingChunk streams controlled by ``signer`` from the node at ``client``.

    ``full`` reads the feed from the start; so does a first run, and a run that finds no row of
    ours in ``ceramic_streams_all`` (the table was lost: a stored token would skip everything).
    ``conn`` must have no open transaction: each page commits with its resume token. Raises
    CeramicUnavailable when the node cannot be reached; verification problems are reported.
    """
    model = model_stream_id(model_init_event(signer, DOCLING_CHUNK_MODEL))
    _adopt_model(conn, client, signer, model)
    known = _our_init_cids(conn, signer.did, str(model))
    token = None if full or not known else feed_cursors.get_resume_token(conn, node_url, str(model), signer.did)
    if not conn.autocommit:
        conn.commit()  # end the reads' implicit transaction: each page below commits on its own
    report = ResyncReport(full=token is None)
    classifier = _Ours(client, signer.did, model, known)
    while True:
        page, next_token = client.feed_cars(token, limit=page_size)
        if not page:
            break
        seen: dict[str, set[str]] = {}  # our stream's init CID -> event CIDs in this page
        for event_cid, car in page:
            report.events_read += 1
            try:
                event = decode_event(car)
            except EventError:
                report.unreadable_events += 1
                continue
            init = str(event.init_cid)
            if classifier.is_ours(init, event):
                seen.setdefault(init, set()).add(event_cid)
        report.streams_touched += len(seen)
        with ThreadPoolExecutor(max_workers=max(1, min(client.max_in_flight, len(seen)))) as pool:
            checked = list(pool.map(lambda item: _verify_stream(client, signer.did, model, *item), seen.items()))
        failures_before = len(report.failures)
        with conn.transaction():
            for verified in checked:
                _store_stream(conn, signer.did, model, verified, report)
            if len(report.failures) > failures_before:
                break  # keep the earlier token: the next run reads this page again
            feed_cursors.save_resume_token(conn, node_url, str(model), signer.did, next_token, len(page))
        report.resume_token = token = next_token
    return report


class _Ours:
    """Decides whether a stream (by init CID) is a DoclingChunk MID controlled by us."""

    def __init__(self, client: CeramicClient, controller: str, model: StreamID, known: set[str]) -> None:
        self.client, self.controller, self.model = client, controller, model
        self.answers = dict.fromkeys(known, True)

    def is_ours(self, init_cid: str, event: Any) -> bool:
        if init_cid not in self.answers:
            init = event if event.kind == "init" else self._fetch(init_cid)
            self.answers[init_cid] = init is not None and init.controller == self.controller and init.model == self.model
        return self.answers[init_cid]

    def _fetch(self, init_cid: str) -> Any:
        car = self.client.get_event(init_cid)
        if car is None:
            return None
        try:
            return decode_event(car)
        except EventError:
            return None


def _our_init_cids(conn: psycopg.Connection, controller: str, model_id: str) -> set[str]:
    rows = conn.execute(
        "SELECT stream_id FROM ceramic_streams_all WHERE signer_did = %s AND model_id = %s", (controller, model_id)
    )
    return {str(StreamID.from_string(sid).cid) for (sid,) in rows}


def _adopt_model(conn: psycopg.Connection, client: CeramicClient, signer: DIDKey, model: StreamID) -> None:
    """Register the model and mark its init published when the node holds exactly our init event."""
    event = model_init_event(signer, DOCLING_CHUNK_MODEL)
    if client.get_event(str(event.cid)) != event.car:
        return
    with conn.transaction():
        ensure_model(conn, signer)
        outbox.mark_published(conn, [str(event.cid)])


@dataclass(frozen=True)
class _Verified:
    stream_id: str
    back: ReadBack | None = None
    content: dict[str, Any] | None = None
    failure: str | None = None


def _verify_stream(client: CeramicClient, controller: str, model: StreamID, init_cid: str, feed_events: set[str]) -> _Verified:
    """Read the stream back and check it (network only, so streams are verified in parallel)."""
    stream_id = str(StreamID(StreamType.MODEL_INSTANCE_DOCUMENT, CID.from_string(init_cid)))
    try:
        back = read_back(client, stream_id)
        content = _verified_content(back, controller, model)
    except EventError as exc:
        return _Verified(stream_id, failure=str(exc))
    if feed_events - {str(e.cid) for e in back.events}:
        return _Verified(stream_id, failure=f"the node's state lags its feed (tip {back.tip} misses a fed event)")
    return _Verified(stream_id, back, content)


def _store_stream(
    conn: psycopg.Connection, controller: str, model: StreamID, verified: _Verified, report: ResyncReport
) -> None:
    stream_id, back = verified.stream_id, verified.back
    if verified.failure is not None or back is None or verified.content is None:
        report.failures.append(f"{stream_id}: {verified.failure}")
        return
    hot, cold = streams.get_stream(conn, stream_id), streams.archived_stream(conn, stream_id)
    if any(r is not None and r.latest_cid == back.tip for r in (hot, cold)):
        report.unchanged += 1
        return
    try:
        with conn.transaction():  # a savepoint: one conflicting stream does not undo the page
            report.events_recorded += _record_published(conn, stream_id, back)
            if cold is not None:
                streams.restore_archived(conn, stream_ids=[stream_id])
            row = _row(conn, stream_id, controller, model, back, verified.content, hot or cold)
            report.adopted += streams.upsert_streams(conn, [row])
    except psycopg.errors.UniqueViolation:
        report.failures.append(f"{stream_id}: the outbox holds a different event at a position the node has (a fork)")


def _verified_content(back: ReadBack, controller: str, model: StreamID) -> dict[str, Any]:
    """The content the verified patches produce; it must be what the node reports."""
    if back.controller != controller or back.events[0].model != model:
        raise EventError(f"controlled by {back.controller} under {back.events[0].model}, not ours")
    content: Any = back.events[0].payload.get("data")
    try:
        for event in back.events[1:]:
            if event.kind == "data":
                content = apply(content, event.payload["data"])
    except PatchError as exc:
        raise EventError(str(exc)) from None
    if not isinstance(content, dict) or content != back.content:
        raise EventError("the content the signed patches produce differs from the node's")
    return content


def _record_published(conn: psycopg.Connection, stream_id: str, back: ReadBack) -> int:
    events = [
        outbox.OutboxEvent(str(e.cid), stream_id, position, "init" if position == 0 else "data", e.car)
        for position, e in enumerate(back.events)
        if e.kind in ("init", "data")
    ]
    outbox.enqueue_events(conn, events)
    return outbox.mark_published(conn, [e.event_cid for e in events])


def _row(
    conn: psycopg.Connection, stream_id: str, controller: str, model: StreamID, back: ReadBack,
    content: dict[str, Any], before: streams.StreamRow | None,
) -> streams.StreamRow:
    return streams.StreamRow(
        stream_id=stream_id,
        latest_cid=back.tip,
        version=len(back.events),
        signer_did=controller,
        model_id=str(model),
        document_id=content["documentId"],
        chunk_index=content["chunkIndex"],
        content_sha256=content_sha256(content),
        ipfs_pins=_pins(conn, content, before),
        stream_metadata={"content": content},
        status="removed" if content.get("removed") else "active",
    )


def _pins(conn: psycopg.Connection, content: dict[str, Any], before: streams.StreamRow | None) -> list[dict[str, Any]]:
    """Pins are not on the node: the chunk's record when it holds this text, else the old row's."""
    found = chunk_pins(conn, content["documentId"], content["chunkIndex"])
    if found is not None and found[0] == content.get("textSha256"):
        return found[1]
    return before.ipfs_pins if before is not None else []

