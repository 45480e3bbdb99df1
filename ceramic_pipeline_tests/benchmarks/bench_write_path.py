"""Benchmark: create N DoclingChunk streams through the write path over loopback HTTP, then update 20%.

Real PostgreSQL (a throwaway database) and an in-process devnode. Prints figures, asserts nothing
but completeness. Run: .venv/bin/python -m ceramic_pipeline_tests.writer.bench_write_path [--streams 500]
"""

from __future__ import annotations

import argparse
import time

import psycopg

from ceramic_pipeline.ceramic.client import CeramicClient
from ceramic_pipeline.devnode import running_devnode
from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.steps.streams import record_document_streams
from ceramic_pipeline.storage.chunks import upsert_chunks
from ceramic_pipeline.storage.migrations import migrate
from ceramic_pipeline.writer.models import ensure_model
from ceramic_pipeline.writer.publisher import publish_outbox
from ceramic_pipeline.writer.readback import read_back
from ceramic_pipeline_tests.fixtures.postgres import admin_server, throwaway_database
from ceramic_pipeline_tests.writer.support import chunk, document_chunks

PER_DOCUMENT = 100


def timed(label: str, events: int, fn):
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    rate = f", {events / seconds:,.0f} events/s" if events else ""
    print(f"{label:<42} {seconds:7.2f} s{rate}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--in-flight", type=int, default=50)
    args = parser.parse_args()
    documents = [f"bench-{i}" for i in range(max(1, args.streams // PER_DOCUMENT))]
    signer = DIDKey.from_seed(b"benchmark-only-seed-not-a-secret")
    with admin_server() as admin, throwaway_database(admin) as url, running_devnode() as node:
        migrate(url)

        def connect() -> psycopg.Connection:
            return psycopg.connect(url)

        with CeramicClient(node.url, max_in_flight=args.in_flight) as client:
            with connect() as conn:
                model = ensure_model(conn, signer)
                upsert_chunks(conn, [r for d in documents for r in document_chunks(d, PER_DOCUMENT)])
            publish_outbox(connect, client)

            def record() -> None:
                with connect() as conn:
                    for d in documents:
                        record_document_streams(conn, signer, model, d)

            n = len(documents) * PER_DOCUMENT
            timed(f"plan + sign + outbox, {n} streams", 2 * n, record)
            report = timed(f"publish {2 * n} events (init + data)", 2 * n, lambda: publish_outbox(connect, client))
            assert (report.published, report.pending) == (2 * n, 0), report

            with connect() as conn:
                upsert_chunks(conn, [chunk(d, i, f"edited {d} {i}") for d in documents for i in range(0, PER_DOCUMENT, 5)])
            timed(f"plan + sign + outbox, {n // 5} updates", n // 5, record)
            report = timed(f"publish {n // 5} update events", n // 5, lambda: publish_outbox(connect, client))
            assert report.published == n // 5, report

            with connect() as conn:
                ids = [sid for (sid,) in conn.execute("SELECT stream_id FROM ceramic_streams")]
            timed(f"read back + verify {len(ids)} streams (sequential)", 0, lambda: [read_back(client, s) for s in ids])
        print(f"node holds {node.store.count()} events; in-flight limit {args.in_flight}")


if __name__ == "__main__":
    main()
