"""Plan the events that bring a document's chunk streams up to date.

A chunk's stream is a set-relation MID keyed by (documentId, chunkIndex), so its StreamID is
known before anything is posted: new chunks get an init plus a first data event, changed
chunks one data event patching the previous content, vanished chunks a data event marking
them removed, and unchanged chunks nothing at all.

Every content is checked against the DoclingChunk schema, and every event block against the
SDK's 256,000-byte limit, before it is signed. A chunk that fails either check gets no
event and no row; it becomes a :class:`ChunkError` while its sibling chunks are written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ceramic_pipeline.ceramic import codec
from ceramic_pipeline.ceramic.cid import CID
from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.ceramic.events import Event, EventBlockTooLarge, data_event
from ceramic_pipeline.ceramic.identifiers import StreamID
from ceramic_pipeline.ceramic.model import DOCLING_CHUNK_MODEL, content_errors, mid_stream_id, set_init_event
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


@dataclass(frozen=True)
class ChunkError:
    """A chunk whose content cannot be written: nothing was signed or recorded for it.

    ``field`` is a JSON Pointer into the DoclingChunk content (``/headings/3``; ``""`` for the
    whole content); ``reason`` names the broken rule, never the content.
    """

    document_id: str
    chunk_index: int
    field: str
    reason: str

    def __str__(self) -> str:
        doc = self.document_id if len(self.document_id) <= 120 else f"{self.document_id[:60]}... ({len(self.document_id)} chars)"
        return f"{doc!r} chunk {self.chunk_index}: {self.field or 'content'}: {self.reason}; not written"


@dataclass(frozen=True)
class DocumentPlan:
    writes: list[StreamWrite]  # one per chunk index that is written or unchanged
    errors: list[ChunkError]  # one per chunk that cannot be written


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
) -> DocumentPlan:
    """One :class:`StreamWrite` per chunk index, current or previously published, or a :class:`ChunkError`."""
    writes: list[StreamWrite] = []
    errors: list[ChunkError] = []
    for chunk in chunks:
        before = existing.get(chunk.chunk_index)
        previous = before.stream_metadata.get("content") if before else None
        created_at = previous["createdAt"] if previous else now
        content = chunk_content(chunk, created_at=created_at, updated_at=now)
        digest = content_sha256(content)
        if before and before.content_sha256 == digest and before.status == "active":
            writes.append(StreamWrite(before.stream_id, chunk.chunk_index, "unchanged"))
            continue
        problem = _content_problem(content)
        if problem:
            errors.append(ChunkError(document_id, chunk.chunk_index, *problem))
            continue
        try:
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
        except UNENCODABLE as exc:
            errors.append(ChunkError(document_id, chunk.chunk_index, *_encoding_problem(content, exc)))
            continue
        writes.append(_write(signer, model, stream_id, chunk.chunk_index, change, position, events, content, digest, before, pins.get(chunk.chunk_index, [])))
    current = {c.chunk_index for c in chunks}
    for index, before in sorted(existing.items()):
        if index in current or before.status != "active":
            continue
        previous = before.stream_metadata["content"]
        content = removed_content(previous, updated_at=now)
        problem = _content_problem(content)  # the removed marker is small; checked all the same
        if problem:
            errors.append(ChunkError(document_id, index, *problem))
            continue
        init_cid = StreamID.from_string(before.stream_id).cid
        try:
            event = data_event(signer, init=init_cid, prev=CID.from_string(before.latest_cid), patch=diff(previous, content))
        except UNENCODABLE as exc:
            errors.append(ChunkError(document_id, index, *_encoding_problem(content, exc)))
            continue
        writes.append(
            _write(signer, model, before.stream_id, index, "removed", before.version, [event], content,
                   content_sha256(content), before, before.ipfs_pins, status="removed")
        )
    return DocumentPlan(writes, errors)


def _content_problem(content: dict[str, Any]) -> tuple[str, str] | None:
    """The first (field, reason) by which ``content`` breaks the DoclingChunk schema, or None."""
    problems = content_errors(content)
    if not problems:
        return None
    field_, reason = problems[0]
    return field_, reason + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")


# Schema-valid content that still cannot become an event: a block over the SDK's limit, or text
# that is no valid Unicode (a lone surrogate: DAG-CBOR in the payload, UTF-8 in the ``unique`` header).
UNENCODABLE = (EventBlockTooLarge, codec.DagCborError, UnicodeEncodeError)


def _encoding_problem(content: dict[str, Any], exc: Exception) -> tuple[str, str]:
    """(field, reason) for an UNENCODABLE error; the reason never quotes the content."""
    sizes: dict[str, int] = {}
    for key, value in content.items():
        try:
            sizes[key] = len(codec.encode(value))
        except codec.DagCborError:
            return f"/{key}", "text is not valid Unicode (cannot be encoded as UTF-8)"
    if isinstance(exc, EventBlockTooLarge):  # name the field to shorten: the largest
        return "/" + max(sizes, key=sizes.__getitem__), str(exc)
    return "", "cannot be encoded as an event"


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
