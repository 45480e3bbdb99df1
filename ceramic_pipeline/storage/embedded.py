"""The embedded default PostgreSQL: a pgserver instance under the pipeline's data directory.

Used when DATABASE_URL is not set, so `dagster dev` works on a laptop with nothing installed.
pgserver ships PostgreSQL 16 binaries in its wheel. It listens on no TCP port, only on a unix
socket (normally inside the data directory), so the URL carries ``host=<socket dir>``.

Lifetime: the server is started by the first process that asks for it and reused by any other
process pointing at the same directory (pgserver counts the processes using it). It is stopped
at interpreter exit (atexit) of the last of them, or by ``stop_embedded_server``. A process
killed with SIGKILL leaves postgres running; the next ``embedded_database_url`` reuses it.
When run as root, pgserver runs postgres as a system user ``pgserver`` it creates, and widens
the directory's ancestors to o+rx so that user can reach it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pgserver
import psycopg
from psycopg import sql

DATABASE_NAME = "ceramic_pipeline"


def embedded_database_url(data_dir: Path) -> str:
    """Start (or reuse) the server under ``data_dir/pgdata``; returns the pipeline database URL."""
    server = _server(data_dir)
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))
    return server.get_uri(database=DATABASE_NAME)


def stop_embedded_server(data_dir: Path) -> None:
    """Drop this process's use of the server; stops it if no other process uses it."""
    _server(data_dir).cleanup()


def resolve_database_url(environ: Mapping[str, str], data_dir: Path) -> str:
    """DATABASE_URL when set (and not blank), else the embedded server's URL."""
    url = environ.get("DATABASE_URL", "").strip()
    return url or embedded_database_url(data_dir)


def _server(data_dir: Path) -> pgserver.PostgresServer:
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    return pgserver.get_server(data_dir / "pgdata", cleanup_mode="stop")
