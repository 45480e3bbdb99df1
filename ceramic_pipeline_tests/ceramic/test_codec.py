import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ceramic_pipeline.ceramic import codec
from ceramic_pipeline.ceramic.cid import CID, DAG_CBOR, RAW


def test_canonical_key_order_is_length_first():
    data = codec.encode({"zz": 1, "a": 2, "bb": 3, "aaa": 4})
    assert list(codec.decode(data)) == ["a", "bb", "zz", "aaa"]


def test_floats_are_always_64_bit():
    assert codec.encode(2.5).hex() == "fb4004000000000000"
    assert codec.encode({"x": 1.0}).hex() == "a16178fb3ff0000000000000"


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_rejected(bad):
    with pytest.raises(codec.DagCborError, match=r"\$\.a\.b"):
        codec.encode({"a": {"b": bad}})


def test_non_string_keys_are_rejected():
    with pytest.raises(codec.DagCborError, match="key 1"):
        codec.encode({"ok": {1: "x"}})
    with pytest.raises(codec.DagCborError, match="must be strings"):
        codec.encode({"link": CID.for_block(RAW, b""), 2: "x"})


def test_integers_outside_64_bits_are_rejected():
    codec.encode(2**64 - 1)
    codec.encode(-(2**64))
    with pytest.raises(codec.DagCborError):
        codec.encode(2**64)


def test_bytes_that_look_like_a_cid_stay_bytes():
    """libipld writes CID-shaped bytes as links; a signature or unique must never be mangled that way."""
    looks_like_cid = CID.for_block(DAG_CBOR, b"x").bytes
    data = codec.encode({"signature": looks_like_cid})
    assert b"\xd8\x2a" not in data
    assert codec.decode(data) == {"signature": looks_like_cid}


def test_links_round_trip():
    link = CID.for_block(DAG_CBOR, b"payload")
    value = {"id": link, "data": [{"op": "add", "path": "/a", "value": "x"}], "prev": link}
    data = codec.encode(value)
    assert data.count(b"\xd8\x2a\x58\x25\x00") == 2
    assert codec.decode(data) == value


@pytest.mark.parametrize(
    "hex_bytes, problem",
    [
        ("a2616202616101", "key order"),  # {"b": 2, "a": 1}
        ("a2616101616102", "duplicate key"),  # {"a": 1, "a": 2}
        ("1817", "non-minimal int"),  # 23 as one extra byte
        ("f93c00", "short float"),  # 1.0 as half precision
        ("9f01ff", "indefinite length"),
    ],
)
def test_strict_decode_rejects_non_canonical_bytes(hex_bytes, problem):
    with pytest.raises(codec.DagCborError, match="round-trip"):
        codec.decode(bytes.fromhex(hex_bytes))


def test_foreign_tags_are_rejected():
    with pytest.raises(codec.DagCborError, match="only tag 42"):
        codec.decode(bytes.fromhex("d903e800"))  # tag 1000 on the integer 0
    with pytest.raises(codec.DagCborError, match="not DAG-CBOR"):
        codec.decode(bytes.fromhex("c11a514b67b0"))  # tag 1: cbor2 turns it into a datetime


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**64), 2**64 - 1) | st.floats(allow_nan=False, allow_infinity=False) | st.text() | st.binary(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
@settings(max_examples=300, deadline=None)
def test_encode_decode_round_trip(value):
    data = codec.encode(value)
    assert codec.decode(data) == value
    assert codec.encode(codec.decode(data)) == data


def test_fixed_frames_equal_the_generic_encoding():
    from ceramic_pipeline.ceramic.car import encode_car
    from ceramic_pipeline.ceramic.events import envelope_bytes

    cid = CID.for_block(DAG_CBOR, b"p")
    generic = codec.encode({"payload": cid.bytes, "signatures": [{"protected": b'{"alg":"EdDSA"}', "signature": bytes(64)}]})
    assert envelope_bytes(cid, b'{"alg":"EdDSA"}', bytes(64)) == generic
    header = codec.encode({"roots": [cid], "version": 1})
    assert encode_car([cid], []) == bytes([len(header)]) + header


def test_integers_containing_the_link_tag_bytes_still_encode_as_integers():
    value = {"n": 0xD82A, "f": -0xD82A00}
    data = codec.encode(value)
    assert b"\xd8\x2a" in data and codec.decode(data) == value
