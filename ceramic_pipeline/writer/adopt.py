"""Adopt chunk streams the node already holds but the database does not know: never fork.

A chunk's StreamID is a pure function of (controller, model, documentId, chunkIndex)
(``plan.chunk_stream_id``), so after the database was lost (or restored from an old backup)
the node may already hold a chunk's stream. Planning it as new would post a second data
event on the same init: a fork (issue 8, kind 6). Before planning, every chunk the database
has no row for is looked up on the node; a stream found there is read back and verified,
its events are recorded in the outbox as published, and its row is rebuilt from the node's
tip, version and content. Planning then continues that chain (or leaves it unchanged).

Most new chunks are new on the node too, and one GET each is a third of a fresh ingest's
requests. So the node's event feed is read first (``absent_by_feed``): a chunk's StreamID
commits to its init event's CID, and a stream the node holds has that init event in its feed.
The feed is read from the resume token up to which ``resync_from_ceramic`` already brought
every stream of ours into the database (from the start without one); a StreamID whose init is
not in that part of the feed is proven absent, and only the others are looked up.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from ceramic_pipeline.ceramic.cid import CID, CIDError
from ceramic_pipeline.ceramic.client import CeramicClient, CeramicError, CeramicUnavailable, NodeUnreachable, StreamState
from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.ceramic.identifiers import StreamID
from ceramic_pipeline.ceramic.verify import EventError
from ceramic_pipeline.storage.outbox import OutboxEvent
from ceramic_pipeline.storage.streams import StreamRow
from ceramic_pipeline.writer.content import content_sha256
from ceramic_pipeline.writer.plan import chunk_stream_id
from ceramic_pipeline.writer.readback import ReadBack, read_back

NO_CONTENT_SHA256 = hashlib.sha256(b"").hexdigest()  # a stream whose data events the node dropped


@dataclass
class Adoption:
    rows: dict[int, StreamRow] = field(default_factory=dict)  # chunk index -> row rebuilt from the node
    events: list[OutboxEvent] = field(default_factory=list)  # the adopted chains, to record as published
    failed: dict[int, str] = field(default_factory=dict)  # chunk index -> why its node stream is unusable
    unchecked: set[int] = field(default_factory=set)  # node unreachable: not known whether it holds them


Lookups = dict[str, "Future[list[StreamState | None | CeramicError]]"]  # document -> its started lookups

FEED_PAGE_SIZE = 10_000  # ceramic-one's largest page with data; without data it is the same here
# Lookups one feed page must replace to be read: on this 2-core machine a page of 10,000 event
# ids cost as much CPU (client and devnode together) as 450-660 GETs of unknown streams (a devnode
# holding 10,000 events, 2,000 lookups, two rounds), so 100 leaves a wide margin.
LOOKUPS_PER_FEED_PAGE = 100


def absent_by_feed(client: CeramicClient, stream_ids: Sequence[str], since: str | None) -> set[str] | None:
    """The ``stream_ids`` the node's event feed proves absent; None when the feed cannot tell.

    Reads ``GET /feed/events`` (event ids only) from ``since`` (None: from the feed's start) to
    its end, a page shorter than asked for. The caller must know that every stream of ours with
    an event before ``since`` is in the database (``resync_from_ceramic``'s resume token), so a
    StreamID whose init event CID is not in the part read is not on the node. Gives up (None) once it would read more pages than
    ``len(stream_ids) / LOOKUPS_PER_FEED_PAGE`` (then per-stream GETs are cheaper), or when the
    node does not answer the feed as ceramic-one does.
    """
    wanted = {StreamID.from_string(stream_id).cid: stream_id for stream_id in stream_ids}
    present: set[str] = set()
    token = since
    for _page in range(max(1, -(-len(wanted) // LOOKUPS_PER_FEED_PAGE))):
        try:
            events, token = client.feed(token, limit=FEED_PAGE_SIZE)
            for event in events:
                found = wanted.get(CID.from_string(event["id"]))
                if found:
                    present.add(found)
        except (CeramicError, CIDError, ValueError, KeyError, TypeError):
            return None  # unreachable, or no feed like ceramic-one's: look each stream up
        if len(events) < FEED_PAGE_SIZE:  # a short page is the feed's end (ceramic-one pages by LIMIT)
            return set(stream_ids) - present
    return None


def look_up_ahead(
    client: CeramicClient, signer: DIDKey, model: StreamID, new_chunks: Mapping[str, Sequence[int]],
    *, feed_since: str | None = None,
) -> tuple[Lookups, dict[str, list[str]]]:
    """Start the node lookups of every document's new chunk streams now, one batch per document in order.

    Returns ({document: future}, {document: the stream ids looked up}); a stream the feed proves
    absent (``absent_by_feed`` from ``feed_since``) is answered None without a request. Done per
    document while planning, the lookups kept the writer waiting on a round trip per document
    (7.6 s of a fresh 10,000-chunk ingest); started together, the node answers them while the
    first documents are signed. The first lookup goes alone: with the node unreachable nothing
    is started (and ``adopt_streams`` finds the chunks unchecked as before).
    """
    ids = {doc: [chunk_stream_id(signer.did, model, doc, index) for index in indexes] for doc, indexes in new_chunks.items() if indexes}
    if not ids or client.unreachable:
        return {}, {}
    absent = absent_by_feed(client, [i for stream_ids in ids.values() for i in stream_ids], feed_since)
    if absent is None:
        first = next(iter(ids.values()))[0]
        if isinstance(client.get_streams([first])[0], NodeUnreachable):
            return {}, {}
        absent = set()
    return {doc: _answers(client, stream_ids, absent) for doc, stream_ids in ids.items()}, ids


def _answers(client: CeramicClient, stream_ids: list[str], absent: set[str]) -> Future[list[StreamState | None | CeramicError]]:
    """One future of answers in ``stream_ids`` order: None for the absent ones, the node's for the rest."""
    asked = [i for i in stream_ids if i not in absent]
    answers: Future[list[StreamState | None | CeramicError]] = Future()
    if not asked:
        answers.set_result([None] * len(stream_ids))
        return answers

    def merge(done: Future) -> None:
        if done.exception() is not None:
            answers.set_exception(done.exception())
            return
        got = dict(zip(asked, done.result()))
        answers.set_result([got.get(i) for i in stream_ids])

    client.start_get_streams(asked).add_done_callback(merge)
    return answers


def adopt_streams(
    client: CeramicClient, signer: DIDKey, model: StreamID, document_id: str, chunk_indexes: Sequence[int],
    pins: Mapping[int, list[dict[str, Any]]], looked_up: Mapping[str, StreamState | None | CeramicError] | None = None,
) -> Adoption:
    """Look up each chunk index's StreamID on the node (bounded concurrency); adopt what it holds.

    A chunk whose node stream does not verify, or is not ours, lands in ``failed`` and must not
    be written (a new event would fork or extend a stream we cannot vouch for). With the node
    unreachable (or a lookup still failing after its retries) the indexes land in ``unchecked``:
    their inits are queued so that the publisher looks them up before posting. Nothing is raised.
    """
    result = Adoption()
    stream_ids = {index: chunk_stream_id(signer.did, model, document_id, index) for index in chunk_indexes}
    looked_up = looked_up or {}
    ask = [i for i in chunk_indexes if stream_ids[i] not in looked_up]  # not started ahead (look_up_ahead)
    # The first lookup goes alone: if the node is unreachable, nothing else is sent its way.
    first = client.get_streams([stream_ids[ask[0]]]) if ask else []
    if first and isinstance(first[0], NodeUnreachable):
        result.unchecked.update(ask)
        first, ask = [], []
    rest = client.get_streams([stream_ids[i] for i in ask[1:]]) if len(ask) > 1 else []  # concurrent GETs
    answers = dict(zip((stream_ids[i] for i in ask), first + rest))
    states = [looked_up.get(stream_ids[i], answers.get(stream_ids[i])) for i in chunk_indexes]
    for index, state in zip(chunk_indexes, states):
        if index in result.unchecked:
            continue
        if state is None:
            continue  # a new stream (the usual case: one GET, nothing more)
        if isinstance(state, CeramicUnavailable):  # down, or still failing after retries: the publisher looks again
            result.unchecked.add(index)
            continue
        try:
            if isinstance(state, CeramicError):
                raise state
            back = read_back(client, stream_ids[index], state=state)  # rare: walk and verify the node's chain
        except CeramicUnavailable:
            result.unchecked.add(index)
            continue
        except (CeramicError, EventError) as exc:
            result.failed[index] = f"{document_id}#{index}: the node's stream could not be adopted: {exc}"
            continue
        problem = _not_ours(back, signer, model)
        if problem:
            result.failed[index] = f"{document_id}#{index}: the node's stream {back.stream_id} {problem}"
            continue
        result.rows[index] = _row(back, signer, model, document_id, index, pins.get(index, []))
        result.events += [
            OutboxEvent(str(e.cid), back.stream_id, i, "init" if i == 0 else "data", e.car)
            for i, e in enumerate(back.events)
        ]
    return result


def _not_ours(back: ReadBack, signer: DIDKey, model: StreamID) -> str | None:
    if back.controller != signer.did:
        return f"is controlled by {back.controller}"
    if back.events[0].model != model:
        return f"belongs to model {back.events[0].model}"
    if back.content is not None and not isinstance(back.content, dict):
        return "holds content that is not an object"
    return None


def _row(back: ReadBack, signer: DIDKey, model: StreamID, document_id: str, index: int, pins: list[dict[str, Any]]) -> StreamRow:
    content = back.content or None
    text_cid = content.get("textCid") if content else None
    return StreamRow(
        stream_id=back.stream_id,
        latest_cid=back.tip,
        version=len(back.events),
        signer_did=signer.did,
        model_id=str(model),
        document_id=document_id,
        chunk_index=index,
        content_sha256=content_sha256(content) if content else NO_CONTENT_SHA256,
        ipfs_pins=[p for p in pins if text_cid and p.get("cid") == text_cid],
        stream_metadata={"content": content} if content else {},
        status="removed" if content and content.get("removed") else "active",
    )
