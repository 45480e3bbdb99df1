"""POST /events: the checks ceramic-one makes before it stores an event, with its error messages.

Order and wording follow ``rust-ceramic`` (api/src/server.rs ``post_events``,
api/src/server/event.rs ``event_id_from_car``, event-svc/src/event/store.rs): multibase,
then CAR parsing with byte-exact round-trip, then the init lookup for data events, then
signature/controller, then ``prev``. Schema and account-relation rules are *not* checked
here; they belong to the aggregator, as on the real node.

One check ceramic-one does not make: every block of the CAR must be at most
:data:`MAX_BLOCK_SIZE` bytes, the limit the official SDK enforces when it encodes an event
(@ceramic-sdk/events ``utils.ts`` ``MAX_BLOCK_SIZE``/``restrictBlockSize``), so the tests see
oversize events fail as a client on the SDK would, instead of being stored.

:func:`accept` stores into the store's open transaction and advances the aggregator's
cache; the caller commits (``EventStore.commit``) before it acknowledges the event.
"""

from __future__ import annotations

import libipld

from ceramic_pipeline.ceramic import codec, varint
from ceramic_pipeline.ceramic.car import CarError, decode_car
from ceramic_pipeline.ceramic.events import MAX_BLOCK_SIZE  # the SDK limit; our writer checks the same
from ceramic_pipeline.ceramic.cid import CID, CIDError
from ceramic_pipeline.devnode.aggregator import Aggregator, CachedStream
from ceramic_pipeline.devnode.store import EventStore
from ceramic_pipeline.ceramic.verify import (
    ControllerError,
    DecodedEvent,
    EventError,
    SignatureError,
    UnexpectedFieldError,
    decode_event,
)

PARSE = "Failed to parse EventID from event CAR file data: "
SIGNATURE = "Event had invalid signature: "
PREV_MISSING = "Failed to insert event as `prev` event was missing"
ROUND_TRIP = "Event bytes do not round-trip. This most likely means the event contains unexpected fields."


class Rejected(ValueError):
    """An event the node answers with 400 ``{"message": str(self)}``."""


def multibase_bytes(text: str, what: str = "Invalid event data") -> bytes:
    """Decode any multibase text (ceramic-one uses ``multibase::decode``); the error reads like the Rust crate's."""
    try:
        return bytes(libipld.decode_multibase(text)[1])
    except ValueError as exc:
        reason = str(exc).removeprefix("Failed to decode multibase. ")
        raise Rejected(f"{what}: multibase error: {reason}") from None


def oversize_blocks(car: bytes) -> list[tuple[CID, int]]:
    """(CID, size) of each CAR block over :data:`MAX_BLOCK_SIZE` bytes; [] for a CAR it cannot frame
    (the full parse then reports that). Reads only the framing: sizes and CIDs, no hashing."""
    found: list[tuple[CID, int]] = []
    try:
        size, offset = varint.decode(car, 0)
        offset += size  # the header
        while offset < len(car):
            size, offset = varint.decode(car, offset)
            cid, body = CID.read(car, offset)
            if offset + size - body > MAX_BLOCK_SIZE:
                found.append((cid, offset + size - body))
            offset += size
    except (ValueError, CIDError, IndexError):
        return found
    return found


def _check_block_sizes(car: bytes) -> None:
    oversize = oversize_blocks(car)
    if oversize:
        cid, size = oversize[0]
        raise Rejected(
            f"Event block {cid} is {size} bytes, over the maximum block size of {MAX_BLOCK_SIZE} bytes"
            " (@ceramic-sdk/events MAX_BLOCK_SIZE)"
        )


def _data_init_cid(car: bytes) -> CID | None:
    """Best-effort ``id`` of a signed data event, read without verification."""
    try:
        archive = decode_car(car)
        envelope = codec.decode(archive.blocks[archive.roots[0]])
        payload = codec.decode(archive.blocks[CID.from_bytes(envelope["payload"])])
        if "header" not in payload and isinstance(payload.get("id"), CID):
            return payload["id"]
    except (CarError, ValueError, KeyError, TypeError, IndexError):
        pass
    return None


def _init_controller(store: EventStore, init_cid: CID) -> str:
    """The controller of a stored init event, or the Rust node's parse error."""
    stored = store.get(init_cid)
    if stored is None:
        raise Rejected(f"{PARSE}cannot find init event block {init_cid}")
    if stored.kind != "init":
        raise Rejected(f"{PARSE}init event payload is not well formed")
    controller = decode_event(stored.car).controller
    assert controller is not None
    return controller


def _decode(store: EventStore, car: bytes) -> DecodedEvent:
    try:
        return decode_event(car)
    except UnexpectedFieldError as exc:
        # Rust drops unknown fields while parsing, so they surface as a round-trip mismatch.
        raise Rejected(f"{PARSE}{ROUND_TRIP} ({exc})") from None
    except (SignatureError, ControllerError) as exc:
        # The Rust node resolves a data event's init before it looks at signatures.
        init = _data_init_cid(car)
        if init is not None:
            _init_controller(store, init)
        message = str(exc)
        raise Rejected(message if message.startswith(SIGNATURE) else SIGNATURE + message) from None
    except EventError as exc:
        raise Rejected(f"{PARSE}{exc}") from None


def _stream_of(states: Aggregator, store: EventStore, init_cid: CID) -> CachedStream:
    """The cached stream of a data event's init, or the Rust node's parse error."""
    entry = states.cached(init_cid)
    if entry is None:
        stored = store.get(init_cid)
        if stored is None:
            raise Rejected(f"{PARSE}cannot find init event block {init_cid}")
        raise Rejected(f"{PARSE}init event payload is not well formed")
    return entry


def accept(store: EventStore, states: Aggregator, car: bytes) -> bool:
    """Validate and store one event CAR (uncommitted) and advance ``states``; True if it is new.

    Raises :class:`Rejected` (nothing stored). With the cache on, a data event's init and
    ``prev`` come from the cached stream (checked when it was stored); with it off, from storage.
    """
    _check_block_sizes(car)
    event = _decode(store, car)
    with store.lock:
        if store.contains(event.cid):
            return False  # a re-post of a known event is a success
        if event.kind == "time":
            _init_controller(store, event.init_cid)
            raise Rejected("Failed to validate time event inclusion proof: the devnode does not verify anchor proofs")
        entry = None
        if event.kind == "data":
            if states.caching:
                entry = _stream_of(states, store, event.init_cid)
                controller = entry.init.controller
            else:
                controller = _init_controller(store, event.init_cid)
            if event.signer != controller:
                raise Rejected(f"{SIGNATURE}invalid_jws: '{event.signer}' not in controllers list for issuer: '{controller}'")
            if entry is None or event.prev != entry.head_cid:
                prev = store.get(event.prev)
                # Stricter than ceramic-one, which only needs prev to exist: a prev from another
                # stream would make the aggregator patch the wrong document.
                if prev is None or prev.stream_cid != event.init_cid:
                    raise Rejected(PREV_MISSING)
        new = store.insert(event.cid, event.init_cid, event.kind, event.prev, car)
        try:
            states.accepted(event, entry)
        except BaseException:
            states.forget(event.init_cid)  # never serve a state that misses a stored event
            raise
        return new
