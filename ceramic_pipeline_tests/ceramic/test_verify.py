"""Verification rejects each kind of tampering with a specific error."""

from __future__ import annotations

import pytest

from ceramic_pipeline.ceramic import codec
from ceramic_pipeline.ceramic.car import CarError, decode_car, encode_car
from ceramic_pipeline.ceramic.cid import CID, DAG_CBOR, DAG_JOSE
from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.ceramic.events import Event, data_event, init_header, sign_event, signed_init_event
from ceramic_pipeline.ceramic.identifiers import StreamID
from ceramic_pipeline.ceramic.model import DOCLING_CHUNK_MODEL, model_init_event, model_stream_id, set_init_event
from ceramic_pipeline.ceramic.verify import (
    ControllerError,
    EventError,
    RoundTripError,
    SignatureError,
    UnexpectedFieldError,
    check_chain,
    decode_event,
)

ALICE = DIDKey.from_seed(bytes(range(32)))
MALLORY = DIDKey.from_seed(bytes([7]) * 32)
MODEL = model_stream_id(model_init_event(ALICE, DOCLING_CHUNK_MODEL))


def _list_init(signer: DIDKey = ALICE, controller: str | None = None) -> Event:
    header = init_header(controller=controller or signer.did, model=MODEL, unique=b"0123456789ab")
    return signed_init_event(signer, {"documentId": "d", "chunkIndex": 0}, header)


def _rebuild(payload_bytes: bytes | None = None, envelope: dict | None = None, event: Event | None = None) -> bytes:
    """Reassemble a signed event's CAR from (possibly tampered) blocks with CIDs recomputed."""
    event = event or _list_init()
    payload_bytes = payload_bytes if payload_bytes is not None else event.blocks[0][1]
    payload_cid = CID.for_block(DAG_CBOR, payload_bytes)
    env = envelope if envelope is not None else codec.decode(event.blocks[1][1])
    env = {**env, "payload": payload_cid.bytes}
    env_bytes = codec.encode(env)
    env_cid = CID.for_block(DAG_JOSE, env_bytes)
    return encode_car([env_cid], [(payload_cid, payload_bytes), (env_cid, env_bytes)])


def test_valid_event_decodes():
    event = _list_init()
    decoded = decode_event(event.car)
    assert decoded.kind == "init" and decoded.signer == ALICE.did and decoded.controller == ALICE.did
    assert decoded.model == MODEL


def test_tampered_signature():
    envelope = codec.decode(_list_init().blocks[1][1])
    sig = bytearray(envelope["signatures"][0]["signature"])
    sig[0] ^= 1
    envelope["signatures"][0]["signature"] = bytes(sig)
    with pytest.raises(SignatureError, match="does not verify"):
        decode_event(_rebuild(envelope=envelope))


def test_tampered_content_breaks_the_signature():
    event = _list_init()
    payload = dict(event.payload, data={"documentId": "d", "chunkIndex": 1})
    with pytest.raises(SignatureError, match="does not verify"):
        decode_event(_rebuild(payload_bytes=codec.encode(payload)))


def test_reordered_map_keys():
    payload_bytes = _list_init().blocks[0][1]
    # swap the top-level entries: {"data":…, "header":…} -> {"header":…, "data":…} (still valid CBOR)
    head = payload_bytes[:1]
    body = codec.decode(payload_bytes)
    data_part = codec.encode("data") + codec.encode(body["data"])
    header_part = codec.encode("header") + codec.encode(body["header"])
    reordered = head + header_part + data_part
    assert reordered != payload_bytes and sorted(reordered) == sorted(payload_bytes)
    with pytest.raises(RoundTripError, match="round-trip"):
        decode_event(_rebuild(payload_bytes=reordered))


def test_extra_field():
    event = _list_init()
    payload = dict(event.payload, extra=1)
    with pytest.raises(UnexpectedFieldError, match="extra"):
        decode_event(sign_event(ALICE, payload).car)
    envelope = codec.decode(event.blocks[1][1])
    envelope["link"] = b"x"
    with pytest.raises(UnexpectedFieldError, match="link"):
        decode_event(_rebuild(envelope=envelope))


def test_wrong_kid():
    """Signed by Mallory's key but claiming Alice's kid."""
    event = _list_init(MALLORY, controller=MALLORY.did)
    envelope = codec.decode(event.blocks[1][1])
    envelope["signatures"][0]["protected"] = ALICE.protected
    with pytest.raises(SignatureError, match=f"does not verify for {ALICE.did}"):
        decode_event(_rebuild(envelope=envelope, event=event))


def test_controller_must_be_the_signer():
    with pytest.raises(ControllerError, match="not in controllers list"):
        decode_event(_list_init(MALLORY, controller=ALICE.did).car)


@pytest.mark.parametrize("cut", [1, 10, 100])
def test_truncated_car(cut):
    car = _list_init().car
    with pytest.raises(EventError, match="CAR|missing"):
        decode_event(car[:-cut])


def test_a_non_canonical_car_header_is_refused_unless_not_strict():
    """ceramic-one requires canonical DAG-CBOR; the store-only bench node reads without checking."""
    event = _list_init()
    car = event.car
    size = car[0]  # a one-root header is shorter than 128 bytes: a one-byte varint
    header = codec.decode(car[1 : 1 + size])
    loose = b"\xa2" + codec.encode("version") + b"\x01" + codec.encode("roots") + b"\x81" + codec.link(header["roots"][0])
    reordered = bytes([len(loose)]) + loose + car[1 + size :]  # the same map, keys out of canonical order
    with pytest.raises(CarError, match="round-trip"):
        decode_car(reordered)
    assert decode_car(reordered, strict=False) == decode_car(car)


def test_missing_root_block():
    event = _list_init()
    car = encode_car([event.cid], [event.blocks[0]])
    with pytest.raises(EventError, match="root block .* is missing"):
        decode_event(car)


def test_block_that_does_not_hash_to_its_cid():
    event = _list_init()
    (pcid, pbytes), env = event.blocks
    car = encode_car([event.cid], [(pcid, pbytes[:-1] + b"\x00"), env])
    with pytest.raises(EventError, match="does not hash"):
        decode_event(car)


def test_unsigned_data_event_is_rejected():
    init = set_init_event(ALICE.did, MODEL, ["documentId", "chunkIndex"], {"documentId": "d", "chunkIndex": 0})
    payload_bytes = codec.encode({"id": init.cid, "data": [], "prev": init.cid})
    cid = CID.for_block(DAG_CBOR, payload_bytes)
    with pytest.raises(SignatureError, match="must be signed"):
        decode_event(encode_car([cid], [(cid, payload_bytes)]))


def test_chain_order():
    init = set_init_event(ALICE.did, MODEL, ["documentId", "chunkIndex"], {"documentId": "d", "chunkIndex": 0})
    first = data_event(ALICE, init=init.cid, prev=init.cid, patch=[{"op": "add", "path": "/a", "value": 1}])
    second = data_event(ALICE, init=init.cid, prev=first.cid, patch=[{"op": "replace", "path": "/a", "value": 2}])
    decoded = [decode_event(e.car) for e in (init, first, second)]
    check_chain(decoded)
    with pytest.raises(EventError, match="expected"):
        check_chain([decoded[0], decoded[2], decoded[1]])
    with pytest.raises(EventError, match="starts with its init"):
        check_chain(decoded[1:])


def test_stream_ids_of_set_instances_are_deterministic():
    content = {"documentId": "doc/a.json", "chunkIndex": 3}
    a = set_init_event(ALICE.did, MODEL, ["documentId", "chunkIndex"], content)
    b = set_init_event(ALICE.did, MODEL, ["documentId", "chunkIndex"], dict(content, text="other"))
    c = set_init_event(MALLORY.did, MODEL, ["documentId", "chunkIndex"], content)
    assert a.cid == b.cid != c.cid
    assert str(StreamID(3, a.cid)).startswith("k2t6wzhkhabz")
