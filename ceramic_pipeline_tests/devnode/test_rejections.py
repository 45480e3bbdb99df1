"""Each POST-time rule of ceramic-one: 400 with its message shape, and nothing stored."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ceramic_pipeline.ceramic import events
from ceramic_pipeline.devnode import ingest

from ceramic_pipeline_tests.devnode import builders as b

MODEL, MODEL_ID = b.model(b.definition("Notes", {"type": "list"}))
INIT, STREAM = b.list_instance(MODEL_ID, {"title": "hello"})
FIRST = b.update(INIT, INIT, [{"op": "replace", "path": "/title", "value": "v2"}])
SECOND = b.update(INIT, FIRST, [{"op": "replace", "path": "/title", "value": "v3"}])
PARSE = "Failed to parse EventID from event CAR file data: "


@pytest.fixture
def model_posted(api):
    assert api.post("/events", json=b.body(MODEL)).status_code == 204


def reject(api, car: bytes, starts: str, contains: str = "") -> str:
    response = api.post("/events", json=b.body(car))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    message = response.json()["message"]
    assert message.startswith(starts), message
    assert contains in message, message
    try:
        root = b.root_of(car)
    except ValueError:
        return message
    assert api.get(f"/events/{root}").status_code == 404  # nothing was stored
    return message


def test_bad_multibase(api):
    for data, reason in (("!notbase", "Unknown base code: !"), ("m$$$", "Invalid base string"), ("", "Invalid base string")):
        response = api.post("/events", json={"data": data})
        assert response.status_code == 400
        assert response.json() == {"message": f"Invalid event data: multibase error: {reason}"}


def test_body_without_data_field(api):
    response = api.post("/events", json={"car": "mAAAA"})
    assert response.status_code == 400
    assert "EventData" in response.json()["message"]


def test_truncated_car(api, model_posted):
    reject(api, b.truncated(INIT), PARSE, "truncated")


def test_missing_root_block(api, model_posted):
    reject(api, b.without_root_block(INIT), PARSE, f"root block {INIT.cid} is missing")


def test_non_canonical_key_order_fails_round_trip_only(api, model_posted):
    car = b.reordered_keys(INIT)
    reject(api, car, PARSE + "Event bytes do not round-trip")


def test_extra_field_fails_round_trip(api, model_posted):
    reject(api, b.with_extra_header_field(INIT), PARSE + "Event bytes do not round-trip", "foo")


def test_flipped_signature_byte(api, model_posted):
    reject(api, b.flipped_signature(INIT), "Event had invalid signature: ", "does not verify")


def test_kid_of_another_key(api, model_posted):
    reject(api, b.wrong_kid(INIT, b.ALICE, claimed=b.MALLORY), "Event had invalid signature: ", b.MALLORY.did)


def test_controller_is_not_the_signer(api, model_posted):
    forged = b.signed_car_from_payload_bytes(INIT.blocks[0][1], b.MALLORY)  # ALICE's init, signed by MALLORY
    reject(api, forged, f"Event had invalid signature: invalid_jws: '{b.MALLORY.did}' not in controllers list for issuer: '{b.ALICE.did}'")


def test_data_event_signed_by_someone_else(api, model_posted):
    assert api.post("/events", json=b.body(INIT)).status_code == 204
    foreign = b.update(INIT, INIT, [{"op": "replace", "path": "/title", "value": "mine"}], signer=b.MALLORY)
    reject(api, foreign.car, "Event had invalid signature: invalid_jws: ", "not in controllers list")


def test_data_event_with_unknown_init(api, model_posted):
    reject(api, FIRST.car, PARSE + f"cannot find init event block {INIT.cid}")


def test_unknown_init_is_reported_before_a_bad_signature(api, model_posted):
    reject(api, b.flipped_signature(FIRST), PARSE + f"cannot find init event block {INIT.cid}")


def test_missing_prev(api, model_posted):
    assert api.post("/events", json=b.body(INIT)).status_code == 204
    message = reject(api, SECOND.car, "Failed to insert event as `prev` event was missing")
    assert message == "Failed to insert event as `prev` event was missing"
    assert api.post("/events", json=b.body(FIRST)).status_code == 204  # in order, both are fine
    assert api.post("/events", json=b.body(SECOND)).status_code == 204


def test_prev_from_another_stream_counts_as_missing(api, model_posted):
    other, _ = b.list_instance(MODEL_ID, {"title": "other"}, unique=b"\x02" * 12)
    for event in (INIT, other):
        assert api.post("/events", json=b.body(event)).status_code == 204
    crossed = b.update(INIT, other, [{"op": "replace", "path": "/title", "value": "x"}])
    reject(api, crossed.car, "Failed to insert event as `prev` event was missing")


def test_schema_is_not_checked_at_post_time(api, model_posted):
    invalid, _ = b.list_instance(MODEL_ID, {"title": 42, "extra": True}, unique=b"\x03" * 12)
    assert api.post("/events", json=b.body(invalid)).status_code == 204


def test_data_event_whose_init_is_a_data_event(api, model_posted):
    for event in (INIT, FIRST):
        assert api.post("/events", json=b.body(event)).status_code == 204
    misplaced = b.data_event(b.ALICE, init=FIRST.cid, prev=FIRST.cid, patch=[{"op": "add", "path": "/n", "value": 1}])
    reject(api, misplaced.car, PARSE + "init event payload is not well formed")


# --- the SDK's block size limit (@ceramic-sdk/events utils.ts MAX_BLOCK_SIZE) -----------------

SDK_UTILS = Path(__file__).resolve().parents[1] / "conformance" / "node_modules" / "@ceramic-sdk" / "events" / "dist" / "utils.js"


@pytest.fixture
def unchecked_client(monkeypatch):
    """Our own signer refuses oversize blocks (ceramic.events.check_block_size); the node must
    refuse them from any client, so these tests build events as a client without that check."""
    monkeypatch.setattr(events, "MAX_BLOCK_SIZE", 10**9)


def _update_with_payload_block_of(size: int) -> b.Event:
    """A data event on INIT whose payload block is exactly ``size`` bytes (a long title)."""
    def build(length: int) -> b.Event:
        return b.update(INIT, INIT, [{"op": "replace", "path": "/title", "value": "t" * length}])

    probe = build(size)
    event = build(size + size - len(probe.blocks[0][1]))
    assert len(event.blocks[0][1]) == size
    return event


def test_block_size_limit_is_the_sdks():
    if not SDK_UTILS.exists():
        pytest.skip("the official SDK is not installed (scripts/setup-test-deps)")
    found = re.search(r"MAX_BLOCK_SIZE\s*=\s*(\d+)", SDK_UTILS.read_text())
    assert found and int(found.group(1)) == ingest.MAX_BLOCK_SIZE == 256_000


def test_a_block_of_exactly_the_limit_is_accepted(api, model_posted, unchecked_client):
    assert api.post("/events", json=b.body(INIT)).status_code == 204
    event = _update_with_payload_block_of(ingest.MAX_BLOCK_SIZE)
    assert api.post("/events", json=b.body(event)).status_code == 204


def test_a_block_one_byte_over_the_limit_is_rejected_with_a_clear_message(api, model_posted, unchecked_client):
    assert api.post("/events", json=b.body(INIT)).status_code == 204
    event = _update_with_payload_block_of(ingest.MAX_BLOCK_SIZE + 1)
    payload_cid = event.blocks[0][0]
    message = reject(api, event.car, f"Event block {payload_cid} is 256001 bytes, over the maximum block size of 256000 bytes")
    assert "t" * 100 not in message  # names the block, never echoes its content
    assert api.get(f"/streams/{STREAM}").status_code == 200  # the stream itself is untouched


def test_an_oversize_signed_init_is_rejected(api, model_posted, unchecked_client):
    big, _ = b.list_instance(MODEL_ID, {"title": "x" * 300_000}, unique=b"\x04" * 12)
    reject(api, big.car, "Event block ", "over the maximum block size of 256000 bytes")
