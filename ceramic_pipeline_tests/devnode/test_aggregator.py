"""Stream state rules: invalid events leave the state but stay stored; pending MIDs; invalid models."""

from __future__ import annotations

import base64
import json

import httpx

from ceramic_pipeline.devnode import running_devnode
from ceramic_pipeline_tests.devnode import builders as b

SET_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {"docId": {"type": "string"}, "chunkIndex": {"type": "integer"}, "text": {"type": "string"}},
    "required": ["docId", "chunkIndex"],
}
FIELDS = ["docId", "chunkIndex"]


def content_of(api, stream) -> tuple[str, dict | None] | None:
    response = api.get(f"/streams/{stream}")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    body = response.json()
    data = json.loads(base64.urlsafe_b64decode(body["data"][1:] + "=" * (-len(body["data"][1:]) % 4)))
    return body["event_cid"], data["content"]


def post(api, *events) -> None:
    for event in events:
        response = api.post("/events", json=b.body(event))
        assert response.status_code == 204, response.text


def errors_of(node, stream, event) -> list[str]:
    response = httpx.get(f"{node.url}/_devnode/streams/{stream}/events")
    assert response.status_code == 200
    [state] = [s for s in response.json() if s["event_cid"] == str(event.cid)]
    return state["errors"]


def test_schema_invalid_data_event_is_dropped_from_state_but_stored(node, api):
    model, model_id = b.model(b.definition("Notes", {"type": "list"}))
    init, stream = b.list_instance(model_id, {"title": "hello"})
    good = b.update(init, init, [{"op": "replace", "path": "/title", "value": "v2"}])
    bad = b.update(init, good, [{"op": "add", "path": "/bogus", "value": 1}])
    post(api, model, init, good, bad)
    assert content_of(api, stream) == (str(good.cid), {"title": "v2"})
    stored = api.get(f"/events/{bad.cid}")
    assert stored.status_code == 200 and stored.json()["id"] == str(bad.cid)
    assert any("bogus" in e for e in errors_of(node, stream, bad))


def test_too_long_value_is_dropped(api):
    model, model_id = b.model(b.definition("Notes", {"type": "list"}))
    init, stream = b.list_instance(model_id, {"title": "hello"})
    bad = b.update(init, init, [{"op": "replace", "path": "/title", "value": "x" * 21}])
    post(api, model, init, bad)
    assert content_of(api, stream) == (str(init.cid), {"title": "hello"})


def test_set_unique_mismatch_is_dropped(node, api):
    model, model_id = b.model(b.definition("Chunks", {"type": "set", "fields": FIELDS}, SET_SCHEMA))
    init, stream = b.set_instance(model_id, FIELDS, {"docId": "d1", "chunkIndex": 3})
    wrong = b.update(init, init, [{"op": "add", "path": "/docId", "value": "d1"}, {"op": "add", "path": "/chunkIndex", "value": 4}])
    post(api, model, init, wrong)
    assert content_of(api, stream) == (str(init.cid), None)  # the init state (no content) stays
    assert api.get(f"/events/{wrong.cid}").status_code == 200
    assert errors_of(node, stream, wrong) == [
        "Unique content fields value does not match metadata. Expected 'd1|3' but found 'd1|4'"
    ]


def test_set_fields_are_immutable_after_the_first_data_event(node, api):
    model, model_id = b.model(b.definition("Chunks", {"type": "set", "fields": FIELDS}, SET_SCHEMA))
    init, stream = b.set_instance(model_id, FIELDS, {"docId": "d1", "chunkIndex": 3})
    first = b.update(init, init, [{"op": "add", "path": "/docId", "value": "d1"}, {"op": "add", "path": "/chunkIndex", "value": 3}])
    text = b.update(init, first, [{"op": "add", "path": "/text", "value": "fine"}])
    moved = b.update(init, text, [{"op": "replace", "path": "/chunkIndex", "value": 3}])  # even a same-value write
    post(api, model, init, first, text, moved)
    assert content_of(api, stream) == (str(text.cid), {"docId": "d1", "chunkIndex": 3, "text": "fine"})
    assert errors_of(node, stream, moved) == ["Set account relation field 'chunkIndex' cannot be modified"]


def test_set_instance_must_not_have_initial_content(node, api):
    model, model_id = b.model(b.definition("Chunks", {"type": "set", "fields": FIELDS}, SET_SCHEMA))
    init, stream = b.list_instance(model_id, {"docId": "d1", "chunkIndex": 3}, unique=b"d1|3")
    post(api, model, init)
    assert content_of(api, stream) is None
    assert "must not have initial content" in errors_of(node, stream, init)[0]


def test_mid_is_pending_until_its_model_arrives(api):
    model, model_id = b.model(b.definition("Late", {"type": "list"}))
    init, stream = b.list_instance(model_id, {"title": "early"})
    update = b.update(init, init, [{"op": "replace", "path": "/title", "value": "later"}])
    post(api, init, update)
    missing = api.get(f"/streams/{stream}")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/plain")
    post(api, model)
    assert content_of(api, stream) == (str(update.cid), {"title": "later"})


def test_model_without_additional_properties_false_is_invalid(node, api):
    loose = {**b.LIST_SCHEMA}
    del loose["additionalProperties"]
    model, model_id = b.model(b.definition("Loose", {"type": "list"}, loose))
    post(api, model)
    assert content_of(api, model_id) is None
    assert errors_of(node, model_id, model) == ["All objects in schema need to have additional properties disabled"]


def test_invalid_patch_is_dropped(node, api):
    model, model_id = b.model(b.definition("Notes", {"type": "list"}))
    init, stream = b.list_instance(model_id, {"title": "hello"})
    bad = b.update(init, init, [{"op": "remove", "path": "/nothing"}])
    post(api, model, init, bad)
    assert content_of(api, stream) == (str(init.cid), {"title": "hello"})
    assert errors_of(node, stream, bad)[0].startswith("Error applying JSON patch")


def test_stream_id_errors(api):
    bad = api.get("/streams/not-a-stream")
    assert bad.status_code == 400
    assert bad.json()["message"].startswith("invalid stream id: ")
    _model, model_id = b.model(b.definition("Never posted", {"type": "list"}))
    unknown = api.get(f"/streams/{model_id}")
    assert (unknown.status_code, unknown.text) == (404, str(model_id))


def test_events_and_states_survive_a_restart(tmp_path):
    model, model_id = b.model(b.definition("Notes", {"type": "list"}))
    init, stream = b.list_instance(model_id, {"title": "hello"})
    update = b.update(init, init, [{"op": "replace", "path": "/title", "value": "kept"}])
    with running_devnode(data_dir=tmp_path) as node, httpx.Client(base_url=node.url + "/ceramic") as api:
        post(api, model, init, update)
        token = api.get("/feed/resumeToken").json()["resumeToken"]
    assert (tmp_path / "devnode.sqlite3").exists()
    with running_devnode(data_dir=tmp_path) as node, httpx.Client(base_url=node.url + "/ceramic") as api:
        assert content_of(api, stream) == (str(update.cid), {"title": "kept"})
        assert api.get(f"/events/{init.cid}").json()["data"] == b.body(init)["data"]
        assert api.get("/feed/resumeToken").json()["resumeToken"] == token
        post(api, update)  # still known after the restart: idempotent
        assert len(api.get("/feed/events").json()["events"]) == 3


def test_in_memory_node_forgets_on_restart():
    model, _ = b.model(b.definition("Notes", {"type": "list"}))
    with running_devnode() as node, httpx.Client(base_url=node.url + "/ceramic") as api:
        post(api, model)
    with running_devnode() as node, httpx.Client(base_url=node.url + "/ceramic") as api:
        assert api.get(f"/events/{model.cid}").status_code == 404
