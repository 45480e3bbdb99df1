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


def test_a_new_streams_init_and_data_events_go_in_one_round(connect, conn, client, node, monkeypatch, signer):
    """Each round posts every ready stream's pending chain in order (outbox.pending_chains): the
    model, then 25 chunk streams of init + data each, in one round where one event per stream
    took two; the validating node accepts each data event after its init."""
    with connect() as c:
        upsert_chunks(c, document_chunks(DOCS[0], 25))
        model = ensure_model(c, signer)
        record_document_streams(c, signer, model, DOCS[0])
    rounds: list[int] = []
    real = outbox.pending_chains

    def counted(*args, **kwargs):
        chains = real(*args, **kwargs)
        rounds.append(sum(len(chain) for chain in chains))
        return chains

    monkeypatch.setattr(outbox, "pending_chains", counted)
    report = publish_outbox(connect, client)
    assert report.published == 51 and report.pending == 0 and not report.errors
    assert rounds == [51, 0]  # one round with everything, then nothing left
    assert set(node_event_cids(node)) == set(outbox_rows(conn))
