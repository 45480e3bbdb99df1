"""CeramicClient over real loopback HTTP: what is retried, what is not, and per-stream order."""

from __future__ import annotations

import time

import pytest

from ceramic_pipeline.ceramic.client import CeramicClient, CeramicUnavailable, EventRejected, NodeUnreachable
from ceramic_pipeline.ceramic.retry import RetryPolicy
from ceramic_pipeline.ceramic.events import data_event
from ceramic_pipeline.ceramic.model import DOCLING_CHUNK_MODEL, model_init_event, model_stream_id, set_init_event
from ceramic_pipeline.ceramic.patch import diff
from ceramic_pipeline.writer.content import chunk_content
from ceramic_pipeline.writer.plan import SET_FIELDS
from ceramic_pipeline_tests.writer.support import chunk, tampered

NOW = "2026-01-01T00:00:00.000Z"


def chunk_stream(signer, model, document_id: str, index: int, updates: int):
    """Events of one chunk stream: deterministic init, first content, then ``updates`` text edits."""
    content = chunk_content(chunk(document_id, index), created_at=NOW, updated_at=NOW)
    init = set_init_event(signer.did, model, SET_FIELDS, content)
    events = [init, data_event(signer, init=init.cid, prev=init.cid, patch=diff(None, content))]
    for n in range(updates):
        events.append(data_event(signer, init=init.cid, prev=events[-1].cid,
                                 patch=[{"op": "replace", "path": "/text", "value": f"edit {n}"}]))
    return init, events


@pytest.fixture
def model(client, signer):
    event = model_init_event(signer, DOCLING_CHUNK_MODEL)
    client.post_event(event.car)
    return model_stream_id(event)


class Sleeps(list):
    """Records the backoff the client asks for instead of sleeping it."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_a_400_is_raised_with_the_node_message_and_not_retried(client, node, requests, signer, model):
    init, events = chunk_stream(signer, model, "doc", 0, updates=1)
    with pytest.raises(EventRejected) as rejected:
        client.post_event(events[1].car)  # its init is not on the node
    assert rejected.value.message == f"Failed to parse EventID from event CAR file data: cannot find init event block {init.cid}"
    assert requests.event_posts == 2  # the model, then exactly one attempt

    client.post_event(init.car)
    with pytest.raises(EventRejected, match="^Failed to insert event as `prev` event was missing$"):
        client.post_event(events[2].car)  # skips events[1]
    with pytest.raises(EventRejected, match="^Event had invalid signature: signature does not verify"):
        client.post_event(tampered(events[1].car, [{"op": "add", "path": "/x", "value": 1}]))
    assert requests.event_posts == 5
    assert node.store.count() == 2  # the model and the init: nothing refused was stored


def test_transient_errors_back_off_and_give_up_after_the_budget(node, requests, signer):
    event = model_init_event(signer, DOCLING_CHUNK_MODEL)
    sleeps = Sleeps()
    policy = RetryPolicy(max_attempts=5, base_delay=0.01, max_delay=0.03, sleep=sleeps)
    with CeramicClient(node.url, retry=policy) as client:
        node.set_faults(error_rate=1.0)
        with pytest.raises(CeramicUnavailable, match="failed after 5 attempts: HTTP 500: devnode injected fault"):
            client.post_event(event.car)
        assert node.fault_state.injected["errors"] == 5 and requests.event_posts == 0
        assert len(sleeps) == 4  # between attempts, never after the last
        assert all(0 <= s <= min(policy.max_delay, policy.base_delay * 2**a) for a, s in enumerate(sleeps, 1))

        node.set_faults(error_rate=0.6, seed=1)  # some 500s, then through
        client.post_event(event.car)
        assert node.fault_state.injected["errors"] >= 1 and node.store.count() == 1

        node.set_faults(error_rate=0.0)
        node.stop()
        del sleeps[:]
        with pytest.raises(NodeUnreachable, match="node unreachable .ClientConnectorError"):
            client.post_event(event.car)
        assert len(sleeps) == 4 and client.unreachable
        # Once a request gave up connecting, later ones try once, without backoff (issue 8, kind 5).
        for _ in range(3):
            with pytest.raises(NodeUnreachable):
                client.get_stream(str(model_stream_id(event)))
        assert len(sleeps) == 4
        node.start()
        assert client.get_stream(str(model_stream_id(event))) is not None and not client.unreachable


def test_an_unreachable_node_costs_at_most_the_request_timeout(node):
    node.stop()
    policy = RetryPolicy(max_attempts=50, base_delay=0.2, max_delay=0.2)  # 50 attempts would take ~7 s
    started = time.monotonic()
    with CeramicClient(node.url, retry=policy, timeout_s=0.5) as client, pytest.raises(NodeUnreachable):
        client.version()
    assert time.monotonic() - started < 0.5 + 0.3
    # The next step of the run opens its own client: it tries once instead of waiting again.
    started = time.monotonic()
    with CeramicClient(node.url, retry=policy, timeout_s=0.5) as client, pytest.raises(NodeUnreachable):
        client.version()
    assert time.monotonic() - started < 0.1
    node.start()
    with CeramicClient(node.url, retry=policy, timeout_s=0.5) as client:
        assert client.version() and not client.unreachable


def test_a_dropped_connection_after_storing_is_retried_without_a_duplicate(client, node, requests, signer, model):
    init, events = chunk_stream(signer, model, "doc", 0, updates=0)
    client.post_event(init.car)
    node.set_faults(drop_rate=1.0, drop_after_handling=True)
    with pytest.raises(CeramicUnavailable, match="ServerDisconnectedError"):
        client.post_event(events[1].car)
    node.set_faults(drop_rate=0.0)
    client.post_event(events[1].car)  # the node already has it: 204, not a second copy
    assert node.store.count() == 3
    assert requests.event_posts == 2 + client.retry.max_attempts + 1


def test_post_streams_keeps_each_streams_order_and_stops_a_stream_at_its_first_failure(client, node, signer, model):
    streams = [chunk_stream(signer, model, "order", i, updates=4)[1] for i in range(12)]
    cars = [[e.car for e in s] for s in streams]
    # Stream 5's fourth event is refused; its fifth must never be sent.
    cars[5][3] = tampered(cars[5][3], [{"op": "add", "path": "/y", "value": 2}])
    node.set_faults(latency=0.002, drop_rate=0.15, drop_after_handling=True, seed=9)

    outcomes = client.post_streams(cars)

    node.set_faults(latency=0.0, drop_rate=0.0)
    assert node.fault_state.injected["drops"] > 0
    assert [type(o).__name__ if o else None for o in outcomes] == [None] * 5 + ["EventRejected"] + [None] * 6
    for i, events in enumerate(streams):
        stored = [e.cid for e in node.store.stream_events(events[0].cid)]
        expected = [e.cid for e in events] if i != 5 else [e.cid for e in events[:3]]  # nothing after the failure
        assert stored == expected  # delivery order on the node is the stream's order
    # post_chains says how far each stream got (re-posting what the node holds is a no-op).
    progress = client.post_chains(cars)
    assert [(n, type(e).__name__ if e else None) for n, e in progress] == [(6, None)] * 5 + [(3, "EventRejected")] + [(6, None)] * 6  # init, content, 4 edits
