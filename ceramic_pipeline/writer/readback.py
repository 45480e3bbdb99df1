"""Read a stream back from the node and check it: signatures, CIDs, the prev chain, content."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ceramic_pipeline.ceramic.client import CeramicClient, StreamState
from ceramic_pipeline.ceramic.verify import DecodedEvent, EventError, check_chain, decode_event


@dataclass(frozen=True)
class ReadBack:
    stream_id: str
    events: list[DecodedEvent]  # init first
    controller: str
    signers: set[str]
    content: Any
    tip: str


def read_back(
    client: CeramicClient, stream_id: str, *, max_events: int = 10_000, state: StreamState | None = None
) -> ReadBack:
    """Walk the stream from its tip to its init via ``prev``; raise EventError on any flaw.

    ``state`` is the node's stream state when the caller already fetched it.
    """
    state = state if state is not None else client.get_stream(stream_id)
    if state is None:
        raise EventError(f"stream {stream_id} is unknown to the node")
    chain: list[DecodedEvent] = []
    cid: str | None = state.event_cid
    while cid is not None:
        if len(chain) >= max_events:
            raise EventError(f"stream {stream_id} has more than {max_events} events")
        car = client.get_event(cid)
        if car is None:
            raise EventError(f"event {cid} of stream {stream_id} is missing on the node")
        event = decode_event(car)  # verifies CIDs, round-trip bytes and the signature
        if str(event.cid) != cid:
            raise EventError(f"node returned event {event.cid} for {cid}")
        chain.append(event)
        cid = str(event.prev) if event.prev is not None else None
    chain.reverse()
    check_chain(chain)
    controller = chain[0].controller or ""
    signers = {e.signer for e in chain if e.signer}
    if signers - {controller}:
        raise EventError(f"stream {stream_id} has events signed by {sorted(signers - {controller})}, not its controller {controller}")
    return ReadBack(stream_id, chain, controller, signers, state.content, state.event_cid)
