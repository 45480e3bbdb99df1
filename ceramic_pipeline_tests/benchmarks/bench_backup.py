"""Seconds and bytes of a backup, a restore drill and VACUUM/REINDEX on a database of N chunks.

Run: python -m ceramic_pipeline_tests.benchmarks.bench_backup [--documents 20] [--chunks 2000]
Uses CERAMIC_TEST_PG_ADMIN_URL / local postgres, else a throwaway pgserver cluster; works in a
throwaway database and a temporary backup directory.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from ceramic_pipeline.maintenance.backup import create_backup
from ceramic_pipeline.maintenance.restore import restore_drill
from ceramic_pipeline.maintenance.vacuum import vacuum_and_reindex
from ceramic_pipeline.storage.migrations import migrate
from ceramic_pipeline_tests.fixtures.postgres import admin_server, throwaway_database
from ceramic_pipeline_tests.maintenance.support import populate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=20)
    parser.add_argument("--chunks", type=int, default=2000, help="chunks (and streams) per document")
    args = parser.parse_args()
    with admin_server() as admin, throwaway_database(admin) as url, tempfile.TemporaryDirectory() as tmp:
        migrate(url)
        started = time.perf_counter()
        populate(url, args.documents, args.chunks)
        print(f"populate: {args.documents * args.chunks} chunks + streams in {time.perf_counter() - started:.1f} s")
        result = create_backup(url, Path(tmp), keep=3)
        rows = sum(t["rows"] for t in result.backup.manifest["tables"].values())
        size = result.backup.manifest["dump"]["size_bytes"]
        print(f"backup: {rows} rows, dump {size / 1e6:.2f} MB in {result.seconds:.2f} s "
              f"({rows / result.seconds:,.0f} rows/s incl. counts and checksums)")
        drill = restore_drill(Path(tmp), url)
        print(f"restore drill: passed={drill.passed} in {drill.report.seconds:.2f} s ({drill.reason})")
        report = vacuum_and_reindex(url)
        print(f"vacuum/reindex: {report.total('before') / 1e6:.2f} MB -> {report.total('after') / 1e6:.2f} MB "
              f"in {report.seconds:.2f} s")


if __name__ == "__main__":
    main()
