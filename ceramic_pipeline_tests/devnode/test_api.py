"""The small endpoints: liveness, version, network, event lookup errors, feed paging, interests."""

from __future__ import annotations

import base64

import httpx

from ceramic_pipeline.devnode import running_devnode
from ceramic_pipeline_tests.devnode import builders as b


def test_liveness_version_network(api):
    live = api.get("/liveness")
    assert (live.status_code, live.content) == (200, b"")
    assert api.get("/version").json() == {"version": "0.58.0+devnode"}
    assert api.post("/version").status_code == 200
    assert api.get("/config/network").json() == {"name": "inmemory"}


def test_network_name_is_configurable():
    with running_devnode(network="local-1234") as node:
        assert httpx.get(node.url + "/ceramic/config/network").json() == {"name": "local-1234"}


def test_get_event_errors(api):
    bad = api.get("/events/!nope")
    assert bad.status_code == 400
    assert bad.json() == {"message": "multibase error: Unknown base code: !"}
    not_cid = api.get("/events/mAAAA")
    assert not_cid.status_code == 400 and not_cid.json()["message"].startswith("Invalid Cid: ")
    model, _ = b.model(b.definition("Unposted", {"type": "list"}))
    missing = api.get(f"/events/{model.cid}")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/plain")
    assert missing.text == f"Event not found : {model.cid}"


def test_post_accepts_any_multibase(api):
    model, _ = b.model(b.definition("Base64url", {"type": "list"}))
    data = "u" + base64.urlsafe_b64encode(model.car).decode().rstrip("=")
    assert api.post("/events", json={"data": data}).status_code == 204
    assert api.get(f"/events/{model.cid}").json()["data"] == b.body(model)["data"]


def test_feed_pages_with_resume_tokens(api):
    events = [b.model(b.definition(f"M{i}", {"type": "list"}))[0] for i in range(5)]
    start = api.get("/feed/resumeToken").json()["resumeToken"]
    for event in events:
        assert api.post("/events", json=b.body(event)).status_code == 204
    seen, token, pages = [], start, 0
    while True:
        page = api.get("/feed/events", params={"resumeAt": token, "limit": 2, "includeData": "full"}).json()
        if not page["events"]:
            assert page["resumeToken"] == token  # an empty page keeps the token (no rewind to 0)
            break
        pages += 1
        seen += page["events"]
        token = page["resumeToken"]
    assert pages == 3
    assert [e["id"] for e in seen] == [str(e.cid) for e in events]
    assert [e["data"] for e in seen] == [b.body(e)["data"] for e in events]
    assert token == api.get("/feed/resumeToken").json()["resumeToken"]
    without_data = api.get("/feed/events", params={"resumeAt": start}).json()["events"]
    assert without_data == [{"id": str(e.cid)} for e in events]


def test_feed_rejects_bad_parameters(api):
    bad_include = api.get("/feed/events", params={"includeData": "some"})
    assert bad_include.status_code == 400
    assert bad_include.json() == {"message": "Invalid value: some. must be one of 'none' or 'full'"}
    bad_token = api.get("/feed/events", params={"resumeAt": "abc"})
    assert bad_token.status_code == 400
    assert bad_token.json()["message"].startswith("Invalid resume token 'abc'.")
    too_many = api.get("/feed/events", params={"includeData": "full", "limit": 10001})
    assert too_many.status_code == 400


def test_interests(api):
    _model, model_id = b.model(b.definition("Interesting", {"type": "list"}))
    assert api.post("/interests", json={"sep": "model", "sepValue": str(model_id)}).status_code == 204
    assert api.post("/interests", json={"sep": "model", "sepValue": "kh4q0ozorrgaq2mezktnrmdwleo1d"}).status_code == 204
    needs_controller = api.post("/interests", json={"sep": "model", "sepValue": str(model_id), "streamId": str(model_id)})
    assert needs_controller.status_code == 500
    assert needs_controller.json() == {"message": "controller is required if stream_id is specified"}
    bad = api.post("/interests", json={"sep": "model", "sepValue": "!x"})
    assert bad.status_code == 400 and "multibase error" in bad.json()["message"]
    assert api.post(f"/interests/model/{model_id}", params={"controller": b.ALICE.did}).status_code == 204
    assert len(api.get("/experimental/interests").json()["interests"]) == 3
