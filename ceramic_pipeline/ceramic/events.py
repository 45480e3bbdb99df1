"""Ceramic events: signed (DAG-JOSE) and unsigned init events, signed data events, CAR and POST body.

Byte layout follows @ceramic-sdk/events 0.12.0 (see shared/ceramic-protocol.md §2):
payload block first, then the envelope; the envelope CID is the event CID and the CAR root.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import libipld

from ceramic_pipeline.ceramic import codec
from ceramic_pipeline.ceramic.car import encode_car
from ceramic_pipeline.ceramic.cid import CID, DAG_CBOR, DAG_JOSE
from ceramic_pipeline.ceramic.did import DIDKey, b64url
from ceramic_pipeline.ceramic.identifiers import StreamID, StreamType

# The largest block an event may have, in bytes: @ceramic-sdk/events 0.12.0 src/utils.ts
# MAX_BLOCK_SIZE (256000); its restrictBlockSize rejects a payload, envelope or CACAO block
# with byteLength > MAX_BLOCK_SIZE when encoding an event to a CAR. See shared/ceramic-protocol.md §1.
MAX_BLOCK_SIZE = 256_000


class EventBlockTooLarge(ValueError):
    """An event block over :data:`MAX_BLOCK_SIZE`; raised before the event is signed."""

    def __init__(self, size: int) -> None:
        super().__init__(f"event block of {size} bytes exceeds the {MAX_BLOCK_SIZE}-byte limit (@ceramic-sdk/events MAX_BLOCK_SIZE)")
        self.size = size


def check_block_size(block: bytes) -> None:
    """Raise :class:`EventBlockTooLarge` when ``block`` is over :data:`MAX_BLOCK_SIZE` bytes (the SDK's rule)."""
    if len(block) > MAX_BLOCK_SIZE:
        raise EventBlockTooLarge(len(block))


@dataclass(frozen=True, slots=True)
class Event:
    """One event ready to post: its CID (the ``prev`` of the next event), its blocks and its CAR."""

    cid: CID
    payload: dict[str, Any]
    blocks: tuple[tuple[CID, bytes], ...]
    car: bytes  # every event is posted or stored as a CAR, so it is built with the event

    def post_body(self) -> dict[str, str]:
        """The JSON body of ``POST /ceramic/events`` as the SDK sends it (``m`` = base64, no padding)."""
        return {"data": car_to_multibase(self.car)}

    @property
    def is_signed(self) -> bool:
        return self.cid.codec == DAG_JOSE


def _event(cid: CID, payload: dict[str, Any], blocks: tuple[tuple[CID, bytes], ...]) -> Event:
    return Event(cid, payload, blocks, encode_car([cid], blocks))


def car_to_multibase(car: bytes) -> str:
    return libipld.encode_multibase("m", car)


def sign_event(signer: DIDKey, payload: dict[str, Any]) -> Event:
    """Sign ``payload`` as a DAG-JOSE JWS over its CID (general form, one signature).

    Raises :class:`EventBlockTooLarge` before signing when the payload block is over the SDK's limit.
    """
    payload_bytes = codec.encode(payload)
    check_block_size(payload_bytes)  # the envelope is ~200 bytes whatever the payload
    payload_cid = CID.for_block(DAG_CBOR, payload_bytes)
    signature = signer.sign(signer.protected_b64url + b"." + b64url(payload_cid.bytes))
    envelope = envelope_bytes(payload_cid, signer.protected, signature)
    envelope_cid = CID.for_block(DAG_JOSE, envelope)
    return _event(envelope_cid, payload, ((payload_cid, payload_bytes), (envelope_cid, envelope)))


# {"payload": <bytes>, "signatures": [{"protected": <bytes>, "signature": <bytes>}]}, keys in canonical order.
_ENVELOPE_HEAD = b"\xa2" + codec.encode("payload")
_SIGNATURES_HEAD = codec.encode("signatures") + b"\x81\xa2" + codec.encode("protected")
_SIGNATURE_KEY = codec.encode("signature")


def envelope_bytes(payload_cid: CID, protected: bytes, signature: bytes) -> bytes:
    """The DAG-JOSE envelope block (general JWS, one signature; ``link`` is derived, not stored)."""
    return b"".join((
        _ENVELOPE_HEAD, codec.bytes_item(payload_cid.bytes),
        _SIGNATURES_HEAD, codec.bytes_item(protected), _SIGNATURE_KEY, codec.bytes_item(signature),
    ))


def unsigned_event(payload: dict[str, Any]) -> Event:
    """An unsigned event: one DAG-CBOR block; raises :class:`EventBlockTooLarge` over the SDK's limit."""
    data = codec.encode(payload)
    check_block_size(data)
    cid = CID.for_block(DAG_CBOR, data)
    return _event(cid, payload, ((cid, data),))


def init_header(
    *,
    controller: str,
    model: StreamID,
    unique: bytes | None = None,
    context: StreamID | None = None,
    should_index: bool | None = None,
    model_version: CID | None = None,
) -> dict[str, Any]:
    header: dict[str, Any] = {"controllers": [controller], "model": model.bytes, "sep": "model"}
    if unique is not None:
        header["unique"] = unique
    if context is not None:
        header["context"] = context.bytes
    if should_index is not None:
        header["shouldIndex"] = should_index
    if model_version is not None:
        header["modelVersion"] = model_version
    return header


def signed_init_event(signer: DIDKey, content: Any, header: dict[str, Any]) -> Event:
    return sign_event(signer, {"data": content, "header": header})


def deterministic_init_event(header: dict[str, Any]) -> Event:
    """Unsigned init with ``data: null``: its CID depends only on the header (set/single MIDs)."""
    return unsigned_event({"data": None, "header": header})


def data_event(
    signer: DIDKey, *, init: CID, prev: CID, patch: list[dict[str, Any]], header: dict[str, Any] | None = None
) -> Event:
    """A signed update carrying an RFC 6902 patch; the SDK omits an empty header."""
    payload: dict[str, Any] = {"id": init, "data": patch, "prev": prev}
    if header:
        payload["header"] = header
    return sign_event(signer, payload)


def stream_id_for(stream_type: StreamType, init_event: Event) -> StreamID:
    return StreamID(int(stream_type), init_event.cid)
