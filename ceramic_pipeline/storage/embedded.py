"""The embedded default PostgreSQL: a pgserver instance under the pipeline's data directory.

Used when DATABASE_URL is not set, so `dagster dev` works on a laptop with nothing installed.
pgserver ships PostgreSQL 16 binaries in its wheel. It listens on no TCP port, only on a unix
socket (normally inside the data directory), so the URL carries ``host=<socket dir>``.

Lifetime: like the embedded Ceramic node, the server outlives the process that started it and
is reused by every process pointing at the same directory; ``stop_embedded_server`` (or
``ceramic-pipeline embedded stop``) stops it, keeping the data.

Starting happens in a fresh interpreter. As root, pgserver runs initdb/pg_ctl as a system user
``pgserver`` through ``subprocess(user=...)``, which needs a real fork(); inside a
multi-threaded gRPC process (Dagster's code server, where sensors run) such a child can die
with SIGSEGV. A plain subprocess is spawned with vfork, which is safe there. Finding a running
server only reads its ``postmaster.pid``. When run as root, pgserver widens the directory's
ancestors to o+rx so its user can reach them.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used (below): pgserver's import warns when XDG_RUNTIME_DIR is unset
    from pgserver.postgres_server import PostmasterInfo

DATABASE_NAME = "ceramic_pipeline"


def _pgdata(data_dir: Path) -> Path:
    return (Path(data_dir) / "pgdata").expanduser().resolve()


def _running(pgdata: Path) -> PostmasterInfo | None:
    with warnings.catch_warnings():  # pgserver's import asks platformdirs for a runtime dir it never uses
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        from pgserver.postgres_server import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    return info if info is not None and info.is_running() and info.status == "ready" else None


def embedded_database_url(data_dir: Path) -> str:
    """Start (or reuse) the server under ``data_dir/pgdata``; returns the pipeline database URL.

    Processes starting it at once (two first `ingest` commands, runs launched together on a new
    install) take turns on a lock file, so one starts it and the others reuse it: unlocked, the
    second initdb/pg_ctl failed ("did not start") while the first was still starting.
    """
    info = _running(_pgdata(data_dir))
    if info is not None:
        return info.get_uri(database=DATABASE_NAME)
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    with open(Path(data_dir) / "pgserver.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        info = _running(_pgdata(data_dir))  # started by whoever held the lock before us
        if info is not None:
            return info.get_uri(database=DATABASE_NAME)
        started = subprocess.run(
            [sys.executable, "-m", "ceramic_pipeline.storage.embedded", str(data_dir)],
            capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        )
    if started.returncode != 0:
        tail = "\n".join(started.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"the embedded PostgreSQL under {data_dir} did not start:\n{tail}")
    return started.stdout.strip().splitlines()[-1]


def running_embedded_database_url(data_dir: Path) -> str | None:
    """The pipeline database URL when the embedded server is running; never starts it."""
    info = _running(_pgdata(data_dir))
    return info.get_uri(database=DATABASE_NAME) if info is not None else None


def stop_embedded_server(data_dir: Path, timeout_s: float = 30.0) -> None:
    """Stop the server (fast shutdown: sessions are ended, data is kept); no-op if not running."""
    pgdata = _pgdata(data_dir)
    info = _running(pgdata)
    if info is None:
        return
    os.kill(info.pid, signal.SIGINT)
    deadline = time.monotonic() + timeout_s
    while info.process.is_running() and time.monotonic() < deadline:
        time.sleep(0.1)


def resolve_database_url(environ: Mapping[str, str], data_dir: Path) -> str:
    """DATABASE_URL when set (and not blank), else the embedded server's URL."""
    url = environ.get("DATABASE_URL", "").strip()
    return url or embedded_database_url(data_dir)


def running_database_url(environ: Mapping[str, str], data_dir: Path) -> str | None:
    """DATABASE_URL when set, else the embedded server's URL if it is running, else None.

    For read-only commands (``stream verify``) that must not start a server to look up a row.
    """
    url = environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    info = _running(_pgdata(data_dir))
    return info.get_uri(database=DATABASE_NAME) if info is not None else None


def _start(data_dir: Path) -> str:
    """Run in a fresh interpreter by :func:`embedded_database_url`."""
    import pgserver
    import psycopg
    from psycopg import sql

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(_pgdata(data_dir), cleanup_mode=None)  # keep running after we exit
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))
    return server.get_uri(database=DATABASE_NAME)


if __name__ == "__main__":
    print(_start(Path(sys.argv[1])))
