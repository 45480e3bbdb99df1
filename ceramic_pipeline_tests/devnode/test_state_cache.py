"""The cached stream states equal a from-scratch recomputation, survive restarts and concurrent POSTs.

Real HTTP on loopback, real Ed25519 signatures. An independent oracle (jsonpatch plus the few
rules the test schema has) says what each stream's state must be, so a bug shared by the cache
and the recomputation (they use the same transition function) still fails here.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

import httpx
import jsonpatch
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ceramic_pipeline.ceramic.client import CeramicClient
from ceramic_pipeline.ceramic.events import Event
from ceramic_pipeline.ceramic.identifiers import StreamID
from ceramic_pipeline.devnode import running_devnode
from ceramic_pipeline.devnode.aggregator import CachedStream
from ceramic_pipeline.devnode.store import DB_FILE
from ceramic_pipeline_tests.devnode import builders as b

MAX_TEXT = 50
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {"docId": {"type": "string"}, "chunkIndex": {"type": "integer"}, "text": {"type": "string", "maxLength": MAX_TEXT}},
    "required": ["docId", "chunkIndex"],
}
FIELDS = ["docId", "chunkIndex"]
MODEL, MODEL_ID = b.model(b.definition("CacheChunks", {"type": "set", "fields": FIELDS}, SCHEMA))

# What a data event does to the content, and whether the oracle expects it to be kept.
OPS = {
    "text": lambda n: [{"op": "replace", "path": "/text", "value": f"text {n}"}],
    "bogus": lambda n: [{"op": "add", "path": "/bogus", "value": n}],  # schema: additionalProperties
    "unbogus": lambda n: [{"op": "remove", "path": "/bogus"}],  # a failed patch when there is none
    "long": lambda n: [{"op": "replace", "path": "/text", "value": "x" * (MAX_TEXT + 1 + n % 3)}],
    "touch_set": lambda n: [{"op": "replace", "path": "/chunkIndex", "value": 0}],  # same value, still a modification
    "bad_patch": lambda n: [{"op": "remove", "path": "/missing"}],
}


def state_of(api: httpx.Client, stream) -> tuple[str, Any] | None:
    response = api.get(f"/streams/{stream}")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    body = response.json()
    raw = body["data"][1:]
    data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    return body["event_cid"], data["content"]


def post(api: httpx.Client, event: Event | bytes) -> None:
    response = api.post("/events", json=b.body(event))
    assert response.status_code == 204, response.text


def shape(entry: CachedStream | None) -> tuple | None:
    if entry is None:
        return None
    return (entry.head_cid, entry.head_height, entry.head_json, entry.tip_cid, entry.tip_json, entry.pending)


def assert_cache_matches_recomputation(node, stream) -> None:
    with node.store.lock:
        recomputed = node.aggregator.recomputed(stream.cid)
        cached = node.aggregator.cached(stream.cid)
    assert shape(cached) == shape(recomputed)


@dataclass
class Oracle:
    """Expected per-event content (None after a failed patch) and validity, from jsonpatch and the schema's rules."""

    content: dict[str, Any] = field(default_factory=dict)
    valid: dict[str, bool] = field(default_factory=dict)
    height: dict[str, int] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    def add(self, cid: str, prev: str | None, ops: list[dict] | None, content: Any = None) -> None:
        if prev is None:  # the init: no content yet, valid
            self.content[cid], self.valid[cid], self.height[cid] = None, True, 0
        else:
            before = self.content[prev] if prev in self.content else None
            height = self.height[prev] + 1
            after = None
            if before is not None or self.height[prev] == 0:
                try:
                    after = jsonpatch.apply_patch(before or {}, ops)
                except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException):
                    after = None
            touches_set = height > 1 and any(op["path"].split("/")[1] in FIELDS for op in ops)
            self.content[cid], self.height[cid] = after, height
            self.valid[cid] = (
                after is not None and not touches_set and "bogus" not in after
                and len(after.get("text", "")) <= MAX_TEXT and {"docId", "chunkIndex"} <= set(after)
            )
        self.order.append(cid)

    def expected(self) -> tuple[str, Any] | None:
        kept = [c for c in self.order if self.valid[c]]
        return (kept[-1], self.content[kept[-1]]) if kept else None


@pytest.fixture(scope="module")
def shared_node():
    with running_devnode(cache_streams=3) as node:  # a small LRU: streams get evicted and rebuilt too
        with httpx.Client(base_url=node.url + "/ceramic", timeout=10) as api:
            post(api, MODEL)
        yield node


_stream_counter = iter(range(1_000_000))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(sorted(OPS) + ["text", "text", "evict"]), st.integers(0, 1_000), st.booleans()),
        min_size=1, max_size=10,
    ),
    streams=st.integers(1, 3),
)
def test_cache_equals_recomputation_on_random_valid_and_invalid_events(shared_node, steps, streams):
    node = shared_node
    with httpx.Client(base_url=node.url + "/ceramic", timeout=10) as api:
        chains = []
        for _ in range(streams):  # interleaved streams, more than the LRU holds at times
            index = next(_stream_counter)
            content = {"docId": "cache", "chunkIndex": index}
            init, stream = b.set_instance(MODEL_ID, FIELDS, content)
            first = b.update(init, init, [{"op": "add", "path": "/docId", "value": "cache"},
                                          {"op": "add", "path": "/chunkIndex", "value": index},
                                          {"op": "add", "path": "/text", "value": "t0"}])
            oracle = Oracle()
            post(api, init)
            oracle.add(str(init.cid), None, None)
            post(api, first)
            oracle.add(str(first.cid), str(init.cid), first.payload["data"])
            chains.append((init, stream, [first], oracle))
        for i, (kind, n, fork) in enumerate(steps):
            init, stream, events, oracle = chains[i % streams]
            if kind == "evict":
                with node.store.lock:
                    node.aggregator.reset()  # as after a restart: rebuilt from storage on next use
                continue
            ops = OPS[kind](n)
            if kind == "touch_set":
                ops = [{"op": "replace", "path": "/chunkIndex", "value": oracle.content[str(events[0].cid)]["chunkIndex"]}]
            # A fork takes an older data event as prev (the slow path); otherwise the head.
            prev = events[n % len(events)] if fork else events[-1]
            event = b.update(init, prev, ops)
            post(api, event)
            oracle.add(str(event.cid), str(prev.cid), ops)
            events.append(event)
            assert_cache_matches_recomputation(node, stream)
        for init, stream, _events, oracle in chains:
            assert_cache_matches_recomputation(node, stream)
            expected = oracle.expected()
            assert state_of(api, stream) == expected
            # and the reference path (cache bypassed) agrees with what GET served
            with node.store.lock:
                valid = [s for s in node.aggregator.event_states(stream.cid) if s.valid and s.data is not None]
            assert (str(valid[-1].event_cid), valid[-1].data["content"]) == expected


def test_an_invalid_data_event_in_the_middle_leaves_the_cached_state_at_the_last_valid_one(node, api):
    post(api, MODEL)
    init, stream = b.set_instance(MODEL_ID, FIELDS, {"docId": "mid", "chunkIndex": 1})
    first = b.update(init, init, [{"op": "add", "path": "/docId", "value": "mid"}, {"op": "add", "path": "/chunkIndex", "value": 1},
                                  {"op": "add", "path": "/text", "value": "one"}])
    bad = b.update(init, first, [{"op": "replace", "path": "/text", "value": "y" * (MAX_TEXT + 1)}])
    fixed = b.update(init, bad, [{"op": "replace", "path": "/text", "value": "two"}])
    post(api, init)
    post(api, first)
    post(api, bad)
    assert state_of(api, stream) == (str(first.cid), {"chunkIndex": 1, "docId": "mid", "text": "one"})
    assert_cache_matches_recomputation(node, stream)
    post(api, fixed)  # built on the invalid event: its content replaces the too-long text, so it is valid
    assert state_of(api, stream) == (str(fixed.cid), {"chunkIndex": 1, "docId": "mid", "text": "two"})
    assert_cache_matches_recomputation(node, stream)


def test_state_after_restart_equals_state_before(tmp_path):
    streams, bodies = [], {}
    with running_devnode(tmp_path) as node, httpx.Client(base_url=node.url + "/ceramic", timeout=10) as api:
        post(api, MODEL)
        for i in range(4):
            init, stream = b.set_instance(MODEL_ID, FIELDS, {"docId": "restart", "chunkIndex": i})
            first = b.update(init, init, [{"op": "add", "path": "/docId", "value": "restart"},
                                          {"op": "add", "path": "/chunkIndex", "value": i},
                                          {"op": "add", "path": "/text", "value": f"chunk {i}"}])
            events = [init, first]
            if i % 2:  # an invalid event on top: the state stays at `first`
                events.append(b.update(init, first, [{"op": "add", "path": "/bogus", "value": 1}]))
            for event in events:
                post(api, event)
            streams.append((init, stream, events))
        for _init, stream, _events in streams:
            bodies[str(stream)] = api.get(f"/streams/{stream}").json()
        feed_before = api.get("/feed/events", params={"limit": 100}).json()
        tips_before = {str(s): shape(node.aggregator.cached(s.cid)) for _i, s, _e in streams}

    with running_devnode(tmp_path) as node, httpx.Client(base_url=node.url + "/ceramic", timeout=10) as api:
        assert node.aggregator.cached_streams == 0  # nothing cached yet: rebuilt lazily from storage
        for _init, stream, _events in streams:
            assert api.get(f"/streams/{stream}").json() == bodies[str(stream)]
        assert api.get("/feed/events", params={"limit": 100}).json() == feed_before
        assert {str(s): shape(node.aggregator.cached(s.cid)) for _i, s, _e in streams} == tips_before
        # The chains continue after the restart, on the rebuilt cache.
        init, stream, events = streams[1]
        more = b.update(init, events[-1], [{"op": "remove", "path": "/bogus"}, {"op": "replace", "path": "/text", "value": "after"}])
        post(api, more)
        assert state_of(api, stream) == (str(more.cid), {"chunkIndex": 1, "docId": "restart", "text": "after"})
        assert_cache_matches_recomputation(node, stream)


def test_a_204_means_committed(tmp_path):
    """Another SQLite connection (which sees only committed rows) finds every event that got 204."""
    with running_devnode(tmp_path) as node, httpx.Client(base_url=node.url + "/ceramic", timeout=10) as api:
        post(api, MODEL)
        init, _stream = b.set_instance(MODEL_ID, FIELDS, {"docId": "durable", "chunkIndex": 0})
        post(api, init)
        with sqlite3.connect(tmp_path / DB_FILE) as other:
            stored = {bytes(cid) for (cid,) in other.execute("SELECT cid FROM events")}
        assert {MODEL.cid.bytes, init.cid.bytes} <= stored


def test_concurrent_posts_to_different_streams(node):
    chains, expected = [], {}
    for i in range(24):
        init, stream = b.set_instance(MODEL_ID, FIELDS, {"docId": "many", "chunkIndex": i})
        events = [init, b.update(init, init, [{"op": "add", "path": "/docId", "value": "many"},
                                              {"op": "add", "path": "/chunkIndex", "value": i}])]
        for k in range(3):
            events.append(b.update(init, events[-1], [{"op": "add", "path": "/text", "value": f"{i}.{k}"}]))
        chains.append([e.car for e in events])
        expected[str(stream)] = (str(events[-1].cid), {"chunkIndex": i, "docId": "many", "text": f"{i}.2"})
    with CeramicClient(node.url, max_in_flight=24) as client:
        client.post_event(MODEL.car)
        assert client.post_streams(chains) == [None] * len(chains)
        assert client.post_streams(chains) == [None] * len(chains)  # re-posting everything at once is idempotent
        for stream, (tip, content) in expected.items():
            state = client.get_stream(stream)
            assert (state.event_cid, state.content) == (tip, content)
    assert node.store.count() == 1 + sum(len(c) for c in chains)
    for stream in expected:
        assert_cache_matches_recomputation(node, StreamID.from_string(stream))


def test_a_failure_while_advancing_the_cache_never_leaves_a_stale_state(node, api, monkeypatch):
    post(api, MODEL)
    init, stream = b.set_instance(MODEL_ID, FIELDS, {"docId": "boom", "chunkIndex": 0})
    first = b.update(init, init, [{"op": "add", "path": "/docId", "value": "boom"}, {"op": "add", "path": "/chunkIndex", "value": 0}])
    post(api, init)
    real_step, calls = node.aggregator.step, []

    def failing_once(*args):
        if not calls:
            calls.append(1)
            raise RuntimeError("injected failure while advancing the cache")
        return real_step(*args)

    monkeypatch.setattr(node.aggregator, "step", failing_once)
    assert api.post("/events", json=b.body(first)).status_code == 500  # stored, but the cache could not follow
    with httpx.Client(base_url=node.url + "/ceramic", timeout=10) as fresh:  # uvicorn closed that connection
        assert state_of(fresh, stream) == (str(first.cid), {"chunkIndex": 0, "docId": "boom"})  # rebuilt from storage
        post(fresh, first)  # the client's retry: idempotent, and now committed
    assert_cache_matches_recomputation(node, stream)
