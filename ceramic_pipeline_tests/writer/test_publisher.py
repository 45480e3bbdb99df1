"""Two publishers draining one outbox at once (the schedule and an asset run can overlap)."""

from __future__ import annotations

import threading

from ceramic_pipeline.steps.streams import record_document_streams
from ceramic_pipeline.storage import outbox
from ceramic_pipeline.storage.chunks import upsert_chunks
from ceramic_pipeline.writer.models import ensure_model
from ceramic_pipeline.writer.publisher import PublishReport, publish_outbox
from ceramic_pipeline_tests.writer.support import document_chunks, node_event_cids, outbox_rows

DOCS = [f"mixing-{i}" for i in range(4)]


def test_concurrent_publishers_post_each_event_once_and_both_finish(connect, conn, client, node, requests, signer):
    with connect() as c:
        upsert_chunks(c, [row for d in DOCS for row in document_chunks(d, 25)])
        model = ensure_model(c, signer)
        for d in DOCS:
            record_document_streams(c, signer, model, d)
    node.set_faults(latency=0.003)  # long enough for the two runs to overlap
    reports: list[PublishReport] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            reports.append(publish_outbox(connect, client, batch_size=40))
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert sum(r.published for r in reports) == 201  # together, not twice over
    assert outbox.status_counts(conn) == {"pending": 0, "published": 201, "rejected": 0}
    assert requests.event_posts == 201  # each event posted by exactly one publisher
    assert set(node_event_cids(node)) == set(outbox_rows(conn))
