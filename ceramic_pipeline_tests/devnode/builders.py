"""Events for devnode tests, built with the protocol core, plus tampering helpers for rejection tests."""

from __future__ import annotations

from typing import Any

import cbor2

from ceramic_pipeline.ceramic import codec
from ceramic_pipeline.ceramic.car import decode_car, encode_car
from ceramic_pipeline.ceramic.cid import CID, DAG_CBOR, DAG_JOSE
from ceramic_pipeline.ceramic.did import DIDKey, b64url
from ceramic_pipeline.ceramic.events import (
    Event,
    car_to_multibase,
    data_event,
    init_header,
    signed_init_event,
)
from ceramic_pipeline.ceramic.identifiers import StreamID, StreamType
from ceramic_pipeline.ceramic.model import (
    model_init_event,
    model_stream_id,
    set_init_event,
)

ALICE = DIDKey.from_seed(bytes(range(32)))
MALLORY = DIDKey.from_seed(b"\x07" * 32)

LIST_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {"title": {"type": "string", "maxLength": 20}, "n": {"type": "integer"}},
    "required": ["title"],
}


def definition(name: str, relation: dict[str, Any], schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "version": "2.0", "name": name, "interface": False, "implements": [],
        "accountRelation": relation, "schema": schema or LIST_SCHEMA,
    }


def body(event: Event | bytes) -> dict[str, str]:
    return {"data": car_to_multibase(event if isinstance(event, bytes) else event.car)}


def model(definition_: dict[str, Any], signer: DIDKey = ALICE) -> tuple[Event, StreamID]:
    event = model_init_event(signer, definition_)
    return event, model_stream_id(event)


def list_instance(model_id: StreamID, content: dict[str, Any], signer: DIDKey = ALICE, unique: bytes = b"\x01" * 12) -> tuple[Event, StreamID]:
    event = signed_init_event(signer, content, init_header(controller=signer.did, model=model_id, unique=unique))
    return event, StreamID(StreamType.MODEL_INSTANCE_DOCUMENT, event.cid)


def set_instance(model_id: StreamID, fields: list[str], content: dict[str, Any], signer: DIDKey = ALICE) -> tuple[Event, StreamID]:
    event = set_init_event(signer.did, model_id, fields, content)
    return event, StreamID(StreamType.MODEL_INSTANCE_DOCUMENT, event.cid)


def update(init: Event, prev: Event, ops: list[dict[str, Any]], signer: DIDKey = ALICE) -> Event:
    return data_event(signer, init=init.cid, prev=prev.cid, patch=ops)


# --- tampering -----------------------------------------------------------------------------

def _cbor_any_order(value: Any) -> bytes:
    """DAG-CBOR-like bytes that keep dict insertion order (so key order can be made non-canonical)."""

    def tagged(v: Any) -> Any:
        if isinstance(v, CID):
            return cbor2.CBORTag(42, b"\x00" + v.bytes)
        if isinstance(v, dict):
            return {k: tagged(x) for k, x in v.items()}
        if isinstance(v, list):
            return [tagged(x) for x in v]
        return v

    return cbor2.dumps(tagged(value))


def signed_car_from_payload_bytes(payload_bytes: bytes, signer: DIDKey, *, protected: bytes | None = None) -> bytes:
    """A correctly signed event CAR around arbitrary payload bytes (CIDs all consistent)."""
    payload_cid = CID.for_block(DAG_CBOR, payload_bytes)
    protected = protected or signer.protected
    signature = signer.sign(b64url(protected) + b"." + b64url(payload_cid.bytes))
    envelope = codec.encode({"payload": payload_cid.bytes, "signatures": [{"protected": protected, "signature": signature}]})
    envelope_cid = CID.for_block(DAG_JOSE, envelope)
    return encode_car([envelope_cid], [(payload_cid, payload_bytes), (envelope_cid, envelope)])


def reordered_keys(event: Event, signer: DIDKey = ALICE) -> bytes:
    """The same payload with ``header`` written before ``data``: valid CIDs and signature, no round-trip."""
    payload = dict(reversed(list(event.payload.items())))
    return signed_car_from_payload_bytes(_cbor_any_order(payload), signer)


def with_extra_header_field(event: Event, signer: DIDKey = ALICE) -> bytes:
    payload = {**event.payload, "header": {**event.payload["header"], "foo": "bar"}}
    return signed_car_from_payload_bytes(codec.encode(payload), signer)


def flipped_signature(event: Event) -> bytes:
    payload_block, (_envelope_cid, envelope_bytes) = event.blocks
    envelope = codec.decode(envelope_bytes)
    sig = bytearray(envelope["signatures"][0]["signature"])
    sig[10] ^= 0x01
    envelope["signatures"][0]["signature"] = bytes(sig)
    new_envelope = codec.encode(envelope)
    new_cid = CID.for_block(DAG_JOSE, new_envelope)
    return encode_car([new_cid], [payload_block, (new_cid, new_envelope)])


def wrong_kid(event: Event, signer: DIDKey, claimed: DIDKey) -> bytes:
    """Signed by ``signer`` but the JWS ``kid`` names ``claimed``'s key."""
    return signed_car_from_payload_bytes(event.blocks[0][1], signer, protected=claimed.protected)


def without_root_block(event: Event) -> bytes:
    return encode_car([event.cid], [event.blocks[0]])


def truncated(event: Event) -> bytes:
    return event.car[:-7]


def root_of(car: bytes) -> CID:
    return decode_car(car).roots[0]
