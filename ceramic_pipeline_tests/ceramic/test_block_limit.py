"""Event blocks over the SDK's 256,000-byte limit are refused before anything is signed."""

from __future__ import annotations

import pytest

from ceramic_pipeline.ceramic import codec
from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.ceramic.events import MAX_BLOCK_SIZE, EventBlockTooLarge, check_block_size, sign_event, unsigned_event


class CountingSigner:
    """A real DIDKey that counts how often it is asked to sign."""

    def __init__(self, key: DIDKey) -> None:
        self.key, self.signatures = key, 0

    def __getattr__(self, name):
        return getattr(self.key, name)

    def sign(self, data: bytes) -> bytes:
        self.signatures += 1
        return self.key.sign(data)


def payload_of_size(size: int) -> dict:
    payload = {"data": "x" * (size - 11)}  # map head 1, "data" 5, text head 5 (65,536+ bytes)
    assert len(codec.encode(payload)) == size
    return payload


def test_check_block_size_boundary():
    check_block_size(bytes(MAX_BLOCK_SIZE))
    with pytest.raises(EventBlockTooLarge) as raised:
        check_block_size(bytes(MAX_BLOCK_SIZE + 1))
    assert raised.value.size == 256_001 and "256000-byte limit" in str(raised.value)


def test_signed_event_at_the_limit_is_signed_and_one_byte_more_is_refused_before_signing():
    signer = CountingSigner(DIDKey.from_seed(b"block-limit-test-seed-32-bytes!!"))
    event = sign_event(signer, payload_of_size(MAX_BLOCK_SIZE))
    assert signer.signatures == 1 and len(event.blocks[0][1]) == MAX_BLOCK_SIZE
    with pytest.raises(EventBlockTooLarge):
        sign_event(signer, payload_of_size(MAX_BLOCK_SIZE + 1))
    assert signer.signatures == 1  # never asked to sign


def test_unsigned_event_boundary():
    assert len(unsigned_event(payload_of_size(MAX_BLOCK_SIZE)).blocks[0][1]) == MAX_BLOCK_SIZE
    with pytest.raises(EventBlockTooLarge):
        unsigned_event(payload_of_size(MAX_BLOCK_SIZE + 1))
