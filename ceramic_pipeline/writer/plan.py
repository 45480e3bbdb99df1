"""Plan the events that bring a document's chunk streams up to date.

A chunk's stream is a set-relation MID keyed by (documentId, chunkIndex), so its StreamID is
known before anything is posted: new chunks get an init plus a first data event, changed
chunks one data event patching the previous content, vanished chunks a data event marking
them removed, and unchanged chunks nothing at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ceramic_pipeline.ceramic.cid import CID
from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.ceramic.events import Event, data_event
from ceramic_pipeline.ceramic.identifiers import StreamID
from ceramic_pipeline.ceramic.model import DOCLING_CHUNK_MODEL, mid_stream_id, set_init_event
from ceramic_pipeline.ceramic.patch import diff
from ceramic_pipeline.storage.chunks import ChunkRow
from ceramic_pipeline.storage.outbox import OutboxEvent
from ceramic_pipeline.storage.streams import StreamRow
from ceramic_pipeline.writer.content import chunk_content, content_sha256, removed_content

SET_FIELDS: list[str] = DOCLING_CHUNK_MODEL["accountRelation"]["fields"]


@dataclass(frozen=True)
class StreamWrite:
    stream_id: str
    chunk_index: int
    change: str  # created | updated | removed | unchanged
    events: list[OutboxEvent] = field(default_factory=list)
    row: StreamRow | None = None  # the stream's row after the events; None when unchanged


def chunk_stream_id(controller: str, model: StreamID, document_id: str, chunk_index: int) -> str:
    init = set_init_event(controller, model, SET_FIELDS, {"documentId": document_id, "chunkIndex": chunk_index})
    return str(mid_stream_id(init))


def _outbox(stream_id: str, first_position: int, events: Sequence[Event]) -> list[OutboxEvent]:
    return [
        OutboxEvent(str(e.cid), stream_id, first_position + i, "init" if first_position + i == 0 else "data", e.car)
        for i, e in enumerate(events)
    ]


def plan_document(
    signer: DIDKey,
    model: StreamID,
    document_id: str,
    chunks: Sequence[ChunkRow],
    existing: Mapping[int, StreamRow],
    pins: Mapping[int, list[dict[str, Any]]],
    now: str,
) -> list[StreamWrite]:
    """One :class:`StreamWrite` per chunk index, current or previously published."""
    writes: list[StreamWrite] = []
    for chunk in chunks:
        before = existing.get(chunk.chunk_index)
        previous = before.stream_metadata.get("content") if before else None
        created_at = previous["createdAt"] if previous else now
        content = chunk_content(chunk, created_at=created_at, updated_at=now)
        digest = content_sha256(content)
        if before and before.content_sha256 == digest and before.status == "active":
            writes.append(StreamWrite(before.stream_id, chunk.chunk_index, "unchanged"))
            continue
        if before is None:
            init = set_init_event(signer.did, model, SET_FIELDS, content)
            stream_id = str(mid_stream_id(init))
            events = [init, data_event(signer, init=init.cid, prev=init.cid, patch=diff(None, content))]
            position, change = 0, "created"
        else:
            stream_id = before.stream_id
            tip = CID.from_string(before.latest_cid)
            init_cid = StreamID.from_string(stream_id).cid
            events = [data_event(signer, init=init_cid, prev=tip, patch=diff(previous, content))]
            position, change = before.version, "updated"
        writes.append(_write(signer, model, stream_id, chunk.chunk_index, change, position, events, content, digest, before, pins.get(chunk.chunk_index, [])))
    current = {c.chunk_index for c in chunks}
    for index, before in sorted(existing.items()):
        if index in current or before.status != "active":
            continue
        previous = before.stream_metadata["content"]
        content = removed_content(previous, updated_at=now)
        init_cid = StreamID.from_string(before.stream_id).cid
        event = data_event(signer, init=init_cid, prev=CID.from_string(before.latest_cid), patch=diff(previous, content))
        writes.append(
            _write(signer, model, before.stream_id, index, "removed", before.version, [event], content,
                   content_sha256(content), before, before.ipfs_pins, status="removed")
        )
    return writes


def _write(
    signer: DIDKey, model: StreamID, stream_id: str, index: int, change: str, position: int,
    events: list[Event], content: dict[str, Any], digest: str, before: StreamRow | None,
    pins: list[dict[str, Any]], status: str = "active",
) -> StreamWrite:
    row = StreamRow(
        stream_id=stream_id,
        latest_cid=str(events[-1].cid),
        version=position + len(events),
        signer_did=signer.did,
        model_id=str(model),
        document_id=content["documentId"],
        chunk_index=index,
        content_sha256=digest,
        ipfs_pins=pins,
        stream_metadata={"content": content},  # controller and model have their own columns
        status=status,
    )
    return StreamWrite(stream_id, index, change, _outbox(stream_id, position, events), row)
