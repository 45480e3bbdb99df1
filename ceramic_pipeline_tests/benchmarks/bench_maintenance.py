"""Benchmark: archival and re-sync over N streams (real PostgreSQL, in-process devnode over loopback).

Writes N DoclingChunk streams through the write path, then times: archiving all of them, restoring
them (re-ingest, nothing posted), and a full re-sync into an emptied ceramic_streams. Prints
figures, asserts only completeness.
Run: .venv/bin/python -m ceramic_pipeline_tests.benchmarks.bench_maintenance [--streams 500]
"""

from __future__ import annotations

import argparse
import time

import psycopg

from ceramic_pipeline.ceramic.client import CeramicClient
from ceramic_pipeline.devnode import running_devnode
from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.maintenance.resync import resync_from_ceramic
from ceramic_pipeline.steps.streams import write_document_streams
from ceramic_pipeline.storage.chunks import upsert_chunks
from ceramic_pipeline.storage.migrations import migrate
from ceramic_pipeline.storage.streams import archive_older_than
from ceramic_pipeline.writer.models import publish_model
from ceramic_pipeline_tests.fixtures.postgres import admin_server, throwaway_database
from ceramic_pipeline_tests.writer.support import document_chunks

PER_DOCUMENT = 100


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=500)
    n = parser.parse_args().streams
    signer = DIDKey.from_seed(b"bench-maintenance-fixed-seed-32!")
    documents = [f"bench-{i}" for i in range((n + PER_DOCUMENT - 1) // PER_DOCUMENT)]
    with admin_server() as admin, throwaway_database(admin) as url, running_devnode() as node:
        migrate(url)
        connect = lambda: psycopg.connect(url)  # noqa: E731
        with CeramicClient(node.url) as client:
            model, _ = publish_model(connect, client, signer)
            with connect() as conn:
                upsert_chunks(conn, [c for d in documents for c in document_chunks(d, PER_DOCUMENT)][:n])
            write_document_streams(connect, client, signer, model, documents)
            with psycopg.connect(url, autocommit=True) as conn:
                start = time.perf_counter()
                moved = archive_older_than(conn, 0)
                print(f"archive {len(moved.stream_ids)} streams: {time.perf_counter() - start:.3f} s")
            start = time.perf_counter()
            report = write_document_streams(connect, client, signer, model, documents)
            print(f"re-ingest restoring {report.restored} streams ({report.events} events posted): "
                  f"{time.perf_counter() - start:.3f} s")
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("DELETE FROM ceramic_streams")
                start = time.perf_counter()
                synced = resync_from_ceramic(conn, client, signer, node_url=node.url)
                seconds = time.perf_counter() - start
            assert synced.adopted == n and not synced.failures, synced
            print(f"full re-sync of {synced.adopted} streams ({synced.events_read} feed events): {seconds:.3f} s, "
                  f"{synced.adopted / seconds:.0f} streams/s")


if __name__ == "__main__":
    main()
