"""Adopt chunk streams the node already holds but the database does not know: never fork.

A chunk's StreamID is a pure function of (controller, model, documentId, chunkIndex)
(``plan.chunk_stream_id``), so after the database was lost (or restored from an old backup)
the node may already hold a chunk's stream. Planning it as new would post a second data
event on the same init: a fork (issue 8, kind 6). Before planning, every chunk the database
has no row for is looked up on the node; a stream found there is read back and verified,
its events are recorded in the outbox as published, and its row is rebuilt from the node's
tip, version and content. Planning then continues that chain (or leaves it unchanged).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ceramic_pipeline.ceramic.client import CeramicClient, CeramicError, CeramicUnavailable, NodeUnreachable
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


def adopt_streams(
    client: CeramicClient, signer: DIDKey, model: StreamID, document_id: str, chunk_indexes: Sequence[int],
    pins: Mapping[int, list[dict[str, Any]]],
) -> Adoption:
    """Look up each chunk index's StreamID on the node (bounded concurrency); adopt what it holds.

    A chunk whose node stream does not verify, or is not ours, lands in ``failed`` and must not
    be written (a new event would fork or extend a stream we cannot vouch for). With the node
    unreachable (or a lookup still failing after its retries) the indexes land in ``unchecked``:
    their inits are queued so that the publisher looks them up before posting. Nothing is raised.
    """
    result = Adoption()
    stream_ids = {index: chunk_stream_id(signer.did, model, document_id, index) for index in chunk_indexes}
    # The first lookup goes alone: if the node is unreachable, nothing else is sent its way.
    first = client.get_streams([stream_ids[chunk_indexes[0]]]) if chunk_indexes else []
    if first and isinstance(first[0], NodeUnreachable):
        result.unchecked.update(chunk_indexes)
        return result
    states = first + client.get_streams([stream_ids[i] for i in chunk_indexes[1:]])  # concurrent GETs
    for index, state in zip(chunk_indexes, states):
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
