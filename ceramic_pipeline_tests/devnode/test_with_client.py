"""The project's CeramicClient against a flaky devnode: retries plus idempotent re-posts converge."""

from __future__ import annotations

from ceramic_pipeline.ceramic.client import CeramicClient, EventRejected
from ceramic_pipeline.ceramic.retry import RetryPolicy
from ceramic_pipeline_tests.devnode import builders as b


def test_parallel_streams_survive_errors_and_dropped_connections(node):
    model, model_id = b.model(b.definition("Flaky", {"type": "list"}))
    streams, expected = [], {}
    for i in range(6):
        init, stream = b.list_instance(model_id, {"title": f"t{i}"}, unique=bytes([i]) * 12)
        first = b.update(init, init, [{"op": "replace", "path": "/title", "value": f"t{i}-1"}])
        second = b.update(init, first, [{"op": "add", "path": "/n", "value": i}])
        streams.append([init.car, first.car, second.car])
        expected[str(stream)] = (str(second.cid), {"title": f"t{i}-1", "n": i})
    node.set_faults(error_rate=0.2, drop_rate=0.2, drop_after_handling=True, seed=5)
    with CeramicClient(node.url, retry=RetryPolicy(max_attempts=30, base_delay=0.0, sleep=lambda _s: None), max_in_flight=4) as client:
        client.post_event(model.car)
        assert client.post_streams(streams) == [None] * len(streams)
        node.set_faults(error_rate=0.0, drop_rate=0.0)
        assert node.fault_state.injected["errors"] > 0 and node.fault_state.injected["drops"] > 0
        for stream, (tip, content) in expected.items():
            state = client.get_stream(stream)
            assert (state.event_cid, state.content) == (tip, content)
        try:
            client.post_event(b.truncated(model))
        except EventRejected as exc:
            assert exc.message.startswith("Failed to parse EventID from event CAR file data: ")
        else:
            raise AssertionError("a truncated CAR must be rejected")
    feed = node.store.since(0, 1000)
    assert len(feed) == 1 + 3 * len(streams)  # no duplicates despite the retries
