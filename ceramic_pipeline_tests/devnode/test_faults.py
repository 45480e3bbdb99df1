"""Fault hooks seen from a real HTTP client: 500s, latency, dropped connections, downtime."""

from __future__ import annotations

import time

import httpx
import pytest

from ceramic_pipeline.devnode import Faults, running_devnode
from ceramic_pipeline_tests.devnode import builders as b


def statuses(api, n: int) -> list[int]:
    return [api.get("/liveness").status_code for _ in range(n)]


def test_error_fraction_is_seeded_and_reproducible(node, api):
    node.set_faults(error_rate=0.5, seed=11)
    first = statuses(api, 24)
    assert set(first) == {200, 500}
    assert 4 <= first.count(500) <= 20
    node.set_faults(seed=11)  # re-seeding replays the same sequence
    assert statuses(api, 24) == first
    failed = next(r for r in (api.get("/version") for _ in range(20)) if r.status_code == 500)
    assert failed.json() == {"message": "devnode injected fault: internal error"}


def test_faults_given_at_start():
    with running_devnode(faults=Faults(error_rate=1.0)) as node:
        assert httpx.get(node.url + "/ceramic/liveness").status_code == 500


def test_latency(node, api):
    node.set_faults(latency=0.3)
    started = time.monotonic()
    assert api.get("/liveness").status_code == 200
    assert time.monotonic() - started >= 0.3
    with pytest.raises(httpx.ReadTimeout):
        api.get("/liveness", timeout=0.1)


def test_dropped_connection_is_a_transport_error(node, api):
    node.set_faults(drop_rate=1.0)
    model, _ = b.model(b.definition("Dropped", {"type": "list"}))
    with pytest.raises(httpx.TransportError):
        api.post("/events", json=b.body(model))
    node.set_faults(drop_rate=0.0)
    assert api.get(f"/events/{model.cid}").status_code == 404  # dropped before it was handled


def test_drop_after_handling_stores_the_event(node, api):
    node.set_faults(drop_rate=1.0, drop_after_handling=True)
    model, _ = b.model(b.definition("Stored anyway", {"type": "list"}))
    with pytest.raises(httpx.TransportError):
        api.post("/events", json=b.body(model))
    node.set_faults(drop_rate=0.0)
    assert api.get(f"/events/{model.cid}").status_code == 200
    assert api.post("/events", json=b.body(model)).status_code == 204  # the client's retry is harmless


def test_faults_over_http(node, api):
    control = httpx.Client(base_url=node.url + "/_devnode")
    response = control.post("/faults", json={"error_rate": 1.0})
    assert response.status_code == 200 and response.json()["error_rate"] == 1.0
    assert api.get("/liveness").status_code == 500
    assert control.get("/faults").json()["error_rate"] == 1.0  # control endpoints are exempt
    unknown = control.post("/faults", json={"explode": True})
    assert unknown.status_code == 400 and "explode" in unknown.json()["message"]
    out_of_range = control.post("/faults", json={"drop_rate": 2})
    assert out_of_range.status_code == 400
    control.post("/faults", json={"error_rate": 0})
    assert api.get("/liveness").status_code == 200
    control.close()


def test_down_refuses_connections_then_recovers(node, api):
    node.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(node.url + "/ceramic/liveness")
    node.start()
    assert httpx.get(node.url + "/ceramic/liveness").status_code == 200


def test_down_over_http(node):
    assert httpx.post(node.url + "/_devnode/faults", json={"down_seconds": 0.5}).status_code == 200
    deadline = time.monotonic() + 5
    refused = False
    while time.monotonic() < deadline:
        try:
            if httpx.get(node.url + "/ceramic/liveness", timeout=1).status_code == 200 and refused:
                break
        except httpx.ConnectError:
            refused = True
        time.sleep(0.05)
    assert refused
    assert httpx.get(node.url + "/ceramic/liveness").status_code == 200


def test_hooks_can_be_disabled():
    with running_devnode(test_hooks=False) as node:
        assert httpx.post(node.url + "/_devnode/faults", json={"error_rate": 1}).status_code == 404
