"""POST /events: the checks ceramic-one makes before it stores an event, with its error messages.

Order and wording follow ``rust-ceramic`` (api/src/server.rs ``post_events``,
api/src/server/event.rs ``event_id_from_car``, event-svc/src/event/store.rs): multibase,
then CAR parsing with byte-exact round-trip, then the init lookup for data events, then
signature/controller, then ``prev``. Schema and account-relation rules are *not* checked
here; they belong to the aggregator, as on the real node.
"""

from __future__ import annotations

import libipld

from ceramic_pipeline.ceramic import codec
from ceramic_pipeline.ceramic.car import CarError, decode_car
from ceramic_pipeline.ceramic.cid import CID
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


def accept(store: EventStore, car: bytes) -> bool:
    """Validate and store one event CAR; return True if it is new. Raises :class:`Rejected`."""
    event = _decode(store, car)
    with store.transaction():
        if store.get(event.cid) is not None:
            return False  # a re-post of a known event is a success
        if event.kind == "time":
            _init_controller(store, event.init_cid)
            raise Rejected("Failed to validate time event inclusion proof: the devnode does not verify anchor proofs")
        if event.kind == "data":
            controller = _init_controller(store, event.init_cid)
            if event.signer != controller:
                raise Rejected(f"{SIGNATURE}invalid_jws: '{event.signer}' not in controllers list for issuer: '{controller}'")
            prev = store.get(event.prev)
            # Stricter than ceramic-one, which only needs prev to exist: a prev from another
            # stream would make the aggregator patch the wrong document.
            if prev is None or prev.stream_cid != event.init_cid:
                raise Rejected(PREV_MISSING)
        return store.insert(event.cid, event.init_cid, event.kind, event.prev, car)
