import base64

import pytest

from ceramic_pipeline.ceramic.did import DIDKey, SeedError, generate_seed_base64, parse_seed_base64, public_key_from_did


def test_known_dids():
    assert DIDKey.from_seed(bytes([7]) * 32).did == "did:key:z6MkvDqGT54cXesYGvABpF1UapVNwjCqRcafi4Px6Thv5T3Z"
    assert DIDKey.from_seed(bytes(32)).did == "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"


def test_public_key_round_trip():
    key = DIDKey.from_seed(bytes(range(32)))
    assert public_key_from_did(key.kid) == key.public_key


def test_generated_seed_parses():
    seed = parse_seed_base64(generate_seed_base64())
    assert len(seed) == 32


@pytest.mark.parametrize(
    "text, message",
    [
        ("not base64!!", "not valid base64"),
        (base64.b64encode(bytes(31)).decode(), "found 31 bytes"),
        (base64.b64encode(bytes(33)).decode(), "found 33 bytes"),
        ("", "found 0 bytes"),
    ],
)
def test_bad_seeds_name_the_variable_and_never_echo_the_value(text, message):
    with pytest.raises(SeedError, match=message) as info:
        parse_seed_base64(text)
    assert "AGENT_DID_SEED_BASE64" in str(info.value)
    if text:
        assert text not in str(info.value)


def test_repr_hides_the_seed():
    key = DIDKey.from_seed(bytes(range(32)))
    assert "SigningKey" not in repr(key) and bytes(range(32)).hex() not in repr(key)
