"""Helpers for the write-path tests: synthetic chunks, a request counter inside the devnode, outbox views."""

from __future__ import annotations

import hashlib
import socket
from collections import Counter
from collections.abc import Callable
from typing import Any

import psycopg

from ceramic_pipeline.ceramic import codec
from ceramic_pipeline.ceramic.car import decode_car, encode_car
from ceramic_pipeline.ceramic.cid import CID, DAG_CBOR, DAG_JOSE
from ceramic_pipeline.ceramic.client import CeramicClient
from ceramic_pipeline.devnode.runner import DevNode
from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.storage.chunks import ChunkRow
from ceramic_pipeline.storage.streams import StreamRow
from ceramic_pipeline.writer.content import content_sha256
from ceramic_pipeline.writer.models import ensure_model
from ceramic_pipeline.writer.publisher import publish_outbox
from ceramic_pipeline.writer.readback import ReadBack, read_back


def chunk(document_id: str, index: int, text: str | None = None) -> ChunkRow:
    text = text if text is not None else f"{document_id} chunk {index}: glaze, kiln and clay notes."
    return ChunkRow(
        document_id=document_id, chunk_index=index, text=text, text_cid=None,
        text_sha256=hashlib.sha256(text.encode()).hexdigest(), text_bytes=len(text.encode()),
        headings=[f"Section {index // 10}"], pages=[index // 5 + 1], source=f"{document_id}.pdf",
        partition_key=document_id,
    )


def document_chunks(document_id: str, count: int) -> list[ChunkRow]:
    return [chunk(document_id, i) for i in range(count)]


class RequestCounter:
    """ASGI middleware counting the requests that reach the node's app, by (method, path).

    It sits inside the fault injector, so it counts what the node really handled (an injected
    500 or a connection dropped before handling never reaches it). Attribute lookups fall
    through to the wrapped app, so ``DevNode.aggregator`` keeps working.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.counts: Counter[tuple[str, str]] = Counter()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.counts[(scope["method"], scope["path"])] += 1
        await self.app(scope, receive, send)

    @property
    def event_posts(self) -> int:
        return self.counts[("POST", "/ceramic/events")]


def count_requests(node: DevNode) -> RequestCounter:
    """Put a :class:`RequestCounter` in front of the node's routes (works while the node runs)."""
    counter = RequestCounter(node.app.app)
    node.app.app = counter
    return counter


def node_event_cids(node: DevNode) -> list[str]:
    """Every event the node stored, in delivery order."""
    return [str(e.cid) for e in node.store.since(0, 1_000_000)]


def outbox_rows(conn: psycopg.Connection) -> dict[str, tuple[str, int, str, str | None]]:
    """{event_cid: (stream_id, position, status, last_error)} for the whole outbox."""
    rows = conn.execute("SELECT event_cid, stream_id, position, status, last_error FROM ceramic_events")
    return {cid: (sid, pos, status, err) for cid, sid, pos, status, err in rows}


def stream_rows(conn: psycopg.Connection) -> dict[str, StreamRow]:
    from ceramic_pipeline.storage.streams import COLUMNS

    return {r[0]: StreamRow(*r) for r in conn.execute(f"SELECT {', '.join(COLUMNS)} FROM ceramic_streams")}


def assert_matches_node(client: CeramicClient, row: StreamRow) -> ReadBack:
    """The node holds exactly what the row says we wrote: verified chain, tip, version, content hash."""
    back = read_back(client, row.stream_id)  # signatures, CIDs and the prev chain verified
    assert back.tip == row.latest_cid, row.stream_id
    assert len(back.events) == row.version, row.stream_id
    assert back.controller == row.signer_did
    assert content_sha256(back.content) == row.content_sha256, row.stream_id
    return back


def tampered(car: bytes, patch: list[dict[str, Any]]) -> bytes:
    """A signed data event's CAR with its patch swapped after signing: the JWS no longer verifies."""
    archive = decode_car(car)
    envelope = codec.decode(archive.blocks[archive.roots[0]])
    payload = codec.decode(archive.blocks[CID.from_bytes(envelope["payload"])])
    payload_bytes = codec.encode({**payload, "data": patch})
    payload_cid = CID.for_block(DAG_CBOR, payload_bytes)
    envelope_bytes = codec.encode({**envelope, "payload": payload_cid.bytes})
    envelope_cid = CID.for_block(DAG_JOSE, envelope_bytes)
    return encode_car([envelope_cid], [(payload_cid, payload_bytes), (envelope_cid, envelope_bytes)])
