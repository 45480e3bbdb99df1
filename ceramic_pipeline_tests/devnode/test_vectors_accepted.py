"""The devnode accepts every event of the official-SDK vectors exactly as the SDK posts them."""

from __future__ import annotations

import base64
import json

import pytest

SEED = "seed_0_to_31"


def _decode_u(text: str) -> bytes:
    assert text.startswith("u")
    return base64.urlsafe_b64decode(text[1:] + "=" * (-len(text[1:]) % 4))


def _stream_events(vectors: dict) -> list[tuple[str, list[dict]]]:
    seed = vectors["seeds"][SEED]
    streams = [(m["stream_id"]["stream_id"], [m["init_event"]]) for m in seed["models"].values()]
    for inst in seed["instances"].values():
        steps = [inst["init_event"]] + [step["event"] for step in inst.get("data_events", [])]
        streams.append((inst["stream_id"]["stream_id"], steps))
    return streams


@pytest.fixture
def posted(api, vectors):
    """Models first, then each stream's events in order; every POST must answer 204."""
    for _stream, events in _stream_events(vectors):
        for event in events:
            response = api.post("/events", content=json.dumps(event["http_post_body"]), headers={"content-type": "application/json"})
            assert response.status_code == 204, response.text
            assert response.content == b""
    return vectors["seeds"][SEED]


def test_every_vector_event_is_accepted_and_repost_is_idempotent(api, posted, vectors):
    for _stream, events in _stream_events(vectors):
        for event in events:
            assert api.post("/events", json=event["http_post_body"]).status_code == 204
    feed = api.get("/feed/events", params={"limit": 1000}).json()
    expected = [e["event_cid"] for _s, events in _stream_events(vectors) for e in events]
    assert [e["id"] for e in feed["events"]] == expected  # re-posts did not duplicate anything


def test_get_event_returns_the_same_car(api, posted, vectors):
    for _stream, events in _stream_events(vectors):
        for event in events:
            response = api.get(f"/events/{event['event_cid']}")
            assert response.status_code == 200
            body = response.json()
            assert body["id"] == event["event_cid"]
            assert body["data"] == event["car"]["car_multibase_base64"]  # "m" + standard base64, no padding
            assert base64.b64decode(body["data"][1:] + "==").hex() == event["car"]["car_hex"]


def _state(api, stream_id: str) -> tuple[dict, dict]:
    response = api.get(f"/streams/{stream_id}")
    assert response.status_code == 200, response.text
    body = response.json()
    return body, json.loads(_decode_u(body["data"]))


def test_list_instance_state_after_two_patches(api, posted):
    inst = posted["instances"]["list"]
    body, data = _state(api, inst["stream_id"]["stream_id"])
    expected = dict(inst["data_events"][0]["new_content"], text="Final text.")
    assert data["content"] == expected
    assert data["metadata"] == {"shouldIndex": True}  # second data event carries header.shouldIndex
    assert body["id"] == inst["stream_id"]["stream_id"]
    assert body["event_cid"] == inst["data_events"][-1]["event"]["event_cid"]
    assert body["controller"] == posted["did"]["did"]
    dims = body["dimensions"]
    assert set(dims) == {"model", "controller", "context", "unique"}
    assert _decode_u(dims["unique"]).hex() == inst["unique_hex"]
    assert _decode_u(dims["controller"]).decode() == posted["did"]["did"]
    assert _decode_u(dims["model"]).hex() == posted["models"]["list"]["stream_id"]["stream_id_bytes_hex"]
    assert dims["context"] == "u"  # absent context is an empty dimension


def test_set_and_single_instance_state(api, posted):
    for name in ("set", "single"):
        inst = posted["instances"][name]
        body, data = _state(api, inst["stream_id"]["stream_id"])
        assert data["content"] == inst["data_events"][-1]["new_content"]
        assert body["event_cid"] == inst["data_events"][-1]["event"]["event_cid"]
    body, _ = _state(api, posted["instances"]["set"]["stream_id"]["stream_id"])
    assert _decode_u(body["dimensions"]["unique"]).decode() == posted["instances"]["set"]["unique_utf8"]


def test_model_state_holds_the_definition(api, posted):
    for model in posted["models"].values():
        body, data = _state(api, model["stream_id"]["stream_id"])
        assert data == {"metadata": {"shouldIndex": True}, "content": model["definition"]}
        assert body["event_cid"] == model["init_event"]["event_cid"]


def test_should_index_init_header_is_metadata(api, posted):
    _body, data = _state(api, posted["instances"]["list_shouldIndex"]["stream_id"]["stream_id"])
    assert data["metadata"]["shouldIndex"] is True
    assert data["content"] == posted["instances"]["list_shouldIndex"]["content_init"]


def test_repository_vector_with_unknown_model_is_stored_but_pending(api, vectors):
    cross = vectors["sdk_repo_crosscheck"]
    assert api.post("/events", json=cross["init_event"]["http_post_body"]).status_code == 204
    assert api.post("/events", json=cross["data_event"]["http_post_body"]).status_code == 204
    response = api.get(f"/streams/{cross['stream_id']['stream_id']}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == cross["stream_id"]["stream_id"]
    assert api.get(f"/events/{cross['data_event']['event_cid']}").status_code == 200
