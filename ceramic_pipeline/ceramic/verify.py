"""Decode and verify event CARs the way ceramic-one does before it stores them.

Every block's CID is recomputed, every block must round-trip byte for byte, payloads may
carry only the fields the protocol defines, and a signed event's JWS must verify against
the key its ``kid`` names, with the init's controller equal to the signer.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ceramic_pipeline.ceramic import codec
from ceramic_pipeline.ceramic.car import CarError, decode_car
from ceramic_pipeline.ceramic.cid import CID, DAG_CBOR, DAG_JOSE
from ceramic_pipeline.ceramic.did import DIDError, b64url, verify_signature
from ceramic_pipeline.ceramic.identifiers import StreamID, StreamIDError

INIT_FIELDS = {"data", "header"}
INIT_HEADER_FIELDS = {"controllers", "model", "sep", "unique", "context", "shouldIndex", "modelVersion"}
DATA_FIELDS = {"id", "data", "prev", "header"}
DATA_HEADER_FIELDS = {"shouldIndex", "modelVersion"}
TIME_FIELDS = {"id", "prev", "proof", "path"}
PATCH_OPS = {"add", "remove", "replace", "move", "copy", "test"}


class EventError(ValueError):
    """An event the node would reject; ``str()`` is a one-line reason."""


class RoundTripError(EventError):
    pass


class SignatureError(EventError):
    pass


class UnexpectedFieldError(EventError):
    pass


class ControllerError(EventError):
    pass


@dataclass(frozen=True)
class DecodedEvent:
    cid: CID  # the event CID: envelope CID when signed
    kind: str  # "init" | "data" | "time"
    payload: dict[str, Any]
    signer: str | None  # DID of the signer, None for unsigned events
    car: bytes

    @property
    def init_cid(self) -> CID:
        return self.cid if self.kind == "init" else self.payload["id"]

    @property
    def prev(self) -> CID | None:
        return None if self.kind == "init" else self.payload["prev"]

    @property
    def header(self) -> dict[str, Any]:
        return self.payload.get("header") or {}

    @property
    def controller(self) -> str | None:
        return self.header["controllers"][0] if self.kind == "init" else None

    @property
    def model(self) -> StreamID | None:
        return StreamID.from_bytes(self.header["model"]) if self.kind == "init" else None


def _strict(data: bytes, what: str) -> Any:
    try:
        return codec.decode(data)
    except codec.DagCborError as exc:
        raise RoundTripError(f"Event bytes do not round-trip ({what}): {exc}") from None


def _only(fields: set[str], value: dict, allowed: set[str], what: str) -> None:
    extra = fields - allowed
    if extra:
        raise UnexpectedFieldError(f"unexpected field(s) in {what}: {', '.join(sorted(extra))}")


def _classify(payload: Any) -> str:
    if not isinstance(payload, dict):
        raise EventError("event payload is not a map")
    keys = set(payload)
    if "header" in keys and "id" not in keys:
        _only(keys, payload, INIT_FIELDS, "init payload")
        if keys != INIT_FIELDS:
            raise EventError("init payload needs both data and header")
        header = payload["header"]
        if not isinstance(header, dict):
            raise EventError("init header is not a map")
        _only(set(header), header, INIT_HEADER_FIELDS, "init header")
        controllers = header.get("controllers")
        if not (isinstance(controllers, list) and len(controllers) == 1 and isinstance(controllers[0], str)):
            raise EventError("init header needs exactly one controller")
        if header.get("sep") != "model" or not isinstance(header.get("model"), bytes):
            raise EventError("init header needs sep 'model' and model StreamID bytes")
        try:
            StreamID.from_bytes(header["model"])
        except StreamIDError as exc:
            raise EventError(f"init header model: {exc}") from None
        return "init"
    if "proof" in keys:
        _only(keys, payload, TIME_FIELDS, "time event")
        return "time"
    _only(keys, payload, DATA_FIELDS, "data payload")
    if not (isinstance(payload.get("id"), CID) and isinstance(payload.get("prev"), CID)):
        raise EventError("data payload needs id and prev links")
    if "header" in payload:
        header = payload["header"]
        if not isinstance(header, dict):
            raise EventError("data header is not a map")
        _only(set(header), header, DATA_HEADER_FIELDS, "data header")
    ops = payload.get("data")
    if not isinstance(ops, list) or not all(isinstance(op, dict) and op.get("op") in PATCH_OPS and isinstance(op.get("path"), str) for op in ops):
        raise EventError("data payload must carry a JSON patch (a list of RFC 6902 operations)")
    return "data"


def _verify_jws(envelope: dict[str, Any], payload_cid: CID) -> str:
    signatures = envelope["signatures"]
    if not isinstance(signatures, list) or len(signatures) != 1:
        raise SignatureError("Event had invalid signature: exactly one JWS signature expected")
    sig = signatures[0]
    if not isinstance(sig, dict):
        raise SignatureError("Event had invalid signature: malformed signature entry")
    _only(set(sig), sig, {"protected", "signature"}, "JWS signature")
    protected, signature = sig.get("protected"), sig.get("signature")
    if not isinstance(protected, bytes) or not isinstance(signature, bytes):
        raise SignatureError("Event had invalid signature: protected header and signature must be bytes")
    try:
        header = json.loads(protected)
    except ValueError:
        raise SignatureError("Event had invalid signature: protected header is not JSON") from None
    if not isinstance(header, dict) or header.get("alg") != "EdDSA" or not isinstance(header.get("kid"), str):
        raise SignatureError("Event had invalid signature: protected header needs alg EdDSA and a kid")
    _only(set(header), header, {"alg", "kid", "cap"}, "JWS protected header")
    if "cap" in header:
        raise SignatureError("Event had invalid signature: CACAO capabilities are not supported")
    # ceramic-one rebuilds the signing input with *standard* base64 for the header; the SDK
    # signs base64url. They agree only when the header's base64 has no '+' or '/'.
    protected_b64 = b64url(protected)
    if base64.b64encode(protected).rstrip(b"=") != protected_b64:
        raise SignatureError("Event had invalid signature: protected header base64 differs from base64url")
    signer = header["kid"].split("#", 1)[0]
    try:
        ok = verify_signature(signer, protected_b64 + b"." + b64url(payload_cid.bytes), signature)
    except DIDError as exc:
        raise SignatureError(f"Event had invalid signature: {exc}") from None
    if not ok:
        raise SignatureError(f"Event had invalid signature: signature does not verify for {signer}")
    return signer


def decode_event(car: bytes) -> DecodedEvent:
    """Parse and verify one event CAR; raise an :class:`EventError` subclass on the first problem."""
    try:
        archive = decode_car(car)
    except CarError as exc:
        raise EventError(f"Failed to parse event CAR: {exc}") from None
    root = archive.roots[0]
    for cid, block in archive.blocks.items():
        if CID.for_block(cid.codec, block) != cid:
            raise EventError(f"block {cid} does not hash to its CID")
    if root not in archive.blocks:
        raise EventError(f"CAR root block {root} is missing")
    if root.codec == DAG_JOSE:
        envelope = _strict(archive.blocks[root], "envelope")
        if not isinstance(envelope, dict):
            raise EventError("envelope is not a map")
        _only(set(envelope), envelope, {"payload", "signatures"}, "envelope")
        if set(envelope) != {"payload", "signatures"} or not isinstance(envelope["payload"], bytes):
            raise EventError("envelope needs payload (CID bytes) and signatures")
        try:
            payload_cid = CID.from_bytes(envelope["payload"])
        except ValueError as exc:
            raise EventError(f"envelope payload is not a CID: {exc}") from None
        if payload_cid not in archive.blocks:
            raise EventError(f"payload block {payload_cid} is missing from the CAR")
        payload = _strict(archive.blocks[payload_cid], "payload")
        kind = _classify(payload)
        signer = _verify_jws(envelope, payload_cid)
        if kind == "init" and payload["header"]["controllers"][0] != signer:
            raise ControllerError(
                f"invalid_jws: '{signer}' not in controllers list for issuer: '{payload['header']['controllers'][0]}'"
            )
        return DecodedEvent(root, kind, payload, signer, car)
    if root.codec == DAG_CBOR:
        payload = _strict(archive.blocks[root], "payload")
        kind = _classify(payload)
        if kind == "data":
            raise SignatureError("Event had invalid signature: data events must be signed")
        return DecodedEvent(root, kind, payload, None, car)
    raise EventError(f"unsupported root codec 0x{root.codec:x}")


def check_chain(events: Sequence[DecodedEvent]) -> None:
    """Check that ``events`` form one stream in order: an init, then each event's ``prev`` is the one before."""
    if not events or events[0].kind != "init":
        raise EventError("a stream starts with its init event")
    init = events[0].cid
    for before, event in zip(events, events[1:]):
        if event.kind == "init":
            raise EventError(f"second init event {event.cid} in stream")
        if event.init_cid != init:
            raise EventError(f"event {event.cid} belongs to stream init {event.init_cid}, not {init}")
        if event.prev != before.cid:
            raise EventError(f"event {event.cid} has prev {event.prev}, expected {before.cid}")
