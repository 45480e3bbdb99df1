"""The 256,000-byte event block limit sits exactly where the official SDK puts it (restrictBlockSize)."""

from __future__ import annotations

import pytest

from ceramic_pipeline.ceramic import codec
from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.ceramic.events import MAX_BLOCK_SIZE, EventBlockTooLarge, init_header, signed_init_event
from ceramic_pipeline.ceramic.identifiers import StreamID
from ceramic_pipeline_tests.conformance.test_sdk_conformance import FIXED_MODEL

SEED = b"\x09" * 32
UNIQUE = b"block-limit!"


def _content_of_payload_size(header: dict, size: int) -> dict:
    """A list-MID content whose signed init payload block is exactly ``size`` bytes."""
    base = len(codec.encode({"data": {"t": ""}, "header": header}))
    text_len = size - base - 4  # a text of 65,536+ bytes has a 5-byte DAG-CBOR head instead of 1
    content = {"t": "x" * text_len}
    assert len(codec.encode({"data": content, "header": header})) == size
    return content


def test_a_payload_block_of_256000_bytes_is_signed_by_both_and_one_more_byte_by_neither(sdk):
    signer = DIDKey.from_seed(SEED)
    model = StreamID.from_string(FIXED_MODEL)
    header = init_header(controller=signer.did, model=model, unique=UNIQUE)
    request = {"model": FIXED_MODEL, "unique_hex": UNIQUE.hex()}

    at_limit = _content_of_payload_size(header, MAX_BLOCK_SIZE)
    ours = signed_init_event(signer, at_limit, header)
    assert len(ours.blocks[0][1]) == MAX_BLOCK_SIZE == 256_000
    theirs = sdk.request("build", seed_hex=SEED.hex(), list={**request, "content": at_limit})["list"]
    assert theirs["car_hex"] == ours.car.hex()

    over = _content_of_payload_size(header, MAX_BLOCK_SIZE + 1)
    reply = sdk.call("build", seed_hex=SEED.hex(), list={**request, "content": over})
    assert not reply["ok"] and "exceeds the maximum block size of 256000" in reply["error"]
    with pytest.raises(EventBlockTooLarge) as raised:
        signed_init_event(signer, over, header)
    assert raised.value.size == 256_001
