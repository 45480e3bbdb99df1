"""Rows/s of the ceramic_streams upsert: unnest arrays (what storage.streams uses) vs
psycopg's executemany (pipelined), on the same rows, in one run.

Run: python -m ceramic_pipeline_tests.benchmarks.bench_storage [--rows 10000] [--repeat 3]
Uses CERAMIC_TEST_PG_ADMIN_URL / local postgres, else a throwaway pgserver cluster; works in a
throwaway database. Each method is timed on a fresh insert and on an update of every row.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Callable

import psycopg
from psycopg.types.json import Jsonb

from ceramic_pipeline.storage.migrations import migrate
from ceramic_pipeline.storage.streams import COLUMNS, ON_CONFLICT, StreamRow, upsert_streams
from ceramic_pipeline_tests.fixtures.postgres import admin_server, throwaway_database

_EXECUTEMANY = (
    f"INSERT INTO ceramic_streams ({', '.join(COLUMNS)}) "
    f"VALUES ({', '.join(['%s'] * len(COLUMNS))}) {ON_CONFLICT}"
)


def stream_values(r: StreamRow) -> tuple:
    return (
        r.stream_id, r.latest_cid, r.version, r.signer_did, r.model_id, r.document_id,
        r.chunk_index, r.content_sha256, Jsonb(r.ipfs_pins), Jsonb(r.stream_metadata), r.status,
    )


def upsert_executemany(conn: psycopg.Connection, rows: list[StreamRow]) -> None:
    with conn.cursor() as cur:
        cur.executemany(_EXECUTEMANY, [stream_values(r) for r in rows])


def make_rows(n: int, version: int) -> list[StreamRow]:
    return [
        StreamRow(
            stream_id=f"kjzl6stream{i:08d}", latest_cid=f"bagcqcera{i:08d}v{version}", version=version,
            signer_did="did:key:z6MkBenchSigner", model_id="kjzl6model", document_id=f"doc-{i // 50}",
            chunk_index=i % 50, content_sha256=hashlib.sha256(f"{i}-{version}".encode()).hexdigest(),
            ipfs_pins=[{"cid": f"bafy{i}", "service": "pinata", "pinned_at": "2025-01-01T00:00:00Z",
                        "status": "pinned", "size": 20_000 + i}] if i % 10 == 0 else [],
            stream_metadata={"controller": "did:key:z6MkBenchSigner", "model": "kjzl6model"},
        )
        for i in range(n)
    ]


def time_method(url: str, method: Callable, n: int) -> tuple[float, float]:
    """Seconds for inserting n new rows, then for updating all n (each in one transaction)."""
    with psycopg.connect(url) as conn:
        conn.execute("TRUNCATE ceramic_streams")
        conn.commit()
        timings = []
        for version in (1, 2):
            rows = make_rows(n, version)
            start = time.perf_counter()
            with conn.transaction():
                method(conn, rows)
            timings.append(time.perf_counter() - start)
        count = conn.execute("SELECT count(*) FROM ceramic_streams WHERE version = 2").fetchone()[0]
        assert count == n, f"{method.__name__} left {count} of {n} rows updated"
    return timings[0], timings[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per method; the best is shown")
    args = parser.parse_args()
    methods = {"unnest (chosen)": upsert_streams, "executemany": upsert_executemany}
    with admin_server() as admin_url, throwaway_database(admin_url) as url:
        migrate(url)
        with psycopg.connect(url) as conn:
            server = conn.execute("SHOW server_version").fetchone()[0]
        print(f"PostgreSQL {server}, {args.rows} rows, best of {args.repeat}")
        print(f"{'method':<18}{'insert rows/s':>16}{'update rows/s':>16}")
        for name, method in methods.items():
            runs = [time_method(url, method, args.rows) for _ in range(args.repeat)]
            insert_s = min(r[0] for r in runs)
            update_s = min(r[1] for r in runs)
            print(f"{name:<18}{args.rows / insert_s:>16,.0f}{args.rows / update_s:>16,.0f}")


if __name__ == "__main__":
    main()
